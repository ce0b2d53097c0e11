/**
 * What this gateway holds about its exchanges with one peer — cases,
 * envelopes (metadata, digests and receipts, never content) and lifecycle
 * steps — as the peer API serves it to that peer for reconciliation, and as
 * the reconciling side reads its own.
 */
import type { Tx } from "../store/store.js";
import type { CaseRow, StepRow } from "../store/repos/cases.js";
import type { EnvelopeRow } from "../store/repos/envelopes.js";

/** One side's inventory of its exchanges with a peer. */
export interface ExchangeInventory {
  /** Whose inventory it is, and about which peer. */
  readonly authority: string;
  readonly peer: string;
  readonly cases: readonly CaseRow[];
  readonly envelopes: readonly EnvelopeRow[];
  readonly steps: readonly StepRow[];
}

/** The inventory of `authority`'s exchanges with `peer`. */
export async function exchangeInventory(tx: Tx, authority: string, peer: string): Promise<ExchangeInventory> {
  return {
    authority,
    peer,
    cases: await tx.reconcile.casesWith(peer),
    envelopes: await tx.reconcile.envelopesWith(peer),
    steps: await tx.reconcile.stepsWith(peer),
  };
}
