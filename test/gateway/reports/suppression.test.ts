/**
 * The transparency report does not disclose what it suppresses: from the
 * published figures and the relations they obey (README, "Reports"), a
 * reader who searches every whole-number solution (reader.ts, no shared code
 * with gateway/reports) still finds at least `suppressBelow` possible values
 * for every suppressed count — the named case from the issue first, then
 * many random tables.
 */
import { expect } from "chai";
import { REFUSAL_GROUNDS, type CaseStatus, type CaseStep, type RefusalGround, type Side } from "../../../gateway/cases/lifecycle.js";
import type { ReportCase, ReportStep } from "../../../gateway/reports/report-case.js";
import { transparencyReport, type Count, type DirectionFigures, type TransparencyReport } from "../../../gateway/reports/transparency.js";
import { transparencyCsv } from "../../../gateway/reports/transparency-csv.js";
import { consistent, possible, possibleValues, readerModel, type ReaderModel } from "./reader.js";

const DAY = 86_400_000;
const AS_OF = new Date("2026-04-15T00:00:00.000Z");
const QUARTER = { authority: "GB-UKCA", from: "2026-01-01", to: "2026-03-31", asOf: AS_OF };

type Outcome = "executed" | "partial-closed" | "partial-continuing" | "refused" | "withdrawn" | "pending";

/** The steps of a case received at `received` that ends as `outcome`. */
function stepsOf(outcome: Outcome, received: number, grounds: readonly RefusalGround[]): ReportStep[] {
  const plan: Array<[CaseStep, Side, CaseStatus, number]> = {
    executed: [
      ["acknowledge", "requested", "acknowledged", 1],
      ["accept", "requested", "accepted", 2],
      ["executed", "requested", "executed", 9],
    ],
    "partial-closed": [
      ["accept", "requested", "accepted", 2],
      ["report-progress", "requested", "partially-executed", 6],
      ["close", "requesting", "closed", 11],
    ],
    "partial-continuing": [
      ["accept", "requested", "accepted", 2],
      ["report-progress", "requested", "partially-executed", 6],
    ],
    refused: [
      ["acknowledge", "requested", "acknowledged", 1],
      ["refuse", "requested", "refused", 5],
    ],
    withdrawn: [
      ["acknowledge", "requested", "acknowledged", 1],
      ["withdraw", "requesting", "withdrawn", 4],
    ],
    pending: [["acknowledge", "requested", "acknowledged", 1]],
  }[outcome] as Array<[CaseStep, Side, CaseStatus, number]>;
  let from: CaseStatus = "received";
  return plan.map(([step, by, to, after]) => {
    const s: ReportStep = { step, by, from, to, at: new Date(received + after * DAY).toISOString(), grounds: to === "refused" ? grounds : [] };
    from = to;
    return s;
  });
}

interface CaseSpec {
  readonly direction?: "inbound" | "outbound";
  readonly country: string;
  readonly outcome: Outcome;
  readonly assistance?: readonly string[];
  readonly data?: readonly string[];
  readonly offence?: string | null;
  readonly grounds?: readonly RefusalGround[];
  /** Days into the quarter. */
  readonly day?: number;
}

function reportCase(id: number, spec: CaseSpec): ReportCase {
  const received = Date.parse("2026-01-01T09:00:00.000Z") + (spec.day ?? 10) * DAY;
  const steps = stepsOf(spec.outcome, received, spec.grounds ?? ["dual-criminality"]);
  return {
    caseId: `case-${id}`,
    direction: spec.direction ?? "inbound",
    kind: "mla-request",
    peer: `${spec.country}-CA`,
    priority: "normal",
    status: steps.at(-1)?.to ?? "received",
    createdAt: new Date(received).toISOString(),
    receivedAt: new Date(received).toISOString(),
    facts: { assistanceTypes: spec.assistance ?? ["bank-records"], dataCategories: spec.data ?? ["bank-records"], offenceCategory: spec.offence === undefined ? "fraud" : spec.offence },
    steps,
  };
}

/** A small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCases(seed: number): ReportCase[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const subset = <T>(list: readonly T[], atLeastOne: boolean): T[] => {
    const chosen = list.filter(() => random() < 0.3);
    return chosen.length === 0 && atLeastOne ? [pick(list)] : chosen;
  };
  const countries = ["DE", "FR", "MT", "PL", "US", "NL"].slice(0, 2 + Math.floor(random() * 5));
  const offences = ["fraud", "terrorism", "drug-trafficking", null].slice(0, 1 + Math.floor(random() * 4));
  const outcomes: Outcome[] = ["executed", "executed", "executed", "partial-closed", "partial-continuing", "refused", "refused", "withdrawn", "pending"];
  const cases: ReportCase[] = [];
  for (const direction of ["inbound", "outbound"] as const) {
    const size = Math.floor(random() ** 1.5 * 36);
    for (let i = 0; i < size; i++) {
      cases.push(
        reportCase(cases.length, {
          direction,
          country: pick(countries),
          outcome: pick(outcomes),
          assistance: subset(["bank-records", "witness-testimony", "search-and-seizure", "traffic-data"], true),
          data: subset(["bank-records", "traffic-data", "content-data"], false),
          offence: pick(offences),
          grounds: subset(REFUSAL_GROUNDS.slice(0, 4), true),
          day: Math.floor(random() * 80),
        }),
      );
    }
  }
  return cases;
}

/** Every count of one direction by the reader's names, for comparing a suppressed report with the true one. */
function countsOf(figures: DirectionFigures): Map<string, Count> {
  const counts = new Map<string, Count>([
    ["total", figures.total],
    ["completed", figures.completionDays.completed],
  ]);
  for (const [prefix, rows] of [
    ["country", figures.byCountry],
    ["offence", figures.byOffenceCategory],
    ["outcome", figures.byOutcome],
    ["assistance", figures.byAssistanceType],
    ["data", figures.byDataCategory],
    ["ground", figures.refusedByGround],
  ] as const) {
    for (const row of rows) counts.set(`${prefix}:${row.key}`, row.count);
  }
  return counts;
}

/** The true split of "partially executed" (never published). */
function partialSplit(cases: readonly ReportCase[], direction: "inbound" | "outbound"): Map<string, number> {
  const partial = cases.filter((c) => c.direction === direction && (c.status === "partially-executed" || (c.status === "closed" && c.steps.at(-1)?.from === "partially-executed")));
  const closed = partial.filter((c) => c.status === "closed").length;
  return new Map([
    ["partial-closed", closed],
    ["partial-continuing", partial.length - closed],
  ]);
}

/**
 * Checks one direction as a reader: the figures are consistent, nothing
 * from 1 to below − 1 is published, and every suppressed count — and a small
 * share of partial executions, which is never published — could take at
 * least `below` values, the true one among them.
 */
function auditDirection(published: DirectionFigures, truth: DirectionFigures, hidden: Map<string, number>, below: number, where: string): ReaderModel {
  const model = readerModel(published);
  expect(consistent(model), `${where}: figures inconsistent with their relations`).to.equal(true);
  const trueCounts = countsOf(truth);
  for (const [name, count] of countsOf(published)) {
    if (typeof count === "number") {
      expect(count === 0 || count >= below, `${where}: ${name} = ${count} published`).to.equal(true);
      continue;
    }
    const actual = trueCounts.get(name) as number;
    expect(possible(model, name, actual), `${where}: the true ${name} (${actual}) is ruled out`).to.equal(true);
    const values = possibleValues(model, name, below);
    expect(values.length, `${where}: ${name} (really ${actual}) can only be ${values.join(", ")}`).to.be.at.least(below);
  }
  for (const [name, actual] of hidden) {
    if (actual === 0 || actual >= below) continue;
    const values = possibleValues(model, name, below);
    expect(values.length, `${where}: hidden ${name} (really ${actual}) can only be ${values.join(", ")}`).to.be.at.least(below);
  }
  const percentiles = [published.completionDays.p25, published.completionDays.p50, published.completionDays.p95];
  if (typeof published.completionDays.completed !== "number") expect(percentiles, `${where}: percentiles of a suppressed count`).to.deep.equal([null, null, null]);
  return model;
}

function audit(cases: readonly ReportCase[], below: number, where: string): TransparencyReport {
  const options = { ...QUARTER, suppressBelow: below };
  // What is published: the JSON as a reader gets it.
  const published = JSON.parse(JSON.stringify(transparencyReport(cases, options))) as TransparencyReport;
  const truth = transparencyReport(cases, { ...options, suppressBelow: 0 });
  auditDirection(published.received, truth.received, partialSplit(cases, "inbound"), below, `${where} received`);
  auditDirection(published.sent, truth.sent, partialSplit(cases, "outbound"), below, `${where} sent`);
  return published;
}

describe("transparency report: suppression that cannot be undone from the published figures", function () {
  this.timeout(300_000);

  it("protects the issue's quarter: Malta 1 and Poland 5 cannot be worked out from the total of 420", function () {
    const cases: ReportCase[] = [];
    const add = (n: number, spec: CaseSpec): void => {
      for (let i = 0; i < n; i++) cases.push(reportCase(cases.length, { ...spec, day: i % 85 }));
    };
    add(214, { country: "FR", outcome: "executed" });
    add(200, { country: "DE", outcome: "executed" });
    add(1, { country: "MT", outcome: "executed" });
    add(5, { country: "PL", outcome: "executed" });
    const report = audit(cases, 5, "quarter");
    const rows = new Map(report.received.byCountry.map((r) => [r.key, r.count]));
    expect(report.received.total).to.equal(420);
    // One marker for both: nothing says which of the two is the small one.
    expect(rows.get("MT")).to.equal("[c]");
    expect(rows.get("PL")).to.equal("[c]");
    const model = readerModel(report.received);
    // Before: MT "<5" + PL "[c]" = 6 and PL ≥ 5 left MT = 1, PL = 5. Now each is anything from 1 to 5.
    expect(possibleValues(model, "country:MT", 10)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(possibleValues(model, "country:PL", 10)).to.deep.equal([1, 2, 3, 4, 5]);
    // And the CSV says exactly what the JSON says.
    const csv = transparencyCsv(report).split("\r\n");
    expect(csv).to.include("country,received,MT,Malta,[c]");
    expect(csv).to.include("country,received,PL,Poland,[c]");
    expect(csv.join("\n")).to.not.match(/,<\d/);
  });

  it("adds a third count where two small ones would pin each other down (1 + 1 of a known 2)", function () {
    const cases: ReportCase[] = [];
    for (let i = 0; i < 30; i++) cases.push(reportCase(cases.length, { country: i < 18 ? "FR" : "DE", outcome: "executed" }));
    cases.push(reportCase(cases.length, { country: "MT", outcome: "executed" }), reportCase(cases.length + 1, { country: "PL", outcome: "executed" }));
    const report = audit(cases, 5, "two ones");
    expect(report.received.byCountry.filter((r) => r.count === "[c]").map((r) => r.key)).to.deep.equal(["DE", "MT", "PL"]);
  });

  it("does not let the number of answered requests give away a suppressed outcome", function () {
    // 9 answered = 7 executed + 2 refused and no partial execution: with 9 and 7 published, "refused" was 2.
    const cases: ReportCase[] = [];
    const outcomes: Outcome[] = [...Array<Outcome>(7).fill("executed"), "refused", "refused", "withdrawn", "pending", "pending"];
    outcomes.forEach((outcome, i) => cases.push(reportCase(i, { country: i % 2 === 0 ? "FR" : "US", outcome })));
    const report = audit(cases, 5, "answered");
    expect(report.received.total).to.equal(12);
    expect(report.received.byOutcome.find((r) => r.key === "refused")?.count).to.equal("[c]");
  });

  it("leaves every suppressed count at least the threshold's number of possible values, in 240 random tables", function () {
    for (let seed = 1; seed <= 240; seed++) audit(randomCases(seed), seed % 3 === 0 ? 3 : 5, `seed ${seed}`);
  });
});
