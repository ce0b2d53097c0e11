/**
 * The case state machine: every (status, step, side) either gives the status
 * written down here by hand from DESIGN.md's lifecycle, or is refused with
 * CASE_TRANSITION_INVALID naming what is allowed instead.
 */
import { expect } from "chai";
import {
  allowedSteps,
  CASE_STATUSES,
  CASE_STEPS,
  concurrentWinner,
  holderOf,
  isOpen,
  nextStatus,
  sideOf,
  type CaseStatus,
  type CaseStep,
  type Side,
} from "../../../gateway/cases/lifecycle.js";
import { isValiseError } from "../../../pki/errors.js";

/** The allowed transitions, by hand: "status step side" → status. report-progress without delivery. */
const ALLOWED: Record<string, CaseStatus> = {
  "received acknowledge requested": "acknowledged",
  "received start-review requested": "under-review",
  "acknowledged start-review requested": "under-review",
  "received request-more-info requested": "more-info-requested",
  "acknowledged request-more-info requested": "more-info-requested",
  "under-review request-more-info requested": "more-info-requested",
  "more-info-requested provide-more-info requesting": "under-review",
  "received accept requested": "accepted",
  "acknowledged accept requested": "accepted",
  "under-review accept requested": "accepted",
  "accepted report-progress requested": "in-execution",
  "in-execution report-progress requested": "in-execution",
  "partially-executed report-progress requested": "partially-executed",
  "accepted executed requested": "executed",
  "in-execution executed requested": "executed",
  "partially-executed executed requested": "executed",
  "executed close requesting": "closed",
  "partially-executed close requesting": "closed",
  "refused close requesting": "closed",
  "withdrawn close requesting": "closed",
};
for (const status of ["received", "acknowledged", "under-review", "more-info-requested", "accepted", "in-execution", "partially-executed"] as const) {
  ALLOWED[`${status} refuse requested`] = "refused";
  ALLOWED[`${status} withdraw requesting`] = "withdrawn";
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return isValiseError(error) ? error.code : "not a ValiseError";
  }
}

describe("case lifecycle (state machine)", function () {
  it("allows exactly the transitions of the lifecycle table, and refuses every other with CASE_TRANSITION_INVALID", function () {
    let allowed = 0;
    for (const status of CASE_STATUSES.filter((s) => s !== "submitted")) {
      for (const step of CASE_STEPS) {
        for (const side of ["requesting", "requested"] as const) {
          const key = `${status} ${step} ${side}`;
          const expected = ALLOWED[key];
          if (expected === undefined) {
            expect(codeOf(() => nextStatus(status, step, side)), key).to.equal("CASE_TRANSITION_INVALID");
          } else {
            expect(nextStatus(status, step, side), key).to.equal(expected);
            allowed += 1;
          }
        }
      }
    }
    expect(allowed).to.equal(Object.keys(ALLOWED).length);
  });

  it("treats the requesting side's submitted (no receipt yet) as received", function () {
    expect(nextStatus("submitted", "withdraw", "requesting")).to.equal("withdrawn");
    expect(nextStatus("submitted", "acknowledge", "requested")).to.equal("acknowledged");
    expect(allowedSteps("submitted", "requesting")).to.deep.equal(["withdraw"]);
  });

  it("reports progress as partially executed once something was delivered, and never back to in-execution", function () {
    expect(nextStatus("accepted", "report-progress", "requested", { delivered: { text: "subscriber data" } })).to.equal("partially-executed");
    expect(nextStatus("in-execution", "report-progress", "requested", { delivered: { packageIds: ["x"] } })).to.equal("partially-executed");
    expect(nextStatus("partially-executed", "report-progress", "requested", {})).to.equal("partially-executed");
  });

  it("names the steps that are allowed when it refuses one", function () {
    try {
      nextStatus("acknowledged", "executed", "requested");
      expect.fail("executed before acceptance was allowed");
    } catch (error) {
      expect(isValiseError(error) && error.code).to.equal("CASE_TRANSITION_INVALID");
      expect((error as { details: Record<string, unknown> }).details).to.deep.include({
        step: "executed",
        status: "acknowledged",
        side: "requested",
        allowed: ["start-review", "request-more-info", "accept", "refuse"],
      });
    }
    // The requesting side cannot take the requested side's steps, even from the right state.
    expect(codeOf(() => nextStatus("received", "acknowledge", "requesting"))).to.equal("CASE_TRANSITION_INVALID");
    expect(codeOf(() => nextStatus("more-info-requested", "provide-more-info", "requested"))).to.equal("CASE_TRANSITION_INVALID");
  });

  it("says who holds the next step", function () {
    const expected: Record<CaseStatus, Side | undefined> = {
      submitted: undefined,
      received: "requested",
      acknowledged: "requested",
      "under-review": "requested",
      "more-info-requested": "requesting",
      accepted: "requested",
      "in-execution": "requested",
      "partially-executed": "requested",
      executed: undefined,
      refused: undefined,
      withdrawn: undefined,
      closed: undefined,
    };
    for (const status of CASE_STATUSES) expect(holderOf(status), status).to.equal(expected[status]);
    expect(CASE_STATUSES.filter(isOpen)).to.deep.equal([
      "submitted",
      "received",
      "acknowledged",
      "under-review",
      "more-info-requested",
      "accepted",
      "in-execution",
      "partially-executed",
    ]);
  });

  it("lets the requesting side's step stand over a concurrent one, whichever is given first", function () {
    const withdraw: { by: Side; step: CaseStep } = { by: "requesting", step: "withdraw" };
    const accept: { by: Side; step: CaseStep } = { by: "requested", step: "accept" };
    expect(concurrentWinner(withdraw, accept)).to.equal(withdraw);
    expect(concurrentWinner(accept, withdraw)).to.equal(withdraw);
    expect(codeOf(() => concurrentWinner(accept, { ...accept }))).to.equal("CASE_TRANSITION_INVALID");
  });

  it("maps a case's direction to its side", function () {
    expect(sideOf("outbound")).to.equal("requesting");
    expect(sideOf("inbound")).to.equal("requested");
  });
});
