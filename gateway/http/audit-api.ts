/**
 * The auditor's part of the local API, mounted under `/api/v1/audit` after
 * the bearer-token middleware (which sets `res.locals.principal`):
 *
 * | GET | /checkpoint[?size=] | newest (or given) signed checkpoint with cosignatures |
 * | GET | /entries?from=&count= | entries by range |
 * | GET | /proof/inclusion?index=&size= | RFC 9162 inclusion proof |
 * | GET | /proof/consistency?old=&new= | RFC 9162 consistency proof |
 * | GET | /custody/:caseId | a case's chain of custody |
 *
 * Role `auditor` only. Auditors see digests and metadata, never content.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import type { Principal } from "../auth/tokens.js";
import type { GatewayContext } from "../context.js";
import { GatewayError } from "../errors.js";
import { auditCheckpoint, auditConsistency, auditEntries, auditInclusion } from "../audit/queries.js";
import { caseCustody } from "../audit/custody.js";

type Handler = (req: Request, res: Response) => Promise<void>;

/** The auditor routes; expects `res.locals.principal` from the local API's authentication. */
export function auditRouter(ctx: GatewayContext): express.Router {
  const router = express.Router();
  const auditor =
    (handler: Handler) =>
    (req: Request, res: Response, next: NextFunction): void => {
      const principal = res.locals["principal"] as Principal | undefined;
      if (principal?.role !== "auditor") {
        next(new GatewayError(principal === undefined ? "UNAUTHENTICATED" : "FORBIDDEN", "this operation needs the role auditor"));
        return;
      }
      handler(req, res).catch(next);
    };

  router.get(
    "/checkpoint",
    auditor(async (req, res) => {
      const size = optionalInteger(req, "size");
      res.json(await ctx.store.read((tx) => auditCheckpoint(tx, size)));
    }),
  );
  router.get(
    "/entries",
    auditor(async (req, res) => {
      res.json(await ctx.store.read((tx) => auditEntries(tx, optionalInteger(req, "from") ?? 0, optionalInteger(req, "count") ?? 1000)));
    }),
  );
  router.get(
    "/proof/inclusion",
    auditor(async (req, res) => {
      const index = optionalInteger(req, "index");
      if (index === undefined) throw new GatewayError("USAGE", "index is required");
      res.json(await ctx.store.read((tx) => auditInclusion(tx, index, optionalInteger(req, "size"))));
    }),
  );
  router.get(
    "/proof/consistency",
    auditor(async (req, res) => {
      const oldSize = optionalInteger(req, "old");
      const newSize = optionalInteger(req, "new");
      if (oldSize === undefined || newSize === undefined) throw new GatewayError("USAGE", "old and new are required");
      res.json(await ctx.store.read((tx) => auditConsistency(tx, oldSize, newSize)));
    }),
  );
  router.get(
    "/custody/:caseId",
    auditor(async (req, res) => {
      res.json(await ctx.store.read((tx) => caseCustody(tx, String(req.params["caseId"]))));
    }),
  );
  return router;
}

// Query strings are hostile: only plain decimal integers pass.
function optionalInteger(req: Request, name: string): number | undefined {
  const raw = (req.query as Record<string, unknown>)[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^(0|[1-9][0-9]{0,15})$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new GatewayError("USAGE", `${name} must be a non-negative integer`, { details: { [name]: String(raw).slice(0, 32) } });
  }
  return Number(raw);
}
