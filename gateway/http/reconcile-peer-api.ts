/**
 * The peer API's reconciliation routes (mutual TLS; `res.locals.peer` is the
 * TLS client authority, and only what was exchanged with it is served):
 *
 * - `GET /peer/v1/reconcile/inventory` — the cases, envelopes (metadata,
 *   digests, receipts) and lifecycle steps this gateway holds about its
 *   exchanges with the caller (gateway/reconcile/inventory.ts).
 * - `GET /peer/v1/reconcile/envelopes/:envelopeId` — one such envelope's
 *   sealed bytes as they travelled and its receipt; for an envelope the
 *   caller sent, also its inner JWS (decrypted here, still signed by the
 *   caller), so a caller that lost its own copy recovers its document
 *   (gateway/reconcile/inner-document.ts). Each one served is an audited
 *   read (`access.read`, what `reconcile-envelope`).
 */
import express from "express";
import type { GatewayContext } from "../context.js";
import type { Peer } from "../peers/directory.js";
import { GatewayError } from "../errors.js";
import { appendEntry } from "../audit/append.js";
import { exchangeInventory } from "../reconcile/inventory.js";
import { innerJwsOf } from "../reconcile/inner-document.js";
import { isEnvelopeId } from "../envelope/routing-header.js";

/** The router of the reconciliation routes. */
export function reconcilePeerRoutes(ctx: GatewayContext): express.Router {
  const router = express.Router();

  router.get("/peer/v1/reconcile/inventory", async (_req, res, next) => {
    try {
      const peer = res.locals["peer"] as Peer;
      res.json(await ctx.store.read((tx) => exchangeInventory(tx, ctx.authority, peer.authority)));
    } catch (error) {
      next(error);
    }
  });

  router.get("/peer/v1/reconcile/envelopes/:envelopeId", async (req, res, next) => {
    try {
      const peer = res.locals["peer"] as Peer;
      const envelopeId = req.params["envelopeId"] ?? "";
      if (!isEnvelopeId(envelopeId)) throw new GatewayError("NOT_FOUND", "no such envelope");
      const row = await ctx.store.read((tx) => tx.envelopes.withBody(envelopeId));
      // Only what was exchanged with the caller; anything else is as absent as a missing one.
      if (row === undefined || (row.from_authority !== peer.authority && row.to_authority !== peer.authority)) throw new GatewayError("NOT_FOUND", "no such envelope exchanged with you");
      const sentByCaller = row.direction === "inbound" && row.from_authority === peer.authority;
      const innerJws = sentByCaller ? await innerJwsOf(row.wire, ctx.identity.decryptionKeys) : null;
      await ctx.store.transaction((tx) =>
        appendEntry(tx, {
          kind: "access.read",
          actor: `peer:${peer.authority}`,
          time: ctx.now(),
          caseId: row.case_id,
          envelopeId,
          envelopeDigest: row.digest,
          details: { what: "reconcile-envelope", inner: innerJws !== null },
        }),
      );
      res.json({ envelopeId, caseId: row.case_id, direction: row.direction, storedAt: row.stored_at, wire: row.wire, receipt: row.receipt, innerJws });
    } catch (error) {
      next(error);
    }
  });

  return router;
}
