/**
 * Envelope throughput: seal and open of a 2 KiB document, many operations in
 * flight, per PKI profile, on a throwaway PKI made for the run.
 *
 * Run: `npx tsx scripts/bench/envelope.ts [--count N] [--concurrency N] [--profiles ed25519,p256] [--operations seal,open,open-uncached]`
 */
import { pathToFileURL } from "node:url";
import { createRootCertificate, issueCertificate, type ParsedCertificate } from "../../pki/certificate.js";
import { createCrl } from "../../pki/crl.js";
import { generateKeyPair, jwkThumbprint } from "../../pki/keys.js";
import type { Profile } from "../../pki/profiles.js";
import { openEnvelope, sealEnvelope, type AuthorityTrust, type SealedEnvelope } from "../../gateway/envelope/index.js";

/** Options of {@link benchEnvelopes}. */
export interface BenchEnvelopeOptions {
  /** Profiles to measure (default ed25519 and p256). */
  readonly profiles?: readonly Profile[];
  /** Envelopes per operation and profile (default 2000). */
  readonly count?: number;
  /** Operations in flight at once (default 64). */
  readonly concurrency?: number;
  /** Size of the document's JSON text, in bytes (default 2048). */
  readonly documentBytes?: number;
  /** Operations to measure (default all; `seal` always runs, the opens need its envelopes). */
  readonly operations?: readonly BenchEnvelopeResult["operation"][];
}

/** One measured row. */
export interface BenchEnvelopeResult {
  readonly profile: Profile;
  /** `open` reuses a certificate cache as a gateway does; `open-uncached` parses the signer certificate every time. */
  readonly operation: "seal" | "open" | "open-uncached";
  readonly count: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly perSecond: number;
}

/** The command that reproduces a run with these options. */
export function benchCommand(options: BenchEnvelopeOptions = {}): string {
  const { profiles = ["ed25519", "p256"], count = 2000, concurrency = 64 } = options;
  return `npx tsx scripts/bench/envelope.ts --count ${count} --concurrency ${concurrency} --profiles ${profiles.join(",")}`;
}

async function authority(id: string, profile: Profile, now: Date) {
  const rootPair = generateKeyPair(profile, "root");
  const root = await createRootCertificate({ authority: id, ...rootPair, now });
  const issuer = { certificate: root, privateKey: rootPair.privateKey };
  const signPair = generateKeyPair(profile, "sign");
  const encryptPair = generateKeyPair(profile, "encrypt");
  const sign = await issueCertificate({ issuer, use: "sign", publicKey: signPair.publicKey, now });
  await issueCertificate({ issuer, use: "encrypt", publicKey: encryptPair.publicKey, now });
  const crl = await createCrl({ issuer, crlNumber: 1, entries: [], now });
  return {
    id,
    trust: { root, crl } as AuthorityTrust,
    signer: { privateKey: signPair.privateKey, certificates: [sign, root], kid: await jwkThumbprint(signPair.publicKey) },
    recipient: { publicKey: encryptPair.publicKey, kid: await jwkThumbprint(encryptPair.publicKey) },
    decryptionKeys: [{ kid: await jwkThumbprint(encryptPair.publicKey), privateKey: encryptPair.privateKey }],
  };
}

/** Run `count` tasks with at most `concurrency` in flight; seconds elapsed. */
async function timed(count: number, concurrency: number, task: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Measure seal and open throughput (envelopes per second) per profile.
 *
 * @example
 * const rows = await benchEnvelopes({ count: 500 });
 */
export async function benchEnvelopes(options: BenchEnvelopeOptions = {}): Promise<BenchEnvelopeResult[]> {
  const { profiles = ["ed25519", "p256"], count = 2000, concurrency = 64, documentBytes = 2048, operations } = options;
  const results: BenchEnvelopeResult[] = [];
  for (const profile of profiles) {
    const now = new Date();
    const [gb, us] = await Promise.all([authority("GB-UKCA", profile, now), authority("US-DOJ-OIA", profile, now)]);
    const skeleton = { kind: "mla-request", facts: "" };
    const document = { ...skeleton, facts: "x".repeat(Math.max(0, documentBytes - JSON.stringify(skeleton).length)) };
    const sealed: SealedEnvelope[] = new Array(count);
    const seal = (index: number) =>
      sealEnvelope({
        document,
        type: "mla-request",
        from: gb.id,
        to: us.id,
        caseId: "3f0e9a52-1c1e-4d0a-9b7e-0c5a2f4b9d11",
        priority: "normal",
        createdAt: now.toISOString(),
        signer: gb.signer,
        recipient: us.recipient,
      }).then((result) => {
        sealed[index] = result;
      });
    await timed(Math.min(count, 32), concurrency, seal); // warm-up (JIT, key import caches)
    const sealSeconds = await timed(count, concurrency, seal);
    results.push({ profile, operation: "seal", count, concurrency, seconds: sealSeconds, perSecond: count / sealSeconds });

    const trustFor = (id: string) => (id === gb.id ? gb.trust : undefined);
    const parsedCertificates = new Map<string, ParsedCertificate>();
    for (const [operation, cache] of [
      ["open", parsedCertificates],
      ["open-uncached", undefined],
    ] as const) {
      if (operations !== undefined && !operations.includes(operation)) continue;
      const open = (index: number) =>
        openEnvelope((sealed[index] as SealedEnvelope).bytes, {
          self: us.id,
          decryptionKeys: us.decryptionKeys,
          trustFor,
          now,
          parsedCertificates: cache,
        });
      const seconds = await timed(count, concurrency, open);
      results.push({ profile, operation, count, concurrency, seconds, perSecond: count / seconds });
    }
  }
  return results;
}

/** The results as a small fixed-width table. */
export function formatBenchTable(results: readonly BenchEnvelopeResult[]): string {
  const lines = ["profile    operation      envelopes  in flight  seconds  envelopes/s"];
  for (const row of results) {
    lines.push(
      [
        row.profile.padEnd(9),
        row.operation.padEnd(13),
        String(row.count).padStart(9),
        String(row.concurrency).padStart(10),
        row.seconds.toFixed(2).padStart(8),
        row.perSecond.toFixed(0).padStart(12),
      ].join("  "),
    );
  }
  return lines.join("\n");
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options: BenchEnvelopeOptions = {
    count: Number(argument("count") ?? 2000),
    concurrency: Number(argument("concurrency") ?? 64),
    profiles: (argument("profiles") ?? "ed25519,p256").split(",") as Profile[],
    ...(argument("operations") === undefined ? {} : { operations: argument("operations")!.split(",") as BenchEnvelopeResult["operation"][] }),
  };
  const results = await benchEnvelopes(options);
  console.log(`Envelope seal/open throughput, 2 KiB document (node ${process.version}, ${process.platform}/${process.arch})`);
  console.log(formatBenchTable(results));
  console.log(`\nReproduce: ${benchCommand(options)}`);
}
