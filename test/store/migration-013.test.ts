/**
 * SQLite migrations 010 to 013 on a store written before it: evidence packages
 * survive the rebuild of their table (rows, items, foreign keys), become
 * packages of purpose `evidence`, and the table now takes attachment
 * packages (purpose `attachments`, no `completes`) but still refuses an
 * evidence package without one.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import Database from "better-sqlite3";
import { openStore } from "../../gateway/store/store.js";
import { GatewayError } from "../../gateway/errors.js";

const MIGRATIONS = new URL("../../gateway/store/sqlite/migrations/", import.meta.url);

describe("store migration 013 (events, uploads, attachment packages) on SQLite", function () {
  let dir: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), "valise-migration-013-"));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps every evidence package and item, with their foreign keys, and admits attachment packages", async function () {
    const path = join(dir, "v9.db");
    const old = new Database(path);
    old.pragma("foreign_keys = ON");
    const before = readdirSync(MIGRATIONS).filter((f) => /^00\d-/.test(f)).sort();
    expect(before).to.have.length(9);
    for (const file of before) old.exec(readFileSync(new URL(file, MIGRATIONS), "utf8"));
    old.pragma("user_version = 9");
    old.prepare("INSERT INTO cases (case_id, direction, kind, peer, status, priority, created_at, updated_at) VALUES ('c1', 'inbound', 'mla-request', 'GB-UKCA', 'accepted', 'normal', 't', 't')").run();
    const envelope = old.prepare("INSERT INTO envelopes (envelope_id, case_id, direction, type, from_authority, to_authority, created_at, stored_at, digest, signer_kid) VALUES (?, 'c1', 'outbound', ?, 'US-DOJ-OIA', 'GB-UKCA', 't', 't', ?, 'kid')");
    envelope.run("e-manifest", "evidence-manifest", "aa");
    envelope.run("e-request", "mla-request", "bb");
    old.prepare("INSERT INTO evidence_packages (package_id, case_id, direction, peer, envelope_id, completes, state, created_at) VALUES ('p1', 'c1', 'outbound', 'GB-UKCA', 'e-manifest', 'executed', 'sending', 't')").run();
    old.prepare(
      "INSERT INTO evidence_items (package_id, item_id, position, name, media_type, size, sha256, chunk_size, sealed_size, item_key, nonce_prefix, state, updated_at) VALUES ('p1', 'i1', 0, 'a.csv', 'text/csv', 3, 'cc', 65536, 19, ?, ?, 'queued', 't')",
    ).run(Buffer.alloc(32, 1), Buffer.alloc(7, 2));
    old.close();

    const store = await openStore({ kind: "sqlite", path }, "apply");
    try {
      const packages = await store.inspect<{ package_id: string; purpose: string; completes: string }>("SELECT package_id, purpose, completes FROM evidence_packages");
      expect(packages).to.deep.equal([{ package_id: "p1", purpose: "evidence", completes: "executed" }]);
      expect(await store.inspect("PRAGMA foreign_key_check")).to.deep.equal([]);
      const item = await store.read((tx) => tx.evidence.item("p1", "i1"));
      expect(item).to.include({ purpose: "evidence", completes: "executed", case_id: "c1" });
      await store.transaction((tx) =>
        tx.evidence.insertPackage({ packageId: "e-request", caseId: "c1", direction: "outbound", peer: "GB-UKCA", envelopeId: "e-request", completes: null, purpose: "attachments", createdAt: "t", items: [] }),
      );
      const refused = await store
        .transaction((tx) => tx.evidence.insertPackage({ packageId: "p2", caseId: "c1", direction: "outbound", peer: "GB-UKCA", envelopeId: "e-manifest", completes: null, createdAt: "t", items: [] }))
        .then(
          () => "stored",
          (error: unknown) => (error instanceof GatewayError ? error.code : String(error)),
        );
      expect(refused).to.match(/^STORE_/);
      // Foreign keys still hold: an item of no package is refused.
      const orphan = await store
        .transaction(async (tx) => {
          await tx.evidence.insertPackage({ packageId: "p3", caseId: "c-missing", direction: "outbound", peer: "GB-UKCA", envelopeId: "e-manifest", completes: "executed", createdAt: "t", items: [] });
        })
        .then(
          () => "stored",
          (error: unknown) => (error instanceof GatewayError ? error.code : String(error)),
        );
      expect(orphan).to.match(/^STORE_/);
    } finally {
      await store.close();
    }
  });
});
