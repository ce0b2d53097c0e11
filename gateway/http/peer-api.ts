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
import { isEnvelopeId } from "../envelope/routing-header.js";
import { peerOfSocket, type PeerSocketCache } from "../peers/tls.js";
import type { Peer } from "../peers/directory.js";
import { asValiseError, errorHandler } from "./errors.js";
import { isValiseError } from "../../pki/errors.js";
import { currentTrustBundle } from "../peers/refresh.js";
import { peerLogRoutes } from "./peer-log.js";
import { evidencePeerRoutes } from "./evidence-peer-api.js";
import { requestLog } from "./request-log.js";
import { requirementsPeerRoutes } from "./requirements-peer-api.js";
import { epochPeerRoutes } from "./epoch-peer-api.js";
import { reconcilePeerRoutes } from "./reconcile-peer-api.js";

/** Builds the express app of the peer API. */
export function peerApi(ctx: GatewayContext): express.Express {
  const app = express();
  app.disable("x-powered-by");
  const peersBySocket: PeerSocketCache = new WeakMap();
  app.use(requestLog(ctx.logger, "peer"));

  app.use((req, res, next) => {
    try {
      res.locals["peer"] = peerOfSocket(req.socket as TLSSocket, ctx.peers, ctx.now(), peersBySocket);
      next();
    } catch (error) {
      ctx.metrics.tlsHandshakeRefusals.inc({ reason: "identity" });
      // The certificate no longer validates (revoked since the handshake): no further request on this connection.
      res.set("Connection", "close");
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

  // Every refused envelope, whatever refused it (TLS identity, size, any check of
  // openEnvelope, the case): one warn line naming the peer, the code and the envelope id.
  app.use("/peer/v1/envelopes", (error: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => {
    const mapped = asValiseError(error);
    ctx.logger.warn("envelope refused", {
      peer: (res.locals["peer"] as Peer | undefined)?.authority ?? null,
      code: isValiseError(mapped) ? mapped.code : "INTERNAL",
      envelopeId: claimedEnvelopeId(req.body),
      reason: mapped instanceof Error ? mapped.message : String(mapped),
    });
    next(error);
  });

  app.use(peerLogRoutes(ctx));
  app.use(evidencePeerRoutes(ctx));
  app.use(requirementsPeerRoutes(ctx));
  app.use(epochPeerRoutes(ctx));
  app.use(reconcilePeerRoutes(ctx));
  app.use((_req, _res, next) => next(new GatewayError("NOT_FOUND", "no such endpoint")));
  app.use(errorHandler(ctx.logger, (code) => ctx.metrics.envelopesRejected.inc({ code })));
  return app;
}

/**
 * The envelope id a refused body claims, for the log line: read from the
 * routing header without any check (the body is hostile and was refused),
 * and only when it looks like an envelope id.
 */
function claimedEnvelopeId(body: unknown): string | null {
  if (!Buffer.isBuffer(body) || body.length === 0) return null;
  try {
    const outer = JSON.parse(body.toString("utf8")) as { payload?: unknown };
    if (typeof outer.payload !== "string") return null;
    const header = JSON.parse(Buffer.from(outer.payload, "base64url").toString("utf8")) as { id?: unknown };
    return isEnvelopeId(header.id) ? header.id : null;
  } catch {
    return null;
  }
}
