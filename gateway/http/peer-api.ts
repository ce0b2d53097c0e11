/**
 * The peer API, served over mutual TLS only. Every request is bound to the
 * peer authority its client certificate was validated for; an envelope must
 * come `from` that authority.
 */
import express from "express";
import type { TLSSocket } from "node:tls";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import { receiveEnvelope } from "../exchange/receive.js";
import { DEFAULT_ENVELOPE_LIMITS } from "../envelope/limits.js";
import { peerOfSocket } from "../peers/tls.js";
import type { Peer } from "../peers/directory.js";
import { errorHandler } from "./errors.js";
import { currentTrustBundle } from "../peers/refresh.js";
import { peerLogRoutes } from "./peer-log.js";
import { evidencePeerRoutes } from "./evidence-peer-api.js";
import { epochPeerRoutes } from "./epoch-peer-api.js";
import { reconcilePeerRoutes } from "./reconcile-peer-api.js";

/** Builds the express app of the peer API. */
export function peerApi(ctx: GatewayContext): express.Express {
  const app = express();
  app.disable("x-powered-by");
  const peersBySocket = new WeakMap<TLSSocket, Peer>();

  app.use((req, res, next) => {
    try {
      res.locals["peer"] = peerOfSocket(req.socket as TLSSocket, ctx.peers, ctx.now(), peersBySocket);
      next();
    } catch (error) {
      ctx.metrics.tlsHandshakeRefusals.inc({ reason: "identity" });
      next(error);
    }
  });

  app.get("/peer/v1/hello", (_req, res) => {
    res.json({ authority: ctx.authority, time: ctx.now().toISOString() });
  });

  app.get("/peer/v1/trust-bundle", async (_req, res, next) => {
    try {
      res.json(await currentTrustBundle(ctx));
    } catch (error) {
      next(error);
    }
  });

  app.post(
    "/peer/v1/envelopes",
    // The limit is checked while streaming: a huge body is cut off at the limit, not buffered.
    express.raw({ type: () => true, limit: DEFAULT_ENVELOPE_LIMITS.maxEnvelopeBytes }),
    async (req, res, next) => {
      try {
        if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw new GatewayError("ENVELOPE_MALFORMED", "the request has no body");
        const delivery = await receiveEnvelope(ctx, req.body, res.locals["peer"] as Peer);
        res.status(delivery.status).json({ envelopeId: delivery.envelopeId, receipt: delivery.receipt });
      } catch (error) {
        next(error);
      }
    },
  );

  app.use(peerLogRoutes(ctx));
  app.use(evidencePeerRoutes(ctx));
  app.use(epochPeerRoutes(ctx));
  app.use(reconcilePeerRoutes(ctx));
  app.use((_req, _res, next) => next(new GatewayError("NOT_FOUND", "no such endpoint")));
  app.use(errorHandler(ctx.logger, (code) => ctx.metrics.envelopesRejected.inc({ code })));
  return app;
}
