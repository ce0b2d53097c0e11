/**
 * The gateway configuration: `valise.json` in the gateway home, validated
 * against `config.schema.json`, then frozen.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { ValidateFunction } from "ajv";
import { validate as generatedValidate } from "./config.validate.generated.js";
import { GatewayError } from "../errors.js";
import type { Profile } from "../../pki/profiles.js";
import { assertAuthorityId } from "../../pki/authority.js";

// config.schema.json compiled ahead of time by Ajv (scripts/generate-config-validator.ts): a
// run-time compile cost every command that opens a home ~150 ms of start-up.
const validate = generatedValidate as ValidateFunction;

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
  /** Versions of the document forms this gateway reads (default: all; schemas/versions.ts). */
  readonly documentVersions?: readonly number[];
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
    /** Where evidence bytes live (default HOME/evidence); shared by instances. */
    readonly dir?: string;
  };
  /** Uploads of the local API (gateway/attachments/upload.ts). */
  readonly uploads?: { readonly maxBytes?: number; readonly keepHours?: number; readonly mediaTypes?: readonly string[] };
  /** Webhook endpoints of the event feed (gateway/events/webhooks.ts). */
  readonly webhooks?: ReadonlyArray<{ readonly name: string; readonly url: string; readonly secretFile: string; readonly timeoutSeconds?: number; readonly kinds?: readonly string[] }>;
  /** The database (default SQLite in the home). */
  readonly store?: { readonly kind: "sqlite" } | { readonly kind: "postgres"; readonly url: string; readonly poolSize?: number };
  /** Several instances on one PostgreSQL store. */
  readonly instances?: { readonly leaseSeconds?: number };
  /** Operator alerts sent to webhooks (gateway/alerts/). */
  readonly alerts?: AlertsConfig;
}

/** The `alerts` section of valise.json. */
export interface AlertsConfig {
  readonly webhooks?: ReadonlyArray<{ readonly name: string; readonly url: string; readonly secretFile: string; readonly events?: readonly string[] }>;
  readonly outboxStuckSeconds?: number;
  readonly certificateExpiryDays?: number;
  readonly checkIntervalSeconds?: number;
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

/** The clocks of the requests made under one legal instrument, in hours (schemas/instruments.ts has the defaults). */
export interface InstrumentClockConfig {
  readonly hopHours?: number;
  readonly acknowledgeHours?: number;
  readonly recognitionHours?: number;
  readonly recognitionExtensionHours?: number;
  readonly completionHours?: { readonly normal?: number; readonly urgent?: number; readonly emergency?: number };
  readonly preservationExtensionHours?: number;
}

/** The `clocks` section of valise.json. */
export interface ClockConfig extends PeerClockConfig {
  readonly dueSoonDays?: number;
  readonly checkIntervalSeconds?: number;
  readonly peers?: Readonly<Record<string, PeerClockConfig>>;
  /** Clocks by legal instrument, in hours, for requests that name one. */
  readonly instruments?: Readonly<Record<string, InstrumentClockConfig>>;
}

/** What `valise init` needs to write a first configuration. */
export interface NewConfigOptions {
  authority: string;
  endpoint: string;
  profile: Profile;
  dns: readonly string[];
  ips: readonly string[];
  /** `sqlite` (default) or a `postgres://` URL. */
  store?: string;
  /**
   * Where the peer API listens, `ADDRESS[:PORT]` (e.g. `0.0.0.0:8443`),
   * when it is not the endpoint's own address: behind NAT or a load
   * balancer the public endpoint is not an address of this host.
   */
  listen?: string;
}

/**
 * Builds the first configuration of a home from `valise init` options.
 * The peer API listens on the endpoint's host and port (all interfaces when
 * the host is a DNS name); the local API on 127.0.0.1, the next port up.
 * The endpoint's host is added to the TLS SANs.
 */
export function newConfig(options: NewConfigOptions): GatewayConfig {
  assertAuthorityId(options.authority);
  const { origin, host, port, ip } = parseEndpoint(options.endpoint);
  const dns = unique([...options.dns, ...(ip ? [] : [host])]);
  const ips = unique([...options.ips, ...(ip ? [host] : [])]);
  const peerApi = options.listen === undefined ? peerListenFor({ host, port, ip }) : parseListen(options.listen, port);
  return validateConfig({
    valise: 1,
    authority: options.authority,
    profile: options.profile,
    endpoint: origin,
    peerApi: peerApi,
    localApi: { host: "127.0.0.1", port: peerApi.port === 0 ? 0 : peerApi.port + 1 },
    tls: { dns, ips },
    ...(options.store === undefined || options.store === "sqlite" ? {} : { store: storeOption(options.store) }),
  });
}

/** `--store`: `sqlite`, or a PostgreSQL connection URL. */
function storeOption(value: string): { kind: "postgres"; url: string } {
  if (!/^postgres(ql)?:\/\//.test(value)) {
    throw new GatewayError("CONFIG_INVALID", "--store is sqlite or a postgres:// URL (e.g. postgres://valise@db.example/valise)");
  }
  return { kind: "postgres", url: value };
}

/** An endpoint URL, taken apart. */
export interface ParsedEndpoint {
  /** `https://host[:port]`, the form written to valise.json and the PKI index. */
  readonly origin: string;
  /** The host, without the brackets of an IPv6 literal. */
  readonly host: string;
  readonly port: number;
  /** The host is an IP address (a SAN IP entry) rather than a DNS name. */
  readonly ip: boolean;
}

/** Parses an endpoint URL; `CONFIG_INVALID` unless it is an https:// URL. */
export function parseEndpoint(endpoint: string): ParsedEndpoint {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (cause) {
    throw new GatewayError("CONFIG_INVALID", `the endpoint is not a URL: ${endpoint}`, { cause });
  }
  if (url.protocol !== "https:") {
    throw new GatewayError("CONFIG_INVALID", "the endpoint must be an https:// URL (the peer API is mutual TLS only).");
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { origin: url.origin, host, port: url.port === "" ? 443 : Number(url.port), ip: isIP(host) !== 0 };
}

/**
 * `--listen ADDRESS[:PORT]`: an IPv4 or IPv6 address (IPv6 in brackets when
 * a port follows), the port defaulting to the endpoint's. `CONFIG_INVALID`
 * for anything else, saying what to write.
 */
export function parseListen(value: string, defaultPort: number): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*))(?::(\d{1,5}))?$/.exec(value.trim());
  const bracketed = match?.[1];
  const host = bracketed ?? match?.[2];
  const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
  if (match === null || host === undefined || isIP(host) === 0 || port > 65535 || (bracketed === undefined && isIP(host) === 6 && match[3] !== undefined)) {
    throw new GatewayError("CONFIG_INVALID", `--listen is ADDRESS[:PORT] with an IP address of this host, e.g. 0.0.0.0:8443 (all IPv4 addresses) or [::]:8443 (all addresses); got ${JSON.stringify(value)}`);
  }
  return { host, port };
}

/** Where the peer API listens by default for an endpoint: its IP and port, or all interfaces when the host is a DNS name. */
export function peerListenFor(endpoint: Pick<ParsedEndpoint, "host" | "port" | "ip">): ListenAddress {
  return { host: endpoint.ip ? endpoint.host : "0.0.0.0", port: endpoint.port };
}

/**
 * Checks `value` against the configuration schema and returns it deeply
 * frozen. Throws `CONFIG_INVALID` listing every failing field.
 */
export function validateConfig(value: unknown): GatewayConfig {
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
