/**
 * Every command that opens a home refuses one whose valise.json names
 * another authority than its certificates (exit 2), and `valise config
 * set-endpoint` is the one way to move the endpoint: an endpoint edited by
 * hand is refused until it is run, and afterwards the bundle, the tls
 * certificate and the audit log all say the new address.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import Database from "better-sqlite3";
import { valise, type CliRun } from "./cli-helpers.js";
import { decodeTrustBundle } from "../../pki/bundle.js";

const env = { VALISE_PASSPHRASE: "config test passphrase", VALISE_TOKEN: "vls_not-a-real-token" };

function expectError(run: CliRun, code: string, exit: number): void {
  expect(run.json<{ error: { code: string } }>().error.code, run.stdout).to.equal(code);
  expect(run.exit).to.equal(exit);
}

function editConfig(home: string, edit: (config: Record<string, any>) => void): void {
  const file = join(home, "valise.json");
  const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, any>;
  edit(config);
  writeFileSync(file, JSON.stringify(config, null, 2));
}

describe("valise config: the configuration agrees with the PKI", function () {
  let dir: string;
  let home: string;

  beforeEach(async function () {
    dir = mkdtempSync(join(tmpdir(), "valise-config-"));
    home = join(dir, "gb");
    const init = await valise(["init", "--home", home, "--authority", "GB-UKCA", "--endpoint", "https://127.0.0.1:18443", "--json"], env);
    expect(init.exit, init.stdout).to.equal(0);
  });

  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("every command that opens the home refuses an authority its certificates do not name (CONFIG_IDENTITY_MISMATCH, exit 2)", async function () {
    editConfig(home, (config) => (config["authority"] = "GB-UKCX"));
    const caseId = "00000000-0000-4000-8000-000000000000";
    for (const command of [
      ["start"],
      ["pki", "list"],
      ["pki", "fingerprint"],
      ["pki", "rotate", "sign"],
      ["pki", "crl"],
      ["pki", "export-bundle", "--out", join(dir, "bundle.json")],
      ["pki", "export-p12", "tls", "--out", join(dir, "tls.p12")],
      ["peers", "list"],
      ["peers", "add", join(dir, "bundle.json"), "--fingerprint", "00".repeat(32)],
      ["token", "create", "--role", "auditor"],
      ["token", "list"],
      ["audit", "export", "--out", join(dir, "audit.json")],
      ["audit", "custody", caseId],
      ["case", "list"],
      ["case", "acknowledge", caseId],
      ["evidence", "list", caseId],
      ["evidence", "export", caseId, "--to", join(dir, "agency.asc"), "--out", join(dir, "export")],
      ["report", "kpi"],
      ["config", "set-endpoint", "https://127.0.0.1:18444"],
    ]) {
      const run = await valise([...command, "--home", home, "--json"], env);
      expect(run.json<{ error: { code: string } }>().error.code, `${command.join(" ")}: ${run.stdout}`).to.equal("CONFIG_IDENTITY_MISMATCH");
      expect(run.exit, command.join(" ")).to.equal(2);
    }
    const db = new Database(join(home, "valise.db"), { readonly: true });
    try {
      // Nothing was signed, issued or recorded under the wrong name: the log holds what init wrote, and init's one checkpoint over it.
      const entries = db.prepare("SELECT kind FROM audit_entries").all() as Array<{ kind: string }>;
      expect(entries.every((row) => row.kind === "certificate.issued")).to.equal(true);
      expect(db.prepare("SELECT COUNT(*) AS n, MAX(size) AS size FROM audit_checkpoints").get()).to.deep.equal({ n: 1, size: entries.length });
    } finally {
      db.close();
    }
  });

  it("an endpoint edited by hand is refused (CONFIG_ENDPOINT_MISMATCH); set-endpoint moves every copy and records it", async function () {
    editConfig(home, (config) => (config["endpoint"] = "https://127.0.0.1:28443"));
    expectError(await valise(["pki", "export-bundle", "--home", home, "--out", join(dir, "stale.json"), "--json"], env), "CONFIG_ENDPOINT_MISMATCH", 2);
    expectError(await valise(["start", "--home", home, "--json"], env), "CONFIG_ENDPOINT_MISMATCH", 2);

    expectError(await valise(["config", "set-endpoint", "http://127.0.0.1:28443", "--home", home, "--json"], env), "CONFIG_INVALID", 2);
    const moved = await valise(["config", "set-endpoint", "https://valise.ukca.example:28443", "--ip", "127.0.0.1", "--home", home, "--json"], env);
    expect(moved.exit, moved.stdout).to.equal(0);
    const change = moved.json<{ endpoint: string; previous: string; tls: { dns: string[]; ips: string[] }; peerApi: unknown; certificate: { serial: string } }>();
    expect(change).to.deep.include({ endpoint: "https://valise.ukca.example:28443", previous: "https://127.0.0.1:28443", tls: { dns: ["valise.ukca.example"], ips: ["127.0.0.1"] } });
    // The listen address was init's default for the old endpoint: it follows (all interfaces for a DNS name).
    expect(change.peerApi).to.deep.equal({ host: "0.0.0.0", port: 28443 });

    const bundle = join(dir, "gb.bundle.json");
    expect((await valise(["pki", "export-bundle", "--home", home, "--out", bundle, "--json"], env)).exit).to.equal(0);
    expect(decodeTrustBundle(JSON.parse(readFileSync(bundle, "utf8"))).payload.endpoint).to.equal("https://valise.ukca.example:28443");
    const rows = (await valise(["pki", "list", "--home", home, "--json"])).json<{ certificates: Array<{ use: string; status: string; serial: string; sans: string[] }> }>().certificates;
    const tls = rows.filter((row) => row.use === "tls");
    expect(tls.map((row) => row.status)).to.deep.equal(["previous", "current"]);
    expect(tls[1]).to.deep.include({ serial: change.certificate.serial });
    expect(tls[1]!.sans).to.have.members(["URI:urn:valise:authority:GB-UKCA", "DNS:valise.ukca.example", "IP:127.0.0.1"]);

    const db = new Database(join(home, "valise.db"), { readonly: true });
    try {
      const kinds = (db.prepare("SELECT kind FROM audit_entries ORDER BY idx").all() as Array<{ kind: string }>).map((row) => row.kind);
      expect(kinds.slice(-2)).to.deep.equal(["endpoint.changed", "certificate.rotated"]);
    } finally {
      db.close();
    }
  });

  it("has --help for config set-endpoint", async function () {
    const help = await valise(["config", "set-endpoint", "--help"]);
    expect(help.exit).to.equal(0);
    expect(help.stdout).to.contain("Usage: valise config set-endpoint");
  });
});
