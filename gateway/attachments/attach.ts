/**
 * Attachments of a document (a request, a preservation request, a status
 * step): files uploaded through the local API that travel with the document
 * as sealed items — the evidence mechanism, not a copy of it. The document
 * is the package's manifest: its `attachments` list names each item with
 * name, media type, size, SHA-256 and item key (schemas/common.schema.json
 * #/$defs/attachments), the package id is the document's envelope id, and
 * the evidence uploader seals and streams each item once the document's
 * receipt is in; the receiver checks every chunk and the digest and signs an
 * item receipt (gateway/evidence/receive.ts), either way.
 *
 * A caller names an upload as `{uploadId, role?, description, language?, sha256?}`;
 * {@link prepareAttachments} refuses, before anything is sealed, an upload
 * that is unknown or another token's (`UPLOAD_UNKNOWN`), not complete
 * (`ATTACHMENT_NOT_READY`), already carried by another document
 * (`ATTACHMENT_ALREADY_USED`) or whose declared SHA-256 differs
 * (`ATTACHMENT_MISMATCH`). {@link recordOutboundAttachments} commits the
 * package with the document, and marks the uploads attached in the same
 * transaction, so a document is never sent naming a file that will not follow.
 */
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { Principal } from "../auth/tokens.js";
import type { Tx } from "../store/store.js";
import type { FieldError } from "../../schemas/validate.js";
import type { OpenedEnvelope } from "../envelope/open.js";
import { DEFAULT_CHUNK_SIZE, STREAM_ALGORITHM, checkStreamParams, itemAad, newItemKey, sealedLength } from "../evidence/stream.js";
import { itemKeyOf, type ItemEncryption } from "../evidence/manifest.js";
import { findUpload, uploadFileStat, uploadPath } from "./upload.js";
import { appendEntry } from "../audit/append.js";

/** Roles an attachment may have. */
export const ATTACHMENT_ROLES = ["letter-of-request", "court-order", "warrant", "translation", "exhibit", "answer", "other"] as const;

/** An attachment as the document carries it (sealed form). */
export interface SealedAttachment {
  readonly itemId: string;
  readonly name: string;
  readonly mediaType: string;
  readonly size: number;
  readonly sha256: string;
  readonly description: string;
  readonly role?: (typeof ATTACHMENT_ROLES)[number];
  readonly language?: string;
  readonly encryption: ItemEncryption;
}

/** An attachment entry of a document: sealed, or a description of a file that does not travel. */
export type DocumentAttachment = SealedAttachment | Omit<SealedAttachment, "itemId" | "encryption" | "size"> & { readonly size?: number };

/** Attachments ready to be sealed into a document and committed with it. */
export interface PreparedAttachments {
  /** The document's `attachments`, in the caller's order. */
  readonly entries: readonly DocumentAttachment[];
  /** The uploads among them, with their files' identity. */
  readonly uploads: ReadonlyArray<{ readonly entry: SealedAttachment; readonly path: string; readonly stat: string }>;
}

function invalid(errors: FieldError[]): GatewayError {
  return new GatewayError("DOCUMENT_INVALID", `the attachments have ${errors.length} problem(s); see details.errors`, { details: { errors } });
}

const REFERENCE_FIELDS = ["uploadId", "role", "description", "language", "sha256"];

/**
 * Turns the caller's `attachments` into the document's: each `{uploadId, …}`
 * becomes a sealed entry (a fresh item key); an entry without `uploadId` is
 * left as it is (the schema checks it). Returns undefined when there is none.
 */
export async function prepareAttachments(ctx: GatewayContext, principal: Principal | { readonly actor: string }, given: unknown): Promise<PreparedAttachments | undefined> {
  if (given === undefined) return undefined;
  if (!Array.isArray(given)) throw invalid([{ path: "/attachments", code: "type", message: "attachments must be a list", hint: "List each file as {uploadId, role, description}." }]);
  if (given.length > 100) throw invalid([{ path: "/attachments", code: "too-many", message: "at most 100 attachments", hint: "Put related files in one ZIP, or send them with a later step." }]);
  const chunkSize = ctx.config.evidence?.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const entries: DocumentAttachment[] = [];
  const uploads: Array<{ entry: SealedAttachment; path: string; stat: string }> = [];
  const seen = new Set<string>();
  for (const [i, raw] of given.entries()) {
    const ref = raw as Record<string, unknown> | null;
    if (typeof ref !== "object" || ref === null || Array.isArray(ref) || ref["uploadId"] === undefined) {
      entries.push(raw as DocumentAttachment); // a described file; validated with the document
      continue;
    }
    const unknown = Object.keys(ref).filter((key) => !REFERENCE_FIELDS.includes(key));
    if (unknown.length > 0) {
      throw invalid(unknown.map((key) => ({ path: `/attachments/${i}/${key}`, code: "not-allowed", message: `"${key}" is set by the gateway from the upload`, hint: `Name an upload with ${REFERENCE_FIELDS.join(", ")} only.` })));
    }
    if (!("tokenId" in principal)) throw new GatewayError("INTERNAL", "only a caller with a token attaches uploads");
    const uploadId = String(ref["uploadId"]);
    if (seen.has(uploadId)) throw invalid([{ path: `/attachments/${i}/uploadId`, code: "duplicate", message: "the same upload is named twice", hint: "Name each upload once." }]);
    seen.add(uploadId);
    const row = await findUpload(ctx, principal, uploadId);
    if (row.state === "attached") {
      throw new GatewayError("ATTACHMENT_ALREADY_USED", `upload ${uploadId} is carried by another document`, { details: { uploadId, attachedTo: row.attached_to } });
    }
    if (row.state !== "complete" || row.actual_sha256 === null) {
      throw new GatewayError("ATTACHMENT_NOT_READY", `upload ${uploadId} has ${row.received} of ${row.size} bytes; upload the rest before sending the document`, {
        details: { uploadId, received: Number(row.received), size: Number(row.size) },
      });
    }
    if (ref["sha256"] !== undefined && ref["sha256"] !== row.actual_sha256) {
      throw new GatewayError("ATTACHMENT_MISMATCH", `the SHA-256 given for upload ${uploadId} is not the uploaded file's`, {
        details: { uploadId, declared: String(ref["sha256"]).slice(0, 64), uploaded: row.actual_sha256 },
      });
    }
    const key = newItemKey();
    const entry: SealedAttachment = {
      itemId: row.upload_id,
      name: row.name,
      mediaType: row.media_type,
      size: Number(row.size),
      sha256: row.actual_sha256,
      description: ref["description"] as string,
      ...(ref["role"] === undefined ? {} : { role: ref["role"] as SealedAttachment["role"] & string }),
      ...(ref["language"] === undefined ? {} : { language: ref["language"] as string }),
      encryption: { alg: STREAM_ALGORITHM, key: Buffer.from(key.key).toString("base64url"), noncePrefix: Buffer.from(key.noncePrefix).toString("base64url"), chunkSize },
    };
    entries.push(entry);
    uploads.push({ entry, path: uploadPath(ctx.paths, row.upload_id), stat: JSON.stringify(await uploadFileStat(ctx.paths, row.upload_id)) });
  }
  return { entries, uploads };
}

/**
 * Commits the outbound package of a document's uploaded attachments (inside
 * the document's transaction): items queued for the uploader, read from the
 * upload files; the uploads marked attached. `ATTACHMENT_ALREADY_USED` (the
 * transaction rolls back) if another document took an upload meanwhile.
 */
export async function recordOutboundAttachments(
  tx: Tx,
  prepared: PreparedAttachments | undefined,
  document: { readonly caseId: string; readonly peer: string; readonly envelopeId: string; readonly envelopeDigest: string; readonly at: Date; readonly actor: string },
): Promise<void> {
  if (prepared === undefined || prepared.uploads.length === 0) return;
  await tx.evidence.insertPackage({
    packageId: document.envelopeId,
    caseId: document.caseId,
    direction: "outbound",
    peer: document.peer,
    envelopeId: document.envelopeId,
    completes: null,
    purpose: "attachments",
    createdAt: document.at.toISOString(),
    items: prepared.uploads.map(({ entry, path, stat }, position) => itemRow(entry, position, path, stat)),
  });
  for (const { entry } of prepared.uploads) {
    if (!(await tx.uploads.attach(entry.itemId, document.envelopeId))) {
      throw new GatewayError("ATTACHMENT_ALREADY_USED", `upload ${entry.itemId} was attached to another document meanwhile`, { details: { uploadId: entry.itemId } });
    }
  }
  // Digests and metadata for the chain of custody; names and descriptions stay in the sealed document.
  await appendEntry(tx, {
    kind: "attachments.sent",
    actor: document.actor,
    time: document.at,
    caseId: document.caseId,
    envelopeId: document.envelopeId,
    envelopeDigest: document.envelopeDigest,
    details: { packageId: document.envelopeId, to: document.peer, items: prepared.uploads.map(({ entry }) => ({ itemId: entry.itemId, size: entry.size, sha256: entry.sha256, mediaType: entry.mediaType })) },
  });
}

/**
 * Records the sealed attachments of a received document (inside the
 * transaction that stores it), ready for the sender's uploads. Entries
 * without `encryption` describe files that do not travel and open nothing.
 * The list is the sender's (hostile): item ids must be distinct and new, and
 * each stream must be one that can be sealed and opened
 * (`EVIDENCE_MANIFEST_INVALID`, `EVIDENCE_PACKAGE_CONFLICT`; the envelope is refused).
 */
export async function recordInboundAttachments(tx: Tx, opened: OpenedEnvelope, storedAt: string): Promise<void> {
  const list = (opened.document as { attachments?: readonly DocumentAttachment[] }).attachments ?? [];
  const sealed = list.filter((entry): entry is SealedAttachment => "encryption" in entry && entry.encryption !== undefined);
  if (sealed.length === 0) return;
  const packageId = opened.envelopeId;
  const ids = new Set<string>();
  for (const entry of sealed) {
    if (ids.has(entry.itemId)) throw new GatewayError("EVIDENCE_MANIFEST_INVALID", "two attachments of the document have the same itemId", { details: { itemId: entry.itemId } });
    ids.add(entry.itemId);
    checkStreamParams({ ...itemKeyOf(entry), size: entry.size, chunkSize: entry.encryption.chunkSize, aad: itemAad(packageId, entry.itemId) });
  }
  try {
    await tx.evidence.insertPackage({
      packageId,
      caseId: opened.header.caseId,
      direction: "inbound",
      peer: opened.header.from,
      envelopeId: opened.envelopeId,
      completes: null,
      purpose: "attachments",
      createdAt: storedAt,
      items: sealed.map((entry, position) => itemRow(entry, position, null, null)),
    });
  } catch (error) {
    if (error instanceof GatewayError && error.code === "STORE_DUPLICATE") {
      throw new GatewayError("EVIDENCE_PACKAGE_CONFLICT", "an attachment with this id already exists", { details: { packageId } });
    }
    throw error;
  }
}

/** The evidence item row of a sealed attachment: outbound with the upload it streams from, inbound without. */
function itemRow(entry: SealedAttachment, position: number, sourcePath: string | null, sourceStat: string | null) {
  const { key, noncePrefix } = itemKeyOf(entry);
  return {
    itemId: entry.itemId,
    position,
    name: entry.name,
    mediaType: entry.mediaType,
    size: entry.size,
    sha256: entry.sha256,
    chunkSize: entry.encryption.chunkSize,
    sealedSize: sealedLength(entry.size, entry.encryption.chunkSize),
    key: Buffer.from(key),
    noncePrefix: Buffer.from(noncePrefix),
    sourcePath,
    sourceStat,
  };
}
