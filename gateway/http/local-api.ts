/**
 * The local API: JSON over HTTP on a loopback or internal address, for the
 * authority's own systems. Bearer tokens with roles; handlers parse, call a
 * domain function, and map errors.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import { authenticateToken, type Principal, type Role } from "../auth/tokens.js";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import { submitRequest } from "../exchange/submit.js";
import { getCase, readDocument } from "../cases/query.js";
import { caseSortKey, pageCases } from "../cases/case-list.js";
import { cursorsOver } from "./cursor.js";
import { eventsApi } from "./events-api.js";
import { documentsApi } from "./documents-api.js";
import { localApiOpenApi } from "./openapi/document.js";
import { booleanRule, matching, oneOf, parseListQuery, textRule, timestampRule } from "./list-query.js";
import { CASE_STATUSES } from "../cases/lifecycle.js";
import { auditRouter } from "./audit-api.js";
import { healthReport, threadPoolReason } from "../health.js";
import type { PeerClient } from "../delivery/peer-client.js";
import { errorHandler } from "./errors.js";
import { caseLifecycleApi } from "./cases-api.js";
import { evidenceApiRoutes } from "./evidence-api.js";
import type { ThreadPoolProbe } from "../thread-pool-probe.js";
import { idempotencyKeys } from "./idempotency.js";
import { outboxApiRoutes } from "./outbox-api.js";
import { requestLog } from "./request-log.js";
import { acceptedLanguages } from "../requirements/language.js";
import { requirementsApiRoutes } from "./requirements-api.js";

type Handler = (req: Request, res: Response) => Promise<void> | void;

/** Filters of GET /api/v1/cases. */
const CASE_LIST_RULES = {
  status: oneOf(CASE_STATUSES),
  direction: oneOf(["outbound", "inbound"]),
  peer: matching(/^[A-Z]{2}(-[A-Z0-9]{2,16}){1,3}$/, "an authority id, e.g. US-DOJ-OIA"),
  urgency: oneOf(["normal", "urgent", "emergency"]),
  overdue: booleanRule,
  reference: textRule(200),
  updatedSince: timestampRule,
};

/** The principal of an authenticated request. */
function principalOf(res: Response): Principal {
  return res.locals["principal"] as Principal;
}

/** Builds the express app of the local API; `threadPool` (when given) is reported by the health routes. */
export function localApi(ctx: GatewayContext, client: PeerClient, threadPool?: ThreadPoolProbe): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  app.use(requestLog(ctx.logger, "local"));

  app.get("/healthz", (_req, res) => {
    // Liveness: the event loop answers; 503 when the thread pool does not (file system work hangs).
    const pool = threadPool?.health();
    if (pool?.stalled === true) {
      res.status(503).json({ status: "degraded", authority: ctx.authority, reasons: [threadPoolReason(pool.waitingMs)] });
      return;
    }
    res.json({ status: "ok", authority: ctx.authority });
  });
  app.get("/metrics", async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  // The contract: public (it holds no secret), built once from schemas/ and the route table.
  const openApi = localApiOpenApi();
  app.get("/api/v1/openapi.json", (_req, res) => {
    res.json(openApi);
  });

  const api = express.Router();
  api.use((req, res, next) => {
    const header = req.get("authorization") ?? "";
    const match = /^Bearer (\S+)$/i.exec(header);
    const presented = match?.[1];
    (presented === undefined ? Promise.resolve(undefined) : ctx.store.read((tx) => authenticateToken(tx, presented))).then((principal) => {
      if (principal === undefined) {
        next(new GatewayError("UNAUTHENTICATED", "present a valid bearer token: Authorization: Bearer <token> (valise token create)"));
        return;
      }
      res.locals["principal"] = principal;
      next();
    }, next);
  });
  api.use(express.json({ limit: "2mb" }));

  const allow =
    (roles: readonly Role[], handler: Handler) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      if (!roles.includes(principalOf(res).role)) {
        next(new GatewayError("FORBIDDEN", `this operation needs the role ${roles.join(" or ")}`));
        return;
      }
      try {
        await handler(req, res);
      } catch (error) {
        next(error);
      }
    };

  // List cursors are signed with a key shared through the store (gateway/http/cursor.ts).
  const cursors = cursorsOver(ctx.store, ctx.now);
  api.use(eventsApi(ctx, allow, cursors));
  api.use(documentsApi(ctx, allow, cursors));

  // Retried submissions (POST /requests, a lifecycle step) with the same Idempotency-Key get the first answer.
  const idempotent = idempotencyKeys(ctx);
  // Lifecycle steps, deadline lists and reports (before /cases/:caseId, which would take /cases/overdue).
  api.use(caseLifecycleApi(ctx, allow, idempotent));
  api.post(
    "/requests",
    allow(
      ["caseworker"],
      idempotent(async (req, res, record) => {
        const submission = await submitRequest(ctx, req.body, principalOf(res), (tx, body) => record(tx, { status: 201, body }), { languages: acceptedLanguages(req.get("accept-language")) });
        return { status: 201, body: submission };
      }),
    ),
  );
  api.get(
    "/cases",
    allow(["caseworker"], async (req, res) => {
      const query = parseListQuery(req.query as Record<string, unknown>, CASE_LIST_RULES);
      const after = query.cursor === undefined ? null : caseSortKey((await cursors.decode("cases", query.filters, query.cursor)).position);
      const page = await ctx.store.read((tx) => pageCases(tx, query.filters, { limit: query.limit, after }, { config: ctx.config, now: ctx.now() }));
      res.json({ cases: page.cases, next: page.last === null ? null : await cursors.encode({ list: "cases", filters: query.filters, position: page.last }) });
    }),
  );
  api.get(
    "/cases/:caseId",
    allow(["caseworker"], async (req, res) => {
      res.json(await ctx.store.read((tx) => getCase(tx, String(req.params["caseId"]), { config: ctx.config, now: ctx.now() })));
    }),
  );
  api.get(
    "/cases/:caseId/documents/:envelopeId",
    allow(["caseworker"], async (req, res) => {
      res.json(await readDocument(ctx, String(req.params["caseId"]), String(req.params["envelopeId"]), principalOf(res)));
    }),
  );
  api.use("/audit", auditRouter(ctx));
  api.get(
    "/health",
    allow(["operator"], async (_req, res) => {
      res.json(await healthReport(ctx, client, threadPool?.health()));
    }),
  );
  api.use(evidenceApiRoutes(ctx, cursors));
  api.use(outboxApiRoutes(ctx, allow, cursors));
  api.use(requirementsApiRoutes(ctx, client, allow));
  api.use((_req, _res, next) => next(new GatewayError("NOT_FOUND", "no such endpoint")));

  app.use("/api/v1", api);
  app.use((_req, _res, next) => next(new GatewayError("NOT_FOUND", "no such endpoint")));
  app.use(errorHandler(ctx.logger));
  return app;
}
