/**
 * The case lifecycle (DESIGN.md, "Cases") as one explicit state machine,
 * shared by both sides of a case: the sending gateway checks a step before it
 * seals it, the receiving gateway checks it again before it stores it, with
 * this same table. Pure: no IO, no clock.
 *
 * The two sides of a case:
 * - `requesting`: the authority that sent the request (its case is `outbound`);
 * - `requested`: the authority that received it (its case is `inbound`).
 *
 * | step                         | by         | from                                                          | to                                  |
 * | ---------------------------- | ---------- | ------------------------------------------------------------- | ----------------------------------- |
 * | acknowledge                  | requested  | received                                                      | acknowledged                        |
 * | forward                      | requested  | received, acknowledged                                        | acknowledged                        |
 * | start-review                 | requested  | received, acknowledged                                        | under-review                        |
 * | request-more-info            | requested  | received, acknowledged, under-review, accepted … partially-executed | more-info-requested           |
 * | consult                      | requested  | received, acknowledged, under-review, accepted … partially-executed | in-consultation               |
 * | propose-alternative-measure  | requested  | received, acknowledged, under-review                          | alternative-proposed                |
 * | offer-conditions             | requested  | received, acknowledged, under-review                          | conditions-offered                  |
 * | confidentiality-not-possible | requested  | received, acknowledged, under-review, accepted                | confidentiality-not-possible        |
 * | provide-more-info            | requesting | more-info-requested, in-consultation, alternative-proposed    | under-review                        |
 * | agree-alternative            | requesting | alternative-proposed                                          | under-review                        |
 * | accept-conditions            | requesting | conditions-offered                                            | under-review                        |
 * | reject-conditions            | requesting | conditions-offered                                            | under-review                        |
 * | confirm-proceed              | requesting | confidentiality-not-possible                                  | under-review                        |
 * | accept                       | requested  | received, acknowledged, under-review                          | accepted                            |
 * | notify-delay                 | requested  | received … partially-executed (the requested side's turn)     | unchanged                           |
 * | postpone                     | requested  | accepted, in-execution, partially-executed                    | postponed                           |
 * | legal-challenge              | requested  | accepted, in-execution, partially-executed, postponed         | on-hold                             |
 * | resume                       | requested  | postponed, on-hold                                            | in-execution                        |
 * | report-progress              | requested  | accepted, in-execution, partially-executed                    | partially-executed with `delivered`, else in-execution (partially-executed stays) |
 * | executed                     | requested  | accepted, in-execution, partially-executed                    | executed                            |
 * | refuse                       | requested  | every open state                                              | refused; a partial refusal leaves the status unchanged |
 * | unable-to-execute            | requested  | every open state                                              | unable-to-execute                   |
 * | extend-preservation          | requesting | executed (a preservation)                                     | executed                            |
 * | confirm-follow-up            | requesting | executed (a preservation)                                     | executed                            |
 * | withdraw                     | requesting | every open state                                              | withdrawn                           |
 * | close                        | requesting | executed, partially-executed, refused, unable-to-execute, withdrawn | closed                        |
 *
 * Every answer of the requesting side (more information, agreement to an
 * alternative, to conditions, to go on without confidentiality) returns the
 * case to `under-review`, where the requested side decides again; the
 * recognition is the first `accept` (gateway/cases/clocks.ts). Steps that
 * fit only some cases (a preservation's extension, grounds an instrument
 * does not know) are checked against the case in instrument-steps.ts.
 *
 * `submitted` is the requesting side's own view of a request whose receipt
 * has not arrived yet; for the lifecycle it is `received` (a step can only
 * reach the requested side after the request did), so both sides record the
 * same history.
 *
 * Concurrency: both sides may take a step from the same state at once (the
 * requester withdraws while the requested side accepts). Each step names
 * the step it follows (the envelope header's `inReplyTo`), so the two are
 * seen as siblings, and {@link concurrentWinner} settles which one stands:
 * the requesting side's, because the request is its own (it may always
 * withdraw it, answer questions about it, or close it). The other step stays
 * in both timelines, marked superseded. Both sides apply the same rule to the
 * same pair, so they agree on state and history whatever the delivery order.
 */
import { GatewayError } from "../errors.js";

/** Every status of a case. */
export const CASE_STATUSES = [
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
  "executed",
  "refused",
  "unable-to-execute",
  "withdrawn",
  "closed",
] as const;
/** A status of a case. */
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** Every lifecycle step. */
export const CASE_STEPS = [
  "acknowledge",
  "forward",
  "start-review",
  "request-more-info",
  "provide-more-info",
  "consult",
  "propose-alternative-measure",
  "agree-alternative",
  "offer-conditions",
  "accept-conditions",
  "reject-conditions",
  "confidentiality-not-possible",
  "confirm-proceed",
  "accept",
  "notify-delay",
  "postpone",
  "legal-challenge",
  "resume",
  "report-progress",
  "executed",
  "refuse",
  "unable-to-execute",
  "extend-preservation",
  "confirm-follow-up",
  "withdraw",
  "close",
] as const;
/** A lifecycle step. */
export type CaseStep = (typeof CASE_STEPS)[number];

/** The grounds for refusal (schemas/instruments.ts: UN Model Treaty art. 4, EIO art. 11, Regulation 2023/1543 art. 12, Budapest). */
export { REFUSAL_GROUNDS, type RefusalGround } from "../../schemas/instruments.js";

/** The steps of document version 1 (a peer that reads only version 1 understands no other). */
export const VERSION_1_STEPS: readonly CaseStep[] = ["acknowledge", "start-review", "request-more-info", "provide-more-info", "accept", "report-progress", "executed", "refuse", "withdraw", "close"];

/** The refusal grounds of document version 1. */
export const VERSION_1_GROUNDS: readonly string[] = [
  "sovereignty-security-public-order",
  "political-offence",
  "discrimination",
  "double-jeopardy",
  "military-offence",
  "human-rights",
  "dual-criminality",
  "insufficient-justification",
  "disproportionate",
  "other",
];

/** Which side of a case an authority is on. */
export type Side = "requesting" | "requested";

/** The side this gateway is on for a case of `direction`. */
export function sideOf(direction: "outbound" | "inbound"): Side {
  return direction === "outbound" ? "requesting" : "requested";
}

/** The other side. */
export function otherSide(side: Side): Side {
  return side === "requesting" ? "requested" : "requesting";
}

/** What a step's target may depend on. */
export interface StepPayload {
  /** Something was delivered with the step (report-progress). */
  readonly delivered?: unknown;
  /** A refusal of some assistance items only (refuse): the case goes on. */
  readonly partial?: unknown;
}

/** One row of the lifecycle table. */
export interface StepRule {
  readonly by: Side;
  readonly from: readonly CaseStatus[];
  /** The status after the step. */
  readonly to: (from: CaseStatus, payload: StepPayload) => CaseStatus;
}

/** Before the decision, the requested side's turn. */
const DECIDING: readonly CaseStatus[] = ["received", "acknowledged", "under-review"];
/** Executing, the requested side's turn. */
const EXECUTING: readonly CaseStatus[] = ["accepted", "in-execution", "partially-executed"];
/** The requesting side's turn: it was asked something. */
const ASKED: readonly CaseStatus[] = ["more-info-requested", "in-consultation", "alternative-proposed", "conditions-offered", "confidentiality-not-possible"];
/** Execution paused by the requested side. */
const PAUSED: readonly CaseStatus[] = ["postponed", "on-hold"];

/** States in which the request is still being handled (a refusal or withdrawal may end it). */
const OPEN: readonly CaseStatus[] = [...DECIDING, ...ASKED, ...EXECUTING, ...PAUSED];

const to =
  (status: CaseStatus) =>
  (): CaseStatus =>
    status;

/** The lifecycle table (see the module comment). */
export const LIFECYCLE: Readonly<Record<CaseStep, StepRule>> = Object.freeze({
  acknowledge: { by: "requested", from: ["received"], to: to("acknowledged") },
  forward: { by: "requested", from: ["received", "acknowledged"], to: to("acknowledged") },
  "start-review": { by: "requested", from: ["received", "acknowledged"], to: to("under-review") },
  // During execution too (EIO art. 16(2)(b)-(c)): the answer brings the case back to review.
  "request-more-info": { by: "requested", from: [...DECIDING, ...EXECUTING], to: to("more-info-requested") },
  consult: { by: "requested", from: [...DECIDING, ...EXECUTING], to: to("in-consultation") },
  "propose-alternative-measure": { by: "requested", from: DECIDING, to: to("alternative-proposed") },
  "offer-conditions": { by: "requested", from: DECIDING, to: to("conditions-offered") },
  "confidentiality-not-possible": { by: "requested", from: [...DECIDING, "accepted"], to: to("confidentiality-not-possible") },
  "provide-more-info": { by: "requesting", from: ["more-info-requested", "in-consultation", "alternative-proposed"], to: to("under-review") },
  "agree-alternative": { by: "requesting", from: ["alternative-proposed"], to: to("under-review") },
  "accept-conditions": { by: "requesting", from: ["conditions-offered"], to: to("under-review") },
  "reject-conditions": { by: "requesting", from: ["conditions-offered"], to: to("under-review") },
  "confirm-proceed": { by: "requesting", from: ["confidentiality-not-possible"], to: to("under-review") },
  accept: { by: "requested", from: DECIDING, to: to("accepted") },
  "notify-delay": { by: "requested", from: [...DECIDING, ...EXECUTING], to: (from) => from },
  postpone: { by: "requested", from: EXECUTING, to: to("postponed") },
  "legal-challenge": { by: "requested", from: [...EXECUTING, "postponed"], to: to("on-hold") },
  resume: { by: "requested", from: PAUSED, to: to("in-execution") },
  "report-progress": {
    by: "requested",
    from: EXECUTING,
    // Once something was delivered the case stays partially executed.
    to: (from, payload) => (payload.delivered !== undefined || from === "partially-executed" ? "partially-executed" : "in-execution"),
  },
  executed: { by: "requested", from: EXECUTING, to: to("executed") },
  // A partial refusal refuses some items; the rest of the request goes on from where it stood.
  refuse: { by: "requested", from: OPEN, to: (from, payload) => (payload.partial === true ? from : "refused") },
  "unable-to-execute": { by: "requested", from: OPEN, to: to("unable-to-execute") },
  "extend-preservation": { by: "requesting", from: ["executed"], to: to("executed") },
  "confirm-follow-up": { by: "requesting", from: ["executed"], to: to("executed") },
  withdraw: { by: "requesting", from: OPEN, to: to("withdrawn") },
  close: { by: "requesting", from: ["executed", "partially-executed", "refused", "unable-to-execute", "withdrawn"], to: to("closed") },
});

/** True when `value` names a step. */
export function isCaseStep(value: unknown): value is CaseStep {
  return typeof value === "string" && (CASE_STEPS as readonly string[]).includes(value);
}

/** True when `value` names a status. */
export function isCaseStatus(value: unknown): value is CaseStatus {
  return typeof value === "string" && (CASE_STATUSES as readonly string[]).includes(value);
}

/** The status as the lifecycle sees it: `submitted` is `received` (see the module comment). */
export function lifecycleStatus(status: CaseStatus): CaseStatus {
  return status === "submitted" ? "received" : status;
}

/** The steps `side` may take from `status`, in table order. */
export function allowedSteps(status: CaseStatus, side: Side): CaseStep[] {
  const from = lifecycleStatus(status);
  return CASE_STEPS.filter((step) => LIFECYCLE[step].by === side && LIFECYCLE[step].from.includes(from));
}

/**
 * The status after `side` takes `step` from `status`.
 *
 * @throws GatewayError `CASE_TRANSITION_INVALID` (details: step, status, side,
 *   allowed — the steps that side may take now) when the table has no such
 *   transition.
 *
 * @example nextStatus("received", "acknowledge", "requested", {}) // "acknowledged"
 */
export function nextStatus(status: CaseStatus, step: CaseStep, side: Side, payload: StepPayload = {}): CaseStatus {
  const rule = LIFECYCLE[step];
  const from = lifecycleStatus(status);
  if (rule.by !== side || !rule.from.includes(from)) {
    const who = rule.by === side ? "" : ` (only the ${rule.by} authority takes it)`;
    throw new GatewayError("CASE_TRANSITION_INVALID", `${step} is not allowed from ${from} for the ${side} authority${who}`, {
      details: { step, status: from, side, allowed: allowedSteps(from, side) },
    });
  }
  return rule.to(from, payload);
}

/**
 * Who holds the next step in `status`: the side whose turn it is, or
 * undefined when nobody is expected to act (the request has not been
 * received yet, or the case is decided).
 */
export function holderOf(status: CaseStatus): Side | undefined {
  if (DECIDING.includes(status) || EXECUTING.includes(status) || PAUSED.includes(status)) return "requested";
  if (ASKED.includes(status)) return "requesting";
  return undefined;
}

/** True while the request is still being handled (not yet executed, refused, withdrawn or closed). */
export function isOpen(status: CaseStatus): boolean {
  return status === "submitted" || OPEN.includes(status);
}

/**
 * Of two steps taken concurrently from the same state (one per side: a side
 * never forks its own history), the one that stands: the requesting side's.
 */
export function concurrentWinner<T extends { readonly by: Side }>(a: T, b: T): T {
  if (a.by === b.by) throw new GatewayError("CASE_TRANSITION_INVALID", "two concurrent steps by the same side");
  return a.by === "requesting" ? a : b;
}
