/**
 * The repositories behind outbox administration and webhooks, on both
 * engines: retry and cancel move only the states they may, a cancelled
 * envelope is never claimed; webhook events are queued once per target and
 * event id (subscriptions respected) and claimed by one sender at a time.
 */
import { expect } from "chai";
import { openStore, type Store } from "../../gateway/store/store.js";
import { enqueueWebhookEvent } from "../../gateway/webhooks/events.js";
import { cancelDelivery, retryDelivery } from "../../gateway/delivery/outbox-admin.js";
import { forEachEngine } from "./engines.js";

const at = "2026-03-01T10:00:00.000Z";

forEachEngine("outbox administration and webhook deliveries", (engine) => {
  let store: Store;

  beforeEach(async function () {
    store = await openStore(await engine.location(), "apply");
    await store.transaction(async (tx) => {
      await tx.cases.insert({ caseId: "c", direction: "outbound", kind: "mla-request", peer: "US", status: "submitted", priority: "normal", at });
      for (const id of ["e-1", "e-2"]) {
        await tx.envelopes.insert({ envelopeId: id, caseId: "c", direction: "outbound", type: "status-update", from: "GB", to: "US", inReplyTo: null, createdAt: at, storedAt: at, digest: "00", signerKid: "k", wire: "{}", document: "{}" });
        await tx.outbox.enqueue({ envelopeId: id, peer: "US", rank: 2, at: new Date(at) });
      }
    });
  });
  afterEach(async function () {
    await store?.close();
  });

  it("retries a failed envelope (due now, give-up clock restarted) and cancels another, which is never claimed", async function () {
    const now = new Date(Date.parse(at) + 3_600_000);
    await store.transaction((tx) => tx.outbox.markFailed("e-1", 5, "PEER_UNREACHABLE: down", at));
    const retried = await store.transaction((tx) => retryDelivery(tx, { envelopeId: "e-1", actor: "operator", now }));
    expect(retried).to.include({ state: "pending", attempts: 5, retriedAt: now.toISOString(), nextAttemptAt: now.toISOString(), finishedAt: null });
    const cancelled = await store.transaction((tx) => cancelDelivery(tx, { envelopeId: "e-2", actor: "operator", now, reason: "wrong peer" }));
    expect(cancelled.state).to.equal("cancelled");
    const claimed = await store.transaction((tx) => tx.outbox.claimDue("x", now.getTime(), 30_000, 10));
    expect(claimed.map((r) => [r.envelope_id, r.retry_from])).to.deep.equal([["e-1", now.toISOString()]]);
    expect(await store.read((tx) => tx.outbox.health())).to.deep.include({ pending: 1, failed: 0, oldest: now.toISOString() });
    // A cancelled envelope's in-flight delivery that comes back receipted is delivered all the same.
    expect(await store.transaction((tx) => tx.outbox.markDelivered("e-2", now.toISOString()))).to.equal(true);
    for (const [id, verb] of [["e-2", "retry"], ["e-2", "cancel"]] as const) {
      const refused = await store
        .transaction((tx) => (verb === "retry" ? retryDelivery(tx, { envelopeId: id, actor: "operator", now }) : cancelDelivery(tx, { envelopeId: id, actor: "operator", now })))
        .then(() => "resolved", (error: { code?: string }) => error.code);
      expect(refused, verb).to.equal("OUTBOX_STATE_INVALID");
    }
    const audited = await store.inspect<{ kind: string }>("SELECT kind FROM audit_entries ORDER BY idx");
    expect(audited.map((row) => row.kind)).to.deep.equal(["delivery.retried", "delivery.cancelled"]);
  });

  it("queues an event once per subscribed target and event id, and hands each row to one sender", async function () {
    const targets = [
      { name: "all", url: "http://127.0.0.1:9/a" },
      { name: "failures-only", url: "http://127.0.0.1:9/b", events: ["alert.delivery.failed"] },
    ];
    const event = { type: "alert.outbox.stuck", key: "e-1:since", time: new Date(at), authority: "GB-UKCA", data: { envelopeId: "e-1" } };
    const id = await store.transaction((tx) => enqueueWebhookEvent(tx, targets, event));
    expect(await store.transaction((tx) => enqueueWebhookEvent(tx, targets, event)), "the same occurrence").to.equal(id);
    await store.transaction((tx) => enqueueWebhookEvent(tx, targets, { ...event, type: "alert.delivery.failed", key: "e-1:5" }));
    const rows = await store.inspect<{ target: string; kind: string }>("SELECT target, kind FROM webhook_deliveries ORDER BY kind, target");
    expect(rows.map((r) => [r.kind, r.target])).to.deep.equal([
      ["alert.delivery.failed", "all"],
      ["alert.delivery.failed", "failures-only"],
      ["alert.outbox.stuck", "all"],
    ]);
    const now = Date.parse(at) + 1;
    const [a, b] = await Promise.all([store.transaction((tx) => tx.webhooks.claimDue("a", now, 30_000, 10)), store.transaction((tx) => tx.webhooks.claimDue("b", now, 30_000, 10))]);
    expect([...a, ...b]).to.have.length(3);
    const first = a[0] ?? b[0]!;
    expect(JSON.parse(first.body)).to.include({ authority: "GB-UKCA" });
    await store.transaction((tx) => tx.webhooks.reschedule(first.event_id, first.target, 1, now + 60_000, "answered 503"));
    expect(await store.read((tx) => tx.webhooks.nextDue())).to.equal(now + 30_000);
    await store.transaction((tx) => tx.webhooks.markDelivered(first.event_id, first.target, 2, at));
    expect(await store.read((tx) => tx.webhooks.health())).to.deep.equal({ pending: 2, failed: 0 });
  });
});
