/**
 * Gateway test network: per-run homes of GB-UKCA and US-DOJ-OIA (and any
 * other authority a test needs) made with `initHome` on free loopback ports,
 * trust bundles exchanged with the fingerprint check, bearer tokens of each
 * role, and small HTTP clients for the local API (plain HTTP) and the peer
 * API (mutual TLS, with whatever certificate a test wants to present).
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initHome } from "../../gateway/home.js";
import { createGateway, type Gateway } from "../../gateway/gateway.js";
import { createLogger } from "../../gateway/log.js";
import { createToken, type Role } from "../../gateway/auth/tokens.js";
import { openHomeStore } from "../../gateway/store/home-store.js";
import type { Store } from "../../gateway/store/store.js";
import type { SqlValue } from "../../gateway/store/sql.js";
import { createTestDatabase } from "../store/engines.js";
import { openHome } from "../../gateway/home.js";
import type { DeliveryOptions } from "../../gateway/delivery/worker.js";
import { openAuthorityPki, type AuthorityPki } from "../../pki/store.js";
import { createTrustBundle, type TrustBundleFile } from "../../pki/bundle.js";
import { addPeer } from "../../pki/peers.js";
import { sealEnvelope, type SealedEnvelope } from "../../gateway/envelope/seal.js";
import type { Priority } from "../../gateway/envelope/types.js";

/** Passphrase of every throwaway key in these tests. */
export const PASSPHRASE = "gateway test passphrase";

/** Delivery tuning for tests: retries within half a second. */
export const FAST_DELIVERY: Partial<DeliveryOptions> = Object.freeze({ initialBackoffMs: 50, maxBackoffMs: 500, idlePollMs: 100 });

const REPO = new URL("../../", import.meta.url);

/** A schema example document, parsed. */
export function example(kind: string, name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`schemas/examples/${kind}/${name}.json`, REPO), "utf8")) as Record<string, unknown>;
}

/** The repository root (for child processes). */
export const REPO_ROOT = new URL(".", REPO).pathname;

/** A free loopback TCP port (bound on port 0, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The tls certificate and its (encrypted) private key, as node:tls wants them. */
export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
  readonly passphrase: string;
}

/** One authority's home, ready to run a gateway on. */
export interface TestAuthority {
  readonly authority: string;
  readonly home: string;
  readonly peerPort: number;
  readonly localPort: number;
  readonly endpoint: string;
  readonly rootFingerprint: string;
  /** A secret bearer token per role. */
  readonly tokens: Readonly<Record<Role, string>>;
  /** The authority's PKI store (re-reads its index on every call). */
  pki(): AuthorityPki;
  /** A freshly signed trust bundle. */
  bundle(): Promise<TrustBundleFile>;
  /** The current tls certificate and key. */
  tlsCredentials(): TlsCredentials;
  /** The root certificate PEM (what a client trusts to reach this gateway). */
  rootPem(): string;
  /** A new gateway over this home (not started), silent, with test delivery tuning. */
  gateway(delivery?: Partial<DeliveryOptions>): Gateway;
  /** A token of `role` created now in the home's database (the gateway may be running). */
  createToken(role: Role, name: string): Promise<{ tokenId: string; token: string }>;
}

/**
 * Creates the home of `authority` under `dir` with free peer and local
 * ports (the peer port is in the endpoint, hence in the TLS certificate and
 * the bundle; the local port is written to valise.json, so `valise start`
 * uses it too), and a token of each role.
 */
export async function createAuthorityHome(dir: string, authority: string, options: { readonly storeUrl?: string } = {}): Promise<TestAuthority> {
  const peerPort = await freePort();
  const localPort = await freePort();
  const endpoint = `https://127.0.0.1:${peerPort}`;
  const home = join(dir, authority);
  const { home: created, rootFingerprint } = await initHome(home, { authority, endpoint, profile: "ed25519", dns: [], ips: [], passphrase: PASSPHRASE });
  const store = options.storeUrl === undefined ? {} : { store: { kind: "postgres", url: options.storeUrl } };
  writeFileSync(created.paths.config, `${JSON.stringify({ ...created.config, localApi: { host: "127.0.0.1", port: localPort }, ...store }, null, 2)}\n`);

  const newToken = async (role: Role, name: string): Promise<{ tokenId: string; token: string }> => {
    const store = await openHomeStore(openHome(created.paths.root), "apply");
    try {
      const { record, token } = await store.transaction((tx) => createToken(tx, role, name, new Date()));
      return { tokenId: record.tokenId, token };
    } finally {
      await store.close();
    }
  };
  const tokens = {
    caseworker: (await newToken("caseworker", "case-system")).token,
    auditor: (await newToken("auditor", "auditor")).token,
    operator: (await newToken("operator", "ops")).token,
  };
  const pki = (): AuthorityPki => openAuthorityPki(created.paths.pki);
  return {
    authority,
    home: created.paths.root,
    peerPort,
    localPort,
    endpoint,
    rootFingerprint,
    tokens,
    pki,
    bundle: () => createTrustBundle(pki(), PASSPHRASE),
    tlsCredentials: () => {
      const store = pki();
      const cert = store.currentCertificate("tls");
      const listing = store.list().find((row) => row.use === "tls" && row.serial === cert.serial);
      if (listing === undefined) throw new Error(`no tls certificate listed for ${authority}`);
      return { cert: cert.pem, key: readFileSync(listing.keyPath, "utf8"), passphrase: PASSPHRASE };
    },
    rootPem: () => pki().rootCertificate().pem,
    gateway: (delivery = FAST_DELIVERY) =>
      createGateway({ home: created.paths.root, passphrase: PASSPHRASE, logger: createLogger({ authority, silent: true }), delivery }),
    createToken: newToken,
  };
}

/** `receiver` pins `sender`'s bundle with the fingerprint given out of band. */
export async function trust(receiver: TestAuthority, sender: TestAuthority): Promise<void> {
  await addPeer(join(receiver.home, "peers"), await sender.bundle(), sender.rootFingerprint);
}

/** Two central authorities that trust each other, in a temp dir. */
export interface TestNetwork {
  readonly dir: string;
  readonly gb: TestAuthority;
  readonly us: TestAuthority;
  /** Another authority's home in the same temp dir (trusted by no one yet). */
  addAuthority(authority: string): Promise<TestAuthority>;
  /** Removes the temp dir (and, on PostgreSQL, drops the authorities' databases). */
  cleanup(): Promise<void>;
}

/**
 * GB-UKCA and US-DOJ-OIA, peers of each other. With `store: "postgres"`
 * each authority's home keeps its store in a PostgreSQL database made for
 * this network (dropped by `cleanup`).
 */
export async function createNetwork(options: { readonly store?: "sqlite" | "postgres" } = {}): Promise<TestNetwork> {
  const dir = mkdtempSync(join(tmpdir(), "valise-gateway-"));
  const drops: Array<() => Promise<void>> = [];
  const cleanup = async (): Promise<void> => {
    rmSync(dir, { recursive: true, force: true });
    for (const drop of drops.splice(0)) await drop().catch(() => undefined);
  };
  const home = async (authority: string): Promise<TestAuthority> => {
    if (options.store !== "postgres") return createAuthorityHome(dir, authority);
    const database = await createTestDatabase();
    drops.push(database.drop);
    return createAuthorityHome(dir, authority, { storeUrl: database.url });
  };
  try {
    const gb = await home("GB-UKCA");
    const us = await home("US-DOJ-OIA");
    await trust(gb, us);
    await trust(us, gb);
    return { dir, gb, us, addAuthority: home, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** A network whose two gateways run. */
export interface RunningNetwork {
  readonly network: TestNetwork;
  readonly gb: Gateway;
  readonly us: Gateway;
}

/**
 * {@link createNetwork}, then GB's and US's gateways started: the `before`
 * of a suite that exchanges between two running gateways. A gateway that
 * fails to start stops the other and removes the network.
 */
export async function startNetwork(options: { readonly store?: "sqlite" | "postgres" } = {}): Promise<RunningNetwork> {
  const network = await createNetwork(options);
  const gb = network.gb.gateway();
  const us = network.us.gateway();
  try {
    await gb.start();
    await us.start();
  } catch (error) {
    await stopNetwork({ network, gb, us });
    throw error;
  }
  return { network, gb, us };
}

/** Stops what {@link startNetwork} started and removes the network (the `after`; a part `before` never made is skipped). */
export async function stopNetwork(running: { readonly network?: TestNetwork; readonly gb?: Gateway; readonly us?: Gateway }): Promise<void> {
  await running.gb?.stop().catch(() => undefined);
  await running.us?.stop().catch(() => undefined);
  await running.network?.cleanup();
}

/** An HTTP answer, body parsed as JSON when it is JSON. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  /** The parsed body (tests read into it freely). */
  readonly json: any;
}

function answerOf(res: http.IncomingMessage, resolve: (answer: HttpAnswer) => void, reject: (error: unknown) => void): void {
  const chunks: Buffer[] = [];
  res.on("data", (chunk: Buffer) => chunks.push(chunk));
  res.on("error", reject);
  res.on("end", () => {
    const text = Buffer.concat(chunks).toString("utf8");
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
  });
}

/** Calls the local API at `port` (a new connection each time); `rawBody` is sent as is, `body` as JSON. */
export function localRequest(port: number, method: string, path: string, options: { token?: string; body?: unknown; rawBody?: string } = {}): Promise<HttpAnswer> {
  const body = options.rawBody !== undefined ? Buffer.from(options.rawBody, "utf8") : options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), "utf8");
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent: false,
        headers: {
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...(body === undefined ? {} : { "content-type": "application/json", "content-length": String(body.length) }),
        },
      },
      (res) => answerOf(res, resolve, reject),
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** TLS options of a test's own client of a peer API. */
export interface PeerClientOptions {
  /** The client certificate and key; none presents no certificate. */
  readonly credentials?: TlsCredentials;
  /** Root PEM of the server's authority. */
  readonly ca: string;
}

/** The TLS part of a peer-API client's request options. */
export function peerTlsOptions(options: PeerClientOptions): https.RequestOptions {
  return {
    ca: options.ca,
    ...(options.credentials === undefined ? {} : { cert: options.credentials.cert, key: options.credentials.key, passphrase: options.credentials.passphrase }),
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
    agent: false,
  };
}

/**
 * Calls the peer API at `port` over TLS with `options`' certificate; rejects
 * when the handshake (or the connection) fails.
 */
export function peerRequest(port: number, method: string, path: string, options: PeerClientOptions & { body?: Uint8Array | string; headers?: Record<string, string> }): Promise<HttpAnswer> {
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        ...peerTlsOptions(options),
        headers: { ...(body === undefined ? {} : { "content-type": "application/json", "content-length": String(body.length) }), ...options.headers },
      },
      (res) => answerOf(res, resolve, reject),
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** How a TLS handshake with a peer API ended. */
export type HandshakeOutcome = { readonly accepted: true } | { readonly accepted: false; readonly code: string };

/**
 * Connects to the peer API at `port` and sends nothing, so that the
 * server's verdict on the client certificate is seen as it is: in TLS 1.3
 * the server sends session tickets only after accepting the client's
 * certificate; otherwise OpenSSL sends an alert (no certificate) or Node
 * closes the connection (a chain Node's check refuses: unknown CA, revoked).
 * An HTTP client that writes at once may see a bare ECONNRESET instead.
 */
export function tlsHandshake(port: number, options: PeerClientOptions): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      ca: options.ca,
      ...(options.credentials === undefined ? {} : { cert: options.credentials.cert, key: options.credentials.key, passphrase: options.credentials.passphrase }),
      minVersion: "TLSv1.3",
      maxVersion: "TLSv1.3",
    });
    let settled = false;
    const settle = (outcome: HandshakeOutcome): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(outcome);
    };
    socket.once("session", () => settle({ accepted: true }));
    socket.once("error", (error: NodeJS.ErrnoException) => settle({ accepted: false, code: error.code ?? error.message }));
    socket.once("close", () => settle({ accepted: false, code: "CLOSED" }));
  });
}

/**
 * Polls `probe` until it returns a value other than undefined, every
 * `intervalMs`, for at most `timeoutMs`; then throws, naming `what`.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Seals `document` as `sender` for `recipient` with their real keys, as the
 * sender's gateway would (a fresh case id and envelope id unless given).
 */
export async function sealFrom(
  sender: TestAuthority,
  recipient: TestAuthority,
  document: Record<string, unknown>,
  options: { id?: string; caseId?: string; type?: string; priority?: Priority } = {},
): Promise<SealedEnvelope> {
  const senderPki = sender.pki();
  return sealEnvelope({
    document,
    type: options.type ?? String(document["kind"]),
    from: sender.authority,
    to: recipient.authority,
    caseId: options.caseId ?? randomUUID(),
    priority: options.priority ?? "normal",
    ...(options.id === undefined ? {} : { id: options.id }),
    signer: { privateKey: senderPki.loadPrivateKey("sign", PASSPHRASE), certificates: [senderPki.currentCertificate("sign"), senderPki.rootCertificate()] },
    recipient: { publicKey: recipient.pki().currentCertificate("encrypt").publicKey },
  });
}

/** Rows of a table matching an optional WHERE clause. */
export async function count(store: Store, table: "envelopes" | "cases" | "outbox" | "audit_entries", where = "1 = 1", ...params: SqlValue[]): Promise<number> {
  return (await store.inspect<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, params))[0]!.n;
}
