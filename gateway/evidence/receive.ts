/**
 * Receiving evidence items: `PUT /peer/v1/evidence/:packageId/:itemId` with
 * `Content-Range: bytes a-b/total` (byte offsets in the sealed stream), and
 * `HEAD` for how far an upload got.
 *
 * Only the peer that sent the manifest may upload its items, and only after
 * the manifest was committed. Every chunk's tag is checked as it arrives and
 * its plaintext hashed ({@link SealedStreamReader}); only verified chunks
 * are written to the partial file, which is fsynced before an offset is
 * acknowledged. At the last chunk the size and SHA-256 must be the
 * manifest's; then the file is linked into the content-addressed store, the
 * item row and its `evidence.item.received` audit entry are committed in one
 * transaction, and a signed item receipt goes back.
 *
 * A bad chunk, a wrong digest or a wrong length rejects the item: the
 * partial file is removed (the sender restarts the item from 0), the
 * rejection is logged and audited (`evidence.item.rejected` the first time
 * for the item and code, repeats counted and summarised: refusals.ts), and
 * nothing of it is kept as evidence. A cut connection or a restart loses nothing
 * verified: the partial file is rescanned (every tag checked again) and the
 * upload goes on from its last whole chunk. Memory per upload: one chunk.
 */
import { constants } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import type { Stats } from "node:fs";
import type { Readable } from "node:stream";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { Peer } from "../peers/directory.js";
import { appendEntry, type AuditEntry } from "../audit/append.js";
import { isValiseError } from "../../pki/errors.js";
import { SealedStreamReader } from "./stream.js";
import { findItem, streamParamsOf, type ItemRow } from "./items.js";
import { ensurePartialFolder, partialPath, promoteToStore, removePartial } from "./sealed-store.js";
import { ITEM_RECEIVED_KIND, signItemReceipt } from "./item-receipt.js";
import { recordRefusal } from "./refusals.js";

/** A parsed `Content-Range` of an upload: `bytes a-b/total`, or `bytes *\/total` (a status query). */
export type UploadRange = { readonly start: number; readonly end: number; readonly total: number } | { readonly start: undefined; readonly total: number };

/** Where an item's upload stands. */
export interface UploadStatus {
  /** Sealed bytes durably stored and verified: where the next upload must start. */
  readonly offset: number;
  /** Length of the whole sealed stream. */
  readonly length: number;
  readonly state: "receiving" | "received";
}

/** The answer to an upload. */
export interface UploadOutcome extends UploadStatus {
  /** 201 when this upload completed the item, 200 otherwise. */
  readonly status: 200 | 201;
  /** The signed item receipt, once received. */
  readonly receipt?: string;
}

/** Bytes written between two background fdatasyncs of a partial file (the disk works while the upload goes on). */
const SYNC_EVERY_BYTES = 64 * 1024 * 1024;
/** Chunk writes queued behind the verification before the socket is paused. */
const WRITES_IN_FLIGHT = 4;
/** Read size when rescanning a partial file. */
const RESCAN_BYTES = 1024 * 1024;

const INTEGRITY_CODES = new Set([
  "EVIDENCE_CHUNK_TAG_INVALID",
  "EVIDENCE_CHUNK_MISSING",
  "EVIDENCE_CHUNK_REORDERED",
  "EVIDENCE_STREAM_TRUNCATED",
  "EVIDENCE_SIZE_MISMATCH",
  "EVIDENCE_DIGEST_MISMATCH",
]);

/**
 * Parses `Content-Range: bytes a-b/total` or `bytes *\/total`.
 * The header is attacker-controlled: digits only, safe integers, a ≤ b < total.
 * Throws `EVIDENCE_RANGE_INVALID`.
 */
export function parseContentRange(header: string | undefined): UploadRange {
  const match = /^bytes (?:(\d{1,16})-(\d{1,16})|\*)\/(\d{1,16})$/.exec(header ?? "");
  const invalid = (): never => {
    throw new GatewayError("EVIDENCE_RANGE_INVALID", "Content-Range must be 'bytes FIRST-LAST/TOTAL' (offsets in the sealed stream) or 'bytes */TOTAL'", {
      details: { contentRange: (header ?? "").slice(0, 80) },
    });
  };
  if (match === null) return invalid();
  const total = Number(match[3]);
  if (!Number.isSafeInteger(total)) return invalid();
  if (match[1] === undefined) return { start: undefined, total };
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start > end || end >= total) return invalid();
  return { start, end, total };
}

/** How long an instance holds an item's upload without renewing it. */
const UPLOAD_LEASE_MS = 30_000;

/** Receives the items of manifests this gateway received. One per gateway (it holds the uploads in progress). */
export class EvidenceReceiver {
  readonly #ctx: GatewayContext;
  /**
   * Readers of uploads in progress, by item id: the hash state between
   * requests, with the partial file's identity (inode, size, mtime) as this
   * gateway last left it. A request finding the file as it was left goes on
   * from the reader; a file another instance appended to (or that changed
   * in any other way) is rescanned from its start. Rescanning at every
   * request made an upload in many requests quadratic: a 4 GiB item
   * rehashed gigabytes per request.
   */
  readonly #sessions = new Map<string, { readonly reader: SealedStreamReader; stamp: string }>();
  readonly #busy = new Set<string>();
  readonly #renewals = new Map<string, NodeJS.Timeout>();

  constructor(ctx: GatewayContext) {
    this.#ctx = ctx;
  }

  /** How far the upload of an item from `peer` got (HEAD). Throws `EVIDENCE_ITEM_UNKNOWN`. */
  async status(peer: Peer, packageId: string, itemId: string): Promise<UploadStatus> {
    const row = await this.#item(peer, packageId, itemId);
    if (row.state === "received") return { offset: row.sealed_size, length: row.sealed_size, state: "received" };
    // An upload is running (here or on another instance): answer its last durable offset (what it verified since is not fsynced yet).
    if (!(await this.#hold(itemId))) return { offset: row.acked_bytes, length: row.sealed_size, state: "receiving" };
    try {
      const reader = await this.#session(row);
      if (reader.complete) {
        await this.#complete(row, reader);
        return { offset: row.sealed_size, length: row.sealed_size, state: "received" };
      }
      return { offset: reader.offset, length: row.sealed_size, state: "receiving" };
    } finally {
      await this.#release(itemId);
    }
  }

  /**
   * Receives one upload request of an item from `peer`. `body` is the
   * request; `contentLength` its header. Throws the codes of the module
   * comment; a cut connection rejects with the stream's error after the
   * verified part was kept.
   */
  async receive(peer: Peer, packageId: string, itemId: string, contentRange: string | undefined, contentLength: string | undefined, body: Readable): Promise<UploadOutcome> {
    const row = await this.#item(peer, packageId, itemId);
    const range = parseContentRange(contentRange);
    if (range.total !== row.sealed_size) {
      await this.#refuse(row, new GatewayError("EVIDENCE_SIZE_MISMATCH", `the upload's total length ${range.total} is not the sealed length ${row.sealed_size} of the manifest's size`, {
        details: { total: range.total, expected: row.sealed_size },
      }), false);
    }
    if (range.start !== undefined && (contentLength === undefined || !/^\d{1,16}$/.test(contentLength) || Number(contentLength) !== range.end - range.start + 1)) {
      throw new GatewayError("EVIDENCE_RANGE_INVALID", "Content-Length must be given and equal the length of the Content-Range", { details: { contentLength: contentLength ?? null } });
    }
    if (row.state === "received") {
      // A retried final request, or a status query: the same receipt again.
      if (range.start === undefined || range.end === range.total - 1) return { status: 200, offset: row.sealed_size, length: row.sealed_size, state: "received", receipt: await this.#receiptOf(row) };
      throw rangeMismatch(row.sealed_size, range.start);
    }
    if (!(await this.#hold(itemId))) throw new GatewayError("EVIDENCE_ITEM_BUSY", "another upload of this item is in progress; retry after it ends", { details: { itemId } });
    try {
      const reader = await this.#session(row);
      if (reader.complete) return { status: 200, offset: row.sealed_size, length: row.sealed_size, state: "received", receipt: await this.#complete(row, reader) };
      if (range.start === undefined) throw rangeMismatch(reader.offset, undefined);
      if (range.start !== reader.offset) await this.#refuse(row, rangeMismatch(reader.offset, range.start), false);
      return await this.#append(row, reader, body);
    } finally {
      await this.#release(itemId);
    }
  }

  /**
   * Takes the upload lease of an item (store-wide: instances sharing the
   * evidence folder never write one partial file at once), renewed while
   * held. False when another upload holds it. A session cached from an
   * earlier hold is used again only if the partial file is as it was left
   * ({@link #session}): another instance may have appended since.
   */
  async #hold(itemId: string): Promise<boolean> {
    if (this.#busy.has(itemId)) return false;
    this.#busy.add(itemId);
    const ctx = this.#ctx;
    const name = `upload:${itemId}`;
    const acquire = (): Promise<boolean> => ctx.store.transaction((tx) => tx.leases.acquire(name, ctx.jobs.owner, Date.now(), UPLOAD_LEASE_MS));
    let held = false;
    try {
      held = await acquire();
    } finally {
      if (!held) this.#busy.delete(itemId);
    }
    if (!held) return false;
    const renew = setInterval(() => void acquire().catch(() => undefined), UPLOAD_LEASE_MS / 3);
    renew.unref();
    this.#renewals.set(itemId, renew);
    return true;
  }

  async #release(itemId: string): Promise<void> {
    clearInterval(this.#renewals.get(itemId));
    this.#renewals.delete(itemId);
    this.#busy.delete(itemId);
    const ctx = this.#ctx;
    await ctx.store.transaction((tx) => tx.leases.release(`upload:${itemId}`, ctx.jobs.owner)).catch(() => undefined);
  }

  async #item(peer: Peer, packageId: string, itemId: string): Promise<ItemRow> {
    const row = await this.#ctx.store.read((tx) => findItem(tx, packageId, itemId));
    // Only the authority that sent the manifest may upload its items.
    if (row === undefined || row.direction !== "inbound" || row.peer !== peer.authority) {
      throw new GatewayError("EVIDENCE_ITEM_UNKNOWN", "no manifest naming this package and item was received from you", { details: { packageId, itemId } });
    }
    return row;
  }

  /** The reader of an upload in progress; after a restart, rebuilt by rescanning the partial file. */
  async #session(row: ItemRow): Promise<SealedStreamReader> {
    const live = this.#sessions.get(row.item_id);
    if (live !== undefined) {
      const now = await stat(partialPath(this.#ctx.paths, row.item_id)).catch(() => undefined);
      if (now !== undefined && stampOf(now) === live.stamp && now.size === live.reader.offset) return live.reader;
      this.#sessions.delete(row.item_id);
    }
    await ensurePartialFolder(this.#ctx.paths);
    const handle = await open(partialPath(this.#ctx.paths, row.item_id), constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      const length = (await handle.stat()).size;
      let reader = await rescan(handle, row, length);
      if (reader === undefined) {
        // A torn last write (a crash mid-chunk, or a disk that lost unsynced data): keep what verifies.
        const scanned = new SealedStreamReader(streamParamsOf(row), row.sha256);
        const good = await rescanUntilFailure(handle, scanned, length);
        this.#ctx.logger.warn("evidence partial file had an unverifiable tail; cut back to its last good chunk", { packageId: row.package_id, itemId: row.item_id, length, good });
        reader = (await rescan(handle, row, good)) as SealedStreamReader;
        await handle.truncate(good);
      } else if (reader.offset < length) {
        await handle.truncate(reader.offset);
      }
      await handle.datasync();
      if (length > 0) this.#ctx.logger.info("evidence upload resumable", { packageId: row.package_id, itemId: row.item_id, offset: reader.offset, length: row.sealed_size });
      this.#sessions.set(row.item_id, { reader, stamp: stampOf(await handle.stat()) });
      if (reader.offset !== row.acked_bytes && !reader.complete) await this.#saveOffset(row, reader.offset);
      return reader;
    } finally {
      await handle.close();
    }
  }

  /** Streams one request's body into the partial file; see the module comment. */
  async #append(row: ItemRow, reader: SealedStreamReader, body: Readable): Promise<UploadOutcome> {
    const handle = await open(partialPath(this.#ctx.paths, row.item_id), constants.O_WRONLY);
    let { position, failure } = await pump(body, reader, handle);
    if (failure === undefined && !reader.complete) {
      try {
        reader.pause();
      } catch (error) {
        failure = error;
      }
    }
    try {
      await handle.datasync(); // before any offset is acknowledged
      const session = this.#sessions.get(row.item_id);
      if (session !== undefined && session.reader === reader) session.stamp = stampOf(await handle.stat());
    } finally {
      await handle.close();
    }
    if (failure !== undefined && !isIntegrityFailure(failure)) {
      // A cut connection (or a disk error): keep what was verified and written, drop the
      // partial chunk; a reader ahead of the file (a chunk verified but not written) is rebuilt next time.
      try {
        reader.pause();
      } catch (error) {
        failure = error; // a misplaced chunk is now known to be a dropped one
      }
      if (!isIntegrityFailure(failure)) {
        if (position === reader.offset) await this.#saveOffset(row, reader.offset);
        else this.#sessions.delete(row.item_id);
        throw failure;
      }
    }
    if (failure !== undefined) await this.#refuse(row, failure as GatewayError, true);
    if (reader.complete) {
      const receipt = await this.#complete(row, reader);
      return { status: 201, offset: row.sealed_size, length: row.sealed_size, state: "received", receipt };
    }
    await this.#saveOffset(row, reader.offset);
    return { status: 200, offset: reader.offset, length: row.sealed_size, state: "receiving" };
  }

  async #saveOffset(row: ItemRow, offset: number): Promise<void> {
    const now = this.#ctx.now().toISOString();
    await this.#ctx.store.transaction((tx) => tx.evidence.receivedUpTo(row.item_id, offset, now));
  }

  /**
   * The last chunk verified (size and SHA-256 are the manifest's): into the
   * store, the row and its audit entry in one transaction, then the receipt.
   */
  async #complete(row: ItemRow, reader: SealedStreamReader): Promise<string> {
    const ctx = this.#ctx;
    const digests = reader.digests!;
    await promoteToStore(ctx.paths, row.item_id, digests.sealed, row.sealed_size);
    const now = ctx.now();
    const entry = await ctx.store.transaction(async (tx): Promise<AuditEntry | undefined> => {
      if (!(await tx.evidence.markReceived(row.item_id, digests.sealed, now.toISOString()))) return undefined;
      const received = await appendEntry(tx, {
        kind: ITEM_RECEIVED_KIND,
        actor: `peer:${row.peer}`,
        time: now,
        caseId: row.case_id,
        envelopeId: row.envelope_id,
        envelopeDigest: row.envelope_digest,
        details: { packageId: row.package_id, itemId: row.item_id, size: row.size, sha256: digests.plaintext, sealedSha256: digests.sealed, chunks: reader.chunks, from: row.peer, purpose: row.purpose },
      });
      const items = await tx.evidence.tally(row.package_id, "received");
      if (items.open === 0 && (await tx.evidence.finishPackage(row.package_id, "receiving", "received", now.toISOString()))) {
        await appendEntry(tx, {
          kind: "evidence.package.received",
          actor: `peer:${row.peer}`,
          time: now,
          caseId: row.case_id,
          envelopeId: row.envelope_id,
          envelopeDigest: row.envelope_digest,
          details: { packageId: row.package_id, items: items.n, bytes: items.bytes, completes: row.completes, from: row.peer },
        });
      }
      return received;
    });
    this.#sessions.delete(row.item_id);
    await removePartial(ctx.paths, row.item_id);
    const stored = (await ctx.store.read((tx) => findItem(tx, row.package_id, row.item_id)))!;
    const receipt = await this.#receiptOf(stored, entry);
    if (entry !== undefined) {
      ctx.logger.info("evidence item received", { caseId: row.case_id, packageId: row.package_id, itemId: row.item_id, from: row.peer, size: row.size, sha256: digests.plaintext, sealedSha256: digests.sealed });
    }
    return receipt;
  }

  /** The receipt of a received item: the one issued, or one signed again from its audit entry. */
  async #receiptOf(row: ItemRow, entry?: AuditEntry): Promise<string> {
    const ctx = this.#ctx;
    if (row.receipt !== null) return row.receipt;
    const received =
      entry ??
      (await ctx.store.read((tx) => tx.audit.entriesOfEnvelope(row.envelope_id, ITEM_RECEIVED_KIND)))
        .map((r) => JSON.parse(r) as AuditEntry)
        .find((e) => e.details["itemId"] === row.item_id);
    if (received === undefined || row.sealed_sha256 === null || row.received_at === null) throw new GatewayError("INTERNAL", "a received evidence item has no audit entry");
    const receipt = await signItemReceipt(
      {
        caseId: row.case_id,
        packageId: row.package_id,
        itemId: row.item_id,
        from: row.peer,
        to: ctx.authority,
        size: row.size,
        sha256: row.sha256,
        sealedSha256: row.sealed_sha256,
        receivedAt: row.received_at,
        log: await ctx.checkpoints.positionOf(received),
      },
      ctx.identity.signer,
    );
    // Kept so a retried request gets the same bytes; it can be signed again, so not awaited.
    ctx.store
      .transaction((tx) => tx.evidence.setReceipt(row.item_id, receipt))
      .catch((error: unknown) => ctx.logger.error("storing an issued item receipt failed", { itemId: row.item_id, error: String(error) }));
    return receipt;
  }

  /**
   * Refuses an upload: logged and audited. With `reset`, the item restarts
   * from 0 — nothing of a stream that failed a check is kept.
   */
  async #refuse(row: ItemRow, error: GatewayError, reset: boolean): Promise<never> {
    const ctx = this.#ctx;
    const offset = this.#sessions.get(row.item_id)?.reader.offset ?? row.acked_bytes;
    if (reset) {
      this.#sessions.delete(row.item_id);
      await removePartial(ctx.paths, row.item_id);
    }
    const now = ctx.now();
    // Audited the first time for this item and code, counted after (see refusals.ts): a peer repeating it cannot flood the log.
    const audited = await ctx.store.transaction(async (tx) => {
      if (reset) await tx.evidence.resetReceiving(row.item_id, `${error.code}: ${error.message}`, now.toISOString());
      return recordRefusal(tx, row, error.code, now, { offset, reset, ...(typeof error.details?.["chunk"] === "number" ? { chunk: error.details["chunk"] } : {}) });
    });
    const fields = { caseId: row.case_id, packageId: row.package_id, itemId: row.item_id, from: row.peer, code: error.code, reason: error.message, offset, reset };
    if (audited) ctx.logger.warn("evidence upload refused", fields);
    else ctx.logger.debug("evidence upload refused again (counted)", fields);
    throw error;
  }
}

function isIntegrityFailure(error: unknown): boolean {
  return isValiseError(error) && INTEGRITY_CODES.has(error.code);
}

function rangeMismatch(offset: number, start: number | undefined): GatewayError {
  return new GatewayError("EVIDENCE_RANGE_MISMATCH", `the stored stream ends at ${offset}; upload from there (HEAD says how far it got)`, { details: { offset, start: start ?? null } });
}

/**
 * Feeds a request body to `reader` and writes the verified chunks behind
 * it, at the reader's offset: the CPU work (tags, hashes) on this thread
 * overlaps the disk writes in libuv's pool, at most {@link WRITES_IN_FLIGHT}
 * chunks behind, the socket paused beyond that (backpressure: memory stays at
 * a few chunks whatever the upload). Resolves, once no write is in flight,
 * with the end of what was written contiguously and the first failure (a
 * stream error from the reader, a cut connection, a disk error). The body is
 * not destroyed on a failure: the error answer still has to go out.
 */
function pump(body: Readable, reader: SealedStreamReader, handle: FileHandle): Promise<{ position: number; failure: unknown }> {
  return new Promise((resolve) => {
    const pending: Array<{ end: number; done: boolean }> = [];
    let issued = reader.offset;
    let position = reader.offset;
    let sinceSync = 0;
    let syncing: Promise<void> | undefined;
    let failure: unknown;
    let ended = false;
    let settled = false;
    const settle = (): void => {
      if (settled || pending.length > 0 || (failure === undefined && !ended)) return;
      settled = true;
      body.off("data", onData);
      void (syncing ?? Promise.resolve()).catch(() => undefined).then(() => resolve({ position, failure }));
    };
    const fail = (error: unknown): void => {
      failure ??= error;
      body.off("data", onData);
      settle();
    };
    const onData = (piece: Buffer): void => {
      let chunks;
      try {
        chunks = reader.write(piece);
      } catch (error) {
        fail(error);
        return;
      }
      for (const chunk of chunks) {
        const entry = { end: issued + chunk.sealed.byteLength, done: false };
        pending.push(entry);
        writeAll(handle, chunk.sealed, issued).then(
          () => {
            entry.done = true;
            reader.recycle(chunk.sealed);
            while (pending[0]?.done === true) position = pending.shift()!.end;
            sinceSync += chunk.sealed.byteLength;
            if (sinceSync >= SYNC_EVERY_BYTES && syncing === undefined) {
              // The disk flushes while the upload goes on: the fsync before the answer has less to do.
              sinceSync = 0;
              syncing = handle.datasync().finally(() => (syncing = undefined));
            }
            if (pending.length < WRITES_IN_FLIGHT && failure === undefined) body.resume();
            settle();
          },
          (error: unknown) => {
            pending.splice(pending.indexOf(entry), 1);
            fail(error);
          },
        );
        issued = entry.end;
      }
      if (pending.length >= WRITES_IN_FLIGHT) body.pause();
    };
    body.on("data", onData);
    body.once("end", () => {
      ended = true;
      settle();
    });
    body.once("error", fail);
    body.once("close", () => {
      if (!body.readableEnded) fail(new GatewayError("REQUEST_MALFORMED", "the upload was cut short"));
    });
  });
}

async function writeAll(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written, position + written);
    written += bytesWritten;
  }
}

/** A reader fed the first `length` bytes of the file; undefined when a chunk fails (a torn tail). */
async function rescan(handle: FileHandle, row: ItemRow, length: number): Promise<SealedStreamReader | undefined> {
  const reader = new SealedStreamReader(streamParamsOf(row), row.sha256);
  try {
    await feed(handle, reader, length);
    reader.pause();
    return reader;
  } catch (error) {
    if (isValiseError(error) && INTEGRITY_CODES.has(error.code)) return undefined;
    throw error;
  }
}

/** Feeds the file to `reader` until a chunk fails; returns the verified length. */
async function rescanUntilFailure(handle: FileHandle, reader: SealedStreamReader, length: number): Promise<number> {
  try {
    await feed(handle, reader, length);
  } catch (error) {
    if (!isValiseError(error) || !INTEGRITY_CODES.has(error.code)) throw error;
  }
  return reader.offset;
}

async function feed(handle: FileHandle, reader: SealedStreamReader, length: number): Promise<void> {
  const buffer = Buffer.allocUnsafe(RESCAN_BYTES);
  for (let position = 0; position < length; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.byteLength, length - position), position);
    if (bytesRead === 0) break;
    for (const chunk of reader.write(buffer.subarray(0, bytesRead))) reader.recycle(chunk.sealed);
    position += bytesRead;
  }
}

/** A partial file's identity as a session remembers it: inode, size and modification time (ns). */
function stampOf(info: Stats): string {
  return `${info.ino}:${info.size}:${info.mtimeMs}`;
}
