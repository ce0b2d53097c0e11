/**
 * Mutual TLS between gateways: TLS 1.3 only, client certificates required,
 * both ends checked against the other's pinned root and CRL.
 *
 * OpenSSL does the handshake-level checks (chain to one of the peers' roots,
 * CRL); then {@link authenticatePeerCertificate} binds the certificate to ONE
 * authority with Valise's own path validation: the right root for the
 * authority it names, the `tls` key usages, not revoked. Without that second
 * step, a certificate of peer A would be accepted as any peer.
 */
import https from "node:https";
import tls from "node:tls";
import type { TLSSocket } from "node:tls";
import { parseCertificateDer } from "../../pki/certificate.js";
import { authorityOfCertificate } from "../../pki/authority.js";
import { validateCertificatePath } from "../../pki/path.js";
import { isValiseError } from "../../pki/errors.js";
import { GatewayError } from "../errors.js";
import type { GatewayIdentity } from "../identity.js";
import type { Peer, PeerDirectory } from "./directory.js";

/** TLS options of the peer API server for the current set of peers. */
export function peerServerTlsOptions(identity: GatewayIdentity, peers: PeerDirectory): tls.SecureContextOptions & tls.TlsOptions {
  const all = peers.all();
  return {
    key: identity.tls.key,
    passphrase: identity.tls.passphrase,
    cert: identity.tls.cert,
    // An empty CA list would make OpenSSL fall back to nothing (every client
    // refused), which is the right answer while there are no peers.
    ca: all.map((peer) => peer.root.pem),
    crl: all.map((peer) => peer.crl.pem),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
  };
}

/**
 * The authority of a peer's TLS certificate (DER), validated for the `tls`
 * use against that authority's pinned root and CRL at `now`.
 * Throws `PEER_TLS_IDENTITY` with the PKI code in details.
 */
export function authenticatePeerCertificate(der: Uint8Array, findPeer: (authority: string) => Peer | undefined, now: Date): Peer {
  try {
    const certificate = parseCertificateDer(der);
    const authority = authorityOfCertificate(certificate);
    const peer = findPeer(authority);
    if (peer === undefined) {
      throw new GatewayError("PEER_TLS_IDENTITY", `the TLS certificate names ${authority}, which is not a peer`, { details: { authority } });
    }
    validateCertificatePath({ certificate, trustedRoot: peer.root, crl: peer.crl, use: "tls", at: now, expectedAuthority: authority });
    return peer;
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError("PEER_TLS_IDENTITY", "the TLS certificate is not a valid tls certificate of a peer", {
      cause: error,
      details: isValiseError(error) ? { pkiCode: error.code } : {},
    });
  }
}

/** A connection's authenticated peer, and what it was checked against. */
export interface AuthenticatedSocket {
  /** The peer as the directory held it when the certificate was checked (the directory replaces it on every change). */
  readonly peer: Peer;
  /** The client certificate's notAfter, ms. */
  readonly notAfter: number;
}

/** The per-socket cache of {@link peerOfSocket}. */
export type PeerSocketCache = WeakMap<TLSSocket, AuthenticatedSocket>;

/**
 * The authenticated peer behind an incoming peer-API connection. The check
 * is cached per socket and repeated — cheaply, on each request — when the
 * peer's trust material changed since (a new CRL may revoke the certificate
 * of a connection opened before) or the certificate expired: a long-lived
 * keep-alive connection is not a way around a revocation.
 */
export function peerOfSocket(socket: TLSSocket, peers: PeerDirectory, now: Date, cache: PeerSocketCache): Peer {
  const known = cache.get(socket);
  if (known !== undefined && peers.find(known.peer.authority) === known.peer && now.getTime() < known.notAfter) return known.peer;
  cache.delete(socket);
  const certificate = socket.getPeerCertificate();
  if (certificate === null || certificate.raw === undefined) {
    throw new GatewayError("PEER_TLS_IDENTITY", "no client certificate was presented");
  }
  const peer = authenticatePeerCertificate(certificate.raw, (id) => peers.find(id), now);
  cache.set(socket, { peer, notAfter: parseCertificateDer(certificate.raw).notAfter.getTime() });
  return peer;
}

/**
 * A keep-alive agent for calls to `peer`: our tls certificate as the client
 * certificate, only the peer's root trusted, and the server certificate bound
 * to the peer's authority (not only to the host name).
 */
export function peerAgent(identity: GatewayIdentity, peer: Peer, now: () => Date, maxSockets = 16): https.Agent {
  return new https.Agent({
    keepAlive: true,
    maxSockets,
    key: identity.tls.key,
    passphrase: identity.tls.passphrase,
    cert: identity.tls.cert,
    ca: [peer.root.pem],
    crl: [peer.crl.pem],
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
    checkServerIdentity: (host, certificate) => {
      const hostError = tls.checkServerIdentity(host, certificate);
      if (hostError !== undefined) return hostError;
      try {
        const served = authenticatePeerCertificate(certificate.raw, (id) => (id === peer.authority ? peer : undefined), now());
        return served.authority === peer.authority ? undefined : new Error(`the server is ${served.authority}, not ${peer.authority}`);
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    },
  });
}
