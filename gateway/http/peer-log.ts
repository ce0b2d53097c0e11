/**
 * The peer API's log routes (mutual TLS; `res.locals.peer` is the TLS client
 * authority, set by peer-api's middleware):
 *
 * - `GET /peer/v1/log/checkpoint` — the latest signed checkpoint note
 *   (C2SP tlog-checkpoint), with the cosignatures collected so far appended
 *   as signature lines; `text/plain; charset=utf-8`.
 * - `GET /peer/v1/log/proof/consistency?old=&new=` — the RFC 9162
 *   consistency proof between two tree sizes, `0 <= old <= new <=` the latest
 *   checkpoint's size. By default `text/plain`, one base64 hash per line
 *   (as in a tlog-witness request); with `Accept: application/json`,
 *   `{old, new, proof: [base64…]}`.
 * - `POST /peer/v1/witness/add-checkpoint` — C2SP tlog-witness
 *   add-checkpoint (submission prefix `/peer/v1/witness`) for the caller's
 *   own log: 200 with the cosignature line(s) (`text/plain`), 409 with the
 *   size last cosigned (`text/x.tlog.size`, for an old size that is not it,
 *   and for the cosigned size with another root), otherwise a coded JSON
 *   error: 400 malformed body or old size beyond the checkpoint, 403 no
 *   valid signature of the log's key (or another peer's log), 404 a log this
 *   gateway does not witness, 422 a consistency proof that does not verify.
 */
import express from "express";
import type { GatewayContext } from "../context.js";
import type { Peer } from "../peers/directory.js";
import { GatewayError } from "../errors.js";
import { consistencyProof } from "../audit/merkle.js";
import { withStoredTree } from "../audit/stored-tree.js";
import { addCheckpoint, withCosignatures } from "../audit/witness.js";
import { ADD_CHECKPOINT_PATH } from "../audit/witness-request.js";

/** Largest add-checkpoint body accepted: a Valise checkpoint with many cosignatures and a full proof fit easily. */
const MAX_WITNESS_BODY_BYTES = 64 * 1024;

/** The router of the peer log routes. */
export function peerLogRoutes(ctx: GatewayContext): express.Router {
  const router = express.Router();

  router.get("/peer/v1/log/checkpoint", async (_req, res, next) => {
    try {
      const latest = (await ctx.checkpoints.latest()) ?? (await ctx.checkpoints.sign());
      res.type("text/plain; charset=utf-8").send(await ctx.store.read((tx) => withCosignatures(tx, latest.note, latest.size)));
    } catch (error) {
      next(error);
    }
  });

  router.get("/peer/v1/log/proof/consistency", async (req, res, next) => {
    try {
      const latestSize = (await ctx.checkpoints.latest())?.size ?? 0;
      const oldSize = treeSize(req.query["old"], "old");
      const newSize = treeSize(req.query["new"], "new");
      if (oldSize > newSize || newSize > latestSize) {
        throw new GatewayError("AUDIT_INVALID_ARGUMENT", "need 0 <= old <= new <= the latest checkpoint's size", { details: { oldSize, newSize, latestSize } });
      }
      const proof = (await ctx.store.read((tx) => withStoredTree(tx, newSize, (reader) => consistencyProof(reader, oldSize, newSize)))).map((hash) => hash.toString("base64"));
      if (req.accepts(["text/plain", "application/json"]) === "application/json") {
        res.json({ old: oldSize, new: newSize, proof });
      } else {
        res.type("text/plain; charset=utf-8").send(proof.map((line) => `${line}\n`).join(""));
      }
    } catch (error) {
      next(error);
    }
  });

  router.post(
    ADD_CHECKPOINT_PATH,
    // Cut off at the limit while streaming; bytes, so the parser checks UTF-8 itself.
    express.raw({ type: () => true, limit: MAX_WITNESS_BODY_BYTES }),
    async (req, res, next) => {
      try {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const cosigned = await addCheckpoint(ctx, res.locals["peer"] as Peer, body);
        res.status(200).type("text/plain; charset=utf-8").send(cosigned.cosignature);
      } catch (error) {
        if (error instanceof GatewayError && error.code === "WITNESS_CONFLICT") {
          // The spec's 409: the size this witness last cosigned, for the log to retry from.
          // (res.setHeader: express's res.set would append a charset the spec does not name.)
          res.status(409).setHeader("content-type", "text/x.tlog.size");
          res.end(`${Number(error.details?.["knownSize"])}\n`);
          return;
        }
        next(error);
      }
    },
  );

  return router;
}

/** A tree size query parameter: a decimal without leading zeros (hostile input). */
function treeSize(value: unknown, name: string): number {
  const size = typeof value === "string" && /^(0|[1-9][0-9]{0,15})$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(size)) throw new GatewayError("AUDIT_INVALID_ARGUMENT", `${name} must be a tree size`, { details: { parameter: name } });
  return size;
}
