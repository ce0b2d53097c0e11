/**
 * KPIs and the transparency report by legal instrument, with requests that
 * could not be executed counted apart from refusals: a small fixture of six
 * requests received, every figure computed by hand.
 *
 * | case | instrument | steps (days after receipt)                                  | outcome            |
 * | ---- | ---------- | ----------------------------------------------------------- | ------------------ |
 * | E1   | eio        | accept 10, executed 40                                      | executed           |
 * | E2   | eio        | accept 5, refuse (partial, item 1) 6, executed 20           | executed (refused in part) |
 * | P1   | epoc       | unable-to-execute 2 (data-not-held)                         | unable-to-execute  |
 * | P2   | epoc       | unable-to-execute 1 (data-deleted, identifier-not-found)    | unable-to-execute  |
 * | T1   | mla-treaty | refuse 10 (dual-criminality)                                | refused            |
 * | V1   | (none, v1) | accept 2, executed 30                                       | executed           |
 */
import { expect } from "chai";
import { computeKpis } from "../../../gateway/reports/kpi.js";
import { transparencyReport } from "../../../gateway/reports/transparency.js";
import { DEFAULT_CLOCKS } from "../../../gateway/cases/clocks.js";
import type { ReportCase, ReportStep } from "../../../gateway/reports/report-case.js";
import type { CaseStatus, CaseStep } from "../../../gateway/cases/lifecycle.js";

const AS_OF = new Date("2026-07-01T00:00:00.000Z");
const RECEIVED = "2026-04-01T00:00:00.000Z";
const DAY = 86_400_000;
const at = (days: number): string => new Date(Date.parse(RECEIVED) + days * DAY).toISOString();
const s = (step: CaseStep, from: CaseStatus, to: CaseStatus, days: number, grounds: string[] = []): ReportStep => ({ step, by: "requested", from, to, at: at(days), grounds });

function received(caseId: string, instrument: string | undefined, status: CaseStatus, steps: ReportStep[]): ReportCase {
  return {
    caseId,
    direction: "inbound",
    kind: "mla-request",
    peer: "FR-DACG",
    priority: "normal",
    status,
    createdAt: RECEIVED,
    receivedAt: RECEIVED,
    facts: { assistanceTypes: ["subscriber-data"], dataCategories: ["subscriber-data"], offenceCategory: "fraud", ...(instrument === undefined ? {} : { instrument, assistanceCount: 2 }) },
    steps,
  };
}

const CASES: ReportCase[] = [
  received("E1", "eio", "executed", [s("accept", "received", "accepted", 10), s("executed", "accepted", "executed", 40)]),
  received("E2", "eio", "executed", [s("accept", "received", "accepted", 5), s("refuse", "accepted", "accepted", 6, ["dual-criminality"]), s("executed", "accepted", "executed", 20)]),
  received("P1", "epoc", "unable-to-execute", [s("unable-to-execute", "received", "unable-to-execute", 2, ["data-not-held"])]),
  received("P2", "epoc", "unable-to-execute", [s("unable-to-execute", "received", "unable-to-execute", 1, ["data-deleted", "identifier-not-found"])]),
  received("T1", "mla-treaty", "refused", [s("refuse", "received", "refused", 10, ["dual-criminality"])]),
  received("V1", undefined, "executed", [s("accept", "received", "accepted", 2), s("executed", "accepted", "executed", 30)]),
];

describe("KPIs and transparency by instrument, unable-to-execute apart from refusals", function () {
  const kpis = computeKpis(CASES, { asOf: AS_OF, clocks: () => DEFAULT_CLOCKS });

  it("counts a provider's missing data apart: the refusal rate is the state's refusals only", function () {
    const overall = kpis.inbound.overall;
    // All six answered; refused: T1 only (E2 refused one item and executed the rest) → 1/6.
    expect(overall.completed).to.equal(6);
    expect(overall.refusals).to.deep.equal({ count: 1, rate: 0.1667, byGround: { "dual-criminality": { count: 1, rate: 0.1667 } } });
    expect(overall.refusedInPart).to.equal(1);
    // Unable: P1, P2 → 2/6; reasons data-not-held 1, data-deleted 1, identifier-not-found 1.
    expect(overall.unableToExecute).to.deep.equal({
      count: 2,
      rate: 0.3333,
      byReason: { "data-deleted": { count: 1, rate: 0.1667 }, "data-not-held": { count: 1, rate: 0.1667 }, "identifier-not-found": { count: 1, rate: 0.1667 } },
    });
  });

  it("gives the figures per instrument, `unknown` for a request of the earlier form", function () {
    expect(Object.keys(kpis.inbound.byInstrument)).to.deep.equal(["eio", "epoc", "mla-treaty", "unknown"]);
    const eio = kpis.inbound.byInstrument["eio"]!;
    // E1 40 days, E2 20 days: median rank 1 → 20, p95 rank 2 → 40.
    expect(eio).to.deep.include({ cases: 2, completed: 2, refusedInPart: 1, timeToCompletion: { count: 2, medianDays: 20, p95Days: 40 } });
    expect(eio.refusals.count).to.equal(0);
    const epoc = kpis.inbound.byInstrument["epoc"]!;
    expect(epoc).to.deep.include({ cases: 2, completed: 2 });
    expect(epoc.unableToExecute.count).to.equal(2);
    expect(epoc.refusals.rate).to.equal(0);
    expect(kpis.inbound.byInstrument["mla-treaty"]!.refusals.rate).to.equal(1);
    expect(kpis.inbound.byInstrument["unknown"]!.cases).to.equal(1);
  });

  it("publishes the outcome and its reasons in the transparency report, and the instruments", function () {
    const report = transparencyReport(CASES, { authority: "GB-UKCA", from: "2026-04-01", to: "2026-06-30", asOf: AS_OF, suppressBelow: 0 });
    const rows = (list: ReadonlyArray<{ key: string; count: unknown }>) => list.map((r) => [r.key, r.count]);
    expect(rows(report.received.byOutcome)).to.deep.equal([
      ["executed", 3],
      ["partially-executed", 0],
      ["refused", 1],
      ["unable-to-execute", 2],
      ["withdrawn", 0],
      ["pending", 0],
    ]);
    expect(rows(report.received.refusedByGround)).to.deep.equal([["dual-criminality", 1]]);
    expect(rows(report.received.unableByReason)).to.deep.equal([["data-deleted", 1], ["data-not-held", 1], ["identifier-not-found", 1]]);
    expect(rows(report.received.byInstrument)).to.deep.equal([["mla-treaty", 1], ["eio", 2], ["epoc", 2], ["unknown", 1]]);
    expect(report.received.completionDays.completed).to.equal(6);
  });
});
