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

type StartOptions = CommonOptions & { logLevel?: string; instance?: string; peerPort?: string; localPort?: string };

const LOG_LEVELS: readonly string[] = ["error", "warn", "info", "debug"];

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
        const home = homeDir(options, context);
        const { config } = openHome(home);
        const peerPort = portOption(options.peerPort, "--peer-port");
        const localPort = portOption(options.localPort, "--local-port");
        gateway = createGateway({
          home,
          passphrase: await passphrase(options, context),
          logLevel,
          processMetrics: true,
          ...(options.instance === undefined ? {} : { instance: instanceName(options.instance) }),
          listen: {
            ...(peerPort === undefined ? {} : { peer: { ...config.peerApi, port: peerPort } }),
            ...(localPort === undefined ? {} : { local: { ...config.localApi, port: localPort } }),
          },
        });
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

/** The home's authority for the log line, if the home can be read at all. */
function authorityOf(options: StartOptions, context: CliContext): string {
  try {
    return openHome(homeDir(options, context)).config.authority;
  } catch {
    return "unknown";
  }
}
