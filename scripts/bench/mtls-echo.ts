/**
 * The ceiling reference of the exchange benchmark: a bare HTTPS server with
 * the gateway's TLS settings (TLS 1.3 only, client certificate required and
 * checked against the peer's root) and the same certificate and encrypted
 * key as a gateway home, answering every POST with a small 201. No envelope
 * work, no database: what mutual TLS and HTTP alone cost on this machine.
 *
 * Run as a child process: `npx tsx scripts/bench/mtls-echo.ts HOME PEER-ID`
 * with VALISE_PASSPHRASE set; prints `{"listening": port}` on stdout.
 */
import https from "node:https";
import { join } from "node:path";
import { openAuthorityPki } from "../../pki/store.js";
import { loadPeerTrust } from "../../pki/peers.js";
import { loadIdentity } from "../../gateway/identity.js";

const [home, peerId] = process.argv.slice(2);
if (home === undefined || peerId === undefined) throw new Error("usage: mtls-echo.ts HOME PEER-ID");
const identity = await loadIdentity(openAuthorityPki(join(home, "pki")), process.env["VALISE_PASSPHRASE"] ?? "", new Date());
const peer = loadPeerTrust(join(home, "peers"), peerId);
const answer = Buffer.from('{"ok":true}');
const server = https.createServer(
  {
    key: identity.tls.key, // the encrypted PKCS#8 PEM of the home
    passphrase: identity.tls.passphrase,
    cert: identity.tls.cert,
    ca: [peer.root.pem],
    crl: [peer.crl.pem],
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
  },
  (req, res) => {
    req.on("data", () => {});
    req.on("end", () => {
      res.writeHead(201, { "content-type": "application/json", "content-length": answer.length });
      res.end(answer);
    });
  },
);
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as { port: number }).port })}\n`);
});
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
