/**
 * Uploads and attachments on the local API (role `caseworker`):
 *
 * | method | path | what |
 * | --- | --- | --- |
 * | POST | /uploads | open an upload `{name, mediaType, size, sha256?}` → 201 the upload (`uploadId`) |
 * | PUT | /uploads/:uploadId | bytes with `Content-Range: bytes FIRST-LAST/SIZE` → 200 the upload (`received`, `state`) |
 * | HEAD | /uploads/:uploadId | `Upload-Offset`, `Upload-Length`, `Valise-Upload-State`: where to resume |
 * | GET | /uploads?limit=&cursor= | the caller's uploads (its token's), newest first, with `expiresAt` |
 * | GET | /uploads/:uploadId | the upload |
 * | GET | /cases/:caseId/attachments?limit=&cursor= | the case's attachments, both ways (the read is audited) |
 * | GET | /cases/:caseId/attachments/:itemId | a received attachment's bytes, verified as decrypted (the read is audited) |
 *
 * See gateway/attachments/ for the rules; a document names uploads in its
 * `attachments` as `{uploadId, role, description}`.
 */
import express, { type Request, type Response } from "express";
import type { GatewayContext } from "../context.js";
import type { Principal } from "../auth/tokens.js";
import { GatewayError } from "../errors.js";
import { createUpload, findUpload, receiveUploadPart, uploadView, type UploadView } from "../attachments/upload.js";
import { listAttachments } from "../attachments/query.js";
import type { Allow } from "./cases-api.js";
import type { Cursors } from "./cursor.js";
import { parseListQuery } from "./list-query.js";
import { sendItem } from "./evidence-api.js";

function principalOf(res: Response): Principal {
  return res.locals["principal"] as Principal;
}

function uploadHeaders(res: Response, upload: UploadView): void {
  res.set({ "Upload-Offset": String(upload.received), "Upload-Length": String(upload.size), "Valise-Upload-State": upload.state, "Cache-Control": "no-store" });
}

/** The routes; mount on the authenticated `/api/v1` router, before any body parser runs on PUT /uploads (it reads the raw body). */
export function documentsApi(ctx: GatewayContext, allow: Allow, cursors: Cursors): express.Router {
  const router = express.Router();

  router.post(
    "/uploads",
    allow(["caseworker"], async (req, res) => {
      const upload = await createUpload(ctx, principalOf(res), req.body);
      uploadHeaders(res, upload);
      res.status(201).json(upload);
    }),
  );
  router.head(
    "/uploads/:uploadId",
    allow(["caseworker"], async (req, res) => {
      uploadHeaders(res, uploadView(ctx, await findUpload(ctx, principalOf(res), String(req.params["uploadId"]))));
      res.status(200).end();
    }),
  );
  router.get(
    "/uploads/:uploadId",
    allow(["caseworker"], async (req, res) => {
      const upload = uploadView(ctx, await findUpload(ctx, principalOf(res), String(req.params["uploadId"])));
      uploadHeaders(res, upload);
      res.json(upload);
    }),
  );
  router.put(
    "/uploads/:uploadId",
    allow(["caseworker"], async (req: Request, res: Response) => {
      try {
        const upload = await receiveUploadPart(ctx, principalOf(res), String(req.params["uploadId"]), req.get("content-range"), req.get("content-length"), req);
        uploadHeaders(res, upload);
        res.status(200).json(upload);
      } catch (error) {
        if (error instanceof GatewayError && error.code === "EVIDENCE_RANGE_MISMATCH") res.set("Upload-Offset", String(error.details?.["offset"]));
        // Refused before the body was read: answer, then close, rather than read a large body for nothing.
        if (!req.complete) res.set("Connection", "close");
        throw error;
      }
    }),
  );

  router.get(
    "/uploads",
    allow(["caseworker"], async (req, res) => {
      const query = parseListQuery(req.query as Record<string, unknown>, {});
      let after: [string, string] | null = null;
      if (query.cursor !== undefined) {
        const [createdAt, uploadId] = (await cursors.decode("uploads", {}, query.cursor)).position;
        if (typeof createdAt !== "string" || typeof uploadId !== "string") throw new GatewayError("CURSOR_INVALID", "the cursor is not one of the upload list");
        after = [createdAt, uploadId];
      }
      // Only the caller's token's uploads: a cursor can position, never widen, the list.
      const rows = await ctx.store.read((tx) => tx.uploads.ofToken(principalOf(res).tokenId, after, query.limit + 1));
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const next = rows.length > query.limit && last !== undefined ? await cursors.encode({ list: "uploads", filters: {}, position: [last.created_at, last.upload_id] }) : null;
      res.json({ uploads: page.map((row) => uploadView(ctx, row)), next });
    }),
  );
  router.get(
    "/cases/:caseId/attachments",
    allow(["caseworker"], async (req, res) => {
      const query = parseListQuery(req.query as Record<string, unknown>, {});
      const caseId = String(req.params["caseId"]);
      let from = 0;
      if (query.cursor !== undefined) {
        const [index] = (await cursors.decode(`attachments:${caseId}`, {}, query.cursor)).position;
        if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0) throw new GatewayError("CURSOR_INVALID", "the cursor is not one of this attachment list");
        from = index;
      }
      const principal = principalOf(res);
      // A case's attachments are few and only ever added (documents oldest first): a position is a stable place.
      const all = await listAttachments(ctx, caseId, { actor: `token:${principal.name}`, details: { role: principal.role, tokenId: principal.tokenId } });
      const page = all.slice(from, from + query.limit);
      const next = from + query.limit < all.length ? await cursors.encode({ list: `attachments:${caseId}`, filters: {}, position: [from + query.limit] }) : null;
      res.json({ caseId, attachments: page, next });
    }),
  );
  router.get(
    "/cases/:caseId/attachments/:itemId",
    allow(["caseworker"], (req, res) => sendItem(ctx, req, res, principalOf(res))),
  );
  return router;
}
