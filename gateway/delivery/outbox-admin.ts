/**
 * What an operator may do to the outbox, from the CLI (`valise outbox …`,
 * on the store, the gateway running or not) or the local API (role
 * `operator`): list and show deliveries, retry one now, cancel one. Each
 * action is one transaction with its audit entry (`delivery.retried`,
 * `delivery.cancelled`), so the log says who moved which envelope and when.
 *
 * A retry never changes the envelope: same id, same bytes, same signature
 * (the receiver answers a copy it holds with its receipt). It makes the
 * envelope due now and restarts its give-up clock. A cancel stops further
 * attempts; an attempt already in flight may still reach the peer, and its
 * verified receipt then marks the envelope delivered (the peer holds it).
 * Neither touches the case: a step whose envelope is cancelled stays taken
 * on this side only, which the case view shows.
 */
import { appendEntry } from "../audit/append.js";
import { GatewayError } from "../errors.js";
import type { Tx } from "../store/store.js";
import type { OutboxRow, OutboxState } from "../store/repos/envelopes.js";

/** The states an operator may filter by. */
export const OUTBOX_STATES: readonly OutboxState[] = Object.freeze(["pending", "delivered", "failed", "cancelled", "superseded"]);

/** An outbox row as the CLI and the local API show it. */
export interface OutboxEntry {
  readonly envelopeId: string;
  readonly caseId: string;
  readonly type: string;
  readonly peer: string;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: string;
  /** When the next attempt is due (pending only). */
  readonly nextAttemptAt: string | null;
  readonly finishedAt: string | null;
  /** When an operator last retried it (its give-up clock restarted then). */
  readonly retriedAt: string | null;
  /** The instance delivering it right now, if a live lease says so. */
  readonly inFlightOn: string | null;
}

/** The largest page of `listOutbox`. */
export const MAX_OUTBOX_LIST = 1000;

function entryOf(row: OutboxRow, now: Date): OutboxEntry {
  return {
    envelopeId: row.envelope_id,
    caseId: row.case_id,
    type: row.type,
    peer: row.peer,
    state: row.state,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    createdAt: row.created_at,
    nextAttemptAt: row.state === "pending" ? new Date(Number(row.next_attempt_at)).toISOString() : null,
    finishedAt: row.finished_at,
    retriedAt: row.retry_from,
    inFlightOn: row.lease_owner !== null && Number(row.lease_expires_at) > now.getTime() ? row.lease_owner : null,
  };
}

/** Filters of {@link listOutbox}; strings from a command line or a query are checked here. */
export interface OutboxFilter {
  readonly state?: string | undefined;
  readonly peer?: string | undefined;
  readonly limit?: number | string | undefined;
  /** After this row of a previous page (its `createdAt` and `envelopeId`). */
  readonly after?: readonly [string, string] | undefined;
}

/** A page of {@link listOutbox}: `more` when rows follow the last one. */
export interface OutboxPage {
  readonly entries: OutboxEntry[];
  readonly more: boolean;
}

/**
 * Outbox rows, newest first: by default those still waiting and those the
 * gateway gave up on (`pending` and `failed`), which are what an operator
 * acts on. `USAGE` for an unknown state or a limit outside 1–1000.
 */
export async function listOutbox(tx: Tx, filter: OutboxFilter, now: Date): Promise<OutboxEntry[]> {
  return (await listOutboxPage(tx, filter, now)).entries;
}

/** {@link listOutbox}, a page at a time (`filter.after`): the rows, and whether more follow. */
export async function listOutboxPage(tx: Tx, filter: OutboxFilter, now: Date): Promise<OutboxPage> {
  const state = filter.state;
  if (state !== undefined && state !== "open" && !OUTBOX_STATES.includes(state as OutboxState)) {
    throw new GatewayError("USAGE", `unknown outbox state ${JSON.stringify(state)}: use open (pending and failed), ${OUTBOX_STATES.join(", ")}`);
  }
  const limit = filter.limit === undefined ? 100 : Number(filter.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_OUTBOX_LIST) {
    throw new GatewayError("USAGE", `the limit must be a whole number from 1 to ${MAX_OUTBOX_LIST}`);
  }
  const states: readonly OutboxState[] = state === undefined || state === "open" ? ["pending", "failed"] : [state as OutboxState];
  const rows = await tx.outbox.list({ states, ...(filter.peer === undefined ? {} : { peer: filter.peer }), ...(filter.after === undefined ? {} : { after: filter.after }), limit: limit + 1 });
  return { entries: rows.slice(0, limit).map((row) => entryOf(row, now)), more: rows.length > limit };
}

/** One outbox row; `OUTBOX_UNKNOWN` when no outbound envelope has that id. */
export async function showOutbox(tx: Tx, envelopeId: string, now: Date): Promise<OutboxEntry> {
  const row = await tx.outbox.show(envelopeId);
  if (row === undefined) throw new GatewayError("OUTBOX_UNKNOWN", `no outbound envelope ${envelopeId} in the outbox (valise outbox list shows them)`);
  return entryOf(row, now);
}

/** Who acts, as the audit log names them: `operator` (the CLI) or `token:<id>` (the local API). */
export interface OutboxAction {
  readonly envelopeId: string;
  readonly actor: string;
  readonly now: Date;
  /** Why, in the operator's words (kept in the audit entry). */
  readonly reason?: string | undefined;
}

function refusedFor(entry: OutboxEntry, verb: "retry" | "cancel"): GatewayError {
  return new GatewayError("OUTBOX_STATE_INVALID", `envelope ${entry.envelopeId} is ${entry.state}: only a pending or failed envelope can be ${verb === "retry" ? "retried" : "cancelled"}`, {
    details: { envelopeId: entry.envelopeId, state: entry.state, allowed: ["pending", "failed"] },
  });
}

/** The longest reason kept in an audit entry. */
export const MAX_REASON_CHARS = 500;

function checkReason(reason: string | undefined): void {
  if (reason !== undefined && (reason.trim() === "" || reason.length > MAX_REASON_CHARS)) {
    throw new GatewayError("USAGE", `a reason is 1 to ${MAX_REASON_CHARS} characters`);
  }
}

/** Makes a pending or failed envelope due now, restarting its give-up clock; audited. Run inside a transaction. */
export async function retryDelivery(tx: Tx, action: OutboxAction): Promise<OutboxEntry> {
  checkReason(action.reason);
  const before = await showOutbox(tx, action.envelopeId, action.now);
  if (!(await tx.outbox.retry(action.envelopeId, action.now.getTime()))) throw refusedFor(before, "retry");
  await appendEntry(tx, {
    kind: "delivery.retried",
    actor: action.actor,
    time: action.now,
    caseId: before.caseId,
    envelopeId: before.envelopeId,
    details: { to: before.peer, previousState: before.state, attempts: before.attempts, ...(action.reason === undefined ? {} : { reason: action.reason }) },
  });
  return showOutbox(tx, action.envelopeId, action.now);
}

/** Stops delivering a pending or failed envelope; audited. Run inside a transaction. */
export async function cancelDelivery(tx: Tx, action: OutboxAction): Promise<OutboxEntry> {
  checkReason(action.reason);
  const before = await showOutbox(tx, action.envelopeId, action.now);
  if (!(await tx.outbox.cancel(action.envelopeId, action.now.toISOString()))) throw refusedFor(before, "cancel");
  await appendEntry(tx, {
    kind: "delivery.cancelled",
    actor: action.actor,
    time: action.now,
    caseId: before.caseId,
    envelopeId: before.envelopeId,
    details: { to: before.peer, previousState: before.state, attempts: before.attempts, ...(action.reason === undefined ? {} : { reason: action.reason }) },
  });
  return showOutbox(tx, action.envelopeId, action.now);
}
