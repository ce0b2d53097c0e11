/**
 * Log epochs (`audit_epochs`, `peer_epochs`, `log_alarm_resolutions`): the
 * epochs of this gateway's own log, the epochs of peers' logs this gateway
 * accepted as their witness, and the alarms those epochs closed.
 */
import type { Sql } from "../sql.js";

/** An epoch of this gateway's own log (epoch 1 is implicit and has no row). */
export interface OwnEpochRow {
  epoch: number;
  origin: string;
  startIndex: number;
  statement: string;
  createdAt: string;
}

/** An epoch of a peer's log accepted by this witness. */
export interface PeerEpochRow {
  authority: string;
  epoch: number;
  origin: string;
  previousOrigin: string;
  startIndex: number;
  forced: number;
  lostFrom: number | null;
  lostTo: number | null;
  statement: string;
  acceptedAt: string;
}

/** An alarm's resolution. */
export interface AlarmResolutionRow {
  alarmId: number;
  origin: string;
  resolvedAt: string;
  reason: string;
}

const OWN = 'epoch, origin, start_index AS "startIndex", statement, created_at AS "createdAt"';
const PEER =
  'authority, epoch, origin, previous_origin AS "previousOrigin", start_index AS "startIndex", forced, lost_from AS "lostFrom", lost_to AS "lostTo", statement, accepted_at AS "acceptedAt"';

/** Epochs and alarm resolutions. */
export class EpochsRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** The newest epoch of this gateway's log (undefined: still epoch 1). */
  current(): Promise<OwnEpochRow | undefined> {
    return this.#sql.get<OwnEpochRow>(`SELECT ${OWN} FROM audit_epochs ORDER BY epoch DESC LIMIT 1`);
  }

  /** Every epoch of this gateway's log from 2 on, oldest first. */
  all(): Promise<OwnEpochRow[]> {
    return this.#sql.all<OwnEpochRow>(`SELECT ${OWN} FROM audit_epochs ORDER BY epoch`);
  }

  /** Records a new epoch of this gateway's log (`STORE_DUPLICATE` if the number is taken). */
  insert(e: OwnEpochRow): Promise<unknown> {
    return this.#sql.run("INSERT INTO audit_epochs (epoch, origin, start_index, statement, created_at) VALUES (?, ?, ?, ?, ?)", [
      e.epoch,
      e.origin,
      e.startIndex,
      e.statement,
      e.createdAt,
    ]);
  }

  /** The newest accepted epoch of `authority`'s log (undefined: epoch 1). */
  peerCurrent(authority: string): Promise<PeerEpochRow | undefined> {
    return this.#sql.get<PeerEpochRow>(`SELECT ${PEER} FROM peer_epochs WHERE authority = ? ORDER BY epoch DESC LIMIT 1`, [authority]);
  }

  /** Every accepted epoch of peers' logs (of one peer when given), oldest first. */
  peerEpochs(authority?: string): Promise<PeerEpochRow[]> {
    return authority === undefined
      ? this.#sql.all<PeerEpochRow>(`SELECT ${PEER} FROM peer_epochs ORDER BY authority, epoch`)
      : this.#sql.all<PeerEpochRow>(`SELECT ${PEER} FROM peer_epochs WHERE authority = ? ORDER BY epoch`, [authority]);
  }

  /** Records an accepted epoch of a peer's log (`STORE_DUPLICATE` if already accepted). */
  insertPeerEpoch(e: PeerEpochRow): Promise<unknown> {
    return this.#sql.run(
      `INSERT INTO peer_epochs (authority, epoch, origin, previous_origin, start_index, forced, lost_from, lost_to, statement, accepted_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [e.authority, e.epoch, e.origin, e.previousOrigin, e.startIndex, e.forced, e.lostFrom, e.lostTo, e.statement, e.acceptedAt],
    );
  }

  /** Resolutions of alarms, oldest first. */
  resolutions(): Promise<AlarmResolutionRow[]> {
    return this.#sql.all<AlarmResolutionRow>('SELECT alarm_id AS "alarmId", origin, resolved_at AS "resolvedAt", reason FROM log_alarm_resolutions ORDER BY alarm_id');
  }

  /** Closes an alarm (kept as it is) with the epoch that resolved it; once per alarm. */
  resolveAlarm(r: AlarmResolutionRow): Promise<unknown> {
    return this.#sql.run("INSERT INTO log_alarm_resolutions (alarm_id, origin, resolved_at, reason) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [
      r.alarmId,
      r.origin,
      r.resolvedAt,
      r.reason,
    ]);
  }
}
