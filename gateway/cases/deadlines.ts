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
import { caseRecordOf, stepsByCase, type CaseRecord, type CaseRow, type StepRecord } from "./history.js";
import { caseClocks, clockSettingsFor, DAY_MS, DEFAULT_CHECK_INTERVAL_SECONDS, runningClocks, type CaseClocks, type ClockName } from "./clocks.js";
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

/** Emergency first, then urgent, then by deadline, then by case id. */
export function byUrgency(a: DeadlineItem, b: DeadlineItem): number {
  return PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.dueAt.localeCompare(b.dueAt) || a.caseId.localeCompare(b.caseId) || a.clock.localeCompare(b.clock);
}

/** The clocks of one case (the applied steps of `steps`). */
export function clocksOf(record: CaseRecord, steps: readonly StepRecord[], config: GatewayConfig, now: Date): CaseClocks {
  return caseClocks(
    {
      kind: record.kind,
      priority: record.priority,
      status: record.status,
      receivedAt: record.receivedAt,
      facts: record.facts,
      headEnvelopeId: record.headEnvelopeId,
      steps: steps.filter((s) => s.state === "applied"),
    },
    clockSettingsFor(config.clocks, record.peer),
    now,
  );
}

/** Every running deadline of the cases that can still have one. */
export function runningDeadlines(db: Db, config: GatewayConfig, now: Date): DeadlineItem[] {
  const rows = statement(db, "SELECT * FROM cases WHERE status NOT IN ('closed', 'withdrawn', 'refused', 'submitted')").all() as CaseRow[];
  const steps = stepsByCase(db, rows.map((row) => row.case_id));
  const items: DeadlineItem[] = [];
  for (const row of rows) {
    const record = caseRecordOf(row);
    const ours = sideOf(record.direction);
    for (const clock of runningClocks(clocksOf(record, steps.get(record.caseId) ?? [], config, now))) {
      items.push({
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
      });
    }
  }
  return items.sort(byUrgency);
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
  const missed = await ctx.commits.run(() => {
    const fresh: DeadlineItem[] = [];
    for (const item of overdueDeadlines(ctx.db, ctx.config, now)) {
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
