/**
 * The `valise` CLI as an operator runs it: a separate process sharing only
 * the home folder with the running gateway.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { PASSPHRASE, REPO_ROOT } from "./fixtures.js";

/** What one CLI process printed and how it exited. */
export interface CliProcessRun {
  readonly exit: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (runs pass --json). */
  readonly json: any;
}

/** Runs `valise ...args --json` in a child process with the test passphrase. */
export function valiseProcess(args: readonly string[]): Promise<CliProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "scripts/valise.mjs"), ...args, "--json"], {
      cwd: REPO_ROOT,
      env: { ...process.env, VALISE_PASSPHRASE: PASSPHRASE },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.once("error", reject);
    child.once("close", (exit) => {
      const stdout = Buffer.concat(out).toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ exit, stdout, stderr: Buffer.concat(err).toString("utf8"), json });
    });
  });
}

/** Runs the CLI and returns its JSON output; throws with its output when it fails. */
export async function valiseOk(args: readonly string[]): Promise<any> {
  const run = await valiseProcess(args);
  if (run.exit !== 0) throw new Error(`valise ${args.join(" ")} exited ${run.exit}: ${run.stdout}${run.stderr}`);
  return run.json;
}
