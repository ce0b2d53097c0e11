/**
 * A gateway running as its own process (`valise start`), as in production:
 * its own event loop, its passphrase in its environment, JSON log lines on
 * stdout. Started and stopped the way an operator's service manager would:
 * wait for the `gateway started` line, stop with SIGTERM, expect exit 0.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { COMPILED_VALISE_BIN, VALISE_BIN } from "./valise-cli.js";

/** Options of {@link startGatewayProcess}. */
export interface GatewayProcessOptions {
  readonly home: string;
  /** Put into the child's environment as VALISE_PASSPHRASE. */
  readonly passphrase: string;
  /** Log level (default info). */
  readonly logLevel?: string;
  /** Write the log to this file instead of piping it to us (cheaper under load). */
  readonly logFile?: string;
  /** Extra environment. */
  readonly env?: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS). */
  readonly nodeArgs?: readonly string[];
  /** How long to wait for the `gateway started` line (default 30 s). */
  readonly startTimeoutMs?: number;
  /** More `valise start` arguments (e.g. `--instance`, `--peer-port`, `--local-port`). */
  readonly args?: readonly string[];
  /** Run the compiled `valise` (dist/, as installed) instead of the sources through tsx: what benchmarks measure. */
  readonly compiled?: boolean;
}

/** Where the started gateway listens, from its `gateway started` line. */
export interface StartedGateway {
  readonly peerUrl: string;
  readonly localUrl: string;
}

/** How a gateway process ended. */
export interface GatewayExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** It did not stop on SIGTERM in time and was killed. */
  readonly killed: boolean;
}

/** A running `valise start` child. */
export interface GatewayProcess {
  readonly pid: number;
  readonly started: StartedGateway;
  /** The last log lines (stdout and stderr), newest last. */
  logTail(lines?: number): string[];
  /** SIGTERM, then wait up to `timeoutMs` (default 15 s) before SIGKILL. */
  stop(timeoutMs?: number): Promise<GatewayExit>;
  /** SIGKILL if still running (cleanup after a failure). */
  kill(): void;
}

/** Starts `valise start --home …` and resolves once it logs `gateway started`. */
export function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  if (options.compiled === true && !existsSync(COMPILED_VALISE_BIN)) {
    return Promise.reject(new Error(`no compiled valise at ${COMPILED_VALISE_BIN}: run npm run build`));
  }
  const logFd = options.logFile === undefined ? undefined : openSync(options.logFile, "a");
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.compiled === true ? COMPILED_VALISE_BIN : VALISE_BIN, "start", "--home", options.home, ...(options.args ?? [])], {
    env: { ...process.env, VALISE_PASSPHRASE: options.passphrase, VALISE_LOG_LEVEL: options.logLevel ?? "info", ...options.env },
    stdio: ["ignore", logFd ?? "pipe", logFd ?? "pipe"],
  });
  if (logFd !== undefined) closeSync(logFd); // the child holds its own copy

  const tail: string[] = [];
  let partial = "";
  const remember = (chunk: Buffer): void => {
    const text = partial + chunk.toString("utf8");
    const lines = text.split("\n");
    partial = lines.pop() ?? "";
    tail.push(...lines.filter((line) => line !== ""));
    if (tail.length > 200) tail.splice(0, tail.length - 200);
  };
  child.stdout?.on("data", remember);
  child.stderr?.on("data", remember);
  const readTail = (): string[] => {
    if (options.logFile === undefined) return tail;
    try {
      return readFileSync(options.logFile, "utf8").split("\n").filter((line) => line !== "").slice(-200);
    } catch {
      return [];
    }
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  let running = true;
  void exited.then(() => {
    running = false;
  });

  return new Promise((resolve, reject) => {
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    const poll = setInterval(() => {
      const started = startedLine(readTail());
      if (started !== undefined) {
        clearInterval(poll);
        resolve(handle(child, started, readTail, exited, () => running));
      } else if (!running || Date.now() > deadline) {
        clearInterval(poll);
        if (running) child.kill("SIGKILL");
        const why = running ? "did not log 'gateway started' in time" : "exited before it started";
        reject(new Error(`the gateway of ${options.home} ${why}:\n${readTail().slice(-15).join("\n")}`));
      }
    }, 25);
  });
}

function startedLine(lines: readonly string[]): StartedGateway | undefined {
  for (const line of lines) {
    if (!line.includes("gateway started")) continue;
    try {
      const entry = JSON.parse(line) as { message?: unknown; peerUrl?: unknown; localUrl?: unknown };
      if (entry.message === "gateway started" && typeof entry.peerUrl === "string" && typeof entry.localUrl === "string") {
        return { peerUrl: entry.peerUrl, localUrl: entry.localUrl };
      }
    } catch {
      // not a JSON line (e.g. a Node warning on stderr)
    }
  }
  return undefined;
}

function handle(
  child: ChildProcess,
  started: StartedGateway,
  readTail: () => string[],
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  running: () => boolean,
): GatewayProcess {
  return {
    pid: child.pid ?? -1,
    started,
    logTail: (lines = 15) => readTail().slice(-lines),
    async stop(timeoutMs = 15_000) {
      if (!running()) return { ...(await exited), killed: false };
      child.kill("SIGTERM");
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      const outcome = await exited;
      clearTimeout(timer);
      return { ...outcome, killed };
    },
    kill() {
      if (running()) child.kill("SIGKILL");
    },
  };
}
