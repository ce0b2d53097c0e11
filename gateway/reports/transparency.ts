/**
 * The transparency report: what a government publishes about its mutual
 * legal assistance — requests sent and received in a period, by counterpart
 * country, kind of assistance, category of data, offence category and
 * outcome (refusals by ground; requests that could not be executed — data
 * not held, deleted… — by reason, apart from refusals), legal instrument,
 * and how long answers took. A pure function
 * of the case records; counts and durations only, never content.
 *
 * Small counts are suppressed (suppression.ts): a count from 1 to
 * `suppressBelow - 1` is not published (primary suppression; zero is
 * published: it reveals nothing), and further counts are withheld until no
 * suppressed count can be worked out, from the published figures and the
 * relations below, to fewer than `suppressBelow` possible values
 * (complementary suppression). Every suppressed count reads `"[c]"`,
 * whatever the reason, so a reader cannot tell a small count from one
 * withheld to protect it. The relations a reader knows, per direction:
 *
 * - the countries, the offence categories, the instruments and the outcomes
 *   each add up to the total (a request has one of each);
 * - a kind of assistance or category of data counts a request at most once,
 *   and every request at least once (`unknown` / `none` when not recorded);
 * - a refusal ground counts a refused request at most once, and every
 *   refused request at least once (`unknown` when not recorded); so does a
 *   reason for a request that could not be executed;
 * - the answered requests are the executed, the refused, those that could
 *   not be executed, and the partially executed ones the requester closed (a
 *   split the report never shows).
 *
 * Suppressed rows are listed after the others, by key. Percentiles are
 * published only with the number of answered requests they are taken from,
 * and only when it is published and at least `suppressBelow`.
 * `suppressBelow: 0` turns suppression off.
 */
import { GatewayError } from "../errors.js";
import { REFUSAL_GROUNDS } from "../cases/lifecycle.js";
import { INSTRUMENTS } from "../../schemas/instruments.js";
import { DAY_MS } from "../cases/clocks.js";
import type { Relation } from "./feasible-range.js";
import { percentile } from "./percentile.js";
import { completedAtOf, completionDaysOf, countryOf, instrumentOf, OUTCOMES, outcomeOf, refusalGroundsOf, unableReasonsOf, type ReportCase } from "./report-case.js";
import { suppressedCounts, type CountCell } from "./suppression.js";

/** The marker of a suppressed count: a small one, or one withheld so that a small one cannot be worked out. */
export const SUPPRESSED = "[c]";

/** A published count: exact, or {@link SUPPRESSED}. */
export type Count = number | typeof SUPPRESSED;

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
  /** A request asking for several kinds of assistance counts once for each; `unknown`: none recorded. */
  readonly byAssistanceType: readonly BreakdownRow[];
  /** A request seeking several categories counts once for each; `none`: no stored data sought. */
  readonly byDataCategory: readonly BreakdownRow[];
  readonly byOffenceCategory: readonly BreakdownRow[];
  /** executed, partially-executed, refused, withdrawn, pending (as of the report's time). */
  readonly byOutcome: readonly BreakdownRow[];
  /** A refusal citing several grounds counts once for each; `unknown`: none recorded. */
  readonly refusedByGround: readonly BreakdownRow[];
  /** The legal instrument of each request; `unknown`: a request of the earlier form, which names none. */
  readonly byInstrument: readonly BreakdownRow[];
  /** Why requests could not be executed (no refusal: the data is not held, was deleted…); several reasons count once each. */
  readonly unableByReason: readonly BreakdownRow[];
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
  readonly suppression: { readonly below: number; readonly marker: typeof SUPPRESSED; readonly note: string };
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

function tally(keys: Iterable<string>, into = new Map<string, number>()): Map<string, number> {
  for (const key of keys) into.set(key, (into.get(key) ?? 0) + 1);
  return into;
}

/** The tables of one direction, as counts keyed by table and row. */
interface Tables {
  readonly total: number;
  readonly country: Map<string, number>;
  readonly offence: Map<string, number>;
  readonly outcome: Map<string, number>;
  readonly assistance: Map<string, number>;
  readonly data: Map<string, number>;
  readonly ground: Map<string, number>;
  readonly instrument: Map<string, number>;
  readonly unable: Map<string, number>;
  /** Answered: executed + refused + could not be executed + partially executed and closed. */
  readonly completed: number;
  /** The partially executed requests that were closed (answered) and those still going on: never published. */
  readonly partialClosed: number;
  readonly partialContinuing: number;
}

const nonEmpty = (list: readonly string[], otherwise: string): readonly string[] => (list.length === 0 ? [otherwise] : list);

function tables(cases: readonly ReportCase[]): Tables {
  const outcome = tally(cases.map(outcomeOf), new Map(OUTCOMES.map((o) => [o, 0])));
  const partial = cases.filter((c) => outcomeOf(c) === "partially-executed");
  const partialClosed = partial.filter((c) => completedAtOf(c) !== null).length;
  return {
    total: cases.length,
    country: tally(cases.map((c) => countryOf(c.peer))),
    offence: tally(cases.map((c) => c.facts.offenceCategory ?? "unknown")),
    outcome,
    assistance: tally(cases.flatMap((c) => nonEmpty([...new Set(c.facts.assistanceTypes)], "unknown"))),
    data: tally(cases.flatMap((c) => nonEmpty([...new Set(c.facts.dataCategories)], "none"))),
    ground: tally(cases.filter((c) => outcomeOf(c) === "refused").flatMap((c) => nonEmpty(refusalGroundsOf(c), "unknown"))),
    instrument: tally(cases.map(instrumentOf)),
    unable: tally(cases.filter((c) => outcomeOf(c) === "unable-to-execute").flatMap((c) => nonEmpty(unableReasonsOf(c), "unknown"))),
    completed: (outcome.get("executed") ?? 0) + (outcome.get("refused") ?? 0) + (outcome.get("unable-to-execute") ?? 0) + partialClosed,
    partialClosed,
    partialContinuing: partial.length - partialClosed,
  };
}

/** The counts of one direction and the relations a reader knows among them (see the module comment). */
function countsAndRelations(t: Tables): { cells: CountCell[]; relations: Relation[] } {
  const cells: CountCell[] = [{ id: "total", value: t.total, margin: "last" }];
  const ids = (table: string, counts: ReadonlyMap<string, number>): string[] => [...counts.keys()].map((key) => `${table}:${key}`);
  for (const [table, counts] of [
    ["country", t.country],
    ["offence", t.offence],
    ["instrument", t.instrument],
    ["outcome", t.outcome],
  ] as const) {
    for (const [key, value] of counts) cells.push({ id: `${table}:${key}`, value });
  }
  cells.push({ id: "completed", value: t.completed, margin: true });
  for (const [table, counts] of [
    ["assistance", t.assistance],
    ["data", t.data],
    ["ground", t.ground],
    ["unable", t.unable],
  ] as const) {
    for (const [key, value] of counts) cells.push({ id: `${table}:${key}`, value });
  }
  cells.push({ id: "partial-closed", value: t.partialClosed, hidden: true }, { id: "partial-continuing", value: t.partialContinuing, hidden: true });

  const sum = (members: readonly string[], whole: string, op: Relation["op"]): Relation => ({ terms: [...members.map((id) => [id, 1] as const), [whole, -1] as const], op });
  const relations: Relation[] = [
    sum(ids("country", t.country), "total", "="),
    sum(ids("offence", t.offence), "total", "="),
    sum(ids("instrument", t.instrument), "total", "="),
    sum(ids("outcome", t.outcome), "total", "="),
    sum(["partial-closed", "partial-continuing"], "outcome:partially-executed", "="),
    sum(["outcome:executed", "outcome:refused", "outcome:unable-to-execute", "partial-closed"], "completed", "="),
  ];
  for (const [table, whole] of [
    ["assistance", "total"],
    ["data", "total"],
    ["ground", "outcome:refused"],
    ["unable", "outcome:unable-to-execute"],
  ] as const) {
    const members = ids(table, t[table]);
    for (const id of members) relations.push(sum([id], whole, "<="));
    relations.push(sum(members, whole, ">="));
  }
  return { cells, relations };
}

/**
 * Rows of `counts`: published counts largest first, then the suppressed ones,
 * by key (ordering by the true counts would tell the suppressed ones apart).
 */
function rows(table: string, counts: ReadonlyMap<string, number>, publish: (id: string, value: number) => Count): BreakdownRow[] {
  const all = [...counts.entries()].map(([key, n]) => ({ key, n, count: publish(`${table}:${key}`, n) }));
  const shown = all.filter((r) => r.count !== SUPPRESSED).sort((a, b) => b.n - a.n || a.key.localeCompare(b.key));
  const hidden = all.filter((r) => r.count === SUPPRESSED).sort((a, b) => a.key.localeCompare(b.key));
  return [...shown, ...hidden].map(({ key, count }) => ({ key, count }));
}

function figures(cases: readonly ReportCase[], below: number): DirectionFigures {
  const t = tables(cases);
  const { cells, relations } = countsAndRelations(t);
  const suppressed = suppressedCounts(cells, relations, below);
  const publish = (id: string, value: number): Count => (suppressed.has(id) ? SUPPRESSED : value);
  const days = cases.map(completionDaysOf).filter((d): d is number => d !== null);
  // Percentiles say nothing of a count only when that count is published: a
  // suppressed number of answers withholds them whatever its true size.
  const withheld = suppressed.has("completed") || days.length === 0 || (below > 1 && days.length < below);
  const at = (p: number): number | null => (withheld ? null : Number((percentile(days, p) ?? 0).toFixed(1)));
  const order = (list: readonly string[]) => (a: BreakdownRow, b: BreakdownRow) => (list.indexOf(a.key) >>> 0) - (list.indexOf(b.key) >>> 0);
  return {
    total: publish("total", t.total),
    byCountry: rows("country", t.country, publish),
    byAssistanceType: rows("assistance", t.assistance, publish),
    byDataCategory: rows("data", t.data, publish),
    byOffenceCategory: rows("offence", t.offence, publish),
    // Outcomes keep their fixed order, every one listed (zeros too); grounds theirs, `unknown` last.
    byOutcome: rows("outcome", t.outcome, publish).sort(order(OUTCOMES)),
    refusedByGround: rows("ground", t.ground, publish).sort(order(REFUSAL_GROUNDS)),
    byInstrument: rows("instrument", t.instrument, publish).sort(order(INSTRUMENTS)),
    unableByReason: rows("unable", t.unable, publish),
    completionDays: { completed: publish("completed", t.completed), p25: at(25), p50: at(50), p75: at(75), p90: at(90), p95: at(95) },
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
      marker: SUPPRESSED,
      note:
        below <= 1
          ? "No counts are suppressed."
          : `Counts from 1 to ${below - 1} are not published: they are shown as "${SUPPRESSED}". So that none of them can be worked out from a total or from the other figures, some larger counts are shown as "${SUPPRESSED}" too, and the two cannot be told apart: from the published figures, each "${SUPPRESSED}" could still be any of at least ${below} values. Zero is always published. Percentiles are shown only when the number of answered requests is shown and is at least ${below}.`,
    },
    sent: figures(
      inPeriod.filter((c) => c.direction === "outbound"),
      below,
    ),
    received: figures(
      inPeriod.filter((c) => c.direction === "inbound"),
      below,
    ),
  };
}
