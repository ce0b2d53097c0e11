/**
 * The evidence of a case as a caseworker sees it: packages, sent or
 * received, with each item's description, state, progress and receipt —
 * never an item key.
 *
 * Two views. {@link listEvidence} shows what the manifests say (names,
 * media types, sizes, digests, descriptions, provenance, notes): that is a
 * read of case documents, so it is an `access.read` audit entry (`what:
 * "evidence-list"`, the manifests shown) committed before the answer, like
 * any other read. {@link evidenceProgress} shows only how the transfers
 * stand (states, sealed bytes, errors), nothing of the manifests, and is not
 * audited: it is what a sender polls while an upload runs, which would
 * otherwise write an entry every half second.
 */
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { Tx } from "../store/store.js";
import type { PackageRow } from "../store/repos/evidence.js";
import { appendEntry } from "../audit/append.js";
import type { Reader } from "./download.js";
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

/** One item of {@link evidenceProgress}: how its transfer stands, nothing of the manifest. */
export type ProgressItem = Pick<ListedItem, "itemId" | "state" | "sealedSize" | "ackedBytes" | "sentBytes" | "receivedAt" | "attempts" | "lastError">;

/** One package of {@link evidenceProgress}. */
export type PackageProgress = Omit<ListedPackage, "note" | "items"> & { readonly items: readonly ProgressItem[] };

async function packageRows(tx: Tx, caseId: string): Promise<PackageRow[]> {
  if ((await tx.cases.get(caseId)) === undefined) throw new GatewayError("CASE_UNKNOWN", `no case ${caseId}`);
  return tx.evidence.packagesOfCase(caseId);
}

/**
 * The evidence packages of `caseId`, oldest first, with what their
 * manifests say; the read by `reader` is audited (committed) first when
 * there is any package to show. `CASE_UNKNOWN` when there is no such case.
 */
export async function listEvidence(ctx: GatewayContext, caseId: string, reader: Reader): Promise<{ caseId: string; packages: ListedPackage[] }> {
  const rows = await ctx.store.read((tx) => packageRows(tx, caseId));
  if (rows.length > 0) {
    await ctx.store.transaction((tx) =>
      appendEntry(tx, {
        kind: "access.read",
        actor: reader.actor,
        time: ctx.now(),
        caseId,
        details: {
          what: "evidence-list",
          manifests: rows.map((row) => ({ packageId: row.package_id, envelopeId: row.envelope_id, envelopeDigest: row.digest })),
          ...reader.details,
        },
      }),
    );
  }
  const packages: ListedPackage[] = [];
  for (const row of rows) {
    const items = await ctx.store.read((tx) => itemsOfPackage(tx, row.package_id));
    packages.push(((): ListedPackage => {
      const manifest = JSON.parse(row.document) as EvidenceManifest;
      const described = new Map(manifest.items.map((item) => [item.itemId, item]));
      return {
        packageId: row.package_id,
        direction: row.direction,
        peer: row.peer,
        state: row.state,
        completes: row.completes as string, // evidence packages only (packagesOfCase)
        note: manifest.note ?? null,
        createdAt: row.created_at,
        finishedAt: row.finished_at,
        envelopeId: row.envelope_id,
        envelopeDigest: row.digest,
        manifestDelivery: row.outbox_state,
        items: items.map((item) => listedItem(item, described.get(item.item_id))),
      };
    })());
  }
  return { caseId, packages };
}

/** How the transfers of `caseId`'s packages stand, oldest first: nothing of the manifests, not audited. `CASE_UNKNOWN` when there is no such case. */
export async function evidenceProgress(ctx: GatewayContext, caseId: string): Promise<{ caseId: string; packages: PackageProgress[] }> {
  return ctx.store.read(async (tx) => {
    const packages: PackageProgress[] = [];
    for (const row of await packageRows(tx, caseId)) {
      const items = await itemsOfPackage(tx, row.package_id);
      packages.push({
      packageId: row.package_id,
      direction: row.direction,
      peer: row.peer,
      state: row.state,
      completes: row.completes as string, // evidence packages only (packagesOfCase)
      createdAt: row.created_at,
      finishedAt: row.finished_at,
      envelopeId: row.envelope_id,
      envelopeDigest: row.digest,
      manifestDelivery: row.outbox_state,
      items: items.map((item) => ({
        itemId: item.item_id,
        state: item.state,
        sealedSize: item.sealed_size,
        ackedBytes: item.acked_bytes,
        sentBytes: item.sent_bytes,
        receivedAt: item.received_at,
        attempts: item.attempts,
        lastError: item.last_error,
      })),
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
