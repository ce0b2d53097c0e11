/**
 * The live connections of the peer API, re-checked when trust changes.
 *
 * OpenSSL checks a client certificate once, at the handshake. A keep-alive
 * connection opened before the certificate was revoked would otherwise go on
 * being served after the peer's new CRL arrived (`valise peers update`, or the
 * periodic bundle refresh): so on every change of the peers' trust material
 * each open connection's certificate is validated again, and the connections
 * whose certificate no longer validates are closed.
 */
import type https from "node:https";
import type { TLSSocket } from "node:tls";
import { isValiseError } from "../../pki/errors.js";
import { parseCertificateDer } from "../../pki/certificate.js";
import { authorityOfCertificate } from "../../pki/authority.js";
import { authenticatePeerCertificate } from "./tls.js";
import type { PeerDirectory } from "./directory.js";

/** A connection closed by {@link PeerConnections.recheck}. */
export interface ClosedConnection {
  /** The address it came from. */
  readonly remote: string;
  /** The authority its certificate names, when it still parses. */
  readonly peer: string | null;
  /** Why the certificate no longer validates (e.g. `PEER_TLS_IDENTITY`, with the PKI code). */
  readonly code: string;
  readonly pkiCode: string | null;
}

/** The open mutual-TLS connections of one peer API server. */
export class PeerConnections {
  readonly #sockets = new Set<TLSSocket>();

  constructor(server: https.Server) {
    server.on("secureConnection", (socket: TLSSocket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
  }

  /** Open connections. */
  get size(): number {
    return this.#sockets.size;
  }

  /** Validates every open connection's client certificate against `peers` at `now`; closes those that fail. */
  recheck(peers: PeerDirectory, now: Date): ClosedConnection[] {
    const closed: ClosedConnection[] = [];
    for (const socket of this.#sockets) {
      const raw = socket.getPeerCertificate()?.raw;
      try {
        if (raw === undefined) throw new Error("no client certificate");
        authenticatePeerCertificate(raw, (id) => peers.find(id), now);
      } catch (error) {
        const details = isValiseError(error) ? error.details : undefined;
        closed.push({
          peer: authorityOf(raw),
          remote: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`,
          code: isValiseError(error) ? error.code : "PEER_TLS_IDENTITY",
          pkiCode: typeof details?.["pkiCode"] === "string" ? details["pkiCode"] : null,
        });
        socket.destroy();
      }
    }
    return closed;
  }
}

function authorityOf(raw: Uint8Array | undefined): string | null {
  try {
    return raw === undefined ? null : authorityOfCertificate(parseCertificateDer(raw));
  } catch {
    return null;
  }
}
