/**
 * The reference of the evidence benchmark: a bare HTTPS server with the
 * gateway's TLS settings (TLS 1.3 only, client certificate required and
 * checked against the peer's root) and a gateway home's certificate and key,
 * that writes each PUT body to a file and fsyncs it before answering 201
 * (or, with OUT-FILE `-`, discards it: the network and TLS ceiling alone).
 * No Valise logic: what mutual TLS, HTTP and the disk alone cost for a large
 * upload on this machine.
 *
 * Run as a child process: `npx tsx scripts/bench/mtls-sink.ts HOME PEER-ID OUT-FILE`
 * with VALISE_PASSPHRASE set; prints `{"listening": port}` on stdout.
 */
import https from "node:https";
import { bareTlsServerOptions } from "./bare-tls.js";
import { createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream/promises";

const [home, peerId, outFile] = process.argv.slice(2);
if (home === undefined || peerId === undefined || outFile === undefined) throw new Error("usage: mtls-sink.ts HOME PEER-ID OUT-FILE");
const server = https.createServer(
  await bareTlsServerOptions(home, peerId),
  (req, res) => {
    void (async () => {
      if (outFile === "-") {
        for await (const _ of req) void _; // discard
      } else {
        await pipeline(req, createWriteStream(outFile, { highWaterMark: 1024 * 1024 }));
        const handle = await open(outFile, "r");
        await handle.sync(); // durable before the answer, as the gateway is
        await handle.close();
      }
      res.writeHead(201, { "content-type": "application/json" });
      res.end('{"ok":true}');
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  },
);
server.requestTimeout = 0;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as { port: number }).port })}\n`);
});
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
