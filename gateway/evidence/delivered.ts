/**
 * The moment an evidence package is delivered: every item of it receipted by
 * the requesting authority. This is where evidence meets the case lifecycle.
 *
 * The manifest says how the package changes the case (`completes`:
 * `partially-executed` or `executed`), recorded on the package row. The case
 * state machine (status-update envelopes, one per transition) is built in
 * gateway/cases; once merged, {@link packageDelivered} is the one place to
 * call it from. For now it marks the package delivered, and logs and audits
 * `evidence.package.delivered` with `completes` — nothing else.
 */
import type { GatewayContext } from "../context.js";
import { appendEntry } from "../audit/append.js";
import { statement } from "../store/statements.js";

/** What {@link packageDelivered} recorded. */
export interface DeliveredPackage {
  readonly caseId: string;
  readonly packageId: string;
  readonly completes: "partially-executed" | "executed";
  readonly items: number;
  readonly bytes: number;
}

/**
 * Called when every item of an outbound package holds a verified receipt
 * (and again at start for any package left in between; it is idempotent).
 * Marks the package `delivered` and appends `evidence.package.delivered` in
 * one transaction; returns what it recorded, or undefined when the package
 * is not (or no longer) waiting for that.
 */
export async function packageDelivered(ctx: GatewayContext, packageId: string): Promise<DeliveredPackage | undefined> {
  const delivered = await ctx.commits.run((): DeliveredPackage | undefined => {
    const pkg = statement(
      ctx.db,
      `SELECT p.case_id, p.peer, p.completes, p.envelope_id, e.digest FROM evidence_packages p JOIN envelopes e ON e.envelope_id = p.envelope_id
        WHERE p.package_id = ? AND p.direction = 'outbound' AND p.state = 'sending'`,
    ).get(packageId) as { case_id: string; peer: string; completes: DeliveredPackage["completes"]; envelope_id: string; digest: string } | undefined;
    if (pkg === undefined) return undefined;
    const items = statement(ctx.db, "SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes, SUM(state <> 'receipted') AS open FROM evidence_items WHERE package_id = ?").get(packageId) as {
      n: number;
      bytes: number;
      open: number;
    };
    if (items.open > 0) return undefined;
    const now = ctx.now();
    statement(ctx.db, "UPDATE evidence_packages SET state = 'delivered', finished_at = ? WHERE package_id = ?").run(now.toISOString(), packageId);
    appendEntry(ctx.db, {
      kind: "evidence.package.delivered",
      actor: "gateway",
      time: now,
      caseId: pkg.case_id,
      envelopeId: pkg.envelope_id,
      envelopeDigest: pkg.digest,
      details: { packageId, to: pkg.peer, completes: pkg.completes, items: items.n, bytes: items.bytes },
    });
    return { caseId: pkg.case_id, packageId, completes: pkg.completes, items: items.n, bytes: items.bytes };
  });
  if (delivered !== undefined) {
    ctx.logger.info("evidence package delivered", { ...delivered });
  }
  return delivered;
}
