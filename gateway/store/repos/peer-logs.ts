/**
 * What this gateway knows of its peers' logs: checkpoints it verified (from
 * receipts and witnessing), the latest one it cosigned per log, and alarms
 * raised when a peer showed two inconsistent views.
 */
import type { Sql } from "../sql.js";

/** The last checkpoint cosigned for a peer's log. */
export interface WitnessedLogRow {
  origin: string;
  size: number;
  root: Buffer;
  note: string;
  updatedAt: string;
}

/** An alarm row (without its evidence). */
export interface AlarmRow {
  id: number;
  origin: string;
  detectedAt: string;
  reason: string;
}

/** Peers' checkpoints, witnessed logs and alarms. */
export class PeerLogsRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Records a verified checkpoint of a peer's log (once per origin and size). */
  recordCheckpoint(c: { origin: string; size: number; root: Buffer; note: string; receivedAt: string }): Promise<unknown> {
    return this.#sql.run("INSERT INTO peer_checkpoints (origin, size, root, note, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", [
      c.origin,
      c.size,
      c.root,
      c.note,
      c.receivedAt,
    ]);
  }

  /** The verified checkpoint of `origin` of that size, if any. */
  checkpoint(origin: string, size: number): Promise<{ root: Buffer; note: string } | undefined> {
    return this.#sql.get("SELECT root, note FROM peer_checkpoints WHERE origin = ? AND size = ?", [origin, size]);
  }

  /** The last checkpoint cosigned for `origin`. */
  witnessed(origin: string): Promise<WitnessedLogRow | undefined> {
    return this.#sql.get<WitnessedLogRow>("SELECT origin, size, root, note, updated_at AS \"updatedAt\" FROM witnessed_logs WHERE origin = ?", [origin]);
  }

  /**
   * Holds the witness lock of `origin`'s log until the transaction ends, so
   * that checking a new checkpoint against the last cosigned one and storing
   * it happen with no other instance in between. (SQLite serializes writers.)
   */
  async lockWitnessed(origin: string): Promise<void> {
    if (this.#sql.dialect === "postgres") await this.#sql.get("SELECT pg_advisory_xact_lock(hashtext(?)) AS locked", [`witness:${origin}`]);
  }

  /** Replaces the last cosigned checkpoint of `origin`. */
  setWitnessed(w: { origin: string; size: number; root: Buffer; note: string; updatedAt: string }): Promise<unknown> {
    return this.#sql.run(
      `INSERT INTO witnessed_logs (origin, size, root, note, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, updated_at = excluded.updated_at`,
      [w.origin, w.size, w.root, w.note, w.updatedAt],
    );
  }

  /** Alarms, of every log or of one. */
  alarms(origin?: string): Promise<AlarmRow[]> {
    const columns = 'id, origin, detected_at AS "detectedAt", reason';
    return origin === undefined
      ? this.#sql.all<AlarmRow>(`SELECT ${columns} FROM log_alarms ORDER BY id`)
      : this.#sql.all<AlarmRow>(`SELECT ${columns} FROM log_alarms WHERE origin = ? ORDER BY id`, [origin]);
  }

  /** Alarms of `origin` for `reason` with their evidence (JSON). */
  alarmsWithEvidence(origin: string, reason: string): Promise<Array<{ id: number; evidence: string }>> {
    return this.#sql.all("SELECT id, evidence FROM log_alarms WHERE origin = ? AND reason = ? ORDER BY id", [origin, reason]);
  }

  /** Records an alarm; returns its id. */
  async raiseAlarm(a: { origin: string; detectedAt: string; reason: string; evidence: string }): Promise<number> {
    const row = await this.#sql.get<{ id: number }>("INSERT INTO log_alarms (origin, detected_at, reason, evidence) VALUES (?, ?, ?, ?) RETURNING id", [
      a.origin,
      a.detectedAt,
      a.reason,
      a.evidence,
    ]);
    return row!.id;
  }
}
