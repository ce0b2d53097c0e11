/**
 * Uploads through the local API: a case system streams a file (a signed
 * letter of request, a court order, a translation, an answer) into a draft
 * before a document names it as an attachment. The protocol is the peer
 * API's for sealed items, on plaintext:
 *
 * 1. `POST /api/v1/uploads {name, mediaType, size, sha256?}` → 201
 *    `{uploadId, …}`: refused before any byte is stored when `size` exceeds
 *    `uploads.maxBytes` (`UPLOAD_TOO_LARGE`) or the media type is not
 *    accepted (`UPLOAD_MEDIA_TYPE_NOT_ALLOWED`).
 * 2. `PUT /api/v1/uploads/:uploadId` with `Content-Range: bytes FIRST-LAST/SIZE`
 *    and the bytes, as many times as needed; FIRST must be where the
 *    upload stands (`EVIDENCE_RANGE_MISMATCH` with the offset otherwise),
 *    SIZE the declared size, Content-Length the range's length
 *    (`EVIDENCE_RANGE_INVALID`): all checked before a byte is read.
 * 3. `HEAD /api/v1/uploads/:uploadId` → `Upload-Offset`, `Upload-Length`:
 *    where to resume after a cut connection.
 *
 * The body is streamed to the file (never whole in memory); what arrived is
 * fsynced before the offset is recorded, so an interrupted PUT keeps its
 * bytes and the next one resumes from there. On the last byte the file's
 * SHA-256 is computed and compared with the declared one: a mismatch
 * discards the upload (`UPLOAD_DIGEST_MISMATCH`). Until then the upload is
 * `receiving`, and no document can carry it (`ATTACHMENT_NOT_READY`).
 *
 * Only the token that created an upload may see or use it: another token
 * gets `UPLOAD_UNKNOWN`, as for an id that does not exist. One PUT at a time
 * per upload, whatever the instance (a lease in the store: `EVIDENCE_ITEM_BUSY`).
 */
import { createHash, randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { Principal } from "../auth/tokens.js";
import type { UploadRow } from "../store/repos/uploads.js";
import type { FieldError } from "../../schemas/validate.js";
import { parseContentRange } from "../evidence/receive.js";
import { sourceStatOf, type SourceStat } from "../evidence/send.js";
import type { HomePaths } from "../home.js";
import type { Job } from "../jobs/runner.js";

/** Largest upload by default: 2 GiB. */
export const DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024;

/** Media types accepted by default. */
export const DEFAULT_UPLOAD_MEDIA_TYPES: readonly string[] = Object.freeze([
  "application/pdf",
  "application/xml",
  "application/json",
  "application/zip",
  "application/msword",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.oasis.opendocument.text",
  "application/pkcs7-signature",
  "text/plain",
  "text/csv",
  "image/png",
  "image/jpeg",
  "image/tiff",
  "message/rfc822",
  "audio/mpeg",
  "video/mp4",
]);

/** An upload as the API shows it. */
export interface UploadView {
  readonly uploadId: string;
  readonly name: string;
  readonly mediaType: string;
  readonly size: number;
  readonly received: number;
  readonly state: "receiving" | "complete" | "attached";
  /** The SHA-256 of the bytes, once complete. */
  readonly sha256: string | null;
  readonly createdAt: string;
  readonly attachedTo: string | null;
  /** When the upload is deleted unless a document names it first; null once attached. */
  readonly expiresAt: string | null;
}

/** Hours an upload no document names is kept (`uploads.keepHours`). */
export const DEFAULT_UPLOAD_KEEP_HOURS = 168;

function keepMs(config: GatewayContext["config"]): number {
  return (config.uploads?.keepHours ?? DEFAULT_UPLOAD_KEEP_HOURS) * 3_600_000;
}

/** The view of a row. */
export function uploadView(ctx: Pick<GatewayContext, "config">, row: UploadRow): UploadView {
  return {
    uploadId: row.upload_id,
    name: row.name,
    mediaType: row.media_type,
    size: Number(row.size),
    received: Number(row.received),
    state: row.state,
    sha256: row.actual_sha256,
    createdAt: row.created_at,
    attachedTo: row.attached_to,
    expiresAt: row.state === "attached" ? null : new Date(Date.parse(row.created_at) + keepMs(ctx.config)).toISOString(),
  };
}

/** Where the bytes of an upload live (beside the evidence, shared by instances). */
export function uploadPath(paths: HomePaths, uploadId: string): string {
  return join(paths.evidence, "uploads", uploadId);
}

function invalid(errors: FieldError[]): GatewayError {
  return new GatewayError("DOCUMENT_INVALID", `the upload has ${errors.length} problem(s); see details.errors`, { details: { errors } });
}

/** File names a receiver may safely show and save: no path, no control characters. */
const NAME = /^[^/\\\u0000-\u001f\u007f]{1,255}$/;

/**
 * Opens an upload for `principal`. Throws `DOCUMENT_INVALID` (the fields),
 * `UPLOAD_TOO_LARGE`, `UPLOAD_MEDIA_TYPE_NOT_ALLOWED` — before anything is stored.
 */
export async function createUpload(ctx: GatewayContext, principal: Principal, body: unknown): Promise<UploadView> {
  const value = body as Record<string, unknown> | null;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid([{ path: "", code: "type", message: "the body must be a JSON object", hint: "Send {name, mediaType, size, sha256?}." }]);
  }
  const errors: FieldError[] = [];
  for (const key of Object.keys(value)) {
    if (!["name", "mediaType", "size", "sha256"].includes(key)) errors.push({ path: `/${key}`, code: "not-allowed", message: `unknown member ${key}`, hint: "An upload has name, mediaType, size and sha256." });
  }
  const { name, mediaType, size, sha256 } = value;
  if (typeof name !== "string" || !NAME.test(name) || name === "." || name === "..") {
    errors.push({ path: "/name", code: "required", message: "name must be a file name of 1 to 255 characters, without / \\ or control characters", hint: "Give the file's name as the receiver should see it, e.g. letter-of-request.pdf." });
  }
  if (typeof mediaType !== "string" || !/^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(mediaType)) {
    errors.push({ path: "/mediaType", code: "required", message: "mediaType must be a media type such as application/pdf", hint: "Give the file's media type in lower case, without parameters." });
  }
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    errors.push({ path: "/size", code: "required", message: "size must be the file's length in bytes", hint: "Give the exact length: the upload is complete when that many bytes arrived." });
  }
  if (sha256 !== undefined && (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256))) {
    errors.push({ path: "/sha256", code: "pattern", message: "sha256 must be 64 lowercase hex characters", hint: "Leave it out, or give the SHA-256 of the whole file: a mismatch discards the upload." });
  }
  if (errors.length > 0) throw invalid(errors);
  const maxBytes = ctx.config.uploads?.maxBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  if ((size as number) > maxBytes) {
    throw new GatewayError("UPLOAD_TOO_LARGE", `the file is ${size} bytes; this gateway accepts at most ${maxBytes}`, { details: { size, maxBytes } });
  }
  const accepted = ctx.config.uploads?.mediaTypes ?? DEFAULT_UPLOAD_MEDIA_TYPES;
  if (!accepted.includes(mediaType as string)) {
    throw new GatewayError("UPLOAD_MEDIA_TYPE_NOT_ALLOWED", `${mediaType} is not a media type this gateway accepts`, { details: { mediaType, accepted } });
  }
  const uploadId = randomUUID();
  const createdAt = ctx.now().toISOString();
  // The file exists (empty) before the row: a row never names a missing file.
  await mkdir(join(ctx.paths.evidence, "uploads"), { recursive: true, mode: 0o700 });
  const handle = await open(uploadPath(ctx.paths, uploadId), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  await handle.close();
  await ctx.store.transaction((tx) =>
    tx.uploads.insert({ uploadId, tokenId: principal.tokenId, name: name as string, mediaType: mediaType as string, size: size as number, sha256: (sha256 as string | undefined) ?? null, createdAt }),
  );
  ctx.logger.info("upload opened", { uploadId, size, mediaType, token: principal.name });
  return uploadView(ctx, (await ctx.store.read((tx) => tx.uploads.get(uploadId)))!);
}

/** The upload `uploadId` of `principal`'s token; `UPLOAD_UNKNOWN` otherwise. */
export async function findUpload(ctx: GatewayContext, principal: Principal, uploadId: string): Promise<UploadRow> {
  const row = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uploadId) ? await ctx.store.read((tx) => tx.uploads.get(uploadId)) : undefined;
  // Another token's upload answers as one that does not exist: ids are not a way to learn of other systems' files.
  if (row === undefined || row.token_id !== principal.tokenId) throw new GatewayError("UPLOAD_UNKNOWN", "no such upload", { details: { uploadId: uploadId.slice(0, 40) } });
  return row;
}

/** How long one PUT holds an upload without finishing (renewed while bytes flow). */
const PUT_LEASE_MS = 60_000;

/**
 * Receives one PUT of an upload. Throws `UPLOAD_UNKNOWN`,
 * `EVIDENCE_RANGE_INVALID`, `EVIDENCE_RANGE_MISMATCH` (details.offset),
 * `EVIDENCE_ITEM_BUSY`, `UPLOAD_DIGEST_MISMATCH`.
 */
export async function receiveUploadPart(
  ctx: GatewayContext,
  principal: Principal,
  uploadId: string,
  contentRange: string | undefined,
  contentLength: string | undefined,
  body: Readable,
): Promise<UploadView> {
  const row = await findUpload(ctx, principal, uploadId);
  const size = Number(row.size);
  const range = parseContentRange(contentRange);
  if (range.total !== size) {
    throw new GatewayError("EVIDENCE_RANGE_INVALID", `the Content-Range total must be the upload's size, ${size}`, { details: { total: range.total, size } });
  }
  if (row.state !== "receiving") {
    if (range.start === undefined) return uploadView(ctx, row);
    throw new GatewayError("EVIDENCE_RANGE_MISMATCH", "the upload is complete", { details: { offset: size } });
  }
  const offset = Number(row.received);
  if (range.start === undefined) {
    throw new GatewayError("EVIDENCE_RANGE_MISMATCH", `the upload stands at ${offset}`, { details: { offset } });
  }
  if (range.start !== offset) throw new GatewayError("EVIDENCE_RANGE_MISMATCH", `the upload stands at ${offset}, not ${range.start}`, { details: { offset } });
  const length = range.end - range.start + 1;
  if (contentLength === undefined || !/^\d{1,16}$/.test(contentLength) || Number(contentLength) !== length) {
    throw new GatewayError("EVIDENCE_RANGE_INVALID", "Content-Length must be given and equal the length of the Content-Range", { details: { contentLength: contentLength ?? null, range: length } });
  }
  const lease = `upload:${uploadId}`;
  const owner = `${ctx.jobs.owner}:${randomUUID()}`;
  const held = await ctx.store.transaction((tx) => tx.leases.acquire(lease, owner, Date.now(), PUT_LEASE_MS));
  if (!held) throw new GatewayError("EVIDENCE_ITEM_BUSY", "another upload of this file is in progress", { details: { uploadId } });
  let written = 0;
  try {
    const handle = await open(uploadPath(ctx.paths, uploadId), constants.O_WRONLY);
    try {
      // Bytes past the recorded offset (a crash between write and record) are overwritten from it.
      await handle.truncate(offset);
      let failure: unknown;
      try {
        for await (const piece of body as AsyncIterable<Buffer>) {
          const room = length - written;
          const part = piece.byteLength > room ? piece.subarray(0, room) : piece;
          if (part.byteLength > 0) await handle.write(part, 0, part.byteLength, offset + written);
          written += part.byteLength;
        }
      } catch (cause) {
        failure = cause; // the client went away: keep what arrived
      }
      await handle.sync();
      await ctx.store.transaction((tx) => tx.uploads.received(uploadId, offset + written));
      if (failure !== undefined) throw failure;
    } finally {
      await handle.close();
    }
    if (written < length) {
      throw new GatewayError("EVIDENCE_RANGE_MISMATCH", `the body ended after ${written} of ${length} bytes; resume from ${offset + written}`, { details: { offset: offset + written } });
    }
    if (offset + written === size) await finishUpload(ctx, row);
  } finally {
    await ctx.store.transaction((tx) => tx.leases.release(lease, owner)).catch(() => undefined);
  }
  return uploadView(ctx, (await ctx.store.read((tx) => tx.uploads.get(uploadId)))!);
}

/** Hashes the complete file; a declared digest that differs discards the upload. */
async function finishUpload(ctx: GatewayContext, row: UploadRow): Promise<void> {
  const path = uploadPath(ctx.paths, row.upload_id);
  const hash = createHash("sha256");
  const handle = await open(path, constants.O_RDONLY);
  try {
    for await (const piece of handle.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false }) as AsyncIterable<Buffer>) hash.update(piece);
  } finally {
    await handle.close();
  }
  const actual = hash.digest("hex");
  if (row.sha256 !== null && row.sha256 !== actual) {
    await ctx.store.transaction((tx) => tx.uploads.remove(row.upload_id));
    await rm(path, { force: true });
    throw new GatewayError("UPLOAD_DIGEST_MISMATCH", "the bytes received do not have the SHA-256 declared; the upload was discarded", {
      details: { uploadId: row.upload_id, declared: row.sha256, received: actual },
    });
  }
  await ctx.store.transaction((tx) => tx.uploads.complete(row.upload_id, actual, ctx.now().toISOString()));
  ctx.logger.info("upload complete", { uploadId: row.upload_id, size: row.size, sha256: actual });
}

/** The identity of a complete upload's file (the uploader checks it is unchanged when it seals it). */
export async function uploadFileStat(paths: HomePaths, uploadId: string): Promise<SourceStat> {
  return sourceStatOf(await stat(uploadPath(paths, uploadId)));
}

/** How many expired uploads one run of the expiry job deletes at most (it runs again at once when there were more). */
const EXPIRY_BATCH = 200;
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Deletes uploads no document named within `uploads.keepHours` of being
 * opened: the row, then the bytes. An upload a document names in the
 * meantime is kept (the row is deleted only while not attached, in one
 * statement, and the bytes only when it was), and one a PUT is writing is
 * left for the next run (the PUT's lease). Files under uploads/ that no row
 * names (a crash between the two steps) are deleted once as old. Returns
 * how many uploads and stray files were deleted.
 */
export async function expireUploads(ctx: GatewayContext): Promise<{ uploads: number; strayFiles: number; more: boolean }> {
  const before = new Date(ctx.now().getTime() - keepMs(ctx.config));
  const due = await ctx.store.read((tx) => tx.uploads.unattachedBefore(before.toISOString(), EXPIRY_BATCH));
  let uploads = 0;
  for (const row of due) {
    const lease = `upload:${row.upload_id}`;
    const owner = `${ctx.jobs.owner}:${randomUUID()}`;
    if (!(await ctx.store.transaction((tx) => tx.leases.acquire(lease, owner, Date.now(), PUT_LEASE_MS)))) continue; // a PUT is writing it
    try {
      if (!(await ctx.store.transaction((tx) => tx.uploads.remove(row.upload_id)))) continue; // a document named it meanwhile
      await rm(uploadPath(ctx.paths, row.upload_id), { force: true });
      uploads += 1;
      ctx.logger.info("upload expired", { uploadId: row.upload_id, state: row.state, createdAt: row.created_at });
    } finally {
      await ctx.store.transaction((tx) => tx.leases.release(lease, owner)).catch(() => undefined);
    }
  }
  let strayFiles = 0;
  const dir = join(ctx.paths.evidence, "uploads");
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [] as string[];
    throw error;
  });
  for (const name of names) {
    if (!UPLOAD_ID.test(name)) continue;
    const file = join(dir, name);
    const info = await stat(file).catch(() => undefined);
    // The file is made before its row: only an old file without a row is stray.
    if (info === undefined || info.mtimeMs >= before.getTime()) continue;
    if ((await ctx.store.read((tx) => tx.uploads.get(name))) !== undefined) continue;
    await rm(file, { force: true });
    strayFiles += 1;
    ctx.logger.info("stray upload file deleted", { uploadId: name });
  }
  return { uploads, strayFiles, more: due.length === EXPIRY_BATCH };
}

/** {@link expireUploads} as a singleton job, hourly. */
export function uploadExpiryJob(ctx: GatewayContext, everyMs = 3_600_000): Job {
  return {
    name: "upload-expiry",
    singleton: true,
    idleMs: everyMs,
    firstRunMs: 60_000,
    async run() {
      const { more } = await expireUploads(ctx);
      return more ? 0 : everyMs;
    },
  };
}
