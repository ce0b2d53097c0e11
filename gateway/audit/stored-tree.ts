/**
 * The audit log's Merkle tree in SQLite: the `audit_nodes` table holds every
 * completed perfect subtree, so roots and proofs are computed with O(log² n)
 * lookups, never by rebuilding the tree.
 */
import type { Statement } from "better-sqlite3";
import type { Db } from "../store/database.js";
import { GatewayError } from "../errors.js";
import { nodeHash, subtreeCoordinates, type HashReader } from "./merkle.js";

/** A {@link HashReader} over `audit_nodes`, and the append that fills it. */
export class StoredTree implements HashReader {
  readonly #count: Statement;
  readonly #get: Statement;
  readonly #put: Statement;

  constructor(db: Db) {
    // MAX, not COUNT: one index lookup instead of a scan (leaves are gapless;
    // the start-up integrity check refuses a log where they are not).
    this.#count = db.prepare("SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM audit_nodes WHERE level = 0");
    this.#get = db.prepare("SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?");
    this.#put = db.prepare("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)");
  }

  /** Number of leaves (committed, or inside the caller's open transaction). */
  get leafCount(): number {
    return (this.#count.get() as { n: number }).n;
  }

  /** The stored hash of the aligned perfect subtree [start, start + size). */
  subtreeHash(start: number, size: number): Buffer {
    const { level, idx } = subtreeCoordinates(start, size);
    return this.#node(level, idx);
  }

  /**
   * Appends leaf `index` (which must be the next one) and every subtree it
   * completes. Call inside the transaction that stores the entry.
   */
  appendLeaf(index: number, leaf: Buffer): void {
    this.#put.run(0, index, leaf);
    let hash = leaf;
    let idx = index;
    for (let level = 0; idx % 2 === 1; level += 1) {
      hash = nodeHash(this.#node(level, idx - 1), hash);
      idx = (idx - 1) / 2;
      this.#put.run(level + 1, idx, hash);
    }
  }

  #node(level: number, idx: number): Buffer {
    const row = this.#get.get(level, idx) as { hash: Buffer } | undefined;
    // A missing node means rows were deleted behind the triggers' back.
    if (row === undefined) throw new GatewayError("STORE_CORRUPT", `the audit tree lacks node (${level}, ${idx})`, { details: { level, idx } });
    return row.hash;
  }
}
