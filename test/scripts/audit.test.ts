/**
 * `valise audit export | verify | custody` as an auditor runs them, and the
 * tamper tests through the real database file: an operator with full access
 * to valise.db (triggers dropped) changes, deletes, reorders or truncates
 * and regrows the log. `valise audit verify` — offline, trusting only the
 * bundles given — fails on each and names the index; the gateway refuses to
 * start on each.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import Database from "better-sqlite3";
import { valise, type CliRun } from "./cli-helpers.js";
import { createNetwork, localRequest, PASSPHRASE, type TestNetwork } from "../gateway/fixtures.js";
import { exchangeRequest, manualWitnessGateway } from "../gateway/witness/helpers.js";
import { createGateway } from "../../gateway/gateway.js";
import { createLogger } from "../../gateway/log.js";
import { openStore, type Store } from "../../gateway/store/store.js";
import { appendEntry } from "../../gateway/audit/append.js";
import { checkpointOrigin, formatCheckpoint, signCheckpoint } from "../../gateway/audit/checkpoint.js";
import { treeRoot } from "../../gateway/audit/merkle.js";
import { withStoredTree } from "../../gateway/audit/stored-tree.js";
import { openAuthorityPki } from "../../pki/store.js";

const env = { VALISE_PASSPHRASE: PASSPHRASE };

function codeOf(run: CliRun): string {
  return run.json<{ error: { code: string } }>().error.code;
}

interface Failure {
  code: string;
  details: { index: number; reason: string };
}

describe("valise audit: export, offline verify, custody, and tampering through the database file", function () {
  this.timeout(60_000);
  let network: TestNetwork;
  let dir: string;
  let gbBundle: string;
  let usBundle: string;
  let caseId: string;
  /** Index of US's `envelope.received` entry. */
  let received: number;

  before(async function () {
    network = await createNetwork();
    dir = mkdtempSync(join(tmpdir(), "valise-audit-cli-"));
    const gb = manualWitnessGateway(network.gb);
    const us = manualWitnessGateway(network.us);
    await gb.start();
    await us.start();
    try {
      caseId = await exchangeRequest(network.gb);
      const detail = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.us.tokens.caseworker });
      const envelopeId = detail.json.envelopes[0].envelopeId as string;
      const read = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}/documents/${envelopeId}`, { token: network.us.tokens.caseworker });
      expect(read.status).to.equal(200);
      // Each side signs a checkpoint over everything and has the other cosign it.
      await us.witness.runNow({ sign: true });
      await gb.witness.runNow({ sign: true });
      received = (await us.context.store.inspect<{ idx: number }>("SELECT idx FROM audit_entries WHERE kind = 'envelope.received'"))[0]!.idx;
    } finally {
      await gb.stop();
      await us.stop();
    }
    gbBundle = join(dir, "GB-UKCA.bundle.json");
    usBundle = join(dir, "US-DOJ-OIA.bundle.json");
    writeFileSync(gbBundle, JSON.stringify(await network.gb.bundle()));
    writeFileSync(usBundle, JSON.stringify(await network.us.bundle()));
  });

  after(function () {
    network?.cleanup();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function exportOf(home: string, name: string): Promise<string> {
    const out = join(dir, `${name}.audit.json`);
    const run = await valise(["audit", "export", "--home", home, "--out", out, "--json"], env);
    expect(run.exit, run.stdout + run.stderr).to.equal(0);
    return out;
  }

  async function verify(file: string, ...trust: string[]): Promise<CliRun> {
    return valise(["audit", "verify", file, ...trust.flatMap((bundle) => ["--trust", bundle]), "--json"]);
  }

  it("exports each log and verifies it offline with the bundles received out of band", async function () {
    const usExport = await exportOf(network.us.home, "us");
    const usRun = await verify(usExport, usBundle, gbBundle);
    expect(usRun.exit, usRun.stdout).to.equal(0);
    const report = usRun.json<{
      verified: boolean;
      entries: number;
      checkpoints: { verified: number; largestSize: number };
      unsignedEntries: number;
      unsignedRange: unknown;
      cosignatures: { verified: number; witnesses: string[] };
      receipts: { issued: number };
    }>();
    expect(report.verified).to.equal(true);
    expect(report.entries).to.be.greaterThan(received);
    expect(report.checkpoints.verified).to.be.greaterThan(0);
    // gateway.stopped came after the gateway's last checkpoint: the export signed one over it.
    expect(report.checkpoints.largestSize).to.equal(report.entries);
    expect(report.unsignedEntries).to.equal(0);
    expect(report.unsignedRange).to.equal(null);
    expect(report.cosignatures.witnesses).to.deep.equal(["valise-witness/GB-UKCA"]);
    expect(report.receipts.issued).to.equal(1);

    const gbRun = await verify(await exportOf(network.gb.home, "gb"), gbBundle, usBundle);
    expect(gbRun.exit, gbRun.stdout).to.equal(0);
    expect(gbRun.json<{ receipts: { heldVerified: number } }>().receipts.heldVerified).to.equal(1);

    // In text, for a person: the summary names what was verified.
    const text = await valise(["audit", "verify", usExport, "--trust", usBundle, "--trust", gbBundle]);
    expect(text.exit).to.equal(0);
    expect(text.stdout).to.match(/^VERIFIED: the audit log of US-DOJ-OIA/);
  });

  it("trusts only the bundles given: none of the log's authority is AUDIT_TRUST_MISSING; a wrong pin is refused; unknown witnesses are counted, not trusted", async function () {
    const usExport = await exportOf(network.us.home, "us-trust");
    const missing = await verify(usExport, gbBundle);
    expect([missing.exit, codeOf(missing)]).to.deep.equal([6, "AUDIT_TRUST_MISSING"]);

    const pinned = await valise(["audit", "verify", usExport, "--trust", usBundle, "--fingerprint", network.gb.rootFingerprint, "--json"]);
    expect([pinned.exit, codeOf(pinned)]).to.deep.equal([6, "PKI_FINGERPRINT_MISMATCH"]);

    const alone = await verify(usExport, usBundle);
    expect(alone.exit, alone.stdout).to.equal(0);
    expect(alone.json<{ cosignatures: { verified: number; unverifiedWitnesses: string[] } }>().cosignatures).to.deep.include({
      verified: 0,
      unverifiedWitnesses: ["valise-witness/GB-UKCA"],
    });

    // Another authority's bundle in place of US's does not make US's log verify.
    const other = await network.addAuthority("FR-MJ-BEPI");
    const otherBundle = join(dir, "FR.bundle.json");
    writeFileSync(otherBundle, JSON.stringify(await other.bundle()));
    const swapped = await verify(usExport, otherBundle, gbBundle);
    expect(codeOf(swapped)).to.equal("AUDIT_TRUST_MISSING");
  });

  it("refuses a file that is not an export, and a missing file, with codes", async function () {
    const notExport = join(dir, "not-export.json");
    writeFileSync(notExport, JSON.stringify({ hello: "world" }));
    const bad = await verify(notExport, usBundle);
    expect([bad.exit, codeOf(bad)]).to.deep.equal([2, "AUDIT_EXPORT_INVALID"]);
    const gone = await verify(join(dir, "nowhere.json"), usBundle);
    expect([gone.exit, codeOf(gone)]).to.deep.equal([4, "FILE_UNREADABLE"]);
  });

  it("prints a case's chain of custody: envelope, receipt, reads, with digests, signers and log indices", async function () {
    const run = await valise(["audit", "custody", caseId, "--home", network.us.home, "--format", "json"]);
    expect(run.exit, run.stderr).to.equal(0);
    const report = run.json<{ envelopes: Array<{ envelopeDigest: string; receipt: { role: string } | null; logIndices: number[] }>; events: Array<{ kind: string; index: number; signer?: { kid?: string } }> }>();
    expect(report.envelopes).to.have.length(1);
    expect(report.envelopes[0]!.receipt?.role).to.equal("issued");
    expect(report.envelopes[0]!.logIndices).to.include(received);
    expect(report.events.map((e) => e.kind)).to.deep.equal(["envelope.received", "access.read"]);
    expect(report.events[0]!.signer?.kid).to.be.a("string");

    const text = await valise(["audit", "custody", caseId, "--home", network.us.home]);
    expect(text.stdout).to.contain(`#${received}`).and.to.contain("envelope.received");
    const unknown = await valise(["audit", "custody", "00000000-0000-4000-8000-000000000000", "--home", network.us.home, "--json"]);
    expect([unknown.exit, codeOf(unknown)]).to.deep.equal([4, "CASE_UNKNOWN"]);
  });

  describe("tampering with valise.db", function () {
    /** A copy of US's home, its database changed by `tamper` with the append-only triggers dropped. */
    async function tamperedHome(name: string, tamper: (db: Database.Database) => void, regrow?: (store: Store) => Promise<void>): Promise<string> {
      const home = join(dir, `tampered-${name}`);
      cpSync(network.us.home, home, { recursive: true });
      const db = new Database(join(home, "valise.db"));
      try {
        for (const trigger of ["audit_entries_no_update", "audit_entries_no_delete", "audit_nodes_no_update", "audit_nodes_no_delete", "audit_checkpoints_no_update", "audit_checkpoints_no_delete"]) {
          db.exec(`DROP TRIGGER ${trigger}`);
        }
        db.pragma("foreign_keys = OFF");
        db.transaction(() => tamper(db))();
      } finally {
        db.close();
      }
      if (regrow !== undefined) {
        // The attacker then writes through Valise's own store code (triggers still dropped).
        const store = await openStore({ kind: "sqlite", path: join(home, "valise.db") }, "refuse");
        try {
          await regrow(store);
        } finally {
          await store.close();
        }
      }
      return home;
    }

    async function verifyFails(home: string, name: string): Promise<Failure["details"]> {
      const run = await verify(await exportOf(home, name), usBundle, gbBundle);
      expect(run.exit, run.stdout).to.equal(6);
      const failure = run.json<{ error: Failure }>().error;
      expect(failure.code).to.equal("AUDIT_VERIFY_FAILED");
      return failure.details;
    }

    async function startRefused(home: string): Promise<{ code: string; index: number }> {
      const gateway = createGateway({ home, passphrase: PASSPHRASE, logger: createLogger({ authority: "US-DOJ-OIA", silent: true }) });
      try {
        await gateway.start();
      } catch (error) {
        const { code, details } = error as { code: string; details?: { index: number } };
        if (details === undefined) throw error;
        return { code, index: details.index };
      }
      await gateway.stop();
      throw new Error("the gateway started on a tampered log");
    }

    function entryAt(db: Database.Database, index: number): Record<string, unknown> {
      return JSON.parse((db.prepare("SELECT entry FROM audit_entries WHERE idx = ?").get(index) as { entry: string }).entry) as Record<string, unknown>;
    }

    it("one entry changed: verify names that entry; the gateway refuses to start", async function () {
      const home = await tamperedHome("changed", (db) => {
        const entry = entryAt(db, received);
        entry["actor"] = "peer:FR-MJ-BEPI"; // blame another authority
        db.prepare("UPDATE audit_entries SET entry = ?, actor = ? WHERE idx = ?").run(JSON.stringify(entry), entry["actor"], received);
      });
      const failure = await verifyFails(home, "changed");
      expect(failure.index).to.equal(received);
      expect(failure.reason).to.contain(`entry ${received} differs`);
      expect(await startRefused(home)).to.deep.equal({ code: "AUDIT_LOG_TAMPERED", index: received });
    });

    it("one row deleted: verify names the index where the gap is; the gateway refuses to start", async function () {
      const home = await tamperedHome("deleted", (db) => {
        db.prepare("DELETE FROM audit_entries WHERE idx = ?").run(received);
      });
      const failure = await verifyFails(home, "deleted");
      expect(failure.index).to.equal(received);
      expect(failure.reason).to.contain("deleted, inserted or moved");
      expect(await startRefused(home)).to.deep.equal({ code: "AUDIT_LOG_TAMPERED", index: received });
    });

    it("two entries swapped: verify names the first; the gateway refuses to start", async function () {
      const home = await tamperedHome("reordered", (db) => {
        const a = (db.prepare("SELECT entry FROM audit_entries WHERE idx = ?").get(received) as { entry: string }).entry;
        const b = (db.prepare("SELECT entry FROM audit_entries WHERE idx = ?").get(received + 1) as { entry: string }).entry;
        db.prepare("UPDATE audit_entries SET entry = ? WHERE idx = ?").run(b, received);
        db.prepare("UPDATE audit_entries SET entry = ? WHERE idx = ?").run(a, received + 1);
      });
      const failure = await verifyFails(home, "reordered");
      expect(failure.index).to.equal(received);
      expect(await startRefused(home)).to.deep.equal({ code: "AUDIT_LOG_TAMPERED", index: received });
    });

    /** Cuts the log (entries and tree nodes) back to `size` entries. */
    function truncate(db: Database.Database, size: number): void {
      db.prepare("DELETE FROM audit_entries WHERE idx >= ?").run(size);
      // A node (level, idx) covers leaves [idx·2^level, (idx+1)·2^level): drop every node that reaches past the cut.
      db.prepare("DELETE FROM audit_nodes WHERE (idx + 1) * (1 << level) > ?").run(size);
    }

    /** Appends `count` innocuous entries. */
    async function regrow(store: Store, count: number): Promise<void> {
      for (let i = 0; i < count; i++) await store.transaction((tx) => appendEntry(tx, { kind: "gateway.started", actor: "operator", time: new Date(), details: {} }));
    }

    it("truncated below the envelope's entry and regrown: verify names the index the signed checkpoints stop matching; the gateway refuses to start", async function () {
      let signedSizes: number[] = [];
      const home = await tamperedHome(
        "regrown",
        (db) => {
          signedSizes = (db.prepare("SELECT size FROM audit_checkpoints ORDER BY size").all() as { size: number }[]).map((r) => r.size);
          truncate(db, received);
        },
        (store) => regrow(store, 6),
      );
      // The last checkpoint signed at or below the cut still matches; from there on nothing does.
      const lastGood = Math.max(0, ...signedSizes.filter((size) => size <= received));
      const failure = await verifyFails(home, "regrown");
      expect(failure.index).to.equal(lastGood);
      expect(failure.index).to.be.at.most(received);
      expect((await startRefused(home)).code).to.equal("AUDIT_LOG_TAMPERED");
    });

    it("truncated, regrown and re-signed with the log key, old checkpoints deleted: the receipt the peer holds still names the index", async function () {
      const home = await tamperedHome(
        "resigned",
        (db) => {
          db.exec("DELETE FROM audit_cosignatures; DELETE FROM audit_checkpoints;");
          truncate(db, received);
        },
        async (store) => {
          await regrow(store, 6);
          // The operator signs a fresh history with the real log key: every stored checkpoint is now self-consistent.
          const logKey = openAuthorityPki(join(network.us.home, "pki")).loadPrivateKey("log", PASSPHRASE);
          await store.transaction(async (tx) => {
            const size = await tx.audit.leafCount();
            const root = await withStoredTree(tx, size, (tree) => treeRoot(tree, size));
            const origin = checkpointOrigin("US-DOJ-OIA");
            const note = signCheckpoint(formatCheckpoint({ origin, size, rootHash: root, extensions: [] }), { name: origin, privateKey: logKey });
            await tx.audit.insertCheckpoint({ size, root, note, createdAt: new Date().toISOString() });
          });
        },
      );
      const failure = await verifyFails(home, "resigned");
      expect(failure.index).to.be.at.most(received);
      expect(failure.reason).to.match(/receipt/);
    });

    it("an untouched copy still verifies and starts (the tamper tests fail for the tampering, not the copy)", async function () {
      const home = await tamperedHome("untouched", () => undefined);
      const run = await verify(await exportOf(home, "untouched"), usBundle, gbBundle);
      expect(run.exit, run.stdout).to.equal(0);
      const gateway = createGateway({ home, passphrase: PASSPHRASE, logger: createLogger({ authority: "US-DOJ-OIA", silent: true }), trustRefreshMs: 0 });
      await gateway.start();
      await gateway.stop();
    });
  });
});
