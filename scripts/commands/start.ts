/**
 * `valise start`: the gateway process itself. It runs in the foreground
 * until SIGTERM or SIGINT (or its parent exits: see cli/stop-signals.ts),
 * then stops accepting, finishes in-flight work, closes the database and
 * exits 0. A failure to start (a port in use, a wrong passphrase, a broken
 * home) is a JSON log line on stdout, like every gateway log line (on
 * stderr with --json), and a coded error with its exit status.
 */
import type { Command } from "commander";
import { createGateway } from "../../gateway/gateway.js";
import { createLogger } from "../../gateway/log.js";
import { openHome } from "../../gateway/home.js";
import { isValiseError } from "../../pki/errors.js";
import { GatewayError } from "../../gateway/errors.js";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";
import { stopSignals } from "../cli/stop-signals.js";

type StartOptions = CommonOptions & { logLevel?: string };

const LOG_LEVELS: readonly string[] = ["error", "warn", "info", "debug"];

/** Registers `valise start`. */
export function registerStart(program: Command, context: CliContext): void {
  withCommonOptions(
    program
      .command("start")
      .description("run the gateway: the peer API (mutual TLS) and the local API, until SIGTERM or SIGINT")
      .option("--log-level <level>", "error, warn, info or debug (default: $VALISE_LOG_LEVEL or info)"),
    true,
  ).action(async (options: StartOptions) => {
    // Signals are handled from before the first log line: a SIGTERM that
    // arrives while starting stops the gateway as soon as it is up.
    const logLevel = options.logLevel ?? context.env["VALISE_LOG_LEVEL"] ?? "info";
    if (!LOG_LEVELS.includes(logLevel)) {
      throw new GatewayError("USAGE", `unknown log level ${JSON.stringify(logLevel)}: use --log-level (or VALISE_LOG_LEVEL) error, warn, info or debug`);
    }
    const stop = stopSignals();
    try {
      let gateway;
      try {
        gateway = createGateway({ home: homeDir(options, context), passphrase: await passphrase(options, context), logLevel, processMetrics: true });
        await gateway.start();
      } catch (error) {
        // What a log collector sees of a failed start: one error line, with the code that the exit
        // status reports, on stdout with the other log lines (stderr with --json, whose stdout is one document).
        createLogger({ authority: authorityOf(options, context), stream: options.json === true ? context.stderr : context.stdout }).error("gateway failed to start", {
          code: isValiseError(error) ? error.code : "INTERNAL",
          reason: error instanceof Error ? error.message : String(error),
          ...(isValiseError(error) && error.details !== undefined ? { details: error.details } : {}),
        });
        throw error;
      }
      const why = await stop.requested;
      gateway.context.logger.info("shutting down", { why });
      await gateway.stop();
    } finally {
      stop.dispose();
    }
  });
}

/** The home's authority for the log line, if the home can be read at all. */
function authorityOf(options: StartOptions, context: CliContext): string {
  try {
    return openHome(homeDir(options, context)).config.authority;
  } catch {
    return "unknown";
  }
}
