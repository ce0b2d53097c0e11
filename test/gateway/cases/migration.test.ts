/**
 * Migration 005 on a store written before it: existing cases get their
 * request envelope as the head of their history, their receipt time and
 * their report facts.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import Database from "better-sqlite3";
import { openStore } from "../../../gateway/store/store.js";
import { readCase } from "../../../gateway/cases/history.js";
import { example } from "../fixtures.js";

const MIGRATIONS = new URL("../../../gateway/store/sqlite/migrations/", import.meta.url);

describe("store migration 005 (cases)", function () {
  let dir: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), "valise-migration-"));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("backfills the head, the receipt time and the facts of cases opened before it", async function () {
    const path = join(dir, "v4.db");
    const old = new Database(path);
    for (const file of ["001-initial.sql", "002-merkle-log.sql", "003-witness.sql", "004-narrow-envelope-rows.sql"]) old.exec(readFileSync(new URL(file, MIGRATIONS), "utf8"));
    old.pragma("user_version = 4");
    const mla = example("mla-request", "valid-email-records");
    const freeze = example("preservation-request", "valid-email-account");
    const insertCase = old.prepare("INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    const insertEnvelope = old.prepare("INSERT INTO envelopes (envelope_id, case_id, direction, type, from_authority, to_authority, created_at, stored_at, digest, signer_kid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    const insertBody = old.prepare("INSERT INTO envelope_bodies VALUES (?, ?, ?)");
    insertCase.run("c-out", "outbound", "mla-request", "US-DOJ-OIA", "received", "normal", "2026-01-05T10:00:00.000Z", "2026-01-05T10:00:01.000Z");
    insertEnvelope.run("e-out", "c-out", "outbound", "mla-request", "GB-UKCA", "US-DOJ-OIA", "2026-01-05T10:00:00.000Z", "2026-01-05T10:00:00.000Z", "aa", "kid");
    insertBody.run("e-out", "{}", JSON.stringify(mla));
    old.prepare("INSERT INTO audit_entries (idx, time, kind, actor, case_id, envelope_id, entry) VALUES (0, ?, 'receipt.received', 'peer:US-DOJ-OIA', 'c-out', 'e-out', ?)").run(
      "2026-01-05T10:00:01.000Z",
      JSON.stringify({ index: 0, kind: "receipt.received", details: { receivedAt: "2026-01-05T10:00:00.500Z" } }),
    );
    insertCase.run("c-in", "inbound", "preservation-request", "US-DOJ-OIA", "received", "urgent", "2026-01-06T08:00:00.000Z", "2026-01-06T08:00:00.000Z");
    insertEnvelope.run("e-in", "c-in", "inbound", "preservation-request", "US-DOJ-OIA", "GB-UKCA", "2026-01-06T07:59:59.000Z", "2026-01-06T08:00:00.000Z", "bb", "kid");
    insertBody.run("e-in", "{}", JSON.stringify(freeze));
    old.close();

    const store = await openStore({ kind: "sqlite", path }, "apply");
    try {
      expect((await store.inspect<{ user_version: number }>("PRAGMA user_version"))[0]!.user_version).to.be.at.least(5);
      const out = (await store.read((tx) => readCase(tx, "c-out")))!;
      expect(out).to.deep.include({ requestEnvelopeId: "e-out", headEnvelopeId: "e-out", receivedAt: "2026-01-05T10:00:00.500Z" });
      expect(out.facts).to.deep.equal({ assistanceTypes: ["content-data", "subscriber-data", "traffic-data"], dataCategories: ["content-data", "subscriber-data", "traffic-data"], offenceCategory: "fraud" });
      const inbound = (await store.read((tx) => readCase(tx, "c-in")))!;
      expect(inbound).to.deep.include({ requestEnvelopeId: "e-in", headEnvelopeId: "e-in", receivedAt: "2026-01-06T08:00:00.000Z" });
      expect(inbound.facts).to.deep.equal({ assistanceTypes: ["preservation"], dataCategories: ["content-data", "subscriber-data", "traffic-data"], offenceCategory: "fraud", preservationDays: 90 });
    } finally {
      await store.close();
    }
  });
});
