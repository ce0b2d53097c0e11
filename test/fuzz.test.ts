/**
 * The hostile-input generator (scripts/fuzz/) on a fixed seed: a few hundred
 * generated cases against a real gateway process — tampered envelopes over
 * mutual TLS as a genuine peer, malformed peer HTTP, the local API with every
 * role, no token and bad tokens — and not one 5xx, hang, crash, wrong
 * acceptance or refusal, wrong code, lost or wrongly stored envelope, or
 * error logged. `npm run fuzz -- --cases 5000` runs the long version.
 */
import { expect } from "chai";
import { clean, runFuzz, summaryTable } from "../scripts/fuzz/run.js";

describe("hostile-input generator (fixed seed)", function () {
  this.timeout(180_000);

  it("finds no 5xx, hang, crash or wrong answer in 300 cases", async function () {
    const report = await runFuzz({ seed: 20_261_129, cases: 300 });
    const summary = `${summaryTable(report)}\n${report.failures.slice(0, 20).map((f) => `#${f.index} ${f.family} — ${f.kind}: expected ${f.expected}, got ${f.got}`).join("\n")}`;
    expect(report.total.cases, summary).to.equal(300);
    expect(report.total["5xx"], summary).to.equal(0);
    expect(report.total.hangs, summary).to.equal(0);
    expect(report.crashed, summary).to.equal(false);
    expect(report.total.wronglyAccepted, summary).to.equal(0);
    expect(report.wronglyStored, summary).to.equal(0);
    expect(report.lost, summary).to.equal(0);
    expect(report.failures, summary).to.deep.equal([]);
    expect(clean(report), summary).to.equal(true);
    // The families are all exercised, and both answers occur.
    expect(Object.keys(report.families).sort()).to.include.members(["envelope", "peer-http", "local/caseworker", "local/auditor", "local/operator"]);
    expect(report.total["2xx"]).to.be.greaterThan(0);
    expect(report.total["4xx"]).to.be.greaterThan(200);
  });
});
