/**
 * Commands that act through a running gateway call its local API, as a
 * caseworker's system would: the address from the home's valise.json
 * (`localApi`) or `--api URL`, the bearer token from `--token-file FILE` or
 * `VALISE_TOKEN`. An error answer becomes an error with the gateway's code,
 * so the exit status is the one the code maps to.
 */
import { readFileSync } from "node:fs";
import { openHome } from "../../gateway/home.js";
import { GatewayError } from "../../gateway/errors.js";
import { ValiseError } from "../../pki/errors.js";
import { type CliContext, type CommonOptions, homeDir } from "./context.js";

/** Options of a command that calls the local API. */
export interface ApiOptions extends CommonOptions {
  api?: string;
  tokenFile?: string;
}

/** A local API to call. */
export interface LocalApi {
  readonly baseUrl: string;
  /** Sends a request; JSON `body` when given. Resolves with the raw response (any status). */
  fetch(method: string, path: string, body?: unknown): Promise<Response>;
  /** Sends a request and returns its JSON; an error answer throws with the gateway's code. */
  json<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/** The local API named by the options (or the home's configuration) with the caller's token. */
export function localApiOf(options: ApiOptions, context: CliContext): LocalApi {
  let baseUrl = options.api;
  if (baseUrl === undefined) {
    const { localApi } = openHome(homeDir(options, context)).config;
    const host = localApi.host === "0.0.0.0" || localApi.host === "::" ? "127.0.0.1" : localApi.host;
    baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${localApi.port}`;
  }
  let token: string | undefined;
  if (options.tokenFile !== undefined) {
    try {
      token = readFileSync(options.tokenFile, "utf8").trim();
    } catch (cause) {
      throw new GatewayError("USAGE", `cannot read the token file ${options.tokenFile}`, { cause });
    }
  } else {
    token = context.env["VALISE_TOKEN"];
  }
  if (token === undefined || token === "") {
    throw new GatewayError("UNAUTHENTICATED", "no bearer token: pass --token-file FILE or set VALISE_TOKEN (a caseworker token from valise token create)");
  }
  const base = baseUrl;
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    try {
      return await fetch(new URL(path, base), {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (cause) {
      throw new GatewayError("PEER_UNREACHABLE", `the gateway's local API at ${base} does not answer (is valise start running?)`, { cause });
    }
  };
  return {
    baseUrl: base,
    fetch: call,
    async json<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await call(method, path, body);
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (!response.ok) throw apiError(response.status, parsed);
      return parsed as T;
    },
  };
}

/** The error of an error answer: the gateway's code and message. */
export function apiError(status: number, body: unknown): ValiseError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (typeof error?.code !== "string") return new GatewayError("INTERNAL", `the local API answered ${status}`);
  return new ValiseError(error.code, typeof error.message === "string" ? error.message : `the local API answered ${status}`, {
    ...(typeof error.details === "object" && error.details !== null ? { details: error.details as Record<string, unknown> } : {}),
  });
}

/** Adds `--api` and `--token-file`. */
export function withApiOptions<T extends { option(flags: string, description: string): T }>(command: T): T {
  return command
    .option("--api <url>", "the gateway's local API (default: localApi of the home's valise.json)")
    .option("--token-file <file>", "file holding a caseworker bearer token (default: $VALISE_TOKEN)");
}
