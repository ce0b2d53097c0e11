/**
 * The gateway configuration: `valise.json` in the gateway home, validated
 * against `config.schema.json`, then frozen.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { Ajv2020 } from "ajv/dist/2020.js";
import { GatewayError } from "../errors.js";
import type { Profile } from "../../pki/profiles.js";
import { assertAuthorityId } from "../../pki/authority.js";

const schema = JSON.parse(readFileSync(new URL("./config.schema.json", import.meta.url), "utf8")) as object;

/** Where a listener binds. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** Idle connections are closed after this long (default 5 s; see gateway/http/idle.ts). */
  readonly idleTimeoutSeconds?: number;
}

/** The validated, frozen configuration of one gateway. */
export interface GatewayConfig {
  readonly valise: 1;
  readonly authority: string;
  readonly profile: Profile;
  /** Public URL of the peer API, as written into the trust bundle. */
  readonly endpoint: string;
  readonly peerApi: ListenAddress;
  readonly localApi: ListenAddress;
  /** Extra SAN entries of the TLS certificate (the endpoint host is always included). */
  readonly tls: { readonly dns: readonly string[]; readonly ips: readonly string[] };
  readonly clockSkewSeconds?: number;
  readonly delivery?: {
    readonly initialBackoffMs?: number;
    readonly maxBackoffMs?: number;
    readonly giveUpAfterSeconds?: number;
  };
  /** Case clocks (gateway/cases/clocks.ts); defaults apply to what is left out. */
  readonly clocks?: ClockConfig;
  /** Evidence packages (gateway/evidence/). */
  readonly evidence?: {
    /** Folders the local API may read evidence files from, besides HOME/outgoing. */
    readonly sendFrom?: readonly string[];
    readonly chunkSize?: number;
    readonly uploadConcurrency?: number;
  };
}

/** Days per request priority. */
export interface DaysByPriority {
  readonly normal?: number;
  readonly urgent?: number;
  readonly emergency?: number;
}

/** Clocks of the cases with one peer. */
export interface PeerClockConfig {
  readonly hopDays?: number;
  readonly completionDays?: DaysByPriority;
  readonly preservationCompletionDays?: DaysByPriority;
}

/** The `clocks` section of valise.json. */
export interface ClockConfig extends PeerClockConfig {
  readonly dueSoonDays?: number;
  readonly checkIntervalSeconds?: number;
  readonly peers?: Readonly<Record<string, PeerClockConfig>>;
}

/** What `valise init` needs to write a first configuration. */
export interface NewConfigOptions {
  authority: string;
  endpoint: string;
  profile: Profile;
  dns: readonly string[];
  ips: readonly string[];
}

/**
 * Builds the first configuration of a home from `valise init` options.
 * The peer API listens on the endpoint's host and port (all interfaces when
 * the host is a DNS name); the local API on 127.0.0.1, the next port up.
 * The endpoint's host is added to the TLS SANs.
 */
export function newConfig(options: NewConfigOptions): GatewayConfig {
  assertAuthorityId(options.authority);
  let url: URL;
  try {
    url = new URL(options.endpoint);
  } catch (cause) {
    throw new GatewayError("CONFIG_INVALID", `--endpoint is not a URL: ${options.endpoint}`, { cause });
  }
  if (url.protocol !== "https:") {
    throw new GatewayError("CONFIG_INVALID", "--endpoint must be an https:// URL (the peer API is mutual TLS only).");
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port === "" ? 443 : Number(url.port);
  const dns = unique([...options.dns, ...(isIP(host) === 0 ? [host] : [])]);
  const ips = unique([...options.ips, ...(isIP(host) !== 0 ? [host] : [])]);
  return validateConfig({
    valise: 1,
    authority: options.authority,
    profile: options.profile,
    endpoint: url.origin,
    peerApi: { host: isIP(host) !== 0 ? host : "0.0.0.0", port },
    localApi: { host: "127.0.0.1", port: port === 0 ? 0 : port + 1 },
    tls: { dns, ips },
  });
}

/**
 * Checks `value` against the configuration schema and returns it deeply
 * frozen. Throws `CONFIG_INVALID` listing every failing field.
 */
export function validateConfig(value: unknown): GatewayConfig {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile(schema);
  if (!validate(value)) {
    const errors = (validate.errors ?? []).map((e) => ({
      path: e.instancePath === "" ? "/" : e.instancePath,
      problem: e.message ?? e.keyword,
      ...(e.keyword === "additionalProperties" ? { property: (e.params as { additionalProperty: string }).additionalProperty } : {}),
    }));
    const summary = errors.map((e) => `${e.path} ${e.problem}${"property" in e ? ` (${e.property})` : ""}`).join("; ");
    throw new GatewayError("CONFIG_INVALID", `configuration is invalid: ${summary}`, { details: { errors } });
  }
  return deepFreeze(value as GatewayConfig);
}

/** Reads and validates a configuration file. */
export function loadConfigFile(path: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new GatewayError("CONFIG_INVALID", `cannot read the configuration file ${path}`, { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new GatewayError("CONFIG_INVALID", `${path} is not valid JSON`, { cause });
  }
  return validateConfig(value);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
