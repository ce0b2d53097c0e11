/**
 * `npm run build` (scripts/build.mjs) makes a dist/ that runs on plain Node:
 * no tsx, no TypeScript at run time, the JSON Schemas and migrations beside
 * the compiled code. Built into a scratch folder inside the repository (so
 * the package.json above it names the version, as for dist/).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SCRATCH = join(ROOT, ".valise-tmp", `build-test-${process.pid}`);
const OUT = join(SCRATCH, "dist");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string; bin: Record<string, string>; scripts: Record<string, string> };

/** Plain Node: the test runner's own loader (tsx) is not passed on. */
function node(args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const clean = { ...process.env, ...env };
  delete clean["NODE_OPTIONS"];
  return spawnSync(process.execPath, args, { env: clean, encoding: "utf8", timeout: 120_000 });
}

describe("npm run build: the compiled valise", function () {
  before(function () {
    mkdirSync(SCRATCH, { recursive: true });
    const built = node([join(ROOT, "scripts", "build.mjs"), OUT]);
    expect(built.status, built.stderr + built.stdout).to.equal(0);
  });

  after(function () {
    rmSync(SCRATCH, { recursive: true, force: true });
  });

  it("is what package.json runs: prepare builds, and the bin is the compiled entry", function () {
    expect(pkg.scripts["prepare"]).to.contain("scripts/build.mjs");
    expect(pkg.bin["valise"]).to.equal("dist/scripts/valise.js");
    expect(pkg.name).to.equal("@valise-mla/gateway");
    expect(readFileSync(join(OUT, "scripts", "valise.js"), "utf8").startsWith("#!/usr/bin/env node\n")).to.equal(true);
  });

  it("carries the run-time files: JSON Schemas, the configuration schema, both engines' migrations", function () {
    for (const folder of ["schemas", "gateway/store/sqlite/migrations", "gateway/store/postgres/migrations"]) {
      const source = readdirSync(join(ROOT, folder)).filter((f) => f.endsWith(".json") || f.endsWith(".sql"));
      expect(readdirSync(join(OUT, folder)).filter((f) => f.endsWith(".json") || f.endsWith(".sql")), folder).to.include.members(source);
    }
    expect(existsSync(join(OUT, "gateway", "config", "config.schema.json"))).to.equal(true);
    expect(readdirSync(join(OUT, "gateway")).some((f) => f.endsWith(".ts"))).to.equal(false);
  });

  it("runs on plain Node: --version, --help, init, pki list, case list, outbox list", function () {
    const bin = join(OUT, "scripts", "valise.js");
    const version = node([bin, "--version"]);
    expect(version.status, version.stderr).to.equal(0);
    expect(version.stdout.trim()).to.equal(pkg.version);
    const help = node([bin, "--help"]);
    expect(help.stdout).to.match(/^ {2}outbox\s/m);
    const home = join(SCRATCH, "home");
    const env = { VALISE_PASSPHRASE: "build test passphrase" };
    const init = node([bin, "init", "--home", home, "--authority", "GB-UKCA", "--endpoint", "https://127.0.0.1:18443", "--json"], env);
    expect(init.status, init.stderr + init.stdout).to.equal(0);
    const pki = node([bin, "pki", "list", "--home", home, "--json"]);
    expect(pki.status, pki.stderr + pki.stdout).to.equal(0);
    expect((JSON.parse(pki.stdout) as { certificates: unknown[] }).certificates.length).to.be.at.least(5);
    for (const command of [["case", "list"], ["outbox", "list"]]) {
      const run = node([bin, ...command, "--home", home, "--json"]);
      expect(run.status, `${command.join(" ")}: ${run.stderr}${run.stdout}`).to.equal(0);
    }
    const typo = node([bin, "pki", "lst", "--home", home]);
    expect(typo.status).to.equal(2);
    expect(typo.stderr).to.contain("did you mean list?");
  });

  it("loads only what a command needs: pki list and case list on a SQLite home load neither @peculiar/x509, pg nor Ajv's compiler (start-up time)", function () {
    const bin = join(OUT, "scripts", "valise.js");
    const home = join(SCRATCH, "home-modules");
    const init = node([bin, "init", "--home", home, "--authority", "GB-UKCA", "--endpoint", "https://127.0.0.1:18443", "--json"], { VALISE_PASSPHRASE: "build test passphrase" });
    expect(init.status, init.stderr + init.stdout).to.equal(0);
    // Every CommonJS module a process loaded (an import of a CommonJS package lands in the same cache), printed as it exits.
    const hook = 'import { createRequire } from "node:module"; import { writeSync } from "node:fs"; ' +
      'process.on("exit", () => writeSync(2, "\\nLOADED " + JSON.stringify(Object.keys(createRequire("/").cache)) + "\\n"));';
    const loadedBy = (command: readonly string[]): string[] => {
      const run = node(["--import", `data:text/javascript,${encodeURIComponent(hook)}`, bin, ...command, "--home", home, "--json"]);
      expect(run.status, `${command.join(" ")}: ${run.stderr}${run.stdout}`).to.equal(0);
      const line = run.stderr.split("\n").find((l) => l.startsWith("LOADED "));
      expect(line, run.stderr).to.not.equal(undefined);
      return JSON.parse(line!.slice("LOADED ".length)) as string[];
    };
    for (const command of [["pki", "list"], ["case", "list"]]) {
      const loaded = loadedBy(command);
      if (command[0] === "case") expect(loaded.some((file) => file.includes("/better-sqlite3/")), "case list opened the database").to.equal(true);
      for (const heavy of ["/@peculiar/x509/", "/asn1js/", "/node_modules/pg/", "/ajv/dist/compile/"]) {
        expect(loaded.filter((file) => file.includes(heavy)), `${command.join(" ")} loaded ${heavy}`).to.deep.equal([]);
      }
    }
    // The same hook sees them when a command does need them: the check can fail.
    expect(loadedBy(["pki", "crl"]).some((file) => file.includes("/@peculiar/x509/"))).to.equal(true);
  });
});
