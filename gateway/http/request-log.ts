/**
 * Every request on both APIs gets a request id and one access log line.
 *
 * The id is the caller's `X-Request-Id` when it is a plain token (at most
 * 128 letters, digits and `._:-`), else the trace id of a W3C `traceparent`,
 * else a new UUID; it is answered in `X-Request-Id` and named in the access
 * line and in any error line of the request, so an operator can follow one
 * request from a caller's log into the gateway's. The header is the
 * caller's word: anything else is ignored rather than logged, so a hostile
 * value cannot forge or break log lines.
 *
 * The access line: `{"message":"request","api","requestId","method","path",
 * "status","durationMs",…}` plus the peer (peer API) or the token's id
 * (local API) — never the token, the query string or a body.
 */
import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../log.js";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The id of a request with these headers (see above). */
export function requestIdOf(requestId: string | undefined, traceparent: string | undefined): string {
  if (requestId !== undefined && REQUEST_ID.test(requestId)) return requestId;
  const trace = traceparent === undefined ? null : TRACEPARENT.exec(traceparent.trim());
  if (trace !== null && !/^0+$/.test(trace[1]!)) return trace[1]!;
  return randomUUID();
}

/** The request id of a request this middleware saw. */
export function requestIdOfResponse(res: Response): string | undefined {
  const id = res.locals["requestId"];
  return typeof id === "string" ? id : undefined;
}

/** The middleware: first on an API's app. */
export function requestLog(logger: Logger, api: "local" | "peer"): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const started = performance.now();
    const requestId = requestIdOf(req.get("x-request-id"), req.get("traceparent"));
    res.locals["requestId"] = requestId;
    res.setHeader("X-Request-Id", requestId);
    const path = req.path; // without the query string
    let logged = false;
    const line = (): void => {
      if (logged) return;
      logged = true;
      const peer = (res.locals["peer"] as { authority?: string } | undefined)?.authority;
      const tokenId = (res.locals["principal"] as { tokenId?: string } | undefined)?.tokenId;
      logger.info("request", {
        api,
        requestId,
        method: req.method,
        path: path.length > 256 ? `${path.slice(0, 256)}…` : path,
        status: res.statusCode,
        durationMs: Math.round(performance.now() - started),
        ...(res.writableFinished ? {} : { aborted: true }),
        ...(peer === undefined ? {} : { peer }),
        ...(tokenId === undefined ? {} : { tokenId }),
      });
    };
    res.once("finish", line);
    res.once("close", line);
    next();
  };
}
