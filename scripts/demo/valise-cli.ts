/**
 * Runs the real `valise` command line as a child process, exactly as an
 * operator would (`node scripts/valise.mjs …`), and reads its `--json` answer.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The `valise` executable of this checkout (the TypeScript sources, through tsx). */
export const VALISE_BIN = fileURLToPath(new URL("../valise.mjs", import.meta.url));

/** The compiled `valise`, as installed (`npm run build`: dist/). */
export const COMPILED_VALISE_BIN = fileURLToPath(new URL("../../dist/scripts/valise.js", import.meta.url));

/** What one `valise` invocation did. */
export interface CliRun {
  /** The command as an operator would type it (passphrase never shown: it is in the environment). */
  readonly command: string;
  readonly exitCode: number;
  /** The parsed `--json` document on stdout (undefined when stdout was not JSON). */
  readonly json: unknown;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `valise …args` with `env` added to this process's environment.
 * Resolves whatever the exit status; rejects only if the process cannot start
 * or outlives `timeoutMs`.
 */
export function runValise(args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliRun> {
  const command = `valise ${args.map(quoteForShell).join(" ")}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VALISE_BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ command, exitCode: code ?? (signal === null ? 1 : 128), json, stdout, stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}

function quoteForShell(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}
