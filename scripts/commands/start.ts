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
    await gateway.start();
    await new Promise<void>((resolve) => {
      const shutdown = (): void => {
        process.off("SIGTERM", shutdown);
        process.off("SIGINT", shutdown);
        gateway.context.logger.info("shutting down");
        gateway.stop().then(resolve, (error: unknown) => {
          gateway.context.logger.error("shutdown failed", { reason: String(error) });
          resolve();
        });
      };
      process.on("SIGTERM", shutdown);
      process.on("SIGINT", shutdown);
    });
  });
}
