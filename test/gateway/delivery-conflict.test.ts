/**
 * A 409 from the receiver is not final at once: it may come from the
 * receiver's state while our own envelope was being stored by another
 * delivery (a retry racing the first attempt, a restart), so the sender
 * retries, and a redelivery is answered with the receipt. Only an envelope
 * answered 409 on attempt after attempt is given up. Real gateways over
 * mutual TLS; the conflicting state is a case row with the same id that US
 * holds while GB delivers.
 */
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import Database from "better-sqlite3";
import { withHomeStore } from "../../gateway/store/home-store.js";
import { openHome } from "../../gateway/home.js";
import { example, localRequest, waitFor, type TestNetwork, startNetwork, stopNetwork } from "./fixtures.js";

interface OutboxRow {
  state: string;
  attempts: number;
  last_error: string | null;
}

describe("gateway delivery: a 409 from the receiver", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway | undefined;

  const outbox = async (envelopeId: string): Promise<OutboxRow> =>
    (await gb.context.store.inspect<OutboxRow>("SELECT state, attempts, last_error FROM outbox WHERE envelope_id = ?", [envelopeId]))[0]!;

  /** Submits at GB while US is stopped, and gives US a case of the same id before it starts again. */
  async function submitIntoConflict(): Promise<{ caseId: string; envelopeId: string }> {
    await us?.stop();
    us = undefined;
    const submitted = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: example("mla-request", "valid-email-records") });
    expect(submitted.status, submitted.text).to.equal(201);
    await withHomeStore(openHome(network.us.home), "refuse", (store) =>
      store.transaction((tx) =>
        tx.cases.insert({ caseId: submitted.json.caseId, direction: "inbound", kind: "mla-request", peer: "GB-UKCA", status: "received", priority: "normal", at: new Date().toISOString() }),
      ),
    );
    us = network.us.gateway();
    await us.start();
    return submitted.json as { caseId: string; envelopeId: string };
  }

  before(async function () {
    ({ network, gb, us } = await startNetwork());
  });

  after(() => stopNetwork({ network, gb, us }));

  it("retries after a 409 and delivers once the receiver's state allows it", async function () {
    const { caseId, envelopeId } = await submitIntoConflict();
    const refused = await waitFor("a 409 recorded by GB", async () => {
      const row = await outbox(envelopeId);
      return row.last_error?.startsWith("CASE_CONFLICT") === true ? row : undefined;
    });
    expect(refused.state, "one 409 must not give the envelope up").to.equal("pending");
    // The case US made up goes away (as an operator would repair it): now the envelope fits.
    const file = new Database(join(network.us.home, "valise.db"));
    try {
      file.prepare("DELETE FROM cases WHERE case_id = ?").run(caseId);
    } finally {
      file.close();
    }
    const delivered = await waitFor("GB's delivery", async () => ((await outbox(envelopeId)).state === "delivered" ? outbox(envelopeId) : undefined));
    expect(delivered.attempts).to.be.at.least(2);
  });

  it("gives up an envelope answered 409 on three attempts in a row", async function () {
    const { envelopeId } = await submitIntoConflict();
    const failed = await waitFor("GB to give up", async () => ((await outbox(envelopeId)).state === "failed" ? outbox(envelopeId) : undefined));
    expect(failed.attempts).to.be.at.least(3); // attempts while US was down count as attempts, not as 409s
    expect(failed.last_error).to.match(/^CASE_CONFLICT/);
  });
});
