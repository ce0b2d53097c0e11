/**
 * Primary and complementary suppression of the counts of a report.
 *
 * Primary: a count from 1 to `below - 1` is not published (zero is: it
 * singles no one out). That alone is not enough, because the report also
 * publishes totals and states how its figures relate: a lone suppressed row
 * is its total minus the other rows, and two suppressed rows that add up to
 * a small known sum pin each other down. The reader who does that arithmetic
 * is the adversary this module is written against.
 *
 * Complementary: so the suppressor plays that reader (feasible-range.ts):
 * it works out, from the published counts and the relations alone, the range
 * of values each unpublished count can take. While some suppressed count —
 * or a small count the report never shows but whose value follows from what
 * it does show — could take fewer than `below` values, it withholds one more
 * published count: the nearest to the exposed one through the relations,
 * an ordinary row before a total (the headline total last of all), the
 * smallest first (it costs the reader least). Withholding everything always succeeds (every count can
 * then grow without bound), so the loop ends.
 *
 * Suppressed counts carry one marker whatever the reason, so a reader cannot
 * tell a small count from one withheld to protect it.
 */
import { feasibleRanges, type FeasibleRange, type Relation } from "./feasible-range.js";

/** A count of a report. */
export interface CountCell {
  readonly id: string;
  readonly value: number;
  /** Never published, but known to exist (e.g. the partial executions that were closed, inside "partially executed"). */
  readonly hidden?: boolean;
  /**
   * A total that other figures are read against, withheld only when no
   * ordinary count will do: `"last"` (the headline total) only when nothing
   * else reachable is left.
   */
  readonly margin?: true | "last";
}

/** How many values a range holds. */
function widthOf(range: FeasibleRange): number {
  return range.max - range.min + 1;
}

/**
 * The ids of the counts to withhold (hidden counts are never among them: they
 * are not published anyway) so that no withheld count, and no small hidden
 * one, can be narrowed down to fewer than `below` values. `below` ≤ 1: none.
 */
export function suppressedCounts(cells: readonly CountCell[], relations: readonly Relation[], below: number): Set<string> {
  const suppressed = new Set<string>();
  if (below <= 1) return suppressed;
  const order = new Map(cells.map((cell, index) => [cell.id, index]));
  const byId = new Map(cells.map((cell) => [cell.id, cell]));
  const small = (cell: CountCell): boolean => cell.value > 0 && cell.value < below;
  for (const cell of cells) if (!cell.hidden && small(cell)) suppressed.add(cell.id);
  const hidden = cells.filter((cell) => cell.hidden === true);
  const relationsOf = new Map<string, Relation[]>();
  for (const relation of relations) for (const [id] of relation.terms) relationsOf.set(id, [...(relationsOf.get(id) ?? []), relation]);

  for (;;) {
    const known = new Map(cells.filter((c) => !c.hidden && !suppressed.has(c.id)).map((c) => [c.id, c.value]));
    const unknown = new Map<string, number>([...[...suppressed].map((id) => [id, 1] as const), ...hidden.map((c) => [c.id, 0] as const)]);
    const ranges = feasibleRanges(relations, known, unknown);
    if (ranges === null) {
      // Figures that contradict the stated relations (damaged records): a
      // reader's arithmetic cannot be predicted, so nothing but zeros is published.
      for (const cell of cells) if (!cell.hidden && cell.value > 0) suppressed.add(cell.id);
      return suppressed;
    }
    const exposed = [...unknown.keys()]
      .filter((id) => suppressed.has(id) || small(byId.get(id) as CountCell))
      .filter((id) => widthOf(ranges.get(id) as FeasibleRange) < below)
      .sort((a, b) => (order.get(a) as number) - (order.get(b) as number));
    const first = exposed[0];
    if (first === undefined) return suppressed;
    const next = nearestPublished(first, relationsOf, (id) => !suppressed.has(id) && !(byId.get(id)?.hidden ?? false) && (byId.get(id)?.value ?? 0) > 0, byId, order);
    if (next === undefined) {
      for (const cell of cells) if (!cell.hidden && cell.value > 0) suppressed.add(cell.id);
      return suppressed;
    }
    suppressed.add(next);
  }
}

/**
 * The published count to withhold next for `exposed`, among the counts of the
 * relations reachable from it through unpublished counts: a last-resort
 * margin only when nothing else is reachable; then the nearest; then an
 * ordinary count before a margin; then the smallest; then the first listed.
 */
function nearestPublished(
  exposed: string,
  relationsOf: ReadonlyMap<string, readonly Relation[]>,
  isPublished: (id: string) => boolean,
  byId: ReadonlyMap<string, CountCell>,
  order: ReadonlyMap<string, number>,
): string | undefined {
  const seenRelations = new Set<Relation>();
  const distance = new Map<string, number>([[exposed, 0]]);
  const candidates: string[] = [];
  let frontier = [exposed];
  for (let step = 1; frontier.length > 0; step++) {
    const further: string[] = [];
    for (const id of frontier) {
      for (const relation of relationsOf.get(id) ?? []) {
        if (seenRelations.has(relation)) continue;
        seenRelations.add(relation);
        for (const [other] of relation.terms) {
          if (distance.has(other)) continue;
          distance.set(other, step);
          const cell = byId.get(other) as CountCell;
          if (isPublished(other)) candidates.push(other);
          else if (cell.value > 0 || cell.hidden === true) further.push(other);
        }
      }
    }
    frontier = further;
  }
  const rank = (id: string): number[] => {
    const cell = byId.get(id) as CountCell;
    return [Number(cell.margin === "last"), distance.get(id) as number, Number(cell.margin !== undefined), cell.value, order.get(id) as number];
  };
  const before = (a: number[], b: number[]): number => a.reduce((result, x, i) => result || x - (b[i] as number), 0);
  return candidates.sort((a, b) => before(rank(a), rank(b)))[0];
}
