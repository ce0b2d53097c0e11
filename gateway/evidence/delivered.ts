/**
 * The moment an evidence package is delivered: every item of it receipted by
 * the requesting authority. This is where evidence meets the case lifecycle.
 *
 * The manifest says how the package changes the case (`completes`:
 * `partially-executed` or `executed`), recorded on the package row. When the
 * last item is receipted, {@link packageDelivered} marks the package
 * delivered (`evidence.package.delivered`) and takes the matching lifecycle
 * step — `report-progress` or `executed`, naming the package in
 * `delivered.packageIds` — as a signed status update, so the requesting
 * side's case moves too. Both are one transaction: the status update is
 * sealed first, then the package, the case, the outbox row and the audit
 * entries commit together, so no crash (kill -9 included) can leave a
 * delivered package whose case never takes its step; a crash before the
 * commit leaves the package `sending` with every item receipted, and the
 * uploader's sweep at start delivers it again.
 *
 * Sending is refused up front when the case could not take that step
 * ({@link assertStepAllowed}); if the case moved in the meantime (the
 * requester withdrew, a caseworker already reported it executed), the
 * delivery stands, the step is not taken, and that is logged and audited
 * (`evidence.package.step-skipped`) in the same transaction.
 */
import type { GatewayContext } from "../context.js";
import { appendEntry } from "../audit/append.js";
import type { Tx } from "../store/store.js";
import { GatewayError } from "../errors.js";
import { isValiseError } from "../../pki/errors.js";
import { nextStatus, sideOf, type CaseStatus, type CaseStep } from "../cases/lifecycle.js";
import { STEP_ATTEMPTS, sealStep, stepCommitted, type SealedStep } from "../cases/transition.js";
import { crashPoint } from "../crash-point.js";

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

/** The attachments of a document, delivered (they complete no step). */
export interface DeliveredAttachments {
  readonly caseId: string;
  readonly packageId: string;
  readonly attachments: true;
  readonly items: number;
  readonly bytes: number;
}

/** An outbound package waiting to be marked delivered: still `sending`, every item receipted. */
interface ReadyPackage {
  readonly case_id: string;
  readonly peer: string;
  readonly completes: DeliveredPackage["completes"];
  readonly envelope_id: string;
  readonly digest: string;
  readonly items: number;
  readonly bytes: number;
}

async function readyPackage(tx: Tx, packageId: string): Promise<ReadyPackage | undefined> {
  const pkg = await tx.evidence.sendingPackage(packageId);
  if (pkg === undefined) return undefined;
  const items = await tx.evidence.tally(packageId, "receipted");
  return items.open > 0 ? undefined : { ...pkg, completes: pkg.completes as DeliveredPackage["completes"], items: items.n, bytes: items.bytes };
}

/**
 * Called when every item of an outbound package holds a verified receipt
 * (and again at start for any package left `sending`; it is idempotent).
 * In one transaction: marks the package `delivered`, appends
 * `evidence.package.delivered`, and takes the case's step (or records
 * `evidence.package.step-skipped` when the case can no longer take it).
 * Returns what it recorded, or undefined when the package is not (or no
 * longer) waiting for that.
 */
export async function packageDelivered(ctx: GatewayContext, packageId: string): Promise<DeliveredPackage | DeliveredAttachments | undefined> {
  if ((await ctx.store.read((tx) => tx.evidence.sendingPackage(packageId)))?.purpose === "attachments") return attachmentsDelivered(ctx, packageId);
  // Set once the step cannot be taken: the package is then delivered with the skip recorded.
  let skipped: string | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const ready = await ctx.store.read((tx) => readyPackage(tx, packageId));
    if (ready === undefined) return undefined;
    const delivered: DeliveredPackage = { caseId: ready.case_id, packageId, completes: ready.completes, items: ready.items, bytes: ready.bytes };
    let sealed: SealedStep | undefined;
    if (skipped === undefined) {
      try {
        sealed = await sealStep(
          ctx,
          ready.case_id,
          { step: completionStep(ready.completes), delivered: { packageIds: [packageId] }, note: `Evidence package ${packageId} delivered: ${ready.items} item(s), ${ready.bytes} bytes.` },
          { actor: "gateway" },
        );
      } catch (error) {
        skipped = isValiseError(error) ? error.code : "INTERNAL";
      }
    }
    let outcome: "gone" | "committed";
    try {
      outcome = await ctx.store.transaction(async (tx) => {
        const now = ctx.now();
        const current = await readyPackage(tx, packageId);
        // Once, whatever the number of instances: only the transaction that moves it from `sending` records it.
        if (current === undefined || !(await tx.evidence.finishPackage(packageId, "sending", "delivered", now.toISOString()))) return "gone";
        await appendEntry(tx, {
          kind: "evidence.package.delivered",
          actor: "gateway",
          time: now,
          caseId: current.case_id,
          envelopeId: current.envelope_id,
          envelopeDigest: current.digest,
          details: { packageId, to: current.peer, completes: current.completes, items: current.items, bytes: current.bytes },
        });
        if (sealed !== undefined && !(await sealed.commit(tx))) throw new CaseMoved(); // rolls this back; sealed again below
        if (skipped !== undefined) {
          await appendEntry(tx, { kind: "evidence.package.step-skipped", actor: "gateway", time: now, caseId: current.case_id, details: { packageId, step: completionStep(current.completes), code: skipped } });
        }
        return "committed";
      });
    } catch (error) {
      if (sealed === undefined) throw error; // the delivery itself failed to commit: the sweep at the next tick tries again
      // The case moved under the sealed step (a peer's step arrived): seal it again from the case as it
      // is now, and after the last attempt deliver without it. The step failed to apply: deliver without it.
      if (error instanceof CaseMoved) {
        if (attempt >= STEP_ATTEMPTS) skipped = "CASE_TRANSITION_INVALID";
      } else {
        ctx.logger.error("the step of a delivered evidence package failed to apply", { packageId, error: String(error) });
        skipped = isValiseError(error) ? error.code : "INTERNAL";
      }
      continue;
    }
    if (outcome === "gone") return undefined;
    crashPoint("evidence.package.delivered");
    ctx.logger.info("evidence package delivered", { ...delivered });
    if (sealed !== undefined) stepCommitted(ctx, sealed.taken);
    else ctx.logger.warn("evidence delivered, but the case did not take its step", { caseId: delivered.caseId, packageId, step: completionStep(delivered.completes), code: skipped });
    return delivered;
  }
}

/**
 * The attachments of a document all hold verified item receipts: the package
 * is `delivered`, with an `attachments.delivered` audit entry. The document
 * itself took its step when it was sent: attachments move no case.
 */
async function attachmentsDelivered(ctx: GatewayContext, packageId: string): Promise<DeliveredAttachments | undefined> {
  const done = await ctx.store.transaction(async (tx) => {
    const now = ctx.now();
    const ready = await tx.evidence.sendingPackage(packageId);
    const items = await tx.evidence.tally(packageId, "receipted");
    if (ready === undefined || items.open > 0 || !(await tx.evidence.finishPackage(packageId, "sending", "delivered", now.toISOString()))) return undefined;
    await appendEntry(tx, {
      kind: "attachments.delivered",
      actor: "gateway",
      time: now,
      caseId: ready.case_id,
      envelopeId: ready.envelope_id,
      envelopeDigest: ready.digest,
      details: { packageId, to: ready.peer, items: items.n, bytes: items.bytes },
    });
    return { caseId: ready.case_id, items: items.n, bytes: items.bytes };
  });
  if (done === undefined) return undefined;
  ctx.logger.info("attachments delivered", { caseId: done.caseId, packageId, items: done.items, bytes: done.bytes });
  return { caseId: done.caseId, packageId, attachments: true, items: done.items, bytes: done.bytes };
}

/** Thrown inside the delivery's transaction to roll it back (its savepoint) when the case moved under the sealed step. */
class CaseMoved extends Error {}
