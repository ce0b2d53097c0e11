/**
 * Disaster recovery end to end, with two gateway processes (`valise start`)
 * on each engine, as the README's recovery section tells an operator:
 *
 * GB is backed up; GB and US exchange more (a request GB sends, steps and a
 * request US sends); US cosigns GB's grown log; GB's home is restored from
 * the backup (on PostgreSQL with pg_restore of the dump taken beside it).
 * The restored GB refuses to start, saying what it found and what to run.
 * A restored log that ran on regardless (simulated: its checkpoint is sent
 * to US's witness) raises US's alarm. `valise audit new-epoch` states the
 * loss; US checks the statement against what it cosigned, accepts epoch 2,
 * and its alarm is resolved, kept. GB starts, reconciles with US (by itself,
 * then by hand again: nothing left), gets back every envelope US had sent it
 * after the backup, lists its own lost envelopes with US's receipts, and the
 * two case lists agree. `audit verify` passes on both sides and reports the
 * lost range. A tampered epoch statement is refused.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { startGatewayProcess, type GatewayProcess } from "../../../scripts/demo/gateway-process.js";
import { openHome } from "../../../gateway/home.js";
import { openHomeStore } from "../../../gateway/store/home-store.js";
import type { Store } from "../../../gateway/store/store.js";
import { withStoredTree } from "../../../gateway/audit/stored-tree.js";
import { consistencyProof } from "../../../gateway/audit/merkle.js";
import { formatAddCheckpointRequest } from "../../../gateway/audit/witness-request.js";
import { epochSubmission } from "../../../gateway/audit/new-epoch.js";
import { verifyEpochSubmission, type EpochSubmission } from "../../../gateway/audit/epoch-statement.js";
import { readRestoreMarker } from "../../../gateway/backup/restore-marker.js";
import { emptyRoot } from "../../../gateway/audit/merkle.js";
import { forEachEngine } from "../../store/engines.js";
import { createNetwork, example, localRequest, PASSPHRASE, peerRequest, waitFor, type TestAuthority, type TestNetwork } from "../fixtures.js";
import { step, submit, waitForDelivered, waitForStatus } from "../cases/helpers.js";
import { cli, errorCode, moveToEngine } from "./helpers.js";

const GB = "GB-UKCA";
const US = "US-DOJ-OIA";

/** A request US sends to GB (a schema example, readdressed). */
function usRequest(): Record<string, unknown> {
  return { ...example("mla-request", "valid-reciprocity-witness"), requestingAuthority: US, requestedAuthority: GB };
}

async function withStore<T>(authority: TestAuthority, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openHomeStore(openHome(authority.home), "refuse");
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

async function casesOf(authority: TestAuthority): Promise<Array<{ caseId: string; status: string }>> {
  const answer = await localRequest(authority.localPort, "GET", "/api/v1/cases", { token: authority.tokens.caseworker });
  expect(answer.status, answer.text).to.equal(200);
  const list = (answer.json.cases ?? answer.json) as Array<{ caseId: string; status: string }>;
  return list.map((c) => ({ caseId: c.caseId, status: c.status })).sort((a, b) => a.caseId.localeCompare(b.caseId));
}

forEachEngine("disaster recovery", (engine) =>
  describe("GB restored from a backup while US went on", function () {
    this.timeout(300_000);
    let network: TestNetwork;
    let gb: GatewayProcess | undefined;
    let us: GatewayProcess | undefined;

    const start = (authority: TestAuthority): Promise<GatewayProcess> => startGatewayProcess({ home: authority.home, passphrase: PASSPHRASE });

    before(async function () {
      network = await createNetwork();
      await moveToEngine(network.gb, engine);
      await moveToEngine(network.us, engine);
      us = await start(network.us);
      gb = await start(network.gb);
    });

    after(async function () {
      await gb?.stop();
      await us?.stop();
      network?.cleanup();
    });

    it("goes from a restored home behind its peer to epoch 2, reconciled, both logs verifying", async function () {
      const dir = network.dir;
      // Before the backup: a request GB sent and US acknowledged.
      const caseA = await submit(network.gb, network.us);
      await step(network.us, caseA, { step: "acknowledge" });
      await waitForStatus(network.gb, caseA, "acknowledged");
      await waitForDelivered(network.us, caseA);

      // The backup (and, on PostgreSQL, the database dump the README asks for beside it).
      const archive = join(dir, "gb.backup.tar");
      const dumpFile = join(dir, "gb.pgdump");
      const pgUrl = (JSON.parse(readFileSync(join(network.gb.home, "valise.json"), "utf8")) as { store?: { url?: string } }).store?.url;
      const backup = await cli(["backup", "--home", network.gb.home, "--out", archive, "--json"]);
      expect(backup.exit, backup.stdout + backup.stderr).to.equal(0);
      if (pgUrl !== undefined) execFileSync("pg_dump", ["--format=custom", `--file=${dumpFile}`, pgUrl]);
      const backedUp = backup.json<{ log: { size: number } }>().log.size;

      // After the backup: GB's request B (US acknowledges it), US accepts A, US sends request C.
      const caseB = await submit(network.gb, network.us);
      await step(network.us, caseB, { step: "acknowledge" });
      await step(network.us, caseA, { step: "accept" });
      const sent = await localRequest(network.us.localPort, "POST", "/api/v1/requests", { token: network.us.tokens.caseworker, body: usRequest() });
      expect(sent.status, sent.text).to.equal(201);
      const caseC = sent.json.caseId as string;
      await waitForStatus(network.gb, caseB, "acknowledged");
      await waitForStatus(network.gb, caseA, "accepted");
      await waitFor("case C at GB", async () => ((await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseC}`, { token: network.gb.tokens.caseworker })).status === 200 ? true : undefined));
      for (const caseId of [caseA, caseB]) await waitForDelivered(network.us, caseId);
      await waitForDelivered(network.us, caseC);
      await waitForDelivered(network.gb, caseB);
      // US has witnessed GB's grown log: what a restore to the backup would lose.
      const cosigned = await waitFor("US to cosign GB's log past the backup", () =>
        withStore(network.us, async (store) => {
          const row = (await store.inspect<{ size: number }>("SELECT size FROM witnessed_logs WHERE origin = ?", [`valise/${GB}`]))[0];
          return row !== undefined && row.size > backedUp + 5 ? row.size : undefined;
        }),
      );
      const usBefore = await casesOf(network.us);
      // What US sent GB after the backup, and what GB sent US after it: the envelopes GB will lose.
      const lostFromUs = await withStore(network.us, (store) =>
        store.inspect<{ envelope_id: string }>("SELECT envelope_id FROM envelopes WHERE direction = 'outbound' AND case_id IN (?, ?, ?) AND envelope_id NOT IN (SELECT envelope_id FROM case_steps WHERE case_id = ? AND step = 'acknowledge')", [caseA, caseB, caseC, caseA]),
      );
      const lostOwn = await withStore(network.us, (store) => store.inspect<{ envelope_id: string }>("SELECT envelope_id FROM envelopes WHERE direction = 'inbound' AND case_id = ?", [caseB]));

      // The disaster: GB is stopped and its home restored from the backup.
      expect((await gb!.stop()).code).to.equal(0);
      gb = undefined;
      const restore = await cli(["restore", archive, "--home", network.gb.home, "--force", "--fingerprint", network.gb.rootFingerprint, "--json"]);
      expect(restore.exit, restore.stdout + restore.stderr).to.equal(0);
      if (pgUrl !== undefined) {
        // The database side, as the README says: an empty database, then pg_restore of the dump.
        const name = new URL(pgUrl).pathname.slice(1);
        const admin = new URL(pgUrl);
        admin.pathname = "/postgres";
        execFileSync("psql", [admin.toString(), "-c", `DROP DATABASE ${name} WITH (FORCE)`, "-c", `CREATE DATABASE ${name}`]);
        execFileSync("pg_restore", ["--no-owner", `--dbname=${pgUrl}`, dumpFile]);
      }

      // The restored GB does not start silently: it says what it found and what to run.
      const refused = await start(network.gb).then(
        (process) => {
          gb = process;
          return "";
        },
        (error: Error) => error.message,
      );
      expect(refused).to.include("AUDIT_LOG_BEHIND_PEERS");
      expect(refused).to.include("valise audit new-epoch");

      // A restored log that ran on regardless (what happened before this check existed): its checkpoint reaches US's witness, which raises the alarm.
      while ((await withStore(network.gb, (store) => store.read((tx) => tx.audit.leafCount()))) <= cosigned) {
        expect((await cli(["token", "create", "--home", network.gb.home, "--role", "auditor", "--name", "filler", "--json"])).exit).to.equal(0);
      }
      const forked = await withStore(network.gb, (store) =>
        store.read(async (tx) => {
          const checkpoint = (await tx.audit.checkpoint())!;
          const proof = await withStoredTree(tx, checkpoint.size, (reader) => consistencyProof(reader, cosigned, checkpoint.size));
          return formatAddCheckpointRequest({ oldSize: cosigned, proof, checkpoint: checkpoint.note });
        }),
      );
      const witnessAnswer = await peerRequest(network.us.peerPort, "POST", "/peer/v1/witness/add-checkpoint", {
        ca: network.us.rootPem(),
        credentials: network.gb.tlsCredentials(),
        body: forked,
        headers: { "content-type": "text/plain" },
      });
      expect(witnessAnswer.status, witnessAnswer.text).to.equal(422);
      const healthBefore = await localRequest(network.us.localPort, "GET", "/api/v1/health", { token: network.us.tokens.operator });
      expect(healthBefore.json.peers.find((p: { authority: string }) => p.authority === GB)).to.deep.include({ logConsistent: false, logEpoch: 1 });
      const alarmId = healthBefore.json.logAlarms[0].id as number;

      // What US cosigned of GB's first epoch, as the statement will be checked against it.
      const usView = await withStore(network.us, async (store) => (await store.inspect<{ size: number; root: Buffer }>("SELECT size, root FROM witnessed_logs WHERE origin = ?", [`valise/${GB}`]))[0]!);
      // new-epoch on GB states the loss; US accepts it and resolves its alarm.
      const epoch = await cli(["audit", "new-epoch", "--home", network.gb.home, "--operator", "night-duty", "--json"]);
      expect(epoch.exit, epoch.stdout + epoch.stderr).to.equal(0);
      const started = epoch.json<{ epoch: number; origin: string; statement: { lost: { from: number; to: number }; forced: boolean }; peers: Array<{ peer: string; outcome: string; alarmsResolved: number[] }> }>();
      expect(started).to.deep.include({ epoch: 2, origin: `valise/${GB}/epoch-2` });
      expect(started.statement.lost).to.deep.include({ from: backedUp, to: cosigned - 1 });
      expect(started.statement.forced).to.equal(false);
      expect(started.peers).to.deep.equal([{ peer: US, outcome: "accepted", alarmsResolved: [alarmId] }]);
      const healthAfter = await localRequest(network.us.localPort, "GET", "/api/v1/health", { token: network.us.tokens.operator });
      expect(healthAfter.json.peers.find((p: { authority: string }) => p.authority === GB)).to.deep.include({ logConsistent: true, logEpoch: 2 });
      expect(healthAfter.json.logAlarms).to.have.length(1); // kept …
      expect(healthAfter.json.logAlarms[0].resolved.by).to.equal(`valise/${GB}/epoch-2`); // … and resolved

      // A tampered statement is refused, by the pure check and by US's peer API.
      const submission = (await withStore(network.gb, (store) => store.read((tx) => epochSubmission(tx, GB))))!.submission;
      const gbLogKeys = network.gb.pki().certificates("log").map((c) => c.certificate.publicKey);
      const view = { authority: GB, logKeys: gbLogKeys, current: { epoch: 1, origin: `valise/${GB}` }, cosigned: { size: usView.size, root: Buffer.from(usView.root) }, anchorRoot: undefined };
      expect(verifyEpochSubmission(submission, view).statement.epoch).to.equal(2);
      const tampered = structuredClone(submission) as EpochSubmission & { entry: { details: { lost: { to: number } } } };
      tampered.entry.details.lost.to = cosigned - 3;
      expect(() => verifyEpochSubmission(tampered, view)).to.throw().with.property("code", "AUDIT_EPOCH_INVALID");
      expect(() => verifyEpochSubmission(submission, { ...view, cosigned: { size: cosigned + 10, root: emptyRoot() } })).to.throw().with.property("code", "AUDIT_EPOCH_INVALID");
      const refusedByUs = await peerRequest(network.us.peerPort, "POST", "/peer/v1/log/epochs", { ca: network.us.rootPem(), credentials: network.gb.tlsCredentials(), body: JSON.stringify(tampered) });
      expect(refusedByUs.status).to.equal(422);
      expect(refusedByUs.json.error.code).to.equal("AUDIT_EPOCH_INVALID");

      // GB starts, and reconciles with US by itself (the restore marker goes when done).
      gb = await start(network.gb);
      await waitFor("the reconciliation after the restore", () => (readRestoreMarker(network.gb.home) === undefined ? true : undefined), 60_000);
      const reports = readdirSync(join(network.gb.home, "reconciliation"));
      expect(reports).to.have.length(1);
      const report = JSON.parse(readFileSync(join(network.gb.home, "reconciliation", reports[0]!), "utf8")) as {
        receivedAgain: Array<{ envelopeId: string }>;
        recovered: Array<{ envelopeId: string; receipt: { jws: string; log: { origin: string } | null } }>;
        unresolved: unknown[];
        casesAgree: boolean;
      };
      expect(report.unresolved).to.deep.equal([]);
      expect(report.receivedAgain.map((r) => r.envelopeId).sort()).to.deep.equal(lostFromUs.map((r) => r.envelope_id).sort());
      expect(report.recovered.map((r) => r.envelopeId).sort()).to.deep.equal(lostOwn.map((r) => r.envelope_id).sort());
      for (const r of report.recovered) expect(r.receipt.log?.origin).to.equal(`valise/${US}`);
      expect(report.casesAgree).to.equal(true);
      // By hand again: nothing left to take back. And no new epoch for a log that lost nothing (US's).
      expect(errorCode(await cli(["audit", "new-epoch", "--home", network.us.home, "--json"]))).to.equal("AUDIT_EPOCH_NOT_NEEDED");
      const again = await cli(["peers", "reconcile", US, "--home", network.gb.home, "--json"]);
      expect(again.exit, again.stdout + again.stderr).to.equal(0);
      expect(again.json()).to.deep.include({ receivedAgain: [], recovered: [], casesAgree: true });
      // The two sides' case lists agree again, through their local APIs.
      expect(await casesOf(network.gb)).to.deep.equal(await casesOf(network.us));
      expect(await casesOf(network.us)).to.deep.equal(usBefore);
      expect((await casesOf(network.gb)).map((c) => c.caseId).sort()).to.deep.equal([caseA, caseB, caseC].sort());

      // audit verify on both sides passes and reports the lost range.
      const bundles = { gb: join(dir, "gb.bundle.json"), us: join(dir, "us.bundle.json") };
      writeFileSync(bundles.gb, JSON.stringify(await network.gb.bundle()));
      writeFileSync(bundles.us, JSON.stringify(await network.us.bundle()));
      for (const [authority, name] of [
        [network.gb, "gb"],
        [network.us, "us"],
      ] as const) {
        const out = join(dir, `${name}.audit.json`);
        const exported = await cli(["audit", "export", "--home", authority.home, "--out", out, "--json"]);
        expect(exported.exit, exported.stdout + exported.stderr).to.equal(0);
        const verified = await cli(["audit", "verify", out, "--trust", bundles.gb, "--trust", bundles.us, "--json"]);
        expect(verified.exit, `${name}: ${verified.stdout}${verified.stderr}`).to.equal(0);
        const verifiedReport = verified.json<{ epochs: Array<{ epoch: number; lost: { from: number; to: number } | null }>; peerEpochs: Array<{ peer: string; lost: { from: number; to: number } | null }> }>();
        if (name === "gb") {
          expect(verifiedReport.epochs.map((e) => e.epoch)).to.deep.equal([1, 2]);
          expect(verifiedReport.epochs[1]!.lost).to.deep.include({ from: backedUp, to: cosigned - 1 });
        } else {
          expect(verifiedReport.peerEpochs).to.have.length(1);
          expect(verifiedReport.peerEpochs[0]).to.deep.include({ peer: GB });
          expect(verifiedReport.peerEpochs[0]!.lost).to.deep.include({ from: backedUp, to: cosigned - 1 });
        }
      }
      expect(existsSync(archive)).to.equal(true);
    });
  }),
);
