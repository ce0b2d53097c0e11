/**
 * KPIs of the 52-case fixture (fixture.ts), every figure computed by hand.
 * Durations are days from receipt; percentiles by nearest rank: the p-th
 * percentile of n sorted values is the value at rank ⌈p/100·n⌉.
 */
import { expect } from "chai";
import { computeKpis, type KpiFigures } from "../../../gateway/reports/kpi.js";
import { DEFAULT_CLOCKS } from "../../../gateway/cases/clocks.js";
import { percentile } from "../../../gateway/reports/percentile.js";
import { AS_OF, FIXTURE } from "./fixture.js";

const report = computeKpis(FIXTURE, { asOf: AS_OF, clocks: () => DEFAULT_CLOCKS });

/**
 * The figures of a group, less those of requests that name an instrument
 * (none here: the fixture is of document version 1; kpi-instruments.test.ts
 * has them), which are checked once below.
 */
function figures(direction: "inbound" | "outbound", peer?: string): Omit<KpiFigures, "refusedInPart" | "unableToExecute"> {
  const group = report[direction];
  const { refusedInPart, unableToExecute, ...rest } = peer === undefined ? group.overall : group.byPeer[peer]!;
  expect({ refusedInPart, unableToExecute }).to.deep.equal({ refusedInPart: 0, unableToExecute: { count: 0, rate: 0, byReason: {} } });
  return rest;
}

describe("KPIs (hand-computed fixture of 52 cases)", function () {
  it("has the fixture it claims: 52 cases, 40 received and 12 sent", function () {
    expect(FIXTURE).to.have.length(52);
    expect(Object.keys(report.inbound.byPeer)).to.deep.equal(["DE-BMJ", "FR-MJ-BEPI", "US-DOJ-OIA"]);
    expect(Object.keys(report.outbound.byPeer)).to.deep.equal(["FR-MJ-BEPI", "US-DOJ-OIA"]);
  });

  it("received from US (20 cases)", function () {
    // Completed: executed 5 7 9 10 12 14 15 20 28 35, refused 6 8 16 31 → 14, sorted
    // 5 6 7 8 9 10 12 14 15 16 20 28 31 35. Median: rank ⌈7⌉ = 7th = 12. p95: rank ⌈13.3⌉ = 14th = 35.
    // Within 14: known = 14 completed + U17 (50 days old) + U18 (40) = 16 (U19, U20 are 5 days old);
    //   ≤ 14 days: 5 6 7 8 9 10 12 14 = 8 → 8/16 = 0.5.
    // Within 30: known = 16 again; ≤ 30: all but 31 and 35 = 12 → 0.75.
    // Hops by the requested side: 31 hops of 1 day (2 per exec ×10, 1 per refusal ×4, 1 per withdrawal ×2,
    //   U17 1, U18 1, U19 1, U20 2) and 17 others: 2 3 3 5 5 7 7 8 10 12 13 15 18 26 26 30 33 → 48.
    //   Median rank 24 → 1. p95 rank ⌈45.6⌉ = 46 → 32:2 33:3 34:3 35:5 36:5 37:7 38:7 39:8 40:10 41:12 42:13 43:15 44:18 45:26 46:26 → 26.
    // Hops by the requesting side: withdrawals U15 (3-1 = 2), U16 (10-1 = 9): median rank 1 → 2, p95 rank 2 → 9.
    // Overdue: U17 (hop day 8, completion day 30, now day 50), U18 (hop day 35, now day 40) = 2.
    // Refused 4 of 14 completed = 0.2857; dual-criminality 2/14 = 0.1429; the others 1/14 = 0.0714.
    expect(figures("inbound", "US-DOJ-OIA")).to.deep.equal({
      cases: 20,
      completed: 14,
      withdrawn: 2,
      open: 4,
      completedWithin14Days: { count: 8, of: 16, share: 0.5 },
      completedWithin30Days: { count: 12, of: 16, share: 0.75 },
      timeToCompletion: { count: 14, medianDays: 12, p95Days: 35 },
      timePerHop: { requested: { count: 48, medianDays: 1, p95Days: 26 }, requesting: { count: 2, medianDays: 2, p95Days: 9 } },
      overdue: 2,
      refusals: {
        count: 4,
        rate: 0.2857,
        byGround: {
          disproportionate: { count: 1, rate: 0.0714 },
          "dual-criminality": { count: 2, rate: 0.1429 },
          "human-rights": { count: 1, rate: 0.0714 },
          "insufficient-justification": { count: 1, rate: 0.0714 },
        },
      },
    });
  });

  it("received from FR (12 cases)", function () {
    // Completed: executed 3 4 18 22 40 60, closed after partial execution 25 45, refused 2 → 9, sorted
    // 2 3 4 18 22 25 40 45 60. Median rank ⌈4.5⌉ = 5 → 22; p95 rank ⌈8.55⌉ = 9 → 60.
    // Within 14: known = 9 + F10 (20 days old; F11 12, F12 10 are too young) = 10; ≤ 14: 2 3 4 → 0.3.
    // Within 30: known = 9 (no open case is 30 days old); ≤ 30: 2 3 4 18 22 25 → 6/9 = 0.6667.
    // Requested hops: F1 1 1 1, F2 1 1 2, F3 1 1 16, F4 1 1 20, F5 1 1 38, F6 1 1 58, F7 2 8, F8 2 18, F9 1 1,
    //   F10 1 9, F11 1 2, F12 2 2 → 17 ones, then 2 2 2 2 2 2 8 9 16 18 20 38 58 → 30.
    //   Median rank 15 → 1; p95 rank ⌈28.5⌉ = 29 → 18-23: 2, 24: 8, 25: 9, 26: 16, 27: 18, 28: 20, 29: 38 → 38.
    // Requesting hops: the closes F7 25-10 = 15, F8 45-20 = 25 → median 15, p95 25.
    // Open: F10, F11, F12 (partly executed) = 3, all overdue (hops due day 15, 8, 9; now day 20, 12, 10).
    // Refused 1/9 = 0.1111 (political offence).
    expect(figures("inbound", "FR-MJ-BEPI")).to.deep.equal({
      cases: 12,
      completed: 9,
      withdrawn: 0,
      open: 3,
      completedWithin14Days: { count: 3, of: 10, share: 0.3 },
      completedWithin30Days: { count: 6, of: 9, share: 0.6667 },
      timeToCompletion: { count: 9, medianDays: 22, p95Days: 60 },
      timePerHop: { requested: { count: 30, medianDays: 1, p95Days: 38 }, requesting: { count: 2, medianDays: 15, p95Days: 25 } },
      overdue: 3,
      refusals: { count: 1, rate: 0.1111, byGround: { "political-offence": { count: 1, rate: 0.1111 } } },
    });
  });

  it("received from DE (8 cases)", function () {
    // Completed: 30 30 31 13 (executed), 45 14 (refused), 0.5 (the emergency) → sorted 0.5 13 14 30 30 31 45.
    // Median rank ⌈3.5⌉ = 4 → 30; p95 rank ⌈6.65⌉ = 7 → 45.
    // Within 14: known 7 + D8 (40 days old) = 8; ≤ 14: 0.5 13 14 → 3/8 = 0.375. Within 30: ≤ 30: + 30 30 → 5/8 = 0.625.
    // Requested hops: D1 1 1 28, D2 1 1 28, D3 1 1 29, D4 1 1 11, D5 1 44, D6 1 13, D7 0.25 0.25, D8 1 1 36 → 21:
    //   0.25 0.25, twelve 1s (ranks 3-14), 11 13 28 28 29 36 44. Median rank 11 → 1; p95 rank ⌈19.95⌉ = 20 → 36.
    // Overdue: D8 (completion due day 30, now day 40; its hop is due day 43) = 1.
    // Refused 2/7 = 0.2857: dual-criminality 1, sovereignty… 1, other 1 → 1/7 = 0.1429 each.
    expect(figures("inbound", "DE-BMJ")).to.deep.equal({
      cases: 8,
      completed: 7,
      withdrawn: 0,
      open: 1,
      completedWithin14Days: { count: 3, of: 8, share: 0.375 },
      completedWithin30Days: { count: 5, of: 8, share: 0.625 },
      timeToCompletion: { count: 7, medianDays: 30, p95Days: 45 },
      timePerHop: { requested: { count: 21, medianDays: 1, p95Days: 36 }, requesting: { count: 0, medianDays: null, p95Days: null } },
      overdue: 1,
      refusals: {
        count: 2,
        rate: 0.2857,
        byGround: {
          "dual-criminality": { count: 1, rate: 0.1429 },
          other: { count: 1, rate: 0.1429 },
          "sovereignty-security-public-order": { count: 1, rate: 0.1429 },
        },
      },
    });
  });

  it("received, overall (40 cases)", function () {
    // 30 completed durations sorted: 0.5 2 3 4 5 6 7 8 9 10 12 13 14 14 15 16 18 20 22 25 28 30 30 31 31 35 40 45 45 60.
    // Median rank 15 → 15; p95 rank ⌈28.5⌉ = 29 → 45.
    // Within 14: 8 + 3 + 3 = 14 of 16 + 10 + 8 = 34 → 0.4118. Within 30: 12 + 6 + 5 = 23 of 16 + 9 + 8 = 33 → 0.697.
    // Requested hops: 48 + 30 + 21 = 99: 0.25 ×2, 1 ×60 (ranks 3-62), then 37 others
    //   2×7 3×2 5×2 7×2 8×2 9 10 11 12 13×2 15 16 18×2 20 26×2 28×2 29 30 33 …; median rank 50 → 1;
    //   p95 rank ⌈94.05⌉ = 95 = the 33rd other → 33.
    // Requesting hops 2 9 15 25: median rank 2 → 9, p95 rank 4 → 25.
    // Overdue 2 + 3 + 1 = 6. Refused 7/30 = 0.2333; dual-criminality 3/30 = 0.1, the other grounds 1/30 = 0.0333.
    expect(figures("inbound")).to.deep.equal({
      cases: 40,
      completed: 30,
      withdrawn: 2,
      open: 8,
      completedWithin14Days: { count: 14, of: 34, share: 0.4118 },
      completedWithin30Days: { count: 23, of: 33, share: 0.697 },
      timeToCompletion: { count: 30, medianDays: 15, p95Days: 45 },
      timePerHop: { requested: { count: 99, medianDays: 1, p95Days: 33 }, requesting: { count: 4, medianDays: 9, p95Days: 25 } },
      overdue: 6,
      refusals: {
        count: 7,
        rate: 0.2333,
        byGround: {
          disproportionate: { count: 1, rate: 0.0333 },
          "dual-criminality": { count: 3, rate: 0.1 },
          "human-rights": { count: 1, rate: 0.0333 },
          "insufficient-justification": { count: 1, rate: 0.0333 },
          other: { count: 1, rate: 0.0333 },
          "political-offence": { count: 1, rate: 0.0333 },
          "sovereignty-security-public-order": { count: 1, rate: 0.0333 },
        },
      },
    });
  });

  it("sent: the peers' performance, per peer and overall (12 cases)", function () {
    // To US: completed 10 20 30 40 15 → sorted 10 15 20 30 40: median rank 3 → 20, p95 rank 5 → 40.
    //   Known 5 + O6 (60 days old) = 6; ≤ 14: 10 → 1/6 = 0.1667; ≤ 30: 10 15 20 30 → 4/6 = 0.6667.
    //   Requested hops: O1 1 1 8, O2 1 1 18, O3 1 1 28, O4 1 1 38, O5 1 14, O6 1 → ten 1s, 8 14 18 28 38 → 15;
    //   median rank 8 → 1, p95 rank 15 → 38. Overdue: O6. Refused 1/5 = 0.2 (discrimination).
    expect(figures("outbound", "US-DOJ-OIA")).to.deep.equal({
      cases: 6,
      completed: 5,
      withdrawn: 0,
      open: 1,
      completedWithin14Days: { count: 1, of: 6, share: 0.1667 },
      completedWithin30Days: { count: 4, of: 6, share: 0.6667 },
      timeToCompletion: { count: 5, medianDays: 20, p95Days: 40 },
      timePerHop: { requested: { count: 15, medianDays: 1, p95Days: 38 }, requesting: { count: 0, medianDays: null, p95Days: null } },
      overdue: 1,
      refusals: { count: 1, rate: 0.2, byGround: { discrimination: { count: 1, rate: 0.2 } } },
    });
    // To FR: completed 7 8 29 14 → sorted 7 8 14 29: median rank 2 → 8, p95 rank 4 → 29. O9 withdrawn, O10 not yet received.
    //   Known 4 (O10 has no receipt): ≤ 14: 7 8 14 → 0.75; ≤ 30: all 4 → 1.
    //   Requested hops: O7 1 1 5, O8 1 1 6, O9 1, O11 1 28, O12 1 1 12 → eight 1s, 5 6 12 28 → 12: median rank 6 → 1, p95 rank ⌈11.4⌉ = 12 → 28.
    //   Requesting: O9's withdrawal 5-1 = 4. Overdue: none (O10 runs no clock; O12's preservation expires day 74).
    //   Refused 1/4 = 0.25, citing double jeopardy and a military offence.
    expect(figures("outbound", "FR-MJ-BEPI")).to.deep.equal({
      cases: 6,
      completed: 4,
      withdrawn: 1,
      open: 1,
      completedWithin14Days: { count: 3, of: 4, share: 0.75 },
      completedWithin30Days: { count: 4, of: 4, share: 1 },
      timeToCompletion: { count: 4, medianDays: 8, p95Days: 29 },
      timePerHop: { requested: { count: 12, medianDays: 1, p95Days: 28 }, requesting: { count: 1, medianDays: 4, p95Days: 4 } },
      overdue: 0,
      refusals: { count: 1, rate: 0.25, byGround: { "double-jeopardy": { count: 1, rate: 0.25 }, "military-offence": { count: 1, rate: 0.25 } } },
    });
    // Overall: durations 7 8 10 14 15 20 29 30 40: median rank 5 → 15, p95 rank 9 → 40.
    //   Within 14: 1 + 3 = 4 of 6 + 4 = 10 → 0.4; within 30: 4 + 4 = 8 of 10 → 0.8.
    //   Requested hops 27: eighteen 1s, then 5 6 8 12 14 18 28 28 38: median rank 14 → 1, p95 rank ⌈25.65⌉ = 26 → 28.
    //   Refused 2/9 = 0.2222; each ground 1/9 = 0.1111.
    expect(figures("outbound")).to.deep.equal({
      cases: 12,
      completed: 9,
      withdrawn: 1,
      open: 2,
      completedWithin14Days: { count: 4, of: 10, share: 0.4 },
      completedWithin30Days: { count: 8, of: 10, share: 0.8 },
      timeToCompletion: { count: 9, medianDays: 15, p95Days: 40 },
      timePerHop: { requested: { count: 27, medianDays: 1, p95Days: 28 }, requesting: { count: 1, medianDays: 4, p95Days: 4 } },
      overdue: 1,
      refusals: {
        count: 2,
        rate: 0.2222,
        byGround: {
          discrimination: { count: 1, rate: 0.1111 },
          "double-jeopardy": { count: 1, rate: 0.1111 },
          "military-offence": { count: 1, rate: 0.1111 },
        },
      },
    });
  });

  it("counts only the cases of a window, and says which", function () {
    // June 2026: received U19, U20 (5 days old), F10 (20), F11 (12), F12 (10); sent O10 (2 days ago).
    // O12 was sent on 31 May at 23:00 (an hour before its receipt on 1 June).
    const june = computeKpis(FIXTURE, { asOf: AS_OF, clocks: () => DEFAULT_CLOCKS, from: new Date("2026-06-01T00:00:00Z"), to: new Date("2026-07-01T00:00:00Z") });
    expect(june.window).to.deep.equal({ from: "2026-06-01T00:00:00.000Z", to: "2026-07-01T00:00:00.000Z" });
    expect(june.inbound.overall).to.include({ cases: 5, completed: 0, open: 5, overdue: 3 });
    expect(june.outbound.overall).to.include({ cases: 1, completed: 0, open: 1, overdue: 0 });
  });

  it("computes nearest-rank percentiles", function () {
    expect(percentile([], 50)).to.equal(null);
    expect(percentile([7], 95)).to.equal(7);
    expect(percentile([4, 1, 3, 2], 50)).to.equal(2);
    // 20 values: p95 is rank 19 (0.95 × 20 = 19 exactly, not rounded up to 20).
    expect(percentile([...Array(20).keys()].map((i) => i + 1), 95)).to.equal(19);
    expect(percentile([1, 2, 3], 100)).to.equal(3);
    expect(() => percentile([1], 0)).to.throw(RangeError);
  });
});
