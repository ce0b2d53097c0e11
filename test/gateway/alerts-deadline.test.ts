/**
 * A missed deadline is an alert for the webhooks, queued in the same
 * transaction as its `deadline.missed` audit entry, once whatever the
 * number of checks (the clock is moved, nothing sleeps).
 */
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { checkDeadlines } from "../../gateway/cases/deadlines.js";
import { createNetwork, type TestNetwork } from "./fixtures.js";
import { caseAt, configureClocks, DAY, mlaRequest, startOn, submit, TestClock, type RunningGateway } from "./cases/helpers.js";

describe("alerts: a missed deadline", function () {
  let network: TestNetwork;
  const clock = new TestClock();
  let gb: RunningGateway;
  let us: RunningGateway;

  before(async function () {
    network = await createNetwork();
    configureClocks(network.gb, { checkIntervalSeconds: 86400 });
    configureClocks(network.us, { checkIntervalSeconds: 86400 });
    const secretFile = join(network.dir, "alerts.secret");
    writeFileSync(secretFile, "0123456789abcdef0123456789abcdef\n", { mode: 0o600 });
    const path = join(network.us.home, "valise.json");
    const config = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    // Nothing listens on port 9: the rows stay queued, which is what this test reads.
    config["alerts"] = { webhooks: [{ name: "ops", url: "http://127.0.0.1:9/alerts", secretFile, events: ["alert.deadline.missed"] }], checkIntervalSeconds: 86400 };
    writeFileSync(path, JSON.stringify(config, null, 2));
    gb = await startOn(network.gb, clock);
    us = await startOn(network.us, clock);
  });

  after(async function () {
    await gb?.gateway.stop();
    await us?.gateway.stop();
    network?.cleanup();
  });

  it("queues alert.deadline.missed once, with the case and the clock", async function () {
    const caseId = await submit(network.gb, network.us, mlaRequest("emergency"));
    const receivedAt = Date.parse((await caseAt(network.us, caseId)).json.receivedAt as string);
    clock.offsetMs = receivedAt + 2 * DAY - Date.now();
    expect((await checkDeadlines(us.gateway.context)).length).to.be.greaterThan(0);
    await checkDeadlines(us.gateway.context);
    const rows = await us.gateway.context.store.inspect<{ kind: string; target: string; body: string }>("SELECT kind, target, body FROM webhook_deliveries");
    const missed = rows.filter((row) => row.kind === "alert.deadline.missed");
    const audited = await us.gateway.context.store.inspect<{ n: number }>("SELECT COUNT(*) AS n FROM audit_entries WHERE kind = 'deadline.missed'");
    expect(missed).to.have.length(Number(audited[0]!.n));
    const body = JSON.parse(missed[0]!.body) as { type: string; authority: string; data: Record<string, unknown> };
    expect(body).to.include({ type: "alert.deadline.missed", authority: "US-DOJ-OIA" });
    expect(body.data).to.include({ caseId, priority: "emergency", holder: "US-DOJ-OIA" });
    expect(rows.every((row) => row.kind === "alert.deadline.missed"), "only the subscribed type").to.equal(true);
  });
});
