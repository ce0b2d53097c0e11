/**
 * `valise backup`, `backup verify` and `restore` on both engines, through the
 * CLI as an operator runs them: an archive taken while the gateway runs
 * verifies offline (pinned to the root) and restores to a home whose log is
 * the one backed up; a truncated, an edited, a foreign and a non-archive
 * file are refused with their codes and nothing is written; a home a
 * gateway is running on is never replaced.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../../gateway/gateway.js";
import { openHome } from "../../../gateway/home.js";
import { openHomeStore } from "../../../gateway/store/home-store.js";
import { checkLogIntegrity } from "../../../gateway/audit/integrity.js";
import { readRestoreMarker } from "../../../gateway/backup/restore-marker.js";
import { forEachEngine } from "../../store/engines.js";
import { createNetwork, type TestNetwork } from "../fixtures.js";
import { exchangeRequest } from "../witness/helpers.js";
import { cli, errorCode, moveToEngine } from "./helpers.js";

forEachEngine("backup and restore", (engine) => describe("an operator's backup of a running gateway", function () {
  let network: TestNetwork;
  let gb: Gateway | undefined;
  let us: Gateway | undefined;
  let archive: string;
  let usArchive: string;

  before(async function () {
    network = await createNetwork();
    await moveToEngine(network.gb, engine);
    await moveToEngine(network.us, engine);
    gb = network.gb.gateway();
    us = network.us.gateway();
    await gb.start();
    await us.start();
    await exchangeRequest(network.gb);
    await exchangeRequest(network.gb);
    archive = join(network.dir, "gb.backup.tar");
    usArchive = join(network.dir, "us.backup.tar");
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  it("writes an archive while the gateway runs, which verifies offline pinned to the root", async function () {
    const run = await cli(["backup", "--home", network.gb.home, "--out", archive, "--json"]);
    expect(run.exit, run.stdout + run.stderr).to.equal(0);
    const summary = run.json<{ store: { kind: string; included: boolean }; log: { size: number; epoch: number; origin: string } }>();
    expect(summary.store).to.include({ kind: engine.name, included: engine.name === "sqlite" });
    expect(summary.log).to.include({ epoch: 1, origin: "valise/GB-UKCA" });
    expect(summary.log.size).to.be.greaterThan(3);
    expect((await cli(["backup", "--home", network.us.home, "--out", usArchive, "--json"])).exit).to.equal(0);

    const verified = await cli(["backup", "verify", archive, "--fingerprint", network.gb.rootFingerprint, "--json"]);
    expect(verified.exit, verified.stdout + verified.stderr).to.equal(0);
    expect(verified.json()).to.include({ verified: true, authority: "GB-UKCA", pinned: true });
    // The backup is in the log it backed up.
    const entries = await gb!.context.store.inspect<{ kind: string }>("SELECT kind FROM audit_entries WHERE kind = ?", ["backup.created"]);
    expect(entries).to.have.length(1);
    // Never over an existing file.
    expect(errorCode(await cli(["backup", "--home", network.gb.home, "--out", archive, "--json"]))).to.equal("BACKUP_EXISTS");
  });

  it("refuses to restore into the home a gateway is running on", async function () {
    const run = await cli(["restore", archive, "--home", network.gb.home, "--force", "--json"]);
    expect(errorCode(run), run.stdout).to.equal("RESTORE_HOME_LIVE");
    expect(run.exit).to.equal(5);
    expect(readRestoreMarker(network.gb.home)).to.equal(undefined);
  });

  it("refuses a truncated, an edited, a foreign and a non-archive file with their codes, writing nothing", async function () {
    const bytes = readFileSync(archive);
    const bad = (name: string, content: Buffer): string => {
      const path = join(network.dir, name);
      writeFileSync(path, content);
      return path;
    };
    const edited = Buffer.from(bytes);
    const at = edited.indexOf('"authority": "GB-UKCA"');
    edited[at + 14] = "X".charCodeAt(0); // the archived valise.json, not the manifest
    const editedManifest = Buffer.from(bytes);
    const sizeAt = editedManifest.indexOf('"log": {');
    editedManifest.write('"log": {', sizeAt); // keep the key; change the size below it
    const manifestSize = editedManifest.indexOf('"size": ', sizeAt) + 8;
    editedManifest[manifestSize] = editedManifest[manifestSize] === 0x31 ? 0x32 : 0x31;
    const cases: Array<[string, string, string, number, string[]?]> = [
      ["truncated", bad("truncated.tar", bytes.subarray(0, Math.floor(bytes.length / 2))), "BACKUP_TRUNCATED", 6],
      ["an edited file", bad("edited.tar", edited), "BACKUP_DIGEST_MISMATCH", 6],
      ["an edited manifest", bad("edited-manifest.tar", editedManifest), "BACKUP_SIGNATURE_INVALID", 6],
      ["not an archive", bad("notes.txt", Buffer.from("minutes of the meeting\n".repeat(100))), "BACKUP_MALFORMED", 2],
      ["another authority's, pinned to GB's root", usArchive, "BACKUP_FOREIGN", 6, ["--fingerprint", network.gb.rootFingerprint]],
    ];
    for (const [what, file, code, exit, extra] of cases) {
      const target = join(network.dir, `restored-${code}`);
      const verify = await cli(["backup", "verify", file, "--json", ...(extra ?? [])]);
      expect(errorCode(verify), `${what}: ${verify.stdout}`).to.equal(code);
      expect(verify.exit, what).to.equal(exit);
      const restore = await cli(["restore", file, "--home", target, "--json", ...(extra ?? [])]);
      expect(errorCode(restore), what).to.equal(code);
      expect(existsSync(target), `${what}: nothing written`).to.equal(false);
    }
    // US's archive over GB's (stopped or not) home: foreign, whatever --force says.
    const foreign = await cli(["restore", usArchive, "--home", network.gb.home, "--force", "--json"]);
    expect(errorCode(foreign)).to.equal("BACKUP_FOREIGN");
  });

  it("restores into a new home whose log is the one backed up, marked for the peer check", async function () {
    // PostgreSQL: the archive names the live database, so its gateway is stopped first (the database itself is the operator's to restore).
    await gb?.stop();
    gb = undefined;
    const target = join(network.dir, "gb-restored");
    const run = await cli(["restore", archive, "--home", target, "--fingerprint", network.gb.rootFingerprint, "--json"]);
    expect(run.exit, run.stdout + run.stderr).to.equal(0);
    const summary = run.json<{ log: { size: number; root: string } }>();
    const marker = readRestoreMarker(target);
    expect(marker?.log.size).to.equal(summary.log.size);
    expect(marker?.store).to.equal(engine.name);
    const home = openHome(target);
    const store = await openHomeStore(home, "apply");
    try {
      const logKeys = home.config.authority === "GB-UKCA" ? network.gb.pki().certificates("log").map((c) => c.certificate.publicKey) : [];
      const integrity = await store.read((tx) => checkLogIntegrity(tx, "GB-UKCA", logKeys));
      if (engine.name === "sqlite") {
        // What was backed up, and the restore's own entry after it.
        expect(integrity.entries).to.equal(summary.log.size + 1);
        const last = await store.inspect<{ kind: string }>("SELECT kind FROM audit_entries ORDER BY idx DESC LIMIT 1");
        expect(last[0]?.kind).to.equal("backup.restored");
      } else {
        expect(integrity.entries).to.be.at.least(summary.log.size);
      }
    } finally {
      await store.close();
    }
  });
}));
