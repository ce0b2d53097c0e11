/**
 * A case as reports see it: metadata and its applied lifecycle steps, no
 * content. KPIs and the transparency report are pure functions of a list of
 * these, so the same figures come from the gateway, the offline CLI and a
 * hand-computed test fixture.
 */
import type { Priority } from "../envelope/types.js";
import type { CaseStatus, CaseStep, Side } from "../cases/lifecycle.js";
import type { CaseFacts } from "../cases/facts.js";
import { completionOf, DAY_MS } from "../cases/clocks.js";

/** One applied step. */
export interface ReportStep {
  readonly step: CaseStep;
  readonly by: Side;
  readonly from: CaseStatus;
  readonly to: CaseStatus;
  readonly at: string;
  /** A refusal's grounds, or an unable-to-execute step's reasons (codes). */
  readonly grounds: readonly string[];
}

/** One case, for reports. */
export interface ReportCase {
  readonly caseId: string;
  /** outbound: a request we sent; inbound: one we received. */
  readonly direction: "outbound" | "inbound";
  readonly kind: string;
  readonly peer: string;
  readonly priority: Priority;
  readonly status: CaseStatus;
  /** Sent (outbound) or received (inbound) at. */
  readonly createdAt: string;
  /** When the requested authority received the request (null: not yet). */
  readonly receivedAt: string | null;
  readonly facts: CaseFacts;
  /** Applied steps, in order. */
  readonly steps: readonly ReportStep[];
}

/** How a case ended (or not yet). */
export const OUTCOMES = ["executed", "partially-executed", "refused", "unable-to-execute", "withdrawn", "pending"] as const;
/** An outcome. */
export type Outcome = (typeof OUTCOMES)[number];

/**
 * The outcome of a case: the decisive status it reached (a closed case keeps
 * the outcome it was closed with); `partially-executed` when something was
 * delivered and the rest is still to come or the requester closed it so;
 * `unable-to-execute` when the requested side could not execute it (the data
 * is not held, was deleted…: no refusal by the state); `pending` otherwise.
 */
export function outcomeOf(c: Pick<ReportCase, "status" | "steps">): Outcome {
  const status = c.status === "closed" ? (c.steps.at(-1)?.from ?? "closed") : c.status;
  switch (status) {
    case "executed":
    case "partially-executed":
    case "refused":
    case "unable-to-execute":
    case "withdrawn":
      return status;
    default:
      return "pending";
  }
}

/** When the request was answered: executed, refused, or closed after partial execution (null: not answered). */
export function completedAtOf(c: Pick<ReportCase, "steps">): string | null {
  return completionOf(c.steps);
}

/** Days from receipt to answer, or null when not answered (or never received). */
export function completionDaysOf(c: Pick<ReportCase, "receivedAt" | "steps">): number | null {
  const done = completedAtOf(c);
  if (done === null || c.receivedAt === null) return null;
  return (Date.parse(done) - Date.parse(c.receivedAt)) / DAY_MS;
}

/** The refusal grounds of a refused case (codes, each once). */
export function refusalGroundsOf(c: Pick<ReportCase, "steps">): string[] {
  const refusal = c.steps.find((s) => s.to === "refused");
  return refusal === undefined ? [] : [...new Set(refusal.grounds)];
}

/** Why a case could not be executed (codes, each once; empty unless it ended unable-to-execute). */
export function unableReasonsOf(c: Pick<ReportCase, "steps">): string[] {
  const step = c.steps.find((s) => s.to === "unable-to-execute");
  return step === undefined ? [] : [...new Set(step.grounds)];
}

/** True when the requested side refused some items and went on with the rest (a partial refusal). */
export function refusedInPart(c: Pick<ReportCase, "steps">): boolean {
  return c.steps.some((s) => s.step === "refuse" && s.to !== "refused");
}

/** The case's legal instrument, or `unknown` for a request without one (document version 1). */
export function instrumentOf(c: Pick<ReportCase, "facts">): string {
  return c.facts.instrument ?? "unknown";
}

/** The counterpart's country: the first two letters of its authority id. */
export function countryOf(authority: string): string {
  return authority.slice(0, 2);
}
