/**
 * Deadlines of the open cases: the overdue and due-soon lists (emergency
 * first), and the check that alerts when a deadline passes — one warning log
 * line and one `deadline.missed` audit entry per deadline, exactly once
 * (a row in `case_deadline_alerts` remembers it). A running gateway checks
 * every `clocks.checkIntervalSeconds` on its own clock (`now`); tests call
 * {@link checkDeadlines} directly after moving an injected clock.
 */
import type { Tx } from "../store/store.js";
import type { GatewayConfig } from "../config/config.js";
import type { GatewayContext } from "../context.js";
import type { Priority } from "../envelope/types.js";
import type { Job } from "../jobs/runner.js";
import { appendEntry } from "../audit/append.js";
import { clockedStepsByCase, readCase, stepsOfCase, type CaseRecord, type StepRecord } from "./history.js";
import { parseFacts } from "./facts.js";
import { caseClocks, clockSettingsFor, DAY_MS, DEFAULT_CHECK_INTERVAL_SECONDS, runningClocks, type CaseClocks, type ClockInput, type ClockName } from "./clocks.js";
import { sideOf, type CaseStatus, type Side } from "./lifecycle.js";
import { raiseAlert } from "../alerts/alerts.js";

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

/** Emergency first, then urgent, then by deadline, then by case id. */
export function byUrgency(a: DeadlineItem, b: DeadlineItem): number {
  return PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || order(a.dueAt, b.dueAt) || order(a.caseId, b.caseId) || order(a.clock, b.clock);
}

/** What the clocks of a case are computed from. */
type ClockedCase = Pick<CaseRecord, "caseId" | "direction" | "kind" | "peer" | "priority" | "status" | "receivedAt" | "headEnvelopeId"> & {
  readonly facts: Pick<CaseRecord["facts"], "preservationDays" | "instrument" | "deadlineAt">;
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

/**
 * Every running deadline of the cases that can still have one: two queries
 * reading only what the clocks need, whatever the number of cases (the
 * periodic check runs this every minute).
 */
export async function runningDeadlines(tx: Tx, config: GatewayConfig, now: Date): Promise<DeadlineItem[]> {
  const rows = await tx.cases.clocked();
  const steps = await clockedStepsByCase(tx);
  return rows
    .flatMap((row) => {
      const applied = (steps.get(row.case_id) ?? []).map((s) => ({ step: s.step, from: s.from, to: s.to, at: s.at, grounds: s.grounds }));
      const { preservationDays, instrument, deadlineAt } = parseFacts(row.facts);
      const record: ClockedCase = {
        caseId: row.case_id,
        direction: row.direction,
        kind: row.kind,
        peer: row.peer,
        priority: row.priority,
        status: row.status as CaseStatus,
        receivedAt: row.received_at,
        headEnvelopeId: row.head_envelope_id,
        facts: {
          ...(preservationDays === undefined ? {} : { preservationDays }),
          ...(instrument === undefined ? {} : { instrument }),
          ...(deadlineAt === undefined ? {} : { deadlineAt }),
        },
      };
      return deadlinesOf(record, applied, config, now);
    })
    .sort(byUrgency);
}

/** Deadlines passed at `now`, emergency first. */
export async function overdueDeadlines(tx: Tx, config: GatewayConfig, now: Date): Promise<DeadlineItem[]> {
  return (await runningDeadlines(tx, config, now)).filter((item) => Date.parse(item.dueAt) <= now.getTime());
}

/** Deadlines falling within `days` after `now` (default: `clocks.dueSoonDays`, 2), emergency first. */
export async function dueSoonDeadlines(tx: Tx, config: GatewayConfig, now: Date, days = config.clocks?.dueSoonDays ?? 2): Promise<DeadlineItem[]> {
  const until = now.getTime() + days * DAY_MS;
  return (await runningDeadlines(tx, config, now)).filter((item) => {
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
  const { alerted, candidates } = await ctx.store.read(async (tx) => ({
    alerted: new Set((await tx.cases.raisedAlerts()).map((row) => id(row.case_id, row.clock, row.hop_key))),
    candidates: await overdueDeadlines(tx, ctx.config, now),
  }));
  const fresh = candidates.filter((item) => !alerted.has(id(item.caseId, item.clock, item.key)));
  if (fresh.length === 0) return [];
  const missed = await ctx.store.transaction(async (tx) => {
    const alertedNow: DeadlineItem[] = [];
    for (const candidate of fresh) {
      // A step may have been committed since the read: check the case again.
      const record = await readCase(tx, candidate.caseId);
      const item =
        record === undefined
          ? undefined
          : deadlinesOf(record, await stepsOfCase(tx, record.caseId), ctx.config, now).find(
              (d) => d.clock === candidate.clock && d.key === candidate.key && Date.parse(d.dueAt) <= now.getTime(),
            );
      if (item === undefined) continue;
      // Recorded once whatever the number of instances: the alert row's key decides.
      if (!(await tx.cases.raiseAlert({ caseId: item.caseId, clock: item.clock, key: item.key, dueAt: item.dueAt, detectedAt: now.toISOString() }))) continue;
      await appendEntry(tx, {
        kind: "deadline.missed",
        actor: "gateway",
        time: now,
        caseId: item.caseId,
        details: { clock: item.clock, dueAt: item.dueAt, holder: item.holderAuthority, side: item.holder, status: item.status, priority: item.priority, ...(item.key === "" ? {} : { hop: item.key }) },
      });
      await raiseAlert(tx, ctx.config, {
        type: "alert.deadline.missed",
        key: `${item.caseId}:${item.clock}:${item.key}`,
        time: now,
        data: { caseId: item.caseId, clock: item.clock, dueAt: item.dueAt, holder: item.holderAuthority, peer: item.peer, direction: item.direction, priority: item.priority, status: item.status },
      });
      alertedNow.push(item);
    }
    return alertedNow;
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

/**
 * The deadline check as a singleton job (only the leader instance alerts):
 * every `clocks.checkIntervalSeconds` (default 60 s).
 */
export function deadlineJob(ctx: GatewayContext): Job {
  const intervalMs = (ctx.config.clocks?.checkIntervalSeconds ?? DEFAULT_CHECK_INTERVAL_SECONDS) * 1000;
  return {
    name: "deadlines",
    singleton: true,
    idleMs: intervalMs,
    async run() {
      await checkDeadlines(ctx);
      return intervalMs;
    },
  };
}
