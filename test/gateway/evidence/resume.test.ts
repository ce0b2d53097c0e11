/**
 * Resume, with real processes: GB (the receiver) runs as `valise start` in a
 * child process and is killed with SIGKILL in the middle of an item; once
 * started again it rescans its partial file, answers HEAD with the offset
 * it kept, and US's uploader goes on from there — the item arrives
 * byte-identical (SHA-256 of the download equals the file's). Then US (the
 * sender) is stopped mid-item and started again: the upload resumes too.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect } from "chai";
import { createGateway, type Gateway } from "../../../gateway/gateway.js";
import { createLogger } from "../../../gateway/log.js";
import { startGatewayProcess, type GatewayProcess } from "../../../scripts/demo/gateway-process.js";
import { FAST_DELIVERY, PASSPHRASE, createNetwork, localRequest, waitFor, type TestNetwork } from "../fixtures.js";
import { acceptedRequest } from "../witness/helpers.js";
import { PROVENANCE, TEST_CHUNK, entriesOfKind, getBytes, plaintextOf } from "./helpers.js";

/** One MiB segments: an item of 32 MiB takes 32 PUTs, each a resume point. */
const SEGMENT = 16 * (TEST_CHUNK + 16);
const ITEM_BYTES = 32 * 1024 * 1024;

describe("gateway/evidence: resume after kill -9 of the receiver, and after a restart of the sender", function () {
  this.timeout(90_000);
  let network: TestNetwork;
  let us: Gateway;
  let gb: GatewayProcess | undefined;
  let caseId: string;

  const usGateway = (): Gateway =>
    createGateway({
      home: network.us.home,
      passphrase: PASSPHRASE,
      logger: createLogger({ authority: "US-DOJ-OIA", silent: process.env["DEBUG_EVIDENCE"] === undefined }),
      delivery: FAST_DELIVERY,
      evidence: { idlePollMs: 50, minSegmentBytes: SEGMENT, maxSegmentBytes: SEGMENT },
    });
  const startGb = (): Promise<GatewayProcess> => startGatewayProcess({ home: network.gb.home, passphrase: PASSPHRASE });
  const usItem = async (itemId: string): Promise<{ state: string; acked_bytes: number; sealed_size: number; attempts: number }> =>
    (await us.context.store.inspect<{ state: string; acked_bytes: number; sealed_size: number; attempts: number }>("SELECT state, acked_bytes, sealed_size, attempts FROM evidence_items WHERE item_id = ?", [itemId]))[0]!;

  async function sendFile(name: string, bytes: Buffer): Promise<string> {
    writeFileSync(join(network.us.home, "outgoing", name), bytes);
    const answer = await localRequest(network.us.localPort, "POST", `/api/v1/cases/${caseId}/evidence`, {
      token: network.us.tokens.caseworker,
      body: { completes: "partially-executed", chunkSize: TEST_CHUNK, items: [{ path: join(network.us.home, "outgoing", name), ...PROVENANCE }] },
    });
    expect(answer.status, answer.text).to.equal(201);
    return (answer.json as { items: Array<{ itemId: string }> }).items[0]!.itemId;
  }

  async function downloadSha256(itemId: string): Promise<string> {
    const answer = await getBytes(network.gb.localPort, `/api/v1/cases/${caseId}/evidence/${itemId}`, network.gb.tokens.caseworker);
    expect(answer.status).to.equal(200);
    expect(answer.complete).to.equal(true);
    return createHash("sha256").update(answer.body).digest("hex");
  }

  before(async function () {
    network = await createNetwork();
    gb = await startGb();
    us = usGateway();
    await us.start();
    caseId = await acceptedRequest(network.gb, network.us);
  });

  after(async function () {
    gb?.kill();
    await us?.stop();
    network?.cleanup();
  });

  it("kill -9 of GB mid-item: GB keeps its verified part, US resumes from GB's offset, the item arrives byte-identical", async function () {
    const bytes = plaintextOf(ITEM_BYTES, "kill -9");
    const itemId = await sendFile("server-logs.tar", bytes);
    const ackedAtKill = await waitFor(
      "a few segments acknowledged",
      async () => {
        const row = await usItem(itemId);
        if (row.acked_bytes < 4 * SEGMENT) return undefined;
        gb!.kill(); // SIGKILL
        return row.acked_bytes;
      },
      60_000,
      1,
    );
    const sealedSize = (await usItem(itemId)).sealed_size;
    expect(ackedAtKill, "GB was killed in the middle of the item").to.be.below(sealedSize);
    await waitFor("US to see the upload cut", async () => ((await usItem(itemId)).attempts > 0 ? true : undefined), 30_000);

    // What GB kept: the item is still being received, with at least the acknowledged part.
    const gbDb = new Database(join(network.gb.home, "valise.db"), { readonly: true });
    try {
      const row = gbDb.prepare("SELECT state, acked_bytes FROM evidence_items WHERE item_id = ?").get(itemId) as { state: string; acked_bytes: number };
      expect(row.state).to.equal("receiving");
      expect(row.acked_bytes).to.be.at.least(ackedAtKill);
    } finally {
      gbDb.close();
    }

    gb = await startGb();
    await waitFor("the item to be receipted", async () => ((await usItem(itemId)).state === "receipted" ? true : undefined), 60_000, 20);
    // GB rescanned its partial file and offered to resume at (at least) what it had acknowledged.
    const resumed = gb.logTail(200).map((line) => JSON.parse(line) as { message?: string; itemId?: string; offset?: number }).find((line) => line.message === "evidence upload resumable" && line.itemId === itemId);
    expect(resumed?.offset).to.be.at.least(ackedAtKill);
    expect(await downloadSha256(itemId)).to.equal(createHash("sha256").update(bytes).digest("hex"));
    expect((await entriesOfKind(us.context.store, "evidence.receipt.received")).filter((e) => e.details["itemId"] === itemId)).to.have.length(1);
  });

  it("a restart of US mid-item: the upload resumes from GB's offset and the item arrives byte-identical", async function () {
    const bytes = plaintextOf(ITEM_BYTES / 2, "sender restart");
    const itemId = await sendFile("bank-records.csv", bytes);
    await waitFor("a few segments acknowledged", async () => ((await usItem(itemId)).acked_bytes >= 3 * SEGMENT ? true : undefined), 60_000, 1);
    await us.stop();
    us = usGateway();
    await us.start();
    const restartedAt = await usItem(itemId);
    expect(restartedAt.state, "US was stopped in the middle of the item").to.equal("queued");
    await waitFor("the item to be receipted", async () => ((await usItem(itemId)).state === "receipted" ? true : undefined), 60_000, 20);
    expect(await downloadSha256(itemId)).to.equal(createHash("sha256").update(bytes).digest("hex"));
    expect(readFileSync(join(network.us.home, "outgoing", "bank-records.csv")).equals(bytes)).to.equal(true);
  });
});
