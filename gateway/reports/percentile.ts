/**
 * Percentiles by the nearest-rank method: the p-th percentile of n sorted
 * values is the value at rank ⌈p/100 × n⌉ (1-based). Always one of the
 * values, never interpolated, so a figure in a report can be traced to a
 * case and checked by hand; the median is the 50th percentile (for an even
 * count, the lower of the two middle values).
 */

/**
 * The `p`-th percentile (0 < p ≤ 100) of `values`, or null when there are none.
 *
 * @example percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside (0, 100]`);
  const sorted = [...values].sort((a, b) => a - b);
  // Guard against 0.95 * 20 = 19.000000000000004 rounding up to 20.
  const rank = Math.ceil(Number(((p / 100) * sorted.length).toFixed(9)));
  return sorted[Math.max(1, rank) - 1]!;
}
