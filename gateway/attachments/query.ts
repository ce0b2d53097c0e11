/**
 * The attachments of a case as a caseworker sees them: every file that
 * travelled (or travels) with a document of the case, either way — what the
 * document says of it (name, media type, size, SHA-256, role, description),
 * its transfer state and its item receipt, never its key. Listing names and
 * descriptions is a read of case documents: an `access.read` audit entry
 * (`what: "attachments-list"`) is committed before the answer.
 */
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import { appendEntry } from "../audit/append.js";
import type { Reader } from "../evidence/download.js";
import type { ItemState } from "../evidence/items.js";
import type { DocumentAttachment } from "./attach.js";

/** One attachment as listed. */
export interface ListedAttachment {
  /** The document that carries it. */
  readonly envelopeId: string;
  readonly envelopeDigest: string;
  readonly direction: "outbound" | "inbound";
  readonly itemId: string;
  readonly name: string;
  readonly mediaType: string;
  readonly size: number;
  readonly sha256: string;
  readonly role: string | null;
  readonly language: string | null;
  readonly description: string;
  readonly state: ItemState;
  readonly receivedAt: string | null;
  /** The signed item receipt: the peer's (outbound, verified) or ours (inbound). */
  readonly receipt: string | null;
}

/** Every attachment of `caseId`, documents oldest first, in each document's order; the read audited first. `CASE_UNKNOWN` if no such case. */
export async function listAttachments(ctx: GatewayContext, caseId: string, reader: Reader): Promise<ListedAttachment[]> {
  const listed = await ctx.store.read(async (tx) => {
    if ((await tx.cases.get(caseId)) === undefined) throw new GatewayError("CASE_UNKNOWN", `no case ${caseId}`);
    const out: ListedAttachment[] = [];
    for (const pkg of await tx.evidence.packagesOfCase(caseId, "attachments")) {
      const described = new Map(
        ((JSON.parse(pkg.document) as { attachments?: DocumentAttachment[] }).attachments ?? []).flatMap((entry) => ("itemId" in entry ? [[entry.itemId, entry] as const] : [])),
      );
      for (const item of await tx.evidence.itemsOfPackage(pkg.package_id)) {
        const entry = described.get(item.item_id);
        out.push({
          envelopeId: pkg.envelope_id,
          envelopeDigest: pkg.digest,
          direction: pkg.direction,
          itemId: item.item_id,
          name: item.name,
          mediaType: item.media_type,
          size: Number(item.size),
          sha256: item.sha256,
          role: entry?.role ?? null,
          language: entry?.language ?? null,
          description: entry?.description ?? "",
          state: item.state,
          receivedAt: item.received_at,
          receipt: item.receipt,
        });
      }
    }
    return out;
  });
  if (listed.length > 0) {
    await ctx.store.transaction((tx) =>
      appendEntry(tx, {
        kind: "access.read",
        actor: reader.actor,
        time: ctx.now(),
        caseId,
        details: { what: "attachments-list", items: listed.map((a) => a.itemId), ...reader.details },
      }),
    );
  }
  return listed;
}
