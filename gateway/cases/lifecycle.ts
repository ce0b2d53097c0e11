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
 * | step              | by         | from                                                      | to                                  |
 * | ----------------- | ---------- | --------------------------------------------------------- | ----------------------------------- |
 * | acknowledge       | requested  | received                                                  | acknowledged                        |
 * | start-review      | requested  | received, acknowledged                                    | under-review                        |
 * | request-more-info | requested  | received, acknowledged, under-review                      | more-info-requested                 |
 * | provide-more-info | requesting | more-info-requested                                       | under-review                        |
 * | accept            | requested  | received, acknowledged, under-review                      | accepted                            |
 * | report-progress   | requested  | accepted, in-execution, partially-executed                | partially-executed with `delivered`, else in-execution (partially-executed stays) |
 * | executed          | requested  | accepted, in-execution, partially-executed                | executed                            |
 * | refuse            | requested  | received … partially-executed (every open state)          | refused                             |
 * | withdraw          | requesting | received … partially-executed (every open state)          | withdrawn                           |
 * | close             | requesting | executed, partially-executed, refused, withdrawn          | closed                              |
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
  "accepted",
  "in-execution",
  "partially-executed",
  "executed",
  "refused",
  "withdrawn",
  "closed",
] as const;
/** A status of a case. */
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** Every lifecycle step. */
export const CASE_STEPS = [
  "acknowledge",
  "start-review",
  "request-more-info",
  "provide-more-info",
  "accept",
  "report-progress",
  "executed",
  "refuse",
  "withdraw",
  "close",
] as const;
/** A lifecycle step. */
export type CaseStep = (typeof CASE_STEPS)[number];

/** The grounds for refusal (UN Model Treaty on Mutual Assistance in Criminal Matters, art. 4, and common treaty practice). */
export const REFUSAL_GROUNDS = [
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
] as const;
/** A ground for refusal. */
export type RefusalGround = (typeof REFUSAL_GROUNDS)[number];

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
}

/** One row of the lifecycle table. */
export interface StepRule {
  readonly by: Side;
  readonly from: readonly CaseStatus[];
  /** The status after the step. */
  readonly to: (from: CaseStatus, payload: StepPayload) => CaseStatus;
}

/** States in which the request is still being handled (a refusal or withdrawal may end it). */
const OPEN: readonly CaseStatus[] = [
  "received",
  "acknowledged",
  "under-review",
  "more-info-requested",
  "accepted",
  "in-execution",
  "partially-executed",
];

const to =
  (status: CaseStatus) =>
  (): CaseStatus =>
    status;

/** The lifecycle table (see the module comment). */
export const LIFECYCLE: Readonly<Record<CaseStep, StepRule>> = Object.freeze({
  acknowledge: { by: "requested", from: ["received"], to: to("acknowledged") },
  "start-review": { by: "requested", from: ["received", "acknowledged"], to: to("under-review") },
  "request-more-info": { by: "requested", from: ["received", "acknowledged", "under-review"], to: to("more-info-requested") },
  "provide-more-info": { by: "requesting", from: ["more-info-requested"], to: to("under-review") },
  accept: { by: "requested", from: ["received", "acknowledged", "under-review"], to: to("accepted") },
  "report-progress": {
    by: "requested",
    from: ["accepted", "in-execution", "partially-executed"],
    // Once something was delivered the case stays partially executed.
    to: (from, payload) => (payload.delivered !== undefined || from === "partially-executed" ? "partially-executed" : "in-execution"),
  },
  executed: { by: "requested", from: ["accepted", "in-execution", "partially-executed"], to: to("executed") },
  refuse: { by: "requested", from: OPEN, to: to("refused") },
  withdraw: { by: "requesting", from: OPEN, to: to("withdrawn") },
  close: { by: "requesting", from: ["executed", "partially-executed", "refused", "withdrawn"], to: to("closed") },
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
  switch (status) {
    case "received":
    case "acknowledged":
    case "under-review":
    case "accepted":
    case "in-execution":
    case "partially-executed":
      return "requested";
    case "more-info-requested":
      return "requesting";
    case "submitted":
    case "executed":
    case "refused":
    case "withdrawn":
    case "closed":
      return undefined;
  }
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
