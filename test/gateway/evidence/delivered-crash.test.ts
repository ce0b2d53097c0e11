/**
 * A delivered package and the case step it implies commit together, with
 * real processes: US (the sender) runs as `valise start` in a child process
 * with `VALISE_TEST_CRASH_AT=evidence.package.delivered`, so it kills itself
 * with SIGKILL the moment the package's delivery is committed — where a
 * second transaction for the step used to follow. Its database must already
 * hold the step (the case moved, the status update in the outbox, audited
 * once), and once US is started again the status update reaches GB. And
 * when the case moved while the package travelled, the delivery stands and
 * the skipped step is audited with it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect } from "chai";
import type { Gateway } from "../../../gateway/gateway.js";
import { startGatewayProcess, type GatewayProcess } from "../../../scripts/demo/gateway-process.js";
import { PASSPHRASE, createNetwork, localRequest, waitFor, type TestNetwork } from "../fixtures.js";
import { acceptedRequest } from "../witness/helpers.js";
import { PROVENANCE, TEST_CHUNK, plaintextOf } from "./helpers.js";

describe("gateway/evidence: a delivered package and its case step commit together", function () {
  this.timeout(90_000);
  let network: TestNetwork;
  let gb: Gateway;
  let us: GatewayProcess | undefined;

  const startUs = (env: Record<string, string> = {}): Promise<GatewayProcess> => startGatewayProcess({ home: network.us.home, passphrase: PASSPHRASE, env });
  const running = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  before(async function () {
    network = await createNetwork();
    gb = network.gb.gateway();
    await gb.start();
  });

  after(async function () {
    us?.kill();
    await gb?.stop();
    network?.cleanup();
  });

  it("leaves the case with its step taken, and the step reaches the requesting side after the restart", async function () {
    us = await startUs({ VALISE_TEST_CRASH_AT: "evidence.package.delivered" });
    const caseId = await acceptedRequest(network.gb, network.us);
    const file = join(network.us.home, "outgoing", "ledger.csv");
    writeFileSync(file, plaintextOf(3 * TEST_CHUNK + 17, "ledger"));
    const sent = await localRequest(network.us.localPort, "POST", `/api/v1/cases/${caseId}/evidence`, {
      token: network.us.tokens.caseworker,
      body: { completes: "partially-executed", chunkSize: TEST_CHUNK, items: [{ path: file, ...PROVENANCE }] },
    });
    expect(sent.status, sent.text).to.equal(201);
    const packageId = (sent.json as { packageId: string }).packageId;

    const crashed = us;
    await waitFor("US to kill itself at the crash point", () => (running(crashed.pid) ? undefined : true), 60_000, 20);
    expect((await crashed.stop()).signal).to.equal("SIGKILL");

    // What the crash left on disk: the delivery and its step, both or neither — here both.
    const db = new Database(join(network.us.home, "valise.db"), { readonly: true });
    let stepEnvelope: string;
    try {
      expect(db.prepare("SELECT state FROM evidence_packages WHERE package_id = ?").get(packageId)).to.deep.equal({ state: "delivered" });
      expect(db.prepare("SELECT status FROM cases WHERE case_id = ?").get(caseId)).to.deep.equal({ status: "partially-executed" });
      const changed = (db.prepare("SELECT entry FROM audit_entries WHERE kind = 'status.changed' AND case_id = ?").all(caseId) as { entry: string }[])
        .map((row) => JSON.parse(row.entry) as { actor: string; envelopeId: string; details: { step: string } })
        .filter((entry) => entry.details.step === "report-progress");
      expect(changed.map((entry) => entry.actor)).to.deep.equal(["gateway"]);
      stepEnvelope = changed[0]!.envelopeId;
      expect(db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE envelope_id = ?").get(stepEnvelope)).to.deep.equal({ n: 1 });
      expect(db.prepare("SELECT COUNT(*) AS n FROM audit_entries WHERE kind = 'evidence.package.delivered'").get()).to.deep.equal({ n: 1 });
    } finally {
      db.close();
    }

    // Restarted (without the crash point): the outbox delivers the step; nothing is taken twice.
    us = await startUs();
    await waitFor(
      "GB to see the case partially executed",
      async () => {
        const answer = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.gb.tokens.caseworker });
        return answer.json?.status === "partially-executed" ? answer.json : undefined;
      },
      30_000,
      50,
    );
    expect((await us.stop()).code).to.equal(0);
    const after = new Database(join(network.us.home, "valise.db"), { readonly: true });
    try {
      expect(after.prepare("SELECT state FROM outbox WHERE envelope_id = ?").get(stepEnvelope)).to.deep.equal({ state: "delivered" });
      expect(after.prepare("SELECT COUNT(*) AS n FROM audit_entries WHERE kind = 'status.changed' AND case_id = ? AND entry LIKE '%report-progress%'").get(caseId)).to.deep.equal({ n: 1 });
    } finally {
      after.close();
    }
  });

  it("a case that moved while the package travelled: delivered, the step skipped and audited in the same transaction", async function () {
    us = await startUs();
    const caseId = await acceptedRequest(network.gb, network.us);
    await gb.stop(); // the manifest waits in US's outbox
    const file = join(network.us.home, "outgoing", "journal.csv");
    writeFileSync(file, plaintextOf(TEST_CHUNK, "journal"));
    const sent = await localRequest(network.us.localPort, "POST", `/api/v1/cases/${caseId}/evidence`, {
      token: network.us.tokens.caseworker,
      body: { completes: "partially-executed", chunkSize: TEST_CHUNK, items: [{ path: file, ...PROVENANCE }] },
    });
    expect(sent.status, sent.text).to.equal(201);
    const executed = await localRequest(network.us.localPort, "POST", `/api/v1/cases/${caseId}/status`, { token: network.us.tokens.caseworker, body: { step: "executed" } });
    expect(executed.status, executed.text).to.equal(201);
    gb = network.gb.gateway();
    await gb.start();

    const packageId = (sent.json as { packageId: string }).packageId;
    const db = new Database(join(network.us.home, "valise.db"), { readonly: true });
    try {
      await waitFor("the package to be delivered", () => ((db.prepare("SELECT state FROM evidence_packages WHERE package_id = ?").get(packageId) as { state: string }).state === "delivered" ? true : undefined), 60_000, 50);
      const skipped = (db.prepare("SELECT entry FROM audit_entries WHERE kind = 'evidence.package.step-skipped' AND case_id = ?").all(caseId) as { entry: string }[]).map(
        (row) => (JSON.parse(row.entry) as { details: Record<string, unknown> }).details,
      );
      expect(skipped).to.deep.equal([{ packageId, step: "report-progress", code: "CASE_TRANSITION_INVALID" }]);
      expect(db.prepare("SELECT status FROM cases WHERE case_id = ?").get(caseId)).to.deep.equal({ status: "executed" });
      expect(db.prepare("SELECT COUNT(*) AS n FROM audit_entries WHERE kind = 'status.changed' AND case_id = ? AND entry LIKE '%report-progress%'").get(caseId)).to.deep.equal({ n: 0 });
    } finally {
      db.close();
    }
    expect((await us.stop()).code).to.equal(0);
  });
});
