/**
 * One fuzz run: starts the network (scripts/fuzz/network.ts), delivers a few
 * genuine envelopes to have cases to address and replay, draws `cases` cases
 * from the seeded PRNG across the families — tampered envelopes, malformed
 * peer HTTP, the local API per caller — runs them `concurrency` at a time,
 * and holds each answer against its case's oracle. Afterwards it checks the
 * store (every accepted envelope is there, no refused one is), that the
 * gateway process is alive and stops cleanly, and what it logged as errors.
 */
import { openStore } from "../../gateway/store/store.js";
import { createRng, type Rng } from "./prng.js";
import { startFuzzNetwork, type FuzzNetwork } from "./network.js";
import { craftEnvelope } from "./craft.js";
import { send, type Outcome } from "./client.js";
import { envelopeCase, type SeedEnvelope } from "./envelopes.js";
import { peerHttpCase } from "./peer-http.js";
import { CALLERS, localCase } from "./local.js";
import type { FuzzCase } from "./model.js";

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  readonly seed: number;
  readonly cases: number;
  /** Cases in flight at once (default 8). */
  readonly concurrency?: number;
  /** A case with no answer after this long is a hang (default 20 s). */
  readonly timeoutMs?: number;
  /** Progress lines. */
  readonly progress?: (line: string) => void;
}

/** Counts of one family. */
export interface FamilyCounts {
  cases: number;
  "2xx": number;
  "4xx": number;
  "5xx": number;
  noAnswer: number;
  hangs: number;
  wronglyAccepted: number;
  wronglyRefused: number;
  wrongCode: number;
}

/** One case that broke its oracle. */
export interface FuzzFailure {
  readonly index: number;
  readonly family: string;
  readonly kind: string;
  readonly expected: string;
  readonly got: string;
}

/** What a run found. */
export interface FuzzReport {
  readonly seed: number;
  readonly families: Readonly<Record<string, FamilyCounts>>;
  readonly total: FamilyCounts;
  readonly failures: readonly FuzzFailure[];
  /** The gateway process died during the run, or did not stop cleanly. */
  readonly crashed: boolean;
  /** Accepted envelopes missing from the store. */
  readonly lost: number;
  /** Refused envelopes found in the store. */
  readonly wronglyStored: number;
  /** Lines the gateway logged at level error. */
  readonly errorLines: readonly string[];
  readonly seconds: number;
}

const FAMILY_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ["envelope", 45],
  ["peer-http", 20],
  ["local", 35],
];

function emptyCounts(): FamilyCounts {
  return { cases: 0, "2xx": 0, "4xx": 0, "5xx": 0, noAnswer: 0, hangs: 0, wronglyAccepted: 0, wronglyRefused: 0, wrongCode: 0 };
}

function describe(outcome: Outcome): string {
  if (outcome.kind === "answer") return `${outcome.status} ${outcome.code ?? "(no code)"}`;
  return outcome.kind === "hang" ? "no answer in time (hang)" : `no answer (${outcome.reason})`;
}

/** Seeds: genuine requests from GB that US stores before the run. */
async function deliverSeeds(network: FuzzNetwork, rng: Rng, timeoutMs: number): Promise<SeedEnvelope[]> {
  const { readFileSync } = await import("node:fs");
  const request = JSON.parse(readFileSync(new URL("../../schemas/examples/mla-request/valid-email-records.json", import.meta.url), "utf8")) as Record<string, unknown>;
  const { uuidFrom } = await import("./prng.js");
  const seeds: SeedEnvelope[] = [];
  for (let i = 0; i < 4; i += 1) {
    const envelopeId = uuidFrom(rng);
    const caseId = uuidFrom(rng);
    const crafted = await craftEnvelope({
      document: request,
      routing: { valise: 1, id: envelopeId, type: "mla-request", from: network.gb.authority, to: network.us.authority, caseId, priority: "normal", createdAt: new Date().toISOString() },
      outerSigner: { key: network.gb.signKey, certificates: network.gb.signCertificates },
      recipientKey: network.us.encryptPublicKey,
    });
    const outcome = await send(network.peerPort, { method: "POST", path: "/peer/v1/envelopes", headers: { "content-type": "application/json" }, body: crafted.bytes }, { tls: { ...network.gb.tls, ca: network.us.rootPem }, timeoutMs });
    if (outcome.kind !== "answer" || outcome.status !== 201) throw new Error(`a genuine seed envelope was not accepted: ${describe(outcome)}`);
    seeds.push({ envelopeId, caseId, bytes: crafted.bytes });
  }
  return seeds;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the fuzz cases (see the module comment). */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 20_000;
  const concurrency = options.concurrency ?? 8;
  const rng = createRng(options.seed);
  const network = await startFuzzNetwork();
  const families: Record<string, FamilyCounts> = {};
  const failures: FuzzFailure[] = [];
  const envelopeVerdicts: Array<{ envelopeId: string; accepted: boolean; index: number; kind: string }> = [];
  let crashed = false;
  try {
    const seeds = await deliverSeeds(network, rng.fork(), timeoutMs);
    const world = { network, seeds, timeoutMs };
    const familyTotal = FAMILY_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);

    /** Draws case `index`: cases are drawn in order from the one generator, so a seed gives the same run. */
    const draw = (): FuzzCase => {
      let pick = rng.next() * familyTotal;
      let family = "local";
      for (const [name, weight] of FAMILY_WEIGHTS) {
        pick -= weight;
        if (pick < 0) {
          family = name;
          break;
        }
      }
      if (family === "envelope") return envelopeCase(world, rng);
      if (family === "peer-http") return peerHttpCase(network, rng, timeoutMs);
      return localCase(network, seeds, rng.pick(CALLERS), rng, timeoutMs);
    };

    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < options.cases && !crashed) {
        const index = next;
        next += 1;
        const fuzzCase = draw();
        let outcome: Outcome;
        try {
          outcome = await fuzzCase.run();
        } catch (error) {
          outcome = { kind: "no-answer", reason: `harness error: ${error instanceof Error ? error.message : String(error)}` };
        }
        judge(index, fuzzCase, outcome);
        done += 1;
        if (done % 500 === 0) options.progress?.(`${done}/${options.cases} cases`);
        if (!alive(network.gateway.pid)) crashed = true;
      }
    };

    const judge = (index: number, fuzzCase: FuzzCase, outcome: Outcome): void => {
      const counts = (families[fuzzCase.family] ??= emptyCounts());
      counts.cases += 1;
      const expect = fuzzCase.expect;
      const fail = (field: "wronglyAccepted" | "wronglyRefused" | "wrongCode" | "5xx" | "hangs", expected: string): void => {
        if (field === "wronglyAccepted" || field === "wronglyRefused" || field === "wrongCode") counts[field] += 1;
        failures.push({ index, family: fuzzCase.family, kind: fuzzCase.kind, expected, got: describe(outcome) });
      };
      const expected = "accepted" in expect ? "accepted (2xx)" : `refused (4xx${expect.codes === undefined ? " with a code" : ` ${expect.codes.join("|")}`})`;
      if (outcome.kind === "hang") {
        counts.hangs += 1;
        fail("hangs", expected);
        return;
      }
      if (outcome.kind === "no-answer") {
        counts.noAnswer += 1;
        if ("accepted" in expect) fail("wronglyRefused", expected);
        else if (expect.noAnswerOk !== true) fail("wrongCode", expected);
        return;
      }
      const { status, code } = outcome;
      if (status >= 500) {
        counts["5xx"] += 1;
        fail("5xx", expected);
        return;
      }
      const accepted = status >= 200 && status < 300;
      if (accepted) counts["2xx"] += 1;
      else if (status >= 400) counts["4xx"] += 1;
      if (fuzzCase.envelopeId !== undefined) envelopeVerdicts.push({ envelopeId: fuzzCase.envelopeId, accepted, index, kind: fuzzCase.kind });
      if ("accepted" in expect) {
        if (!accepted) fail("wronglyRefused", expected);
        return;
      }
      if (accepted || status < 400) {
        fail("wronglyAccepted", expected);
        return;
      }
      if (expect.codeless === true) return;
      if (code === undefined || (expect.codes !== undefined && !expect.codes.includes(code))) fail("wrongCode", expected);
    };

    await Promise.all(Array.from({ length: concurrency }, () => worker()));
  } finally {
    crashed ||= !alive(network.gateway.pid);
  }

  // Nothing lost, nothing refused kept: the store agrees with the answers.
  let lost = 0;
  let wronglyStored = 0;
  if (!crashed) {
    const store = await openStore({ kind: "sqlite", path: network.database }, "refuse");
    try {
      for (const verdict of envelopeVerdicts) {
        const present = (await store.read((tx) => tx.envelopes.inbound(verdict.envelopeId))) !== undefined;
        if (verdict.accepted && !present) {
          lost += 1;
          failures.push({ index: verdict.index, family: "envelope", kind: verdict.kind, expected: "stored (it was accepted)", got: "not in the store" });
        }
        if (!verdict.accepted && present) {
          wronglyStored += 1;
          failures.push({ index: verdict.index, family: "envelope", kind: verdict.kind, expected: "not stored (it was refused)", got: "in the store" });
        }
      }
    } finally {
      await store.close();
    }
  }
  const errorLines = network.errorLines();
  const exit = await network.gateway.stop();
  if (exit.code !== 0 || exit.killed) crashed = true;
  await network.close();

  const total = emptyCounts();
  for (const counts of Object.values(families)) for (const key of Object.keys(total) as Array<keyof FamilyCounts>) total[key] += counts[key];
  return { seed: options.seed, families, total, failures, crashed, lost, wronglyStored, errorLines, seconds: (Date.now() - started) / 1000 };
}

/** True when the run found nothing wrong. */
export function clean(report: FuzzReport): boolean {
  const t = report.total;
  return !report.crashed && t["5xx"] === 0 && t.hangs === 0 && t.wronglyAccepted === 0 && t.wronglyRefused === 0 && t.wrongCode === 0 && report.lost === 0 && report.wronglyStored === 0 && report.errorLines.length === 0;
}

/** The summary table, one row per family and a total. */
export function summaryTable(report: FuzzReport): string {
  const columns: Array<keyof FamilyCounts> = ["cases", "2xx", "4xx", "5xx", "noAnswer", "hangs", "wronglyAccepted", "wronglyRefused", "wrongCode"];
  const header = ["family", ...columns.map((c) => (c === "noAnswer" ? "no answer" : c === "wronglyAccepted" ? "wrongly accepted" : c === "wronglyRefused" ? "wrongly refused" : c === "wrongCode" ? "wrong code" : c))];
  const rows = [...Object.entries(report.families).sort(([a], [b]) => a.localeCompare(b)), ["total", report.total] as const].map(([name, counts]) => [name, ...columns.map((c) => String(counts[c]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`,
    ...rows.map(line),
    "",
    `seed ${report.seed}; ${report.total.cases} cases in ${report.seconds.toFixed(1)} s; gateway crashed: ${report.crashed ? "yes" : "no"}; accepted envelopes lost: ${report.lost}; refused envelopes stored: ${report.wronglyStored}; error log lines: ${report.errorLines.length}`,
  ].join("\n");
}
