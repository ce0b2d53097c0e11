/**
 * Deadlines of the open cases: the overdue and due-soon lists (emergency
 * first), and the check that alerts when a deadline passes — one warning log
 * line and one `deadline.missed` audit entry per deadline, exactly once
 * (a row in `case_deadline_alerts` remembers it). A running gateway checks
 * every `clocks.checkIntervalSeconds` on its own clock (`now`); tests call
 * {@link checkDeadlines} directly after moving an injected clock.
 */
import type { Db } from "../store/database.js";
import type { GatewayConfig } from "../config/config.js";
import type { GatewayContext } from "../context.js";
import type { Priority } from "../envelope/types.js";
import { statement } from "../store/statements.js";
import { appendEntry } from "../audit/append.js";
import { CLOCKED_STATUSES_SQL, readCase, stepsOfCase, type CaseRecord, type StepRecord } from "./history.js";
import { caseClocks, clockSettingsFor, DAY_MS, DEFAULT_CHECK_INTERVAL_SECONDS, runningClocks, type CaseClocks, type ClockInput, type ClockName } from "./clocks.js";
import { sideOf, type CaseStatus, type Side } from "./lifecycle.js";

/** A deadline of a case. */
export interface DeadlineItem {
  readonly caseId: string;
  readonly direction: "outbound" | "inbound";
  readonly kind: string;
  readonly peer: string;
  readonly priority: Priority;
  readonly status: CaseStatus;
  readonly clock: ClockName;
  readonly dueAt: string;
  /** The side that must act, and its authority id. */
  readonly holder: Side;
  readonly holderAuthority: string;
  /** Names the hop (the envelope that started it); '' for the other clocks. */
  readonly key: string;
}

const PRIORITY_RANK: Readonly<Record<Priority, number>> = { emergency: 0, urgent: 1, normal: 2 };

function order(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

function bySeq(a: { seq: number }, b: { seq: number }): number {
  return a.seq - b.seq;
}

/** Emergency first, then urgent, then by deadline, then by case id. */
export function byUrgency(a: DeadlineItem, b: DeadlineItem): number {
  return PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || order(a.dueAt, b.dueAt) || order(a.caseId, b.caseId) || order(a.clock, b.clock);
}

/** What the clocks of a case are computed from. */
type ClockedCase = Pick<CaseRecord, "caseId" | "direction" | "kind" | "peer" | "priority" | "status" | "receivedAt" | "headEnvelopeId"> & {
  readonly facts: Pick<CaseRecord["facts"], "preservationDays">;
};

/** A step as the clocks see it; steps without a state are applied ones. */
type ClockedStep = ClockInput["steps"][number] & { readonly state?: StepRecord["state"] };

/** The clocks of one case (the applied steps of `steps`). */
export function clocksOf(record: ClockedCase, steps: readonly ClockedStep[], config: GatewayConfig, now: Date): CaseClocks {
  return caseClocks(
    {
      kind: record.kind,
      priority: record.priority,
      status: record.status,
      receivedAt: record.receivedAt,
      facts: record.facts,
      headEnvelopeId: record.headEnvelopeId,
      steps: steps.filter((s) => s.state === undefined || s.state === "applied"),
    },
    clockSettingsFor(config.clocks, record.peer),
    now,
  );
}

/** The running deadlines of one case. */
function deadlinesOf(record: ClockedCase, steps: readonly ClockedStep[], config: GatewayConfig, now: Date): DeadlineItem[] {
  const ours = sideOf(record.direction);
  return runningClocks(clocksOf(record, steps, config, now)).map((clock) => ({
    caseId: record.caseId,
    direction: record.direction,
    kind: record.kind,
    peer: record.peer,
    priority: record.priority,
    status: record.status,
    clock: clock.clock,
    dueAt: clock.dueAt,
    holder: clock.holder,
    holderAuthority: clock.holder === ours ? config.authority : record.peer,
    key: clock.key,
  }));
}

interface ClockedRow {
  case_id: string;
  direction: "outbound" | "inbound";
  kind: string;
  peer: string;
  status: CaseStatus;
  priority: Priority;
  received_at: string | null;
  head_envelope_id: string | null;
  preservation_days: number | null;
}

interface ClockedStepRow {
  case_id: string;
  seq: number;
  step: string;
  from_status: CaseStatus;
  to_status: CaseStatus;
  at: string;
}

/**
 * Every running deadline of the cases that can still have one: two queries
 * reading only what the clocks need, whatever the number of cases (the
 * periodic check runs this every minute).
 */
export function runningDeadlines(db: Db, config: GatewayConfig, now: Date): DeadlineItem[] {
  const rows = statement(
    db,
    `SELECT case_id, direction, kind, peer, status, priority, received_at, head_envelope_id, json_extract(facts, '$.preservationDays') AS preservation_days
       FROM cases WHERE ${CLOCKED_STATUSES_SQL} AND received_at IS NOT NULL`,
  ).all() as ClockedRow[];
  const steps = new Map<string, ClockedStepRow[]>();
  for (const step of statement(
    db,
    `SELECT s.case_id, s.seq, s.step, s.from_status, s.to_status, s.at FROM case_steps s JOIN cases c ON c.case_id = s.case_id
      WHERE s.state = 'applied' AND c.${CLOCKED_STATUSES_SQL}`,
  ).all() as ClockedStepRow[]) {
    const list = steps.get(step.case_id);
    if (list === undefined) steps.set(step.case_id, [step]);
    else list.push(step);
  }
  return rows
    .flatMap((row) => {
      const applied = (steps.get(row.case_id) ?? []).sort(bySeq).map((s) => ({ step: s.step, from: s.from_status, to: s.to_status, at: s.at }));
      const record: ClockedCase = {
        caseId: row.case_id,
        direction: row.direction,
        kind: row.kind,
        peer: row.peer,
        priority: row.priority,
        status: row.status,
        receivedAt: row.received_at,
        headEnvelopeId: row.head_envelope_id,
        facts: row.preservation_days === null ? {} : { preservationDays: row.preservation_days },
      };
      return deadlinesOf(record, applied, config, now);
    })
    .sort(byUrgency);
}

/** Deadlines passed at `now`, emergency first. */
export function overdueDeadlines(db: Db, config: GatewayConfig, now: Date): DeadlineItem[] {
  return runningDeadlines(db, config, now).filter((item) => Date.parse(item.dueAt) <= now.getTime());
}

/** Deadlines falling within `days` after `now` (default: `clocks.dueSoonDays`, 2), emergency first. */
export function dueSoonDeadlines(db: Db, config: GatewayConfig, now: Date, days = config.clocks?.dueSoonDays ?? 2): DeadlineItem[] {
  const until = now.getTime() + days * DAY_MS;
  return runningDeadlines(db, config, now).filter((item) => {
    const due = Date.parse(item.dueAt);
    return due > now.getTime() && due <= until;
  });
}

/**
 * Alerts every deadline that has passed and was not alerted yet: an audit
 * entry `deadline.missed` (committed) and a warning log line each. Returns
 * the deadlines alerted by this call.
 */
export async function checkDeadlines(ctx: GatewayContext): Promise<DeadlineItem[]> {
  const now = ctx.now();
  const id = (caseId: string, clock: string, key: string): string => `${caseId}\u0000${clock}\u0000${key}`;
  // Read outside the commit (the gateway keeps serving meanwhile), skipping what was alerted before.
  const alerted = new Set(
    (statement(ctx.db, `SELECT a.case_id, a.clock, a.hop_key FROM case_deadline_alerts a JOIN cases c ON c.case_id = a.case_id WHERE c.${CLOCKED_STATUSES_SQL}`).all() as Array<{ case_id: string; clock: string; hop_key: string }>).map(
      (row) => id(row.case_id, row.clock, row.hop_key),
    ),
  );
  const candidates = overdueDeadlines(ctx.db, ctx.config, now).filter((item) => !alerted.has(id(item.caseId, item.clock, item.key)));
  if (candidates.length === 0) return [];
  const missed = await ctx.commits.run(() => {
    const fresh: DeadlineItem[] = [];
    for (const candidate of candidates) {
      // A step may have been committed since the read: check the case again.
      const record = readCase(ctx.db, candidate.caseId);
      const item =
        record === undefined
          ? undefined
          : deadlinesOf(record, stepsOfCase(ctx.db, record.caseId), ctx.config, now).find(
              (d) => d.clock === candidate.clock && d.key === candidate.key && Date.parse(d.dueAt) <= now.getTime(),
            );
      if (item === undefined) continue;
      const inserted = statement(ctx.db, "INSERT OR IGNORE INTO case_deadline_alerts (case_id, clock, hop_key, due_at, detected_at) VALUES (?, ?, ?, ?, ?)").run(
        item.caseId,
        item.clock,
        item.key,
        item.dueAt,
        now.toISOString(),
      ).changes;
      if (inserted === 0) continue;
      appendEntry(ctx.db, {
        kind: "deadline.missed",
        actor: "gateway",
        time: now,
        caseId: item.caseId,
        details: { clock: item.clock, dueAt: item.dueAt, holder: item.holderAuthority, side: item.holder, status: item.status, priority: item.priority, ...(item.key === "" ? {} : { hop: item.key }) },
      });
      fresh.push(item);
    }
    return fresh;
  });
  for (const item of missed) {
    ctx.logger.warn("deadline missed", {
      alert: "deadline.missed",
      caseId: item.caseId,
      clock: item.clock,
      dueAt: item.dueAt,
      holder: item.holderAuthority,
      peer: item.peer,
      direction: item.direction,
      priority: item.priority,
      status: item.status,
    });
  }
  return missed;
}

/** A running periodic deadline check. */
export interface DeadlineMonitor {
  stop(): Promise<void>;
}

/** Checks deadlines now and then every `clocks.checkIntervalSeconds` (default 60 s) until stopped. */
export function startDeadlineMonitor(ctx: GatewayContext): DeadlineMonitor {
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const tick = (): void => {
    if (busy) return;
    busy = true;
    running = checkDeadlines(ctx)
      .catch((error: unknown) => ctx.logger.error("checking deadlines failed", { reason: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        busy = false;
      });
  };
  const timer = setInterval(tick, (ctx.config.clocks?.checkIntervalSeconds ?? DEFAULT_CHECK_INTERVAL_SECONDS) * 1000);
  timer.unref();
  tick();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
