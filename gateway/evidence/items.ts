/**
 * Rows of `evidence_packages` and `evidence_items` as the evidence modules
 * read them: an item joined with its package and manifest envelope.
 */
import type { Tx } from "../store/store.js";
import type { ItemRow } from "../store/repos/evidence.js";
import { itemAad, type StreamParams } from "./stream.js";

export type { ItemRow, ItemState, PackageState } from "../store/repos/evidence.js";

/** The item `itemId` of package `packageId`, if any. */
export function findItem(tx: Tx, packageId: string, itemId: string): Promise<ItemRow | undefined> {
  return tx.evidence.item(packageId, itemId);
}

/** The item `itemId` of case `caseId`, if any. */
export function findCaseItem(tx: Tx, caseId: string, itemId: string): Promise<ItemRow | undefined> {
  return tx.evidence.itemOfCase(caseId, itemId);
}

/** Every item of a package, in manifest order. */
export function itemsOfPackage(tx: Tx, packageId: string): Promise<ItemRow[]> {
  return tx.evidence.itemsOfPackage(packageId);
}

/** The stream parameters of an item. */
export function streamParamsOf(row: ItemRow): StreamParams {
  return { key: row.item_key, noncePrefix: row.nonce_prefix, size: row.size, chunkSize: row.chunk_size, aad: itemAad(row.package_id, row.item_id) };
}
