/**
 * One way to answer an error on both APIs: `{error: {code, message,
 * details?}}` with the status of the code (gateway/errors.ts).
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { ErrorRequestHandler, Response } from "express";
import { isValiseError } from "../../pki/errors.js";
import { GatewayError, httpStatusFor } from "../errors.js";
import type { Logger } from "../log.js";
import { errorBody } from "./error-body.js";
import { requestIdOfResponse } from "./request-log.js";

/**
 * Translates the errors of express and body-parser — malformed JSON, too
 * large, aborted, a path with malformed %-encoding, a body that does not
 * decompress — into coded errors. Any other error they mark as the client's
 * (a 4xx `status`) is REQUEST_MALFORMED: bad input is never answered 5xx.
 */
export function asValiseError(error: unknown): unknown {
  if (isValiseError(error) || typeof error !== "object" || error === null) return error;
  const { type, status, code } = error as { type?: unknown; status?: unknown; code?: unknown };
  if (type === "entity.parse.failed") return new GatewayError("REQUEST_MALFORMED", "the request body is not valid JSON");
  if (type === "entity.too.large") return new GatewayError("REQUEST_TOO_LARGE", "the request body is too large");
  if (type === "request.aborted" || type === "request.size.invalid") return new GatewayError("REQUEST_MALFORMED", "the request body was cut short");
  if (type === "encoding.unsupported" || type === "charset.unsupported") return new GatewayError("REQUEST_MALFORMED", "unsupported body encoding");
  const clientError = typeof status === "number" && status >= 400 && status < 500;
  // router's decodeURIComponent of a path parameter (`/cases/%E0%A4%A`).
  if (clientError && error instanceof URIError) return new GatewayError("REQUEST_PATH_MALFORMED", "the request path has malformed percent-encoding");
  // zlib (Z_DATA_ERROR…) or brotli (ERR__ERROR_…) failing on a gzip, deflate or br body.
  if (clientError && typeof code === "string" && (code.startsWith("Z_") || code.startsWith("ERR__ERROR") || code.startsWith("ERR_ZLIB"))) {
    return new GatewayError("REQUEST_ENCODING_INVALID", "the request body does not decode under its Content-Encoding");
  }
  if (clientError) return new GatewayError("REQUEST_MALFORMED", "the request is malformed");
  return error;
}

/** Sends `error` as a coded JSON error; returns its code. */
export function sendError(res: Response, error: unknown, logger: Logger): string {
  const mapped = asValiseError(error);
  if (isValiseError(mapped)) {
    const status = httpStatusFor(mapped.code);
    if (status >= 500) logger.error("request failed", { code: mapped.code, reason: mapped.message, requestId: requestIdOfResponse(res) });
    if (!res.headersSent) {
      res.status(status).json(errorBody(mapped.code, mapped.message, mapped.details));
    }
    return mapped.code;
  }
  logger.error("unexpected error", { reason: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined, requestId: requestIdOfResponse(res) });
  if (!res.headersSent) res.status(500).json({ error: { code: "INTERNAL", message: "internal error" } });
  return "INTERNAL";
}

/** An express error handler using {@link sendError}; `onCode` sees each code (metrics). */
export function errorHandler(logger: Logger, onCode: (code: string) => void = () => {}): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    onCode(sendError(res, error, logger));
  };
}

/**
 * A server's `clientError` listener: what Node's HTTP parser refuses before
 * any route runs — a body cut short, malformed framing, headers too large, a
 * request not received in time — is answered with a coded JSON error rather
 * than Node's bare status line, when nothing of a response was sent yet.
 * `onCode` sees the code when no route saw the request (a route's own error
 * handler counts the ones it saw).
 */
export function clientErrorHandler(onCode: (code: string) => void = () => {}): (error: NodeJS.ErrnoException, socket: Duplex) => void {
  return (error, socket) => {
    // Node's own property: the response in progress on this connection, if a route got the request.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage ?? undefined;
    if (error.code !== "ECONNRESET" && socket.writable && inFlight?.headersSent !== true) {
      const code = error.code === "HPE_HEADER_OVERFLOW" ? "REQUEST_TOO_LARGE" : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "REQUEST_TIMEOUT" : "REQUEST_MALFORMED";
      const message =
        code === "REQUEST_TIMEOUT" ? "the request was not received in time" : code === "REQUEST_TOO_LARGE" ? "the request headers are too large" : "the request is malformed or was cut short";
      const status = httpStatusFor(code);
      const body = JSON.stringify({ error: { code, message } });
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      if (inFlight === undefined) onCode(code);
    }
    socket.destroy(error);
  };
}
