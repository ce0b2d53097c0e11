/**
 * Envelopes queued under a sign key that is revoked before they are
 * delivered: GB queues a request and a withdrawal that follows it while US is
 * down, then rotates its sign key and revokes the old one (keyCompromise);
 * US learns the revocation. GB re-seals both under the new key as new
 * envelopes of the same case (the withdrawal following the new request),
 * marks the old ones superseded, audits it, and delivers the new ones once
 * US is back — where the old bytes would be refused forever.
 */
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import { updatePeer } from "../../pki/peers.js";
import { jwkThumbprint } from "../../pki/keys.js";
import { count, createNetwork, example, localRequest, PASSPHRASE, waitFor, type TestNetwork } from "./fixtures.js";
import { valise } from "../scripts/cli-helpers.js";

interface OutboxRow {
  envelope_id: string;
  state: string;
  superseded_by: string | null;
  created_at: string;
}

describe("gateway delivery: envelopes queued under a revoked sign key are re-sealed", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway | undefined;

  before(async function () {
    network = await createNetwork();
    gb = network.gb.gateway();
    await gb.start();
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  it("re-seals a queued request and the step that follows it under the new key, in the same case, and delivers them", async function () {
    const caseworker = network.gb.tokens.caseworker;
    const submitted = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: caseworker, body: example("mla-request", "valid-email-records") });
    expect(submitted.status, submitted.text).to.equal(201);
    const { caseId, envelopeId: request } = submitted.json as { caseId: string; envelopeId: string };
    const withdrawn = await localRequest(network.gb.localPort, "POST", `/api/v1/cases/${caseId}/status`, { token: caseworker, body: { step: "withdraw", note: "sent in error" } });
    expect(withdrawn.status, withdrawn.text).to.equal(201);
    const withdrawal = withdrawn.json.envelopeId as string;
    const db = gb.context.store;
    const outbox = async (id: string) => (await db.inspect<OutboxRow>("SELECT envelope_id, state, superseded_by, created_at FROM outbox WHERE envelope_id = ?", [id]))[0]!;
    const queuedAt = (await outbox(request)).created_at;
    // US is down: both wait, and at least one attempt failed.
    await waitFor("a failed attempt", async () => (((await db.inspect("SELECT attempts FROM outbox WHERE envelope_id = ?", [request]))[0] as { attempts: number }).attempts > 0 ? true : undefined));

    const gbPki = network.gb.pki();
    const oldSerial = gbPki.currentCertificate("sign").serial;
    const oldKid = await jwkThumbprint(gbPki.currentCertificate("sign").publicKey);
    const env = { VALISE_PASSPHRASE: PASSPHRASE };
    expect((await valise(["pki", "rotate", "sign", "--home", network.gb.home], env)).exit).to.equal(0);
    expect((await valise(["pki", "revoke", oldSerial, "--reason", "keyCompromise", "--home", network.gb.home], env)).exit).to.equal(0);
    const newKid = await jwkThumbprint(network.gb.pki().currentCertificate("sign").publicKey);
    await updatePeer(join(network.us.home, "peers"), await network.gb.bundle());

    // Re-sealed without waiting for US: the old rows superseded, each by a new envelope.
    const [oldRequest, oldWithdrawal] = await waitFor("both envelopes to be re-sealed", async () => {
      const rows = [await outbox(request), await outbox(withdrawal)];
      return rows.every((row) => row.state === "superseded") ? rows : undefined;
    });
    const newRequest = oldRequest!.superseded_by!;
    const newWithdrawal = oldWithdrawal!.superseded_by!;
    expect(newRequest).to.be.a("string").and.not.equal(request);
    expect(newWithdrawal).to.be.a("string").and.not.equal(withdrawal);
    const envelope = async (id: string) =>
      (await db.inspect("SELECT case_id, type, in_reply_to, signer_kid FROM envelopes WHERE envelope_id = ?", [id]))[0] as { case_id: string; type: string; in_reply_to: string | null; signer_kid: string };
    expect(await envelope(newRequest)).to.deep.equal({ case_id: caseId, type: "mla-request", in_reply_to: null, signer_kid: newKid });
    expect(await envelope(newWithdrawal)).to.deep.equal({ case_id: caseId, type: "status-update", in_reply_to: newRequest, signer_kid: newKid });
    expect((await envelope(request)).signer_kid).to.equal(oldKid);
    // The give-up time still counts from when the request was first queued.
    expect((await outbox(newRequest)).created_at).to.equal(queuedAt);

    // The case follows: its request, its head, its history.
    const record = (await db.inspect("SELECT status, request_envelope_id, head_envelope_id FROM cases WHERE case_id = ?", [caseId]))[0];
    expect(record).to.deep.equal({ status: "withdrawn", request_envelope_id: newRequest, head_envelope_id: newWithdrawal });
    const steps = (await db.inspect("SELECT envelope_id, predecessor, step, state FROM case_steps WHERE case_id = ?", [caseId]));
    expect(steps).to.deep.equal([{ envelope_id: newWithdrawal, predecessor: newRequest, step: "withdraw", state: "applied" }]);

    // Audited: each re-sealed envelope names the one it supersedes.
    const resealed = ((await db.inspect("SELECT entry FROM audit_entries WHERE kind = 'envelope.resealed' ORDER BY idx", [])) as Array<{ entry: string }>).map((row) => JSON.parse(row.entry));
    expect(resealed.map((entry) => [entry.envelopeId, entry.details.supersedes, entry.details.supersededSignerKid, entry.details.signerKid])).to.deep.equal([
      [newRequest, request, oldKid, newKid],
      [newWithdrawal, withdrawal, oldKid, newKid],
    ]);
    const timeline = (await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}`, { token: caseworker })).json;
    const old = timeline.envelopes.find((e: { envelopeId: string }) => e.envelopeId === request);
    expect(old.delivery).to.include({ state: "superseded", supersededBy: newRequest });

    // US comes back: it receives the new envelopes, and only those, in the same case.
    us = network.us.gateway();
    await us.start();
    await waitFor("both new envelopes to be delivered", async () =>
      (await outbox(newRequest)).state === "delivered" && (await outbox(newWithdrawal)).state === "delivered" ? true : undefined,
    );
    const usDb = us.context.store;
    expect(await count(usDb, "envelopes", "envelope_id IN (?, ?)", request, withdrawal)).to.equal(0);
    expect(await count(usDb, "envelopes", "envelope_id IN (?, ?) AND case_id = ?", newRequest, newWithdrawal, caseId)).to.equal(2);
    const usCase = (await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.us.tokens.caseworker })).json;
    expect(usCase.status).to.equal("withdrawn");
    expect(await count(db, "outbox", "state = 'failed'")).to.equal(0);
  });
});
