/**
 * The evidence routes of the local API (role `caseworker`):
 *
 * - `POST /api/v1/cases/:caseId/evidence` — send a package: JSON
 *   `{completes, note?, chunkSize?, items: [{path, name?, mediaType?,
 *   description, source, acquiredAt, legalInstrument}]}` where `path` is a
 *   file on the gateway's host (HOME/outgoing or a folder of
 *   `evidence.sendFrom`) → 201 `{caseId, packageId, envelopeId, envelopeDigest, items}`.
 * - `GET /api/v1/cases/:caseId/evidence` — the case's packages and items,
 *   with what the manifests say, states, progress and receipts (the read is
 *   audited); `?view=progress`: states and bytes only, nothing of the
 *   manifests, not audited (for polling while an upload runs). Paged:
 *   `limit` packages (default 100) and `next`, the cursor of the next page.
 * - `GET /api/v1/cases/:caseId/evidence/:itemId` — the plaintext of a
 *   received item, streamed and verified as it is decrypted. Headers:
 *   `Content-Length` (the size), `Repr-Digest: sha-256=:…:` (RFC 9530, the
 *   manifest's digest), `Content-Disposition` (the manifest's name, as
 *   `filename*` and an ASCII `filename` fallback: content-disposition.ts). If a
 *   stored chunk fails verification before anything was sent, the answer is
 *   that error (e.g. 422 EVIDENCE_CHUNK_TAG_INVALID); after, the connection
 *   is cut: the body is then shorter than Content-Length, never complete and wrong.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { Principal } from "../auth/tokens.js";
import { sendPackage } from "../evidence/send.js";
import { evidenceProgress, listEvidence } from "../evidence/query.js";
import { readItem } from "../evidence/download.js";
import { attachmentDisposition } from "./content-disposition.js";
import type { Cursors } from "./cursor.js";
import { parseListQuery } from "./list-query.js";

type Handler = (req: Request, res: Response, principal: Principal) => Promise<void> | void;

function caseworker(handler: Handler) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const principal = res.locals["principal"] as Principal;
    if (principal.role !== "caseworker") {
      next(new GatewayError("FORBIDDEN", "this operation needs the role caseworker"));
      return;
    }
    try {
      await handler(req, res, principal);
    } catch (error) {
      next(error);
    }
  };
}

/** Resolves when `res` can take more, or is closed. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** The evidence routes; mount on the authenticated `/api/v1` router. */
export function evidenceApiRoutes(ctx: GatewayContext, cursors: Cursors): express.Router {
  const router = express.Router();

  router.post(
    "/cases/:caseId/evidence",
    caseworker(async (req, res, principal) => {
      res.status(201).json(await sendPackage(ctx, String(req.params["caseId"]), req.body, principal));
    }),
  );

  router.get(
    "/cases/:caseId/evidence",
    caseworker(async (req, res, principal) => {
      const caseId = String(req.params["caseId"]);
      const view = req.query["view"];
      if (view !== undefined && view !== "progress") throw new GatewayError("USAGE", "view must be progress, or left out for the full listing", { details: { view: String(view).slice(0, 32) } });
      const query = parseListQuery(req.query as Record<string, unknown>, {}, ["view"]);
      // A case's packages are few and only ever added, oldest first: a position is a stable place.
      const list = `evidence:${caseId}:${view === "progress" ? "progress" : "full"}`;
      let from = 0;
      if (query.cursor !== undefined) {
        const [index] = (await cursors.decode(list, {}, query.cursor)).position;
        if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0) throw new GatewayError("CURSOR_INVALID", "the cursor is not one of this evidence list");
        from = index;
      }
      const listing = view === "progress" ? await evidenceProgress(ctx, caseId) : await listEvidence(ctx, caseId, { actor: `token:${principal.name}`, details: { role: principal.role, tokenId: principal.tokenId } });
      const more = from + query.limit < listing.packages.length;
      res.json({ ...listing, packages: listing.packages.slice(from, from + query.limit), next: more ? await cursors.encode({ list, filters: {}, position: [from + query.limit] }) : null });
    }),
  );

  router.get("/cases/:caseId/evidence/:itemId", caseworker((req, res, principal) => sendItem(ctx, req, res, principal)));
  return router;
}

/**
 * Streams the plaintext of a received item (evidence or an attachment) of
 * the request's case, the read audited first (see the module comment for
 * the headers and what happens when a stored chunk fails verification).
 */
export async function sendItem(ctx: GatewayContext, req: Request, res: Response, principal: Principal): Promise<void> {
  const reading = await readItem(ctx, String(req.params["caseId"]), String(req.params["itemId"]), {
    actor: `token:${principal.name}`,
    details: { role: principal.role, tokenId: principal.tokenId },
  });
  const { item } = reading;
  res.status(200).set({
    "Content-Type": "application/octet-stream",
    "Content-Length": String(item.size),
    "Content-Disposition": attachmentDisposition(item.name),
    "Repr-Digest": `sha-256=:${Buffer.from(item.sha256, "hex").toString("base64")}:`,
    "Valise-Item-Media-Type": item.media_type,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
  });
  try {
    for await (const plaintext of reading.plaintext) {
      if (res.destroyed) break; // the client went away: stop reading (the generator closes the file)
      if (!res.write(plaintext)) await drained(res);
    }
    res.end();
  } catch (error) {
    // Nothing sent yet: a coded error. Headers out: ending the connection short is the only honest
    // answer left — what was sent is flushed, then the body stops before Content-Length.
    if (!res.headersSent) {
      for (const header of ["Content-Length", "Content-Disposition", "Repr-Digest", "Valise-Item-Media-Type"]) res.removeHeader(header);
      throw error;
    }
    res.socket?.end();
  }
}
