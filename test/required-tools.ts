/**
 * The system tools some tests drive as real second implementations:
 * OpenSSL (PKI cross-checks), GnuPG (evidence hand-off), python3-jwcrypto
 * (a second JOSE implementation), python3-jsonschema (a second JSON Schema
 * validator, for the schema examples), Chromium (the HTML report rendered)
 * and systemd-analyze (the systemd unit of packaging/ verified).
 *
 * A missing tool must never look like a pass. In CI (`CI` set, as `.ci/run`
 * does after installing them) it fails the test or suite with the tool's
 * name and the package that provides it; elsewhere the test or suite is
 * skipped and the missing tool is printed, so a developer sees what did not run.
 *
 * @example
 * before(function () {
 *   python = requireTool(this, JWCRYPTO);
 * });
 */
import { spawnSync } from "node:child_process";

/** A tool and how to tell that it works here. */
export interface Tool<T> {
  /** What the operator would call it. */
  readonly name: string;
  /** The Debian package that provides it (what .ci/run installs). */
  readonly apt: string;
  /** What tests need to run it (a path), or undefined when it is missing or broken. */
  probe(): T | undefined;
}

function runs(command: string, args: readonly string[]): boolean {
  const result = spawnSync(command, args, { stdio: "ignore", timeout: 30_000 });
  return result.error === undefined && result.status === 0;
}

/** `openssl` on PATH. */
export const OPENSSL: Tool<string> = {
  name: "openssl",
  apt: "openssl",
  probe: () => (runs("openssl", ["version"]) ? "openssl" : undefined),
};

/** `gpg` (GnuPG 2) and `gpgconf` on PATH. */
export const GPG: Tool<string> = {
  name: "gpg",
  apt: "gnupg",
  probe: () => (runs("gpg", ["--version"]) && runs("gpgconf", ["--version"]) ? "gpg" : undefined),
};

/** The first Python that imports jwcrypto (Debian's /usr/bin/python3 first). */
export const JWCRYPTO: Tool<string> = {
  name: "python3-jwcrypto",
  apt: "python3-jwcrypto",
  probe: () => ["/usr/bin/python3", "python3"].find((python) => runs(python, ["-c", "import jwcrypto"])),
};

/** The first Python that imports jsonschema (a JSON Schema validator independent of ajv). */
export const PY_JSONSCHEMA: Tool<string> = {
  name: "python3-jsonschema",
  apt: "python3-jsonschema",
  probe: () => ["/usr/bin/python3", "python3"].find((python) => runs(python, ["-c", "import jsonschema"])),
};

/** `systemd-analyze` on PATH (checks packaging/valise.service). */
export const SYSTEMD_ANALYZE: Tool<string> = {
  name: "systemd-analyze",
  apt: "systemd",
  probe: () => (runs("systemd-analyze", ["--version"]) ? "systemd-analyze" : undefined),
};

/** Headless Chromium at $CHROMIUM or /usr/bin/chromium. */
export function chromiumTool(path: string): Tool<string> {
  return { name: `chromium (${path})`, apt: "chromium", probe: () => (runs(path, ["--version"]) ? path : undefined) };
}

/** True when the environment says this is a CI run (`CI` set to anything but "", "0" or "false"). */
export function inCi(env: NodeJS.ProcessEnv): boolean {
  const value = env["CI"]?.trim().toLowerCase();
  return value !== undefined && value !== "" && value !== "0" && value !== "false";
}

/** Where {@link requireTool} reads the environment and reports a skip (tests of it pass their own). */
export interface ToolEnvironment {
  readonly env: NodeJS.ProcessEnv;
  report(line: string): void;
}

const PROCESS: ToolEnvironment = { env: process.env, report: (line) => process.stderr.write(`${line}\n`) };

/**
 * Returns what `tool.probe()` found. When the tool is missing: throws in CI
 * (the hook or test fails, naming the tool), otherwise prints which tool is
 * missing and skips the calling test or suite (`context.skip()`).
 */
export function requireTool<T>(context: { skip(): void }, tool: Tool<T>, environment: ToolEnvironment = PROCESS): T {
  const found = tool.probe();
  if (found !== undefined) return found;
  const install = `apt-get install -y ${tool.apt} (.ci/run installs it)`;
  if (inCi(environment.env)) {
    throw new Error(`${tool.name} is required in CI (CI=${environment.env["CI"] ?? ""}) but is missing or does not run: ${install}`);
  }
  environment.report(`      (skipped: ${tool.name} is missing or does not run; ${install})`);
  context.skip();
  throw new Error(`${tool.name} is missing`); // skip() throws; this is for a context that does not
}
