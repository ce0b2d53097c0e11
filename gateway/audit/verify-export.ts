/**
 * Offline verification of an audit export (schemas/audit-export.schema.json)
 * from trust material received out of band. Pure: the export, the trusted
 * bundles and `now` are arguments; no network, no database.
 *
 * The export is hostile: it comes from the gateway being audited, which may
 * have rewritten its own history. Only the trusted bundles decide which log
 * key, sign key and witness keys count; the bundles inside the export are
 * ignored. The checks:
 * - the entries sit at indices 0..n-1 in order (a deleted, inserted or
 *   reordered row shows here);
 * - the RFC 9162 tree recomputed from the entries has, at every signed
 *   checkpoint's size, that checkpoint's root; every checkpoint (those
 *   stored and those inside issued receipts) carries a valid signature of a
 *   trusted log key, no checkpoint is larger than the log (truncation), and
 *   consecutive checkpoints are consistent;
 * - cosignatures verify against the witnesses' log keys when their bundles
 *   are trusted (others are counted as unverified, not failures);
 * - receipts we issued are signed by our sign key, their log entry is the
 *   entry at that index and their inclusion proof leads to a signed root;
 *   receipts we hold verify against the peer's trusted bundle when given.
 * Every failure is a finding at a log index; the one at the lowest index is
 * reported (AUDIT_VERIFY_FAILED, details `{index, reason}`).
 *
 * Every entry must be covered by a checkpoint signed by a trusted log key:
 * an entry after the largest one is signed by nothing, so anyone with the
 * file could have added or edited it. Such a tail is refused
 * (AUDIT_VERIFY_UNSIGNED, naming the range) unless the auditor accepts it
 * explicitly (`allowUnsignedTail`), and then the report names the range.
 *
 * Signatures are judged at the time they were made: a receipt signer is
 * checked at the receipt's `receivedAt` against the newest trusted CRL, and
 * a key revoked later (or, for keyCompromise, untrusted from its invalidity
 * date on) leaves earlier receipts valid. No check of history depends on a
 * CRL still being current, so an export verifies as well in a year as today.
 * (The signing time is the one the signature states; whoever holds a
 * compromised key can back-date it, which is why keyCompromise entries carry
 * an invalidity date as early as the operator suspects.)
 */
import type { KeyObject } from "node:crypto";
import { GatewayError } from "../errors.js";
import { isValiseError } from "../../pki/errors.js";
import { decodeTrustBundle, verifyTrustBundle, type TrustBundleContents } from "../../pki/bundle.js";
import { normalizeFingerprint, parseCertificatePem, type ParsedCertificate } from "../../pki/certificate.js";
import { PkiError } from "../../pki/errors.js";
import { canonicalize } from "../envelope/canonical-json.js";
import { verifyReceipt, type Receipt } from "../envelope/receipt.js";
import { documentValidator } from "../../schemas/validate.js";
import type { AuditEntry } from "./append.js";
import { checkpointOrigin, verifyCheckpoint } from "./checkpoint.js";
import { verifyLogPosition } from "./checkpoints.js";
import { VALISE_WITNESS_PREFIX, verifyCosignature } from "./cosignature.js";
import type { AuditExport, ExportedReceipt } from "./export.js";
import { decodeBase64Strict } from "./base64.js";
import { consistencyProof, leafHash } from "./merkle.js";
import { verifyConsistency } from "./merkle-verify.js";
import { InMemoryTree } from "./merkle-tree.js";
import { appendSignatureLines } from "./note.js";
import { noteOrigin } from "./epoch-origin.js";
import { EPOCH_STATEMENT_KIND, statementOf } from "./epoch-statement.js";

/** Trust material of an audit: bundles received out of band, already verified. */
export interface AuditTrust {
  readonly bundles: readonly TrustBundleContents[];
}

/** What verification established. */
export interface AuditVerifyReport {
  readonly authority: string;
  readonly origin: string;
  readonly entries: number;
  /** Base64 root hash of all entries. */
  readonly rootHash: string;
  readonly checkpoints: { readonly verified: number; readonly largestSize: number };
  /** Entries after the largest signed checkpoint: present, but signed by nothing (0 unless `allowUnsignedTail`). */
  readonly unsignedEntries: number;
  /** Their indices, `from` to `to` inclusive, or null when every entry is covered. */
  readonly unsignedRange: { readonly from: number; readonly to: number } | null;
  readonly cosignatures: { readonly verified: number; readonly unverified: number; readonly witnesses: readonly string[]; readonly unverifiedWitnesses: readonly string[] };
  readonly receipts: { readonly issued: number; readonly heldVerified: number; readonly heldUnverified: number; readonly unverifiedPeers: readonly string[] };
  /**
   * The epochs of the log, oldest first: epoch 1 from index 0, each later one
   * opened by its statement entry, with the range of the previous epoch it
   * declares lost (null: none; `forced` when started without a loss).
   */
  readonly epochs: ReadonlyArray<{
    readonly epoch: number;
    readonly origin: string;
    readonly statementIndex: number | null;
    readonly checkpoints: number;
    readonly lost: { readonly from: number; readonly to: number; readonly count: number } | null;
    readonly forced: boolean;
  }>;
  /** Epochs of peers' logs this authority accepted as their witness (`log.epoch.accepted` entries), with the losses they declared. */
  readonly peerEpochs: ReadonlyArray<{ readonly index: number; readonly peer: string; readonly origin: string; readonly lost: { readonly from: number; readonly to: number; readonly count: number } | null; readonly forced: boolean }>;
}

/** What the auditor accepts beyond the default. */
export interface AuditVerifyOptions {
  /** Accept entries after the largest signed checkpoint (reported, not refused). */
  readonly allowUnsignedTail?: boolean;
}

/** One problem found, at the log index it concerns. */
export interface AuditFinding {
  readonly index: number;
  readonly reason: string;
}

/**
 * Verifies the bundles an auditor was given (`--trust`), each against its own
 * root, or against one of `fingerprints` when given (then every bundle must
 * match one). Each is judged as of its `issuedAt` (its signer valid then, its
 * CRL signed by the root but not necessarily still current): a bundle is a
 * record an auditor keeps, and must not stop working when its CRL's
 * nextUpdate passes. Throws PKI_* codes (e.g. PKI_FINGERPRINT_MISMATCH, PKI_BUNDLE_SIGNATURE).
 */
export async function trustFromBundles(files: readonly unknown[], options: { fingerprints?: readonly string[]; now: Date }): Promise<AuditTrust> {
  const pins = (options.fingerprints ?? []).map(normalizeFingerprint);
  const bundles: TrustBundleContents[] = [];
  for (const file of files) {
    const own = parseCertificatePem(decodeTrustBundle(file).payload.root).fingerprint256;
    if (pins.length > 0 && !pins.includes(own)) {
      throw new PkiError("PKI_FINGERPRINT_MISMATCH", "A trusted bundle's root matches none of the fingerprints given.", { details: { expected: pins, actual: own } });
    }
    bundles.push(await verifyTrustBundle(file, { fingerprint: own, now: options.now, historical: true }));
  }
  return { bundles };
}

/**
 * Verifies an audit export against `trust` at `now`. Returns the report, or
 * throws AUDIT_VERIFY_FAILED (details: `index`, `reason`, `findings`: count,
 * `first`: up to 20 findings by index), AUDIT_VERIFY_UNSIGNED (entries no
 * trusted checkpoint covers; details `from`, `to`, `count`, `signedSize`),
 * AUDIT_EXPORT_INVALID (not an export), AUDIT_TRUST_MISSING (no trusted
 * bundle of the exporting authority).
 *
 * @example
 * const trust = await trustFromBundles([usBundle, gbBundle], { now });
 * const report = await verifyAuditExport(JSON.parse(text), trust, now);
 */
export async function verifyAuditExport(input: unknown, trust: AuditTrust, now: Date, options: AuditVerifyOptions = {}): Promise<AuditVerifyReport> {
  const exported = checkShape(input);
  const { authority, entries } = exported;
  const origin = checkpointOrigin(authority);
  if (exported.origin !== origin) throw new GatewayError("AUDIT_EXPORT_INVALID", `the export's origin is not ${origin}`, { details: { origin: exported.origin } });
  const own = bundlesOf(trust, authority);
  if (own.length === 0) {
    throw new GatewayError("AUDIT_TRUST_MISSING", `no trusted bundle of ${authority} was given (--trust); the bundles inside the export are not trusted`, {
      details: { authority, trusted: [...new Set(trust.bundles.map((b) => b.authority))] },
    });
  }
  const logKeys = logKeysOf(own);
  const findings: AuditFinding[] = [];
  const n = entries.length;

  // Positions: a deleted, inserted or reordered row leaves an entry at a position that is not its index.
  for (let i = 0; i < n; i++) {
    if (entries[i]!.index !== i) {
      findings.push({ index: i, reason: `the entry at position ${i} records index ${entries[i]!.index} (an entry was deleted, inserted or moved)` });
      break;
    }
  }

  // Receipts start first: their signatures are checked on WebCrypto's thread
  // pool while this thread hashes the entries. Signer certificates repeat
  // across receipts, so each is parsed once (path validation still runs for
  // every receipt).
  const ownTrust = newest(own);
  const certificates = new Map<string, ParsedCertificate>();
  const issuedChecks = mapConcurrently(exported.receipts.issued, (r) => verifiedReceipt(r, authority, ownTrust, now, certificates));
  const peerNotes = new Map<string, { size: number; root: Buffer }>();
  const heldChecks = mapConcurrently(exported.receipts.held, async (r) => {
    const bundles = bundlesOf(trust, r.to);
    if (bundles.length === 0) return null;
    const checked = await verifiedReceipt(r, r.to, newest(bundles), now, certificates);
    if (typeof checked === "string" || checked.log === undefined) return typeof checked === "string" ? checked : undefined;
    try {
      verifyLogPosition(checked.log, { receiver: r.to, envelopeId: r.envelopeId, envelopeDigest: r.envelopeDigest, logKeys: logKeysOf(bundles), verifiedNotes: peerNotes });
      return undefined;
    } catch (error) {
      return codeOf(error);
    }
  });

  // Each entry's canonical form is kept: receipts' entries are compared with it.
  const canonical: string[] = new Array<string>(n);
  const leaves: Buffer[] = new Array<Buffer>(n);
  for (let i = 0; i < n; i++) {
    canonical[i] = canonicalize(entries[i]);
    leaves[i] = leafHash(Buffer.from(canonical[i]!, "utf8"));
    if (i % 2048 === 2047) await new Promise<void>((resolve) => setImmediate(resolve)); // let receipt checks proceed
  }
  const tree = InMemoryTree.fromLeafHashes(leaves);
  // The hinted leaves are only needed to name a changed entry: built on the first mismatch.
  let hints: InMemoryTree | undefined | null = null;
  const hinted = (): InMemoryTree | undefined => (hints === null ? (hints = hintTree(exported.leafHashes, n)) : hints);

  // Epochs: each later epoch is opened by its statement entry; its checkpoints carry its origin and are larger than the statement's index.
  const epochs: Array<{ epoch: number; origin: string; start: number; statementIndex: number | null; lost: { from: number; to: number; count: number } | null; forced: boolean; checkpoints: number }> = [
    { epoch: 1, origin, start: 0, statementIndex: null, lost: null, forced: false, checkpoints: 0 },
  ];
  const peerEpochs: Array<{ index: number; peer: string; origin: string; lost: { from: number; to: number; count: number } | null; forced: boolean }> = [];
  for (const entry of entries) {
    if (entry.kind === "log.epoch.accepted") {
      const d = entry.details as { peer?: unknown; origin?: unknown; lost?: { from: number; to: number; count: number } | null; forced?: unknown };
      peerEpochs.push({ index: entry.index, peer: String(d.peer), origin: String(d.origin), lost: d.lost ?? null, forced: d.forced === true });
    }
    if (entry.kind !== EPOCH_STATEMENT_KIND) continue;
    const last = epochs.at(-1)!;
    let statement;
    try {
      statement = statementOf(entry);
    } catch (error) {
      findings.push({ index: entry.index, reason: `the epoch statement at index ${entry.index} is malformed (${codeOf(error)})` });
      continue;
    }
    const at = entry.index;
    const problem =
      statement.epoch !== last.epoch + 1 || statement.previousOrigin !== last.origin || statement.origin !== `${origin}/epoch-${statement.epoch}`
        ? `it does not follow ${last.origin} as epoch ${last.epoch + 1}`
        : statement.held.size !== at || tree.root(at).toString("base64") !== statement.held.root
          ? "the entries before it are not the ones it says it holds"
          : statement.anchor !== null && (statement.anchor.size > at || tree.root(statement.anchor.size).toString("base64") !== statement.anchor.root)
            ? "its anchor is not a prefix of the entries it holds"
            : statement.restored !== null && statement.restored.size <= at && tree.root(statement.restored.size).toString("base64") !== statement.restored.root
              ? "the restored entries it names are not the ones before it"
              : undefined;
    if (problem !== undefined) {
      findings.push({ index: at, reason: `the epoch statement at index ${at} does not verify: ${problem}` });
      continue;
    }
    epochs.push({ epoch: statement.epoch, origin: statement.origin, start: at, statementIndex: at, lost: statement.lost, forced: statement.forced, checkpoints: 0 });
  }
  /** The epoch a checkpoint note of `size` belongs to by its origin, or why it fits none. */
  const epochOf = (note: string, size: number): { epoch: (typeof epochs)[number] } | { problem: string } => {
    const claimed = noteOrigin(note);
    const i = epochs.findIndex((e) => e.origin === claimed);
    if (i < 0) return { problem: `names ${claimed.slice(0, 80)}, no epoch of this log` };
    const epoch = epochs[i]!;
    const next = epochs[i + 1];
    if (epoch.epoch > 1 && size <= epoch.start) return { problem: `is of ${epoch.origin} but no larger than its statement's index` };
    if (next !== undefined && size > next.start) return { problem: `is of ${epoch.origin}, frozen at index ${next.start} by the statement of ${next.origin}` };
    return { epoch };
  };

  // Checkpoints: stored ones and those our issued receipts carry (the peer holds those).
  const issued = (await issuedChecks).map((checked, i) => ({ exported: exported.receipts.issued[i]!, checked }));
  const notes = new Map<string, string>(); // note → where it came from
  for (const c of exported.checkpoints) notes.set(c.note, `stored checkpoint of size ${c.size}`);
  for (const { exported: r, checked } of issued) {
    if (typeof checked !== "string" && checked.log !== undefined && !notes.has(checked.log.checkpoint)) notes.set(checked.log.checkpoint, `checkpoint in the receipt for ${r.envelopeId}`);
  }
  const signed: Array<{ size: number; root: Buffer; source: string }> = [];
  const ownNotes = new Map<string, { size: number; rootHash: Buffer } | Error>(); // each note's signature is checked once
  for (const [note, source] of notes) {
    const claimedSize = sizeLine(note) ?? 0;
    const placed = epochOf(note, claimedSize);
    if ("problem" in placed) {
      ownNotes.set(note, new GatewayError("AUDIT_ORIGIN_MISMATCH", placed.problem));
      findings.push({ index: Math.max(0, Math.min(claimedSize, n) - 1), reason: `the ${source} ${placed.problem}` });
      continue;
    }
    const verified = verifyWithAny(logKeys, (publicKey) => verifyCheckpoint(note, { origin: placed.epoch.origin, publicKey }).checkpoint);
    ownNotes.set(note, verified);
    if (verified instanceof Error) {
      const size = sizeLine(note);
      findings.push({ index: Math.max(0, Math.min(size ?? n, n) - 1), reason: `the ${source} is not signed by a trusted log key of ${authority} (${codeOf(verified)})` });
      continue;
    }
    signed.push({ size: verified.size, root: verified.rootHash, source });
    placed.epoch.checkpoints += 1;
  }
  for (const c of exported.checkpoints) {
    if (sizeLine(c.note) !== c.size) findings.push({ index: Math.max(0, Math.min(c.size, n) - 1), reason: `the stored checkpoint of size ${c.size} states another size in its note` });
  }
  signed.sort((a, b) => a.size - b.size);
  let good = { size: 0, root: tree.root(0) };
  for (const checkpoint of signed) {
    if (checkpoint.size > n) {
      findings.push({ index: n, reason: `the log was truncated: the ${checkpoint.source} covers ${checkpoint.size} entries, the export holds ${n}` });
      break;
    }
    if (!tree.root(checkpoint.size).equals(checkpoint.root)) {
      const hintedTree = hinted();
      const exact = hintedTree === undefined ? undefined : firstDifferingLeaf(hintedTree, leaves, good.size, checkpoint.size, checkpoint.root);
      findings.push(
        exact === undefined
          ? { index: good.size, reason: `the first ${checkpoint.size} entries do not hash to the root of the ${checkpoint.source}: an entry from index ${good.size} on was changed, removed or replaced` }
          : { index: exact, reason: `entry ${exact} differs from the entry the ${checkpoint.source} commits to` },
      );
      break;
    }
    // Two signed checkpoints of one log must be consistent: equal roots here, so the proof holds (checked anyway).
    verifyConsistency(good.size, checkpoint.size, good.root, checkpoint.root, consistencyProof(tree, good.size, checkpoint.size));
    good = checkpoint;
  }

  // Cosignatures: by witnesses the auditor trusts, they must verify.
  const cosigners = new Set<string>();
  const unverifiedWitnesses = new Set<string>();
  let cosignaturesVerified = 0;
  let cosignaturesUnverified = 0;
  for (const c of exported.checkpoints) {
    for (const cosignature of c.cosignatures) {
      const witness = cosignature.witness.slice(VALISE_WITNESS_PREFIX.length);
      const bundles = bundlesOf(trust, witness);
      if (bundles.length === 0) {
        cosignaturesUnverified += 1;
        unverifiedWitnesses.add(cosignature.witness);
        continue;
      }
      const verified = verifyWithAny(logKeysOf(bundles), (publicKey) =>
        verifyCosignature(appendSignatureLines(c.note, cosignature.line), { name: cosignature.witness, publicKey }),
      );
      if (verified instanceof Error) {
        findings.push({ index: Math.max(0, Math.min(c.size, n) - 1), reason: `the cosignature of ${cosignature.witness} on the checkpoint of size ${c.size} does not verify (${codeOf(verified)})` });
        continue;
      }
      cosignaturesVerified += 1;
      cosigners.add(cosignature.witness);
    }
  }

  // Receipts we issued: signed (checked above) and placing the envelope's
  // entry in our log. Their checkpoint note was verified with the others and
  // its root is the root of the exported entries; with the attested entry
  // equal to the exported one, that is the inclusion the proof claims,
  // established without hashing every proof again.
  const entryIndexOf = indexByEnvelope(entries);
  for (const { exported: r, checked } of issued) {
    const at = Math.min(entryIndexOf.get(`envelope.received ${r.envelopeId}`) ?? (typeof checked === "string" ? undefined : checked.log?.index) ?? n, n);
    const failure = typeof checked === "string" ? checked : ownPositionFailure(checked, r, epochs.map((e) => e.origin), ownNotes);
    if (failure !== undefined) {
      findings.push({ index: at, reason: `the receipt issued for envelope ${r.envelopeId} does not verify (${failure})` });
      continue;
    }
    const position = (checked as Receipt).log;
    if (position === undefined) continue;
    const entry = canonical[position.index];
    if (entry === undefined) {
      findings.push({ index: n, reason: `the receipt issued for envelope ${r.envelopeId} places it at index ${position.index}, beyond the log (truncated)` });
    } else if (position.entry === undefined || canonicalize(position.entry) !== entry) {
      findings.push({ index: position.index, reason: `entry ${position.index} differs from the entry the receipt for envelope ${r.envelopeId} attests` });
    }
  }
  // Receipts we hold: the peer's signature, and its log position against its log key.
  let heldVerified = 0;
  const unverifiedPeers = new Set<string>();
  const heldFailures = await heldChecks;
  for (const [i, r] of exported.receipts.held.entries()) {
    const failure = heldFailures[i];
    if (failure === null) {
      unverifiedPeers.add(r.to);
      continue;
    }
    if (failure !== undefined) {
      const at = entryIndexOf.get(`receipt.received ${r.envelopeId}`) ?? entryIndexOf.get(`envelope.sent ${r.envelopeId}`) ?? n;
      findings.push({ index: at, reason: `the receipt of ${r.to} held for envelope ${r.envelopeId} does not verify (${failure})` });
      continue;
    }
    heldVerified += 1;
  }

  if (findings.length > 0) {
    const sorted = [...findings].sort((a, b) => a.index - b.index);
    const first = sorted[0]!;
    throw new GatewayError("AUDIT_VERIFY_FAILED", `the audit log of ${authority} does not verify at index ${first.index}: ${first.reason}`, {
      details: { index: first.index, reason: first.reason, findings: sorted.length, first: sorted.slice(0, 20) },
    });
  }
  const largest = signed.at(-1)?.size ?? 0;
  const unsignedRange = n > largest ? { from: largest, to: n - 1 } : null;
  if (unsignedRange !== null && options.allowUnsignedTail !== true) {
    throw new GatewayError(
      "AUDIT_VERIFY_UNSIGNED",
      `the audit log of ${authority} is not fully signed: entries ${describeRange(unsignedRange)} are covered by no checkpoint signed by a trusted log key, so nothing proves what they held (the largest signed checkpoint covers ${largest} entries)`,
      { details: { from: unsignedRange.from, to: unsignedRange.to, count: n - largest, signedSize: largest } },
    );
  }
  return {
    authority,
    origin,
    entries: n,
    rootHash: tree.root().toString("base64"),
    checkpoints: { verified: signed.length, largestSize: largest },
    unsignedEntries: n - largest,
    unsignedRange,
    cosignatures: { verified: cosignaturesVerified, unverified: cosignaturesUnverified, witnesses: [...cosigners].sort(), unverifiedWitnesses: [...unverifiedWitnesses].sort() },
    receipts: { issued: issued.length, heldVerified, heldUnverified: exported.receipts.held.length - heldVerified, unverifiedPeers: [...unverifiedPeers].sort() },
    epochs: epochs.map((e) => ({ epoch: e.epoch, origin: e.origin, statementIndex: e.statementIndex, checkpoints: e.checkpoints, lost: e.lost, forced: e.forced })),
    peerEpochs,
  };
}

/** `12` or `12 to 14`. */
export function describeRange(range: { readonly from: number; readonly to: number }): string {
  return range.from === range.to ? `${range.from}` : `${range.from} to ${range.to}`;
}

/** Schema check; an entry that breaks the audit-entry schema is a finding at its index. */
function checkShape(input: unknown): AuditExport {
  const result = documentValidator().validateDocument("audit-export", input);
  if (result.valid) return input as AuditExport;
  const entryErrors = result.errors.map((e) => /^\/entries\/(\d+)(\/|$)/.exec(e.path)).filter((m) => m !== null);
  if (entryErrors.length === result.errors.length) {
    const index = Math.min(...entryErrors.map((m) => Number(m[1])));
    const reason = `entry ${index} is not a well-formed audit entry (${result.errors.find((e) => e.path.startsWith(`/entries/${index}`))?.message ?? "schema"})`;
    throw new GatewayError("AUDIT_VERIFY_FAILED", `the audit log does not verify at index ${index}: ${reason}`, { details: { index, reason, findings: 1, first: [{ index, reason }] } });
  }
  throw new GatewayError("AUDIT_EXPORT_INVALID", "the file is not a Valise audit export (schemas/audit-export.schema.json)", {
    details: { errors: result.errors.slice(0, 50).map(({ path, code, message }) => ({ path, code, message })) },
  });
}

function bundlesOf(trust: AuditTrust, authority: string): TrustBundleContents[] {
  return trust.bundles.filter((b) => b.authority === authority);
}

function newest(bundles: readonly TrustBundleContents[]): TrustBundleContents {
  return [...bundles].sort((a, b) => b.issuedAt.getTime() - a.issuedAt.getTime())[0]!;
}

/** Current and previous `log` keys of every bundle given (several bundles: keys rotated since). */
function logKeysOf(bundles: readonly TrustBundleContents[]): KeyObject[] {
  const seen = new Map<string, KeyObject>();
  for (const bundle of bundles) {
    for (const c of bundle.certificates) if (c.use === "log") seen.set(c.certificate.fingerprint256, c.certificate.publicKey);
  }
  return [...seen.values()];
}

/** The first key's result that does not fail with AUDIT_SIGNATURE_INVALID (other keys may have signed), or the last error. */
function verifyWithAny<T>(keys: readonly KeyObject[], check: (publicKey: KeyObject) => T): T | Error {
  let last: Error = new GatewayError("AUDIT_SIGNATURE_INVALID", "no trusted log key");
  for (const key of keys) {
    try {
      return check(key);
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error));
      if (codeOf(error) !== "AUDIT_SIGNATURE_INVALID") return last;
    }
  }
  return last;
}

function codeOf(error: unknown): string {
  return isValiseError(error) ? error.code : error instanceof Error ? error.message : String(error);
}

/** The size line of a checkpoint note, unverified (for naming an index only). */
function sizeLine(note: string): number | undefined {
  const line = note.split("\n")[1];
  return line !== undefined && /^(0|[1-9][0-9]{0,15})$/.test(line) ? Number(line) : undefined;
}

/** The verified receipt, or why it fails (its signature, signer or envelope). */
async function verifiedReceipt(
  r: ExportedReceipt,
  signer: string,
  trust: TrustBundleContents,
  now: Date,
  parsedCertificates: Map<string, ParsedCertificate>,
): Promise<Receipt | string> {
  try {
    const { receipt } = await verifyReceipt(r.jws, {
      expected: { envelopeId: r.envelopeId, envelopeDigest: r.envelopeDigest, from: r.from, to: r.to },
      trustFor: (authority) => (authority === signer ? { root: trust.root, crl: trust.crl } : undefined),
      now,
      parsedCertificates,
      // History: the signer is judged at the receipt's receivedAt, not today.
      revocation: "at-signing-time",
    });
    return receipt.to === signer ? receipt : "signed for another authority";
  } catch (error) {
    return codeOf(error);
  }
}

/** Why an issued receipt's log position does not fit our log, or undefined. */
function ownPositionFailure(receipt: Receipt, r: ExportedReceipt, origins: readonly string[], notes: ReadonlyMap<string, { size: number; rootHash: Buffer } | Error>): string | undefined {
  const log = receipt.log;
  if (log === undefined) return undefined;
  if (!origins.includes(log.origin) || noteOrigin(log.checkpoint) !== log.origin) return "AUDIT_ORIGIN_MISMATCH";
  const verified = notes.get(log.checkpoint);
  if (verified === undefined || verified instanceof Error) return verified === undefined ? "AUDIT_SIGNATURE_INVALID" : codeOf(verified);
  const entry = log.entry as Partial<AuditEntry> | undefined;
  if (entry === undefined || entry.index !== log.index || entry.kind !== "envelope.received" || entry.envelopeId !== r.envelopeId || entry.envelopeDigest !== r.envelopeDigest) {
    return "RECEIPT_MISMATCH";
  }
  return log.index < verified.size ? undefined : "AUDIT_PROOF_INVALID";
}

/** `"<kind> <envelopeId>"` → index of the first such entry. */
function indexByEnvelope(entries: readonly AuditEntry[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const entry of entries) {
    if (entry.envelopeId === undefined) continue;
    const key = `${entry.kind} ${entry.envelopeId}`;
    if (!map.has(key)) map.set(key, entry.index);
  }
  return map;
}

/** The hinted leaf hashes as a tree, when there is one per entry and each decodes. */
function hintTree(hashes: readonly string[] | undefined, n: number): InMemoryTree | undefined {
  if (hashes === undefined || hashes.length !== n) return undefined;
  const tree = new InMemoryTree();
  for (const hash of hashes) {
    const bytes = decodeBase64Strict(hash);
    if (bytes === undefined || bytes.length !== 32) return undefined;
    tree.appendLeaf(bytes);
  }
  return tree;
}

/**
 * The first entry in [from, size) whose leaf differs from the hinted leaf,
 * when the hinted leaves reproduce the signed root (then they are the leaves
 * the log key signed, and the differing entry is proven to be the changed one).
 */
function firstDifferingLeaf(hints: InMemoryTree, leaves: readonly Buffer[], from: number, size: number, signedRoot: Buffer): number | undefined {
  if (hints.leafCount < size || !hints.root(size).equals(signedRoot)) return undefined;
  for (let i = from; i < size; i++) if (!hints.subtreeHash(i, 1).equals(leaves[i]!)) return i;
  return undefined;
}

/** `work` over every item, at most `limit` at a time; results in input order. */
async function mapConcurrently<T, R>(items: readonly T[], work: (item: T) => Promise<R>, limit = 64): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
