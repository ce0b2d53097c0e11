/**
 * `valise evidence …` against two running gateways, as an operator scripts
 * it: US sends files with `send` (waits for every receipt), GB lists and
 * `get`s them, then `export`s the case for an agency outside the network —
 * and GnuPG, in a throwaway GNUPGHOME, verifies the signatures and decrypts
 * every item to the bytes that were sent. Refusals keep their codes and exit
 * statuses. Without gpg (.ci/run installs it) the GnuPG checks fail in CI and
 * are skipped, saying so, elsewhere (test/required-tools.ts).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import { PASSPHRASE, createNetwork, type TestNetwork } from "../gateway/fixtures.js";
import { acceptedRequest } from "../gateway/witness/helpers.js";
import { PROVENANCE, entriesOfKind, plaintextOf } from "../gateway/evidence/helpers.js";
import { valise, type CliRun } from "./cli-helpers.js";
import { GPG, requireTool } from "../required-tools.js";


function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function expectOk(run: CliRun): void {
  expect(run.exit, `${run.stdout}\n${run.stderr}`).to.equal(0);
}

function expectError(run: CliRun, code: string, exit: number): void {
  expect(run.json<{ error: { code: string } }>().error.code, run.stdout).to.equal(code);
  expect(run.exit).to.equal(exit);
}

describe("valise evidence: send, list, get and export (with GnuPG)", function () {
  this.timeout(60_000);
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  let caseId: string;
  let work: string;
  let gnupg: string;
  let gpgChecked = false;
  const files = { "subscriber-records.pdf": plaintextOf(300_000, "pdf"), "login-records.csv": plaintextOf(5_000, "csv") };
  let sent: { packageId: string; state: string; items: Array<{ itemId: string; name: string; sha256: string }> };

  const gpg = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const run = spawnSync("gpg", ["--homedir", gnupg, "--batch", "--no-tty", ...args], { encoding: "utf8" });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  before(async function () {
    network = await createNetwork();
    gb = network.gb.gateway();
    us = network.us.gateway();
    await gb.start();
    await us.start();
    caseId = await acceptedRequest(network.gb, network.us);
    work = mkdtempSync(join(tmpdir(), "valise-evidence-cli-"));
    gnupg = join(work, "gnupg");
    mkdirSync(gnupg, { mode: 0o700 });
    // A light passphrase stretch for the throwaway keys (GnuPG's default takes openpgp.js seconds to undo).
    writeFileSync(join(gnupg, "gpg-agent.conf"), "s2k-count 65536\n");
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(network.us.home, "outgoing", name), bytes);
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
    if (gpgChecked && work !== undefined) spawnSync("gpgconf", ["--homedir", gnupg, "--kill", "all"]);
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("send: queues the package, waits until each item is receipted, and reports it (--json)", async function () {
    const run = await valise(
      [
        "evidence", "send", caseId,
        join(network.us.home, "outgoing", "subscriber-records.pdf"), join(network.us.home, "outgoing", "login-records.csv"),
        "--home", network.us.home, "--completes", "executed", "--chunk-size", "65536", "--describe", JSON.stringify(PROVENANCE), "--json",
      ],
      { VALISE_TOKEN: network.us.tokens.caseworker },
    );
    expectOk(run);
    sent = run.json();
    expect(sent.state).to.equal("delivered");
    expect(sent.items.map((i) => [i.name, i.sha256])).to.deep.equal(Object.entries(files).map(([name, bytes]) => [name, sha256(bytes)]));
  });

  it("send refusals: no token (exit 6), a case that does not exist (exit 4), a file outside the allowed folders (exit 6), a case already executed (exit 5)", async function () {
    const file = join(network.us.home, "outgoing", "login-records.csv");
    const describe = ["--describe", JSON.stringify(PROVENANCE), "--json"];
    expectError(await valise(["evidence", "send", caseId, file, "--home", network.us.home, ...describe], {}), "UNAUTHENTICATED", 6);
    expectError(await valise(["evidence", "send", "00000000-0000-4000-8000-000000000000", file, "--home", network.us.home, ...describe], { VALISE_TOKEN: network.us.tokens.caseworker }), "CASE_UNKNOWN", 4);
    const outside = join(work, "elsewhere.txt");
    writeFileSync(outside, "x");
    expectError(await valise(["evidence", "send", caseId, outside, "--home", network.us.home, ...describe], { VALISE_TOKEN: network.us.tokens.caseworker }), "EVIDENCE_PATH_NOT_ALLOWED", 6);
    // The first package executed the request: the lifecycle allows no further package on it.
    expectError(await valise(["evidence", "send", caseId, file, "--home", network.us.home, ...describe], { VALISE_TOKEN: network.us.tokens.caseworker }), "CASE_TRANSITION_INVALID", 5);
  });

  it("list and get at GB: the items, and each download verified to the bytes sent", async function () {
    const env = { VALISE_TOKEN: network.gb.tokens.caseworker };
    const listed = await valise(["evidence", "list", caseId, "--home", network.gb.home, "--json"], env);
    expectOk(listed);
    const packages = listed.json<{ packages: Array<{ packageId: string; state: string; items: Array<{ itemId: string; state: string }> }> }>().packages;
    expect(packages.map((p) => [p.packageId, p.state])).to.deep.equal([[sent.packageId, "received"]]);
    for (const item of sent.items) {
      const out = join(work, `got-${item.name}`);
      const got = await valise(["evidence", "get", caseId, item.itemId, "--out", out, "--home", network.gb.home, "--json"], env);
      expectOk(got);
      expect(sha256(readFileSync(out))).to.equal(item.sha256);
      // Never overwritten without --force.
      expectError(await valise(["evidence", "get", caseId, item.itemId, "--out", out, "--home", network.gb.home, "--json"], env), "USAGE", 2);
    }
    expectError(await valise(["evidence", "get", caseId, "00000000-0000-4000-8000-000000000000", "--out", join(work, "none"), "--home", network.gb.home, "--json"], env), "EVIDENCE_ITEM_UNKNOWN", 4);
  });

  describe("export for an agency, checked with GnuPG", function () {
    let recipientKey: string;
    before(function () {
      requireTool(this, GPG);
      gpgChecked = true;
      execFileSync("gpg", ["--homedir", gnupg, "--batch", "--passphrase", "", "--quick-gen-key", "Agency Evidence Unit <evidence@agency.example>", "future-default", "default", "never"], { stdio: "ignore" });
      recipientKey = join(work, "agency.asc");
      writeFileSync(recipientKey, gpg("--armor", "--export", "evidence@agency.example").stdout);
    });

    it("writes per item a signed and encrypted OpenPGP message that gpg decrypts and verifies, plus the signed manifest and custody", async function () {
      const out = join(work, "export");
      const run = await valise(["evidence", "export", caseId, "--to", recipientKey, "--out", out, "--home", network.gb.home, "--json"], { VALISE_PASSPHRASE: PASSPHRASE });
      expectOk(run);
      const result = run.json<{ signer: { fingerprint: string }; items: Array<{ itemId: string; file: string; sha256: string; name: string }> }>();
      expect(result.items).to.have.length(2);
      expect(gpg("--import", join(out, "signer.asc")).status).to.equal(0);

      for (const document of ["manifest.json", "custody.json"]) {
        const verified = gpg("--status-fd", "1", "--verify", join(out, `${document}.asc`), join(out, document));
        expect(verified.status, verified.stderr).to.equal(0);
        expect(verified.stdout).to.match(new RegExp(`\\[GNUPG:\\] VALIDSIG ${result.signer.fingerprint} `));
      }
      const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as { caseId: string; packages: Array<{ manifest: { items: Array<{ encryption: Record<string, unknown> }> }; items: Array<{ receipt: string }> }> };
      expect(manifest.caseId).to.equal(caseId);
      // The item keys stay home; the receipts GB issued travel along.
      expect(Object.keys(manifest.packages[0]!.manifest.items[0]!.encryption).sort()).to.deep.equal(["alg", "chunkSize"]);
      expect(manifest.packages[0]!.items.every((item) => typeof item.receipt === "string")).to.equal(true);
      const custody = JSON.parse(readFileSync(join(out, "custody.json"), "utf8")) as { events: Array<{ kind: string }> };
      expect(custody.events.map((e) => e.kind)).to.include.members(["evidence.item.received", "evidence.package.received"]);

      for (const item of result.items) {
        const plain = join(work, `decrypted-${item.itemId}`);
        const decrypted = gpg("--status-fd", "1", "--output", plain, "--decrypt", join(out, item.file));
        expect(decrypted.status, decrypted.stderr).to.equal(0);
        expect(decrypted.stdout).to.contain("[GNUPG:] DECRYPTION_OKAY");
        expect(decrypted.stdout).to.match(new RegExp(`\\[GNUPG:\\] VALIDSIG ${result.signer.fingerprint} `));
        expect(sha256(readFileSync(plain))).to.equal(item.sha256);
        expect(item.sha256).to.equal(sha256(files[item.name as keyof typeof files]));
      }

      // Each item read for the export, and the export itself, are on GB's record.
      const reads = (await entriesOfKind(gb.context.store, "access.read")).filter((e) => e.details["purpose"] === "export");
      expect(reads.map((e) => e.details["itemId"]).sort()).to.deep.equal(result.items.map((i) => i.itemId).sort());
      expect((await entriesOfKind(gb.context.store, "evidence.exported"))).to.have.length(1);
    });

    it("signs with the operator's own OpenPGP key when given one", async function () {
      execFileSync("gpg", ["--homedir", gnupg, "--batch", "--pinentry-mode", "loopback", "--passphrase", "signing pw", "--quick-gen-key", "UK Central Authority <evidence@ukca.example>", "future-default", "default", "never"], { stdio: "ignore" });
      const key = join(work, "ukca-signing.asc");
      writeFileSync(key, gpg("--pinentry-mode", "loopback", "--passphrase", "signing pw", "--armor", "--export-secret-keys", "evidence@ukca.example").stdout);
      const passphraseFile = join(work, "signing.pass");
      writeFileSync(passphraseFile, "signing pw\n");
      const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg("--with-colons", "--fingerprint", "evidence@ukca.example").stdout)![1]!;
      const out = join(work, "export-operator-key");
      const run = await valise(["evidence", "export", caseId, "--to", recipientKey, "--out", out, "--signing-key", key, "--signing-passphrase-file", passphraseFile, "--home", network.gb.home, "--json"], {});
      expectOk(run);
      expect(run.json<{ signer: { fingerprint: string } }>().signer.fingerprint).to.equal(fingerprint);
      const verified = gpg("--status-fd", "1", "--verify", join(out, "manifest.json.asc"), join(out, "manifest.json"));
      expect(verified.stdout).to.match(new RegExp(`VALIDSIG ${fingerprint} `));
      const wrong = join(work, "wrong.pass");
      writeFileSync(wrong, "not it\n");
      expectError(await valise(["evidence", "export", caseId, "--to", recipientKey, "--out", join(work, "x"), "--signing-key", key, "--signing-passphrase-file", wrong, "--home", network.gb.home, "--json"], {}), "PKI_BAD_PASSPHRASE", 3);
    });

    it("refuses a non-empty folder (exit 5) and a private key as the recipient (exit 2), writing nothing", async function () {
      const out = join(work, "occupied");
      mkdirSync(out);
      writeFileSync(join(out, "keep.txt"), "mine");
      expectError(await valise(["evidence", "export", caseId, "--to", recipientKey, "--out", out, "--home", network.gb.home, "--json"], { VALISE_PASSPHRASE: PASSPHRASE }), "EVIDENCE_EXPORT_EXISTS", 5);
      expect(readFileSync(join(out, "keep.txt"), "utf8")).to.equal("mine");
      const secret = join(work, "agency-secret.asc");
      writeFileSync(secret, gpg("--armor", "--export-secret-keys", "evidence@agency.example").stdout);
      const fresh = join(work, "never-written");
      expectError(await valise(["evidence", "export", caseId, "--to", secret, "--out", fresh, "--home", network.gb.home, "--json"], { VALISE_PASSPHRASE: PASSPHRASE }), "EVIDENCE_EXPORT_KEY_INVALID", 2);
      expect(existsSync(fresh)).to.equal(false);
    });
  });
});
