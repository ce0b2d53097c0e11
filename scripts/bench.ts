/**
 * `npm run bench`: the performance figures of the issue, measured in one run
 * on this machine, with the command that reproduces each.
 *
 * 1. Envelope seal/open throughput, in-process (scripts/bench/envelope.ts).
 * 2. End to end between two gateway processes (scripts/bench/exchange.ts):
 *    maximum throughput, and latency at a fixed offered rate.
 * 3. The ceiling reference: a bare mutual-TLS HTTPS server, same certificates.
 *
 * 4. The audit log: durable appends/s, and `valise audit export` / `verify`
 *    over 100,000 entries (scripts/bench/audit.ts).
 *
 * Flags: `--quick` (a short run), `--only envelope,exchange,audit` (some
 * sections), `--cpu-prof DIR` (profile both gateways and summarise the
 * hotspots), `--keep` (keep the homes and gateway logs), `--store
 * postgres://HOST/DB` (the exchange on PostgreSQL: a database per gateway).
 */
import { cpus } from "node:os";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { benchCommand, benchEnvelopes, formatBenchTable, type BenchEnvelopeOptions } from "./bench/envelope.js";
import { benchExchange, exchangeCommand, formatExchangeTable, type BenchExchangeOptions, type ExchangeRun, type TlsRun } from "./bench/exchange.js";
import { formatProfileSummary, summariseProfile, type CpuProfile } from "./bench/cpu-profile.js";
import { auditBenchCommand, benchAudit, DEFAULT_AUDIT_BENCH, formatAuditBench, type BenchAuditOptions } from "./bench/audit.js";

/** The targets of the issue. */
const TARGET_THROUGHPUT = 1000;
const TARGET_RATE = 200;
const TARGET_P99_MS = 50;
const TARGET_CPU_MS = 1;
const TARGET_APPENDS = 5000;
const TARGET_VERIFY_SECONDS = 5;

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

/** The main-thread profile of each process in `dir` (the largest file per pid; tsx's loader thread is the small one). */
function mainThreadProfiles(dir: string): string[] {
  const byPid = new Map<string, { file: string; size: number }>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"))) {
    const pid = file.split(".")[3] ?? file;
    const size = statSync(join(dir, file)).size;
    if ((byPid.get(pid)?.size ?? -1) < size) byPid.set(pid, { file: join(dir, file), size });
  }
  return [...byPid.values()].map((entry) => entry.file);
}

const quick = process.argv.includes("--quick");
const cpuProfileDir = argument("cpu-prof");
const envelopeOptions: BenchEnvelopeOptions = { count: quick ? 300 : 2000, concurrency: 64, profiles: ["ed25519", "p256"] };
const exchangeOptions: BenchExchangeOptions = {
  count: quick ? 500 : 2000,
  concurrency: 64,
  rate: TARGET_RATE,
  seconds: quick ? 3 : 10,
  tlsRequests: quick ? 3000 : 20000,
  keep: process.argv.includes("--keep"),
  progress: (line) => process.stderr.write(`  … ${line}\n`),
  ...(cpuProfileDir === undefined ? {} : { cpuProfileDir }),
  ...(argument("store") === undefined ? {} : { store: argument("store")! }),
};

const SECTIONS = ["envelope", "exchange", "audit"] as const;
const only = argument("only")?.split(",");
for (const name of only ?? []) if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`--only takes ${SECTIONS.join(", ")}`);
const runs = (section: (typeof SECTIONS)[number]): boolean => only === undefined || only.includes(section);
const verdict = (met: boolean | undefined): string => (met === undefined ? "not measured" : met ? "MET" : "NOT MET");

console.log(`Valise benchmark${quick ? " (--quick)" : ""}: node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPU(s): ${cpus()[0]?.model ?? "?"}`);

if (runs("envelope")) {
  console.log("");
  console.log("1. Envelope seal/open, in-process, 2 KiB document, 64 in flight");
  const envelopeRows = await benchEnvelopes(envelopeOptions);
  console.log(formatBenchTable(envelopeRows));
  console.log(`   reproduce: ${benchCommand(envelopeOptions)}`);
}

if (runs("exchange")) {
  console.log("");
  console.log("2. End to end: GB local API → seal → mutual TLS → US opens, commits, signs a receipt → GB verifies and commits it");
  console.log("   (two gateway processes + this client on the same machine; the example MLA request, ~8 KB of JSON)");
  const exchange = await benchExchange(exchangeOptions);
  console.log(formatExchangeTable(exchange));
  const max = exchange.runs.find((run): run is ExchangeRun => run.phase === "max");
  const rate = exchange.runs.find((run): run is ExchangeRun => run.phase === "rate");
  const tls = exchange.runs.find((run): run is TlsRun => run.phase === "tls");
  for (const phase of ["max", "rate", "tls"] as const) console.log(`   reproduce ${phase.padEnd(4)}: ${exchangeCommand(phase, exchangeOptions)}`);

  console.log("");
  console.log("3. Targets of the gateway issue, on this machine");
  console.log(
    `   ≥ ${TARGET_THROUGHPUT} envelopes/s end to end:        ${max === undefined ? "-" : `${max.envelopesPerSecond.toFixed(0)} envelopes/s`}  → ${verdict(max === undefined ? undefined : max.envelopesPerSecond >= TARGET_THROUGHPUT && max.failed === 0)}`,
  );
  console.log(
    `   p99 < ${TARGET_P99_MS} ms at ${TARGET_RATE} envelopes/s:         ${rate === undefined ? "-" : `p50 ${rate.endToEnd.p50.toFixed(0)} ms, p99 ${rate.endToEnd.p99.toFixed(0)} ms (delivered ${rate.envelopesPerSecond.toFixed(0)}/s)`}  → ${verdict(rate === undefined ? undefined : rate.endToEnd.p99 < TARGET_P99_MS && rate.failed === 0)}`,
  );
  const cpu = max?.cpuMsPerEnvelope;
  console.log(
    `   CPU < ${TARGET_CPU_MS} ms per envelope on each side:  ${cpu === undefined ? "-" : `sender (GB) ${cpu.sender.toFixed(2)} ms, receiver (US) ${cpu.receiver.toFixed(2)} ms (process utime+stime during max / envelopes)`}  → ${verdict(cpu === undefined ? undefined : cpu.sender < TARGET_CPU_MS && cpu.receiver < TARGET_CPU_MS)}`,
  );
  if (tls !== undefined && max !== undefined) {
    console.log(`   ceiling reference: bare mutual TLS ${tls.requestsPerSecond.toFixed(0)} requests/s; the gateways reach ${((100 * max.envelopesPerSecond) / tls.requestsPerSecond).toFixed(1)}% of it`);
  }

  if (cpuProfileDir !== undefined) {
    console.log("");
    console.log(`   CPU profiles of the gateways (${cpuProfileDir})`);
    for (const file of mainThreadProfiles(cpuProfileDir)) {
      console.log(formatProfileSummary(file, summariseProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile), 15));
    }
    console.log("   reproduce: npx tsx scripts/bench/cpu-profile.ts FILE.cpuprofile --top 25");
  }
}

if (runs("audit")) {
  const entries = quick ? 20_000 : DEFAULT_AUDIT_BENCH.entries;
  const progress = (line: string): boolean => process.stderr.write(`  … ${line}\n`);
  const logOnly: BenchAuditOptions = { ...DEFAULT_AUDIT_BENCH, entries, receiptShare: 0, progress };
  const withReceipts: BenchAuditOptions = { ...DEFAULT_AUDIT_BENCH, entries, receiptShare: 5, progress };
  console.log("");
  console.log(`4. Audit log: durable appends (synchronous=FULL), then valise audit export and verify over ${entries} entries`);
  console.log("   a. the log alone (entries, a checkpoint every 1000 entries)");
  const a = await benchAudit(logOnly);
  console.log(formatAuditBench(a, logOnly));
  console.log(`   reproduce: ${auditBenchCommand(logOnly)}`);
  console.log("   b. the same with one received envelope in five carrying its signed receipt (each receipt's signature, signer path and log position checked)");
  const b = await benchAudit(withReceipts);
  console.log(formatAuditBench(b, withReceipts));
  console.log(`   reproduce: ${auditBenchCommand(withReceipts)}`);
  console.log("");
  console.log("   Targets of the audit-log issue, on this machine");
  console.log(`   ≥ ${TARGET_APPENDS} durable appends/s:      ${a.batchedAppendsPerSecond.toFixed(0)} appends/s  → ${verdict(a.batchedAppendsPerSecond >= TARGET_APPENDS)}`);
  console.log(
    `   verify 100,000 entries < ${TARGET_VERIFY_SECONDS} s:     ${a.verifySeconds.toFixed(2)} s for ${a.entries} entries  → ${verdict(entries < 100_000 ? undefined : a.verifySeconds < TARGET_VERIFY_SECONDS)}` +
      `; with ${b.receipts} receipts ${b.verifySeconds.toFixed(2)} s`,
  );
}

console.log("");
console.log("Evidence (a 4 GiB item between two gateways, memory and throughput against a bare mutual-TLS upload) takes a few minutes");
console.log("and 12 GB of scratch disk, so it runs on its own: npm run bench:evidence  (figures in README.md, Evidence)");
