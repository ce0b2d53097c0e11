/**
 * Named leases: a duty that one instance performs at a time (the leader's
 * singleton jobs, an evidence upload). A lease is held until `expires_at`;
 * its owner renews it while it works, and a dead owner's lease is taken over
 * once expired. Time is the instances' clock in epoch milliseconds: the
 * lease time must exceed the clock skew between instances.
 */
import type { Sql } from "../sql.js";

/** A lease as stored. */
export interface LeaseRow {
  name: string;
  owner: string;
  expires_at: number;
  acquired_at: number;
}

/** Leases. */
export class LeasesRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /**
   * Takes or renews lease `name` for `owner` until `now + ttlMs`: succeeds if
   * nobody holds it, `owner` holds it, or the holder's lease expired.
   */
  async acquire(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const changed = await this.#sql.run(
      `INSERT INTO leases (name, owner, expires_at, acquired_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
         acquired_at = CASE WHEN leases.owner = excluded.owner THEN leases.acquired_at ELSE excluded.acquired_at END
       WHERE leases.owner = excluded.owner OR leases.expires_at <= ?`,
      [name, owner, now + ttlMs, now, now],
    );
    return changed.changes > 0;
  }

  /** Gives the lease up (if `owner` holds it). */
  release(name: string, owner: string): Promise<unknown> {
    return this.#sql.run("DELETE FROM leases WHERE name = ? AND owner = ?", [name, owner]);
  }

  /** The lease, if anyone holds or held it. */
  get(name: string): Promise<LeaseRow | undefined> {
    return this.#sql.get<LeaseRow>("SELECT name, owner, expires_at, acquired_at FROM leases WHERE name = ?", [name]);
  }

  /** Every lease. */
  all(): Promise<LeaseRow[]> {
    return this.#sql.all<LeaseRow>("SELECT name, owner, expires_at, acquired_at FROM leases ORDER BY name");
  }
}
