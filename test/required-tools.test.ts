/**
 * A test that needs a system tool never passes silently without it: in CI it
 * fails naming the tool, elsewhere it is skipped and says which tool is
 * missing — checked on the helper, and on a real interop suite run with the
 * tool taken off PATH.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { inCi, requireTool, type Tool } from "./required-tools.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const MISSING: Tool<string> = { name: "frobnicator", apt: "frobnicator-tools", probe: () => undefined };

class Skipped extends Error {}

function attempt(env: NodeJS.ProcessEnv): { skipped: boolean; error?: Error; reported: string[] } {
  const reported: string[] = [];
  let skipped = false;
  const context = {
    skip(): never {
      skipped = true;
      throw new Skipped("skip");
    },
  };
  try {
    requireTool(context, MISSING, { env, report: (line) => reported.push(line) });
  } catch (error) {
    return error instanceof Skipped ? { skipped, reported } : { skipped, error: error as Error, reported };
  }
  throw new Error("requireTool returned for a missing tool");
}

describe("required tools (test/required-tools.ts)", function () {
  it("returns what the probe found when the tool is there", function () {
    const present: Tool<string> = { name: "present", apt: "present", probe: () => "/usr/bin/present" };
    expect(requireTool({ skip: () => expect.fail("skipped") }, present, { env: { CI: "true" }, report: () => expect.fail("reported") })).to.equal("/usr/bin/present");
  });

  it("fails in CI, naming the tool and its package, without skipping", function () {
    for (const value of ["true", "1", "yes"]) {
      const outcome = attempt({ CI: value });
      expect(outcome.skipped, value).to.equal(false);
      expect(outcome.error?.message).to.contain("frobnicator is required in CI").and.contain("apt-get install -y frobnicator-tools");
    }
  });

  it("skips outside CI and prints which tool is missing", function () {
    for (const env of [{}, { CI: "" }, { CI: "false" }, { CI: "0" }]) {
      const outcome = attempt(env);
      expect(outcome.skipped, JSON.stringify(env)).to.equal(true);
      expect(outcome.error).to.equal(undefined);
      expect(outcome.reported.join("\n")).to.contain("skipped: frobnicator is missing").and.contain("frobnicator-tools");
    }
    expect(inCi({ CI: "true" })).to.equal(true);
  });

  describe("an OpenSSL interop suite with openssl off PATH", function () {
    this.timeout(120_000);
    let bare: string;

    before(function () {
      bare = mkdtempSync(join(tmpdir(), "valise-no-tools-")); // a PATH with nothing on it
    });

    after(function () {
      rmSync(bare, { recursive: true, force: true });
    });

    const run = (ci: boolean): { status: number | null; output: string } => {
      const { CI: _ci, ...env } = process.env;
      const result = spawnSync(
        process.execPath,
        [join(REPO, "node_modules/mocha/bin/mocha.js"), "--no-config", "--node-option", "import=tsx", "--timeout", "60000", "test/pki/pkcs12.test.ts"],
        { cwd: REPO, env: { ...env, PATH: bare, ...(ci ? { CI: "true" } : {}) }, encoding: "utf8", timeout: 110_000 },
      );
      return { status: result.status, output: `${result.stdout}${result.stderr}` };
    };

    it("fails with CI=true, saying openssl is required", function () {
      const { status, output } = run(true);
      expect(status, output).to.not.equal(0);
      expect(output).to.contain("openssl is required in CI");
      expect(output).to.match(/2 failing/);
    });

    it("skips without CI, printing that openssl is missing", function () {
      const { status, output } = run(false);
      expect(status, output).to.equal(0);
      expect(output).to.contain("skipped: openssl is missing");
      expect(output).to.match(/2 pending/);
    });
  });
});
