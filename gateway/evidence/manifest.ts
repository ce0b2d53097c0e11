/**
 * The evidence manifest (schemas/evidence-manifest.schema.json): its types,
 * the item rows a received manifest opens, and the view of a manifest that
 * leaves out the item keys.
 *
 * A received manifest is recorded in the same transaction as its envelope
 * (gateway/exchange/receive.ts calls {@link recordInboundPackage}), so an
 * upload is accepted only for items of a manifest that was opened, checked
 * and committed — and only from the peer that sent that manifest.
 */
import { GatewayError } from "../errors.js";
import type { OpenedEnvelope } from "../envelope/open.js";
import { decodeBase64url } from "../envelope/serialization.js";
import type { Tx } from "../store/store.js";
import { STREAM_ALGORITHM, checkStreamParams, itemAad, sealedLength } from "./stream.js";

/** The envelope (and document) type of a manifest. */
export const MANIFEST_TYPE = "evidence-manifest";

/** How the sender says the package changes the case. */
export type Completes = "partially-executed" | "executed";

/** Where an item comes from. */
export interface ItemSource {
  readonly organisation: string;
  readonly country?: string;
  readonly system?: string;
  readonly custodian?: string;
  readonly reference?: string;
}

/** An item's encryption, as the manifest carries it (the key is secret). */
export interface ItemEncryption {
  readonly alg: typeof STREAM_ALGORITHM;
  /** base64url of the 32-byte key. */
  readonly key: string;
  /** base64url of the 7-byte nonce prefix. */
  readonly noncePrefix: string;
  readonly chunkSize: number;
}

/** One item of a manifest. */
export interface ManifestItem {
  readonly itemId: string;
  readonly name: string;
  readonly mediaType: string;
  readonly size: number;
  readonly sha256: string;
  readonly description: string;
  readonly source: ItemSource;
  readonly acquiredAt: string;
  readonly legalInstrument: string;
  readonly encryption: ItemEncryption;
}

/** A manifest. */
export interface EvidenceManifest {
  readonly kind: typeof MANIFEST_TYPE;
  readonly caseId: string;
  readonly packageId: string;
  readonly createdAt: string;
  readonly completes: Completes;
  readonly note?: string;
  readonly items: readonly ManifestItem[];
}

/** A manifest item without its key and nonce prefix. */
export type PublicManifestItem = Omit<ManifestItem, "encryption"> & { readonly encryption: Pick<ItemEncryption, "alg" | "chunkSize"> };

/** A manifest without item keys: what listings and exports show. */
export type PublicManifest = Omit<EvidenceManifest, "items"> & { readonly items: readonly PublicManifestItem[] };

/** The manifest with every item key and nonce prefix left out. */
export function withoutKeys(manifest: EvidenceManifest): PublicManifest {
  return {
    ...manifest,
    items: manifest.items.map((item) => ({ ...item, encryption: { alg: item.encryption.alg, chunkSize: item.encryption.chunkSize } })),
  };
}

/** The key and nonce prefix of a manifest item (or of an attachment), decoded. */
export function itemKeyOf(item: Pick<ManifestItem, "encryption">): { key: Uint8Array; noncePrefix: Uint8Array } {
  return {
    key: decodeBase64url(item.encryption.key, "item key", "EVIDENCE_MANIFEST_INVALID"),
    noncePrefix: decodeBase64url(item.encryption.noncePrefix, "item nonce prefix", "EVIDENCE_MANIFEST_INVALID"),
  };
}

/**
 * Checks what the schema cannot: the manifest names its envelope's case,
 * item ids are distinct, and each item's stream can be sealed and opened
 * (at most 2^32 chunks, a safe sealed length). Throws `EVIDENCE_MANIFEST_INVALID`.
 */
export function checkManifest(manifest: EvidenceManifest, caseId: string): void {
  const invalid = (message: string, details: Record<string, unknown> = {}): never => {
    throw new GatewayError("EVIDENCE_MANIFEST_INVALID", message, { details });
  };
  if (manifest.caseId !== caseId) invalid("the manifest names another case than its envelope", { caseId: manifest.caseId, envelopeCaseId: caseId });
  const ids = new Set<string>();
  for (const item of manifest.items) {
    if (ids.has(item.itemId)) invalid("two items of the manifest have the same itemId", { itemId: item.itemId });
    ids.add(item.itemId);
    checkStreamParams({ ...itemKeyOf(item), size: item.size, chunkSize: item.encryption.chunkSize, aad: itemAad(manifest.packageId, item.itemId) });
  }
}

/** Inserts a package and its item rows (inside the caller's transaction). */
export async function insertPackage(
  tx: Tx,
  manifest: EvidenceManifest,
  row: { direction: "outbound" | "inbound"; peer: string; envelopeId: string; createdAt: string; sources?: ReadonlyMap<string, { path: string; stat: string }> },
): Promise<void> {
  try {
    await tx.evidence.insertPackage({
      packageId: manifest.packageId,
      caseId: manifest.caseId,
      direction: row.direction,
      peer: row.peer,
      envelopeId: row.envelopeId,
      completes: manifest.completes,
      createdAt: row.createdAt,
      items: manifest.items.map((item, position) => {
        const { key, noncePrefix } = itemKeyOf(item);
        const source = row.sources?.get(item.itemId);
        return {
          itemId: item.itemId,
          position,
          name: item.name,
          mediaType: item.mediaType,
          size: item.size,
          sha256: item.sha256,
          chunkSize: item.encryption.chunkSize,
          sealedSize: sealedLength(item.size, item.encryption.chunkSize),
          key: Buffer.from(key),
          noncePrefix: Buffer.from(noncePrefix),
          sourcePath: source?.path ?? null,
          sourceStat: source?.stat ?? null,
        };
      }),
    });
  } catch (error) {
    if (error instanceof GatewayError && error.code === "STORE_DUPLICATE") {
      throw new GatewayError("EVIDENCE_PACKAGE_CONFLICT", "an evidence package or item with this id already exists", { details: { packageId: manifest.packageId } });
    }
    throw error;
  }
}

/**
 * Records a received manifest: its package and items, ready for uploads
 * from the sender. Runs inside the transaction that stores the envelope;
 * throws (rolling it back) when the manifest contradicts its envelope or
 * case: `EVIDENCE_MANIFEST_INVALID`, `EVIDENCE_CASE_DIRECTION` (evidence
 * comes only to the authority that requested it), `EVIDENCE_PACKAGE_CONFLICT`.
 */
export async function recordInboundPackage(tx: Tx, opened: OpenedEnvelope, storedAt: string): Promise<void> {
  const manifest = opened.document as unknown as EvidenceManifest;
  checkManifest(manifest, opened.header.caseId);
  const row = await tx.cases.get(opened.header.caseId);
  if (row?.direction !== "outbound") {
    throw new GatewayError("EVIDENCE_CASE_DIRECTION", "evidence is accepted only on a case this authority requested", { details: { caseId: opened.header.caseId } });
  }
  await insertPackage(tx, manifest, { direction: "inbound", peer: opened.header.from, envelopeId: opened.envelopeId, createdAt: storedAt });
}
