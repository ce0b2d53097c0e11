/**
 * A caseworker's system sends an evidence package on a case this authority
 * received (it is the requested authority; the evidence goes back to the
 * requesting one). The files are named by path on the gateway's host — the
 * gateway and the caller (the `valise` CLI, or a case system with a shared
 * folder) run on the same machine — so a file of any size never travels
 * through the local API: the gateway reads it in place, twice (once to hash
 * it for the manifest, once to seal and upload it), never whole in memory.
 *
 * Which files: only regular files with a single link, not symbolic links,
 * under `HOME/outgoing` or a folder of `evidence.sendFrom` in valise.json,
 * and never one of the home's own files. A caseworker token (or whoever can
 * write into those folders) must not make the gateway read its own keys, its
 * database or any other file of its host and ship it to a foreign authority,
 * nor hang its thread pool on a FIFO, nor learn which host paths exist
 * (see {@link resolveSource}).
 *
 * In one transaction: the manifest envelope and its outbox row, the package
 * and item rows (with each file's identity: device, inode, size, mtime, so a
 * file changed before it is uploaded is caught), and the audit entries. The
 * answer goes out after that commit; the manifest is then delivered by the
 * outbox, and the items by the uploader once the manifest is receipted.
 */
import { assertStepAllowed, completionStep } from "./delivered.js";
import { createHash, randomUUID } from "node:crypto";
import { lstat, open, readlink, realpath, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, extname, join, resolve, sep } from "node:path";
import { constants, type Stats } from "node:fs";
import { sealEnvelope } from "../envelope/seal.js";
import { canonicalize } from "../envelope/canonical-json.js";
import { appendEntry } from "../audit/append.js";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { Principal } from "../auth/tokens.js";
import type { FieldError } from "../../schemas/validate.js";
import { storeOutboundEnvelope } from "../exchange/store.js";
import { DEFAULT_CHUNK_SIZE, STREAM_ALGORITHM, newItemKey, sealedLength } from "./stream.js";
import { MANIFEST_TYPE, insertPackage, type Completes, type EvidenceManifest, type ItemSource, type ManifestItem } from "./manifest.js";

/** One file to send, as the caseworker describes it. */
export interface ItemToSend {
  /** Absolute path on the gateway's host. */
  readonly path: string;
  /** The file name the receiver sees (default: the path's base name). */
  readonly name?: string;
  /** Default: from the extension, else application/octet-stream. */
  readonly mediaType?: string;
  readonly description: string;
  readonly source: ItemSource;
  readonly acquiredAt: string;
  readonly legalInstrument: string;
}

/** The body of `POST /api/v1/cases/:caseId/evidence`. */
export interface PackageToSend {
  readonly completes: Completes;
  readonly note?: string;
  /** Plaintext bytes per sealed chunk (default: valise.json evidence.chunkSize, else 1 MiB). */
  readonly chunkSize?: number;
  readonly items: readonly ItemToSend[];
}

/** The answer to a send. */
export interface SentPackage {
  readonly caseId: string;
  readonly packageId: string;
  readonly envelopeId: string;
  readonly envelopeDigest: string;
  readonly completes: Completes;
  readonly items: ReadonlyArray<{ itemId: string; name: string; path: string; size: number; sha256: string; sealedSize: number }>;
}

/** The identity of a file at hashing time: if any of it changes, the file is not the one described. */
export interface SourceStat {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

const MEDIA_TYPES: Readonly<Record<string, string>> = {
  ".pdf": "application/pdf",
  ".csv": "text/csv",
  ".txt": "text/plain",
  ".log": "text/plain",
  ".json": "application/json",
  ".xml": "application/xml",
  ".zip": "application/zip",
  ".gz": "application/gzip",
  ".tar": "application/x-tar",
  ".mbox": "application/mbox",
  ".eml": "message/rfc822",
  ".pst": "application/vnd.ms-outlook",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".mp4": "video/mp4",
  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
};

/** The folder every home may send from. */
export function outgoingFolder(ctx: Pick<GatewayContext, "paths">): string {
  return join(ctx.paths.root, "outgoing");
}

/** The identity of a file from its stats. */
export function sourceStatOf(stats: Stats): SourceStat {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
}

/** True when two identities name the same unchanged file. */
export function sameSource(a: SourceStat, b: SourceStat): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

function invalid(errors: FieldError[]): GatewayError {
  return new GatewayError("DOCUMENT_INVALID", `the evidence package has ${errors.length} problem(s); see details.errors`, { details: { errors } });
}

/**
 * Sends a package on `caseId` on behalf of `principal`. Throws
 * `CASE_UNKNOWN`, `EVIDENCE_CASE_DIRECTION`, `DOCUMENT_INVALID` (every
 * failing field, manifest paths such as `/items/0/acquiredAt`),
 * `EVIDENCE_PATH_NOT_ALLOWED` (outside the allowed folders, in the home, a
 * link: one answer whatever the reason), `EVIDENCE_FILE_UNREADABLE` (in an
 * allowed folder: missing, not a regular file, no permission),
 * `EVIDENCE_SOURCE_CHANGED` (a file changed while it was hashed).
 */
export async function sendPackage(ctx: GatewayContext, caseId: string, body: unknown, principal: Principal): Promise<SentPackage> {
  const kase = await ctx.store.read((tx) => tx.cases.get(caseId));
  if (kase === undefined) throw new GatewayError("CASE_UNKNOWN", `no case ${caseId}`);
  if (kase.direction !== "inbound") {
    throw new GatewayError("EVIDENCE_CASE_DIRECTION", "evidence is sent on a case this authority received; this case is one it sent", { details: { caseId } });
  }
  const peer = ctx.peers.get(kase.peer);
  const request = checkRequest(body);
  const chunkSize = request.chunkSize ?? ctx.config.evidence?.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const packageId = randomUUID();
  const createdAt = ctx.now().toISOString();

  // Which files, before any is read: allowed folders, regular files.
  const folders = await sendFolders(ctx);
  const files = await Promise.all(request.items.map((item, i) => resolveSource(ctx, item.path, folders, i)));
  // The package will move the case when it is delivered (see delivered.ts):
  // refused now, before any hashing, if the case cannot take that step.
  await assertStepAllowed(ctx, caseId, completionStep(request.completes));

  // The descriptive fields are checked before the (long) hashing pass.
  const draft = (hashes: ReadonlyArray<{ size: number; sha256: string }>): { manifest: EvidenceManifest; keys: ManifestItem["encryption"][] } => {
    const keys = request.items.map(() => {
      const key = newItemKey();
      return { alg: STREAM_ALGORITHM, key: Buffer.from(key.key).toString("base64url"), noncePrefix: Buffer.from(key.noncePrefix).toString("base64url"), chunkSize } as const;
    });
    const manifest: EvidenceManifest = {
      kind: MANIFEST_TYPE,
      caseId,
      packageId,
      createdAt,
      completes: request.completes,
      ...(request.note === undefined ? {} : { note: request.note }),
      items: request.items.map((item, i) => ({
        itemId: randomUUID(),
        name: item.name ?? basename(files[i]!.path),
        mediaType: item.mediaType ?? MEDIA_TYPES[extname(files[i]!.path).toLowerCase()] ?? "application/octet-stream",
        size: hashes[i]!.size,
        sha256: hashes[i]!.sha256,
        description: item.description,
        source: item.source,
        acquiredAt: item.acquiredAt,
        legalInstrument: item.legalInstrument,
        encryption: keys[i]!,
      })),
    };
    return { manifest, keys };
  };
  const provisional = draft(files.map((file) => ({ size: file.stat.size, sha256: "0".repeat(64) }))).manifest;
  const checked = ctx.validator.validateDocument(MANIFEST_TYPE, provisional);
  if (!checked.valid) throw invalid(checked.errors);

  const hashes: Array<{ size: number; sha256: string; stat: SourceStat }> = [];
  for (const file of files) hashes.push(await hashFile(file.path, file.stat));
  const { manifest } = draft(hashes);
  ctx.validator.assertDocument(MANIFEST_TYPE, manifest);

  const sealed = await sealEnvelope({
    document: manifest as unknown as Record<string, unknown>,
    type: MANIFEST_TYPE,
    from: ctx.authority,
    to: peer.authority,
    caseId,
    priority: kase.priority,
    createdAt,
    signer: ctx.identity.signer,
    recipient: { publicKey: peer.encryptionKey },
  });
  const sources = new Map(manifest.items.map((item, i) => [item.itemId, { path: files[i]!.path, stat: JSON.stringify(hashes[i]!.stat) }]));
  const now = ctx.now();
  await ctx.store.transaction(async (tx) => {
    await storeOutboundEnvelope(tx, sealed, canonicalize(manifest), now);
    await insertPackage(tx, manifest, { direction: "outbound", peer: peer.authority, envelopeId: sealed.envelopeId, createdAt: now.toISOString(), sources });
    const actor = `token:${principal.name}`;
    await appendEntry(tx, {
      kind: "envelope.sent",
      actor,
      time: now,
      caseId,
      envelopeId: sealed.envelopeId,
      envelopeDigest: sealed.envelopeDigest,
      details: { type: MANIFEST_TYPE, to: peer.authority, priority: kase.priority },
    });
    await appendEntry(tx, {
      kind: "evidence.package.sent",
      actor,
      time: now,
      caseId,
      envelopeId: sealed.envelopeId,
      envelopeDigest: sealed.envelopeDigest,
      // Digests and metadata; names and descriptions stay in the sealed manifest.
      details: {
        packageId,
        to: peer.authority,
        completes: manifest.completes,
        items: manifest.items.map((item) => ({ itemId: item.itemId, size: item.size, sha256: item.sha256, mediaType: item.mediaType })),
      },
    });
  });
  ctx.wakeDelivery();
  ctx.logger.info("evidence package queued", { caseId, packageId, envelopeId: sealed.envelopeId, to: peer.authority, items: manifest.items.length, bytes: manifest.items.reduce((sum, item) => sum + item.size, 0) });
  return {
    caseId,
    packageId,
    envelopeId: sealed.envelopeId,
    envelopeDigest: sealed.envelopeDigest,
    completes: manifest.completes,
    items: manifest.items.map((item, i) => ({ itemId: item.itemId, name: item.name, path: files[i]!.path, size: item.size, sha256: item.sha256, sealedSize: sealedLength(item.size, chunkSize) })),
  };
}

/** The request's shape (the manifest schema checks the descriptive fields). */
function checkRequest(body: unknown): PackageToSend {
  const errors: FieldError[] = [];
  const problem = (path: string, code: FieldError["code"], message: string, hint: string): void => {
    errors.push({ path, code, message, hint });
  };
  const value = body as Partial<Record<keyof PackageToSend, unknown>> | null;
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid([{ path: "", code: "type", message: "the body must be a JSON object", hint: "Send {completes, items: [{path, description, source, acquiredAt, legalInstrument}]}." }]);
  for (const key of Object.keys(value)) {
    if (!["completes", "note", "chunkSize", "items"].includes(key)) problem(`/${key}`, "not-allowed", `unknown member ${key}`, "Remove it: a package has completes, note, chunkSize and items.");
  }
  if (value.completes !== "executed" && value.completes !== "partially-executed") {
    problem("/completes", "enum", "completes must be executed or partially-executed", "Say whether this package completes the request (executed) or is one part of the answer (partially-executed).");
  }
  if (value.chunkSize !== undefined && (!Number.isSafeInteger(value.chunkSize) || (value.chunkSize as number) < 65536 || (value.chunkSize as number) > 16777216)) {
    problem("/chunkSize", "too-large", "chunkSize must be an integer from 65536 to 16777216", "Leave it out to use the gateway's default (1 MiB).");
  }
  if (!Array.isArray(value.items) || value.items.length === 0 || value.items.length > 10000) {
    problem("/items", "too-few", "items must list 1 to 10000 files", "Give one entry per file: {path, description, source, acquiredAt, legalInstrument}.");
  } else {
    value.items.forEach((item: unknown, i) => {
      const path = (item as { path?: unknown } | null)?.path;
      if (typeof path !== "string" || !path.startsWith("/")) {
        problem(`/items/${i}/path`, "required", "path must be the absolute path of the file on the gateway's host", "The gateway reads the file in place: give its absolute path, in HOME/outgoing or a folder of evidence.sendFrom.");
      }
    });
  }
  if (errors.length > 0) throw invalid(errors);
  return value as unknown as PackageToSend;
}

/**
 * The folders files may be sent from: each as configured (`lexical`, for a
 * check that touches no file) and resolved (`real`, symbolic links followed);
 * and the home, none of whose own files may ever be sent.
 */
interface SendFolders {
  readonly allowed: ReadonlyArray<{ readonly lexical: string; readonly real: string }>;
  /** The home and its outgoing folder, resolved: a file under `home` but not under `outgoing` is the gateway's own. */
  readonly home: string;
  readonly outgoing: string | undefined;
}

/** The folders of {@link SendFolders}; an absent folder allows nothing. */
async function sendFolders(ctx: GatewayContext): Promise<SendFolders> {
  const allowed: Array<{ lexical: string; real: string }> = [];
  let outgoing: string | undefined;
  for (const folder of [outgoingFolder(ctx), ...(ctx.config.evidence?.sendFrom ?? [])]) {
    try {
      const real = await realpath(folder);
      allowed.push({ lexical: resolve(folder), real });
      if (folder === outgoingFolder(ctx)) outgoing = real;
    } catch {
      // an absent folder allows nothing
    }
  }
  let home = ctx.paths.root;
  try {
    home = await realpath(home);
  } catch {
    // the home exists while the gateway runs; keep the configured path
  }
  return { allowed, home, outgoing };
}

/** True when `path` is `folder` or inside it. */
function within(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : `${folder}${sep}`);
}

/** True when the resolved `real` path is a file the gateway may read for sending: in an allowed folder, and not one of the home's own. */
function mayRead(real: string, folders: SendFolders): boolean {
  if (!folders.allowed.some((folder) => within(real, folder.real))) return false;
  return !within(real, folders.home) || (folders.outgoing !== undefined && within(real, folders.outgoing) && real !== folders.outgoing);
}

/**
 * The file at `path`, if it is one the gateway may send: a regular file with
 * a single link, not a symbolic link, under an allowed folder and not one of
 * the home's own files.
 *
 * The path is hostile (any string a token holder sends), and so is whoever
 * writes into the allowed folders:
 * - A symbolic or hard link in `outgoing` would ship any file of the host
 *   (the root CA key, the database) byte-identical to a foreign authority:
 *   the file's folder is resolved before the folder check, the file itself
 *   must not be a symbolic link (lstat, then O_NOFOLLOW) and must have one
 *   link only; after opening, where the descriptor really is must be in an
 *   allowed folder, with the device and inode of the file opened.
 * - A FIFO or a device would block a thread of libuv's pool for ever in
 *   open(2) (five sends, and the gateway's file system work stops): only
 *   regular files, told by lstat before any open, and the open is
 *   O_NONBLOCK, its descriptor checked again with fstat.
 * - The answer must not tell whether an arbitrary host path exists: every
 *   refusal for a path that is (or leads) outside the allowed folders is the
 *   same `EVIDENCE_PATH_NOT_ALLOWED`, same message, same details, whatever
 *   the reason; `EVIDENCE_FILE_UNREADABLE` only for a path whose folder
 *   really is an allowed one (missing there, a folder, a FIFO, no permission).
 */
async function resolveSource(ctx: GatewayContext, path: string, folders: SendFolders, index: number): Promise<{ path: string; stat: SourceStat }> {
  const notAllowed = (reason: string, cause?: unknown): GatewayError => {
    // The reason is for the operator's log only; the caller gets one answer for all of them.
    ctx.logger.warn("evidence file refused", { path, item: index, reason });
    return new GatewayError(
      "EVIDENCE_PATH_NOT_ALLOWED",
      `${path} is not a file the gateway may send: a regular file with a single link, not a symbolic link, in HOME/outgoing or a folder of evidence.sendFrom`,
      { ...(cause === undefined ? {} : { cause }), details: { path, item: index, allowed: folders.allowed.map((folder) => folder.lexical) } },
    );
  };
  const unreadable = (why: string, cause?: unknown): GatewayError =>
    new GatewayError("EVIDENCE_FILE_UNREADABLE", `cannot send ${path}: ${why}`, { ...(cause === undefined ? {} : { cause }), details: { path, item: index } });

  // 1. Lexically, before any file is touched: nothing outside the allowed folders is even looked at.
  const lexical = resolve(path);
  if (!folders.allowed.some((folder) => within(lexical, folder.lexical) || within(lexical, folder.real))) throw notAllowed("outside the allowed folders");
  // 2. Where its folder really is (links in the folder part followed); the file itself is not followed.
  let folder: string;
  try {
    folder = await realpath(dirname(lexical));
  } catch (cause) {
    throw notAllowed("its folder does not resolve", cause);
  }
  const candidate = join(folder, basename(lexical));
  if (!mayRead(candidate, folders)) throw notAllowed("it resolves outside the allowed folders, or into the home");
  // 3. What it is, without opening it.
  let before: Stats;
  try {
    before = await lstat(candidate);
  } catch (cause) {
    throw unreadable((cause as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "it cannot be read", cause);
  }
  if (before.isSymbolicLink()) throw notAllowed("a symbolic link");
  if (!before.isFile()) throw unreadable("not a regular file");
  if (before.nlink !== 1) throw notAllowed(`a file with ${before.nlink} links`);
  // 4. Opened without following a link and without blocking, then checked again on the descriptor.
  let handle: FileHandle;
  try {
    handle = await open(candidate, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ELOOP") throw notAllowed("a symbolic link", cause);
    throw unreadable("it cannot be read", cause);
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) throw unreadable("not a regular file");
    if (opened.nlink !== 1) throw notAllowed(`a file with ${opened.nlink} links`);
    // 5. Where the descriptor really is (Linux: /proc/self/fd; elsewhere the path resolved again) must be
    //    inside the allowed folders and name the file opened: a folder swapped for a link meanwhile is caught.
    let real: string;
    let named: Stats;
    try {
      real = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => realpath(candidate));
      named = await stat(real);
    } catch (cause) {
      throw notAllowed("it moved while it was checked", cause);
    }
    if (!mayRead(real, folders) || named.dev !== opened.dev || named.ino !== opened.ino) throw notAllowed("the file opened is not the one the path names");
    return { path: real, stat: sourceStatOf(opened) };
  } finally {
    await handle.close();
  }
}

/**
 * Size and SHA-256 of a file, read as a stream from a descriptor opened as in
 * {@link resolveSource} (no link followed, no blocking open); it must be the
 * file checked then, unchanged to the end, else `EVIDENCE_SOURCE_CHANGED`.
 */
async function hashFile(path: string, before: SourceStat): Promise<{ size: number; sha256: string; stat: SourceStat }> {
  const changed = (cause?: unknown): GatewayError =>
    new GatewayError("EVIDENCE_SOURCE_CHANGED", `${path} changed while it was being hashed`, { ...(cause === undefined ? {} : { cause }), details: { path } });
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (cause) {
    throw changed(cause);
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile() || !sameSource(before, sourceStatOf(opened))) throw changed();
    const hash = createHash("sha256");
    let size = 0;
    for await (const piece of handle.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false }) as AsyncIterable<Buffer>) {
      hash.update(piece);
      size += piece.byteLength;
    }
    const after = sourceStatOf(await handle.stat());
    if (!sameSource(before, after) || size !== after.size) throw changed();
    return { size, sha256: hash.digest("hex"), stat: after };
  } finally {
    await handle.close();
  }
}
