/**
 * Reading a received item: the stored sealed stream is opened as it is read
 * — every chunk's tag checked before its plaintext leaves, the last chunk
 * only after the whole plaintext's SHA-256 matched the manifest's — so a
 * stored file altered on disk is never handed out as evidence. Each read is
 * an `access.read` audit entry (who, which item, why), committed before the
 * first byte leaves.
 */
import { createReadStream } from "node:fs";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import { appendEntry } from "../audit/append.js";
import { SealedStreamReader } from "./stream.js";
import { findCaseItem, streamParamsOf, type ItemRow } from "./items.js";
import { storedPath } from "./sealed-store.js";
import type { HomePaths } from "../home.js";

/** Who reads, for the audit entry. */
export interface Reader {
  /** `token:<name>` or `operator`. */
  readonly actor: string;
  readonly details?: Record<string, string>;
}

/** An item ready to be read. */
export interface ItemReading {
  readonly item: ItemRow;
  /** The plaintext, verified as it is produced; throws the stream's code on a bad chunk. */
  readonly plaintext: AsyncGenerator<Buffer>;
}

/** Bytes read from the store at a time. */
const READ_BYTES = 1024 * 1024;

/**
 * Opens the received item `itemId` of `caseId` for reading, after the read
 * is committed to the audit log. Throws `EVIDENCE_ITEM_UNKNOWN`,
 * `EVIDENCE_ITEM_NOT_RECEIVED` (not (yet) received here, or one this side sent).
 */
export async function readItem(ctx: GatewayContext, caseId: string, itemId: string, reader: Reader): Promise<ItemReading> {
  const item = await ctx.store.read((tx) => findCaseItem(tx, caseId, itemId));
  if (item === undefined) throw new GatewayError("EVIDENCE_ITEM_UNKNOWN", `no evidence item ${itemId} in case ${caseId}`, { details: { caseId, itemId } });
  if (item.direction !== "inbound" || item.state !== "received" || item.sealed_sha256 === null) {
    throw new GatewayError("EVIDENCE_ITEM_NOT_RECEIVED", item.direction === "inbound" ? "the item is not completely received yet" : "this gateway sent that item; only received items are read here", {
      details: { caseId, itemId, state: item.state, direction: item.direction },
    });
  }
  await ctx.store.transaction((tx) =>
    appendEntry(tx, {
      kind: "access.read",
      actor: reader.actor,
      time: ctx.now(),
      caseId,
      envelopeId: item.envelope_id,
      envelopeDigest: item.envelope_digest,
      details: { what: item.purpose === "attachments" ? "attachment" : "evidence", packageId: item.package_id, itemId, size: item.size, sha256: item.sha256, ...reader.details },
    }),
  );
  return { item, plaintext: verifiedPlaintext(ctx, item) };
}

/**
 * The plaintext of a received item, from its stored sealed stream, verified
 * as it is produced (every tag, then the manifest's SHA-256 before the last
 * chunk). Throws the stream's code on a bad chunk. No audit: callers record the read.
 */
export async function* storedPlaintext(paths: HomePaths, item: ItemRow): AsyncGenerator<Buffer> {
  if (item.sealed_sha256 === null) throw new GatewayError("EVIDENCE_ITEM_NOT_RECEIVED", "the item is not received");
  const reader = new SealedStreamReader(streamParamsOf(item), item.sha256);
  for await (const piece of createReadStream(storedPath(paths, item.sealed_sha256), { highWaterMark: READ_BYTES }) as AsyncIterable<Buffer>) {
    for (const chunk of reader.write(piece)) {
      reader.recycle(chunk.sealed); // only the plaintext leaves
      yield chunk.plaintext;
    }
  }
  reader.finish();
}

async function* verifiedPlaintext(ctx: GatewayContext, item: ItemRow): AsyncGenerator<Buffer> {
  try {
    yield* storedPlaintext(ctx.paths, item);
  } catch (error) {
    // Received items verified on arrival: a failure now means the store was altered or damaged.
    const code = (error as { code?: string }).code ?? "INTERNAL";
    ctx.logger.error("a stored evidence item failed verification while being read", { caseId: item.case_id, packageId: item.package_id, itemId: item.item_id, code });
    await ctx.store
      .transaction((tx) =>
        appendEntry(tx, {
          kind: "evidence.item.unreadable",
          actor: "gateway",
          time: ctx.now(),
          caseId: item.case_id,
          envelopeId: item.envelope_id,
          envelopeDigest: item.envelope_digest,
          details: { packageId: item.package_id, itemId: item.item_id, code },
        }),
      )
      .catch(() => undefined);
    throw error;
  }
}
