/**
 * Outbox administration: an operator sees what failed and why, retries it
 * (same envelope, delivered once the peer is back) or cancels it (never
 * delivered), through the local API (role operator) and the CLI; each action
 * is in the audit log; a caseworker's text view of the case shows the failed
 * delivery and its last error.
 */
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import { count, createNetwork, example, FAST_DELIVERY, localRequest, waitFor, type TestNetwork } from "./fixtures.js";
import { valise } from "../scripts/cli-helpers.js";

describe("outbox administration: list, show, retry, cancel", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway | undefined;

  const submit = async (): Promise<{ caseId: string; envelopeId: string }> => {
    const submitted = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: example("mla-request", "valid-email-records") });
    expect(submitted.status, submitted.text).to.equal(201);
    return submitted.json as { caseId: string; envelopeId: string };
  };
  const outboxState = async (envelopeId: string): Promise<{ state: string; attempts: number; lastError: string | null }> =>
    (await localRequest(network.gb.localPort, "GET", `/api/v1/outbox/${envelopeId}`, { token: network.gb.tokens.operator })).json;
  const failed = (envelopeId: string): Promise<true> => waitFor(`envelope ${envelopeId} to fail for good`, async () => ((await outboxState(envelopeId)).state === "failed" ? true : undefined));

  before(async function () {
    network = await createNetwork();
    // US is not started: every delivery fails, and GB gives up after 300 ms.
    gb = network.gb.gateway({ ...FAST_DELIVERY, giveUpAfterMs: 300 });
    await gb.start();
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  it("lists failed deliveries with their last error, to operators only", async function () {
    const { envelopeId } = await submit();
    await failed(envelopeId);
    const asCaseworker = await localRequest(network.gb.localPort, "GET", "/api/v1/outbox", { token: network.gb.tokens.caseworker });
    expect(asCaseworker.status).to.equal(403);
    const listed = await localRequest(network.gb.localPort, "GET", "/api/v1/outbox", { token: network.gb.tokens.operator });
    expect(listed.status, listed.text).to.equal(200);
    const entry = (listed.json.outbox as Array<{ envelopeId: string; state: string; lastError: string; peer: string }>).find((e) => e.envelopeId === envelopeId);
    expect(entry).to.include({ state: "failed", peer: "US-DOJ-OIA" });
    expect(entry!.lastError).to.match(/^PEER_UNREACHABLE: /);
    const bad = await localRequest(network.gb.localPort, "GET", "/api/v1/outbox?state=lost", { token: network.gb.tokens.operator });
    expect(bad.status).to.equal(400);
    expect(bad.json.error.code).to.equal("USAGE");
    const unknown = await localRequest(network.gb.localPort, "GET", "/api/v1/outbox/no-such-envelope", { token: network.gb.tokens.operator });
    expect(unknown.status).to.equal(404);
    expect(unknown.json.error.code).to.equal("OUTBOX_UNKNOWN");
  });

  it("pages the list with a cursor bound to its filters: every envelope once, newest first", async function () {
    for (let i = 0; i < 3; i += 1) await failed((await submit()).envelopeId);
    const token = network.gb.tokens.operator;
    const all = (await localRequest(network.gb.localPort, "GET", "/api/v1/outbox?state=failed&limit=500", { token })).json;
    expect(all.next).to.equal(null);
    expect(all.outbox.length).to.be.at.least(3);
    const seen: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; text: string; json: any } = await localRequest(network.gb.localPort, "GET", `/api/v1/outbox?state=failed&limit=2${next === null ? "" : `&cursor=${next}`}`, { token });
      expect(page.status, page.text).to.equal(200);
      expect(page.json.outbox.length).to.be.at.most(2);
      seen.push(...(page.json.outbox as Array<{ envelopeId: string }>).map((e) => e.envelopeId));
      next = page.json.next as string | null;
      pages += 1;
      if (pages === 1) {
        // The cursor is the failed list's: under another state it is refused.
        const other = await localRequest(network.gb.localPort, "GET", `/api/v1/outbox?state=pending&cursor=${next}`, { token });
        expect(other.status).to.equal(400);
        expect(other.json.error.code).to.equal("CURSOR_LIST_MISMATCH");
      }
    } while (next !== null && pages < 100);
    expect(seen).to.deep.equal((all.outbox as Array<{ envelopeId: string }>).map((e) => e.envelopeId));
    const unknown = await localRequest(network.gb.localPort, "GET", "/api/v1/outbox?after=x", { token });
    expect(unknown.json.error.code).to.equal("USAGE");
  });

  it("shows a failed delivery and its last error in the caseworker's text view of the case", async function () {
    const { caseId, envelopeId } = await submit();
    await failed(envelopeId);
    const shown = await valise(["case", "show", caseId, "--home", network.gb.home]);
    expect(shown.exit, shown.stderr).to.equal(0);
    expect(shown.stdout).to.contain("Deliveries not received by the other authority:");
    expect(shown.stdout).to.match(new RegExp(`mla-request ${envelopeId} to US-DOJ-OIA: FAILED after \\d+ attempt\\(s\\)`));
    expect(shown.stdout).to.match(/last error: PEER_UNREACHABLE: /);
    expect(shown.stdout).to.contain("valise outbox retry");
  });

  it("retries a failed envelope (same id) until the peer is back, and cancels another for good; both audited", async function () {
    const retried = await submit();
    const cancelled = await submit();
    await failed(retried.envelopeId);
    await failed(cancelled.envelopeId);

    // Cancel through the CLI, on the store of the running gateway.
    const cancel = await valise(["outbox", "cancel", cancelled.envelopeId, "--home", network.gb.home, "--reason", "sent by mistake", "--json"]);
    expect(cancel.exit, cancel.stdout).to.equal(0);
    expect(cancel.json()).to.include({ envelopeId: cancelled.envelopeId, state: "cancelled" });
    const again = await valise(["outbox", "retry", cancelled.envelopeId, "--home", network.gb.home, "--json"]);
    expect(again.exit).to.equal(5);
    expect(again.json<{ error: { code: string; details: { state: string } } }>().error).to.deep.include({ code: "OUTBOX_STATE_INVALID" });
    const textRefusal = await valise(["outbox", "cancel", cancelled.envelopeId, "--home", network.gb.home]);
    expect(textRefusal.stderr).to.contain("error[OUTBOX_STATE_INVALID]");
    expect(textRefusal.stderr).to.match(/^ {2}state: cancelled$/m);

    // US comes back; the operator retries through the local API.
    us = network.us.gateway();
    await us.start();
    const retry = await localRequest(network.gb.localPort, "POST", `/api/v1/outbox/${retried.envelopeId}/retry`, { token: network.gb.tokens.operator, body: { reason: "US was down for maintenance" } });
    expect(retry.status, retry.text).to.equal(200);
    expect(retry.json).to.include({ envelopeId: retried.envelopeId, state: "pending" });
    expect(retry.json.retriedAt).to.be.a("string");
    await waitFor("the retried envelope to be delivered", async () => ((await outboxState(retried.envelopeId)).state === "delivered" ? true : undefined));
    expect(await count(us.context.store, "envelopes", "envelope_id = ?", retried.envelopeId)).to.equal(1);

    // Delivered: no more retries or cancels.
    const late = await localRequest(network.gb.localPort, "POST", `/api/v1/outbox/${retried.envelopeId}/cancel`, { token: network.gb.tokens.operator });
    expect(late.status).to.equal(409);
    expect(late.json.error.code).to.equal("OUTBOX_STATE_INVALID");

    // The cancelled envelope stays cancelled and never reached US, though US is up and the worker ran.
    expect((await outboxState(cancelled.envelopeId)).state).to.equal("cancelled");
    expect(await count(us.context.store, "envelopes", "envelope_id = ?", cancelled.envelopeId)).to.equal(0);

    const audit = await gb.context.store.inspect<{ kind: string; actor: string; envelope_id: string; entry: string }>(
      "SELECT kind, actor, envelope_id, entry FROM audit_entries WHERE kind IN ('delivery.retried', 'delivery.cancelled') ORDER BY idx",
    );
    expect(audit.map((row) => [row.kind, row.actor, row.envelope_id])).to.deep.equal([
      ["delivery.cancelled", "operator", cancelled.envelopeId],
      ["delivery.retried", "token:ops", retried.envelopeId],
    ]);
    expect(JSON.parse(audit[0]!.entry).details).to.include({ reason: "sent by mistake", previousState: "failed" });
  });

  it("refuses an unusable list filter or reason from the CLI with a code and a sentence, changing nothing", async function () {
    const listed = await valise(["outbox", "list", "--state", "lost", "--home", network.gb.home]);
    expect(listed.exit).to.equal(2);
    expect(listed.stderr).to.match(/error\[USAGE\]: unknown outbox state "lost": use open/);
    const before = await count(gb.context.store, "audit_entries");
    const { envelopeId } = await submit();
    // US is up again: let the delivery finish first, so that its entries are not taken for the CLI's.
    await waitFor("the envelope to be delivered", async () => ((await outboxState(envelopeId)).state === "delivered" ? true : undefined));
    const afterSubmit = await count(gb.context.store, "audit_entries");
    const long = await valise(["outbox", "cancel", envelopeId, "--reason", "x".repeat(501), "--home", network.gb.home, "--json"]);
    expect(long.json<{ error: { code: string } }>().error.code).to.equal("USAGE");
    expect(await count(gb.context.store, "audit_entries")).to.equal(afterSubmit);
    expect(afterSubmit).to.be.greaterThan(before);
    expect((await outboxState(envelopeId)).state).to.equal("delivered");
  });
});
