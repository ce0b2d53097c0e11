/**
 * The requirements route of the peer API (mutual TLS): `GET
 * /peer/v1/requirements` → 200 the signed profile in force
 * (gateway/requirements/signed-profile.ts), or 404 `REQUIREMENTS_NOT_FOUND`
 * when this authority publishes none. Peers fetch it beside the trust bundle.
 */
import express from "express";
import type { GatewayContext } from "../context.js";
import { servedProfile } from "../requirements/publish.js";
import { REQUIREMENTS_PEER_PATH } from "../requirements/fetch.js";

/** The route (see the module comment). */
export function requirementsPeerRoutes(ctx: GatewayContext): express.Router {
  const router = express.Router();
  router.get(REQUIREMENTS_PEER_PATH, async (_req, res, next) => {
    try {
      res.json(await servedProfile(ctx.paths, ctx.validator, ctx.identity.signer));
    } catch (error) {
      next(error);
    }
  });
  return router;
}
