/**
 * The peer API's log-epoch routes (mutual TLS; `res.locals.peer` is the TLS
 * client authority, set by peer-api's middleware):
 *
 * - `POST /peer/v1/log/epochs` — the caller opens a new epoch of its own log
 *   with a statement, the new epoch's checkpoint and proofs (JSON, see
 *   gateway/audit/epoch-statement.ts) → 200 `{epoch, origin, cosignature,
 *   alarmsResolved, alreadyAccepted}`; 422 `AUDIT_EPOCH_INVALID` when it does
 *   not verify or contradicts what this witness cosigned.
 * - `GET /peer/v1/witness/state` — what this gateway, as the caller's
 *   witness, last cosigned of each epoch of the caller's log, the epoch it
 *   follows, and its alarms about that log (resolved or not).
 */
import express from "express";
import type { GatewayContext } from "../context.js";
import type { Peer } from "../peers/directory.js";
import { acceptEpoch, witnessState } from "../audit/epoch-witness.js";
import { MAX_EPOCH_SUBMISSION_BYTES } from "../audit/epoch-statement.js";

/** The router of the epoch routes. */
export function epochPeerRoutes(ctx: GatewayContext): express.Router {
  const router = express.Router();

  router.post(
    "/peer/v1/log/epochs",
    // Cut off at the limit while streaming; bytes, so the parser checks UTF-8 itself.
    express.raw({ type: () => true, limit: MAX_EPOCH_SUBMISSION_BYTES }),
    async (req, res, next) => {
      try {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        res.status(200).json(await acceptEpoch(ctx, res.locals["peer"] as Peer, body));
      } catch (error) {
        next(error);
      }
    },
  );

  router.get("/peer/v1/witness/state", async (_req, res, next) => {
    try {
      res.json(await witnessState(ctx, res.locals["peer"] as Peer));
    } catch (error) {
      next(error);
    }
  });

  return router;
}
