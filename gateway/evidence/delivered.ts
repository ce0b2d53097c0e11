/**
 * The moment an evidence package is delivered: every item of it receipted by
 * the requesting authority. This is where evidence meets the case lifecycle.
 *
 * The manifest says how the package changes the case (`completes`:
 * `partially-executed` or `executed`), recorded on the package row. When the
 * last item is receipted, {@link packageDelivered} marks the package
 * delivered (`evidence.package.delivered`) and then takes the matching
 * lifecycle step — `report-progress` or `executed`, naming the package in
 * `delivered.packageIds` — as a signed status update, so the requesting
 * side's case moves too. Sending is refused up front when the case could
 * not take that step ({@link assertStepAllowed}); if the case moved in the
 * meantime (the requester withdrew, a caseworker already reported it
 * executed), the delivery stands, the step is not taken, and that is logged
 * and audited (`evidence.package.step-skipped`).
 */
import type { GatewayContext } from "../context.js";
import { appendEntry } from "../audit/append.js";
import { GatewayError } from "../errors.js";
import { isValiseError } from "../../pki/errors.js";
import { nextStatus, sideOf, type CaseStatus, type CaseStep } from "../cases/lifecycle.js";
import { takeStep } from "../cases/transition.js";

/** The lifecycle step a delivered package takes. */
export function completionStep(completes: "partially-executed" | "executed"): CaseStep {
  return completes === "executed" ? "executed" : "report-progress";
}

/**
 * Throws `CASE_TRANSITION_INVALID` (details: the steps allowed now) unless
 * this gateway may take `step` on `caseId` now; `CASE_UNKNOWN` without it.
 */
export async function assertStepAllowed(ctx: GatewayContext, caseId: string, step: CaseStep): Promise<void> {
  const kase = await ctx.store.read((tx) => tx.cases.get(caseId));
  if (kase === undefined) throw new GatewayError("CASE_UNKNOWN", `no case ${caseId}`);
  nextStatus(kase.status as CaseStatus, step, sideOf(kase.direction), { delivered: {} });
}

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
  const delivered = await ctx.store.transaction(async (tx): Promise<DeliveredPackage | undefined> => {
    const pkg = await tx.evidence.sendingPackage(packageId);
    if (pkg === undefined) return undefined;
    const items = await tx.evidence.tally(packageId, "receipted");
    if (items.open > 0) return undefined;
    const now = ctx.now();
    // Once, whatever the number of instances: only the one that moves it from `sending` records it.
    if (!(await tx.evidence.finishPackage(packageId, "sending", "delivered", now.toISOString()))) return undefined;
    await appendEntry(tx, {
      kind: "evidence.package.delivered",
      actor: "gateway",
      time: now,
      caseId: pkg.case_id,
      envelopeId: pkg.envelope_id,
      envelopeDigest: pkg.digest,
      details: { packageId, to: pkg.peer, completes: pkg.completes, items: items.n, bytes: items.bytes },
    });
    return { caseId: pkg.case_id, packageId, completes: pkg.completes as DeliveredPackage["completes"], items: items.n, bytes: items.bytes };
  });
  if (delivered !== undefined) {
    ctx.logger.info("evidence package delivered", { ...delivered });
    await stepForPackage(ctx, delivered);
  }
  return delivered;
}

/** Takes the package's lifecycle step; a case that can no longer take it is logged and audited, not an error. */
async function stepForPackage(ctx: GatewayContext, delivered: DeliveredPackage): Promise<void> {
  const step = completionStep(delivered.completes);
  try {
    await takeStep(
      ctx,
      delivered.caseId,
      { step, delivered: { packageIds: [delivered.packageId] }, note: `Evidence package ${delivered.packageId} delivered: ${delivered.items} item(s), ${delivered.bytes} bytes.` },
      { actor: "gateway" },
    );
  } catch (error) {
    const code = isValiseError(error) ? error.code : "INTERNAL";
    ctx.logger.warn("evidence delivered, but the case did not take its step", { caseId: delivered.caseId, packageId: delivered.packageId, step, code });
    await ctx.store.transaction((tx) =>
      appendEntry(tx, {
        kind: "evidence.package.step-skipped",
        actor: "gateway",
        time: ctx.now(),
        caseId: delivered.caseId,
        details: { packageId: delivered.packageId, step, code },
      }),
    );
  }
}
