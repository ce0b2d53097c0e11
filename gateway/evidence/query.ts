/**
 * The evidence of a case as a caseworker sees it: packages, sent or
 * received, with each item's description, state, progress and receipt —
 * never an item key.
 */
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import { itemsOfPackage, type ItemRow, type ItemState, type PackageState } from "./items.js";
import type { EvidenceManifest, ManifestItem } from "./manifest.js";

/** One item as listed. */
export interface ListedItem extends Omit<ManifestItem, "encryption"> {
  readonly chunkSize: number;
  /** Length of the sealed stream. */
  readonly sealedSize: number;
  readonly state: ItemState;
  /** Sealed bytes acknowledged by the receiver (outbound) or stored and verified (inbound). */
  readonly ackedBytes: number;
  /** Outbound: sealed bytes pushed so far (progress). */
  readonly sentBytes: number;
  readonly receivedAt: string | null;
  /** Inbound: the content address of the stored sealed stream. */
  readonly sealedSha256: string | null;
  /** The item receipt: the peer's (outbound, verified) or ours (inbound). */
  readonly receipt: string | null;
  readonly attempts: number;
  readonly lastError: string | null;
}

/** One package as listed. */
export interface ListedPackage {
  readonly packageId: string;
  readonly direction: "outbound" | "inbound";
  readonly peer: string;
  readonly state: PackageState;
  readonly completes: string;
  readonly note: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  /** The manifest envelope. */
  readonly envelopeId: string;
  readonly envelopeDigest: string;
  /** Outbound: the manifest's delivery (`pending`, `delivered`, `failed`). */
  readonly manifestDelivery: string | null;
  readonly items: readonly ListedItem[];
}

/** The evidence packages of `caseId`, oldest first. `CASE_UNKNOWN` when there is no such case. */
export async function listEvidence(ctx: GatewayContext, caseId: string): Promise<{ caseId: string; packages: ListedPackage[] }> {
  return ctx.store.read(async (tx) => {
    if ((await tx.cases.get(caseId)) === undefined) throw new GatewayError("CASE_UNKNOWN", `no case ${caseId}`);
    const packages: ListedPackage[] = [];
    for (const row of await tx.evidence.packagesOfCase(caseId)) {
      const manifest = JSON.parse(row.document) as EvidenceManifest;
      const described = new Map(manifest.items.map((item) => [item.itemId, item]));
      packages.push({
        packageId: row.package_id,
        direction: row.direction,
        peer: row.peer,
        state: row.state,
        completes: row.completes,
        note: manifest.note ?? null,
        createdAt: row.created_at,
        finishedAt: row.finished_at,
        envelopeId: row.envelope_id,
        envelopeDigest: row.digest,
        manifestDelivery: row.outbox_state,
        items: (await itemsOfPackage(tx, row.package_id)).map((item) => listedItem(item, described.get(item.item_id))),
      });
    }
    return { caseId, packages };
  });
}

function listedItem(row: ItemRow, described: EvidenceManifest["items"][number] | undefined): ListedItem {
  return {
    itemId: row.item_id,
    name: row.name,
    mediaType: row.media_type,
    size: row.size,
    sha256: row.sha256,
    description: described?.description ?? "",
    source: described?.source ?? { organisation: "" },
    acquiredAt: described?.acquiredAt ?? "",
    legalInstrument: described?.legalInstrument ?? "",
    chunkSize: row.chunk_size,
    sealedSize: row.sealed_size,
    state: row.state,
    ackedBytes: row.acked_bytes,
    sentBytes: row.sent_bytes,
    receivedAt: row.received_at,
    sealedSha256: row.sealed_sha256,
    receipt: row.receipt,
    attempts: row.attempts,
    lastError: row.last_error,
  };
}
