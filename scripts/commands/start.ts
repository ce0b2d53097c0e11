/**
 * `valise start`: run the gateway in the foreground until SIGTERM/SIGINT,
 * then stop accepting, finish in-flight work, close the database, exit 0.
 */
import type { Command } from "commander";
import { createGateway } from "../../gateway/gateway.js";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";

/** Registers `valise start`. */
export function registerStart(program: Command, context: CliContext): void {
  withCommonOptions(
    program
      .command("start")
      .description("run the gateway: the peer API (mutual TLS) and the local API, until SIGTERM or SIGINT")
      .option("--log-level <level>", "error, warn, info or debug (default: $VALISE_LOG_LEVEL or info)"),
    true,
  ).action(async (options: CommonOptions & { logLevel?: string }) => {
    const gateway = createGateway({
      home: homeDir(options, context),
      passphrase: await passphrase(options, context),
      logLevel: options.logLevel ?? context.env["VALISE_LOG_LEVEL"] ?? "info",
      processMetrics: true,
    });
    // Signals are handled from before the first log line: a SIGTERM that
    // arrives while starting stops the gateway as soon as it is up.
    let signalled!: () => void;
    const stopRequested = new Promise<void>((resolve) => (signalled = resolve));
    process.once("SIGTERM", signalled);
    process.once("SIGINT", signalled);
    try {
      await gateway.start();
      await stopRequested;
      gateway.context.logger.info("shutting down");
      await gateway.stop();
    } finally {
      process.off("SIGTERM", signalled);
      process.off("SIGINT", signalled);
    }
  });
}
