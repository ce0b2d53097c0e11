/**
 * Where a status update goes in a case's history — pure, and the same on
 * both sides, so that both gateways end up with the same history whatever
 * order the envelopes arrive in.
 *
 * A case's history is a chain: the request, then each applied step, every
 * step naming the one it follows (its `predecessor`, the routing header's
 * `inReplyTo`). A new step is placed by its predecessor:
 *
 * - it follows the head: it is checked against the lifecycle and applied;
 * - it follows an earlier applied step, after which the *other* side already
 *   took steps: the two sides acted concurrently; the requesting side's step
 *   stands ({@link concurrentWinner}) and the other branch is superseded
 *   (rolled back if it was applied);
 * - it follows a superseded step: it was built on a branch that lost, and is
 *   kept, superseded;
 * - its predecessor is unknown: it overtook an envelope still on its way
 *   (`CASE_STEP_EARLY`, the sender retries).
 *
 * Anything else — a step the lifecycle does not allow from the state it
 * follows, a status other than the one the lifecycle gives, a side forking
 * its own history — is refused (`CASE_TRANSITION_INVALID`).
 */
import { GatewayError } from "../errors.js";
import { concurrentWinner, nextStatus, type CaseStatus, type CaseStep, type Side, type StepPayload } from "./lifecycle.js";

/** A step already in the history. */
export interface PlacedStep {
  readonly envelopeId: string;
  readonly seq: number;
  readonly predecessor: string;
  readonly by: Side;
  readonly from: CaseStatus;
  readonly to: CaseStatus;
  readonly state: "applied" | "superseded";
  readonly supersededBy: string | null;
}

/** A case's history as placement needs it. */
export interface CaseHistory {
  readonly requestEnvelopeId: string;
  /** Every step, applied and superseded. */
  readonly steps: readonly PlacedStep[];
}

/** A step to place. */
export interface IncomingStep {
  readonly envelopeId: string;
  readonly predecessor: string;
  readonly step: CaseStep;
  readonly by: Side;
  /** The status its author says it leads to (checked against the lifecycle). */
  readonly status: CaseStatus;
  readonly payload: StepPayload;
}

/** The outcome of placing a step. */
export type Placement =
  | {
      readonly outcome: "applied";
      readonly seq: number;
      readonly from: CaseStatus;
      readonly to: CaseStatus;
      /** Applied steps it overrules (rolled back, marked superseded by it), in order. */
      readonly supersedes: readonly string[];
    }
  | {
      readonly outcome: "superseded";
      readonly seq: number;
      readonly from: CaseStatus;
      readonly to: CaseStatus;
      /** The step that stands in its place. */
      readonly supersededBy: string;
    };

/** The status the history is in right after `envelopeId` (the request: `received`). */
function statusAfter(history: CaseHistory, byId: ReadonlyMap<string, PlacedStep>, envelopeId: string): CaseStatus {
  return envelopeId === history.requestEnvelopeId ? "received" : byId.get(envelopeId)!.to;
}

/**
 * Places `incoming` in `history` (see the module comment).
 *
 * @throws GatewayError `CASE_STEP_EARLY` when its predecessor is not known
 *   yet; `CASE_TRANSITION_INVALID` when it cannot be placed.
 */
export function placeStep(history: CaseHistory, incoming: IncomingStep): Placement {
  const byId = new Map(history.steps.map((s) => [s.envelopeId, s]));
  const predecessor = incoming.predecessor === history.requestEnvelopeId ? undefined : byId.get(incoming.predecessor);
  if (incoming.predecessor !== history.requestEnvelopeId && predecessor === undefined) {
    throw new GatewayError("CASE_STEP_EARLY", `the step follows ${incoming.predecessor}, which this gateway has not received yet`, {
      details: { predecessor: incoming.predecessor },
    });
  }
  const from = statusAfter(history, byId, incoming.predecessor);
  const to = nextStatus(from, incoming.step, incoming.by, incoming.payload);
  if (incoming.status !== to) {
    throw new GatewayError("CASE_TRANSITION_INVALID", `${incoming.step} from ${from} leads to ${to}, not ${incoming.status}`, {
      details: { step: incoming.step, status: from, declared: incoming.status, expected: to },
    });
  }
  const seq = (predecessor?.seq ?? 0) + 1;
  if (predecessor !== undefined && predecessor.state === "superseded") {
    // Built on a branch that lost before its author knew: kept, superseded too.
    return { outcome: "superseded", seq, from, to, supersededBy: predecessor.supersededBy ?? predecessor.envelopeId };
  }
  const after = history.steps.filter((s) => s.state === "applied" && s.seq >= seq).sort((a, b) => a.seq - b.seq);
  if (after.length === 0) return { outcome: "applied", seq, from, to, supersedes: [] };
  if (after.some((s) => s.by === incoming.by)) {
    throw new GatewayError("CASE_TRANSITION_INVALID", `the ${incoming.by} authority already took a step after ${incoming.predecessor}`, {
      details: { step: incoming.step, predecessor: incoming.predecessor },
    });
  }
  const sibling = after[0]!;
  const winner = concurrentWinner({ by: incoming.by, envelopeId: incoming.envelopeId }, { by: sibling.by, envelopeId: sibling.envelopeId });
  if (winner.envelopeId === incoming.envelopeId) return { outcome: "applied", seq, from, to, supersedes: after.map((s) => s.envelopeId) };
  return { outcome: "superseded", seq, from, to, supersededBy: sibling.envelopeId };
}
