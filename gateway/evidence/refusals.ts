/**
 * Refused evidence uploads, audited without letting a peer flood the log.
 *
 * A peer may repeat a refused upload as fast as it likes — a broken sender
 * retrying a wrong range, or a hostile one — and one audit entry per refusal
 * would let it grow this gateway's append-only log (and its peers' witness
 * work) without bound. So:
 *
 * - the first refusal of an item for a given code is audited at once, with
 *   its details (`evidence.item.rejected`), and logged as a warning;
 * - a repeat (same item, same code) is only counted, in the store
 *   (`evidence_refusals`), and logged at debug level;
 * - {@link summariseRefusals}, run every `summaryMs` (10 minutes by
 *   default) and when the gateway stops, writes one
 *   `evidence.item.rejected.repeated` entry per item and code that was
 *   refused again since the last summary: how many times, first and last.
 *
 * Every refusal is accounted for in the log, and the entries an item can
 * cost are at most (codes × (1 + summary periods in which it was refused)).
 * Items only exist for manifests the peer sent, each itself an audited
 * envelope. The counts are in the store, so a crash loses none: the next
 * summary after the restart writes them.
 */
import type { GatewayContext } from "../context.js";
import { appendEntry } from "../audit/append.js";
import type { JsonValue } from "../envelope/canonical-json.js";
import type { Tx } from "../store/store.js";
import type { Job } from "../jobs/runner.js";
import type { ItemRow } from "./items.js";

/** Default interval of {@link startRefusalSummaries}. */
export const DEFAULT_REFUSAL_SUMMARY_MS = 10 * 60 * 1000;

/**
 * Records a refusal of `row`'s upload with `code`, inside the caller's
 * transaction: the first for this item and code is appended to the audit
 * log with `details`; a repeat is counted. Returns true when audited now.
 */
export async function recordRefusal(
  tx: Tx,
  row: Pick<ItemRow, "item_id" | "package_id" | "case_id" | "envelope_id" | "envelope_digest" | "peer">,
  code: string,
  now: Date,
  details: { [key: string]: JsonValue },
): Promise<boolean> {
  const at = now.toISOString();
  if (await tx.evidence.countRefusal(row.item_id, code, at)) return false;
  await tx.evidence.insertRefusal(row.item_id, code, at);
  await appendEntry(tx, {
    kind: "evidence.item.rejected",
    actor: `peer:${row.peer}`,
    time: now,
    caseId: row.case_id,
    envelopeId: row.envelope_id,
    envelopeDigest: row.envelope_digest,
    details: { packageId: row.package_id, itemId: row.item_id, code, ...details },
  });
  return true;
}

/**
 * Writes one `evidence.item.rejected.repeated` entry per item and code
 * refused again since the last summary, and resets their counts, in one
 * transaction. Returns the number of entries written.
 */
export async function summariseRefusals(ctx: GatewayContext): Promise<number> {
  const written = await ctx.store.transaction(async (tx) => {
    const rows = await tx.evidence.unsummarisedRefusals();
    const now = ctx.now();
    for (const row of rows) {
      await appendEntry(tx, {
        kind: "evidence.item.rejected.repeated",
        actor: `peer:${row.peer}`,
        time: now,
        caseId: row.case_id,
        envelopeId: row.envelope_id,
        envelopeDigest: row.digest,
        details: { packageId: row.package_id, itemId: row.item_id, code: row.code, repeats: row.repeats, firstAt: row.repeats_since, lastAt: row.last_at, total: row.total },
      });
      await tx.evidence.resetRefusalRepeats(row.item_id, row.code);
    }
    return rows;
  });
  for (const row of written) {
    ctx.logger.warn("evidence upload refused again", { caseId: row.case_id, packageId: row.package_id, itemId: row.item_id, from: row.peer, code: row.code, repeats: row.repeats, total: row.total });
  }
  return written.length;
}

/**
 * {@link summariseRefusals} every `everyMs` as a singleton job (the leader
 * summarises for every instance); the gateway also summarises at stop.
 */
export function refusalSummaryJob(ctx: GatewayContext, everyMs = DEFAULT_REFUSAL_SUMMARY_MS): Job {
  return {
    name: "refusal-summaries",
    singleton: true,
    idleMs: everyMs,
    firstRunMs: everyMs,
    async run() {
      await summariseRefusals(ctx);
      return everyMs;
    },
  };
}
