/**
 * Rows of `evidence_packages` and `evidence_items` as the evidence modules
 * read them: an item joined with its package and manifest envelope.
 */
import type { Db } from "../store/database.js";
import { statement } from "../store/statements.js";
import { itemAad, type StreamParams } from "./stream.js";

/** Item states: outbound `queued → receipted | failed`; inbound `receiving → received`. */
export type ItemState = "queued" | "receipted" | "failed" | "receiving" | "received";

/** Package states: outbound `sending → delivered | failed`; inbound `receiving → received`. */
export type PackageState = "sending" | "delivered" | "failed" | "receiving" | "received";

/** One item with its package. */
export interface ItemRow {
  readonly package_id: string;
  readonly item_id: string;
  readonly position: number;
  readonly name: string;
  readonly media_type: string;
  readonly size: number;
  readonly sha256: string;
  readonly chunk_size: number;
  readonly sealed_size: number;
  readonly item_key: Buffer;
  readonly nonce_prefix: Buffer;
  readonly state: ItemState;
  readonly acked_bytes: number;
  readonly sent_bytes: number;
  readonly source_path: string | null;
  readonly source_stat: string | null;
  readonly sealed_sha256: string | null;
  readonly receipt: string | null;
  readonly received_at: string | null;
  readonly attempts: number;
  readonly next_attempt_at: number;
  readonly last_error: string | null;
  readonly updated_at: string;
  // From the package and its manifest envelope.
  readonly case_id: string;
  readonly direction: "outbound" | "inbound";
  readonly peer: string;
  readonly envelope_id: string;
  readonly completes: string;
  readonly package_state: PackageState;
  readonly envelope_digest: string;
}

/** The SELECT every item query starts with. */
export const ITEM_SELECT = `SELECT i.*, p.case_id, p.direction, p.peer, p.envelope_id, p.completes, p.state AS package_state, e.digest AS envelope_digest
  FROM evidence_items i JOIN evidence_packages p USING (package_id) JOIN envelopes e ON e.envelope_id = p.envelope_id`;

/** The item `itemId` of package `packageId`, if any. */
export function findItem(db: Db, packageId: string, itemId: string): ItemRow | undefined {
  return statement(db, `${ITEM_SELECT} WHERE i.package_id = ? AND i.item_id = ?`).get(packageId, itemId) as ItemRow | undefined;
}

/** The item `itemId` of case `caseId`, if any. */
export function findCaseItem(db: Db, caseId: string, itemId: string): ItemRow | undefined {
  return statement(db, `${ITEM_SELECT} WHERE i.item_id = ? AND p.case_id = ?`).get(itemId, caseId) as ItemRow | undefined;
}

/** Every item of a package, in manifest order. */
export function itemsOfPackage(db: Db, packageId: string): ItemRow[] {
  return statement(db, `${ITEM_SELECT} WHERE i.package_id = ? ORDER BY i.position`).all(packageId) as ItemRow[];
}

/** The stream parameters of an item. */
export function streamParamsOf(row: ItemRow): StreamParams {
  return { key: row.item_key, noncePrefix: row.nonce_prefix, size: row.size, chunkSize: row.chunk_size, aad: itemAad(row.package_id, row.item_id) };
}
