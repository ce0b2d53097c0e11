/**
 * kill -9 of the receiving gateway in the middle of a burst, with real
 * processes: US runs as `valise start` in a child process, GB in-process.
 * 200 requests are submitted at GB; once some receipts are back, US is
 * killed with SIGKILL and started again. Every envelope must end up
 * delivered exactly once, GB must hold a verified receipt for each, and no
 * receipt may name an envelope US does not hold (a receipt is issued only
 * after the durable commit).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import { verifyReceipt } from "../../gateway/envelope/receipt.js";
import { loadPeerTrust } from "../../pki/peers.js";
import { count, createNetwork, example, localRequest, PASSPHRASE, REPO_ROOT, waitFor, type TestAuthority, type TestNetwork } from "./fixtures.js";

const REQUESTS = 200;

/** A gateway running as `valise start` in a child process. */
interface ChildGateway {
  readonly process: ChildProcessWithoutNullStreams;
  /** Settles when the process has exited, with its exit code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `valise start --home` for `authority`; resolves once its "gateway started" log line is out. */
async function startChild(authority: TestAuthority): Promise<ChildGateway> {
  const child = spawn(process.execPath, [join(REPO_ROOT, "scripts/valise.mjs"), "start", "--home", authority.home], {
    cwd: REPO_ROOT,
    env: { ...process.env, VALISE_PASSPHRASE: PASSPHRASE, VALISE_LOG_LEVEL: "info" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const stderr: string[] = [];
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${authority.authority} did not start within 20 s: ${stderr.join("")}`)), 20_000);
    lines.on("line", (line) => {
      try {
        if ((JSON.parse(line) as { message?: string }).message === "gateway started") {
          clearTimeout(timer);
          resolve();
        }
      } catch {
        // not a log line: ignore
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${authority.authority} exited (${code ?? signal}) before it started: ${stderr.join("")}`));
    });
  });
  return { process: child, exited };
}

describe("gateway crash: kill -9 of the receiver during a burst", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: ChildGateway | undefined;

  before(async function () {
    network = await createNetwork();
    gb = network.gb.gateway();
    await gb.start();
  });

  after(async function () {
    if (us !== undefined && us.process.exitCode === null && us.process.signalCode === null) {
      us.process.kill("SIGKILL");
      await us.exited;
    }
    await gb?.stop();
    network?.cleanup();
  });

  it("delivers all 200 envelopes exactly once, each with a verified receipt of an envelope US holds", async function () {
    this.timeout(180_000); // 200 envelopes, a kill and a restart: a limit, not a target (the rate is benchmarked)
    us = await startChild(network.us);
    const gbDb = gb.context.store;
    const delivered = (): Promise<number> => count(gbDb, "outbox", "state = 'delivered'");

    // Kill US as soon as the first receipts are back, while the rest are in flight.
    let deliveredAtKill = -1;
    let receiptsAtKill: Array<{ envelope_id: string; receipt: string }> = [];
    const killer = waitFor(
      "the first receipts",
      async () => {
        if ((await delivered()) < 30) return undefined;
        us!.process.kill("SIGKILL");
        deliveredAtKill = await delivered();
        receiptsAtKill = await gbDb.inspect("SELECT envelope_id, receipt FROM envelopes WHERE direction = 'outbound' AND receipt IS NOT NULL");
        return true;
      },
      30_000,
      1,
    );

    const document = example("mla-request", "valid-email-records");
    const answers = await Promise.all(
      Array.from({ length: REQUESTS }, () => localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: document })),
    );
    for (const answer of answers) expect(answer.status, answer.text).to.equal(201);
    await killer;
    const killed = await us.exited;
    expect(killed.signal).to.equal("SIGKILL");
    expect(deliveredAtKill, "US was killed with deliveries still outstanding").to.be.within(30, REQUESTS - 1);

    us = await startChild(network.us);
    await waitFor(`${REQUESTS} deliveries`, async () => ((await delivered()) === REQUESTS ? true : undefined), 40_000, 50);
    us.process.kill("SIGTERM");
    expect((await us.exited).code).to.equal(0);

    const usDb = new Database(join(network.us.home, "valise.db"), { readonly: true });
    try {
      const sent = await gbDb.inspect<{ envelope_id: string; digest: string; receipt: string | null }>("SELECT envelope_id, digest, receipt FROM envelopes WHERE direction = 'outbound'");
      const held = usDb.prepare("SELECT envelope_id, digest FROM envelopes WHERE direction = 'inbound'").all() as Array<{ envelope_id: string; digest: string }>;
      expect(sent).to.have.length(REQUESTS);
      expect(answers.map((a) => a.json.envelopeId as string)).to.have.members(sent.map((e) => e.envelope_id));
      // Exactly once: US holds each of GB's envelopes once, and nothing else — in the store and in its audit log.
      expect(held).to.have.length(REQUESTS);
      expect(held.map((e) => e.envelope_id)).to.have.members(sent.map((e) => e.envelope_id));
      expect((usDb.prepare("SELECT COUNT(DISTINCT envelope_id) AS n, COUNT(*) AS total FROM audit_entries WHERE kind = 'envelope.received'").get() as { n: number; total: number })).to.deep.equal({
        n: REQUESTS,
        total: REQUESTS,
      });
      expect(await count(gbDb, "outbox", "state <> 'delivered'")).to.equal(0);
      expect(await count(gbDb, "cases", "status <> 'received'")).to.equal(0);

      // Every receipt GB holds verifies, and names an envelope US holds with the same digest.
      const heldDigest = new Map(held.map((e) => [e.envelope_id, e.digest]));
      const usTrust = loadPeerTrust(join(network.gb.home, "peers"), "US-DOJ-OIA");
      for (const envelope of sent) {
        expect(envelope.receipt, envelope.envelope_id).to.be.a("string");
        const { receipt } = await verifyReceipt(envelope.receipt, {
          expected: { envelopeId: envelope.envelope_id, envelopeDigest: envelope.digest, from: "GB-UKCA", to: "US-DOJ-OIA" },
          trustFor: (authority) => (authority === "US-DOJ-OIA" ? { root: usTrust.root, crl: usTrust.crl } : undefined),
          now: new Date(),
        });
        expect(heldDigest.get(receipt.envelopeId)).to.equal(receipt.envelopeDigest);
      }
      // The receipts GB had before the kill were for envelopes that survived it, and were never replaced.
      expect(receiptsAtKill.length).to.be.at.least(deliveredAtKill);
      const receiptNow = new Map(sent.map((e) => [e.envelope_id, e.receipt]));
      for (const early of receiptsAtKill) {
        expect(heldDigest.has(early.envelope_id), early.envelope_id).to.equal(true);
        expect(receiptNow.get(early.envelope_id)).to.equal(early.receipt);
      }
    } finally {
      usDb.close();
    }
  });
});
