/**
 * The CLI as a client of the running gateway's local API, for commands that
 * change something (a case's lifecycle step): one domain path, the same
 * checks, the same audit entries as any case-management system. The address
 * is the home's `localApi` (or `--api-url`); the bearer token comes from
 * `--token-file` or `VALISE_TOKEN`, never from the command line.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { openHome } from "../../gateway/home.js";
import { GatewayError } from "../../gateway/errors.js";
import { ValiseError } from "../../pki/errors.js";
import { type CliContext, type CommonOptions, homeDir } from "./context.js";

/** Options of commands that call the local API. */
export interface LocalApiOptions extends CommonOptions {
  tokenFile?: string;
  apiUrl?: string;
}

/** Where to call and with which token. */
export interface LocalApiTarget {
  readonly url: string;
  readonly token: string;
}

/** The base URL of the local API of the home (a wildcard listen address is reached on loopback). */
export function localApiUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${isIP(reachable) === 6 ? `[${reachable}]` : reachable}:${port}`;
}

/** Resolves the API address and the token; `USAGE` when there is no token. */
export function localApiTarget(options: LocalApiOptions, context: CliContext): LocalApiTarget {
  let token: string | undefined;
  if (options.tokenFile !== undefined) {
    try {
      token = readFileSync(options.tokenFile, "utf8").trim();
    } catch (cause) {
      throw new GatewayError("USAGE", `cannot read the token file ${options.tokenFile}`, { cause });
    }
  } else {
    token = context.env["VALISE_TOKEN"]?.trim();
  }
  if (token === undefined || token === "") {
    throw new GatewayError("USAGE", "no API token: pass --token-file FILE or set VALISE_TOKEN (an operator creates one with valise token create --role caseworker)");
  }
  if (options.apiUrl !== undefined) return { url: options.apiUrl.replace(/\/+$/, ""), token };
  const { config } = openHome(homeDir(options, context));
  return { url: localApiUrl(config.localApi.host, config.localApi.port), token };
}

/**
 * Calls the local API; resolves with the JSON answer, or throws the API's
 * coded error as it is (so the exit code follows the same table), or
 * `GATEWAY_UNREACHABLE` when no gateway answers.
 */
export async function callLocalApi(target: LocalApiTarget, method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (cause) {
    throw new GatewayError("GATEWAY_UNREACHABLE", `no gateway answered at ${target.url} (is valise start running?)`, { cause });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GatewayError("GATEWAY_UNREACHABLE", `${target.url} answered ${response.status} without JSON: is it a Valise gateway's local API?`);
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
  if (!response.ok || error !== undefined) {
    const code = typeof error?.code === "string" ? error.code : "INTERNAL";
    const message = typeof error?.message === "string" ? error.message : `the gateway answered ${response.status}`;
    throw new ValiseError(code, message, error?.details === undefined ? {} : { details: error.details as Record<string, unknown> });
  }
  return parsed;
}
