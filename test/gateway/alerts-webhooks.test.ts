/**
 * Alerts leave through webhooks: a local receiver gets each alert as JSON
 * signed with HMAC-SHA256, with an event id; a receiver that answers 503
 * gets the same event (same id, same bytes) again until it answers 2xx; an
 * occurrence noticed by every periodic check is sent once.
 */
import http from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { createGateway, type Gateway } from "../../gateway/gateway.js";
import { createLogger } from "../../gateway/log.js";
import { signWebhook, verifyWebhookSignature } from "../../gateway/webhooks/signature.js";
import { eventIdOf } from "../../gateway/webhooks/events.js";
import { createNetwork, example, FAST_DELIVERY, localRequest, PASSPHRASE, waitFor, type TestNetwork } from "./fixtures.js";

const SECRET = "a webhook secret of more than sixteen bytes";

interface Received {
  readonly id: string | undefined;
  readonly signature: string | undefined;
  readonly body: string;
  readonly answered: number;
}

describe("webhook signatures", function () {
  const now = new Date("2026-01-01T00:00:00Z");
  const t = Math.floor(now.getTime() / 1000);
  const body = '{"id":"evt_1","type":"alert.outbox.stuck"}';

  it("verify the body, secret and time they were made with, and nothing else", function () {
    const header = signWebhook(SECRET, body, t);
    expect(header).to.match(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, body, header, now)).to.equal(true);
    expect(verifyWebhookSignature(SECRET, body.replace("stuck", "fixed"), header, now), "edited body").to.equal(false);
    expect(verifyWebhookSignature("another secret of enough length", body, header, now), "other secret").to.equal(false);
    expect(verifyWebhookSignature(SECRET, body, header, new Date(now.getTime() + 301_000)), "replayed later").to.equal(false);
    expect(verifyWebhookSignature(SECRET, body, header.replace(/^t=\d+/, `t=${t + 1}`), now), "edited time").to.equal(false);
    for (const malformed of [undefined, "", "v1=00", `t=${t},v1=zz`, `t=${t},v1=${"0".repeat(63)}`]) {
      expect(verifyWebhookSignature(SECRET, body, malformed, now), String(malformed)).to.equal(false);
    }
  });

  it("name an occurrence by type and key: the same occurrence has one id", function () {
    expect(eventIdOf("alert.delivery.failed", "e1:3")).to.equal(eventIdOf("alert.delivery.failed", "e1:3"));
    expect(eventIdOf("alert.delivery.failed", "e1:3")).to.not.equal(eventIdOf("alert.delivery.failed", "e1:4"));
    expect(eventIdOf("alert.delivery.failed", "x")).to.match(/^evt_[0-9a-f]{32}$/);
  });
});

describe("alerts to a local webhook receiver", function () {
  let network: TestNetwork;
  let gb: Gateway | undefined;
  let receiver: http.Server;
  const received: Received[] = [];
  const seen = new Set<string>();

  before(async function () {
    network = await createNetwork();
    // The receiver fails the first delivery of every event: the sender must come back with the same event.
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const id = req.headers["valise-event-id"] as string | undefined;
        const answered = id !== undefined && seen.has(id) ? 204 : 503;
        if (id !== undefined) seen.add(id);
        received.push({ id, signature: req.headers["valise-signature"] as string | undefined, body: Buffer.concat(chunks).toString("utf8"), answered });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const secretFile = join(network.dir, "webhook.secret");
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const configPath = join(network.gb.home, "valise.json");
    const config = JSON.parse((await import("node:fs")).readFileSync(configPath, "utf8")) as Record<string, unknown>;
    config["alerts"] = {
      webhooks: [{ name: "ops", url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/valise`, secretFile }],
      outboxStuckSeconds: 1,
      certificateExpiryDays: 3650,
      checkIntervalSeconds: 1,
    };
    writeFileSync(configPath, JSON.stringify(config, null, 2));
  });

  after(async function () {
    await gb?.stop();
    receiver?.close();
    network?.cleanup();
  });

  const delivered = (type: string): Promise<Array<Record<string, any>>> =>
    waitFor(`a delivered ${type} alert`, () => {
      const bodies = received.filter((r) => r.answered === 204).map((r) => JSON.parse(r.body) as Record<string, any>).filter((b) => b.type === type);
      return bodies.length > 0 ? bodies : undefined;
    }, 30_000);

  it("refuses to start when a webhook's secret cannot be read", async function () {
    const configPath = join(network.gb.home, "valise.json");
    const fs = await import("node:fs");
    const good = fs.readFileSync(configPath, "utf8");
    const broken = JSON.parse(good) as { alerts: { webhooks: Array<{ secretFile: string }> } };
    broken.alerts.webhooks[0]!.secretFile = join(network.dir, "no-such-secret");
    fs.writeFileSync(configPath, JSON.stringify(broken));
    try {
      const gateway = createGateway({ home: network.gb.home, passphrase: PASSPHRASE, logger: createLogger({ authority: "GB-UKCA", silent: true }) });
      const error = await gateway.start().then(
        () => gateway.stop().then(() => undefined),
        (e: unknown) => e,
      );
      expect(error).to.have.property("code", "CONFIG_INVALID");
    } finally {
      fs.writeFileSync(configPath, good);
    }
  });

  it("sends outbox stuck, certificate expiring and delivery failed, signed, retried with the same id and bytes until 2xx", async function () {
    gb = createGateway({
      home: network.gb.home,
      passphrase: PASSPHRASE,
      logger: createLogger({ authority: "GB-UKCA", silent: true }),
      delivery: { ...FAST_DELIVERY, giveUpAfterMs: 4000 },
      alertWebhooks: { initialBackoffMs: 50, maxBackoffMs: 200, idlePollMs: 50 },
    });
    await gb.start();
    // US is not running: the request waits in the outbox (stuck after 1 s), then fails for good (after 4 s).
    const submitted = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: example("mla-request", "valid-email-records") });
    expect(submitted.status, submitted.text).to.equal(201);
    const { envelopeId, caseId } = submitted.json as { envelopeId: string; caseId: string };

    const [stuck] = await delivered("alert.outbox.stuck");
    const health = await localRequest(network.gb.localPort, "GET", "/api/v1/health", { token: network.gb.tokens.operator });
    expect(health.json.outbox.stuck).to.equal(true);
    expect(health.json.outbox.oldestPendingAgeSeconds).to.be.at.least(1);
    expect(health.json.reasons.join("; ")).to.match(/outbox stuck: the oldest pending envelope has waited \d+ s/);
    expect(stuck!.authority).to.equal("GB-UKCA");
    expect(stuck!.data).to.include({ envelopeId, peer: "US-DOJ-OIA" });
    const expiring = await delivered("alert.certificate.expiring");
    expect(expiring[0]!.data.serial).to.be.a("string");
    const [failed] = await delivered("alert.delivery.failed");
    expect(failed!.data).to.include({ envelopeId, caseId, peer: "US-DOJ-OIA", code: "PEER_UNREACHABLE" });

    for (const request of received) {
      const body = JSON.parse(request.body) as { id: string };
      expect(request.id, "the header names the body's event").to.equal(body.id);
      expect(verifyWebhookSignature(SECRET, request.body, request.signature, new Date()), `signature of ${request.body}`).to.equal(true);
    }
    // Every event was refused once, then sent again byte for byte.
    for (const event of [stuck!, failed!, expiring[0]!]) {
      const attempts = received.filter((r) => r.id === event.id);
      expect(attempts.map((r) => r.answered).slice(0, 2), event.type).to.deep.equal([503, 204]);
      expect(attempts[1]!.body).to.equal(attempts[0]!.body);
    }
    // The check ran every second while the envelope was stuck: one event for that one occurrence, one per certificate.
    const idsOf = (type: string): Set<string> => new Set(received.filter((r) => (JSON.parse(r.body) as { type: string }).type === type).map((r) => r.id!));
    expect(idsOf("alert.outbox.stuck").size).to.equal(1);
    expect(idsOf("alert.certificate.expiring").size).to.equal(expiring.length);
    const rows = await gb.context.store.inspect<{ state: string; attempts: number }>("SELECT state, attempts FROM webhook_deliveries WHERE event_id = ?", [failed!.id]);
    expect(rows).to.deep.equal([{ state: "delivered", attempts: 2 }]);
  });
});
