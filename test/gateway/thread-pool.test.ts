/**
 * A stalled thread pool shows in health: the test occupies every thread of
 * libuv's pool (shared with the in-process gateway) with a real open(2) of a
 * FIFO that has no writer — what a FIFO named in evidence sends used to do —
 * and the gateway's probe must turn /healthz to 503 and the operator's health
 * view to degraded with the reason, and log it once; when the FIFOs get a
 * writer, the pool works again and health says so.
 */
import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { expect } from "chai";
import { createGateway, type Gateway } from "../../gateway/gateway.js";
import { createLogger } from "../../gateway/log.js";
import { FAST_DELIVERY, PASSPHRASE, createNetwork, localRequest, waitFor, type TestNetwork } from "./fixtures.js";

describe("gateway health: a stalled thread pool", function () {
  this.timeout(60_000);
  let network: TestNetwork;
  let gb: Gateway;
  const lines: Array<{ level: string; message: string }> = [];

  before(async function () {
    network = await createNetwork();
    const stream = new PassThrough();
    let partial = "";
    stream.on("data", (chunk: Buffer) => {
      const text = partial + chunk.toString("utf8");
      const split = text.split("\n");
      partial = split.pop() ?? "";
      for (const line of split) if (line !== "") lines.push(JSON.parse(line) as { level: string; message: string });
    });
    gb = createGateway({
      home: network.gb.home,
      passphrase: PASSPHRASE,
      logger: createLogger({ authority: "GB-UKCA", stream }),
      delivery: FAST_DELIVERY,
      threadPoolProbe: { intervalMs: 50, stallMs: 500 },
    });
    await gb.start();
  });

  after(async function () {
    await gb?.stop();
    network?.cleanup();
  });

  it("turns /healthz to 503 and the health view to degraded while every pool thread hangs, and back once they return", async function () {
    const healthy = await localRequest(network.gb.localPort, "GET", "/healthz");
    expect(healthy.status).to.equal(200);

    const threads = Number(process.env["UV_THREADPOOL_SIZE"] ?? 4);
    const fifos = Array.from({ length: threads }, (_, i) => join(network.dir, `stall-${i}.fifo`));
    for (const fifo of fifos) execFileSync("mkfifo", [fifo]);
    // Each open waits for a writer, holding a pool thread.
    const readers: Array<Promise<FileHandle>> = fifos.map((fifo) => open(fifo, "r"));
    let writers: number[] = [];
    try {
      const stalled = await waitFor("/healthz to report the stall", async () => {
        const answer = await localRequest(network.gb.localPort, "GET", "/healthz");
        return answer.status === 503 ? answer : undefined;
      });
      expect(stalled.json).to.include({ status: "degraded", authority: "GB-UKCA" });
      expect(stalled.json.reasons).to.have.length(1);
      expect(stalled.json.reasons[0]).to.match(/^thread pool stalled/);

      const report = await localRequest(network.gb.localPort, "GET", "/api/v1/health", { token: network.gb.tokens.operator });
      expect(report.status).to.equal(200);
      expect(report.json.status).to.equal("degraded");
      expect(report.json.threadPool.stalled).to.equal(true);
      expect(report.json.threadPool.waitingMs).to.be.at.least(500);
      expect((report.json.reasons as string[]).filter((reason) => reason.startsWith("thread pool stalled"))).to.have.length(1);
      expect(lines.filter((line) => line.level === "error" && line.message.startsWith("the thread pool is stalled"))).to.have.length(1);
    } finally {
      // A writer for each FIFO (non-blocking: the readers are there) lets every open return.
      writers = fifos.map((fifo) => openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      for (const handle of await Promise.all(readers)) await handle.close();
      for (const fd of writers) closeSync(fd);
    }

    await waitFor("/healthz to be ok again", async () => ((await localRequest(network.gb.localPort, "GET", "/healthz")).status === 200 ? true : undefined));
    const report = await localRequest(network.gb.localPort, "GET", "/api/v1/health", { token: network.gb.tokens.operator });
    expect(report.json.threadPool.stalled).to.equal(false);
    expect(report.json.reasons.some((reason: string) => reason.startsWith("thread pool"))).to.equal(false);
    expect(lines.filter((line) => line.message === "the thread pool is working again")).to.have.length(1);
  });
});
