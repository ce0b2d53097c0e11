/**
 * The audit log's tables: entries (append-only), the Merkle tree's nodes
 * (every completed perfect subtree), the checkpoints this gateway signed and
 * the cosignatures its peers returned.
 *
 * Indices are dense on both engines. SQLite serializes writers, so the next
 * index is MAX + 1. On PostgreSQL several instances append at once: the
 * `audit_head` row is locked by the append and stays locked until the
 * transaction ends, so a rolled-back transaction gives its index back and
 * committed entries always form a prefix of the log.
 */
import type { Sql } from "../sql.js";

/** A node of the stored Merkle tree: level 0 are leaves. */
export interface NodeCoordinates {
  readonly level: number;
  readonly idx: number;
}

/** A stored checkpoint row. */
export interface CheckpointRow {
  size: number;
  root: Buffer;
  note: string;
  created_at: string;
}

/** A cosignature row. */
export interface CosignatureRow {
  witness: string;
  line: string;
  received_at: string;
}

/** The audit log's storage. */
export class AuditRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Takes the next index (locking the log head on PostgreSQL until the transaction ends). */
  async nextIndex(): Promise<number> {
    if (this.#sql.dialect === "postgres") {
      const row = await this.#sql.get<{ idx: number }>("UPDATE audit_head SET size = size + 1 WHERE id = 1 RETURNING size - 1 AS idx");
      return row!.idx;
    }
    return (await this.#sql.get<{ next: number }>("SELECT COALESCE(MAX(idx) + 1, 0) AS next FROM audit_entries"))!.next;
  }

  /** Stores entry `idx` (its canonical JSON and the columns that index it). */
  async insertEntry(e: { idx: number; time: string; kind: string; actor: string; caseId: string | null; envelopeId: string | null; entry: string }): Promise<void> {
    await this.#sql.run("INSERT INTO audit_entries (idx, time, kind, actor, case_id, envelope_id, entry) VALUES (?, ?, ?, ?, ?, ?, ?)", [
      e.idx,
      e.time,
      e.kind,
      e.actor,
      e.caseId,
      e.envelopeId,
      e.entry,
    ]);
  }

  /** Canonical JSON of entries `[from, to)` in index order. */
  async entries(from: number, to: number): Promise<string[]> {
    return (await this.#sql.all<{ entry: string }>("SELECT entry FROM audit_entries WHERE idx >= ? AND idx < ? ORDER BY idx", [from, to])).map((r) => r.entry);
  }

  /** Canonical JSON of the entries about one case. */
  async entriesOfCase(caseId: string): Promise<string[]> {
    return (await this.#sql.all<{ entry: string }>("SELECT entry FROM audit_entries WHERE case_id = ? ORDER BY idx", [caseId])).map((r) => r.entry);
  }

  /** Canonical JSON of the entries of one kind about one envelope, in index order. */
  async entriesOfEnvelope(envelopeId: string, kind: string): Promise<string[]> {
    return (await this.#sql.all<{ entry: string }>("SELECT entry FROM audit_entries WHERE envelope_id = ? AND kind = ? ORDER BY idx", [envelopeId, kind])).map((r) => r.entry);
  }

  /** Entries `[from, from + count)` with their stored leaf hashes (the integrity check). */
  entriesWithLeaves(from: number, count: number): Promise<Array<{ idx: number; entry: string; hash: Buffer | null }>> {
    return this.#sql.all(
      `SELECT a.idx, a.entry, n.hash FROM audit_entries a LEFT JOIN audit_nodes n ON n.level = 0 AND n.idx = a.idx
        WHERE a.idx >= ? ORDER BY a.idx LIMIT ?`,
      [from, count],
    );
  }

  /** Number of leaves in the tree (committed, or in this transaction). */
  async leafCount(): Promise<number> {
    return (await this.#sql.get<{ n: number }>("SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM audit_nodes WHERE level = 0"))!.n;
  }

  /** Number of entries. */
  async entryCount(): Promise<number> {
    return (await this.#sql.get<{ n: number }>("SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM audit_entries"))!.n;
  }

  /** The stored hashes of these nodes, keyed `level:idx` (missing ones absent). */
  async nodes(coordinates: readonly NodeCoordinates[]): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    for (let i = 0; i < coordinates.length; i += 200) {
      const slice = coordinates.slice(i, i + 200);
      const rows = await this.#sql.all<{ level: number; idx: number; hash: Buffer }>(
        `SELECT level, idx, hash FROM audit_nodes WHERE ${slice.map(() => "(level = ? AND idx = ?)").join(" OR ")}`,
        slice.flatMap((c) => [c.level, c.idx]),
      );
      for (const row of rows) found.set(`${row.level}:${row.idx}`, row.hash);
    }
    return found;
  }

  /** Stores tree nodes: one statement per 200 (an append stores a leaf and the subtrees it completes, log2 of the size at most). */
  async insertNodes(nodes: ReadonlyArray<NodeCoordinates & { hash: Buffer }>): Promise<void> {
    for (let i = 0; i < nodes.length; i += 200) {
      const slice = nodes.slice(i, i + 200);
      await this.#sql.run(
        `INSERT INTO audit_nodes (level, idx, hash) VALUES ${slice.map(() => "(?, ?, ?)").join(", ")}`,
        slice.flatMap((node) => [node.level, node.idx, node.hash]),
      );
    }
  }

  /** Leaf hashes `[from, from + count)` in order. */
  async leafHashes(from: number, count: number): Promise<Buffer[]> {
    return (await this.#sql.all<{ hash: Buffer }>("SELECT hash FROM audit_nodes WHERE level = 0 AND idx >= ? ORDER BY idx LIMIT ?", [from, count])).map((r) => r.hash);
  }

  /** Stores a checkpoint this gateway signed (kept as it is if one of that size exists). */
  insertCheckpoint(c: { size: number; root: Buffer; note: string; createdAt: string }): Promise<unknown> {
    return this.#sql.run("INSERT INTO audit_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [c.size, c.root, c.note, c.createdAt]);
  }

  /** The newest checkpoint, or the one of `size`. */
  checkpoint(size?: number): Promise<CheckpointRow | undefined> {
    return size === undefined
      ? this.#sql.get<CheckpointRow>("SELECT size, root, note, created_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1")
      : this.#sql.get<CheckpointRow>("SELECT size, root, note, created_at FROM audit_checkpoints WHERE size = ?", [size]);
  }

  /** The largest checkpoint of at most `size` entries. */
  checkpointAtMost(size: number): Promise<CheckpointRow | undefined> {
    return this.#sql.get<CheckpointRow>("SELECT size, root, note, created_at FROM audit_checkpoints WHERE size <= ? ORDER BY size DESC LIMIT 1", [size]);
  }

  /** Every checkpoint, smallest first. */
  checkpoints(): Promise<CheckpointRow[]> {
    return this.#sql.all<CheckpointRow>("SELECT size, root, note, created_at FROM audit_checkpoints ORDER BY size");
  }

  /** Stores a peer's cosignature of checkpoint `size` (once per witness). */
  insertCosignature(c: { size: number; witness: string; line: string; receivedAt: string }): Promise<unknown> {
    return this.#sql.run("INSERT INTO audit_cosignatures (size, witness, line, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [
      c.size,
      c.witness,
      c.line,
      c.receivedAt,
    ]);
  }

  /** The cosignatures of checkpoint `size`, by witness name. */
  cosignatures(size: number): Promise<CosignatureRow[]> {
    return this.#sql.all<CosignatureRow>("SELECT witness, line, received_at FROM audit_cosignatures WHERE size = ? ORDER BY witness", [size]);
  }

  /** The largest checkpoint `witness` cosigned (0 if none). */
  async cosignedSize(witness: string): Promise<number> {
    return (await this.#sql.get<{ size: number | null }>("SELECT MAX(size) AS size FROM audit_cosignatures WHERE witness = ?", [witness]))?.size ?? 0;
  }
}
