/**
 * The evidence routes of the peer API (mutual TLS; the peer is the one the
 * client certificate was validated for):
 *
 * - `HEAD /peer/v1/evidence/:packageId/:itemId` → 200 with `Upload-Offset`
 *   (sealed bytes durably stored and verified: where to resume),
 *   `Upload-Length` (the whole sealed stream) and `Valise-Item-State`
 *   (`receiving` or `received`).
 * - `PUT /peer/v1/evidence/:packageId/:itemId` with
 *   `Content-Range: bytes FIRST-LAST/TOTAL` (offsets in the sealed stream;
 *   FIRST must be the Upload-Offset) and the sealed bytes as the body →
 *   200 `{offset, length, state}` when more is to come (the receiver keeps
 *   whole chunks only: a partial chunk at the end of a request is dropped and
 *   Upload-Offset says so), 201 `{…, receipt}` when the item is complete and
 *   verified. `Content-Range: bytes *\/TOTAL` with an empty body asks for the
 *   receipt of a received item (200) or the offset (409 EVIDENCE_RANGE_MISMATCH).
 */
import express from "express";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { Peer } from "../peers/directory.js";
import { EvidenceReceiver, type UploadStatus } from "../evidence/receive.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function ids(params: Record<string, string | undefined>): { packageId: string; itemId: string } {
  const packageId = params["packageId"] ?? "";
  const itemId = params["itemId"] ?? "";
  if (!UUID.test(packageId) || !UUID.test(itemId)) throw new GatewayError("EVIDENCE_ITEM_UNKNOWN", "no such evidence item", { details: { packageId: packageId.slice(0, 40), itemId: itemId.slice(0, 40) } });
  return { packageId, itemId };
}

function statusHeaders(res: express.Response, status: UploadStatus): void {
  res.set({ "Upload-Offset": String(status.offset), "Upload-Length": String(status.length), "Valise-Item-State": status.state, "Cache-Control": "no-store" });
}

/** The evidence routes; mount on the peer API app. */
export function evidencePeerRoutes(ctx: GatewayContext): express.Router {
  const router = express.Router();
  const receiver = new EvidenceReceiver(ctx);
  const path = "/peer/v1/evidence/:packageId/:itemId";

  router.head(path, async (req, res, next) => {
    try {
      const { packageId, itemId } = ids(req.params);
      statusHeaders(res, await receiver.status(res.locals["peer"] as Peer, packageId, itemId));
      res.status(200).end();
    } catch (error) {
      next(error);
    }
  });

  router.put(path, async (req, res, next) => {
    try {
      const { packageId, itemId } = ids(req.params);
      const outcome = await receiver.receive(res.locals["peer"] as Peer, packageId, itemId, req.get("content-range"), req.get("content-length"), req);
      statusHeaders(res, outcome);
      res.status(outcome.status).json({ packageId, itemId, offset: outcome.offset, length: outcome.length, state: outcome.state, ...(outcome.receipt === undefined ? {} : { receipt: outcome.receipt }) });
    } catch (error) {
      if (error instanceof GatewayError && error.code === "EVIDENCE_RANGE_MISMATCH") res.set("Upload-Offset", String(error.details?.["offset"]));
      // Refused before the body was all read: answer, then close, rather than read the rest of a large body.
      if (!req.complete) res.set("Connection", "close");
      next(error);
    }
  });
  return router;
}
