/**
 * Key performance indicators of the exchange, per direction (requests we
 * received: our performance; requests we sent: the peers'), overall and per
 * peer. A pure function of the case records (gateway/reports/report-case.ts),
 * the clock settings and the time of the report.
 *
 * Definitions (README, "Reports"):
 * - completed: answered — executed, refused, could not be executed, or closed
 *   by the requester after partial execution; time to completion runs from receipt of the request to
 *   that answer, in calendar days (pauses for more information included: this
 *   is what the requester waited);
 * - completed within N days: of the cases whose result at N days is known
 *   (answered, or received at least N days before the report), those answered
 *   within N days of receipt; withdrawn cases are left out;
 * - median and p95 by the nearest-rank method (gateway/reports/percentile.ts);
 * - time per hop: the time from the previous step (or the receipt) to each
 *   step, by the side that took it;
 * - overdue: open cases with a deadline passed at the time of the report;
 * - refusal rate: refused cases over completed cases, overall and per ground
 *   (a refusal citing two grounds counts for both);
 * - unable to execute: cases the requested side could not execute (data not
 *   held, deleted, identifier not found…), over completed cases, per reason:
 *   counted apart from refusals, which they are not;
 * - refused in part: cases where some items were refused and the rest went on;
 * - by instrument: the same figures per legal instrument (`unknown` for
 *   requests of the earlier form, which name none).
 */
import { runningClocks, caseClocks, DAY_MS, type ClockSettings } from "../cases/clocks.js";
import type { Side } from "../cases/lifecycle.js";
import { percentile } from "./percentile.js";
import { completionDaysOf, instrumentOf, outcomeOf, refusalGroundsOf, refusedInPart, unableReasonsOf, type ReportCase } from "./report-case.js";

/** A share: `count` of `of`, and the fraction (null when `of` is 0). */
export interface Share {
  readonly count: number;
  readonly of: number;
  readonly share: number | null;
}

/** A distribution of durations, in days (not rounded: a step may take seconds). */
export interface Durations {
  readonly count: number;
  readonly medianDays: number | null;
  readonly p95Days: number | null;
}

/** The indicators of one group of cases. */
export interface KpiFigures {
  readonly cases: number;
  readonly completed: number;
  readonly withdrawn: number;
  /** Neither answered nor withdrawn yet (including partly executed ones). */
  readonly open: number;
  readonly completedWithin14Days: Share;
  readonly completedWithin30Days: Share;
  readonly timeToCompletion: Durations;
  readonly timePerHop: Readonly<Record<Side, Durations>>;
  readonly overdue: number;
  readonly refusals: {
    readonly count: number;
    readonly rate: number | null;
    /** Per ground cited, sorted by ground. */
    readonly byGround: Readonly<Record<string, { readonly count: number; readonly rate: number | null }>>;
  };
  /** Refused for some items only; the rest went on. */
  readonly refusedInPart: number;
  readonly unableToExecute: {
    readonly count: number;
    readonly rate: number | null;
    /** Per reason given, sorted by reason. */
    readonly byReason: Readonly<Record<string, { readonly count: number; readonly rate: number | null }>>;
  };
}

/** The indicators of one direction. */
export interface DirectionKpis {
  readonly overall: KpiFigures;
  readonly byPeer: Readonly<Record<string, KpiFigures>>;
  /** By legal instrument; `unknown` for requests that name none (document version 1). */
  readonly byInstrument: Readonly<Record<string, KpiFigures>>;
}

/** The KPI report. */
export interface KpiReport {
  readonly asOf: string;
  /** The cases counted: sent or received in [from, to) (null: all). */
  readonly window: { readonly from: string | null; readonly to: string | null };
  /** Requests received: how fast we answer. */
  readonly inbound: DirectionKpis;
  /** Requests sent: how fast peers answer us. */
  readonly outbound: DirectionKpis;
}

/** Options of {@link computeKpis}. */
export interface KpiOptions {
  readonly asOf: Date;
  /** The clock settings of cases with a peer (for the overdue count). */
  readonly clocks: (peer: string) => ClockSettings;
  /** Count only cases sent or received from this time… */
  readonly from?: Date;
  /** …and before this one. */
  readonly to?: Date;
}

const round = (value: number | null, places: number): number | null => (value === null ? null : Number(value.toFixed(places)));

function share(count: number, of: number): Share {
  return { count, of, share: of === 0 ? null : round(count / of, 4) };
}

function durations(days: readonly number[]): Durations {
  return { count: days.length, medianDays: percentile(days, 50), p95Days: percentile(days, 95) };
}

/** Count and rate per code, sorted by code. */
function perCode(codes: Iterable<string>, completed: number): Record<string, { count: number; rate: number | null }> {
  const counts = new Map<string, number>();
  for (const code of codes) counts.set(code, (counts.get(code) ?? 0) + 1);
  return Object.fromEntries(
    [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([code, count]) => [code, { count, rate: completed === 0 ? null : round(count / completed, 4) }]),
  );
}

function isOverdue(c: ReportCase, settings: ClockSettings, asOf: Date): boolean {
  const clocks = caseClocks(
    { kind: c.kind, priority: c.priority, status: c.status, receivedAt: c.receivedAt, facts: c.facts, headEnvelopeId: null, steps: c.steps },
    settings,
    asOf,
  );
  return runningClocks(clocks).some((clock) => Date.parse(clock.dueAt) <= asOf.getTime());
}

function withinDays(cases: readonly ReportCase[], days: number, asOf: Date): Share {
  let count = 0;
  let of = 0;
  for (const c of cases) {
    if (c.receivedAt === null || outcomeOf(c) === "withdrawn") continue;
    const taken = completionDaysOf(c);
    const known = taken !== null || asOf.getTime() - Date.parse(c.receivedAt) >= days * DAY_MS;
    if (!known) continue;
    of += 1;
    if (taken !== null && taken <= days) count += 1;
  }
  return share(count, of);
}

/** The indicators of `cases` (one group). */
export function kpiFigures(cases: readonly ReportCase[], options: Pick<KpiOptions, "asOf" | "clocks">): KpiFigures {
  const outcomes = cases.map(outcomeOf);
  const completionDays = cases.map(completionDaysOf).filter((d): d is number => d !== null);
  const completed = completionDays.length;
  const hops: Record<Side, number[]> = { requested: [], requesting: [] };
  for (const c of cases) {
    if (c.receivedAt === null) continue;
    let previous = Date.parse(c.receivedAt);
    for (const step of c.steps) {
      const at = Date.parse(step.at);
      hops[step.by].push(Math.max(0, at - previous) / DAY_MS);
      previous = at;
    }
  }
  const refused = cases.filter((c) => outcomeOf(c) === "refused");
  const unable = cases.filter((c) => outcomeOf(c) === "unable-to-execute");
  return {
    cases: cases.length,
    completed,
    withdrawn: outcomes.filter((o) => o === "withdrawn").length,
    open: cases.length - completed - outcomes.filter((o) => o === "withdrawn").length,
    completedWithin14Days: withinDays(cases, 14, options.asOf),
    completedWithin30Days: withinDays(cases, 30, options.asOf),
    timeToCompletion: durations(completionDays),
    timePerHop: { requested: durations(hops.requested), requesting: durations(hops.requesting) },
    overdue: cases.filter((c) => isOverdue(c, options.clocks(c.peer), options.asOf)).length,
    refusals: {
      count: refused.length,
      rate: completed === 0 ? null : round(refused.length / completed, 4),
      byGround: perCode(refused.flatMap(refusalGroundsOf), completed),
    },
    refusedInPart: cases.filter(refusedInPart).length,
    unableToExecute: {
      count: unable.length,
      rate: completed === 0 ? null : round(unable.length / completed, 4),
      byReason: perCode(unable.flatMap(unableReasonsOf), completed),
    },
  };
}

function direction(cases: readonly ReportCase[], options: KpiOptions): DirectionKpis {
  const peers = [...new Set(cases.map((c) => c.peer))].sort();
  const instruments = [...new Set(cases.map(instrumentOf))].sort();
  return {
    overall: kpiFigures(cases, options),
    byPeer: Object.fromEntries(peers.map((peer) => [peer, kpiFigures(cases.filter((c) => c.peer === peer), options)])),
    byInstrument: Object.fromEntries(instruments.map((instrument) => [instrument, kpiFigures(cases.filter((c) => instrumentOf(c) === instrument), options)])),
  };
}

/** The KPI report of `cases` (see the module comment for definitions). */
export function computeKpis(cases: readonly ReportCase[], options: KpiOptions): KpiReport {
  const inWindow = cases.filter((c) => {
    const at = Date.parse(c.createdAt);
    return (options.from === undefined || at >= options.from.getTime()) && (options.to === undefined || at < options.to.getTime());
  });
  return {
    asOf: options.asOf.toISOString(),
    window: { from: options.from?.toISOString() ?? null, to: options.to?.toISOString() ?? null },
    inbound: direction(
      inWindow.filter((c) => c.direction === "inbound"),
      options,
    ),
    outbound: direction(
      inWindow.filter((c) => c.direction === "outbound"),
      options,
    ),
  };
}
