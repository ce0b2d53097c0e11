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
import { statement } from "../store/statements.js";
import type { ItemRow } from "./items.js";

/** Default interval of {@link startRefusalSummaries}. */
export const DEFAULT_REFUSAL_SUMMARY_MS = 10 * 60 * 1000;

/**
 * Records a refusal of `row`'s upload with `code`, inside the caller's
 * transaction: the first for this item and code is appended to the audit
 * log with `details`; a repeat is counted. Returns true when audited now.
 */
export function recordRefusal(
  ctx: GatewayContext,
  row: Pick<ItemRow, "item_id" | "package_id" | "case_id" | "envelope_id" | "envelope_digest" | "peer">,
  code: string,
  now: Date,
  details: { [key: string]: JsonValue },
): boolean {
  const at = now.toISOString();
  const counted = statement(
    ctx.db,
    `UPDATE evidence_refusals SET total = total + 1, repeats = repeats + 1, repeats_since = COALESCE(repeats_since, ?), last_at = ?
      WHERE item_id = ? AND code = ?`,
  ).run(at, at, row.item_id, code).changes;
  if (counted > 0) return false;
  statement(ctx.db, "INSERT INTO evidence_refusals (item_id, code, first_at, last_at) VALUES (?, ?, ?, ?)").run(row.item_id, code, at, at);
  appendEntry(ctx.db, {
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

interface Unsummarised {
  item_id: string;
  code: string;
  repeats: number;
  repeats_since: string;
  last_at: string;
  total: number;
  package_id: string;
  case_id: string;
  peer: string;
  envelope_id: string;
  digest: string;
}

/**
 * Writes one `evidence.item.rejected.repeated` entry per item and code
 * refused again since the last summary, and resets their counts, in one
 * transaction. Returns the number of entries written.
 */
export async function summariseRefusals(ctx: GatewayContext): Promise<number> {
  const written = await ctx.commits.run(() => {
    const rows = statement(
      ctx.db,
      `SELECT r.item_id, r.code, r.repeats, r.repeats_since, r.last_at, r.total, p.package_id, p.case_id, p.peer, p.envelope_id, e.digest
         FROM evidence_refusals r JOIN evidence_items i ON i.item_id = r.item_id JOIN evidence_packages p ON p.package_id = i.package_id
         JOIN envelopes e ON e.envelope_id = p.envelope_id
        WHERE r.repeats > 0 ORDER BY r.repeats_since, r.item_id, r.code`,
    ).all() as Unsummarised[];
    const now = ctx.now();
    for (const row of rows) {
      appendEntry(ctx.db, {
        kind: "evidence.item.rejected.repeated",
        actor: `peer:${row.peer}`,
        time: now,
        caseId: row.case_id,
        envelopeId: row.envelope_id,
        envelopeDigest: row.digest,
        details: { packageId: row.package_id, itemId: row.item_id, code: row.code, repeats: row.repeats, firstAt: row.repeats_since, lastAt: row.last_at, total: row.total },
      });
      statement(ctx.db, "UPDATE evidence_refusals SET repeats = 0, repeats_since = NULL WHERE item_id = ? AND code = ?").run(row.item_id, row.code);
    }
    return rows;
  });
  for (const row of written) {
    ctx.logger.warn("evidence upload refused again", { caseId: row.case_id, packageId: row.package_id, itemId: row.item_id, from: row.peer, code: row.code, repeats: row.repeats, total: row.total });
  }
  return written.length;
}

/** Runs {@link summariseRefusals} every `everyMs`; `stop` writes a last summary. */
export function startRefusalSummaries(ctx: GatewayContext, everyMs = DEFAULT_REFUSAL_SUMMARY_MS): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const summarise = (): Promise<unknown> =>
    (running = running.then(() => summariseRefusals(ctx)).catch((error: unknown) => ctx.logger.error("summarising refused evidence uploads failed", { error: String(error) })));
  const timer = setInterval(() => void summarise(), everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await summarise();
    },
  };
}
