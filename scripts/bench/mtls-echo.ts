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
import { bareTlsServerOptions } from "./bare-tls.js";

const [home, peerId] = process.argv.slice(2);
if (home === undefined || peerId === undefined) throw new Error("usage: mtls-echo.ts HOME PEER-ID");
const answer = Buffer.from('{"ok":true}');
const server = https.createServer(
  await bareTlsServerOptions(home, peerId),
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
