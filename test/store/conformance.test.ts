/**
 * The store conformance suite, run against both engines: every repository
 * operation the gateway relies on, rollbacks, concurrent transactions, and
 * the audit log's density under concurrent appends from two processes.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "chai";
import Database from "better-sqlite3";
import pg from "pg";
import { openStore, type Store, type StoreLocation } from "../../gateway/store/store.js";
import { appendEntry, readEntries } from "../../gateway/audit/append.js";
import { withStoredTree } from "../../gateway/audit/stored-tree.js";
import { rootFromLeafHashes, treeRoot, inclusionProof, leafHash } from "../../gateway/audit/merkle.js";
import { verifyInclusion } from "../../gateway/audit/merkle-verify.js";
import { GatewayError } from "../../gateway/errors.js";
import { forEachEngine } from "./engines.js";

const run = promisify(execFile);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof GatewayError ? error.code : `not a GatewayError: ${String(error)}`;
  }
  return "resolved";
}

/** Runs raw SQL against the location, as an attacker with database access would. */
async function rawSql(location: StoreLocation, sql: string): Promise<void> {
  if (location.kind === "sqlite") {
    const db = new Database(location.path);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: location.url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const at = "2026-11-29T10:00:00.000Z";

forEachEngine("store conformance", (engine) => {
  let location: StoreLocation;
  let store: Store;

  beforeEach(async function () {
    location = await engine.location();
    store = await openStore(location, "apply");
  });
  afterEach(async function () {
    await store?.close();
  });

  it("migrates once, and a second open with migrations refused finds the schema current", async function () {
    await store.close();
    store = await openStore(location, "refuse");
    expect(await store.read((tx) => tx.cases.list({ direction: null, status: null, limit: 10 }))).to.deep.equal([]);
  });

  it("refuses to open an unmigrated database without migrating it (STORE_SCHEMA_OLD)", async function () {
    const empty = await engine.location();
    expect(await codeOf(openStore(empty, "refuse"))).to.equal("STORE_SCHEMA_OLD");
  });

  it("stores and reads cases, steps and deadline alerts", async function () {
    await store.transaction(async (tx) => {
      await tx.cases.insert({ caseId: "c-1", direction: "outbound", kind: "mla-request", peer: "US-DOJ-OIA", status: "submitted", priority: "urgent", at });
      await tx.cases.insert({ caseId: "c-2", direction: "inbound", kind: "mla-request", peer: "US-DOJ-OIA", status: "received", priority: "emergency", at });
      await tx.envelopes.insert({
        envelopeId: "e-1", caseId: "c-1", direction: "outbound", type: "mla-request", from: "GB-UKCA", to: "US-DOJ-OIA", inReplyTo: null,
        createdAt: at, storedAt: at, digest: "ab".repeat(32), signerKid: "kid", wire: "{}", document: "{\"a\":1}",
      });
      await tx.cases.recordOpened("c-1", "e-1", JSON.stringify({ preservationDays: 90 }), null);
      await tx.outbox.enqueue({ envelopeId: "e-1", peer: "US-DOJ-OIA", rank: 1, at: new Date(at) });
    });
    const listed = await store.read((tx) => tx.cases.list({ direction: null, status: null, limit: 10 }));
    expect(listed.map((c) => c.case_id)).to.deep.equal(["c-2", "c-1"]); // emergency first
    const c1 = await store.read((tx) => tx.cases.get("c-1"));
    expect(c1).to.include({ request_envelope_id: "e-1", head_envelope_id: "e-1", status: "submitted" });
    expect(await store.transaction((tx) => tx.cases.markReceived("c-1", at, at))).to.equal(true);
    expect(await store.transaction((tx) => tx.cases.markReceived("c-1", at, at))).to.equal(false);
    expect(await store.read((tx) => tx.envelopes.documentOf("c-1", "e-1"))).to.deep.equal({ document: "{\"a\":1}", digest: "ab".repeat(32), type: "mla-request" });
    const alert = { caseId: "c-1", clock: "completion", key: "", dueAt: at, detectedAt: at };
    expect(await store.transaction((tx) => tx.cases.raiseAlert(alert))).to.equal(true);
    expect(await store.transaction((tx) => tx.cases.raiseAlert(alert))).to.equal(false);
    expect(await store.read((tx) => tx.outbox.health())).to.deep.equal({ pending: 1, failed: 0, oldest: at });
  });

  it("maps a duplicate key to STORE_DUPLICATE and rolls the whole transaction back", async function () {
    const open = (id: string) => ({ caseId: id, direction: "outbound" as const, kind: "mla-request", peer: "US", status: "submitted", priority: "normal" as const, at });
    await store.transaction((tx) => tx.cases.insert(open("dup")));
    const code = await codeOf(
      store.transaction(async (tx) => {
        await tx.cases.insert(open("first-of-two"));
        await appendEntry(tx, { kind: "test.rolled-back", actor: "test", time: new Date(at) });
        await tx.cases.insert(open("dup"));
      }),
    );
    expect(code).to.equal("STORE_DUPLICATE");
    expect(await store.read((tx) => tx.cases.get("first-of-two"))).to.equal(undefined);
    expect(await store.read((tx) => tx.audit.entryCount())).to.equal(0);
  });

  it("keeps a failing transaction from taking concurrent ones down", async function () {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.transaction(async (tx) => {
          await appendEntry(tx, { kind: "test.concurrent", actor: "test", time: new Date(at), details: { i } });
          if (i % 4 === 0) throw new Error(`fail ${i}`);
          return i;
        }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).to.have.length(15);
    const entries = await store.read((tx) => readEntries(tx));
    expect(entries.map((e) => e.index)).to.deep.equal([...Array(15).keys()]);
    expect(new Set(entries.map((e) => e.details["i"])).size).to.equal(15);
  });

  it("computes roots and inclusion proofs from the stored tree that match the in-memory computation", async function () {
    for (let i = 0; i < 37; i++) await store.transaction((tx) => appendEntry(tx, { kind: "test.tree", actor: "test", time: new Date(at), details: { i } }));
    const leaves = await store.read(async (tx) => (await tx.audit.entries(0, 37)).map((e) => leafHash(Buffer.from(e, "utf8"))));
    for (const size of [1, 2, 3, 8, 13, 32, 37]) {
      const root = await store.read((tx) => withStoredTree(tx, 37, (reader) => treeRoot(reader, size)));
      expect(root.equals(rootFromLeafHashes(leaves.slice(0, size))), `size ${size}`).to.equal(true);
      for (const index of [0, size - 1, Math.floor(size / 2)]) {
        const proof = await store.read((tx) => withStoredTree(tx, 37, (reader) => inclusionProof(reader, index, size)));
        expect(() => verifyInclusion(leaves[index]!, index, size, proof, root)).not.to.throw();
      }
    }
  });

  it("refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE) of the audit log in the database itself", async function () {
    await store.transaction((tx) => appendEntry(tx, { kind: "test.append-only", actor: "test", time: new Date(at) }));
    await store.close();
    for (const sql of ["UPDATE audit_entries SET actor = 'x'", "DELETE FROM audit_entries", "DELETE FROM audit_nodes", ...(engine.name === "postgres" ? ["TRUNCATE audit_entries"] : [])]) {
      let refused = false;
      try {
        await rawSql(location, sql);
      } catch {
        refused = true;
      }
      expect(refused, sql).to.equal(true);
    }
    store = await openStore(location, "refuse");
    expect(await store.read((tx) => tx.audit.entryCount())).to.equal(1);
  });

  it("gives each due outbox envelope to one claimer, and takes it over when the lease expires", async function () {
    await store.transaction(async (tx) => {
      await tx.cases.insert({ caseId: "c", direction: "outbound", kind: "mla-request", peer: "US", status: "submitted", priority: "normal", at });
      for (let i = 0; i < 30; i++) {
        await tx.envelopes.insert({ envelopeId: `e-${i}`, caseId: "c", direction: "outbound", type: "status-update", from: "GB", to: "US", inReplyTo: null, createdAt: at, storedAt: at, digest: "00", signerKid: "k", wire: "{}", document: "{}" });
        await tx.outbox.enqueue({ envelopeId: `e-${i}`, peer: "US", rank: 2, at: new Date(at) });
      }
    });
    const now = Date.parse(at) + 1;
    const [a, b, c] = await Promise.all([
      store.transaction((tx) => tx.outbox.claimDue("a", now, 30_000, 12)),
      store.transaction((tx) => tx.outbox.claimDue("b", now, 30_000, 12)),
      store.transaction((tx) => tx.outbox.claimDue("c", now, 30_000, 12)),
    ]);
    const ids = [...a!, ...b!, ...c!].map((r) => r.envelope_id);
    expect(ids).to.have.length(30);
    expect(new Set(ids).size).to.equal(30);
    expect(await store.transaction((tx) => tx.outbox.claimDue("d", now + 1000, 30_000, 50))).to.deep.equal([]);
    const takenOver = await store.transaction((tx) => tx.outbox.claimDue("d", now + 30_001, 30_000, 50));
    expect(takenOver).to.have.length(30);
    expect(await store.transaction((tx) => tx.outbox.markDelivered("e-0", at))).to.equal(true);
    expect(await store.transaction((tx) => tx.outbox.markDelivered("e-0", at))).to.equal(false);
  });

  it("hands a named lease to one owner at a time, and to another after expiry", async function () {
    const t = 1_000_000;
    expect(await store.transaction((tx) => tx.leases.acquire("leader", "a", t, 10_000))).to.equal(true);
    expect(await store.transaction((tx) => tx.leases.acquire("leader", "b", t + 5_000, 10_000))).to.equal(false);
    expect(await store.transaction((tx) => tx.leases.acquire("leader", "a", t + 5_000, 10_000))).to.equal(true);
    expect(await store.transaction((tx) => tx.leases.acquire("leader", "b", t + 15_001, 10_000))).to.equal(true);
    expect(await store.read((tx) => tx.leases.get("leader"))).to.include({ owner: "b", expires_at: t + 25_001, acquired_at: t + 15_001 });
  });

  it("keeps the log dense when two processes append at once, with rollbacks", async function () {
    this.timeout(120_000);
    await store.close();
    const worker = new URL("./append-worker.ts", import.meta.url).pathname;
    const args = (name: string) => ["--import", "tsx", worker, JSON.stringify(location), "150", name];
    const outputs = await Promise.all([run(process.execPath, args("p1")), run(process.execPath, args("p2"))]);
    for (const out of outputs) expect(JSON.parse(out.stdout.trim())).to.deep.equal({ done: true, rolledBack: 30 });
    store = await openStore(location, "refuse");
    const entries = await store.read((tx) => readEntries(tx));
    expect(entries.map((e) => e.index)).to.deep.equal([...Array(240).keys()]);
    expect(entries.filter((e) => e.actor === "p1")).to.have.length(120);
    const stored = await store.read((tx) => tx.audit.entries(0, 240));
    const root = await store.read((tx) => withStoredTree(tx, 240, (reader) => treeRoot(reader, 240)));
    expect(root.equals(rootFromLeafHashes(stored.map((e) => leafHash(Buffer.from(e, "utf8")))))).to.equal(true);
  });
});

forEachEngine("store conformance: evidence, tokens, peer logs, idempotency", (engine) => {
  let store: Store;
  beforeEach(async function () {
    store = await openStore(await engine.location(), "apply");
  });
  afterEach(async function () {
    await store?.close();
  });

  const seedCase = (tx: Parameters<Parameters<Store["transaction"]>[0]>[0], caseId: string) =>
    tx.cases.insert({ caseId, direction: "inbound", kind: "mla-request", peer: "US", status: "accepted", priority: "normal", at });
  const envelope = (caseId: string, id: string) => ({
    envelopeId: id, caseId, direction: "outbound" as const, type: "evidence-manifest", from: "GB", to: "US", inReplyTo: null,
    createdAt: at, storedAt: at, digest: "dd", signerKid: "k", wire: "{}", document: JSON.stringify({ items: [] }),
  });
  const item = (itemId: string, position: number) => ({
    itemId, position, name: `f${position}`, mediaType: "text/plain", size: 10, sha256: "00".repeat(32), chunkSize: 65536, sealedSize: 26,
    key: Buffer.alloc(32, position), noncePrefix: Buffer.alloc(7, position), sourcePath: null, sourceStat: null,
  });

  it("claims due uploads once each under a lease, receipts them once, and settles the package", async function () {
    await store.transaction(async (tx) => {
      await seedCase(tx, "c");
      await tx.envelopes.insert(envelope("c", "m"));
      await tx.outbox.enqueue({ envelopeId: "m", peer: "US", rank: 2, at: new Date(at) });
      await tx.evidence.insertPackage({ packageId: "p", caseId: "c", direction: "outbound", peer: "US", envelopeId: "m", completes: "executed", createdAt: at, items: [item("i1", 0), item("i2", 1)] });
    });
    const now = Date.parse(at) + 1;
    expect(await store.transaction((tx) => tx.evidence.claimDueUploads("a", now, 30_000, 10))).to.deep.equal([]); // manifest not delivered yet
    await store.transaction((tx) => tx.outbox.markDelivered("m", at));
    const [a, b] = await Promise.all([
      store.transaction((tx) => tx.evidence.claimDueUploads("a", now, 30_000, 1)),
      store.transaction((tx) => tx.evidence.claimDueUploads("b", now, 30_000, 1)),
    ]);
    expect([...a!, ...b!].map((r) => r.item_id).sort()).to.deep.equal(["i1", "i2"]);
    expect(a![0]!.item_key.equals(Buffer.alloc(32, a![0]!.position))).to.equal(true);
    expect(await store.transaction((tx) => tx.evidence.markReceipted("i1", "r1", at, at))).to.equal(true);
    expect(await store.transaction((tx) => tx.evidence.markReceipted("i1", "r1", at, at))).to.equal(false);
    expect(await store.read((tx) => tx.evidence.completePackages())).to.deep.equal([]);
    await store.transaction((tx) => tx.evidence.markReceipted("i2", "r2", at, at));
    expect(await store.read((tx) => tx.evidence.completePackages())).to.deep.equal(["p"]);
    expect(await store.transaction((tx) => tx.evidence.finishPackage("p", "sending", "delivered", at))).to.equal(true);
    expect(await store.transaction((tx) => tx.evidence.finishPackage("p", "sending", "delivered", at))).to.equal(false);
    expect(await store.read((tx) => tx.evidence.tally("p", "receipted"))).to.deep.equal({ n: 2, bytes: 20, open: 0 });
  });

  it("counts refusals: the first is new, repeats are counted and summarised once", async function () {
    expect(await store.transaction((tx) => tx.evidence.countRefusal("i", "CODE", at))).to.equal(false);
    await store.transaction((tx) => tx.evidence.insertRefusal("i", "CODE", at));
    expect(await store.transaction((tx) => tx.evidence.countRefusal("i", "CODE", at))).to.equal(true);
    const rows = await store.inspect<{ total: number; repeats: number }>("SELECT total, repeats FROM evidence_refusals WHERE item_id = ?", ["i"]);
    expect(rows).to.deep.equal([{ total: 2, repeats: 1 }]);
  });

  it("stores tokens by hash, lists and revokes them", async function () {
    await store.transaction((tx) => tx.tokens.insert({ tokenId: "t1", name: "cms", role: "caseworker", hash: "h1", createdAt: at }));
    expect(await store.read((tx) => tx.tokens.byHash("h1"))).to.include({ token_id: "t1", role: "caseworker", revoked_at: null });
    expect(await codeOf(store.transaction((tx) => tx.tokens.insert({ tokenId: "t2", name: "x", role: "auditor", hash: "h1", createdAt: at })))).to.equal("STORE_DUPLICATE");
    await store.transaction((tx) => tx.tokens.revoke("t1", at));
    expect((await store.read((tx) => tx.tokens.get("t1")))?.revoked_at).to.equal(at);
  });

  it("keeps peers' checkpoints once per size, the witnessed head per log, and alarms", async function () {
    const root = Buffer.alloc(32, 7);
    await store.transaction(async (tx) => {
      await tx.peerLogs.recordCheckpoint({ origin: "valise/US", size: 3, root, note: "n", receivedAt: at });
      await tx.peerLogs.recordCheckpoint({ origin: "valise/US", size: 3, root: Buffer.alloc(32, 8), note: "other", receivedAt: at });
      await tx.peerLogs.lockWitnessed("valise/US");
      await tx.peerLogs.setWitnessed({ origin: "valise/US", size: 3, root, note: "n", updatedAt: at });
      await tx.peerLogs.setWitnessed({ origin: "valise/US", size: 4, root, note: "n4", updatedAt: at });
    });
    expect((await store.read((tx) => tx.peerLogs.checkpoint("valise/US", 3)))?.note).to.equal("n");
    expect(await store.read((tx) => tx.peerLogs.witnessed("valise/US"))).to.include({ size: 4, note: "n4", updatedAt: at });
    const id = await store.transaction((tx) => tx.peerLogs.raiseAlarm({ origin: "valise/US", detectedAt: at, reason: "fork", evidence: "{}" }));
    expect(await store.read((tx) => tx.peerLogs.alarms())).to.deep.equal([{ id, origin: "valise/US", detectedAt: at, reason: "fork" }]);
  });

  it("claims an idempotency key once; a second claim of a new key is a duplicate", async function () {
    await store.transaction((tx) => tx.tokens.insert({ tokenId: "t", name: "cms", role: "caseworker", hash: "h", createdAt: at }));
    await store.transaction((tx) => tx.idempotency.insertPending({ tokenId: "t", key: "k", fingerprint: "f", holder: "a", createdAt: at }));
    expect(await codeOf(store.transaction((tx) => tx.idempotency.insertPending({ tokenId: "t", key: "k", fingerprint: "f", holder: "b", createdAt: at })))).to.equal("STORE_DUPLICATE");
    // Taken over by b (a was taken for dead): a's answer is refused, a's delete leaves b's claim, b's answer is stored, once.
    await store.transaction((tx) => tx.idempotency.setHolder("t", "k", "b"));
    expect(await store.transaction((tx) => tx.idempotency.markDone("t", "k", "a", 201, "{\"by\":\"a\"}"))).to.equal(false);
    await store.transaction((tx) => tx.idempotency.deletePending("t", "k", "a"));
    expect(await store.transaction((tx) => tx.idempotency.markDone("t", "k", "b", 201, "{}"))).to.equal(true);
    expect(await store.transaction((tx) => tx.idempotency.markDone("t", "k", "b", 500, "{}"))).to.equal(false);
    expect(await store.read((tx) => tx.idempotency.get("t", "k"))).to.deep.equal({ fingerprint: "f", state: "done", holder: "b", status: 201, response: "{}" });
  });
});

describe("store errors never show a password", function () {
  it("an unreachable PostgreSQL URL with a password is refused STORE_UNAVAILABLE, the password nowhere in the error", async function () {
    this.timeout(60_000);
    let caught: unknown;
    try {
      await openStore({ kind: "postgres", url: "postgres://valise:s3cret-pw@127.0.0.1:1/valise" }, "refuse");
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(GatewayError);
    expect((caught as GatewayError).code).to.equal("STORE_UNAVAILABLE");
    expect((caught as GatewayError).message).to.contain("postgres://valise:***@127.0.0.1:1/valise");
    expect(JSON.stringify({ message: (caught as GatewayError).message, details: (caught as GatewayError).details })).to.not.contain("s3cret-pw");
  });
});
