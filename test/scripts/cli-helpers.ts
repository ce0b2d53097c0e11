/**
 * Runs the `valise` CLI in-process with captured output, as a script would.
 */
import { PassThrough } from "node:stream";
import { main } from "../../scripts/cli.js";
import { createOutput } from "../../scripts/cli/output.js";

/** What one CLI run printed and returned. */
export interface CliRun {
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = Record<string, unknown>>(): T;
}

/** Runs `valise ...args` with `env` (no terminal: never prompts), on the clock `now` (default: the real one). */
export async function valise(args: readonly string[], env: NodeJS.ProcessEnv = {}, now: () => Date = () => new Date()): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk));
  stderr.on("data", (chunk: Buffer) => err.push(chunk));
  const exit = await main(["node", "valise", ...args], {
    env,
    interactive: false,
    stdout,
    stderr,
    now,
    output: (json) => createOutput(json, stdout, stderr),
  });
  const text = Buffer.concat(out).toString("utf8");
  return {
    exit,
    stdout: text,
    stderr: Buffer.concat(err).toString("utf8"),
    json: <T>() => JSON.parse(text) as T,
  };
}
