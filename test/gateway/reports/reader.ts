/**
 * The adversarial reader of a published transparency report, written
 * independently of gateway/reports (no linear programming: an exact search
 * over whole numbers). From one direction's published figures alone — and
 * the relations README.md says hold among them — it finds, for each
 * suppressed count, which values it could take. A count is protected when
 * it could take at least the threshold's number of values.
 *
 * The search: every unknown count has a domain [low, CAP]; bounds are
 * propagated through the relations (each a sum with coefficients ±1) to a
 * fixpoint, and the widest domain is split in two until every count is
 * fixed or a domain is empty. CAP only shrinks what the reader may consider,
 * so it can make a count look less protected, never more.
 */
import type { Count, DirectionFigures } from "../../../gateway/reports/transparency.js";

const CAP = 100;

interface Term {
  readonly v: number;
  readonly c: number;
}

/** Σ c·x + constant (op) 0 over unknown counts x. */
interface Constraint {
  readonly terms: readonly Term[];
  readonly constant: number;
  readonly op: "=" | "<=" | ">=";
}

/** A reader's view of one direction: unknowns, their lower bounds, the relations. */
export interface ReaderModel {
  /** Unknown counts by name: `total`, `country:FR`, `outcome:refused`, `completed`, `partial-closed`… */
  readonly names: readonly string[];
  readonly low: readonly number[];
  readonly constraints: readonly Constraint[];
}

type Side = Array<[name: string, coefficient: number]>;

/** The model of what `figures` (as published, e.g. parsed from the JSON) let a reader know. */
export function readerModel(figures: DirectionFigures): ReaderModel {
  const names: string[] = [];
  const low: number[] = [];
  const known = new Map<string, number>();
  const below = new Map<string, number>();
  const note = (name: string, count: Count | number): void => {
    const marker = String(count);
    if (typeof count === "number") known.set(name, count);
    else if (marker === "[c]" || /^<\d+$/.test(marker)) {
      names.push(name);
      low.push(1); // zero is always published
      // "<N" (the format before complementary suppression) says what it says: 1 to N − 1.
      if (marker.startsWith("<")) below.set(name, Number(marker.slice(1)));
    } else throw new Error(`unknown marker ${marker}`);
  };
  note("total", figures.total);
  note("completed", figures.completionDays.completed);
  const table = (prefix: string, rows: DirectionFigures["byCountry"]): string[] =>
    rows.map((row) => {
      note(`${prefix}:${row.key}`, row.count);
      return `${prefix}:${row.key}`;
    });
  const country = table("country", figures.byCountry);
  const offence = table("offence", figures.byOffenceCategory);
  const outcome = table("outcome", figures.byOutcome);
  const assistance = table("assistance", figures.byAssistanceType);
  const data = table("data", figures.byDataCategory);
  const ground = table("ground", figures.refusedByGround);
  // The split of "partially executed" into closed (answered) and continuing is never published.
  for (const hidden of ["partial-closed", "partial-continuing"]) {
    names.push(hidden);
    low.push(0);
  }
  const index = new Map(names.map((name, i) => [name, i]));
  const constraints: Constraint[] = [];
  const relate = (side: Side, op: Constraint["op"], offset = 0): void => {
    const terms: Term[] = [];
    let constant = offset;
    for (const [name, c] of side) {
      const v = index.get(name);
      if (v === undefined) constant += c * (known.get(name) ?? 0);
      else terms.push({ v, c });
    }
    constraints.push({ terms, constant, op });
  };
  for (const [name, n] of below) relate([[name, 1]], "<=", -(n - 1));
  const sumIs = (parts: readonly string[], whole: string, op: Constraint["op"]): void => relate([...parts.map((p): [string, number] => [p, 1]), [whole, -1]], op);
  // Rows add up to the total: each request has one country, one offence category, one outcome.
  sumIs(country, "total", "=");
  sumIs(offence, "total", "=");
  sumIs(outcome, "total", "=");
  // Answered = executed + refused + partially executed and closed.
  sumIs(["partial-closed", "partial-continuing"], "outcome:partially-executed", "=");
  sumIs(["outcome:executed", "outcome:refused", "partial-closed"], "completed", "=");
  // Multi-count tables: each row counts a request at most once, and every request at least once.
  for (const [rows, whole] of [
    [assistance, "total"],
    [data, "total"],
    [ground, "outcome:refused"],
  ] as const) {
    for (const row of rows) sumIs([row], whole, "<=");
    sumIs(rows, whole, ">=");
  }
  return { names, low, constraints };
}

/** Tightens `lo`/`hi` to a fixpoint; false when some domain empties. */
function propagate(model: ReaderModel, lo: number[], hi: number[]): boolean {
  for (let changed = true; changed; ) {
    changed = false;
    for (const { terms, constant, op } of model.constraints) {
      let min = constant;
      let max = constant;
      for (const { v, c } of terms) {
        min += c > 0 ? c * (lo[v] as number) : c * (hi[v] as number);
        max += c > 0 ? c * (hi[v] as number) : c * (lo[v] as number);
      }
      // The sum must reach [needLow, needHigh].
      const needLow = op === ">=" || op === "=" ? 0 : -Infinity;
      const needHigh = op === "<=" || op === "=" ? 0 : Infinity;
      if (max < needLow || min > needHigh) return false;
      for (const { v, c } of terms) {
        const termMin = c > 0 ? c * (lo[v] as number) : c * (hi[v] as number);
        const termMax = c > 0 ? c * (hi[v] as number) : c * (lo[v] as number);
        // c·x must lie in [needLow − (max − termMax), needHigh − (min − termMin)].
        const from = needLow - (max - termMax);
        const to = needHigh - (min - termMin);
        const [xLow, xHigh] = c > 0 ? [Math.ceil(from / c), Math.floor(to / c)] : [Math.ceil(to / c), Math.floor(from / c)];
        if (xLow > (lo[v] as number)) {
          lo[v] = xLow;
          changed = true;
        }
        if (xHigh < (hi[v] as number)) {
          hi[v] = xHigh;
          changed = true;
        }
        if ((lo[v] as number) > (hi[v] as number)) return false;
      }
    }
  }
  return true;
}

/** Whether some whole-number assignment within the domains satisfies every relation. */
function feasible(model: ReaderModel, lo: number[], hi: number[]): boolean {
  if (!propagate(model, lo, hi)) return false;
  let split = -1;
  for (let v = 0; v < lo.length; v++) if ((hi[v] as number) > (lo[v] as number) && (split < 0 || (hi[v] as number) - (lo[v] as number) < (hi[split] as number) - (lo[split] as number))) split = v;
  if (split < 0) return true;
  const middle = Math.floor(((lo[split] as number) + (hi[split] as number)) / 2);
  const [lowerLo, lowerHi] = [lo.slice(), hi.slice()];
  lowerHi[split] = middle;
  if (feasible(model, lowerLo, lowerHi)) return true;
  const [upperLo, upperHi] = [lo.slice(), hi.slice()];
  upperLo[split] = middle + 1;
  return feasible(model, upperLo, upperHi);
}

function domains(model: ReaderModel): [number[], number[]] {
  return [model.low.slice(), model.names.map(() => CAP)];
}

/** True when the published figures are consistent with the relations (the true counts are a solution). */
export function consistent(model: ReaderModel): boolean {
  return feasible(model, ...domains(model));
}

/** Whether `name` can take the value `value`. */
export function possible(model: ReaderModel, name: string, value: number): boolean {
  const v = model.names.indexOf(name);
  const [lo, hi] = domains(model);
  if (value < (lo[v] as number) || value > (hi[v] as number)) return false;
  lo[v] = value;
  hi[v] = value;
  return feasible(model, lo, hi);
}

/**
 * The values `name` can take, counted up to `enough` (a reader who is left
 * with `enough` candidates learns too little to matter): each candidate is
 * checked by search, starting from the smallest possible value.
 */
export function possibleValues(model: ReaderModel, name: string, enough: number): number[] {
  const v = model.names.indexOf(name);
  const [lo, hi] = domains(model);
  if (!propagate(model, lo, hi)) return [];
  const values: number[] = [];
  for (let value = lo[v] as number; value <= (hi[v] as number) && values.length < enough; value++) {
    if (possible(model, name, value)) values.push(value);
  }
  return values;
}
