/**
 * The evidence uploader: once a package's manifest envelope holds the peer's
 * verified receipt, each item is sealed from its file as it is read and PUT
 * to `/peer/v1/evidence/:packageId/:itemId` in segments, until the peer's
 * signed item receipt comes back, is verified and is stored.
 *
 * Resuming is the normal path: every attempt starts with HEAD, and sends
 * from the receiver's `Upload-Offset` (after a cut connection, a restart of
 * either side, or a segment the receiver refused). A resumed item is
 * byte-identical: chunk i is always sealed with the item's key and nonce i
 * from the same bytes — which is also why the file must not change: its
 * device, inode, size and mtime must stay those hashed for the manifest
 * (`EVIDENCE_SOURCE_CHANGED`, final: the manifest cannot change).
 *
 * Segments: one PUT carries whole chunks worth about {@link UploaderOptions.segmentSeconds}
 * at the rate of the previous one (between the minimum and the maximum
 * size), so that each request ends well within the peer's request timeout
 * and each acknowledged offset is a durable resume point.
 *
 * Memory per upload: one chunk being read and sealed, and what the stream
 * buffers (a few chunks). Failures retry with exponential backoff and jitter
 * until the delivery give-up time; then the item is `failed`, with an audit
 * entry and an error log line.
 */
import https from "node:https";
import { constants, mkdirSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import type { IncomingHttpHeaders } from "node:http";
import { GATEWAY_ERRORS, GatewayError, type GatewayErrorCode } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { PeerClient } from "../delivery/peer-client.js";
import type { Peer } from "../peers/directory.js";
import { appendEntry } from "../audit/append.js";
import { isValiseError } from "../../pki/errors.js";
import type { Job } from "../jobs/runner.js";
import { TAG_BYTES, chunkCount, plaintextLengthOf, sealChunk, sealedOffsetOf, type StreamParams } from "./stream.js";
import { streamParamsOf, type ItemRow } from "./items.js";
import { outgoingFolder, sameSource, sourceStatOf, type SourceStat } from "./send.js";
import { verifyItemReceipt } from "./item-receipt.js";
import { packageDelivered } from "./delivered.js";

/** Tuning of the uploader. */
export interface UploaderOptions {
  /** Items uploaded at once (default: valise.json evidence.uploadConcurrency, else 2). */
  readonly concurrency: number;
  /** First retry delay (default 1 s), doubling per attempt up to `maxBackoffMs` (default 5 min). */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** After this long since the package was queued, a failing item is given up (default 7 days). */
  readonly giveUpAfterMs: number;
  /** How often to look for work when idle (default 500 ms). */
  readonly idlePollMs: number;
  /** Target duration of one PUT (default 4 s). */
  readonly segmentSeconds: number;
  /**
   * Smallest and largest PUT, in sealed bytes (defaults 1 MiB and 1 GiB); always whole chunks, at least
   * one. Every attempt starts with the smallest, so a slow link still finishes a PUT within the peer's
   * request timeout (30 s): one chunk per 30 s is the slowest link an upload can cross.
   */
  readonly minSegmentBytes: number;
  readonly maxSegmentBytes: number;
  /** Rejections of an item's stream by the receiver before it is given up (default 3). */
  readonly maxRejections: number;
  /** A PUT with no progress for this long is cut (default 60 s). */
  readonly stallTimeoutMs: number;
}

/** Defaults of {@link UploaderOptions}. */
export const DEFAULT_UPLOADER_OPTIONS: UploaderOptions = Object.freeze({
  concurrency: 2,
  initialBackoffMs: 1000,
  maxBackoffMs: 5 * 60 * 1000,
  giveUpAfterMs: 7 * 24 * 3600 * 1000,
  idlePollMs: 500,
  segmentSeconds: 4,
  minSegmentBytes: 1024 * 1024,
  maxSegmentBytes: 1024 * 1024 * 1024,
  maxRejections: 3,
  stallTimeoutMs: 60_000,
});

/** Codes with which a receiver refuses a stream (the item restarts from 0 there). */
const REJECTION_CODES = new Set([
  "EVIDENCE_CHUNK_TAG_INVALID",
  "EVIDENCE_CHUNK_MISSING",
  "EVIDENCE_CHUNK_REORDERED",
  "EVIDENCE_STREAM_TRUNCATED",
  "EVIDENCE_SIZE_MISMATCH",
  "EVIDENCE_DIGEST_MISMATCH",
]);

/** Failures after which retrying cannot help. */
const FINAL_CODES = new Set(["EVIDENCE_SOURCE_CHANGED"]);

/** How often the bytes pushed so far are written to the item row (progress for the local API). */
const PROGRESS_EVERY_MS = 500;

interface PeerAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly json: Record<string, unknown> | undefined;
}

/** How long an instance holds an item's upload without renewing it; renewed every third of it while uploading. */
const UPLOAD_LEASE_MS = 30_000;

/**
 * Uploads the items of sent packages: a row job of the job runner (any
 * instance may upload any item; each item is claimed under a lease, so one
 * instance uploads it at a time and another resumes it if that one dies).
 */
export class EvidenceUploader implements Job {
  readonly name = "evidence-uploads";
  readonly singleton = false;
  readonly idleMs: number;
  readonly #ctx: GatewayContext;
  readonly #client: PeerClient;
  readonly #options: UploaderOptions;
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #rejections = new Map<string, number>();
  #stopped = false;

  constructor(ctx: GatewayContext, client: PeerClient, options: Partial<UploaderOptions> = {}) {
    this.#ctx = ctx;
    this.#client = client;
    this.#options = { ...DEFAULT_UPLOADER_OPTIONS, ...(ctx.config.evidence?.uploadConcurrency === undefined ? {} : { concurrency: ctx.config.evidence.uploadConcurrency }), ...options };
    this.idleMs = this.#options.idlePollMs;
    mkdirSync(outgoingFolder(this.#ctx), { recursive: true, mode: 0o750 });
  }

  /** Looks for work now. */
  wake(): void {
    this.#ctx.jobs.wake(this.name);
  }

  /** Uploads in flight are cut at their next chunk and resume after a restart (here or on another instance). */
  async settle(): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled([...this.#inFlight.values()]);
  }

  /** One turn: settle packages, then claim and start due uploads up to the concurrency. */
  async run(): Promise<number> {
    const ctx = this.#ctx;
    await this.#settlePackages();
    const free = this.#options.concurrency - this.#inFlight.size;
    if (free > 0 && !this.#stopped) {
      const due = await ctx.store.transaction((tx) =>
        tx.evidence.claimDueUploads(ctx.jobs.owner, ctx.now().getTime(), UPLOAD_LEASE_MS, free, [...this.#inFlight.keys()], Date.now()),
      );
      for (const row of due) {
        const renew = setInterval(() => void ctx.store.transaction((tx) => tx.evidence.renewUpload(row.item_id, ctx.jobs.owner, Date.now() + UPLOAD_LEASE_MS)).catch(() => undefined), UPLOAD_LEASE_MS / 3);
        renew.unref();
        const upload = this.#upload(row).finally(() => {
          clearInterval(renew);
          this.#inFlight.delete(row.item_id);
          this.wake();
        });
        this.#inFlight.set(row.item_id, upload);
      }
    }
    return this.#options.idlePollMs;
  }

  /** Packages whose manifest failed for good fail; packages with every item receipted are delivered. */
  async #settlePackages(): Promise<void> {
    const ctx = this.#ctx;
    const failed = await ctx.store.read((tx) => tx.evidence.packagesWithFailedManifest());
    for (const pkg of failed) {
      const now = ctx.now();
      const marked = await ctx.store.transaction(async (tx) => {
        // Once, whatever the number of instances: the one that moves the package from `sending` records it.
        if (!(await tx.evidence.finishPackage(pkg.package_id, "sending", "failed", now.toISOString()))) return false;
        await tx.evidence.failQueuedItems(pkg.package_id, `the manifest was not delivered: ${pkg.last_error ?? "?"}`, now.toISOString());
        await appendEntry(tx, {
          kind: "evidence.package.failed",
          actor: "gateway",
          time: now,
          caseId: pkg.case_id,
          envelopeId: pkg.envelope_id,
          envelopeDigest: pkg.digest,
          details: { packageId: pkg.package_id, reason: "manifest not delivered" },
        });
        return true;
      });
      if (marked) ctx.logger.error("evidence package failed: its manifest was not delivered", { caseId: pkg.case_id, packageId: pkg.package_id });
    }
    for (const packageId of await ctx.store.read((tx) => tx.evidence.completePackages())) await packageDelivered(ctx, packageId);
  }

  async #upload(row: ItemRow): Promise<void> {
    const ctx = this.#ctx;
    const progress = new Progress(ctx, row.item_id);
    try {
      const peer = ctx.peers.get(row.peer);
      const path = `/peer/v1/evidence/${row.package_id}/${row.item_id}`;
      const source = await PlaintextSource.open(row);
      let receipt: string | undefined;
      try {
        let status = await this.#head(peer, path);
        let segmentBytes = this.#options.minSegmentBytes;
        let mismatches = 0;
        while (status.received === undefined && receipt === undefined) {
          if (this.#stopped) throw new GatewayError("PEER_UNREACHABLE", "the gateway is stopping; the upload resumes after the restart");
          const startChunk = chunkAt(status.offset, row);
          const chunks = Math.max(1, Math.floor(segmentBytes / (row.chunk_size + TAG_BYTES)));
          const endChunk = Math.min(chunkCount(row.size, row.chunk_size), startChunk + chunks);
          const started = Date.now();
          const answer = await this.#putSegment(peer, path, row, source, startChunk, endChunk, progress);
          if (answer.status === 200 || answer.status === 201) {
            if (typeof answer.json?.["receipt"] === "string") {
              receipt = answer.json["receipt"];
              break;
            }
            status = { offset: Number(answer.json?.["offset"]) };
            progress.acknowledged(status.offset);
            const seconds = Math.max(0.001, (Date.now() - started) / 1000);
            const rate = (sealedOffsetOf(endChunk, row.size, row.chunk_size) - sealedOffsetOf(startChunk, row.size, row.chunk_size)) / seconds;
            segmentBytes = Math.min(this.#options.maxSegmentBytes, Math.max(this.#options.minSegmentBytes, rate * this.#options.segmentSeconds));
            continue;
          }
          const error = answerError(answer);
          // The receiver holds another offset (it lost a tail, or restarted): go on from its word, a few times.
          if (error.code === "EVIDENCE_RANGE_MISMATCH" && typeof error.details?.["offset"] === "number" && mismatches < 3) {
            mismatches += 1;
            status = { offset: error.details["offset"] };
            continue;
          }
          throw error;
        }
        receipt ??= status.received === undefined ? undefined : await this.#fetchReceipt(peer, path, row);
      } finally {
        await source.close();
      }
      if (receipt === undefined) throw new GatewayError("PEER_UNREACHABLE", "the peer sent no item receipt");
      await this.#accept(row, peer, receipt);
      this.#rejections.delete(row.item_id);
    } catch (error) {
      await this.#recordFailure(row, error);
    } finally {
      progress.stop();
    }
  }

  /** HEAD: how far the receiver got, or that it holds the item. */
  async #head(peer: Peer, path: string): Promise<{ offset: number; received?: true }> {
    const response = await this.#client.request(peer, "HEAD", path);
    if (response.status !== 200) {
      throw new GatewayError(response.status === 404 ? "EVIDENCE_ITEM_UNKNOWN" : "PEER_UNREACHABLE", `${peer.authority} answered HEAD with ${response.status}`);
    }
    const offset = Number(response.headers["upload-offset"]);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new GatewayError("PEER_UNREACHABLE", `${peer.authority} answered HEAD without a valid Upload-Offset`);
    return response.headers["valise-item-state"] === "received" ? { offset, received: true } : { offset };
  }

  /** The receipt of an item the receiver already holds (`Content-Range: bytes *\/total`). */
  async #fetchReceipt(peer: Peer, path: string, row: ItemRow): Promise<string> {
    const response = await this.#client.request(peer, "PUT", path, new Uint8Array(0), { "content-range": `bytes */${row.sealed_size}`, "content-type": "application/octet-stream" });
    const answer = { status: response.status, headers: response.headers, json: parseJson(response.body) };
    if (response.status !== 200 || typeof answer.json?.["receipt"] !== "string") throw answerError(answer);
    return answer.json["receipt"];
  }

  /** One PUT of chunks [startChunk, endChunk), sealed as they are read. */
  #putSegment(peer: Peer, path: string, row: ItemRow, source: PlaintextSource, startChunk: number, endChunk: number, progress: Progress): Promise<PeerAnswer> {
    const params = streamParamsOf(row);
    const start = sealedOffsetOf(startChunk, row.size, row.chunk_size);
    const end = sealedOffsetOf(endChunk, row.size, row.chunk_size);
    const body = Readable.from(sealedChunks(source, params, startChunk, endChunk, () => !this.#stopped, (sent) => progress.sent(start + sent)), { objectMode: false, highWaterMark: 2 * (row.chunk_size + TAG_BYTES) });
    return new Promise<PeerAnswer>((resolve, reject) => {
      let sourceError: unknown;
      let settled = false;
      let answered = false;
      const req = https.request(new URL(path, peer.endpoint), {
        method: "PUT",
        agent: this.#client.agent(peer),
        timeout: this.#options.stallTimeoutMs,
        headers: { "content-type": "application/octet-stream", "content-length": String(end - start), "content-range": `bytes ${start}-${end - 1}/${row.sealed_size}` },
      });
      req.on("response", (res) => {
        answered = true;
        const parts: Buffer[] = [];
        let length = 0;
        res.on("data", (part: Buffer) => {
          length += part.byteLength;
          if (length <= 1024 * 1024) parts.push(part);
        });
        res.on("end", () => {
          settled = true;
          if (!body.readableEnded) {
            // Answered before the body was all sent (a refusal): stop sending.
            body.unpipe(req);
            body.destroy();
            req.destroy();
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: parseJson(Buffer.concat(parts)) });
        });
        res.on("error", (error) => {
          if (!settled) reject(sourceError ?? error);
        });
        res.on("aborted", () => {
          if (!settled) reject(sourceError ?? new GatewayError("PEER_UNREACHABLE", `${peer.authority} cut its answer short`));
        });
      });
      req.on("timeout", () => req.destroy(new GatewayError("PEER_UNREACHABLE", `no progress uploading to ${peer.authority} for ${this.#options.stallTimeoutMs} ms`)));
      req.on("error", (error) => {
        // A refusal closes the connection while we may still be writing: the answer, already
        // being read, is what counts (its end or error settles).
        if (!settled && !answered) reject(sourceError ?? error);
      });
      body.on("error", (error) => {
        sourceError = error;
        req.destroy(error);
      });
      body.pipe(req);
    });
  }

  /** Verifies the item receipt and stores it with its audit entry; the package may now be delivered. */
  async #accept(row: ItemRow, peer: Peer, receipt: string): Promise<void> {
    const ctx = this.#ctx;
    const verified = await verifyItemReceipt(receipt, {
      expected: { caseId: row.case_id, packageId: row.package_id, itemId: row.item_id, from: ctx.authority, to: peer.authority, size: row.size, sha256: row.sha256 },
      trustFor: (authority) => ctx.peers.trustFor(authority),
      logKeys: peer.certificates.filter((c) => c.use === "log").map((c) => c.certificate.publicKey),
      now: ctx.now(),
      parsedCertificates: ctx.certificateCache,
    });
    const { receipt: signed, checkpoint } = verified;
    await ctx.store.transaction(async (tx) => {
      const now = ctx.now();
      await tx.peerLogs.recordCheckpoint({ origin: signed.log.origin, size: checkpoint.size, root: checkpoint.root, note: checkpoint.note, receivedAt: now.toISOString() });
      // Once, whatever the number of instances: a second verified receipt of the item records nothing.
      if (!(await tx.evidence.markReceipted(row.item_id, receipt, signed.receivedAt, now.toISOString()))) return;
      await appendEntry(tx, {
        kind: "evidence.receipt.received",
        actor: `peer:${peer.authority}`,
        time: now,
        caseId: row.case_id,
        envelopeId: row.envelope_id,
        envelopeDigest: row.envelope_digest,
        details: {
          packageId: row.package_id,
          itemId: row.item_id,
          size: signed.size,
          sha256: signed.sha256,
          sealedSha256: signed.sealedSha256,
          receivedAt: signed.receivedAt,
          signerKid: verified.signer.kid,
          peerLog: { origin: signed.log.origin, index: signed.log.index, checkpointSize: checkpoint.size },
        },
      });
    });
    ctx.logger.info("evidence item delivered", { caseId: row.case_id, packageId: row.package_id, itemId: row.item_id, to: peer.authority, size: row.size, sha256: row.sha256 });
    await packageDelivered(ctx, row.package_id);
  }

  async #recordFailure(row: ItemRow, error: unknown): Promise<void> {
    const ctx = this.#ctx;
    const now = ctx.now();
    const code = isValiseError(error) ? error.code : "PEER_UNREACHABLE";
    const message = error instanceof Error ? error.message : String(error);
    const attempts = row.attempts + 1;
    const rejections = REJECTION_CODES.has(code) ? (this.#rejections.get(row.item_id) ?? 0) + 1 : (this.#rejections.get(row.item_id) ?? 0);
    this.#rejections.set(row.item_id, rejections);
    const age = now.getTime() - Date.parse((await ctx.store.read((tx) => tx.evidence.packageCreatedAt(row.package_id))) ?? now.toISOString());
    const giveUp = FINAL_CODES.has(code) || rejections >= this.#options.maxRejections || age >= this.#options.giveUpAfterMs;
    if (giveUp) {
      await ctx.store.transaction(async (tx) => {
        if (!(await tx.evidence.markUploadFailed(row.item_id, attempts, `${code}: ${message}`, now.toISOString()))) return;
        await tx.evidence.finishPackage(row.package_id, "sending", "failed", now.toISOString());
        await appendEntry(tx, {
          kind: "evidence.item.failed",
          actor: "gateway",
          time: now,
          caseId: row.case_id,
          envelopeId: row.envelope_id,
          envelopeDigest: row.envelope_digest,
          details: { packageId: row.package_id, itemId: row.item_id, to: row.peer, code, attempts },
        });
      });
      this.#rejections.delete(row.item_id);
      ctx.logger.error("evidence item failed for good", { caseId: row.case_id, packageId: row.package_id, itemId: row.item_id, to: row.peer, code, attempts, reason: message });
      return;
    }
    const ceiling = Math.min(this.#options.maxBackoffMs, this.#options.initialBackoffMs * 2 ** Math.min(attempts - 1, 30));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    await ctx.store.transaction((tx) => tx.evidence.rescheduleUpload(row.item_id, attempts, now.getTime() + Math.round(delay), `${code}: ${message}`, now.toISOString()));
    ctx.logger.warn("evidence upload interrupted, will resume", { packageId: row.package_id, itemId: row.item_id, to: row.peer, code, attempts, retryInMs: Math.round(delay), reason: message });
  }
}

/** The chunk at which the sealed offset `offset` starts; the receiver acknowledges whole chunks only. */
function chunkAt(offset: number, row: ItemRow): number {
  const index = Math.floor(offset / (row.chunk_size + TAG_BYTES));
  if (offset > row.sealed_size || sealedOffsetOf(index, row.size, row.chunk_size) !== offset) {
    throw new GatewayError("EVIDENCE_RANGE_MISMATCH", `the receiver's offset ${offset} is not a chunk boundary of the sealed stream`, { details: { offset } });
  }
  return index;
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body.toString("utf8")) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The coded error of a refusal (the peer's code, when it sent one). */
function answerError(answer: PeerAnswer): GatewayError {
  const error = answer.json?.["error"] as { code?: unknown; message?: unknown; details?: unknown } | undefined;
  const code = typeof error?.code === "string" ? error.code : "PEER_UNREACHABLE";
  const details = typeof error?.details === "object" && error.details !== null ? (error.details as Record<string, unknown>) : {};
  const message = `the peer answered ${answer.status} ${code}: ${typeof error?.message === "string" ? error.message : ""}`;
  // The peer's code is kept when it is one of ours (it decides what is retried); any other is PEER_UNREACHABLE.
  return new GatewayError(Object.hasOwn(GATEWAY_ERRORS, code) ? (code as GatewayErrorCode) : "PEER_UNREACHABLE", message, { details: { ...details, status: answer.status, peerCode: code } });
}

/**
 * The item's file, read chunk by chunk. It must stay the file that was
 * hashed for the manifest: its device, inode, size and mtime are checked
 * when it is opened and again before the last chunk is sealed, so a file
 * replaced or rewritten in the meantime is never delivered as the manifest
 * describes it (`EVIDENCE_SOURCE_CHANGED`). A change that keeps all four
 * (a deliberate one) is caught by the receiver, which compares the SHA-256
 * of everything it decrypted with the manifest's before it accepts the item.
 */
class PlaintextSource {
  readonly #handle: FileHandle;
  readonly #row: ItemRow;
  readonly #stat: SourceStat;
  readonly #buffer: Buffer;

  private constructor(handle: FileHandle, row: ItemRow, stat: SourceStat) {
    this.#handle = handle;
    this.#row = row;
    this.#stat = stat;
    this.#buffer = Buffer.allocUnsafe(row.chunk_size);
  }

  /** Opens the item's file; `EVIDENCE_SOURCE_CHANGED` unless it is the file that was hashed. */
  static async open(row: ItemRow): Promise<PlaintextSource> {
    if (row.source_path === null || row.source_stat === null) throw new GatewayError("INTERNAL", "an outbound item has no source file");
    let handle: FileHandle;
    try {
      // Not following a link, not blocking on a FIFO swapped in since: the identity check below refuses either.
      handle = await open(row.source_path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (cause) {
      throw new GatewayError("EVIDENCE_FILE_UNREADABLE", `cannot open ${row.source_path}`, { cause, details: { path: row.source_path } });
    }
    const source = new PlaintextSource(handle, row, JSON.parse(row.source_stat) as SourceStat);
    try {
      await source.checkUnchanged();
    } catch (error) {
      await handle.close();
      throw error;
    }
    return source;
  }

  /** `EVIDENCE_SOURCE_CHANGED` unless the open file still has the identity it had when hashed. */
  async checkUnchanged(): Promise<void> {
    if (!sameSource(sourceStatOf(await this.#handle.stat()), this.#stat)) {
      throw new GatewayError("EVIDENCE_SOURCE_CHANGED", `${this.#row.source_path} changed after it was hashed for the manifest`, { details: { path: this.#row.source_path } });
    }
  }

  /** The plaintext of chunk `index` (in a buffer reused by the next call). */
  async chunk(index: number): Promise<Buffer> {
    const { size, chunk_size: chunkSize } = this.#row;
    const length = plaintextLengthOf(index, size, chunkSize);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.#handle.read(this.#buffer, filled, length - filled, index * chunkSize + filled);
      if (bytesRead === 0) throw new GatewayError("EVIDENCE_SOURCE_CHANGED", `${this.#row.source_path} is shorter than when it was hashed`, { details: { path: this.#row.source_path } });
      filled += bytesRead;
    }
    return this.#buffer.subarray(0, length);
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}

/** The sealed bytes of chunks [from, to); `onSent` sees the running total. */
async function* sealedChunks(source: PlaintextSource, params: StreamParams, from: number, to: number, running: () => boolean, onSent: (bytes: number) => void): AsyncGenerator<Buffer> {
  const last = chunkCount(params.size, params.chunkSize) - 1;
  let sent = 0;
  for (let index = from; index < to; index += 1) {
    if (!running()) throw new GatewayError("PEER_UNREACHABLE", "the gateway is stopping; the upload resumes after the restart");
    if (index === last) await source.checkUnchanged();
    // The plaintext buffer is reused: sealChunk has copied it into the ciphertext before the next read.
    const [ciphertext, tag] = sealChunk(params, index, await source.chunk(index));
    if (ciphertext.byteLength > 0) yield ciphertext;
    yield tag;
    sent += ciphertext.byteLength + tag.byteLength;
    onSent(sent);
  }
}

/** Writes an upload's progress to its row, at most every {@link PROGRESS_EVERY_MS}. */
class Progress {
  readonly #ctx: GatewayContext;
  readonly #itemId: string;
  #last = 0;
  #stopped = false;

  constructor(ctx: GatewayContext, itemId: string) {
    this.#ctx = ctx;
    this.#itemId = itemId;
  }

  sent(bytes: number): void {
    const now = Date.now();
    if (this.#stopped || now - this.#last < PROGRESS_EVERY_MS) return;
    this.#last = now;
    this.#write(bytes, null);
  }

  acknowledged(offset: number): void {
    this.#write(offset, offset);
  }

  stop(): void {
    this.#stopped = true;
  }

  #write(sent: number, acked: number | null): void {
    // Progress only: not awaited, and a failure costs nothing but a stale figure.
    this.#ctx.store.transaction((tx) => tx.evidence.uploadProgress(this.#itemId, sent, acked)).catch(() => undefined);
  }
}
