/**
 * End-to-end exchange benchmark: two gateways on this machine, each its own
 * process (own event loop, as in production), and caseworker clients
 * submitting the example MLA request through GB's local API. An envelope is
 * done when GB holds US's verified receipt: its outbox row is `delivered`.
 * Latency runs from the client's submit (or, at a fixed rate, the scheduled
 * submit time) to the outbox row's `finished_at`, read from GB's database.
 *
 * Phases:
 * - `max`: N envelopes from C closed-loop submitters (throughput);
 * - `rate`: an open-loop offered rate for S seconds (latency at that rate);
 * - `tls`: the ceiling reference, a bare mutual-TLS HTTPS server with the
 *   same certificates answering a small POST (scripts/bench/mtls-echo.ts).
 *
 * The gateways run the compiled `valise` (dist/, as installed): `npm run bench`
 * builds first; after a change, `npm run build` before running this file alone.
 *
 * Run: `npx tsx scripts/bench/exchange.ts [--store postgres://HOST/DB] [--phases max,rate,tls] [--count 2000]
 * [--concurrency 64] [--rate 200] [--seconds 10] [--tls-requests 20000]
 * [--log-level info] [--cpu-prof DIR] [--keep]`
 */
import http from "node:http";
import https from "node:https";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createInterface } from "node:readline";
import type { Store } from "../../gateway/store/store.js";
import { openHomeStore } from "../../gateway/store/home-store.js";
import { openHome } from "../../gateway/home.js";
import { openAuthorityPki } from "../../pki/store.js";
import { loadIdentity } from "../../gateway/identity.js";
import { startGatewayProcess, type GatewayProcess } from "../demo/gateway-process.js";
import { createBenchHomes, type BenchHomes } from "./homes.js";
import { createDemoDatabases } from "../demo/postgres.js";

/** The phases of the benchmark. */
export const EXCHANGE_PHASES = ["max", "rate", "tls"] as const;
/** One phase. */
export type ExchangePhase = (typeof EXCHANGE_PHASES)[number];

/** Options of {@link benchExchange}. */
export interface BenchExchangeOptions {
  readonly phases?: readonly ExchangePhase[];
  /** A PostgreSQL server (`postgres://…`): each gateway's store in a database of its own there (dropped after). Default SQLite. */
  readonly store?: string;
  /** `max`: envelopes (default 2000). */
  readonly count?: number;
  /** `max`: submitters in flight (default 64). */
  readonly concurrency?: number;
  /** `rate`: offered envelopes per second (default 200). */
  readonly rate?: number;
  /** `rate`: how long (default 10 s). */
  readonly seconds?: number;
  /** `tls`: requests (default 20000), at `concurrency` in flight. */
  readonly tlsRequests?: number;
  /** Gateway log level (default info, as in production). */
  readonly logLevel?: string;
  /** Write V8 CPU profiles of both gateways into this folder. */
  readonly cpuProfileDir?: string;
  /** Keep the temporary folder (homes, databases, logs). */
  readonly keep?: boolean;
  /** Progress lines (default: none). */
  readonly progress?: (line: string) => void;
}

/** Latency percentiles, milliseconds. */
export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** What the `max` and `rate` phases measured. */
export interface ExchangeRun {
  readonly phase: "max" | "rate";
  readonly envelopes: number;
  /** `max`: submitters in flight; `rate`: offered envelopes/s. */
  readonly load: number;
  readonly seconds: number;
  /** Delivered (receipt verified at GB) per second, first submit to last receipt. */
  readonly envelopesPerSecond: number;
  /** Submit (or scheduled submit) → verified receipt stored at GB. */
  readonly endToEnd: Latency;
  /** Submit → 201 from GB's local API (what the caseworker's system waits). */
  readonly submit: Latency;
  readonly failed: number;
  /** `rate`: how far behind schedule the client fell at worst (ms). */
  readonly clientLagMs?: number;
  /** CPU time (user + system, all threads) of each gateway process during the phase, per envelope, ms. */
  readonly cpuMsPerEnvelope?: { readonly sender: number; readonly receiver: number };
}

/** What the `tls` phase measured. */
export interface TlsRun {
  readonly phase: "tls";
  readonly requests: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly latency: Latency;
}

/** Everything one run measured. */
export interface ExchangeResults {
  readonly runs: ReadonlyArray<ExchangeRun | TlsRun>;
  readonly profiles: readonly string[];
}

const EXAMPLE = new URL("../../schemas/examples/mla-request/valid-email-records.json", import.meta.url);

/** The command reproducing one phase with these options. */
export function exchangeCommand(phase: ExchangePhase, options: BenchExchangeOptions = {}): string {
  const { count = 2000, concurrency = 64, rate = 200, seconds = 10, tlsRequests = 20000 } = options;
  const args = { max: `--count ${count} --concurrency ${concurrency}`, rate: `--rate ${rate} --seconds ${seconds}`, tls: `--tls-requests ${tlsRequests} --concurrency ${concurrency}` }[phase];
  return `npx tsx scripts/bench/exchange.ts --phases ${phase} ${args}`;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function latencyOf(values: readonly number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

let clockTicks: number | undefined;

/**
 * CPU time (utime + stime, every thread: main, libuv pool, V8 helpers) a
 * process has used so far, ms, from /proc/PID/stat; undefined where there is
 * no /proc (not Linux) or the process is gone.
 */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}

/** Reads the CPU time of the sender and the receiver before a phase; `perEnvelope` after it. */
class CpuMeter {
  readonly #sender: number;
  readonly #receiver: number;
  readonly #start: { sender?: number; receiver?: number };

  constructor(pids: { sender: number; receiver: number }) {
    this.#sender = pids.sender;
    this.#receiver = pids.receiver;
    this.#start = { sender: processCpuMs(pids.sender), receiver: processCpuMs(pids.receiver) };
  }

  perEnvelope(envelopes: number): { sender: number; receiver: number } | undefined {
    const sender = processCpuMs(this.#sender);
    const receiver = processCpuMs(this.#receiver);
    if (sender === undefined || receiver === undefined || this.#start.sender === undefined || this.#start.receiver === undefined || envelopes === 0) return undefined;
    return { sender: (sender - this.#start.sender) / envelopes, receiver: (receiver - this.#start.receiver) / envelopes };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Posts requests to GB's local API over one keep-alive agent. */
class Submitter {
  readonly #agent: http.Agent;
  readonly #url: URL;
  readonly #token: string;
  readonly #body: Buffer;

  constructor(localUrl: string, token: string, sockets: number) {
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
    this.#url = new URL("/api/v1/requests", localUrl);
    this.#token = token;
    this.#body = Buffer.from(readFileSync(EXAMPLE, "utf8"));
  }

  /** Submits the example request; resolves with its envelope id. */
  submit(): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        this.#url,
        {
          method: "POST",
          agent: this.#agent,
          headers: { authorization: `Bearer ${this.#token}`, "content-type": "application/json", "content-length": this.#body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 201) reject(new Error(`submit answered ${res.statusCode}: ${text.slice(0, 300)}`));
            else resolve((JSON.parse(text) as { envelopeId: string }).envelopeId);
          });
        },
      );
      req.on("error", reject);
      req.end(this.#body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Reads GB's outbox through the store (on SQLite a reader never blocks the gateway's writer). */
class Outbox {
  readonly #store: Store;

  private constructor(store: Store) {
    this.#store = store;
  }

  static async open(home: string): Promise<Outbox> {
    return new Outbox(await openHomeStore(openHome(home), "refuse"));
  }

  counts(): Promise<{ delivered: number; failed: number }> {
    return this.#store.read((tx) => tx.outbox.finishedCounts());
  }

  /** Waits until `target` rows are finished (delivered or failed), polling every 10 ms. */
  async waitFor(target: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { delivered, failed } = await this.counts();
      if (delivered + failed >= target) return;
      if (Date.now() > deadline) throw new Error(`only ${delivered} delivered and ${failed} failed of ${target} after ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  async finished(): Promise<Map<string, { state: string; at: number }>> {
    const rows = await this.#store.read((tx) => tx.outbox.finished());
    return new Map(rows.map((row) => [row.envelope_id, { state: row.state, at: Date.parse(row.finished_at) }]));
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}

interface Sent {
  readonly envelopeId: string;
  /** Wall-clock ms the latency counts from. */
  readonly from: number;
  readonly submitMs: number;
}

async function summarise(
  phase: "max" | "rate",
  load: number,
  sent: readonly Sent[],
  outbox: Outbox,
  clientLagMs?: number,
  cpu?: { sender: number; receiver: number },
): Promise<ExchangeRun> {
  const finished = await outbox.finished();
  const endToEnd: number[] = [];
  let failed = 0;
  let last = 0;
  for (const item of sent) {
    const row = finished.get(item.envelopeId);
    if (row === undefined || row.state !== "delivered") {
      failed += 1;
      continue;
    }
    endToEnd.push(row.at - item.from);
    last = Math.max(last, row.at);
  }
  const first = Math.min(...sent.map((item) => item.from));
  const seconds = (last - first) / 1000;
  return {
    phase,
    envelopes: sent.length,
    load,
    seconds,
    envelopesPerSecond: endToEnd.length / seconds,
    endToEnd: latencyOf(endToEnd),
    submit: latencyOf(sent.map((item) => item.submitMs)),
    failed,
    ...(clientLagMs === undefined ? {} : { clientLagMs }),
    ...(cpu === undefined ? {} : { cpuMsPerEnvelope: cpu }),
  };
}

/** The gateway processes of a run: GB sends, US receives. */
interface Pids {
  readonly sender: number;
  readonly receiver: number;
}

async function runMax(submitter: Submitter, outbox: Outbox, count: number, concurrency: number, pids?: Pids): Promise<ExchangeRun> {
  const before = await outbox.counts();
  const meter = pids === undefined ? undefined : new CpuMeter(pids);
  const sent: Sent[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const from = Date.now();
      const t0 = performance.now();
      const envelopeId = await submitter.submit();
      sent.push({ envelopeId, from, submitMs: performance.now() - t0 });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  await outbox.waitFor(before.delivered + before.failed + count, 120_000);
  const cpu = meter?.perEnvelope(count);
  return summarise("max", concurrency, sent, outbox, undefined, cpu);
}

async function runRate(submitter: Submitter, outbox: Outbox, rate: number, seconds: number, pids?: Pids): Promise<ExchangeRun> {
  const before = await outbox.counts();
  const meter = pids === undefined ? undefined : new CpuMeter(pids);
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const sent: Sent[] = [];
  const pending: Array<Promise<void>> = [];
  let lag = 0;
  const startWall = Date.now();
  const start = performance.now();
  for (let i = 0; i < total; i += 1) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    lag = Math.max(lag, performance.now() - due);
    // Open loop: latency counts from the scheduled time, so a late client
    // does not hide queueing (no coordinated omission).
    const from = startWall + i * interval;
    const t0 = performance.now();
    pending.push(
      submitter.submit().then((envelopeId) => {
        sent.push({ envelopeId, from, submitMs: performance.now() - t0 });
      }),
    );
  }
  await Promise.all(pending);
  await outbox.waitFor(before.delivered + before.failed + total, 120_000);
  const cpu = meter?.perEnvelope(total);
  return summarise("rate", rate, sent, outbox, lag, cpu);
}

/** The bare mutual-TLS ceiling: a child echo server with GB's certificate, a client with US's. */
async function runTls(homes: BenchHomes, requests: number, concurrency: number): Promise<TlsRun> {
  const server = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./mtls-echo.ts", import.meta.url)), homes.gbHome, "US-DOJ-OIA"], {
    env: { ...process.env, VALISE_PASSPHRASE: homes.passphrase },
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once("exit", (code) => reject(new Error(`the mTLS echo server exited with ${String(code)}`)));
      createInterface({ input: server.stdout! }).once("line", (line) => resolve((JSON.parse(line) as { listening: number }).listening));
    });
    const us = await loadIdentity(openAuthorityPki(join(homes.usHome, "pki")), homes.passphrase, new Date());
    const gbRoot = openAuthorityPki(join(homes.gbHome, "pki")).rootCertificate().pem;
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: concurrency,
      key: us.tls.key,
      passphrase: us.tls.passphrase,
      cert: us.tls.cert,
      ca: [gbRoot],
      minVersion: "TLSv1.3",
      maxVersion: "TLSv1.3",
    });
    const body = Buffer.alloc(2048, 0x61);
    const post = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const req = https.request({ host: "127.0.0.1", port, path: "/peer/v1/envelopes", method: "POST", agent, headers: { "content-type": "application/json", "content-length": body.length } }, (res) => {
          res.on("data", () => {});
          res.on("end", () => (res.statusCode === 201 ? resolve() : reject(new Error(`echo answered ${res.statusCode}`))));
        });
        req.on("error", reject);
        req.end(body);
      });
    const latencies: number[] = [];
    let next = 0;
    const worker = async (limit: number, record: boolean): Promise<void> => {
      while (next < limit) {
        next += 1;
        const t0 = performance.now();
        await post();
        if (record) latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, () => worker(Math.min(2000, requests), false))); // warm-up: handshakes, JIT
    next = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: concurrency }, () => worker(requests, true)));
    const seconds = (performance.now() - start) / 1000;
    agent.destroy();
    return { phase: "tls", requests, concurrency, seconds, requestsPerSecond: requests / seconds, latency: latencyOf(latencies) };
  } finally {
    server.kill("SIGTERM");
  }
}

/**
 * Runs the requested phases on a fresh pair of homes.
 *
 * @example
 * const { runs } = await benchExchange({ phases: ["max"], count: 500 });
 */
export async function benchExchange(options: BenchExchangeOptions = {}): Promise<ExchangeResults> {
  const { phases = EXCHANGE_PHASES, count = 2000, concurrency = 64, rate = 200, seconds = 10, tlsRequests = 20000, logLevel = "info" } = options;
  const progress = options.progress ?? (() => {});
  const workdir = mkdtempSync(join(tmpdir(), "valise-bench-"));
  const gateways: GatewayProcess[] = [];
  const runs: Array<ExchangeRun | TlsRun> = [];
  let outbox: Outbox | undefined;
  let submitter: Submitter | undefined;
  let dropDatabases: (() => Promise<void>) | undefined;
  try {
    const databases = options.store === undefined ? undefined : await createDemoDatabases(options.store);
    dropDatabases = databases?.drop;
    const homes = await createBenchHomes(workdir, "ed25519", databases);
    if (phases.includes("max") || phases.includes("rate")) {
      const nodeArgs = options.cpuProfileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`];
      for (const home of [homes.usHome, homes.gbHome]) {
        gateways.push(await startGatewayProcess({ home, passphrase: homes.passphrase, logLevel, logFile: `${home}.log`, nodeArgs, compiled: true }));
      }
      const gb = gateways[1]!;
      const pids: Pids = { sender: gb.pid, receiver: gateways[0]!.pid };
      submitter = new Submitter(gb.started.localUrl, homes.gbToken, concurrency);
      outbox = await Outbox.open(homes.gbHome);
      progress("warming up (200 envelopes, not counted)");
      await runMax(submitter, outbox, 200, Math.min(concurrency, 32));
      if (phases.includes("max")) {
        progress(`max throughput: ${count} envelopes, ${concurrency} submitters`);
        runs.push(await runMax(submitter, outbox, count, concurrency, pids));
      }
      if (phases.includes("rate")) {
        progress(`fixed rate: ${rate} envelopes/s for ${seconds} s`);
        runs.push(await runRate(submitter, outbox, rate, seconds, pids));
      }
      submitter.close();
      await outbox.close();
      for (const gateway of gateways.splice(0)) {
        const exit = await gateway.stop(30_000);
        if (exit.code !== 0) throw new Error(`a gateway exited with ${String(exit.code)}: ${gateway.logTail().join("\n")}`);
      }
    }
    if (phases.includes("tls")) {
      progress(`bare mutual TLS: ${tlsRequests} POSTs, ${concurrency} in flight`);
      runs.push(await runTls(homes, tlsRequests, concurrency));
    }
    return { runs, profiles: [] };
  } finally {
    submitter?.close();
    for (const gateway of gateways) gateway.kill();
    if (options.keep === true) progress(`kept ${workdir}`);
    else rmSync(workdir, { recursive: true, force: true });
    if (!options.keep) await dropDatabases?.().catch(() => undefined);
  }
}

function ms(value: number): string {
  return Number.isNaN(value) ? "-" : value < 10 ? value.toFixed(1) : value.toFixed(0);
}

/** Sender (GB) and receiver (US) CPU ms per envelope, "-" where not measured. */
export function cpuText(run: ExchangeRun): string {
  const cpu = run.cpuMsPerEnvelope;
  return cpu === undefined ? "-" : `${cpu.sender.toFixed(2)}/${cpu.receiver.toFixed(2)}`;
}

/** The results as a fixed-width table. */
export function formatExchangeTable(results: ExchangeResults): string {
  const lines = ["phase  load              envelopes  seconds   per second   end-to-end p50/p99/max ms   submit→201 p50/p99 ms  CPU ms/envelope GB/US  failed"];
  for (const run of results.runs) {
    if (run.phase === "tls") {
      lines.push(
        `tls    ${`${run.concurrency} in flight`.padEnd(16)} ${String(run.requests).padStart(9)} ${run.seconds.toFixed(2).padStart(8)} ${run.requestsPerSecond.toFixed(0).padStart(10)} req/s  ${`${ms(run.latency.p50)}/${ms(run.latency.p99)}/${ms(run.latency.max)} (request)`.padEnd(26)}`,
      );
      continue;
    }
    const load = run.phase === "max" ? `${run.load} submitters` : `${run.load}/s offered`;
    lines.push(
      `${run.phase.padEnd(6)} ${load.padEnd(16)} ${String(run.envelopes).padStart(9)} ${run.seconds.toFixed(2).padStart(8)} ${run.envelopesPerSecond.toFixed(0).padStart(10)} env/s  ${`${ms(run.endToEnd.p50)}/${ms(run.endToEnd.p99)}/${ms(run.endToEnd.max)}`.padEnd(26)} ${`${ms(run.submit.p50)}/${ms(run.submit.p99)}`.padEnd(22)} ${cpuText(run).padEnd(22)} ${run.failed}${run.clientLagMs === undefined ? "" : `   (client lag ≤ ${ms(run.clientLagMs)} ms)`}`,
    );
  }
  return lines.join("\n");
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options: BenchExchangeOptions = {
    phases: (argument("phases") ?? EXCHANGE_PHASES.join(",")).split(",") as ExchangePhase[],
    count: Number(argument("count") ?? 2000),
    concurrency: Number(argument("concurrency") ?? 64),
    rate: Number(argument("rate") ?? 200),
    seconds: Number(argument("seconds") ?? 10),
    tlsRequests: Number(argument("tls-requests") ?? 20000),
    logLevel: argument("log-level") ?? "info",
    keep: process.argv.includes("--keep"),
    progress: (line) => process.stderr.write(`${line}\n`),
    ...(argument("cpu-prof") === undefined ? {} : { cpuProfileDir: argument("cpu-prof")! }),
    ...(argument("store") === undefined ? {} : { store: argument("store")! }),
  };
  const results = await benchExchange(options);
  console.log(formatExchangeTable(results));
}
