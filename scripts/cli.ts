/**
 * The `valise` command line: one verb per operator task, unattended by
 * default (`--json`, `--passphrase-file`, no prompt without a terminal),
 * exit codes that tell a script what happened (see README.md).
 *
 * Commands are loaded only when they run: the table below names each
 * top-level command with its one-line description and how to load it, so
 * `valise --help` loads none and `valise pki list` loads the PKI commands
 * only (start-up time is measured by scripts/bench/startup.ts).
 */
import { Command, CommanderError } from "commander";
import { GatewayError } from "../gateway/errors.js";
import { createOutput, reportError } from "./cli/output.js";
import type { CliContext } from "./cli/context.js";

type Register = (program: Command, context: CliContext) => void;

/** A top-level command: its name, description, and the module that registers it. */
interface CommandEntry {
  readonly name: string;
  readonly description: string;
  readonly load: () => Promise<Register>;
}

const COMMANDS: readonly CommandEntry[] = [
  { name: "init", description: "create a gateway home: configuration, root CA and the tls, sign, encrypt and log certificates", load: async () => (await import("./commands/init.js")).registerInit },
  { name: "config", description: "change the gateway's configuration where other copies depend on it", load: async () => (await import("./commands/config.js")).registerConfig },
  { name: "pki", description: "manage this authority's certificates, CRL and trust bundle", load: async () => (await import("./commands/pki.js")).registerPki },
  { name: "peers", description: "manage the peer authorities this gateway exchanges with", load: async () => (await import("./commands/peers.js")).registerPeers },
  { name: "token", description: "manage bearer tokens of the local API", load: async () => (await import("./commands/token.js")).registerToken },
  { name: "start", description: "run the gateway: the peer API (mutual TLS) and the local API, until SIGTERM or SIGINT", load: async () => (await import("./commands/start.js")).registerStart },
  { name: "migrate", description: "bring the database's schema up to this Valise's version", load: async () => (await import("./commands/migrate.js")).registerMigrate },
  { name: "requirements", description: "this authority's requirements profile, and the profiles of its peers", load: async () => (await import("./commands/requirements.js")).registerRequirements },
  { name: "backup", description: "write a consistent, signed archive of the home while the gateway runs; verify one offline", load: async () => (await import("./commands/backup.js")).registerBackup },
  { name: "restore", description: "restore a home from a backup archive, after checking all of it (never over a running gateway)", load: async () => (await import("./commands/backup.js")).registerRestore },
  { name: "outbox", description: "see and act on envelopes waiting for delivery, or failed: list, show, retry, cancel", load: async () => (await import("./commands/outbox.js")).registerOutbox },
  { name: "audit", description: "export, verify offline, and trace the chain of custody of the audit log", load: async () => (await import("./commands/audit.js")).registerAudit },
  { name: "case", description: "follow and move cases through their lifecycle", load: async () => (await import("./commands/case.js")).registerCase },
  { name: "report", description: "KPIs and the transparency report, from the gateway's case records", load: async () => (await import("./commands/report.js")).registerReport },
  { name: "evidence", description: "send, list, fetch and export evidence packages", load: async () => (await import("./commands/evidence.js")).registerEvidence },
];

/** The command names `valise` knows, in the order of its help. */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map((entry) => entry.name);

/**
 * Builds the command tree for `argv`: the command named in it is loaded and
 * registered in full, every other one only by name and description (enough
 * for the help and for "did you mean"). With `loadAll`, every command is
 * loaded (tests of the whole tree).
 */
export async function buildProgram(context: CliContext, argv: readonly string[] = [], loadAll = false): Promise<Command> {
  const version = (await import("../gateway/build-info.js")).buildInfo().version;
  const program = new Command("valise")
    .description("Valise: a gateway for central authorities to exchange mutual legal assistance requests and evidence.")
    .version(version, "-V, --version", "print the version of Valise")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
      // Errors are reported once, by reportError (text or --json), not by commander too.
      outputError: () => {},
    });
  // The command named first (`valise help pki` names pki).
  const words = argv.slice(2).filter((arg) => !arg.startsWith("-"));
  const wanted = words[0] === "help" ? words[1] : words[0];
  for (const entry of COMMANDS) {
    if (loadAll || entry.name === wanted) (await entry.load())(program, context);
    else program.command(entry.name).description(entry.description).helpOption(false).allowUnknownOption().allowExcessArguments();
  }
  return program;
}

/**
 * Runs the CLI with `argv` (as in `process.argv`) and resolves to the exit
 * status; never throws.
 */
export async function main(argv: readonly string[], context: CliContext = processContext()): Promise<number> {
  const json = argv.includes("--json");
  try {
    await (await buildProgram(context, argv)).parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      return reportError(new GatewayError("USAGE", usageMessage(error.message)), json, context.stdout, context.stderr);
    }
    return reportError(error, json, context.stdout, context.stderr);
  }
}

/** Commander's message as a sentence that says what to do: its "did you mean", and where the usage is. */
function usageMessage(message: string): string {
  const text = message.replace(/^error: /, "");
  const suggestion = /\n\(Did you mean ([^?]+)\?\)/.exec(text);
  const first = text.split("\n")[0] ?? text;
  return suggestion === null ? `${first} (run with --help for usage)` : `${first}: did you mean ${suggestion[1]}? (run with --help for usage)`;
}

function processContext(): CliContext {
  return {
    env: process.env,
    interactive: process.stdin.isTTY === true,
    stdout: process.stdout,
    stderr: process.stderr,
    now: () => new Date(),
    output: (json) => createOutput(json, process.stdout, process.stderr),
  };
}
