/**
 * `valise start`: run the gateway in the foreground until SIGTERM/SIGINT,
 * then stop accepting, finish in-flight work, close the database, exit 0.
 */
import type { Command } from "commander";
import { createGateway } from "../../gateway/gateway.js";
import { openHome } from "../../gateway/home.js";
import { GatewayError } from "../../gateway/errors.js";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";

/** Registers `valise start`. */
export function registerStart(program: Command, context: CliContext): void {
  withCommonOptions(
    program
      .command("start")
      .description("run the gateway: the peer API (mutual TLS) and the local API, until SIGTERM or SIGINT")
      .option("--log-level <level>", "error, warn, info or debug (default: $VALISE_LOG_LEVEL or info)")
      .option("--instance <name>", "this instance's name, when several instances share one PostgreSQL store (default host:pid:random)")
      .option("--peer-port <port>", "listen for the peer API on this port instead of peerApi.port (one per instance on a host)")
      .option("--local-port <port>", "listen for the local API on this port instead of localApi.port"),
    true,
  ).action(async (options: CommonOptions & { logLevel?: string; instance?: string; peerPort?: string; localPort?: string }) => {
    const home = homeDir(options, context);
    const { config } = openHome(home);
    const peerPort = portOption(options.peerPort, "--peer-port");
    const localPort = portOption(options.localPort, "--local-port");
    const gateway = createGateway({
      home,
      passphrase: await passphrase(options, context),
      logLevel: options.logLevel ?? context.env["VALISE_LOG_LEVEL"] ?? "info",
      processMetrics: true,
      ...(options.instance === undefined ? {} : { instance: instanceName(options.instance) }),
      listen: {
        ...(peerPort === undefined ? {} : { peer: { ...config.peerApi, port: peerPort } }),
        ...(localPort === undefined ? {} : { local: { ...config.localApi, port: localPort } }),
      },
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

function portOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new GatewayError("USAGE", `${name} must be a TCP port, 0 to 65535`, { details: { [name]: value.slice(0, 16) } });
  return port;
}

function instanceName(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(value)) {
    throw new GatewayError("USAGE", "--instance is 1 to 64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit", { details: { instance: value.slice(0, 64) } });
  }
  return value;
}
