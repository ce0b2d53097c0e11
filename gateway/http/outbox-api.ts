/**
 * Local API routes of outbox administration, mounted by local-api.ts under
 * /api/v1 behind its token check (role `operator`):
 *
 * | method | path | what |
 * | --- | --- | --- |
 * | GET | /outbox?state=&peer=&limit=&cursor= | envelopes waiting or failed (default), or of one state, newest first, a page at a time (`next`) |
 * | GET | /outbox/:envelopeId | one envelope's delivery |
 * | POST | /outbox/:envelopeId/retry | due now, give-up clock restarted; body `{reason?}`; audited |
 * | POST | /outbox/:envelopeId/cancel | not delivered any more; body `{reason?}`; audited |
 */
import express, { type Request, type Response } from "express";
import type { Principal } from "../auth/tokens.js";
import type { GatewayContext } from "../context.js";
import { GatewayError } from "../errors.js";
import { cancelDelivery, listOutboxPage, retryDelivery, showOutbox } from "../delivery/outbox-admin.js";
import type { Allow } from "./cases-api.js";
import type { Cursors } from "./cursor.js";
import { parseListQuery, type FilterRule } from "./list-query.js";

/** A filter listOutboxPage checks itself (its USAGE sentences are the CLI's too). */
const anyValue: FilterRule = () => ({ ok: true });

/** The optional `reason` of a retry or cancel body; `REQUEST_MALFORMED` for anything else. */
function reasonOf(req: Request): string | undefined {
  const body: unknown = req.body;
  if (body === undefined || (typeof body === "object" && body !== null && Object.keys(body).length === 0)) return undefined;
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new GatewayError("REQUEST_MALFORMED", "the body is a JSON object: {\"reason\": \"…\"} or {}");
  const { reason, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new GatewayError("REQUEST_MALFORMED", `unknown field(s) ${Object.keys(rest).join(", ")}: the body is {"reason": "…"}`);
  if (reason !== undefined && typeof reason !== "string") throw new GatewayError("REQUEST_MALFORMED", "reason is a string");
  return reason;
}

/** The outbox routes. */
export function outboxApiRoutes(ctx: GatewayContext, allow: Allow, cursors: Cursors): express.Router {
  const router = express.Router();
  const principalOf = (res: Response): Principal => res.locals["principal"] as Principal;

  router.get(
    "/outbox",
    allow(["operator"], async (req, res) => {
      // Paged as every list of the API (limit 1–500, cursor); state and peer are checked by listOutboxPage, as for the CLI.
      const { filters, limit, cursor } = parseListQuery(req.query as Record<string, unknown>, { state: anyValue, peer: anyValue });
      // A cursor belongs to the state and peer it was issued for (CURSOR_LIST_MISMATCH otherwise).
      let after: [string, string] | undefined;
      if (cursor !== undefined) {
        const [createdAt, envelopeId] = (await cursors.decode("outbox", filters, cursor)).position;
        if (typeof createdAt !== "string" || typeof envelopeId !== "string") throw new GatewayError("CURSOR_INVALID", "the cursor is not one of the outbox list");
        after = [createdAt, envelopeId];
      }
      const page = await ctx.store.read((tx) => listOutboxPage(tx, { state: filters["state"], peer: filters["peer"], limit, after }, ctx.now()));
      const last = page.entries.at(-1);
      const next = page.more && last !== undefined ? await cursors.encode({ list: "outbox", filters, position: [last.createdAt, last.envelopeId] }) : null;
      res.json({ outbox: page.entries, next });
    }),
  );
  router.get(
    "/outbox/:envelopeId",
    allow(["operator"], async (req, res) => {
      res.json(await ctx.store.read((tx) => showOutbox(tx, String(req.params["envelopeId"]), ctx.now())));
    }),
  );
  for (const verb of ["retry", "cancel"] as const) {
    router.post(
      `/outbox/:envelopeId/${verb}`,
      allow(["operator"], async (req, res) => {
        const action = { envelopeId: String(req.params["envelopeId"]), actor: `token:${principalOf(res).name}`, now: ctx.now(), reason: reasonOf(req) };
        const entry = await ctx.store.transaction((tx) => (verb === "retry" ? retryDelivery(tx, action) : cancelDelivery(tx, action)));
        ctx.logger.info(verb === "retry" ? "delivery retried by an operator" : "delivery cancelled by an operator", { envelopeId: entry.envelopeId, to: entry.peer, tokenId: principalOf(res).tokenId });
        if (verb === "retry") ctx.wakeDelivery();
        res.json(entry);
      }),
    );
  }
  return router;
}
