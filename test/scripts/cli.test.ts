/**
 * The operator's flow of the PKI issue, by script and without a prompt:
 * two `valise init`, bundles exported and exchanged with the fingerprint
 * check, a rotation and a revocation — and every refusal with its code and
 * exit status.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { valise, type CliRun } from "./cli-helpers.js";

const run = promisify(execFile);
const env = { VALISE_PASSPHRASE: "test passphrase" };

function expectError(result: CliRun, code: string, exit: number): void {
  expect(result.json<{ error: { code: string } }>().error.code, result.stdout).to.equal(code);
  expect(result.exit).to.equal(exit);
}

describe("valise CLI: operator PKI flow", function () {
  let dir: string;
  let gb: string;
  let us: string;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "valise-cli-"));
    gb = join(dir, "gb");
    us = join(dir, "us");
    const a = await valise(["init", "--home", gb, "--authority", "GB-UKCA", "--endpoint", "https://127.0.0.1:18443", "--json"], env);
    const b = await valise(
      ["init", "--home", us, "--authority", "US-DOJ-OIA", "--endpoint", "https://127.0.0.1:18543", "--profile", "p256", "--dns", "valise.oia.example", "--json"],
      env,
    );
    expect(a.exit, a.stdout).to.equal(0);
    expect(b.exit, b.stdout).to.equal(0);
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the root fingerprint at init and on request, the same", async function () {
    const listed = await valise(["pki", "fingerprint", "--home", gb, "--json"]);
    expect(listed.exit).to.equal(0);
    expect(listed.json<{ fingerprint: string }>().fingerprint).to.match(/^[0-9a-f]{64}$/);
    const text = await valise(["pki", "fingerprint"], { VALISE_HOME: gb });
    expect(text.stdout.trim().replaceAll(":", "").toLowerCase()).to.equal(listed.json<{ fingerprint: string }>().fingerprint);
  });

  it("lists the root and the four leaves with use, status, SAN and file", async function () {
    const result = await valise(["pki", "list", "--home", us, "--json"]);
    const rows = result.json<{ certificates: Array<{ use: string; status: string; sans: string[]; path: string; fingerprint: string }> }>().certificates;
    expect(rows.map((row) => row.use)).to.have.members(["root", "tls", "sign", "encrypt", "log"]);
    for (const row of rows) {
      expect(row.status).to.equal("current");
      expect(row.sans).to.include("URI:urn:valise:authority:US-DOJ-OIA");
      expect(readFileSync(row.path, "utf8")).to.contain("BEGIN CERTIFICATE");
    }
    const tls = rows.find((row) => row.use === "tls");
    expect(tls?.sans).to.include.members(["DNS:valise.oia.example", "IP:127.0.0.1"]);
  });

  it("exchanges bundles with the fingerprint check, rotates, revokes and updates the peer", async function () {
    const gbBundle = join(dir, "gb.bundle.json");
    const usBundle = join(dir, "us.bundle.json");
    expect((await valise(["pki", "export-bundle", "--home", gb, "--out", gbBundle], env)).exit).to.equal(0);
    expect((await valise(["pki", "export-bundle", "--home", us, "--out", usBundle], env)).exit).to.equal(0);
    const gbFingerprint = (await valise(["pki", "fingerprint", "--home", gb, "--json"])).json<{ fingerprint: string }>().fingerprint;
    const usGrouped = (await valise(["pki", "fingerprint", "--home", us])).stdout.trim();

    expect((await valise(["peers", "add", gbBundle, "--fingerprint", gbFingerprint, "--home", us])).exit).to.equal(0);
    expect((await valise(["peers", "add", usBundle, "--fingerprint", usGrouped, "--home", gb])).exit).to.equal(0);
    const peers = (await valise(["peers", "list", "--home", gb, "--json"])).json<{ peers: Array<{ authority: string }> }>().peers;
    expect(peers.map((peer) => peer.authority)).to.deep.equal(["US-DOJ-OIA"]);

    const rotated = await valise(["pki", "rotate", "sign", "--home", gb, "--json"], env);
    expect(rotated.exit, rotated.stdout).to.equal(0);
    const rows = (await valise(["pki", "list", "--home", gb, "--json"])).json<{ certificates: Array<{ use: string; status: string; serial: string }> }>()
      .certificates;
    const signs = rows.filter((row) => row.use === "sign");
    expect(signs.map((row) => row.status).sort()).to.deep.equal(["current", "previous"]);
    const previous = signs.find((row) => row.status === "previous")!;

    const revoked = await valise(["pki", "revoke", previous.serial, "--reason", "superseded", "--home", gb, "--json"], env);
    expect(revoked.exit, revoked.stdout).to.equal(0);
    const crl = (await valise(["pki", "crl", "--home", gb, "--json"])).json<{ revoked: string[]; crlNumber: number }>();
    expect(crl.revoked).to.deep.equal([previous.serial]);
    expect(crl.crlNumber).to.equal(2);
    expectError(await valise(["pki", "revoke", previous.serial, "--home", gb, "--json"], env), "PKI_ALREADY_REVOKED", 5);

    const newBundle = join(dir, "gb.bundle.2.json");
    expect((await valise(["pki", "export-bundle", "--home", gb, "--out", newBundle], env)).exit).to.equal(0);
    const updated = await valise(["peers", "update", newBundle, "--home", us, "--json"]);
    expect(updated.exit, updated.stdout).to.equal(0);
    expect(updated.json<{ updated: { crlNumber: number } }>().updated.crlNumber).to.equal(2);
    // The older bundle cannot roll the peer back to a CRL without the revocation.
    expectError(await valise(["peers", "update", gbBundle, "--home", us, "--json"]), "PKI_BUNDLE_STALE", 5);
  });

  describe("refusals", function () {
    it("an existing home without --force", async function () {
      expectError(
        await valise(["init", "--home", gb, "--authority", "GB-UKCA", "--endpoint", "https://127.0.0.1:18443", "--json"], env),
        "HOME_EXISTS",
        5,
      );
    });

    it("an invalid authority id", async function () {
      expectError(
        await valise(["init", "--home", join(dir, "bad"), "--authority", "gb-ukca", "--endpoint", "https://127.0.0.1:1", "--json"], env),
        "PKI_INVALID_AUTHORITY_ID",
        2,
      );
    });

    it("no passphrase and no terminal: an error, not a prompt", async function () {
      expectError(await valise(["pki", "rotate", "tls", "--home", gb, "--json"]), "PKI_PASSPHRASE_MISSING", 3);
    });

    it("a wrong passphrase, from a file", async function () {
      const file = join(dir, "wrong.pass");
      writeFileSync(file, "not the passphrase\n");
      expectError(await valise(["pki", "rotate", "tls", "--home", gb, "--passphrase-file", file, "--json"]), "PKI_BAD_PASSPHRASE", 3);
    });

    it("a bundle whose root does not match the fingerprint", async function () {
      const other = join(dir, "other");
      await valise(["init", "--home", other, "--authority", "FR-MJ", "--endpoint", "https://127.0.0.1:18643"], env);
      const bundle = join(dir, "fr.bundle.json");
      await valise(["pki", "export-bundle", "--home", other, "--out", bundle], env);
      const gbFingerprint = (await valise(["pki", "fingerprint", "--home", gb, "--json"])).json<{ fingerprint: string }>().fingerprint;
      expectError(await valise(["peers", "add", bundle, "--fingerprint", gbFingerprint, "--home", us, "--json"]), "PKI_FINGERPRINT_MISMATCH", 6);
    });

    it("a bundle whose signature does not verify", async function () {
      const bundle = join(dir, "tampered.bundle.json");
      await valise(["pki", "export-bundle", "--home", us, "--out", bundle], env);
      const file = JSON.parse(readFileSync(bundle, "utf8")) as Record<string, unknown>;
      const tampered = JSON.stringify(file).replace(/"jws":"([^"]+)"/, (_match, jws: string) => {
        const parts = jws.split(".");
        const signature = parts[2]!;
        parts[2] = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
        return `"jws":"${parts.join(".")}"`;
      });
      expect(tampered).to.not.equal(JSON.stringify(file));
      writeFileSync(bundle, tampered);
      const fingerprint = (await valise(["pki", "fingerprint", "--home", us, "--json"])).json<{ fingerprint: string }>().fingerprint;
      const fresh = join(dir, "fresh");
      await valise(["init", "--home", fresh, "--authority", "DE-BFJ", "--endpoint", "https://127.0.0.1:18743"], env);
      expectError(await valise(["peers", "add", bundle, "--fingerprint", fingerprint, "--home", fresh, "--json"]), "PKI_BUNDLE_SIGNATURE", 6);
    });

    it("a bundle that is not a trust bundle", async function () {
      const bundle = join(dir, "not-a-bundle.json");
      writeFileSync(bundle, JSON.stringify({ hello: "world" }));
      expectError(await valise(["peers", "add", bundle, "--fingerprint", "00".repeat(32), "--home", gb, "--json"]), "PKI_BUNDLE_SCHEMA", 6);
    });

    it("an authority id that already belongs to a peer with another root", async function () {
      const impostor = join(dir, "impostor");
      await valise(["init", "--home", impostor, "--authority", "US-DOJ-OIA", "--endpoint", "https://127.0.0.1:18843"], env);
      const bundle = join(dir, "impostor.bundle.json");
      await valise(["pki", "export-bundle", "--home", impostor, "--out", bundle], env);
      const fingerprint = (await valise(["pki", "fingerprint", "--home", impostor, "--json"])).json<{ fingerprint: string }>().fingerprint;
      expectError(await valise(["peers", "add", bundle, "--fingerprint", fingerprint, "--home", gb, "--json"]), "PKI_PEER_ROOT_CONFLICT", 5);
      expectError(await valise(["peers", "update", bundle, "--home", gb, "--json"]), "PKI_PEER_ROOT_CONFLICT", 5);
    });

    it("no home at all", async function () {
      expectError(await valise(["pki", "list", "--json"]), "USAGE", 2);
      expectError(await valise(["pki", "list", "--home", join(dir, "nowhere"), "--json"]), "HOME_NOT_FOUND", 4);
    });

    it("prints error[CODE]: message without --json", async function () {
      const result = await valise(["peers", "remove", "NL-OM", "--home", gb]);
      expect(result.exit).to.equal(4);
      expect(result.stderr).to.match(/^error\[PKI_PEER_UNKNOWN\]: /);
    });
  });
});

describe("valise executable", function () {
  const bin = new URL("../../scripts/valise.mjs", import.meta.url).pathname;

  it("runs as a bin and answers --help", async function () {
    const top = await run(process.execPath, [bin, "--help"]);
    expect(top.stdout).to.contain("Usage: valise");
  });

  it("has --help on every subcommand", async function () {
    for (const command of ["init", "pki", "pki list", "pki rotate", "pki revoke", "pki crl", "pki fingerprint", "pki export-bundle", "pki export-p12", "peers", "peers add", "peers list", "peers update", "peers remove"]) {
      const result = await valise([...command.split(" "), "--help"]);
      expect(result.exit, command).to.equal(0);
      expect(result.stdout, command).to.contain(`Usage: valise ${command}`);
    }
  });

  it("exits non-zero with error[CODE] on a bad command line", async function () {
    const failure = await run(process.execPath, [bin, "pki", "rotate", "nonsense"]).then(
      () => expect.fail("should have failed"),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure.code).to.equal(2);
    expect(failure.stderr).to.contain("error[USAGE]");
  });
});
