/**
 * The fork test: an authority restores its gateway from a backup taken
 * before some of its history (or runs two copies), so the log shown to its
 * peer forks. The peer, as witness, has cosigned the first branch; when the
 * second branch is submitted it cannot be proven consistent, and the peer
 * refuses to cosign and raises the alarm (log_alarms row, `log.inconsistent`
 * audit entry, health view degraded).
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { createNetwork, example, localRequest, PASSPHRASE, type TestNetwork } from "../fixtures.js";
import { exchangeRequest, manualWitnessGateway, rows } from "./helpers.js";
import { createGateway, type Gateway } from "../../../gateway/gateway.js";
import { createLogger } from "../../../gateway/log.js";
import { checkpointOrigin } from "../../../gateway/audit/checkpoint.js";
import { witnessedLog } from "../../../gateway/audit/witness.js";

const GB = "GB-UKCA";
const US = "US-DOJ-OIA";

describe("witnessing: a forked log is caught by the witness", function () {
  this.timeout(60_000);
  let network: TestNetwork;
  let us: Gateway;
  const running: Gateway[] = [];

  before(async function () {
    network = await createNetwork();
    us = manualWitnessGateway(network.us);
    await us.start();
  });

  after(async function () {
    for (const gateway of running) await gateway.stop().catch(() => undefined);
    await us?.stop();
    network?.cleanup();
  });

  async function run(gateway: Gateway): Promise<Gateway> {
    await gateway.start();
    running.push(gateway);
    return gateway;
  }

  async function stop(gateway: Gateway): Promise<void> {
    await gateway.stop();
    running.splice(running.indexOf(gateway), 1);
  }

  it("cosigns one branch, then refuses the other branch of GB's log and raises the alarm", async function () {
    const origin = checkpointOrigin(GB);
    // Branch point: GB exchanges once, US cosigns, GB stops and its home is copied (the "backup").
    const gb = await run(manualWitnessGateway(network.gb));
    await exchangeRequest(network.gb);
    expect((await gb.witness.runNow({ sign: true })).find((s) => s.peer === US)?.outcome).to.equal("cosigned");
    await stop(gb);
    const backup = join(network.dir, "GB-UKCA-backup");
    cpSync(network.gb.home, backup, { recursive: true });

    // Branch A: the original goes on and US cosigns it.
    const branchA = await run(manualWitnessGateway(network.gb));
    await exchangeRequest(network.gb);
    const cosignedA = (await branchA.witness.runNow({ sign: true })).find((s) => s.peer === US);
    expect(cosignedA?.outcome).to.equal("cosigned");
    const sizeA = cosignedA!.size;
    expect((await us.context.store.read((tx) => witnessedLog(tx, origin)))?.size).to.equal(sizeA);
    await stop(branchA);

    // Branch B: the backup is started in its place (same keys, same endpoint) and writes other history, past sizeA.
    // US is down meanwhile: a gateway that can ask its peer refuses to start behind it (test/gateway/recovery),
    // so the fork reaches the witness only when the peer could not be asked at start.
    await us.stop();
    const branchB = await run(
      createGateway({
        home: backup,
        passphrase: PASSPHRASE,
        logger: createLogger({ authority: GB, silent: true }),
        delivery: { initialBackoffMs: 50, maxBackoffMs: 500, idlePollMs: 100 },
        witness: { activityPollMs: 3_600_000, periodMs: 3_600_000 },
      }),
    );
    while (((await branchB.context.checkpoints.latest())?.size ?? 0) <= sizeA) {
      const submitted = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: example("mla-request", "valid-email-records") });
      expect(submitted.status, submitted.text).to.equal(201);
      await branchB.context.checkpoints.sign();
    }
    us = manualWitnessGateway(network.us);
    await us.start();
    const submissionB = (await branchB.witness.runNow({ sign: true })).find((s) => s.peer === US);

    // US did not cosign branch B, and kept the state of branch A.
    expect(submissionB?.outcome).to.equal("failed");
    expect((await us.context.store.read((tx) => witnessedLog(tx, origin)))?.size).to.equal(sizeA);
    const alarms = (await rows<{ origin: string; reason: string; evidence: string }>(us.context.store, "log_alarms", "origin = ?", origin));
    expect(alarms).to.have.length(1);
    const evidence = JSON.parse(alarms[0]!.evidence) as { known: { size: number }; claimed: { size: number } };
    expect(evidence.known.size).to.equal(sizeA);
    expect(evidence.claimed.size).to.be.greaterThan(sizeA);
    const entries = (await rows<{ entry: string }>(us.context.store, "audit_entries", "kind = 'log.inconsistent'")).map((row) => JSON.parse(row.entry) as { actor: string; details: { origin: string } });
    expect(entries).to.have.length(1);
    expect(entries[0]).to.deep.include({ actor: `peer:${GB}` });
    expect(entries[0]!.details.origin).to.equal(origin);

    const health = await localRequest(network.us.localPort, "GET", "/api/v1/health", { token: network.us.tokens.operator });
    expect(health.json.status).to.equal("degraded");
    expect(health.json.peers.find((p: { authority: string }) => p.authority === GB)).to.deep.include({ logConsistent: false, witnessedSize: sizeA });
  });
});
