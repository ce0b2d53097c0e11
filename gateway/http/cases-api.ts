/**
 * Local API routes of the case lifecycle and the reports, mounted by
 * local-api.ts under /api/v1 behind its token check:
 *
 * | method | path | role | what |
 * | --- | --- | --- | --- |
 * | POST | /cases/:caseId/status | caseworker | a lifecycle step → 201 {caseId, envelopeId, envelopeDigest, step, from, status} |
 * | GET | /cases/overdue | caseworker | deadlines passed, emergency first |
 * | GET | /cases/due-soon?days= | caseworker | deadlines within `days` (default clocks.dueSoonDays) |
 * | GET | /reports/kpi?from=&to= | auditor, operator | KPIs, overall and per peer |
 * | GET | /reports/transparency?from=&to=&format=json\|csv\|html&suppressBelow= | auditor, operator | the transparency report |
 */
import express, { type NextFunction, type Request, type Response } from "express";
import type { Principal, Role } from "../auth/tokens.js";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import { takeStep } from "../cases/transition.js";
import { dueSoonDeadlines, overdueDeadlines } from "../cases/deadlines.js";
import { clockSettingsFor } from "../cases/clocks.js";
import { loadReportCases } from "../reports/load.js";
import { computeKpis } from "../reports/kpi.js";
import { checkPeriod, dayStart, DEFAULT_SUPPRESS_BELOW, transparencyReport } from "../reports/transparency.js";
import { transparencyCsv } from "../reports/transparency-csv.js";
import { transparencyHtml } from "../reports/transparency-html.js";
import type { IdempotentHandler } from "./idempotency.js";

type Handler = (req: Request, res: Response) => Promise<void> | void;

/** local-api.ts's Idempotency-Key handling around a handler (gateway/http/idempotency.ts). */
export type Idempotent = (handler: IdempotentHandler) => Handler;

/** local-api.ts's role check around a handler. */
export type Allow = (roles: readonly Role[], handler: Handler) => (req: Request, res: Response, next: NextFunction) => Promise<void>;

function query(req: Request): Record<string, string | undefined> {
  return req.query as Record<string, string | undefined>;
}

function nonNegativeNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number < 0) throw new GatewayError("USAGE", `${name} must be a non-negative number`);
  return number;
}

function optionalDay(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const start = dayStart(value);
  if (Number.isNaN(start)) throw new GatewayError("USAGE", `${name} must be a date written YYYY-MM-DD`);
  return new Date(start);
}

/** The routes (see the module comment). */
export function caseLifecycleApi(ctx: GatewayContext, allow: Allow, idempotent: Idempotent): express.Router {
  const router = express.Router();

  router.post(
    "/cases/:caseId/status",
    allow(
      ["caseworker"],
      // A replayed step is also refused by the lifecycle; the key gives the retry the first answer instead.
      idempotent(async (req, res) => ({ status: 201, body: await takeStep(ctx, String(req.params["caseId"]), req.body, res.locals["principal"] as Principal) })),
    ),
  );
  router.get(
    "/cases/overdue",
    allow(["caseworker"], async (_req, res) => {
      const now = ctx.now();
      res.json({ asOf: now.toISOString(), deadlines: await ctx.store.read((tx) => overdueDeadlines(tx, ctx.config, now)) });
    }),
  );
  router.get(
    "/cases/due-soon",
    allow(["caseworker"], async (req, res) => {
      const now = ctx.now();
      const days = nonNegativeNumber(query(req)["days"], "days");
      res.json({ asOf: now.toISOString(), deadlines: await ctx.store.read((tx) => dueSoonDeadlines(tx, ctx.config, now, days)) });
    }),
  );
  router.get(
    "/reports/kpi",
    allow(["auditor", "operator"], async (req, res) => {
      const from = optionalDay(query(req)["from"], "from");
      const to = optionalDay(query(req)["to"], "to");
      res.json(
        computeKpis(await ctx.store.read((tx) => loadReportCases(tx)), {
          asOf: ctx.now(),
          clocks: (peer) => clockSettingsFor(ctx.config.clocks, peer),
          ...(from === undefined ? {} : { from }),
          // `to` names the last day counted.
          ...(to === undefined ? {} : { to: new Date(to.getTime() + 24 * 3600 * 1000) }),
        }),
      );
    }),
  );
  router.get(
    "/reports/transparency",
    allow(["auditor", "operator"], async (req, res) => {
      const q = query(req);
      const period = checkPeriod(q["from"], q["to"]);
      const format = q["format"] ?? "json";
      if (format !== "json" && format !== "csv" && format !== "html") throw new GatewayError("USAGE", "format must be json, csv or html");
      const report = transparencyReport(await ctx.store.read((tx) => loadReportCases(tx)), {
        authority: ctx.authority,
        ...period,
        asOf: ctx.now(),
        suppressBelow: nonNegativeNumber(q["suppressBelow"], "suppressBelow") ?? DEFAULT_SUPPRESS_BELOW,
      });
      if (format === "json") res.json(report);
      else if (format === "csv") res.type("text/csv; charset=utf-8").send(transparencyCsv(report));
      else res.type("text/html; charset=utf-8").send(transparencyHtml(report));
    }),
  );
  return router;
}
