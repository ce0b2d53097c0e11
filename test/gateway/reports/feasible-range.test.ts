/**
 * The linear programme behind complementary suppression, on systems small
 * enough to solve by hand: a sum with a known total, an unbounded count, a
 * bound through an inequality, and figures that contradict their relations.
 */
import { expect } from "chai";
import { feasibleRanges, type Relation } from "../../../gateway/reports/feasible-range.js";

const sum = (parts: string[], whole: string, op: Relation["op"] = "="): Relation => ({ terms: [...parts.map((p): [string, number] => [p, 1]), [whole, -1]], op });

describe("feasible ranges of unpublished counts", function () {
  it("bounds two suppressed rows of a published total by each other", function () {
    const ranges = feasibleRanges([sum(["a", "b", "c"], "total")], new Map([["total", 20], ["c", 14]]), new Map([["a", 1], ["b", 1]]));
    expect(Object.fromEntries(ranges!)).to.deep.equal({ a: { min: 1, max: 5 }, b: { min: 1, max: 5 } });
  });

  it("derives a lone suppressed row exactly, and leaves a suppressed total unbounded above", function () {
    const lone = feasibleRanges([sum(["a", "b"], "total")], new Map([["total", 9], ["b", 8]]), new Map([["a", 1]]));
    expect(lone!.get("a")).to.deep.equal({ min: 1, max: 1 });
    const open = feasibleRanges([sum(["a", "b"], "total")], new Map([["b", 8]]), new Map([["a", 1], ["total", 1]]));
    expect(Object.fromEntries(open!)).to.deep.equal({ a: { min: 1, max: Infinity }, total: { min: 9, max: Infinity } });
  });

  it("follows inequalities and hidden counts: answered = executed + refused + closed partials", function () {
    // 30 answered, 21 executed published; refused and partially executed suppressed (≥ 1), 12 between them and withdrawn.
    const relations = [
      sum(["executed", "partial", "refused", "withdrawn"], "total"),
      sum(["closed", "continuing"], "partial"),
      sum(["executed", "refused", "closed"], "answered"),
    ];
    const ranges = feasibleRanges(relations, new Map([["total", 33], ["executed", 21], ["answered", 30]]), new Map([["partial", 1], ["refused", 1], ["withdrawn", 1], ["closed", 0], ["continuing", 0]]));
    expect(ranges!.get("withdrawn")).to.deep.equal({ min: 1, max: 3 });
    expect(ranges!.get("refused")).to.deep.equal({ min: 1, max: 9 });
    expect(ranges!.get("closed")).to.deep.equal({ min: 0, max: 8 });
  });

  it("says null when the published figures contradict the relations", function () {
    expect(feasibleRanges([sum(["a", "b"], "total")], new Map([["total", 5], ["b", 8]]), new Map([["a", 1]]))).to.equal(null);
    expect(feasibleRanges([sum(["a", "b"], "total", "<=")], new Map([["total", 5], ["a", 2], ["b", 8]]), new Map())).to.equal(null);
  });
});
