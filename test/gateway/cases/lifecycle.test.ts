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
  "received forward requested": "acknowledged",
  "acknowledged forward requested": "acknowledged",
  "more-info-requested provide-more-info requesting": "under-review",
  "in-consultation provide-more-info requesting": "under-review",
  "alternative-proposed provide-more-info requesting": "under-review",
  "alternative-proposed agree-alternative requesting": "under-review",
  "conditions-offered accept-conditions requesting": "under-review",
  "conditions-offered reject-conditions requesting": "under-review",
  "confidentiality-not-possible confirm-proceed requesting": "under-review",
  "accepted postpone requested": "postponed",
  "in-execution postpone requested": "postponed",
  "partially-executed postpone requested": "postponed",
  "accepted legal-challenge requested": "on-hold",
  "in-execution legal-challenge requested": "on-hold",
  "partially-executed legal-challenge requested": "on-hold",
  "postponed legal-challenge requested": "on-hold",
  "postponed resume requested": "in-execution",
  "on-hold resume requested": "in-execution",
  "executed extend-preservation requesting": "executed",
  "executed confirm-follow-up requesting": "executed",
  "unable-to-execute close requesting": "closed",
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
const DECIDING = ["received", "acknowledged", "under-review"] as const;
const EXECUTING = ["accepted", "in-execution", "partially-executed"] as const;
for (const status of [...DECIDING, ...EXECUTING]) {
  // Asked during execution too (EIO art. 16(2)(b)-(c)); the delay notice keeps the status.
  ALLOWED[`${status} request-more-info requested`] = "more-info-requested";
  ALLOWED[`${status} consult requested`] = "in-consultation";
  ALLOWED[`${status} notify-delay requested`] = status;
}
for (const status of DECIDING) {
  ALLOWED[`${status} propose-alternative-measure requested`] = "alternative-proposed";
  ALLOWED[`${status} offer-conditions requested`] = "conditions-offered";
}
for (const status of [...DECIDING, "accepted"] as const) ALLOWED[`${status} confidentiality-not-possible requested`] = "confidentiality-not-possible";
const OPEN = [
  ...DECIDING,
  "more-info-requested",
  "in-consultation",
  "alternative-proposed",
  "conditions-offered",
  "confidentiality-not-possible",
  ...EXECUTING,
  "postponed",
  "on-hold",
] as const;
for (const status of OPEN) {
  ALLOWED[`${status} refuse requested`] = "refused";
  ALLOWED[`${status} unable-to-execute requested`] = "unable-to-execute";
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

  it("keeps the status on a partial refusal: the rest of the request goes on", function () {
    for (const status of OPEN) expect(nextStatus(status, "refuse", "requested", { partial: true }), status).to.equal(status);
    expect(nextStatus("in-execution", "refuse", "requested", { partial: false })).to.equal("refused");
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
        allowed: [
          "forward",
          "start-review",
          "request-more-info",
          "consult",
          "propose-alternative-measure",
          "offer-conditions",
          "confidentiality-not-possible",
          "accept",
          "notify-delay",
          "refuse",
          "unable-to-execute",
        ],
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
      "in-consultation": "requesting",
      "alternative-proposed": "requesting",
      "conditions-offered": "requesting",
      "confidentiality-not-possible": "requesting",
      accepted: "requested",
      "in-execution": "requested",
      "partially-executed": "requested",
      postponed: "requested",
      "on-hold": "requested",
      executed: undefined,
      refused: undefined,
      "unable-to-execute": undefined,
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
      "in-consultation",
      "alternative-proposed",
      "conditions-offered",
      "confidentiality-not-possible",
      "accepted",
      "in-execution",
      "partially-executed",
      "postponed",
      "on-hold",
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
