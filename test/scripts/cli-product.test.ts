/**
 * The CLI as people use it: text-mode errors with their details, "did you
 * mean", the API's step names, --version, `init --listen` for a gateway
 * behind NAT, a port in use as a configuration error with a JSON log line,
 * and `valise start` stopping when its parent goes away without passing a
 * signal on (as under npx).
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { expect } from "chai";
import Database from "better-sqlite3";
import { valise } from "./cli-helpers.js";
import { freePort } from "../gateway/fixtures.js";
import { reportError } from "../../scripts/cli/output.js";
import { GatewayError } from "../../gateway/errors.js";

const env = { VALISE_PASSPHRASE: "cli product test passphrase" };
const bin = new URL("../../scripts/valise.mjs", import.meta.url).pathname;
const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

describe("valise CLI: errors, names and process behaviour", function () {
  let dir: string;
  let home: string;
  let peerPort: number;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "valise-cli-product-"));
    home = join(dir, "gb");
    peerPort = await freePort();
    const init = await valise(["init", "--home", home, "--authority", "GB-UKCA", "--endpoint", `https://127.0.0.1:${peerPort}`, "--json"], env);
    expect(init.exit, init.stdout).to.equal(0);
    const config = JSON.parse(readFileSync(join(home, "valise.json"), "utf8")) as { localApi: { port: number } };
    config.localApi.port = await freePort();
    writeFileSync(join(home, "valise.json"), JSON.stringify(config, null, 2));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints an error's details in text mode: every failing field with its hint", function () {
    const stderr = new PassThrough();
    let text = "";
    stderr.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    const error = new GatewayError("DOCUMENT_INVALID", "the request has 2 problem(s); see details.errors", {
      details: {
        errors: [
          { path: "/facts", code: "required", message: "facts is missing", hint: "summarise the facts of the offence" },
          { path: "/urgency/level", code: "enum", message: "urgency.level must be one of normal, urgent, emergency", hint: "pick one" },
        ],
        errorsOmitted: 3,
      },
    });
    expect(reportError(error, false, new PassThrough(), stderr)).to.equal(2);
    expect(text.split("\n")).to.deep.equal([
      "error[DOCUMENT_INVALID]: the request has 2 problem(s):",
      "  - /facts: facts is missing (summarise the facts of the offence)",
      "  - /urgency/level: urgency.level must be one of normal, urgent, emergency (pick one)",
      "  (3 more not shown)",
      "",
    ]);
  });

  it("suggests the command meant, once, and keeps --json output one document", async function () {
    const typo = await valise(["stat", "--home", home]);
    expect(typo.exit).to.equal(2);
    expect(typo.stderr).to.equal("error[USAGE]: unknown command 'stat': did you mean start? (run with --help for usage)\n");
    const sub = await valise(["pki", "lst", "--home", home, "--json"]);
    expect(sub.exit).to.equal(2);
    expect(sub.stderr).to.equal("");
    expect(sub.json<{ error: { code: string; message: string } }>().error).to.deep.equal({ code: "USAGE", message: "unknown command 'lst': did you mean list? (run with --help for usage)" });
  });

  it("names lifecycle steps as the API does, keeping the old names as aliases", async function () {
    const help = await valise(["case", "--help"]);
    for (const step of ["request-more-info", "provide-more-info", "report-progress"]) expect(help.stdout).to.contain(step);
    writeFileSync(join(dir, "token"), "vls_nothing\n");
    for (const name of ["request-more-info", "request-info"]) {
      // The command exists (no USAGE): it goes as far as calling the local API, which is not running.
      const run = await valise(["case", name, "c1", "--question", "Which?", "--home", home, "--api-url", "http://127.0.0.1:9", "--token-file", join(dir, "token"), "--json"]);
      expect(run.json<{ error: { code: string } }>().error.code, name).to.equal("GATEWAY_UNREACHABLE");
    }
  });

  it("refuses an unknown log level before starting anything", async function () {
    const run = await valise(["start", "--home", home, "--log-level", "loud"], env);
    expect(run.exit).to.equal(2);
    expect(run.stderr).to.equal('error[USAGE]: unknown log level "loud": use --log-level (or VALISE_LOG_LEVEL) error, warn, info or debug\n');
  });

  it("prints its version", async function () {
    const run = await valise(["--version"]);
    expect(run.exit).to.equal(0);
    expect(run.stdout.trim()).to.equal(version);
  });

  it("init --listen binds the peer API to all addresses while advertising the public endpoint", async function () {
    const natHome = join(dir, "nat");
    const run = await valise(["init", "--home", natHome, "--authority", "US-DOJ-OIA", "--endpoint", "https://203.0.113.7:443", "--listen", "0.0.0.0:8443", "--json"], env);
    expect(run.exit, run.stdout).to.equal(0);
    const config = JSON.parse(readFileSync(join(natHome, "valise.json"), "utf8")) as Record<string, any>;
    expect(config["endpoint"]).to.equal("https://203.0.113.7");
    expect(config["peerApi"]).to.deep.equal({ host: "0.0.0.0", port: 8443 });
    expect(config["localApi"]).to.deep.equal({ host: "127.0.0.1", port: 8444 });
    expect(config["tls"].ips).to.include("203.0.113.7");
    const bad = await valise(["init", "--home", join(dir, "bad-listen"), "--authority", "US-DOJ-OIA", "--endpoint", "https://203.0.113.7", "--listen", "gateway.example:8443", "--json"], env);
    expect(bad.exit).to.equal(2);
    expect(bad.json<{ error: { code: string; message: string } }>().error.message).to.match(/^--listen is ADDRESS\[:PORT\]/);
    expect(existsSync(join(dir, "bad-listen")), "nothing written").to.equal(false);
  });

  it("refuses a port in use as a configuration error, with a JSON log line, leaving nothing listening", async function () {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(peerPort, "127.0.0.1", resolve));
    try {
      const run = await valise(["start", "--home", home], env);
      expect(run.exit).to.equal(2);
      expect(run.stderr).to.match(/^error\[CONFIG_LISTEN_FAILED\]: the peer API cannot listen on 127\.0\.0\.1:\d+: the port is in use; change peerApi in valise\.json/);
      const logged = run.stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      const failure = logged.find((line) => line["message"] === "gateway failed to start");
      expect(failure).to.include({ level: "error", code: "CONFIG_LISTEN_FAILED", authority: "GB-UKCA" });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    // The port is free again and the home starts: nothing of the failed start holds it.
    const bound = createServer();
    await new Promise<void>((resolve, reject) => bound.once("error", reject).listen(peerPort, "127.0.0.1", resolve));
    await new Promise((resolve) => bound.close(resolve));
  });

  it("stops cleanly when its parent exits without passing a signal on (npx: npm → sh → node)", async function () {
    // `; true` keeps the shell as the gateway's parent (no exec); killing the shell cannot forward anything.
    const shell = spawn("/bin/sh", ["-c", `"${process.execPath}" "${bin}" start --home "${home}"; true`], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    const ended = new Promise<void>((resolve) => shell.stdout.once("end", resolve)); // the gateway holds the pipe until it exits
    await new Promise<void>((resolve, reject) => {
      shell.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        lines.push(...chunk.split("\n").filter(Boolean));
        if (lines.some((line) => line.includes('"gateway started"'))) resolve();
      });
      shell.once("exit", () => (lines.some((line) => line.includes('"gateway started"')) ? undefined : reject(new Error(`exited early: ${lines.join("\n")}`))));
    });
    shell.kill("SIGKILL");
    await ended;
    const logged = lines.map((line) => JSON.parse(line) as { message: string; why?: string });
    expect(logged.find((line) => line.message === "shutting down")?.why).to.match(/^parent process \d+ exited$/);
    expect(logged.map((line) => line.message)).to.include("gateway stopped");
    const db = new Database(join(home, "valise.db"), { readonly: true });
    try {
      const kinds = (db.prepare("SELECT kind FROM audit_entries ORDER BY idx").all() as Array<{ kind: string }>).map((row) => row.kind);
      expect(kinds.slice(-2)).to.deep.equal(["gateway.started", "gateway.stopped"]);
    } finally {
      db.close();
    }
  });
});
