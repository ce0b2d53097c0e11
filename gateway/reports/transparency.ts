/**
 * The transparency report: what a government publishes about its mutual
 * legal assistance — requests sent and received in a period, by counterpart
 * country, kind of assistance, category of data, offence category and
 * outcome (refusals by ground), and how long answers took. A pure function
 * of the case records; counts and durations only, never content.
 *
 * Small counts are suppressed: a count from 1 to `suppressBelow - 1` is
 * published as `"<N"` (zero is published: it reveals nothing), so that a
 * single request to a small country cannot be singled out. In a breakdown
 * whose rows add up to the total (country, offence category, outcome), a
 * lone small row could be recovered by subtraction, so the next smallest
 * non-zero row is withheld with it (`"[c]"`). Suppressed rows are listed
 * after the others, by key. Percentiles of fewer than `suppressBelow`
 * durations are withheld (null). `suppressBelow: 0` turns suppression off.
 */
import { GatewayError } from "../errors.js";
import { REFUSAL_GROUNDS } from "../cases/lifecycle.js";
import { DAY_MS } from "../cases/clocks.js";
import { percentile } from "./percentile.js";
import { completionDaysOf, countryOf, OUTCOMES, outcomeOf, refusalGroundsOf, type ReportCase } from "./report-case.js";

/**
 * A published count: exact; `"<N"` for a count from 1 to N-1; `"[c]"` for a
 * count withheld so that a `"<N"` beside it cannot be worked out from the total.
 */
export type Count = number | `<${number}` | "[c]";

/** The marker of a count withheld to protect a small one. */
export const WITHHELD = "[c]";

/** One row of a breakdown. */
export interface BreakdownRow {
  readonly key: string;
  readonly count: Count;
}

/** Completion-time percentiles, in days (null: withheld or no data). */
export interface CompletionPercentiles {
  readonly completed: Count;
  readonly p25: number | null;
  readonly p50: number | null;
  readonly p75: number | null;
  readonly p90: number | null;
  readonly p95: number | null;
}

/** The figures of one direction (sent or received). */
export interface DirectionFigures {
  readonly total: Count;
  /** ISO 3166-1 alpha-2 code of the counterpart. */
  readonly byCountry: readonly BreakdownRow[];
  /** A request asking for several kinds of assistance counts once for each. */
  readonly byAssistanceType: readonly BreakdownRow[];
  /** A request seeking several categories counts once for each; `none`: no stored data sought. */
  readonly byDataCategory: readonly BreakdownRow[];
  readonly byOffenceCategory: readonly BreakdownRow[];
  /** executed, partially-executed, refused, withdrawn, pending (as of the report's time). */
  readonly byOutcome: readonly BreakdownRow[];
  /** A refusal citing several grounds counts once for each. */
  readonly refusedByGround: readonly BreakdownRow[];
  readonly completionDays: CompletionPercentiles;
}

/** The transparency report. */
export interface TransparencyReport {
  readonly title: string;
  readonly authority: string;
  /** The period, both dates included (UTC). */
  readonly period: { readonly from: string; readonly to: string };
  /** Outcomes are as of this time. */
  readonly asOf: string;
  readonly suppression: { readonly below: number; readonly note: string };
  readonly sent: DirectionFigures;
  readonly received: DirectionFigures;
}

/** Options of {@link transparencyReport}. */
export interface TransparencyOptions {
  readonly authority: string;
  /** First and last day of the period, YYYY-MM-DD (UTC), both included. */
  readonly from: string;
  readonly to: string;
  readonly asOf: Date;
  /** Counts below this are suppressed (default 5; 0: none). */
  readonly suppressBelow?: number;
}

/** The default suppression threshold. */
export const DEFAULT_SUPPRESS_BELOW = 5;

class Suppressor {
  constructor(readonly below: number) {}

  hides(count: number): boolean {
    return count > 0 && count < this.below;
  }

  count(count: number): Count {
    return this.hides(count) ? `<${this.below}` : count;
  }

  /**
   * Rows of `counts`: published counts largest first, then the suppressed
   * ones, each group by key (ordering by the true counts would tell the
   * suppressed ones apart). `additive`: the cells add up to the total, so a
   * lone small cell is protected by withholding the next smallest one too.
   */
  rows(counts: ReadonlyMap<string, number>, additive: boolean): BreakdownRow[] {
    const entries = [...counts.entries()];
    const small = new Set(entries.filter(([, n]) => this.hides(n)).map(([key]) => key));
    const withheld = new Set<string>();
    if (additive && small.size === 1) {
      const next = entries.filter(([key, n]) => n > 0 && !small.has(key)).sort(([ka, a], [kb, b]) => a - b || ka.localeCompare(kb))[0];
      if (next !== undefined) withheld.add(next[0]);
    }
    const published = (key: string, n: number): Count => (small.has(key) ? `<${this.below}` : withheld.has(key) ? WITHHELD : n);
    const shown = entries.filter(([key]) => !small.has(key) && !withheld.has(key)).sort(([ka, a], [kb, b]) => b - a || ka.localeCompare(kb));
    const hidden = entries.filter(([key]) => small.has(key) || withheld.has(key)).sort(([ka], [kb]) => ka.localeCompare(kb));
    return [...shown, ...hidden].map(([key, n]) => ({ key, count: published(key, n) }));
  }
}

function tally(keys: Iterable<string>, into = new Map<string, number>()): Map<string, number> {
  for (const key of keys) into.set(key, (into.get(key) ?? 0) + 1);
  return into;
}

function figures(cases: readonly ReportCase[], suppress: Suppressor): DirectionFigures {
  const outcomes = new Map<string, number>(OUTCOMES.map((o) => [o, 0]));
  tally(cases.map(outcomeOf), outcomes);
  const grounds = tally(cases.filter((c) => outcomeOf(c) === "refused").flatMap(refusalGroundsOf));
  const days = cases.map(completionDaysOf).filter((d): d is number => d !== null);
  const withheld = days.length === 0 || suppress.hides(days.length);
  const at = (p: number): number | null => (withheld ? null : Number((percentile(days, p) ?? 0).toFixed(1)));
  return {
    total: suppress.count(cases.length),
    byCountry: suppress.rows(tally(cases.map((c) => countryOf(c.peer))), true),
    byAssistanceType: suppress.rows(tally(cases.flatMap((c) => c.facts.assistanceTypes)), false),
    byDataCategory: suppress.rows(tally(cases.flatMap((c) => (c.facts.dataCategories.length === 0 ? ["none"] : c.facts.dataCategories))), false),
    byOffenceCategory: suppress.rows(tally(cases.map((c) => c.facts.offenceCategory ?? "unknown")), true),
    // Outcomes keep their fixed order, every one listed (zeros too).
    byOutcome: (() => {
      const rows = suppress.rows(outcomes, true);
      return OUTCOMES.map((o) => rows.find((r) => r.key === o)!);
    })(),
    refusedByGround: suppress.rows(grounds, false).sort((a, b) => REFUSAL_GROUNDS.indexOf(a.key as never) - REFUSAL_GROUNDS.indexOf(b.key as never)),
    completionDays: { completed: suppress.count(days.length), p25: at(25), p50: at(50), p75: at(75), p90: at(90), p95: at(95) },
  };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The first instant of a YYYY-MM-DD day (UTC), or NaN. */
export function dayStart(date: string): number {
  return DATE.test(date) ? Date.parse(`${date}T00:00:00.000Z`) : Number.NaN;
}

/** Checks a report period given as two YYYY-MM-DD dates; `USAGE` when malformed or reversed. */
export function checkPeriod(from: unknown, to: unknown): { from: string; to: string } {
  if (typeof from !== "string" || typeof to !== "string" || Number.isNaN(dayStart(from)) || Number.isNaN(dayStart(to))) {
    throw new GatewayError("USAGE", "give the period as two dates, from and to, written YYYY-MM-DD (both days included)");
  }
  if (dayStart(to) < dayStart(from)) throw new GatewayError("USAGE", `the period ends (${to}) before it starts (${from})`);
  return { from, to };
}

/** The transparency report of the cases sent or received from `from` to `to` (both days included). */
export function transparencyReport(cases: readonly ReportCase[], options: TransparencyOptions): TransparencyReport {
  const start = dayStart(options.from);
  const end = dayStart(options.to) + DAY_MS;
  const below = options.suppressBelow ?? DEFAULT_SUPPRESS_BELOW;
  const suppress = new Suppressor(below);
  const inPeriod = cases.filter((c) => {
    const at = Date.parse(c.createdAt);
    return at >= start && at < end;
  });
  return {
    title: "Mutual legal assistance: transparency report",
    authority: options.authority,
    period: { from: options.from, to: options.to },
    asOf: options.asOf.toISOString(),
    suppression: {
      below,
      note:
        below <= 1
          ? "No counts are suppressed."
          : `Counts from 1 to ${below - 1} are shown as "<${below}". Where the rows of a table add up to its total and only one row is that small, the next smallest row is withheld too, shown as "${WITHHELD}", so that the small count cannot be worked out by subtraction. Percentiles of fewer than ${below} requests are not shown.`,
    },
    sent: figures(
      inPeriod.filter((c) => c.direction === "outbound"),
      suppress,
    ),
    received: figures(
      inPeriod.filter((c) => c.direction === "inbound"),
      suppress,
    ),
  };
}
