/**
 * How long the APIs hold a connection that does nothing.
 *
 * Threat: idle connections are a cheap way to hold a server's sockets and
 * memory — and, on the peer API, to keep a TLS session alive past the
 * revocation of its certificate. Node's defaults leave three gaps: a TLS
 * handshake may take 120 s, a connection that never sends a request is held
 * with no limit at all (`headersTimeout` only runs once a request starts),
 * and `headersTimeout`/`requestTimeout` are checked only every 30 s. So:
 * the handshake, the wait for a first request and the keep-alive wait
 * between requests are each limited to `idleMs`, and the request timeouts
 * are checked every second. A request in progress is not cut by these: its
 * limits are `headersTimeout` and `requestTimeout`.
 */
import type http from "node:http";
import type { Socket } from "node:net";

/** Default idle limit of both APIs (`peerApi.idleTimeoutSeconds`, `localApi.idleTimeoutSeconds`). */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 5;

/** How often Node checks `headersTimeout` and `requestTimeout` (its default, 30 s, lets a slow client hold a socket up to 40 s). */
export const CHECKING_INTERVAL_MS = 1000;

/**
 * Closes connections idle for `idleMs`: before their first request, and
 * between requests (`keepAliveTimeout`). `secure`: listen for TLS
 * connections (an https server) rather than TCP ones.
 */
export function limitIdleConnections(server: http.Server, idleMs: number, secure: boolean): void {
  server.keepAliveTimeout = idleMs;
  // Node's server destroys a socket whose timeout fires when no one handles
  // the 'timeout' event; once a request arrives, Node manages the socket's
  // timeout itself (none during a request, keepAliveTimeout after it).
  server.on(secure ? "secureConnection" : "connection", (socket: Socket) => socket.setTimeout(idleMs));
  server.on("request", (req: http.IncomingMessage) => req.socket.setTimeout(0));
}
