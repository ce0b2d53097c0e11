/**
 * What a CLI command may touch of the outside world; tests pass their own.
 */
import type { Command } from "commander";
import type { Output } from "./output.js";
import { resolveHomeDir } from "../../gateway/home.js";
import { readPassphrase } from "./passphrase.js";

/** The process edge of the CLI. */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  /** stdin is a terminal: prompting is allowed. */
  readonly interactive: boolean;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly now: () => Date;
  readonly output: (json: boolean) => Output;
}

/** Options every command accepts. */
export interface CommonOptions {
  home?: string;
  json?: boolean;
  passphraseFile?: string;
}

/** Adds `--home`, `--json` and, when `passphrase`, `--passphrase-file`. */
export function withCommonOptions(command: Command, passphrase: boolean): Command {
  command
    .option("--home <dir>", "the gateway home (default: $VALISE_HOME)")
    .option("--json", "print one JSON document instead of text");
  if (passphrase) {
    command.option("--passphrase-file <file>", "file holding the private-key passphrase (default: $VALISE_PASSPHRASE)");
  }
  return command;
}

/** The home directory named by the options or the environment. */
export function homeDir(options: CommonOptions, context: CliContext): string {
  return resolveHomeDir(options.home, context.env);
}

/** The passphrase named by the options or the environment (or a prompt). */
export function passphrase(options: CommonOptions, context: CliContext, confirm = false): Promise<string> {
  return readPassphrase({ passphraseFile: options.passphraseFile, env: context.env, interactive: context.interactive, confirm });
}
