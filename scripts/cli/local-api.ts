/**
 * Commands that act through a running gateway (a case's lifecycle step,
 * sending or fetching evidence) call its local API, as a caseworker's system
 * would: one domain path, the same checks, the same audit entries. The
 * address is the home's `localApi` (or `--api-url URL`); the bearer token
 * comes from `--token-file FILE` or `VALISE_TOKEN`, never from the command
 * line. An error answer becomes an error with the gateway's code, so the
 * exit status is the one the code maps to.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { openHome } from "../../gateway/home.js";
import { GatewayError } from "../../gateway/errors.js";
import { ValiseError } from "../../pki/errors.js";
import { type CliContext, type CommonOptions, homeDir } from "./context.js";

/** Options of a command that calls the local API. */
export interface ApiOptions extends CommonOptions {
  apiUrl?: string;
  tokenFile?: string;
}

/** A local API to call. */
export interface LocalApi {
  readonly baseUrl: string;
  /** Sends a request; JSON `body` when given. Resolves with the raw response (any status); `GATEWAY_UNREACHABLE` when nothing answers. */
  fetch(method: string, path: string, body?: unknown): Promise<Response>;
  /** Sends a request and returns its JSON; an error answer throws with the gateway's code. */
  json<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/** The base URL of a local API listening on `host:port` (a wildcard listen address is reached on loopback). */
export function localApiUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${isIP(reachable) === 6 ? `[${reachable}]` : reachable}:${port}`;
}

/** The caller's bearer token: `UNAUTHENTICATED` when there is none, `USAGE` when the file cannot be read. */
function bearerToken(options: ApiOptions, context: CliContext): string {
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
    throw new GatewayError("UNAUTHENTICATED", "no bearer token: pass --token-file FILE or set VALISE_TOKEN (a caseworker token from valise token create)");
  }
  return token;
}

/** The local API named by the options (or the home's configuration), with the caller's token. */
export function localApiOf(options: ApiOptions, context: CliContext): LocalApi {
  const token = bearerToken(options, context);
  let base = options.apiUrl?.replace(/\/+$/, "");
  if (base === undefined) {
    const { localApi } = openHome(homeDir(options, context)).config;
    base = localApiUrl(localApi.host, localApi.port);
  }
  const baseUrl = base;
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    try {
      return await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (cause) {
      throw new GatewayError("GATEWAY_UNREACHABLE", `no gateway answered at ${baseUrl} (is valise start running?)`, { cause });
    }
  };
  return {
    baseUrl,
    fetch: call,
    async json<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await call(method, path, body);
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new GatewayError("GATEWAY_UNREACHABLE", `${baseUrl} answered ${response.status} without JSON: is it a Valise gateway's local API?`);
      }
      if (!response.ok) throw apiError(response.status, parsed);
      return parsed as T;
    },
  };
}

/** The error of an error answer: the gateway's code, message and details. */
export function apiError(status: number, body: unknown): ValiseError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (typeof error?.code !== "string") return new GatewayError("INTERNAL", `the local API answered ${status}`);
  return new ValiseError(error.code, typeof error.message === "string" ? error.message : `the local API answered ${status}`, {
    ...(typeof error.details === "object" && error.details !== null ? { details: error.details as Record<string, unknown> } : {}),
  });
}

/** Adds `--api-url` and `--token-file`. */
export function withApiOptions<T extends { option(flags: string, description: string): T }>(command: T): T {
  return command
    .option("--api-url <url>", "the gateway's local API (default: localApi in the home's valise.json)")
    .option("--token-file <file>", "file holding a caseworker bearer token (default: $VALISE_TOKEN)");
}
