/**
 * What a reader can work out about the counts a report does not publish:
 * given the published counts and the linear relations the report states
 * (rows add up to a total, a refusal ground is cited at most once per
 * refusal…), the smallest and largest value each unpublished count can take.
 *
 * The reader is the adversary here: whatever can be derived from the figures
 * by arithmetic is as good as published. So each bound is an optimum of a
 * linear programme — minimise, then maximise, that count over every
 * assignment of the unpublished counts that satisfies all the relations —
 * solved by a dense two-phase simplex with Bland's rule (which cannot cycle).
 * The relations of a report have coefficients ±1, so the optima are whole
 * numbers; they are rounded only to absorb floating-point noise.
 *
 * Pure: relations and values in, ranges out.
 */

/** A linear relation among counts: Σ coefficient × count (op) 0. */
export interface Relation {
  readonly terms: ReadonlyArray<readonly [id: string, coefficient: number]>;
  readonly op: "=" | "<=" | ">=";
}

/** The values an unpublished count can take: min to max, both included (max may be Infinity). */
export interface FeasibleRange {
  readonly min: number;
  readonly max: number;
}

const EPS = 1e-9;

/**
 * The range of every unknown count, given the known (published) ones.
 * `unknown` maps each unpublished count to its lower bound (1 for a suppressed
 * count: zero is always published; 0 for a count the report never shows).
 * Returns null when the relations cannot all hold (inconsistent figures).
 *
 * @example
 * // a + b = total, total = 6 published, a and b suppressed (each at least 1)
 * feasibleRanges([{ terms: [["a", 1], ["b", 1], ["total", -1]], op: "=" }], new Map([["total", 6]]), new Map([["a", 1], ["b", 1]]));
 * // → a: {min 1, max 5}, b: {min 1, max 5}
 */
export function feasibleRanges(relations: readonly Relation[], known: ReadonlyMap<string, number>, unknown: ReadonlyMap<string, number>): Map<string, FeasibleRange> | null {
  const ids = [...unknown.keys()];
  const column = new Map(ids.map((id, j) => [id, j]));
  const n = ids.length;
  const ranges = new Map<string, FeasibleRange>();
  if (n === 0) return relations.every((r) => holds(r, known)) ? ranges : null;

  // Each relation as Σ a_j y_j (op) b over y_j = x_j - lowerBound_j ≥ 0.
  const rows: Array<{ a: Float64Array; op: Relation["op"]; b: number }> = [];
  for (const relation of relations) {
    const a = new Float64Array(n);
    let b = 0;
    let touches = false;
    for (const [id, coefficient] of relation.terms) {
      const j = column.get(id);
      if (j !== undefined) {
        a[j] = (a[j] as number) + coefficient;
        b -= coefficient * (unknown.get(id) as number);
        touches = true;
      } else {
        const value = known.get(id);
        if (value === undefined) throw new RangeError(`count ${id} is neither known nor unknown`);
        b -= coefficient * value;
      }
    }
    if (!touches) {
      if (!compare(0, relation.op, b)) return null;
      continue;
    }
    rows.push({ a, op: relation.op, b });
  }
  const tableau = Tableau.feasible(rows, n);
  if (tableau === null) return null;
  for (const [j, id] of ids.entries()) {
    const lower = unknown.get(id) as number;
    const min = -tableau.maximise(j, -1);
    const max = tableau.maximise(j, 1);
    ranges.set(id, { min: lower + Math.max(0, Math.ceil(min - 1e-6)), max: max === Infinity ? Infinity : lower + Math.floor(max + 1e-6) });
  }
  return ranges;
}

function holds(relation: Relation, known: ReadonlyMap<string, number>): boolean {
  const sum = relation.terms.reduce((total, [id, coefficient]) => total + coefficient * (known.get(id) ?? Number.NaN), 0);
  return compare(sum, relation.op, 0);
}

function compare(left: number, op: Relation["op"], right: number): boolean {
  return op === "=" ? Math.abs(left - right) < EPS : op === "<=" ? left <= right + EPS : left >= right - EPS;
}

/**
 * A simplex tableau in canonical form: `m` rows over `width` columns (the
 * structural variables first, then slacks, then artificials), a right-hand
 * side, and the basic variable of each row.
 */
class Tableau {
  private constructor(
    private readonly cells: Float64Array,
    private readonly rhs: Float64Array,
    private readonly basis: Int32Array,
    private readonly m: number,
    private readonly width: number,
    /** Columns that may enter the basis (artificials may not, once phase 1 is over). */
    private readonly allowed: number,
  ) {}

  /** Phase 1: a basic feasible solution of `rows` (y ≥ 0), or null when there is none. */
  static feasible(rows: ReadonlyArray<{ a: Float64Array; op: Relation["op"]; b: number }>, n: number): Tableau | null {
    const m = rows.length;
    const slacks = rows.filter((r) => r.op !== "=").length;
    const width = n + slacks + m;
    const cells = new Float64Array(m * width);
    const rhs = new Float64Array(m);
    const basis = new Int32Array(m);
    let slack = n;
    rows.forEach((row, i) => {
      const sign = row.b < 0 ? -1 : 1;
      for (let j = 0; j < n; j++) cells[i * width + j] = sign * (row.a[j] as number);
      if (row.op !== "=") cells[i * width + slack++] = sign * (row.op === "<=" ? 1 : -1);
      cells[i * width + n + slacks + i] = 1;
      rhs[i] = sign * row.b;
      basis[i] = n + slacks + i;
    });
    const tableau = new Tableau(cells, rhs, basis, m, width, width);
    // Minimise the sum of the artificials, i.e. maximise its negation.
    const objective = new Float64Array(width);
    for (let i = 0; i < m; i++) objective[n + slacks + i] = -1;
    const best = tableau.optimise(objective);
    if (best < -1e-7) return null;
    // Drive artificials still basic (at zero) out of the basis, or drop their redundant rows.
    const keep: number[] = [];
    for (let i = 0; i < m; i++) {
      if ((basis[i] as number) < n + slacks) {
        keep.push(i);
        continue;
      }
      let entering = -1;
      for (let j = 0; j < n + slacks; j++) {
        if (Math.abs(cells[i * width + j] as number) > EPS) {
          entering = j;
          break;
        }
      }
      if (entering >= 0) {
        tableau.pivot(i, entering);
        keep.push(i);
      }
    }
    const phase2 = n + slacks;
    const kept = new Float64Array(keep.length * phase2);
    const keptRhs = new Float64Array(keep.length);
    const keptBasis = new Int32Array(keep.length);
    keep.forEach((i, r) => {
      kept.set(cells.subarray(i * width, i * width + phase2), r * phase2);
      keptRhs[r] = rhs[i] as number;
      keptBasis[r] = basis[i] as number;
    });
    return new Tableau(kept, keptRhs, keptBasis, keep.length, phase2, phase2);
  }

  /** The maximum of `sign` × y_column over the feasible set (Infinity when unbounded); the tableau is left as it was. */
  maximise(column: number, sign: 1 | -1): number {
    const copy = new Tableau(this.cells.slice(), this.rhs.slice(), this.basis.slice(), this.m, this.width, this.allowed);
    const objective = new Float64Array(this.width);
    objective[column] = sign;
    return copy.optimise(objective);
  }

  /** Maximises `objective`·y from the current basic feasible solution (Bland's rule); returns the optimum. */
  private optimise(objective: Float64Array): number {
    const { m, width, cells, rhs, basis } = this;
    for (;;) {
      // Reduced gain of each column: c_j − Σ_i c_basis(i) · a_ij.
      let entering = -1;
      for (let j = 0; j < this.allowed; j++) {
        let gain = objective[j] as number;
        for (let i = 0; i < m; i++) gain -= (objective[basis[i] as number] as number) * (cells[i * width + j] as number);
        if (gain > EPS) {
          entering = j;
          break;
        }
      }
      if (entering < 0) break;
      let leaving = -1;
      let ratio = Infinity;
      for (let i = 0; i < m; i++) {
        const a = cells[i * width + entering] as number;
        if (a <= EPS) continue;
        const r = (rhs[i] as number) / a;
        if (leaving < 0 || r < ratio - EPS || (Math.abs(r - ratio) <= EPS && (basis[i] as number) < (basis[leaving] as number))) {
          ratio = r;
          leaving = i;
        }
      }
      if (leaving < 0) return Infinity;
      this.pivot(leaving, entering);
    }
    let value = 0;
    for (let i = 0; i < m; i++) value += (objective[basis[i] as number] as number) * (rhs[i] as number);
    return value;
  }

  private pivot(row: number, column: number): void {
    const { m, width, cells, rhs, basis } = this;
    const p = cells[row * width + column] as number;
    for (let j = 0; j < width; j++) cells[row * width + j] = (cells[row * width + j] as number) / p;
    rhs[row] = (rhs[row] as number) / p;
    for (let i = 0; i < m; i++) {
      if (i === row) continue;
      const factor = cells[i * width + column] as number;
      if (Math.abs(factor) <= EPS) continue;
      for (let j = 0; j < width; j++) cells[i * width + j] = (cells[i * width + j] as number) - factor * (cells[row * width + j] as number);
      rhs[i] = (rhs[i] as number) - factor * (rhs[row] as number);
      if (Math.abs(rhs[i] as number) < EPS) rhs[i] = 0;
    }
    basis[row] = column;
  }
}
