/**
 * Summarises V8 `.cpuprofile` files (from `node --cpu-prof`): self time per
 * function and per area (a package, node internals, GC, idle), highest first.
 *
 * Run: `npx tsx scripts/bench/cpu-profile.ts FILE.cpuprofile [--top 25]`
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** The parts of a V8 `.cpuprofile` the summary reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One row of a summary. */
export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  /** Share of all sampled time, 0–100. */
  readonly percent: number;
}

/** Self time per function and per area of one profile. */
export interface ProfileSummary {
  readonly totalMs: number;
  readonly functions: readonly SelfTime[];
  readonly areas: readonly SelfTime[];
}

/** The area a frame belongs to: `jose`, `better-sqlite3`, `node:tls`, `valise gateway/…`, `(garbage collector)`. */
function areaOf(frame: ProfileNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1]!;
  if (url.startsWith("node:")) return url.replace(/^node:(internal\/)?/, "node:").split("/").slice(0, 2).join("/");
  const own = /\/(gateway|pki|schemas|scripts)\/(.*)$/.exec(url);
  return own === null ? url : `valise ${own[1]}/${own[2]}`;
}

/** Summarises one profile. */
export function summariseProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    totalUs += delta;
  });
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    const area = areaOf(frame);
    const name = `${frame.functionName || "(anonymous)"}  ${area}${frame.url === "" ? "" : `:${frame.lineNumber + 1}`}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const rows = (map: Map<string, number>): SelfTime[] =>
    [...map.entries()].map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / totalUs })).sort((a, b) => b.ms - a.ms);
  return { totalMs: totalUs / 1000, functions: rows(functions), areas: rows(areas) };
}

/** A summary as text, `top` rows each. */
export function formatProfileSummary(title: string, summary: ProfileSummary, top = 20): string {
  const row = (r: SelfTime): string => `  ${r.percent.toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`;
  return [
    `${title}: ${(summary.totalMs / 1000).toFixed(1)} s sampled`,
    " self time by area:",
    ...summary.areas.slice(0, top).map(row),
    " self time by function:",
    ...summary.functions.slice(0, top).map(row),
  ].join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf("--top");
  const top = topIndex === -1 ? 20 : Number(args[topIndex + 1]);
  const files = args.filter((_, i) => topIndex === -1 || (i !== topIndex && i !== topIndex + 1));
  for (const file of files) {
    console.log(formatProfileSummary(file, summariseProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile), top));
  }
}
