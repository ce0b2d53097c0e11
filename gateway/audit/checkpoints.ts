/**
 * Signed checkpoints of this gateway's audit log, and the log position a
 * receipt carries: the entry, a checkpoint that covers it and the inclusion
 * proof — so the sender holds the receiver's signed word that the envelope
 * is in its log, and the receiver cannot later drop it unnoticed.
 */
import type { KeyObject } from "node:crypto";
import type { Store } from "../store/store.js";
import { GatewayError } from "../errors.js";
import { canonicalize } from "../envelope/canonical-json.js";
import type { ReceiptLogPosition } from "../envelope/receipt.js";
import type { AuditEntry } from "./append.js";
import { verifyCheckpoint } from "./checkpoint.js";
import { epochOrigin, isOriginOf, noteOrigin } from "./epoch-origin.js";
import { currentEpoch } from "./epochs.js";
import { inclusionProof, leafHash } from "./merkle.js";
import { verifyInclusion } from "./merkle-verify.js";
import { withStoredTree } from "./stored-tree.js";

import { latestCheckpoint, signTreeHead, storedCheckpoint, type StoredCheckpoint } from "./signed-head.js";

export { latestCheckpoint, type StoredCheckpoint } from "./signed-head.js";

/**
 * Signs and stores checkpoints of one gateway's log. The store holds the
 * truth: several instances and the CLI (operator commands, `audit export`)
 * sign too, also while the gateway runs; this object only caches the newest
 * checkpoint it saw and lets concurrent callers share one signature.
 */
export class Checkpointer {
  readonly #store: Store;
  readonly #authority: string;
  readonly #logKey: () => KeyObject;
  readonly #now: () => Date;
  #latest: StoredCheckpoint | undefined;
  #signing: Promise<StoredCheckpoint | undefined> | undefined;

  /** `logKey` is read at each signature (a rotated key is picked up). */
  constructor(store: Store, authority: string, logKey: KeyObject | (() => KeyObject), now: () => Date) {
    this.#store = store;
    this.#authority = authority;
    this.#logKey = typeof logKey === "function" ? logKey : () => logKey;
    this.#now = now;
  }

  /** `valise/<AUTHORITY>`: the origin of the log's first epoch (each checkpoint's note names its own epoch). */
  get origin(): string {
    return epochOrigin(this.#authority, 1);
  }

  /** The newest stored checkpoint, if any (read from the store). */
  async latest(): Promise<StoredCheckpoint | undefined> {
    const stored = await this.#store.read((tx) => latestCheckpoint(tx));
    if (stored !== undefined && (this.#latest === undefined || stored.size > this.#latest.size)) this.#latest = stored;
    return this.#latest;
  }

  /**
   * A checkpoint of at least `minSize` entries: the cached one if it is big
   * enough, else a new one over every committed entry. Call only after the
   * entries are committed.
   */
  async covering(minSize: number): Promise<StoredCheckpoint> {
    for (;;) {
      if (this.#latest !== undefined && this.#latest.size >= minSize) return this.#latest;
      // Receipts of a busy log share checkpoints: a signature in flight may
      // cover this entry (it reads the log size when it starts), so wait for
      // it and look again before signing another.
      if (this.#signing !== undefined) {
        await this.#signing.catch(() => undefined);
        continue;
      }
      const signed = await this.sign(true);
      if (signed.size >= minSize) return signed;
    }
  }

  /**
   * Signs and stores a checkpoint of the whole committed log (the newest one
   * when nothing was added). `gather`: see {@link covering}.
   */
  async sign(gather = false): Promise<StoredCheckpoint> {
    // Concurrent callers share one signature: wait for the one in flight, then sign again only if the log grew.
    while (this.#signing !== undefined) await this.#signing.catch(() => undefined);
    // `gather` (receipts): start after the I/O callbacks already due, so the
    // entries other requests are committing now join this checkpoint instead
    // of each costing a signature (here) and a verification (at the sender).
    const signing = gather ? new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#signOnce()) : this.#signOnce();
    this.#signing = signing;
    try {
      const signed = await signing;
      if (signed === undefined) throw new GatewayError("INTERNAL", "no checkpoint could be signed");
      return signed;
    } finally {
      if (this.#signing === signing) this.#signing = undefined;
    }
  }

  async #signOnce(): Promise<StoredCheckpoint | undefined> {
    return this.#store.transaction(async (tx) => {
      const size = await tx.audit.leafCount();
      const stored = (await latestCheckpoint(tx)) ?? undefined;
      if (stored !== undefined && stored.size >= size) {
        this.#remember(stored);
        return stored;
      }
      // Another instance or the CLI may have signed this very size: one note per size, the stored one.
      const ofSize = await storedCheckpoint(tx, size);
      if (ofSize !== undefined) {
        this.#remember(ofSize);
        return ofSize;
      }
      // The origin of the epoch the log is in now (a new epoch is started by the CLI, in the store).
      const checkpoint = await signTreeHead(tx, size, (await currentEpoch(tx, this.#authority)).origin, this.#logKey());
      // Two signers of one size compute the same root (the log is append-only); the first stored note stays.
      await tx.audit.insertCheckpoint({ size, root: checkpoint.root, note: checkpoint.note, createdAt: this.#now().toISOString() });
      this.#remember(checkpoint);
      return checkpoint;
    });
  }

  #remember(checkpoint: StoredCheckpoint): void {
    if (this.#latest === undefined || checkpoint.size > this.#latest.size) this.#latest = checkpoint;
  }

  /** The receipt log position of `entry` (committed). */
  async positionOf(entry: AuditEntry): Promise<ReceiptLogPosition> {
    const checkpoint = await this.covering(entry.index + 1);
    const proof = await this.#store.read((tx) => withStoredTree(tx, checkpoint.size, (reader) => inclusionProof(reader, entry.index, checkpoint.size)));
    return {
      origin: noteOrigin(checkpoint.note),
      index: entry.index,
      checkpoint: checkpoint.note,
      inclusionProof: proof.map((hash) => hash.toString("base64")),
      entry: entry as unknown as Record<string, unknown>,
    };
  }
}

/** A position in a receiver's log, as a receipt carries it (envelope and item receipts alike). */
export interface LogPosition {
  readonly origin: string;
  readonly index: number;
  readonly checkpoint: string;
  readonly inclusionProof: readonly string[];
  readonly entry?: Record<string, unknown>;
}

/**
 * Verifies that `position.entry` is in the log of `receiver`: the position
 * names that log, the entry sits at the stated index and is the one the
 * caller expects (`recordsIt`), the checkpoint is signed by one of the log's
 * keys (current or rotated), and the inclusion proof leads from the entry to
 * the checkpoint's root. Returns the verified checkpoint.
 * Throws AUDIT_* codes (signature, origin, proof) or RECEIPT_MISMATCH (`what` names the event).
 */
export function verifyEntryInLog(
  position: LogPosition,
  expected: {
    receiver: string;
    logKeys: readonly KeyObject[];
    /** What the entry must record, e.g. "the reception of this envelope". */
    what: string;
    recordsIt: (entry: Partial<AuditEntry>) => boolean;
    /** Notes already verified against `logKeys` (an auditor checks thousands of receipts carrying the same few checkpoints). */
    verifiedNotes?: Map<string, { size: number; root: Buffer }>;
  },
): { size: number; root: Buffer; note: string } {
  // Any epoch of the receiver's log (valise/<ID>, valise/<ID>/epoch-N): the checkpoint's signature then binds it.
  const origin = position.origin;
  if (!isOriginOf(expected.receiver, origin)) {
    throw new GatewayError("AUDIT_ORIGIN_MISMATCH", "the receipt names another log", { details: { origin: String(origin).slice(0, 128), expected: epochOrigin(expected.receiver, 1) } });
  }
  const entry = position.entry as Partial<AuditEntry> | undefined;
  if (entry === undefined || entry.index !== position.index || !expected.recordsIt(entry)) {
    throw new GatewayError("RECEIPT_MISMATCH", `the receipt's log entry does not record ${expected.what}`, { details: { index: position.index } });
  }
  let lastError: unknown;
  for (const publicKey of expected.logKeys) {
    try {
      const known = expected.verifiedNotes?.get(position.checkpoint) ?? rememberedCheckpoint(position.checkpoint, origin, publicKey);
      const checkpoint = known === undefined ? verifiedCheckpoint(position.checkpoint, origin, publicKey) : { size: known.size, rootHash: Buffer.from(known.root) };
      expected.verifiedNotes?.set(position.checkpoint, { size: checkpoint.size, root: checkpoint.rootHash });
      const proof = position.inclusionProof.map((hash) => Buffer.from(hash, "base64"));
      verifyInclusion(leafHash(Buffer.from(canonicalize(entry), "utf8")), position.index, checkpoint.size, proof, checkpoint.rootHash);
      return { size: checkpoint.size, root: checkpoint.rootHash, note: position.checkpoint };
    } catch (error) {
      if ((error as { code?: string }).code !== "AUDIT_SIGNATURE_INVALID") throw error;
      lastError = error; // signed by another (rotated) log key: try the next one
    }
  }
  throw lastError ?? new GatewayError("AUDIT_SIGNATURE_INVALID", "no log key of the receiver is known");
}

/**
 * Checkpoint notes that verified, per log key object and `origin\nnote`:
 * a receiver signs one checkpoint for every batch of entries it commits, so
 * a sender sees the same note on many receipts in a row. A hit requires the
 * same key object (KeyObjects are immutable), the same origin and the very
 * same note text: exactly the inputs that decide `verifyCheckpoint`, which
 * is a pure function of them. Only successes are kept, a few per key.
 */
const verifiedNotesByKey = new WeakMap<KeyObject, Map<string, { readonly size: number; readonly root: Buffer }>>();
const NOTES_PER_KEY = 64;

function rememberedCheckpoint(note: string, origin: string, publicKey: KeyObject): { size: number; root: Buffer } | undefined {
  return verifiedNotesByKey.get(publicKey)?.get(`${origin}\n${note}`);
}

/** `verifyCheckpoint`, remembering a success for {@link rememberedCheckpoint}. */
function verifiedCheckpoint(note: string, origin: string, publicKey: KeyObject): { size: number; rootHash: Buffer } {
  const { checkpoint } = verifyCheckpoint(note, { origin, publicKey });
  let notes = verifiedNotesByKey.get(publicKey);
  if (notes === undefined) {
    notes = new Map();
    verifiedNotesByKey.set(publicKey, notes);
  }
  if (notes.size >= NOTES_PER_KEY) notes.delete(notes.keys().next().value as string);
  notes.set(`${origin}\n${note}`, { size: checkpoint.size, root: Buffer.from(checkpoint.rootHash) });
  return checkpoint;
}

/**
 * Verifies an envelope receipt's log position: {@link verifyEntryInLog} with
 * an `envelope.received` entry naming this envelope and its digest.
 */
export function verifyLogPosition(
  position: ReceiptLogPosition,
  expected: {
    receiver: string;
    envelopeId: string;
    envelopeDigest: string;
    logKeys: readonly KeyObject[];
    verifiedNotes?: Map<string, { size: number; root: Buffer }>;
  },
): { size: number; root: Buffer; note: string } {
  return verifyEntryInLog(position, {
    receiver: expected.receiver,
    logKeys: expected.logKeys,
    ...(expected.verifiedNotes === undefined ? {} : { verifiedNotes: expected.verifiedNotes }),
    what: "the reception of this envelope",
    recordsIt: (entry) => entry.kind === "envelope.received" && entry.envelopeId === expected.envelopeId && entry.envelopeDigest === expected.envelopeDigest,
  });
}
