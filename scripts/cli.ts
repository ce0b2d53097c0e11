/**
 * The `valise` command line: one verb per operator task, unattended by
 * default (`--json`, `--passphrase-file`, no prompt without a terminal),
 * exit codes that tell a script what happened (see README.md).
 */
import { Command, CommanderError } from "commander";
import { GatewayError } from "../gateway/errors.js";
import { createOutput, reportError } from "./cli/output.js";
import type { CliContext } from "./cli/context.js";
import { registerInit } from "./commands/init.js";
import { registerPki } from "./commands/pki.js";
import { registerPeers } from "./commands/peers.js";
import { registerStart } from "./commands/start.js";
import { registerToken } from "./commands/token.js";
import { registerAudit } from "./commands/audit.js";
import { registerCase } from "./commands/case.js";
import { registerReport } from "./commands/report.js";
import { registerEvidence } from "./commands/evidence.js";
import { registerConfig } from "./commands/config.js";
import { registerBackup } from "./commands/backup.js";

/** Builds the command tree; actions run against `context`. */
export function buildProgram(context: CliContext): Command {
  const program = new Command("valise")
    .description("Valise: a gateway for central authorities to exchange mutual legal assistance requests and evidence.")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    });
  registerInit(program, context);
  registerConfig(program, context);
  registerPki(program, context);
  registerPeers(program, context);
  registerToken(program, context);
  registerStart(program, context);
  registerAudit(program, context);
  registerCase(program, context);
  registerReport(program, context);
  registerEvidence(program, context);
  registerBackup(program, context);
  return program;
}

/**
 * Runs the CLI with `argv` (as in `process.argv`) and resolves to the exit
 * status; never throws.
 */
export async function main(argv: readonly string[], context: CliContext = processContext()): Promise<number> {
  const json = argv.includes("--json");
  try {
    await buildProgram(context).parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      return reportError(new GatewayError("USAGE", error.message.replace(/^error: /, "")), json, context.stdout, context.stderr);
    }
    return reportError(error, json, context.stdout, context.stderr);
  }
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
