/**
 * The TLS settings of the benchmarks' bare reference servers (mtls-echo,
 * mtls-sink): the gateway's own — TLS 1.3 only, a client certificate
 * required and checked against the peer's pinned root and CRL — with a
 * gateway home's certificate and encrypted key, and nothing else of Valise.
 */
import type https from "node:https";
import { join } from "node:path";
import { openAuthorityPki } from "../../pki/store.js";
import { loadPeerTrust } from "../../pki/peers.js";
import { loadIdentity } from "../../gateway/identity.js";

/** Server options for a bare mutual-TLS server of `home` that accepts `peerId` (passphrase from VALISE_PASSPHRASE). */
export async function bareTlsServerOptions(home: string, peerId: string): Promise<https.ServerOptions> {
  const identity = await loadIdentity(openAuthorityPki(join(home, "pki")), process.env["VALISE_PASSPHRASE"] ?? "", new Date());
  const peer = loadPeerTrust(join(home, "peers"), peerId);
  return {
    key: identity.tls.key, // the encrypted PKCS#8 PEM of the home
    passphrase: identity.tls.passphrase,
    cert: identity.tls.cert,
    ca: [peer.root.pem],
    crl: [peer.crl.pem],
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
  };
}
