/**
 * The transparency report of the 52-case fixture (fixture.ts), every figure
 * counted by hand: without suppression, with the default suppression of
 * counts below 5, for a narrower period, and as CSV and HTML.
 */
import { expect } from "chai";
import { checkPeriod, transparencyReport } from "../../../gateway/reports/transparency.js";
import { transparencyCsv } from "../../../gateway/reports/transparency-csv.js";
import { transparencyHtml } from "../../../gateway/reports/transparency-html.js";
import { isValiseError } from "../../../pki/errors.js";
import { AS_OF, FIXTURE } from "./fixture.js";

const period = { authority: "GB-UKCA", from: "2026-03-01", to: "2026-06-30", asOf: AS_OF };
const rows = (list: ReadonlyArray<{ key: string; count: unknown }>): Array<[string, unknown]> => list.map((r) => [r.key, r.count]);

describe("transparency report (hand-computed fixture of 52 cases)", function () {
  it("counts every request of the period, without suppression", function () {
    const report = transparencyReport(FIXTURE, { ...period, suppressBelow: 0 });
    const { received, sent } = report;
    expect(report.period).to.deep.equal({ from: "2026-03-01", to: "2026-06-30" });
    expect(received.total).to.equal(40);
    expect(sent.total).to.equal(12);
    expect(rows(received.byCountry)).to.deep.equal([["US", 20], ["FR", 12], ["DE", 8]]);
    // U1-U10 content+subscriber; U11-U20 witness; F1 preservation; F2-F12 bank records + search; D1-D8 traffic.
    expect(rows(received.byAssistanceType)).to.deep.equal([
      ["bank-records", 11],
      ["search-and-seizure", 11],
      ["content-data", 10],
      ["subscriber-data", 10],
      ["witness-testimony", 10],
      ["traffic-data", 8],
      ["preservation", 1],
    ]);
    // subscriber: U1-U10 + F1 = 11; traffic: F1 + D1-D8 = 9; none: U11-U20.
    expect(rows(received.byDataCategory)).to.deep.equal([
      ["bank-records", 11],
      ["subscriber-data", 11],
      ["content-data", 10],
      ["none", 10],
      ["traffic-data", 9],
    ]);
    expect(rows(received.byOffenceCategory)).to.deep.equal([
      ["money-laundering", 11],
      ["drug-trafficking", 10],
      ["fraud", 10],
      ["terrorism", 8],
      ["illegal-access", 1],
    ]);
    // executed: U1-U10, F1-F6, D1-D4, D7 = 21; partially: F7, F8 (closed so), F12 (open) = 3;
    // refused: U11-U14, F9, D5, D6 = 7; withdrawn: U15, U16; pending: U17-U20, F10, F11, D8 = 7.
    expect(rows(received.byOutcome)).to.deep.equal([
      ["executed", 21],
      ["partially-executed", 3],
      ["refused", 7],
      ["unable-to-execute", 0],
      ["withdrawn", 2],
      ["pending", 7],
    ]);
    expect(rows(received.refusedByGround)).to.deep.equal([
      ["sovereignty-security-public-order", 1],
      ["political-offence", 1],
      ["human-rights", 1],
      ["dual-criminality", 3],
      ["insufficient-justification", 1],
      ["disproportionate", 1],
      ["other", 1],
    ]);
    // 30 answered, sorted: 0.5 2 3 4 5 6 7 8 9 10 12 13 14 14 15 16 18 20 22 25 28 30 30 31 31 35 40 45 45 60.
    // p25 rank ⌈7.5⌉ = 8 → 8; p50 rank 15 → 15; p75 rank ⌈22.5⌉ = 23 → 30; p90 rank 27 → 40; p95 rank ⌈28.5⌉ = 29 → 45.
    expect(received.completionDays).to.deep.equal({ completed: 30, p25: 8, p50: 15, p75: 30, p90: 40, p95: 45 });

    expect(rows(sent.byCountry)).to.deep.equal([["FR", 6], ["US", 6]]);
    expect(rows(sent.byAssistanceType)).to.deep.equal([
      ["content-data", 6],
      ["subscriber-data", 6],
      ["traffic-data", 6],
      ["freezing-or-confiscation", 5],
      ["preservation", 1],
    ]);
    expect(rows(sent.byDataCategory)).to.deep.equal([
      ["content-data", 7],
      ["subscriber-data", 6],
      ["traffic-data", 6],
      ["none", 5],
    ]);
    expect(rows(sent.byOffenceCategory)).to.deep.equal([["corruption", 6], ["fraud", 6]]);
    // executed O1-O4, O7, O8, O12; refused O5, O11; withdrawn O9; pending O6, O10.
    expect(rows(sent.byOutcome)).to.deep.equal([
      ["executed", 7],
      ["partially-executed", 0],
      ["refused", 2],
      ["unable-to-execute", 0],
      ["withdrawn", 1],
      ["pending", 2],
    ]);
    expect(rows(sent.refusedByGround)).to.deep.equal([["discrimination", 1], ["double-jeopardy", 1], ["military-offence", 1]]);
    // 9 answered: 7 8 10 14 15 20 29 30 40. p25 rank 3 → 10; p50 rank 5 → 15; p75 rank 7 → 29; p90 rank 9 → 40; p95 rank 9 → 40.
    expect(sent.completionDays).to.deep.equal({ completed: 9, p25: 10, p50: 15, p75: 29, p90: 40, p95: 40 });
  });

  it("suppresses counts below 5, and withholds more counts until none can be worked out from the others", function () {
    const { received, sent, suppression } = transparencyReport(FIXTURE, period);
    expect(suppression.below).to.equal(5);
    expect(suppression.marker).to.equal("[c]");
    expect(received.total).to.equal(40);
    expect(rows(received.byCountry)).to.deep.equal([["US", 20], ["FR", 12], ["DE", 8]]);
    // Not additive (a request counts for several kinds): preservation 1 could be anything from 1 to 40.
    expect(rows(received.byAssistanceType).at(-1)).to.deep.equal(["preservation", "[c]"]);
    // Additive: illegal-access 1 is the only small row, so the smallest other (terrorism 8) is withheld too:
    // 40 - 31 = 9 could be 1 + 8 … 8 + 1. Both listed last, by key, with one marker.
    expect(rows(received.byOffenceCategory)).to.deep.equal([
      ["money-laundering", 11],
      ["drug-trafficking", 10],
      ["fraud", 10],
      ["illegal-access", "[c]"],
      ["terrorism", "[c]"],
    ]);
    // Partially executed 3 and withdrawn 2: 40 - 21 - 7 - 7 = 5 leaves each 1 to 4, too few; refused 7 joins
    // them, but the 30 answered = 21 executed + refused + the closed partial executions put refused +
    // partially executed at 9 at least, so withdrawn ≤ 3; pending 7 joins too: withdrawn is then 1 to 9.
    expect(rows(received.byOutcome)).to.deep.equal([
      ["executed", 21],
      ["partially-executed", "[c]"],
      ["refused", "[c]"],
      ["unable-to-execute", 0],
      ["withdrawn", "[c]"],
      ["pending", "[c]"],
    ]);
    expect(received.refusedByGround.every((r) => r.count === "[c]")).to.equal(true);
    expect(received.completionDays).to.deep.equal({ completed: 30, p25: 8, p50: 15, p75: 30, p90: 40, p95: 45 });

    // Refused 2, withdrawn 1, pending 2: 12 - 7 = 5 leaves each 1 to 3; executed 7 joins them, but then the 9
    // answered = executed + refused (no partial execution) leave withdrawn + pending = 3: the 9 is withheld
    // too, and with it the percentiles it would vouch for.
    expect(rows(sent.byOutcome)).to.deep.equal([
      ["executed", "[c]"],
      ["partially-executed", 0],
      ["refused", "[c]"],
      ["unable-to-execute", 0],
      ["withdrawn", "[c]"],
      ["pending", "[c]"],
    ]);
    expect(sent.completionDays).to.deep.equal({ completed: "[c]", p25: null, p50: null, p75: null, p90: null, p95: null });
    expect(rows(sent.byAssistanceType)).to.deep.equal([
      ["content-data", 6],
      ["subscriber-data", 6],
      ["traffic-data", 6],
      ["freezing-or-confiscation", 5],
      ["preservation", "[c]"],
    ]);
    expect(sent.total).to.equal(12);
    expect(rows(sent.byCountry)).to.deep.equal([["FR", 6], ["US", 6]]);
  });

  it("counts the requests of the period only, and withholds percentiles of too few answers", function () {
    // June: received U19, U20 (US), F10, F11, F12 (FR); sent O10 (FR). O12 was sent on 31 May.
    const june = transparencyReport(FIXTURE, { ...period, from: "2026-06-01", to: "2026-06-30" });
    // FR 3 + US 2 = 5 would leave each 1 to 4: with no other country to withhold, the total goes.
    expect(june.received.total).to.equal("[c]");
    expect(rows(june.received.byCountry)).to.deep.equal([["FR", "[c]"], ["US", "[c]"]]);
    expect(rows(june.received.byOutcome)).to.deep.equal([
      ["executed", 0],
      ["partially-executed", "[c]"],
      ["refused", 0],
      ["unable-to-execute", 0],
      ["withdrawn", 0],
      ["pending", "[c]"],
    ]);
    expect(june.received.completionDays).to.deep.equal({ completed: 0, p25: null, p50: null, p75: null, p90: null, p95: null });
    expect(june.sent.total).to.equal("[c]");
    expect(rows(june.sent.byCountry)).to.deep.equal([["FR", "[c]"]]);
    // May: sent O6 (received 2 May, sent the evening before), O7, O8 (12 May), O9, O11 (22 May), O12 (1 June, sent 31 May).
    // Four of them answered (O7 7, O8 8, O11 29, O12 14 days): too few for percentiles.
    expect(transparencyReport(FIXTURE, { ...period, from: "2026-05-01", to: "2026-05-31", suppressBelow: 0 }).sent.total).to.equal(6);
    const may = transparencyReport(FIXTURE, { ...period, from: "2026-05-01", to: "2026-05-31" });
    expect(may.sent.completionDays).to.deep.equal({ completed: "[c]", p25: null, p50: null, p75: null, p90: null, p95: null });
  });

  it("refuses a malformed or reversed period with USAGE", function () {
    for (const [from, to] of [
      ["2026-13-01", "2026-12-31"],
      ["01/03/2026", "2026-06-30"],
      ["2026-06-30", "2026-03-01"],
      [undefined, "2026-06-30"],
    ]) {
      try {
        checkPeriod(from, to);
        expect.fail(`accepted ${String(from)} ${String(to)}`);
      } catch (error) {
        expect(isValiseError(error) && error.code).to.equal("USAGE");
      }
    }
    expect(checkPeriod("2026-01-01", "2026-01-01")).to.deep.equal({ from: "2026-01-01", to: "2026-01-01" });
  });

  it("writes CSV: one row per figure, suppressed counts as published", function () {
    const csv = transparencyCsv(transparencyReport(FIXTURE, period));
    const lines = csv.split("\r\n");
    expect(lines[0]).to.equal("section,direction,key,label,value");
    expect(lines).to.include("total,received,requests,Requests,40");
    expect(lines).to.include("country,received,US,United States,20");
    expect(lines).to.include("report,,suppressed-marker,How a suppressed count reads,[c]");
    expect(lines).to.include("offence-category,received,terrorism,Terrorism,[c]");
    expect(lines).to.include("outcome,received,withdrawn,Withdrawn,[c]");
    expect(lines).to.include('refusal-ground,received,sovereignty-security-public-order,"Sovereignty, security or public order",[c]');
    expect(csv).to.not.contain("<");
    expect(lines).to.include("completion-days,received,p50,50th percentile (days),15");
    expect(lines).to.include("completion-days,received,p95,95th percentile (days),45");
    // Withheld with the number of answered requests it would vouch for: an empty value.
    expect(lines).to.include("completion-days,sent,completed,Requests answered,[c]");
    expect(lines).to.include("completion-days,sent,p95,95th percentile (days),");
    expect(csv.endsWith("\r\n")).to.equal(true);
  });

  it("writes one self-contained HTML file: no script, no external resource, no case content", function () {
    const html = transparencyHtml(transparencyReport(FIXTURE, period));
    expect(html.startsWith("<!DOCTYPE html>")).to.equal(true);
    expect(html).to.not.match(/<script|<link|<img|<iframe|@import|url\(\s*['"]?(https?:|\/\/)/i);
    expect(html).to.not.match(/https?:\/\//);
    expect(html).to.contain("default-src 'none'");
    // Seven charts: the refusals by ground are all suppressed and no request failed to be executed, so those tables stand without one.
    expect((html.match(/<svg /g) ?? []).length).to.equal(7);
    expect(html).to.contain("Every count in this table is suppressed ([c]) or zero, so no chart is drawn.");
    expect(html).to.contain("United States");
    expect(html).to.contain("1 March 2026 to 30 June 2026");
    // No case ids, references or identifiers: only figures and labels.
    for (const c of FIXTURE) expect(html).to.not.contain(`>${c.caseId}<`);
    // One marker, in the tables and the charts; none of the old "<5".
    expect(html).to.contain('<td class="num">[c]</td>');
    expect(html).to.contain('class="value suppressed">[c]</text>');
    expect(html).to.not.contain("&lt;5");
  });
});
