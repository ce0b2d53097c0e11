/**
 * What a lifecycle step may say in a given case, beyond the lifecycle table
 * (lifecycle.ts), which knows statuses only: the refusal grounds the case's
 * legal instrument allows (no political-offence ground under an EIO or an
 * EPOC; a disproportionate EIO is consulted on, not refused), steps that fit
 * one kind of case (a preservation's extension), the assistance items a
 * partial refusal names, the extension an instrument allows, and the steps a
 * peer that reads only document version 1 understands.
 *
 * Checked by the sending gateway before it seals a step and by the receiving
 * gateway before it places one: the step is the peer's word, and a peer gone
 * rogue or buggy would otherwise refuse an EIO on grounds the Directive
 * excludes, or count a refusal as several. Pure: the case and the document
 * are arguments.
 */
import { GatewayError } from "../errors.js";
import { instrumentRules, REFUSAL_GROUNDS } from "../../schemas/instruments.js";
import type { CaseFacts } from "./facts.js";
import { VERSION_1_STEPS, type CaseStep } from "./lifecycle.js";

/** The parts of a status update checked here. */
export interface StepDocument {
  readonly step: CaseStep;
  readonly partial?: unknown;
  readonly grounds?: ReadonlyArray<{ readonly ground: string; readonly assistanceItems?: readonly number[] }>;
  readonly unable?: ReadonlyArray<{ readonly reason: string; readonly assistanceItems?: readonly number[] }>;
  readonly extension?: { readonly days?: unknown };
}

/** The case a step is checked against. */
export interface StepCase {
  readonly kind: string;
  readonly facts: Pick<CaseFacts, "instrument" | "assistanceCount">;
}

/** Steps that only a preservation request's case takes. */
const PRESERVATION_ONLY: readonly CaseStep[] = ["extend-preservation", "confirm-follow-up"];

function notAllowed(step: CaseStep, reason: string, message: string, details: Record<string, unknown> = {}): GatewayError {
  return new GatewayError("CASE_STEP_NOT_ALLOWED", message, { details: { step, reason, ...details } });
}

/** The refusal grounds a case may cite: its instrument's, or every ground for a request without one (version 1). */
export function allowedGrounds(facts: Pick<CaseFacts, "instrument">): readonly string[] {
  return instrumentRules(facts.instrument)?.refusalGrounds ?? REFUSAL_GROUNDS;
}

/**
 * Checks `document` (a status update written in `version`) against the case.
 *
 * @throws GatewayError `CASE_GROUND_NOT_ALLOWED` (details: ground, instrument,
 *   allowed, insteadStep) or `CASE_STEP_NOT_ALLOWED` (details: step, reason).
 */
export function checkStepForCase(theCase: StepCase, document: StepDocument, version: number): void {
  const { step } = document;
  if (version === 1 && !VERSION_1_STEPS.includes(step)) {
    throw notAllowed(step, "version", `${step} is not a step of document version 1, the only version the peer reads.`, { version });
  }
  if (PRESERVATION_ONLY.includes(step) && theCase.kind !== "preservation-request") {
    throw notAllowed(step, "kind", `${step} is a step of a preservation request's case only.`, { kind: theCase.kind });
  }
  const rules = instrumentRules(theCase.facts.instrument);
  if (step === "extend-preservation" && rules?.clocks.preservationExtensionHours !== undefined) {
    const days = document.extension?.days;
    const most = rules.clocks.preservationExtensionHours / 24;
    if (typeof days === "number" && days > most) {
      throw notAllowed(step, "extension-too-long", `${theCase.facts.instrument} allows an extension of at most ${most} days.`, { days, most });
    }
  }
  if (step === "refuse") {
    const allowed = allowedGrounds(theCase.facts);
    for (const { ground } of document.grounds ?? []) {
      if (allowed.includes(ground)) continue;
      const insteadStep = rules?.notRefusals[ground as keyof typeof rules.notRefusals];
      throw new GatewayError(
        "CASE_GROUND_NOT_ALLOWED",
        `${ground} is not a ground for refusal under ${theCase.facts.instrument ?? "this case's instrument"}${insteadStep === undefined ? "" : `; take ${insteadStep} instead`}.`,
        { details: { ground, instrument: theCase.facts.instrument ?? null, allowed, ...(insteadStep === undefined ? {} : { insteadStep }) } },
      );
    }
  }
  // Items are positions in the request's assistance list: one that does not exist is a refusal of nothing.
  const count = theCase.facts.assistanceCount;
  const named = [...(document.grounds ?? []), ...(document.unable ?? [])].flatMap((g) => g.assistanceItems ?? []);
  if (count !== undefined) {
    const unknown = named.filter((i) => i >= count);
    if (unknown.length > 0) throw notAllowed(step, "unknown-item", `The request has ${count} assistance item(s), numbered from 0.`, { items: unknown, count });
    if (step === "refuse" && document.partial === true && new Set(named).size >= count) {
      throw notAllowed(step, "partial-covers-all", "A partial refusal covers every assistance item: refuse the request as a whole.", { count });
    }
  }
}

/**
 * The codes a step records (the step row's `grounds` column) for reports and
 * clocks: a refusal's grounds, why a request could not be executed, or the
 * days an extension of a preservation adds (`days:N`).
 */
export function stepCodes(document: StepDocument): string[] {
  if (document.step === "refuse") return [...new Set((document.grounds ?? []).map((g) => g.ground))];
  if (document.step === "unable-to-execute") return [...new Set((document.unable ?? []).map((u) => u.reason))];
  const days = document.extension?.days;
  if (document.step === "extend-preservation" && typeof days === "number") return [`days:${days}`];
  return [];
}
