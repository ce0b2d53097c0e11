/**
 * What a backup and a restore ask of the store: the sealed evidence objects
 * the database refers to, the schema version, and whether a gateway instance
 * is alive on this store (its instance lease, renewed while it runs).
 */
import type { Sql } from "../sql.js";

/** Backup and restore queries. */
export class BackupRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** SHA-256 names (hex) of the sealed evidence objects received items refer to. */
  async evidenceObjects(): Promise<string[]> {
    const rows = await this.#sql.all<{ sealed_sha256: string }>(
      "SELECT DISTINCT sealed_sha256 FROM evidence_items WHERE state = 'received' AND sealed_sha256 IS NOT NULL ORDER BY sealed_sha256",
    );
    return rows.map((row) => row.sealed_sha256);
  }

  /** The schema version (SQLite's user_version; the last PostgreSQL migration applied). */
  async schemaVersion(): Promise<number> {
    if (this.#sql.dialect === "sqlite") return (await this.#sql.get<{ user_version: number }>("PRAGMA user_version"))?.user_version ?? 0;
    return (await this.#sql.get<{ v: number | null }>("SELECT MAX(version) AS v FROM valise_schema"))?.v ?? 0;
  }

  /** Instances whose instance lease runs past `now` (epoch ms): gateways running on this store. */
  liveInstances(now: number): Promise<Array<{ owner: string; expiresAt: number }>> {
    return this.#sql.all('SELECT owner, expires_at AS "expiresAt" FROM leases WHERE name LIKE ? AND expires_at > ? ORDER BY owner', ["instance:%", now]);
  }
}
