/**
 * The audit-log benchmark:
 *
 * 1. Durable appends/s: `entries` audit entries appended through the
 *    gateway's group commit (`synchronous=FULL`, each caller awaiting its
 *    own commit) with `concurrency` callers in flight, a checkpoint signed
 *    every `checkpointEvery` entries — and, for contrast, appends that each
 *    wait for their own commit, one at a time.
 * 2. `valise audit export` and `valise audit verify` over that log, each as
 *    the operator or auditor runs it (a child process, wall-clock time
 *    including start-up). One entry in `receiptShare` records a received
 *    envelope whose receipt (signed, with its log position) the export
 *    carries, so the verifier checks receipts too, as on a real log.
 *
 * Run alone: `npx tsx scripts/bench/audit.ts [--entries N] [--receipt-every N]`
 * (`--receipt-every 0`: no receipts, the log alone).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { randomBytes, randomUUID, createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { initHome } from "../../gateway/home.js";
import { openStore, type Tx } from "../../gateway/store/store.js";
import { appendEntry, type AuditEntry } from "../../gateway/audit/append.js";
import { Checkpointer } from "../../gateway/audit/checkpoints.js";
import { loadIdentity } from "../../gateway/identity.js";
import { signReceipt } from "../../gateway/envelope/receipt.js";
import { createTrustBundle } from "../../pki/bundle.js";
import { openAuthorityPki } from "../../pki/store.js";

const run = promisify(execFile);
const VALISE_BIN = fileURLToPath(new URL("../valise.mjs", import.meta.url));

/** Options of {@link benchAudit}. */
export interface BenchAuditOptions {
  readonly entries: number;
  readonly concurrency: number;
  readonly checkpointEvery: number;
  /** One entry in this many is a received envelope with a receipt (0: none). */
  readonly receiptShare: number;
  /** Appends measured one commit each (the contrast). */
  readonly unbatched: number;
  readonly progress?: (line: string) => void;
}

/** What the benchmark measured. */
export interface AuditBench {
  readonly entries: number;
  readonly checkpoints: number;
  readonly receipts: number;
  readonly batchedAppendsPerSecond: number;
  readonly unbatchedAppendsPerSecond: number;
  readonly exportSeconds: number;
  readonly exportBytes: number;
  readonly verifySeconds: number;
  readonly verifiedEntriesPerSecond: number;
}

const PEER = "US-DOJ-OIA";

/** Runs the benchmark in a temporary home (removed afterwards). */
export async function benchAudit(options: BenchAuditOptions): Promise<AuditBench> {
  const progress = options.progress ?? (() => undefined);
  const workdir = mkdtempSync(join(tmpdir(), "valise-bench-audit-"));
  try {
    const passphrase = randomBytes(18).toString("base64url");
    const home = join(workdir, "GB-UKCA");
    const now = new Date();
    await initHome(home, { authority: "GB-UKCA", endpoint: "https://127.0.0.1:18443", profile: "ed25519", dns: [], ips: [], passphrase, now });
    const pki = openAuthorityPki(join(home, "pki"));
    const identity = await loadIdentity(pki, passphrase, now);
    const store = await openStore({ kind: "sqlite", path: join(home, "valise.db") }, "apply");
    const checkpoints = new Checkpointer(store, "GB-UKCA", identity.logKey, () => new Date());
    const caseId = randomUUID();
    await store.transaction((tx) => tx.cases.insert({ caseId, direction: "inbound", kind: "mla-request", peer: PEER, status: "received", priority: "normal", at: now.toISOString() }));

    // 1a. One commit per append, awaited one at a time: the fsync rate.
    let started = performance.now();
    for (let i = 0; i < options.unbatched; i++) await store.transaction((tx) => appendEntry(tx, event(i, caseId)));
    const unbatchedAppendsPerSecond = options.unbatched / ((performance.now() - started) / 1000);
    progress(`unbatched: ${unbatchedAppendsPerSecond.toFixed(0)} appends/s`);

    // 1b. Many callers at once, each awaiting its durable commit: group commit.
    const received: AuditEntry[] = [];
    started = performance.now();
    let next = options.unbatched;
    const total = options.unbatched + options.entries;
    const caller = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        const isReceipt = options.receiptShare > 0 && i % options.receiptShare === 0;
        const entry = await store.transaction(async (tx) => {
          if (isReceipt) await insertEnvelope(tx, caseId, i);
          return appendEntry(tx, event(i, caseId, isReceipt));
        });
        if (isReceipt) received.push(entry);
        if (i % options.checkpointEvery === 0) await checkpoints.sign();
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, caller));
    const batchedAppendsPerSecond = options.entries / ((performance.now() - started) / 1000);
    progress(`group commit: ${batchedAppendsPerSecond.toFixed(0)} appends/s`);
    await checkpoints.sign();
    await store.drained();

    // Receipts of the received envelopes, with their log positions (not timed: the receivers' work).
    const signed = await Promise.all(
      received.map(async (entry) => {
        const receipt = await signReceipt(
          { envelopeId: entry.envelopeId!, envelopeDigest: entry.envelopeDigest!, from: PEER, to: "GB-UKCA", receivedAt: entry.time, log: await checkpoints.positionOf(entry) },
          identity.signer,
        );
        return [receipt, entry.envelopeId!] as const;
      }),
    );
    await store.transaction(async (tx) => {
      for (const [receipt, id] of signed) await tx.envelopes.setReceipt(id, receipt);
    });
    const checkpointCount = (await store.read((tx) => tx.audit.checkpoints())).length;
    const entryCount = await store.read((tx) => tx.audit.entryCount());
    await store.close();
    const bundle = join(workdir, "GB-UKCA.bundle.json");
    writeFileSync(bundle, JSON.stringify(await createTrustBundle(pki, passphrase, new Date())));
    progress(`log of ${entryCount} entries, ${checkpointCount} checkpoints, ${signed.length} receipts; exporting`);

    // 2. The CLI, as operators and auditors run it.
    const out = join(workdir, "GB-UKCA.audit.json");
    started = performance.now();
    await run(process.execPath, [VALISE_BIN, "audit", "export", "--home", home, "--out", out, "--json"], { env: { ...process.env, VALISE_PASSPHRASE: passphrase }, maxBuffer: 1 << 20 });
    const exportSeconds = (performance.now() - started) / 1000;
    progress(`exported in ${exportSeconds.toFixed(2)} s; verifying`);
    started = performance.now();
    const { stdout } = await run(process.execPath, [VALISE_BIN, "audit", "verify", out, "--trust", bundle, "--json"], { maxBuffer: 1 << 20 });
    const verifySeconds = (performance.now() - started) / 1000;
    const report = JSON.parse(stdout) as { verified: boolean; entries: number; receipts: { issued: number } };
    if (!report.verified || report.entries !== entryCount || report.receipts.issued !== signed.length) throw new Error(`the benchmark log did not verify as expected: ${stdout.slice(0, 300)}`);
    return {
      entries: entryCount,
      checkpoints: checkpointCount,
      receipts: signed.length,
      batchedAppendsPerSecond,
      unbatchedAppendsPerSecond,
      exportSeconds,
      exportBytes: statSync(out).size,
      verifySeconds,
      verifiedEntriesPerSecond: entryCount / verifySeconds,
    };
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
}

/** A realistic entry: ids, digests and metadata, as the gateway writes them. */
function event(i: number, caseId: string, received = false): Parameters<typeof appendEntry>[1] {
  const digest = createHash("sha256").update(`envelope ${i}`).digest("hex");
  if (received) {
    return {
      kind: "envelope.received",
      actor: `peer:${PEER}`,
      time: new Date(),
      caseId,
      envelopeId: envelopeIdOf(i),
      envelopeDigest: digest,
      details: { type: "status-update", from: PEER, signerKid: "bench", signer: digest },
    };
  }
  return {
    kind: i % 2 === 0 ? "envelope.sent" : "access.read",
    actor: "token:case-management",
    time: new Date(),
    caseId,
    envelopeId: randomUUID(),
    envelopeDigest: digest,
    details: { type: "status-update", to: PEER, priority: "normal" },
  };
}

function envelopeIdOf(i: number): string {
  const hex = createHash("sha256").update(`id ${i}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function insertEnvelope(tx: Tx, caseId: string, i: number): Promise<void> {
  const time = new Date().toISOString();
  const digest = createHash("sha256").update(`envelope ${i}`).digest("hex");
  return tx.envelopes.insert({ envelopeId: envelopeIdOf(i), caseId, direction: "inbound", type: "status-update", from: PEER, to: "GB-UKCA", inReplyTo: null, createdAt: time, storedAt: time, digest, signerKid: "bench", wire: "{}", document: "{}" });
}

/** The figures as table lines. */
export function formatAuditBench(result: AuditBench, options: BenchAuditOptions): string {
  return [
    `   durable appends, group commit (${options.concurrency} callers):  ${result.batchedAppendsPerSecond.toFixed(0)} appends/s`,
    `   durable appends, one commit each:           ${result.unbatchedAppendsPerSecond.toFixed(0)} appends/s (${options.unbatched} appends; the disk's fsync rate)`,
    `   valise audit export:                        ${result.exportSeconds.toFixed(2)} s (${(result.exportBytes / 1e6).toFixed(1)} MB)`,
    `   valise audit verify:                        ${result.verifySeconds.toFixed(2)} s for ${result.entries} entries, ${result.checkpoints} checkpoints, ${result.receipts} receipts → ${result.verifiedEntriesPerSecond.toFixed(0)} entries/s`,
  ].join("\n");
}

/** The command that reproduces the run. */
export function auditBenchCommand(options: BenchAuditOptions): string {
  return `npx tsx scripts/bench/audit.ts --entries ${options.entries} --receipt-every ${options.receiptShare}`;
}

/** The default run: 100,000 entries. */
export const DEFAULT_AUDIT_BENCH: BenchAuditOptions = { entries: 100_000, concurrency: 512, checkpointEvery: 1000, receiptShare: 5, unbatched: 500 };

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const flag = (name: string): number | undefined => {
    const index = process.argv.indexOf(`--${name}`);
    return index === -1 ? undefined : Number(process.argv[index + 1]);
  };
  const options = {
    ...DEFAULT_AUDIT_BENCH,
    ...(flag("entries") === undefined ? {} : { entries: flag("entries")! }),
    ...(flag("receipt-every") === undefined ? {} : { receiptShare: flag("receipt-every")! }),
    progress: (line: string) => process.stderr.write(`  … ${line}\n`),
  };
  console.log(formatAuditBench(await benchAudit(options), options));
}
