/**
 * `valise token …` and `valise start` as an operator runs them: tokens shown
 * once and stored hashed; a broken home refused with a code; SIGTERM stops
 * the gateway cleanly with exit 0.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import Database from "better-sqlite3";
import { valise, type CliRun } from "./cli-helpers.js";
import { freePort } from "../gateway/fixtures.js";

const env = { VALISE_PASSPHRASE: "start test passphrase" };
const bin = new URL("../../scripts/valise.mjs", import.meta.url).pathname;

function codeOf(run: CliRun): string {
  return run.json<{ error: { code: string } }>().error.code;
}

describe("valise token and valise start", function () {
  let dir: string;
  let home: string;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "valise-start-"));
    home = join(dir, "gb");
    const port = await freePort();
    const init = await valise(["init", "--home", home, "--authority", "GB-UKCA", "--endpoint", `https://127.0.0.1:${port}`, "--json"], env);
    expect(init.exit, init.stdout).to.equal(0);
    // The local API port defaults to the endpoint's + 1; pick a free one instead.
    const config = JSON.parse(readFileSync(join(home, "valise.json"), "utf8")) as { localApi: { port: number } };
    config.localApi.port = await freePort();
    writeFileSync(join(home, "valise.json"), JSON.stringify(config, null, 2));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates a token once, keeps only its hash, lists and revokes it", async function () {
    const created = await valise(["token", "create", "--role", "caseworker", "--name", "case-management", "--home", home, "--json"]);
    expect(created.exit, created.stdout).to.equal(0);
    const { token, tokenId } = created.json<{ token: string; tokenId: string }>();
    expect(token).to.match(/^vls_[A-Za-z0-9_-]{43}$/);
    const db = new Database(join(home, "valise.db"), { readonly: true });
    try {
      const stored = JSON.stringify(db.prepare("SELECT * FROM tokens").all());
      expect(stored).to.not.contain(token.slice(4));
      expect(db.prepare("SELECT COUNT(*) AS n FROM audit_entries WHERE kind = 'token.created'").get()).to.deep.equal({ n: 1 });
    } finally {
      db.close();
    }
    const listed = await valise(["token", "list", "--home", home, "--json"]);
    expect(listed.stdout).to.not.contain(token);
    const tokens = listed.json<{ tokens: Array<{ tokenId: string; role: string; revokedAt: string | null }> }>().tokens;
    expect(tokens.find((t) => t.tokenId === tokenId)).to.include({ role: "caseworker", revokedAt: null });
    expect((await valise(["token", "revoke", tokenId, "--home", home, "--json"])).exit).to.equal(0);
    const again = await valise(["token", "revoke", tokenId, "--home", home, "--json"]);
    expect(codeOf(again)).to.equal("TOKEN_ALREADY_REVOKED");
    expect(again.exit).to.equal(5);
    const unknown = await valise(["token", "create", "--role", "janitor", "--home", home, "--json"]);
    expect(codeOf(unknown)).to.equal("USAGE");
  });

  it("refuses to start with a wrong passphrase, a broken configuration or a missing PKI", async function () {
    const wrong = await valise(["start", "--home", home, "--json"], { VALISE_PASSPHRASE: "not it" });
    expect(codeOf(wrong)).to.equal("PKI_BAD_PASSPHRASE");
    expect(wrong.exit).to.equal(3);

    const broken = join(dir, "broken");
    cpSync(home, broken, { recursive: true });
    writeFileSync(join(broken, "valise.json"), JSON.stringify({ valise: 1, authority: "GB-UKCA" }));
    const invalid = await valise(["start", "--home", broken, "--json"], env);
    expect(codeOf(invalid)).to.equal("CONFIG_INVALID");
    expect(invalid.exit).to.equal(2);
    writeFileSync(join(broken, "valise.json"), "{ not json");
    expect(codeOf(await valise(["start", "--home", broken, "--json"], env))).to.equal("CONFIG_INVALID");

    const noPki = join(dir, "no-pki");
    cpSync(home, noPki, { recursive: true });
    rmSync(join(noPki, "pki"), { recursive: true });
    const missing = await valise(["start", "--home", noPki, "--json"], env);
    expect(missing.exit).to.be.greaterThan(0);
    expect(codeOf(missing)).to.match(/^PKI_/);
  });

  it("runs as a child process and stops cleanly on SIGTERM with exit 0", async function () {
    const child = spawn(process.execPath, [bin, "start", "--home", home], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    const started = new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        lines.push(...chunk.split("\n").filter(Boolean));
        if (lines.some((line) => line.includes('"gateway started"'))) resolve();
      });
      child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${lines.join("\n")}`)));
    });
    await started;
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).to.equal(0);
    const logged = lines.map((line) => JSON.parse(line) as { message: string; level: string });
    expect(logged.map((line) => line.message)).to.include("gateway stopped");
    expect(logged.every((line) => typeof line.level === "string")).to.equal(true);
    const db = new Database(join(home, "valise.db"), { readonly: true });
    try {
      const kinds = (db.prepare("SELECT kind FROM audit_entries ORDER BY idx").all() as Array<{ kind: string }>).map((row) => row.kind);
      expect(kinds.slice(-2)).to.deep.equal(["gateway.started", "gateway.stopped"]);
    } finally {
      db.close();
    }
  });
});
