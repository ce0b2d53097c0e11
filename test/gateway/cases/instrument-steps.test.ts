/**
 * What a step may say in a case of each instrument (instrument-steps.ts):
 * the grounds each instrument allows, the steps that fit one kind of case,
 * the items a partial refusal names, and the steps a version 1 peer reads —
 * every verdict written out by hand from schemas/instruments.ts.
 */
import { expect } from "chai";
import { checkStepForCase, stepCodes, type StepDocument } from "../../../gateway/cases/instrument-steps.js";
import { CASE_STEPS, type CaseStep } from "../../../gateway/cases/lifecycle.js";
import { INSTRUMENTS, INSTRUMENT_RULES, REFUSAL_GROUNDS } from "../../../schemas/instruments.js";
import { isValiseError } from "../../../pki/errors.js";

function verdict(run: () => void): string {
  try {
    run();
    return "ok";
  } catch (error) {
    if (!isValiseError(error)) throw error;
    const reason = (error.details as Record<string, unknown> | undefined)?.["reason"];
    return typeof reason === "string" ? `${error.code}:${reason}` : error.code;
  }
}

const mla = (instrument?: string, assistanceCount = 3) => ({ kind: "mla-request", facts: { ...(instrument === undefined ? {} : { instrument }), assistanceCount } });
const freeze = (instrument?: string) => ({ kind: "preservation-request", facts: instrument === undefined ? {} : { instrument } });
const refuse = (ground: string, extra: Partial<StepDocument> = {}): StepDocument => ({ step: "refuse", grounds: [{ ground }], ...extra });

/** The grounds each instrument allows, by hand. */
const ALLOWED_GROUNDS: Record<string, readonly string[]> = {
  "mla-treaty": REFUSAL_GROUNDS.filter((g) => !["national-security-intelligence", "press-freedom", "territoriality", "offence-list-or-threshold"].includes(g)),
  convention: REFUSAL_GROUNDS.filter((g) => !["national-security-intelligence", "press-freedom", "territoriality", "offence-list-or-threshold"].includes(g)),
  reciprocity: REFUSAL_GROUNDS.filter((g) => !["national-security-intelligence", "press-freedom", "territoriality", "offence-list-or-threshold"].includes(g)),
  eio: [
    "immunity-or-privilege",
    "press-freedom",
    "national-security-intelligence",
    "compulsory-measure-not-available",
    "double-jeopardy",
    "territoriality",
    "human-rights",
    "dual-criminality",
    "offence-list-or-threshold",
    "other",
  ],
  epoc: ["immunity-or-privilege", "press-freedom", "double-jeopardy", "human-rights", "dual-criminality", "other"],
  "epoc-pr": ["immunity-or-privilege", "press-freedom", "double-jeopardy", "human-rights", "dual-criminality", "other"],
  "budapest-29": ["sovereignty-security-public-order", "political-offence", "dual-criminality", "other"],
  "budapest-31": ["sovereignty-security-public-order", "political-offence", "dual-criminality", "other", "double-jeopardy", "human-rights", "death-penalty", "insufficient-justification", "disproportionate"],
};

describe("steps by instrument (instrument-steps.ts)", function () {
  it("allows exactly each instrument's refusal grounds, and names the step to take instead where the instrument has one", function () {
    for (const instrument of INSTRUMENTS) {
      const theCase = INSTRUMENT_RULES[instrument].kinds.includes("mla-request") ? mla(instrument) : freeze(instrument);
      for (const ground of REFUSAL_GROUNDS) {
        const expected = ALLOWED_GROUNDS[instrument]!.includes(ground) ? "ok" : "CASE_GROUND_NOT_ALLOWED";
        expect(verdict(() => checkStepForCase(theCase, refuse(ground), 2)), `${instrument} ${ground}`).to.equal(expected);
      }
    }
    // No political-offence ground under the EIO or an EPOC; disproportion is consulted on, an incomplete order completed.
    try {
      checkStepForCase(mla("eio"), refuse("disproportionate"), 2);
      expect.fail("a disproportionate EIO was refused");
    } catch (error) {
      expect(isValiseError(error) && error.code).to.equal("CASE_GROUND_NOT_ALLOWED");
      expect((error as { details: Record<string, unknown> }).details).to.deep.include({ ground: "disproportionate", instrument: "eio", insteadStep: "consult" });
    }
    expect(verdict(() => checkStepForCase(mla("epoc"), refuse("insufficient-justification"), 2))).to.equal("CASE_GROUND_NOT_ALLOWED");
    // A request of version 1 names no instrument: every ground stands.
    for (const ground of REFUSAL_GROUNDS) expect(verdict(() => checkStepForCase(mla(undefined), refuse(ground), 2)), ground).to.equal("ok");
  });

  it("takes the preservation steps only in a preservation request's case, and caps an extension at what the instrument allows", function () {
    for (const step of ["extend-preservation", "confirm-follow-up"] as const) {
      expect(verdict(() => checkStepForCase(mla("mla-treaty"), { step }, 2)), step).to.equal("CASE_STEP_NOT_ALLOWED:kind");
      expect(verdict(() => checkStepForCase(freeze("budapest-29"), { step }, 2)), step).to.equal("ok");
    }
    // EPOC-PR Annex VI: 30 days more; Budapest art. 29: 90 more.
    expect(verdict(() => checkStepForCase(freeze("epoc-pr"), { step: "extend-preservation", extension: { days: 30 } }, 2))).to.equal("ok");
    expect(verdict(() => checkStepForCase(freeze("epoc-pr"), { step: "extend-preservation", extension: { days: 31 } }, 2))).to.equal("CASE_STEP_NOT_ALLOWED:extension-too-long");
    expect(verdict(() => checkStepForCase(freeze("budapest-29"), { step: "extend-preservation", extension: { days: 90 } }, 2))).to.equal("ok");
    expect(verdict(() => checkStepForCase(freeze("budapest-29"), { step: "extend-preservation", extension: { days: 91 } }, 2))).to.equal("CASE_STEP_NOT_ALLOWED:extension-too-long");
  });

  it("lets a peer that reads only version 1 receive only the steps of version 1", function () {
    const v1: readonly CaseStep[] = ["acknowledge", "start-review", "request-more-info", "provide-more-info", "accept", "report-progress", "executed", "refuse", "withdraw", "close"];
    for (const step of CASE_STEPS) {
      const document: StepDocument = step === "refuse" ? refuse("dual-criminality") : { step };
      const theCase = step === "extend-preservation" || step === "confirm-follow-up" ? freeze(undefined) : mla(undefined);
      expect(verdict(() => checkStepForCase(theCase, document, 1)), step).to.equal(v1.includes(step) ? "ok" : "CASE_STEP_NOT_ALLOWED:version");
      expect(verdict(() => checkStepForCase(theCase, document, 2)), step).to.equal("ok");
    }
  });

  it("refuses items the request does not have, and a partial refusal that covers them all", function () {
    const partial = (items: number[]): StepDocument => ({ step: "refuse", partial: true, grounds: [{ ground: "dual-criminality", assistanceItems: items }] });
    expect(verdict(() => checkStepForCase(mla("mla-treaty", 3), partial([2]), 2))).to.equal("ok");
    expect(verdict(() => checkStepForCase(mla("mla-treaty", 3), partial([3]), 2))).to.equal("CASE_STEP_NOT_ALLOWED:unknown-item");
    expect(verdict(() => checkStepForCase(mla("mla-treaty", 3), partial([0, 1, 2]), 2))).to.equal("CASE_STEP_NOT_ALLOWED:partial-covers-all");
    const unable: StepDocument = { step: "unable-to-execute", unable: [{ reason: "data-deleted", assistanceItems: [5] }] };
    expect(verdict(() => checkStepForCase(mla("epoc", 1), unable, 2))).to.equal("CASE_STEP_NOT_ALLOWED:unknown-item");
  });

  it("records a refusal's grounds, the reasons a request could not be executed, and an extension's days", function () {
    expect(stepCodes({ step: "refuse", grounds: [{ ground: "human-rights" }, { ground: "human-rights" }, { ground: "death-penalty" }] })).to.deep.equal(["human-rights", "death-penalty"]);
    expect(stepCodes({ step: "unable-to-execute", unable: [{ reason: "data-not-held" }, { reason: "data-deleted" }] })).to.deep.equal(["data-not-held", "data-deleted"]);
    expect(stepCodes({ step: "extend-preservation", extension: { days: 30 } })).to.deep.equal(["days:30"]);
    expect(stepCodes({ step: "accept" })).to.deep.equal([]);
  });
});
