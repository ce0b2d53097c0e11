/**
 * Audit exports prove what they claim: the CLI holds the log key, so every
 * command that appends an entry and every `audit export` signs a checkpoint
 * over the log as it is; `audit verify` refuses entries no trusted
 * checkpoint covers (AUDIT_VERIFY_UNSIGNED) unless the auditor passes
 * `--allow-unsigned-tail`; and a running gateway reads the latest checkpoint
 * from the store, so one the CLI signed beside it is the one it serves.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import Database from "better-sqlite3";
import { valise, type CliRun } from "./cli-helpers.js";
import { checkpointOrigin, verifyCheckpoint } from "../../gateway/audit/checkpoint.js";
import { openAuthorityPki } from "../../pki/store.js";
import { createNetwork, PASSPHRASE, type TestNetwork } from "../gateway/fixtures.js";
import { exchangeRequest, manualWitnessGateway, rows } from "../gateway/witness/helpers.js";
import type { Gateway } from "../../gateway/gateway.js";

const env = { VALISE_PASSPHRASE: "signed export passphrase" };
const GB = "GB-UKCA";

interface ExportFile {
  entries: Array<{ index: number; kind: string; details: Record<string, unknown> }>;
  checkpoints: Array<{ size: number; note: string }>;
}

function errorOf(run: CliRun): { code: string; details: Record<string, unknown>; message: string } {
  return run.json<{ error: { code: string; details: Record<string, unknown>; message: string } }>().error;
}

/** Rows of the home's database (read-only). */
function query<T>(home: string, sql: string): T[] {
  const db = new Database(join(home, "valise.db"), { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

const entryCount = (home: string): number => query<{ n: number }>(home, "SELECT COUNT(*) AS n FROM audit_entries")[0]!.n;
const largestCheckpoint = (home: string): { size: number; note: string } | undefined => query<{ size: number; note: string }>(home, "SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1")[0];

describe("valise audit: every export fully signed, and verify refuses what no checkpoint covers", function () {
  this.timeout(60_000);
  let dir: string;
  let home: string;
  let bundle: string;
  let exportFile: string;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "valise-audit-signed-"));
    home = join(dir, "gb");
    bundle = join(dir, "GB-UKCA.bundle.json");
    exportFile = join(dir, "gb.audit.json");
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  const verify = (file: string, ...extra: string[]): Promise<CliRun> => valise(["audit", "verify", file, "--trust", bundle, "--json", ...extra]);

  it("the issue's reproduction: init, rotate sign, token create (no passphrase), export, edit an entry: verify refuses the edit", async function () {
    expect((await valise(["init", "--home", home, "--authority", GB, "--endpoint", "https://127.0.0.1:18943", "--json"], env)).exit).to.equal(0);
    expect((await valise(["pki", "rotate", "sign", "--home", home, "--json"], env)).exit).to.equal(0);
    // Unattended, no passphrase: the entry is recorded, and no checkpoint covers it yet.
    const token = await valise(["token", "create", "--role", "auditor", "--name", "court-expert", "--home", home]);
    expect(token.exit, token.stderr).to.equal(0);
    expect(token.stderr).to.contain("next signed checkpoint");
    expect(largestCheckpoint(home)!.size).to.equal(entryCount(home) - 1);

    expect((await valise(["pki", "export-bundle", "--home", home, "--out", bundle, "--json"], env)).exit).to.equal(0);
    const exported = await valise(["audit", "export", "--home", home, "--out", exportFile, "--json"], env);
    expect(exported.exit, exported.stdout).to.equal(0);
    const summary = exported.json<{ entries: number; latestCheckpointSize: number; signedForExport: number | null; unsignedEntries: number }>();
    expect(summary).to.include({ latestCheckpointSize: summary.entries, signedForExport: summary.entries, unsignedEntries: 0 });
    expect(largestCheckpoint(home)!.size).to.equal(entryCount(home)); // stored, not only written to the file

    const verified = await verify(exportFile);
    expect(verified.exit, verified.stdout).to.equal(0);
    expect(verified.json<{ unsignedEntries: number; unsignedRange: unknown }>()).to.include({ unsignedEntries: 0, unsignedRange: null });

    const file = JSON.parse(readFileSync(exportFile, "utf8")) as ExportFile;
    const last = file.entries.length - 1;
    expect(file.entries[last]!.kind).to.equal("token.created");
    file.entries[last]!.details["role"] = "operator"; // the edit an insider would make
    const edited = join(dir, "edited.audit.json");
    writeFileSync(edited, JSON.stringify(file));
    const refused = await verify(edited);
    expect(refused.exit).to.equal(6);
    expect(errorOf(refused).code).to.equal("AUDIT_VERIFY_FAILED");
    expect(errorOf(refused).details["index"]).to.equal(last);
  });

  it("refuses an export whose tail no trusted checkpoint covers (AUDIT_VERIFY_UNSIGNED, naming the range); --allow-unsigned-tail accepts it and says so", async function () {
    // What exports were before: the checkpoint over the token entry missing, and that entry edited.
    const file = JSON.parse(readFileSync(exportFile, "utf8")) as ExportFile;
    const size = file.entries.length;
    file.checkpoints = file.checkpoints.filter((c) => c.size < size);
    const covered = Math.max(...file.checkpoints.map((c) => c.size));
    expect(covered).to.equal(size - 1);
    file.entries[size - 1]!.details["role"] = "operator";
    const tail = join(dir, "tail.audit.json");
    writeFileSync(tail, JSON.stringify(file));

    const refused = await verify(tail);
    expect(refused.exit).to.equal(6);
    const error = errorOf(refused);
    expect(error.code).to.equal("AUDIT_VERIFY_UNSIGNED");
    expect(error.details).to.deep.equal({ from: size - 1, to: size - 1, count: 1, signedSize: size - 1 });
    expect(error.message).to.contain(`entries ${size - 1} are covered by no checkpoint`);
    const text = await valise(["audit", "verify", tail, "--trust", bundle]);
    expect(text.exit).to.equal(6);
    expect(text.stderr).to.contain("error[AUDIT_VERIFY_UNSIGNED]");

    const accepted = await verify(tail, "--allow-unsigned-tail");
    expect(accepted.exit, accepted.stdout).to.equal(0);
    expect(accepted.json<{ unsignedEntries: number; unsignedRange: unknown }>()).to.deep.include({ unsignedEntries: 1, unsignedRange: { from: size - 1, to: size - 1 } });
    const said = await valise(["audit", "verify", tail, "--trust", bundle, "--allow-unsigned-tail"]);
    expect(said.exit).to.equal(0);
    expect(said.stdout).to.match(/^VERIFIED: .*EXCEPT an unsigned tail/);
    expect(said.stdout).to.contain(`UNSIGNED      entries ${size - 1} (1)`);
  });

  it("signs a checkpoint over the whole log with each command that appends, when a passphrase is at hand; a wrong one changes nothing", async function () {
    const created = await valise(["token", "create", "--role", "caseworker", "--name", "case-system", "--home", home, "--json"], env);
    expect(created.exit, created.stdout).to.equal(0);
    expect(largestCheckpoint(home)!.size).to.equal(entryCount(home));

    // After `pki rotate log` the new key signs.
    expect((await valise(["pki", "rotate", "log", "--home", home, "--json"], env)).exit).to.equal(0);
    const latest = largestCheckpoint(home)!;
    expect(latest.size).to.equal(entryCount(home));
    const origin = checkpointOrigin(GB);
    verifyCheckpoint(latest.note, { origin, publicKey: openAuthorityPki(join(home, "pki")).currentCertificate("log").publicKey });
    // The auditor needs the bundle that carries the new log key.
    expect((await valise(["pki", "export-bundle", "--home", home, "--out", bundle, "--json"], env)).exit).to.equal(0);

    const wrong = join(dir, "wrong.pass");
    writeFileSync(wrong, "not the passphrase\n");
    const before = entryCount(home);
    const tokens = query<{ n: number }>(home, "SELECT COUNT(*) AS n FROM tokens")[0]!.n;
    const refused = await valise(["token", "create", "--role", "auditor", "--home", home, "--passphrase-file", wrong, "--json"]);
    expect([refused.exit, errorOf(refused).code]).to.deep.equal([3, "PKI_BAD_PASSPHRASE"]);
    expect(entryCount(home)).to.equal(before);
    expect(query<{ n: number }>(home, "SELECT COUNT(*) AS n FROM tokens")[0]!.n).to.equal(tokens);
  });

  it("never signs a log whose tree no longer matches its checkpoints: the entry is kept, the export says it is not fully signed, verify refuses the tail", async function () {
    const copy = join(dir, "tampered");
    cpSync(home, copy, { recursive: true });
    const db = new Database(join(copy, "valise.db"));
    try {
      // Another tree under the same entries: every stored node rewritten.
      db.exec("DROP TRIGGER audit_nodes_no_update");
      db.exec("UPDATE audit_nodes SET hash = randomblob(32)");
    } finally {
      db.close();
    }
    const signedBefore = largestCheckpoint(copy)!.size;
    const created = await valise(["token", "create", "--role", "auditor", "--name", "late", "--home", copy], env);
    expect(created.exit, created.stderr).to.equal(0);
    expect(created.stderr).to.contain("AUDIT_LOG_TAMPERED");
    expect(entryCount(copy)).to.equal(signedBefore + 1);
    expect(largestCheckpoint(copy)!.size).to.equal(signedBefore);

    const out = join(dir, "tampered.audit.json");
    const exported = await valise(["audit", "export", "--home", copy, "--out", out, "--json"], env);
    expect(exported.exit, exported.stdout).to.equal(0);
    expect(exported.json<{ signedForExport: number | null; unsignedEntries: number }>()).to.include({ signedForExport: null, unsignedEntries: 1 });
    expect(largestCheckpoint(copy)!.size).to.equal(signedBefore);
    const refused = await verify(out);
    expect([refused.exit, errorOf(refused).code], refused.stdout).to.deep.equal([6, "AUDIT_VERIFY_UNSIGNED"]);
  });
});

describe("checkpoints signed by the CLI beside a running gateway", function () {
  this.timeout(60_000);
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  const gateEnv = { VALISE_PASSPHRASE: PASSPHRASE };

  before(async function () {
    network = await createNetwork();
    gb = manualWitnessGateway(network.gb);
    us = manualWitnessGateway(network.us);
    await gb.start();
    await us.start();
    await exchangeRequest(network.gb);
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  it("the gateway's latest checkpoint is the one the CLI signed; it serves and submits it, and goes on from it", async function () {
    const before = (await gb.context.checkpoints.sign());
    const token = await valise(["token", "create", "--role", "auditor", "--name", "beside", "--home", network.gb.home, "--json"], gateEnv);
    expect(token.exit, token.stdout).to.equal(0);
    const cliSigned = largestCheckpoint(network.gb.home)!;
    expect(cliSigned.size).to.be.greaterThan(before.size);
    expect((await gb.context.checkpoints.latest())).to.deep.include({ size: cliSigned.size, note: cliSigned.note });
    // Nothing appended since: signing again gives the stored checkpoint of that size, not a second note.
    expect((await gb.context.checkpoints.sign()).note).to.equal(cliSigned.note);

    // The gateway submits the CLI's checkpoint for witnessing.
    const [submission] = (await gb.witness.runNow()).filter((s) => s.peer === "US-DOJ-OIA");
    expect(submission).to.deep.include({ outcome: "cosigned", size: cliSigned.size });

    // The log grows on; the gateway's next checkpoint extends the CLI's, and the peer cosigns it.
    await exchangeRequest(network.gb);
    const next = (await gb.context.checkpoints.sign());
    expect(next.size).to.be.greaterThan(cliSigned.size);
    const [again] = (await gb.witness.runNow()).filter((s) => s.peer === "US-DOJ-OIA");
    expect(again).to.deep.include({ outcome: "cosigned", size: next.size });
    expect((await rows(us.context.store, "log_alarms"))).to.have.length(0);

    // One row per size: the sizes are distinct and each root is the tree's.
    const sizes = query<{ size: number }>(network.gb.home, "SELECT size FROM audit_checkpoints ORDER BY size").map((r) => r.size);
    expect(new Set(sizes).size).to.equal(sizes.length);
  });

  it("an export made while the gateway runs is fully signed and verifies", async function () {
    const dir = mkdtempSync(join(network.dir, "exports-"));
    const out = join(dir, "gb.audit.json");
    const bundleFile = join(dir, "gb.bundle.json");
    expect((await valise(["pki", "export-bundle", "--home", network.gb.home, "--out", bundleFile, "--json"], gateEnv)).exit).to.equal(0);
    const exported = await valise(["audit", "export", "--home", network.gb.home, "--out", out, "--json"], gateEnv);
    expect(exported.exit, exported.stdout).to.equal(0);
    const run = await valise(["audit", "verify", out, "--trust", bundleFile, "--json"]);
    expect(run.exit, run.stdout).to.equal(0);
    expect(run.json<{ unsignedEntries: number }>().unsignedEntries).to.equal(0);
  });
});
