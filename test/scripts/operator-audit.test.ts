/**
 * What operators do by script lands in the audit log: the certificates an
 * authority starts with, rotations, revocations, peers added, updated and
 * removed, tokens created and revoked — in order, with serials and
 * fingerprints — and a gateway started afterwards accepts the log as its own.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import Database from "better-sqlite3";
import { valise } from "./cli-helpers.js";
import { checkLogIntegrity } from "../../gateway/audit/integrity.js";
import { openStore } from "../../gateway/store/store.js";
import { openAuthorityPki } from "../../pki/store.js";

const env = { VALISE_PASSPHRASE: "operator audit passphrase" };

interface Entry {
  index: number;
  kind: string;
  actor: string;
  details: Record<string, unknown>;
}

function entriesOf(home: string): Entry[] {
  const db = new Database(join(home, "valise.db"), { readonly: true });
  try {
    return (db.prepare("SELECT entry FROM audit_entries ORDER BY idx").all() as { entry: string }[]).map((row) => JSON.parse(row.entry) as Entry);
  } finally {
    db.close();
  }
}

describe("valise CLI: operator actions are audit entries", function () {
  let dir: string;
  let gb: string;
  let us: string;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "valise-operator-audit-"));
    gb = join(dir, "gb");
    us = join(dir, "us");
    for (const [home, authority, port] of [
      [gb, "GB-UKCA", 18643],
      [us, "US-DOJ-OIA", 18743],
    ] as const) {
      const init = await valise(["init", "--home", home, "--authority", authority, "--endpoint", `https://127.0.0.1:${port}`, "--json"], env);
      expect(init.exit, init.stdout).to.equal(0);
    }
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("records the certificates issued at init, each by serial and fingerprint", async function () {
    const listed = (await valise(["pki", "list", "--home", gb, "--json"])).json<{ certificates: Array<{ use: string; serial: string; fingerprint: string }> }>().certificates;
    const issued = entriesOf(gb);
    expect(issued.map((e) => e.kind)).to.deep.equal(Array(5).fill("certificate.issued"));
    expect(issued.map((e) => [e.details["use"], e.details["serial"], e.details["fingerprint"]])).to.have.deep.members(listed.map((c) => [c.use, c.serial, c.fingerprint]));
    expect(issued.every((e) => e.actor === "operator")).to.equal(true);
  });

  it("records rotation, revocation, peers added, updated and removed, tokens created and revoked, in order", async function () {
    const before = entriesOf(gb).length;
    const rotated = await valise(["pki", "rotate", "sign", "--home", gb, "--json"], env);
    expect(rotated.exit, rotated.stdout).to.equal(0);
    const rotation = rotated.json<{ rotated: { serial: string } }>().rotated;
    const previous = (await valise(["pki", "list", "--home", gb, "--json"])).json<{ certificates: Array<{ use: string; serial: string; status: string }> }>().certificates.find(
      (c) => c.use === "sign" && c.status === "previous",
    );
    const revoked = await valise(["pki", "revoke", previous!.serial, "--reason", "superseded", "--home", gb, "--json"], env);
    expect(revoked.exit, revoked.stdout).to.equal(0);

    const usBundle = join(dir, "us.bundle.json");
    expect((await valise(["pki", "export-bundle", "--home", us, "--out", usBundle, "--json"], env)).exit).to.equal(0);
    const fingerprint = (await valise(["pki", "fingerprint", "--home", us, "--json"])).json<{ fingerprint: string }>().fingerprint;
    expect((await valise(["peers", "add", usBundle, "--fingerprint", fingerprint, "--home", gb, "--json"], env)).exit).to.equal(0);
    expect((await valise(["pki", "rotate", "tls", "--home", us, "--json"], env)).exit).to.equal(0);
    expect((await valise(["pki", "export-bundle", "--home", us, "--out", usBundle, "--json"], env)).exit).to.equal(0);
    expect((await valise(["peers", "update", usBundle, "--home", gb, "--json"], env)).exit).to.equal(0);
    const token = (await valise(["token", "create", "--role", "auditor", "--name", "court-expert", "--home", gb, "--json"], env)).json<{ tokenId: string }>();
    // Unattended and without a passphrase: recorded all the same, signed by the next checkpoint.
    expect((await valise(["token", "revoke", token.tokenId, "--home", gb, "--json"])).exit).to.equal(0);
    expect((await valise(["peers", "remove", "US-DOJ-OIA", "--home", gb, "--json"], env)).exit).to.equal(0);

    const added = entriesOf(gb).slice(before);
    expect(added.map((e) => e.kind)).to.deep.equal([
      "certificate.rotated",
      "certificate.revoked",
      "peer.added",
      "peer.updated",
      "token.created",
      "token.revoked",
      "peer.removed",
    ]);
    expect(added[0]!.details).to.include({ use: "sign", serial: rotation.serial, previousSerial: previous!.serial });
    expect(added[1]!.details).to.include({ use: "sign", serial: previous!.serial, reason: "superseded" });
    expect(added[2]!.details).to.include({ peer: "US-DOJ-OIA", rootFingerprint: fingerprint });
    expect(added[6]!.details).to.include({ peer: "US-DOJ-OIA", rootFingerprint: fingerprint });
    // Never a secret: the token itself, a key, or the passphrase.
    const text = readFileSync(join(gb, "valise.db")).toString("latin1");
    expect(text).to.not.contain(env.VALISE_PASSPHRASE);
  });

  it("leaves a log whose indices are gapless, whose tree matches its entries, and that the log key signed to its end", async function () {
    const store = await openStore({ kind: "sqlite", path: join(gb, "valise.db") }, "refuse");
    try {
      const logKeys = openAuthorityPki(join(gb, "pki")).certificates("log").map((c) => c.certificate.publicKey);
      const integrity = await store.read((tx) => checkLogIntegrity(tx, "GB-UKCA", logKeys));
      expect(integrity.entries).to.equal(entriesOf(gb).length);
      expect(integrity.checkpointSize).to.equal(integrity.entries);
    } finally {
      await store.close();
    }
  });
});
