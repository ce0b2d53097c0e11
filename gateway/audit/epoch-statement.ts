/**
 * The statement that opens a log epoch, and its check by a witness.
 *
 * When a gateway's log lost entries (a restore from an older backup), the
 * log is not rewritten: like a Certificate Transparency log that lost data,
 * the old epoch is frozen and a new one starts, openly. The new epoch
 * continues the Merkle tree from the entries the database still holds (the
 * first `held.size`), under a new origin (`valise/<ID>/epoch-N`), and its
 * entry at index `held.size` is this statement (kind `log.epoch`): the last
 * checkpoint of the previous epoch the peers cosigned, what the restore
 * held, the range lost, whether it was forced, the time and the operator.
 * A checkpoint of the new epoch signed by the `log` key covers it.
 *
 * A witness is handed the statement, that checkpoint and three proofs:
 * inclusion of the statement, consistency from the held entries, and
 * consistency from the anchor — the largest checkpoint of the previous epoch
 * the database still holds, which the witness may have cosigned. The
 * submission is hostile (a gateway that lost data, or one hiding more than
 * it lost): it is parsed strictly and checked by {@link verifyEpochSubmission},
 * a pure function of the submission, the peer's keys and what this witness
 * cosigned. Its verdict is a refusal, never an alarm: a refused statement
 * leaves the witness's state as it was.
 */
import type { KeyObject } from "node:crypto";
import { GatewayError } from "../errors.js";
import { canonicalize, type JsonValue } from "../envelope/canonical-json.js";
import type { AuditEntry } from "./append.js";
import { decodeBase64Strict } from "./base64.js";
import { verifyCheckpoint, type VerifiedCheckpoint } from "./checkpoint.js";
import { epochOrigin, noteOrigin, parseLogOrigin } from "./epoch-origin.js";
import { leafHash } from "./merkle.js";
import { verifyConsistency, verifyInclusion } from "./merkle-verify.js";

/** Audit kind of the statement entry. */
export const EPOCH_STATEMENT_KIND = "log.epoch";

/** A tree head as the statement names it. */
export interface TreeHead {
  readonly size: number;
  /** Base64 root hash. */
  readonly root: string;
}

/** The statement's details (the entry's `details`). */
export interface EpochStatement {
  readonly epoch: number;
  readonly origin: string;
  readonly previousOrigin: string;
  /** The entries the new epoch continues from: indices 0 to size - 1; the statement sits at index `size`. */
  readonly held: TreeHead;
  /** What the restore brought back (the backup's log), when the home was restored. */
  readonly restored: (TreeHead & { readonly backupCreatedAt: string }) | null;
  /** The largest checkpoint of the previous epoch this database still holds (the peers may have cosigned it). */
  readonly anchor: TreeHead | null;
  /** The largest checkpoint of the previous epoch the peers reported cosigning, and who. */
  readonly previous: (TreeHead & { readonly cosignedBy: readonly string[] }) | null;
  /** Indices of the previous epoch this log no longer holds (or no longer holds as cosigned), inclusive. */
  readonly lost: { readonly from: number; readonly to: number; readonly count: number } | null;
  /** Started without a detected loss (`--force`): peers see it as such. */
  readonly forced: boolean;
  readonly reason: string;
  readonly operator: string;
  /** Peers that could not be asked what they cosigned. */
  readonly unreachable: readonly string[];
}

/** What a log submits to a witness to open an epoch. */
export interface EpochSubmission {
  /** The statement entry, as stored (canonical JSON of it is the leaf). */
  readonly entry: AuditEntry;
  /** A checkpoint of the new epoch covering the statement (signed note). */
  readonly checkpoint: string;
  /** Base64 hashes: inclusion of the entry; consistency from `held.size` and from `anchor.size` to the checkpoint. */
  readonly inclusionProof: readonly string[];
  readonly heldProof: readonly string[];
  readonly anchorProof: readonly string[];
  /**
   * Consistency from the size the witness reported cosigning in the previous
   * epoch (`cosignedSize`) to the checkpoint: how a statement that declares
   * no loss of what this witness cosigned shows that it holds all of it.
   */
  readonly cosignedSize?: number;
  readonly cosignedProof?: readonly string[];
}

/** What the witness knows of the peer's log before the submission. */
export interface WitnessView {
  /** The peer's authority (the TLS client). */
  readonly authority: string;
  /** Its `log` keys (current and previous). */
  readonly logKeys: readonly KeyObject[];
  /** The epoch this witness follows now, and its origin. */
  readonly current: { readonly epoch: number; readonly origin: string };
  /** The last checkpoint of that epoch this witness cosigned (size 0: none). */
  readonly cosigned: { readonly size: number; readonly root: Buffer };
  /** The root of a checkpoint of the previous epoch of the anchor's size that this witness recorded, if any. */
  readonly anchorRoot: Buffer | undefined;
}

/** A submission that verified. */
export interface VerifiedEpoch {
  readonly statement: EpochStatement;
  readonly checkpoint: VerifiedCheckpoint;
  readonly entry: AuditEntry;
}

/** Largest submission accepted (the statement, a checkpoint with cosignatures and three proofs fit easily). */
export const MAX_EPOCH_SUBMISSION_BYTES = 256 * 1024;

/** Parses a submission body strictly (AUDIT_EPOCH_INVALID). */
export function parseEpochSubmission(body: Buffer | string): EpochSubmission {
  if (body.length > MAX_EPOCH_SUBMISSION_BYTES) throw invalid("the submission is too large");
  let value: unknown;
  try {
    value = JSON.parse(typeof body === "string" ? body : new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw invalid("the submission is not JSON");
  }
  const s = value as Partial<EpochSubmission> | null;
  if (typeof s !== "object" || s === null || Array.isArray(s)) throw invalid("the submission is not an object");
  for (const key of Object.keys(s)) if (!["entry", "checkpoint", "inclusionProof", "heldProof", "anchorProof", "cosignedSize", "cosignedProof"].includes(key)) throw invalid(`unknown member ${key.slice(0, 40)}`);
  const proof = (p: unknown): p is string[] => Array.isArray(p) && p.length <= 64 && p.every((h) => typeof h === "string" && decodeBase64Strict(h)?.length === 32);
  if (typeof s.entry !== "object" || s.entry === null || typeof s.checkpoint !== "string" || !proof(s.inclusionProof) || !proof(s.heldProof) || !proof(s.anchorProof)) {
    throw invalid("the submission lacks its entry, checkpoint or proofs");
  }
  if ((s.cosignedProof !== undefined && !proof(s.cosignedProof)) || (s.cosignedSize !== undefined && !(Number.isSafeInteger(s.cosignedSize) && s.cosignedSize >= 0))) throw invalid("the cosigned proof is malformed");
  return s as EpochSubmission;
}

/**
 * Checks a submission against the witness's view of the peer's log:
 * - the checkpoint is signed by one of the peer's `log` keys under the
 *   origin of the next epoch (`current.epoch + 1`);
 * - the entry is a `log.epoch` statement of that epoch, naming the current
 *   origin as the previous one, at index `held.size`, and the inclusion
 *   proof leads from it to the checkpoint's root;
 * - the new epoch extends the held entries and the anchor (consistency
 *   proofs), and an anchor this witness recorded has the same root;
 * - it does not hide what this witness cosigned: the previous checkpoint it
 *   states is at least as large as the one cosigned here (and the same at
 *   that size), and when this witness cosigned entries the log no longer
 *   holds, the lost range covers them;
 * - an epoch without a loss is marked forced.
 * Throws AUDIT_EPOCH_INVALID (details.reason) for any failure.
 */
export function verifyEpochSubmission(submission: EpochSubmission, view: WitnessView): VerifiedEpoch {
  const nextEpoch = view.current.epoch + 1;
  const origin = epochOrigin(view.authority, nextEpoch);
  if (noteOrigin(submission.checkpoint) !== origin) throw invalid(`the checkpoint is not of ${origin}, the next epoch of ${view.authority}'s log`);
  let checkpoint: VerifiedCheckpoint | undefined;
  for (const publicKey of view.logKeys) {
    try {
      checkpoint = verifyCheckpoint(submission.checkpoint, { origin, publicKey });
      break;
    } catch {
      // another (rotated) key may have signed it
    }
  }
  if (checkpoint === undefined) throw invalid("the checkpoint is not signed by a log key of the peer");
  const entry = submission.entry;
  const statement = statementOf(entry);
  if (statement.epoch !== nextEpoch || statement.origin !== origin) throw invalid("the statement names another epoch than its checkpoint");
  if (statement.previousOrigin !== view.current.origin) throw invalid(`the statement does not follow ${view.current.origin}, the epoch this witness follows`);
  if (entry.index !== statement.held.size) throw invalid("the statement is not the first entry after the ones it holds");
  const size = checkpoint.checkpoint.size;
  const root = checkpoint.checkpoint.rootHash;
  const hashes = (proof: readonly string[]): Buffer[] => proof.map((hash) => decodeBase64Strict(hash)!);
  try {
    verifyInclusion(leafHash(Buffer.from(canonicalize(entry as unknown as JsonValue), "utf8")), entry.index, size, hashes(submission.inclusionProof), root);
  } catch {
    throw invalid("the statement is not the entry the new epoch's checkpoint commits to at its index");
  }
  proveExtends(statement.held, size, root, hashes(submission.heldProof), "the held entries");
  if (statement.anchor !== null) {
    if (statement.anchor.size > statement.held.size) throw invalid("the anchor is larger than the held entries");
    proveExtends(statement.anchor, size, root, hashes(submission.anchorProof), "the anchor checkpoint");
    if (view.anchorRoot !== undefined && !view.anchorRoot.equals(rootOf(statement.anchor))) throw invalid("the anchor differs from the checkpoint of that size this witness recorded");
  }
  // What this witness cosigned of the previous epoch is either declared lost, or held by the new epoch (proven).
  const cosigned = view.cosigned;
  if (cosigned.size > 0) {
    const previous = statement.previous;
    if (previous !== null && previous.size === cosigned.size && !rootOf(previous).equals(cosigned.root)) throw invalid("the statement's previous checkpoint differs from the one this witness cosigned at that size");
    const lost = statement.lost;
    const declared = previous !== null && previous.size >= cosigned.size && lost !== null && lost.from <= statement.held.size && lost.to >= cosigned.size - 1;
    if (!declared) {
      if (cosigned.size > statement.held.size) throw invalid(`the statement hides what this witness cosigned: ${cosigned.size} entries of ${view.current.origin}, more than the ${statement.held.size} held, and no loss of them`);
      if (submission.cosignedSize !== cosigned.size) throw invalid(`no proof that the new epoch holds the ${cosigned.size} entries this witness cosigned`);
      try {
        verifyConsistency(cosigned.size, size, cosigned.root, root, hashes(submission.cosignedProof ?? []));
      } catch {
        throw invalid(`the new epoch does not hold the ${cosigned.size} entries this witness cosigned, and the statement declares no loss of them`);
      }
    }
  }
  if (statement.lost === null && !statement.forced) throw invalid("a new epoch without a stated loss must be marked forced");
  return { statement, checkpoint, entry };
}

/** The statement of a `log.epoch` entry, checked for shape (AUDIT_EPOCH_INVALID). */
export function statementOf(entry: Partial<AuditEntry>): EpochStatement {
  if (entry.kind !== EPOCH_STATEMENT_KIND || typeof entry.index !== "number" || typeof entry.details !== "object" || entry.details === null) throw invalid("the entry is not a log.epoch statement");
  const d = entry.details as unknown as Partial<EpochStatement>;
  const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  const head = (h: unknown): h is TreeHead => typeof h === "object" && h !== null && count((h as TreeHead).size) && decodeBase64Strict(String((h as TreeHead).root))?.length === 32;
  if (!count(d.epoch) || typeof d.origin !== "string" || typeof d.previousOrigin !== "string" || parseLogOrigin(d.origin) === undefined || parseLogOrigin(d.previousOrigin) === undefined) {
    throw invalid("the statement's epoch or origins are malformed");
  }
  if (!head(d.held) || (d.restored !== null && !head(d.restored)) || (d.anchor !== null && !head(d.anchor)) || (d.previous !== null && !head(d.previous))) throw invalid("a tree head of the statement is malformed");
  const lost = d.lost;
  if (lost !== null && (typeof lost !== "object" || lost === undefined || !count(lost.from) || !count(lost.to) || lost.to < lost.from || lost.count !== lost.to - lost.from + 1)) throw invalid("the lost range is malformed");
  if (typeof d.forced !== "boolean" || typeof d.reason !== "string" || typeof d.operator !== "string" || !Array.isArray(d.unreachable)) throw invalid("the statement lacks forced, reason, operator or unreachable");
  return d as EpochStatement;
}

function proveExtends(head: TreeHead, size: number, root: Buffer, proof: Buffer[], what: string): void {
  if (head.size > size) throw invalid(`${what} are larger than the new epoch's checkpoint`);
  try {
    verifyConsistency(head.size, size, rootOf(head), root, proof);
  } catch {
    throw invalid(`the new epoch does not extend ${what} (size ${head.size})`);
  }
}

function rootOf(head: TreeHead): Buffer {
  return decodeBase64Strict(head.root) ?? Buffer.alloc(0);
}

function invalid(reason: string): GatewayError {
  return new GatewayError("AUDIT_EPOCH_INVALID", `the epoch statement is refused: ${reason}`, { details: { reason } });
}
