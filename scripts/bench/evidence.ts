/**
 * `npm run bench:evidence`: one large evidence item (4 GiB by default,
 * pseudo-random, generated in a temporary folder and removed afterwards)
 * between two gateway processes on this machine, and the same file through a
 * bare mutual-TLS upload for reference. Reports throughput and the peak RSS
 * (VmHWM, over each process's whole life) of every process involved.
 *
 * Phases:
 * - `tls`: the same upload to a sink that discards the body (the network and
 *   TLS ceiling on this machine, no disk);
 * - `bare`: the file PUT in one request to scripts/bench/mtls-sink.ts (GB's
 *   certificate, US's client certificate, TLS 1.3), which writes it to disk
 *   and fsyncs before answering — no Valise logic;
 * - `valise`: `POST /api/v1/cases/:caseId/evidence` at US (hash pass,
 *   manifest sealed and delivered through the outbox), then the uploader
 *   seals and PUTs the item, GB verifies every chunk, hashes, fsyncs, stores,
 *   receipts; done when US holds the verified item receipt;
 * - `export`: GB's `valise evidence export` of the item to an OpenPGP
 *   recipient (a child process: its throughput and peak RSS).
 *
 * Run: `npx tsx scripts/bench/evidence.ts [--size-gib 4] [--phases bare,valise,export] [--keep]`
 */
import https from "node:https";
import { spawn, execFileSync } from "node:child_process";
import { createCipheriv, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as openpgp from "openpgp";
import { openAuthorityPki } from "../../pki/store.js";
import { loadIdentity } from "../../gateway/identity.js";
import { withHomeStore } from "../../gateway/store/home-store.js";
import { openHome } from "../../gateway/home.js";
import { createToken } from "../../gateway/auth/tokens.js";
import { startGatewayProcess, type GatewayProcess } from "../demo/gateway-process.js";
import { VALISE_BIN } from "../demo/valise-cli.js";
import { createBenchHomes } from "./homes.js";

/** The phases of the benchmark. */
export const EVIDENCE_PHASES = ["tls", "bare", "valise", "export"] as const;
export type EvidencePhase = (typeof EVIDENCE_PHASES)[number];

/** Options of {@link benchEvidence}. */
export interface BenchEvidenceOptions {
  /** Item size in bytes (default 4 GiB). */
  readonly size?: number;
  readonly phases?: readonly EvidencePhase[];
  readonly keep?: boolean;
  readonly progress?: (line: string) => void;
  /** Extra node flags of the gateway processes (experiments). */
  readonly nodeArgs?: readonly string[];
}

/** What one phase measured. */
export interface EvidenceRun {
  readonly phase: EvidencePhase;
  readonly seconds: number;
  /** Decimal megabytes of plaintext per second. */
  readonly mbPerSecond: number;
  /** Peak RSS (VmHWM) in MiB, by process. */
  readonly peakRssMiB: Readonly<Record<string, number>>;
  /** RSS in MiB of each process when idle, before the phase (for comparison). */
  readonly idleRssMiB?: Readonly<Record<string, number>>;
  /** `valise`: the hash pass before the 201 (seconds), and the rate after it. */
  readonly hashSeconds?: number;
  readonly uploadMbPerSecond?: number;
}

/** Everything a run measured. */
export interface EvidenceResults {
  readonly size: number;
  readonly runs: readonly EvidenceRun[];
}

const EXAMPLE = new URL("../../schemas/examples/mla-request/valid-email-records.json", import.meta.url);

/** The command reproducing a run. */
export function evidenceCommand(options: BenchEvidenceOptions = {}): string {
  const gib = (options.size ?? 4 * 1024 ** 3) / 1024 ** 3;
  return `npm run bench:evidence -- --size-gib ${gib}${options.phases === undefined ? "" : ` --phases ${options.phases.join(",")}`}`;
}

/** VmHWM (or another field) of a process in MiB (undefined once it has exited). */
function peakRss(pid: number, field = "VmHWM"): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** Writes `size` pseudo-random bytes (an AES-CTR keystream) to `path`, fsynced. */
async function generate(path: string, size: number): Promise<void> {
  const keystream = createCipheriv("aes-256-ctr", randomBytes(32), randomBytes(16));
  const zeros = Buffer.alloc(4 * 1024 * 1024);
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += zeros.byteLength) {
    if (!out.write(keystream.update(zeros.subarray(0, Math.min(zeros.byteLength, size - written))))) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  const handle = await open(path, "r");
  await handle.sync();
  await handle.close();
}

async function api(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, intervalMs = 250, timeoutMs = 3_600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The bare reference: one PUT of the file to the mTLS sink, which writes and fsyncs it. */
async function runBare(phase: "tls" | "bare", gbHome: string, usHome: string, passphrase: string, file: string, size: number, sinkFile: string): Promise<EvidenceRun> {
  const server = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./mtls-sink.ts", import.meta.url)), gbHome, "US-DOJ-OIA", sinkFile], {
    env: { ...process.env, VALISE_PASSPHRASE: passphrase },
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once("exit", (code) => reject(new Error(`the mTLS sink exited with ${String(code)}`)));
      createInterface({ input: server.stdout! }).once("line", (line) => resolve((JSON.parse(line) as { listening: number }).listening));
    });
    const us = await loadIdentity(openAuthorityPki(join(usHome, "pki")), passphrase, new Date());
    const gbRoot = openAuthorityPki(join(gbHome, "pki")).rootCertificate().pem;
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = https.request(
        {
          host: "127.0.0.1",
          port,
          path: "/upload",
          method: "PUT",
          key: us.tls.key,
          passphrase: us.tls.passphrase,
          cert: us.tls.cert,
          ca: [gbRoot],
          minVersion: "TLSv1.3",
          maxVersion: "TLSv1.3",
          headers: { "content-type": "application/octet-stream", "content-length": String(size) },
        },
        (res) => {
          res.resume();
          res.on("end", () => (res.statusCode === 201 ? resolve() : reject(new Error(`the sink answered ${res.statusCode}`))));
        },
      );
      req.on("error", reject);
      createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(req);
    });
    const seconds = (performance.now() - started) / 1000;
    if (sinkFile !== "-" && statSync(sinkFile).size !== size) throw new Error("the sink wrote another size");
    return { phase, seconds, mbPerSecond: size / 1e6 / seconds, peakRssMiB: { "mTLS sink": peakRss(server.pid!) ?? Number.NaN } };
  } finally {
    server.kill("SIGTERM");
    if (sinkFile !== "-") rmSync(sinkFile, { force: true });
  }
}

/** Runs the benchmark. */
export async function benchEvidence(options: BenchEvidenceOptions = {}): Promise<EvidenceResults> {
  const size = options.size ?? 4 * 1024 ** 3;
  const phases = options.phases ?? EVIDENCE_PHASES;
  const progress = options.progress ?? (() => {});
  const workdir = mkdtempSync(join(tmpdir(), "valise-bench-evidence-"));
  const gateways: GatewayProcess[] = [];
  const runs: EvidenceRun[] = [];
  try {
    const homes = await createBenchHomes(workdir);
    const tokenOf = (home: string, name: string): Promise<string> =>
      withHomeStore(openHome(home), "apply", (store) => store.transaction(async (tx) => (await createToken(tx, "caseworker", name, new Date())).token));
    const usToken = await tokenOf(homes.usHome, "bench");
    const gbToken = await tokenOf(homes.gbHome, "bench-reader");

    const file = join(homes.usHome, "outgoing", "evidence.bin");
    progress(`generating a ${(size / 1024 ** 3).toFixed(2)} GiB file in ${workdir}`);
    execFileSync("mkdir", ["-p", join(homes.usHome, "outgoing")]);
    await generate(file, size);
    execFileSync("sync");

    if (phases.includes("tls")) {
      progress("bare mutual-TLS upload, discarded");
      runs.push(await runBare("tls", homes.gbHome, homes.usHome, homes.passphrase, file, size, "-"));
    }
    if (phases.includes("bare")) {
      progress("bare mutual-TLS upload, written to disk and fsynced");
      runs.push(await runBare("bare", homes.gbHome, homes.usHome, homes.passphrase, file, size, join(workdir, "bare-sink.bin")));
      execFileSync("sync");
    }

    if (phases.includes("valise") || phases.includes("export")) {
      for (const home of [homes.gbHome, homes.usHome]) gateways.push(await startGatewayProcess({ home, passphrase: homes.passphrase, logFile: `${home}.log`, compiled: true, ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }) }));
      const [gb, us] = gateways as [GatewayProcess, GatewayProcess];
      const submitted = await api(gb.started.localUrl, homes.gbToken, "POST", "/api/v1/requests", JSON.parse(readFileSync(EXAMPLE, "utf8")));
      if (submitted.status !== 201) throw new Error(`the request answered ${submitted.status}`);
      const caseId = submitted.json.caseId as string;
      await until("US to hold the request", async () => ((await api(us.started.localUrl, usToken, "GET", `/api/v1/cases/${caseId}`)).status === 200 ? true : undefined), 50);
      // Evidence executes an accepted request (the case lifecycle refuses it before).
      const accepted = await api(us.started.localUrl, usToken, "POST", `/api/v1/cases/${caseId}/status`, { step: "accept" });
      if (accepted.status !== 201) throw new Error(`the acceptance answered ${accepted.status}: ${JSON.stringify(accepted.json)}`);

      const idle = { "US gateway (sender)": peakRss(us.pid, "VmRSS") ?? Number.NaN, "GB gateway (receiver)": peakRss(gb.pid, "VmRSS") ?? Number.NaN };
      progress("Valise: send, upload, verify, receipt");
      const started = performance.now();
      const sent = await api(us.started.localUrl, usToken, "POST", `/api/v1/cases/${caseId}/evidence`, {
        completes: "executed",
        items: [
          {
            path: file,
            description: "Benchmark item: pseudo-random bytes.",
            source: { organisation: "Valise benchmark" },
            acquiredAt: new Date().toISOString(),
            legalInstrument: "None (benchmark)",
          },
        ],
      });
      if (sent.status !== 201) throw new Error(`the send answered ${sent.status}: ${JSON.stringify(sent.json)}`);
      const hashed = performance.now();
      const packageId = sent.json.packageId as string;
      const itemId = sent.json.items[0].itemId as string;
      let lastReport = 0;
      const final = await until("the package to be delivered", async () => {
        const listed = (await api(us.started.localUrl, usToken, "GET", `/api/v1/cases/${caseId}/evidence?view=progress`)).json as { packages: Array<{ packageId: string; state: string; items: Array<{ sentBytes: number; sealedSize: number; lastError: string | null }> }> };
        const pkg = listed.packages.find((p) => p.packageId === packageId);
        if (pkg?.state === "failed") throw new Error(`the package failed: ${pkg.items[0]?.lastError ?? "?"}`);
        if (Date.now() - lastReport > 5000 && pkg !== undefined) {
          lastReport = Date.now();
          progress(`  ${((100 * (pkg.items[0]?.sentBytes ?? 0)) / (pkg.items[0]?.sealedSize ?? 1)).toFixed(0)}% sent`);
        }
        return pkg?.state === "delivered" ? pkg : undefined;
      });
      const done = performance.now();
      const seconds = (done - started) / 1000;
      void final;
      runs.push({
        phase: "valise",
        seconds,
        mbPerSecond: size / 1e6 / seconds,
        hashSeconds: (hashed - started) / 1000,
        uploadMbPerSecond: size / 1e6 / ((done - hashed) / 1000),
        peakRssMiB: { "US gateway (sender)": peakRss(us.pid) ?? Number.NaN, "GB gateway (receiver)": peakRss(gb.pid) ?? Number.NaN },
        idleRssMiB: idle,
      });

      if (phases.includes("export")) {
        progress("export: OpenPGP for an outside agency");
        const { publicKey } = await openpgp.generateKey({ type: "ecc", curve: "curve25519Legacy", userIDs: [{ name: "Bench agency", email: "bench@agency.example" }], format: "armored" });
        const recipient = join(workdir, "agency.asc");
        writeFileSync(recipient, publicKey);
        const out = join(workdir, "export");
        const exportStarted = performance.now();
        const child = spawn(process.execPath, [VALISE_BIN, "evidence", "export", caseId, "--to", recipient, "--out", out, "--home", homes.gbHome, "--json"], {
          env: { ...process.env, VALISE_PASSPHRASE: homes.passphrase },
          stdio: ["ignore", "ignore", "inherit"],
        });
        let peak = 0;
        const sampler = setInterval(() => (peak = Math.max(peak, peakRss(child.pid!) ?? 0)), 100);
        const [code] = (await once(child, "exit")) as [number | null];
        clearInterval(sampler);
        if (code !== 0) throw new Error(`valise evidence export exited ${String(code)}`);
        const exportSeconds = (performance.now() - exportStarted) / 1000;
        runs.push({ phase: "export", seconds: exportSeconds, mbPerSecond: size / 1e6 / exportSeconds, peakRssMiB: { "valise evidence export": peak } });
        void gbToken;
        void itemId;
      }
    }
    return { size, runs };
  } finally {
    for (const gateway of gateways) await gateway.stop();
    if (options.keep !== true) rmSync(workdir, { recursive: true, force: true });
    else progress(`kept ${workdir}`);
  }
}

/** The results as a table. */
export function formatEvidenceTable(results: EvidenceResults): string {
  const lines = [
    `item: ${(results.size / 1024 ** 3).toFixed(2)} GiB (${results.size} bytes), pseudo-random; MB = 10^6 bytes of plaintext`,
    "phase    seconds     MB/s   peak RSS (VmHWM, whole life of the process)",
  ];
  for (const run of results.runs) {
    const rss = Object.entries(run.peakRssMiB).map(([who, mib]) => `${who} ${mib.toFixed(0)} MiB`).join(", ");
    lines.push(`${run.phase.padEnd(8)} ${run.seconds.toFixed(1).padStart(7)} ${run.mbPerSecond.toFixed(0).padStart(8)}   ${rss}`);
    if (run.idleRssMiB !== undefined) lines.push(`         (RSS when idle before the phase: ${Object.entries(run.idleRssMiB).map(([who, mib]) => `${who} ${mib.toFixed(0)} MiB`).join(", ")})`);
    if (run.hashSeconds !== undefined && run.uploadMbPerSecond !== undefined) {
      lines.push(`         (of which the hash pass before the 201: ${run.hashSeconds.toFixed(1)} s; after it ${run.uploadMbPerSecond.toFixed(0)} MB/s)`);
    }
  }
  return lines.join("\n");
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options: BenchEvidenceOptions = {
    size: Math.round(Number(argument("size-gib") ?? 4) * 1024 ** 3),
    phases: (argument("phases") ?? EVIDENCE_PHASES.join(",")).split(",") as EvidencePhase[],
    keep: process.argv.includes("--keep"),
    progress: (line) => process.stderr.write(`  … ${line}\n`),
    ...(argument("node-args") === undefined ? {} : { nodeArgs: argument("node-args")!.split(" ") }),
  };
  console.log(`Valise evidence benchmark: node ${process.version}, ${process.platform}/${process.arch}`);
  const results = await benchEvidence(options);
  console.log(formatEvidenceTable(results));
  const bare = results.runs.find((run) => run.phase === "bare");
  const valise = results.runs.find((run) => run.phase === "valise");
  if (valise !== undefined) {
    const rssOk = Object.values(valise.peakRssMiB).every((mib) => mib < 200);
    console.log(`target: each gateway under 200 MB RSS: ${rssOk ? "MET" : "NOT MET"} (${Object.values(valise.peakRssMiB).map((m) => `${m.toFixed(0)} MiB`).join(", ")})`);
    if (bare !== undefined) {
      const ratio = valise.mbPerSecond / bare.mbPerSecond;
      console.log(`target: Valise at least half the bare mutual-TLS rate: ${ratio >= 0.5 ? "MET" : "NOT MET"} (${(100 * ratio).toFixed(0)}% end to end; ${(100 * (valise.uploadMbPerSecond ?? 0) / bare.mbPerSecond).toFixed(0)}% after the hash pass)`);
    }
  }
  console.log(`reproduce: ${evidenceCommand(options)}`);
}
