/**
 * The epoch this gateway's own log is in. Epoch 1 (origin `valise/<ID>`)
 * runs from index 0 until a loss is declared; each later epoch continues the
 * same Merkle tree from the entries the database still holds, under its own
 * origin (gateway/audit/epoch-origin.ts), and its statement is the entry at
 * its `startIndex`: every checkpoint of the epoch is larger than that.
 * The store holds the truth (audit_epochs); nothing is kept in memory.
 */
import type { Tx } from "../store/store.js";
import { epochOrigin } from "./epoch-origin.js";

/** An epoch of this gateway's log. */
export interface LogEpoch {
  readonly epoch: number;
  readonly origin: string;
  /** Index of the epoch's statement entry (0 for epoch 1, which has none). */
  readonly startIndex: number;
}

/** The current epoch of `authority`'s own log. */
export async function currentEpoch(tx: Tx, authority: string): Promise<LogEpoch> {
  const row = await tx.epochs.current();
  return row === undefined ? { epoch: 1, origin: epochOrigin(authority, 1), startIndex: 0 } : { epoch: row.epoch, origin: row.origin, startIndex: row.startIndex };
}

/** Every epoch of `authority`'s own log, oldest first (epoch 1 included). */
export async function allEpochs(tx: Tx, authority: string): Promise<LogEpoch[]> {
  const rows = await tx.epochs.all();
  return [{ epoch: 1, origin: epochOrigin(authority, 1), startIndex: 0 }, ...rows.map((row) => ({ epoch: row.epoch, origin: row.origin, startIndex: row.startIndex }))];
}
