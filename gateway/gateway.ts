/**
 * `createGateway`: one Valise gateway — the peer API (mutual TLS 1.3), the
 * local API (loopback HTTP), the delivery worker — over one home. No process
 * state: tests run several gateways in one process.
 *
 * @example
 * const gateway = createGateway({ home: "/srv/valise", passphrase });
 * const { peerUrl, localUrl } = await gateway.start();
 * // …
 * await gateway.stop();
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { openHome } from "./home.js";
import { GatewayError } from "./errors.js";
import { openAuthorityPki } from "../pki/store.js";
import { LiveIdentity, type IdentityChange } from "./live-identity.js";
import { openHomeStore } from "./store/home-store.js";
import { JobRunner, type Job } from "./jobs/runner.js";
import { PeerDirectory } from "./peers/directory.js";
import { peerServerTlsOptions } from "./peers/tls.js";
import { PeerConnections } from "./peers/connections.js";
import { CHECKING_INTERVAL_MS, DEFAULT_IDLE_TIMEOUT_SECONDS, limitIdleConnections } from "./http/idle.js";
import { documentValidator } from "../schemas/validate.js";
import { createLogger, type Logger } from "./log.js";
import { createMetrics } from "./metrics.js";
import { PeerClient } from "./delivery/peer-client.js";
import { DeliveryWorker, type DeliveryOptions } from "./delivery/worker.js";
import { expediteResealing } from "./delivery/reseal.js";
import { appendEntry } from "./audit/append.js";
import { Checkpointer } from "./audit/checkpoints.js";
import { checkLogIntegrity } from "./audit/integrity.js";
import { WitnessClient, type WitnessClientOptions } from "./audit/witness-client.js";
import { localApi } from "./http/local-api.js";
import { refreshTrust } from "./peers/refresh.js";
import { deadlineJob } from "./cases/deadlines.js";
import { webhookJob, type WebhookOptions } from "./events/webhooks.js";
import { dueSoonJob } from "./events/due-soon.js";
import { peerApi } from "./http/peer-api.js";
import { clientErrorHandler } from "./http/errors.js";
import type { GatewayContext } from "./context.js";
import type { ListenAddress } from "./config/config.js";
import { EvidenceUploader, type UploaderOptions } from "./evidence/uploader.js";
import { threadPoolProbe, type ThreadPoolProbeOptions } from "./thread-pool-probe.js";
import { refusalSummaryJob, summariseRefusals } from "./evidence/refusals.js";
import { stat } from "node:fs/promises";
import { loadWebhookSecrets, WebhookSender, type WebhookSenderOptions } from "./webhooks/sender.js";
import { alertCheckJob } from "./alerts/alerts.js";
import { uploadExpiryJob } from "./attachments/upload.js";
import { readRestoreMarker } from "./backup/restore-marker.js";
import { checkLogAgainstPeers } from "./audit/peer-check.js";
import { reconcileAfterRestoreJob } from "./reconcile/after-restore.js";

/** How to run a gateway. */
export interface GatewayOptions {
  /** The gateway home (valise.json, pki/, peers/, valise.db). */
  readonly home: string;
  /** Passphrase of the private keys. */
  readonly passphrase: string;
  /** The clock (tests inject one). */
  readonly now?: () => Date;
  /** A logger; by default JSON lines on stdout at `logLevel`. */
  readonly logger?: Logger;
  readonly logLevel?: string;
  /** Delivery tuning; by default from the configuration's `delivery`. */
  readonly delivery?: Partial<DeliveryOptions>;
  /** Override the configured listen addresses (e.g. port 0 for the local API in tests). */
  readonly listen?: { readonly peer?: ListenAddress; readonly local?: ListenAddress };
  /** How often to refresh trust material (own CRL, peers' bundles), at start and then; default hourly, 0 never. */
  readonly trustRefreshMs?: number;
  /** How often to check the own PKI folder for rotations and revocations besides watching it (default 2 s). */
  readonly pkiCheckMs?: number;
  /** Export process metrics (once per process). */
  readonly processMetrics?: boolean;
  /** When to submit checkpoints to peers for cosigning (defaults: 1 s after a new checkpoint, and every minute). */
  readonly witness?: WitnessClientOptions;
  /** Webhook retry tuning (gateway/events/webhooks.ts). */
  readonly webhooks?: Partial<WebhookOptions>;
  /** Evidence upload tuning; retries follow the delivery options unless given here. */
  readonly evidence?: Partial<UploaderOptions>;
  /** This instance's name in leases (several instances on one PostgreSQL store); default host:pid:random. */
  readonly instance?: string;
  /** Lease time of the leader and of claimed rows (default `instances.leaseSeconds`, 15 s). */
  readonly leaseMs?: number;
  /** How often repeated refusals of evidence uploads are summarised in the audit log (default 10 minutes). */
  readonly refusalSummaryMs?: number;
  /** Alert webhook sending tuning (retries, timeouts; gateway/webhooks/sender.ts); tests shorten it. */
  readonly alertWebhooks?: Partial<WebhookSenderOptions>;
  /** How often the thread pool is probed and how long a probe may wait before health says it is stalled. */
  readonly threadPoolProbe?: Partial<ThreadPoolProbeOptions>;
}

/** Where a started gateway listens. */
export interface GatewayAddresses {
  readonly peerPort: number;
  readonly localPort: number;
  readonly peerUrl: string;
  readonly localUrl: string;
}

/** A gateway that can be started and stopped. */
export interface Gateway {
  /** Loads keys, opens the store, listens. Rejects with a coded error on a broken home. */
  start(): Promise<GatewayAddresses>;
  /** Stops accepting, finishes in-flight work, closes the database. */
  stop(): Promise<void>;
  /** The running gateway's shared state (after start). */
  readonly context: GatewayContext;
  /** Submits this gateway's checkpoints to its peers for cosigning (after start; `runNow` in tests). */
  readonly witness: WitnessClient;
}

/** Creates a gateway over `options.home`; nothing happens until `start`. */
export function createGateway(options: GatewayOptions): Gateway {
  let context: GatewayContext | undefined;
  let witness: WitnessClient | undefined;
  let stopper: (() => Promise<void>) | undefined;

  return {
    get context(): GatewayContext {
      if (context === undefined) throw new Error("the gateway is not started");
      return context;
    },

    get witness(): WitnessClient {
      if (witness === undefined) throw new Error("the gateway is not started");
      return witness;
    },

    async start(): Promise<GatewayAddresses> {
      const now = options.now ?? (() => new Date());
      const home = openHome(options.home);
      const { config, paths } = home;
      const logger = options.logger ?? createLogger({ authority: config.authority, ...(options.logLevel === undefined ? {} : { level: options.logLevel }) });
      const pki = openAuthorityPki(paths.pki);
      // The own keys, reloaded while running when the CLI rotates or revokes (gateway/live-identity.ts).
      const identity = await LiveIdentity.open(pki, options.passphrase, now, logger);
      // Webhook secrets are read before anything listens: an unreadable one is a configuration error at start, not a silent gap later.
      const webhookTargets = config.alerts?.webhooks ?? [];
      const names = webhookTargets.map((w) => w.name);
      if (new Set(names).size !== names.length) throw new GatewayError("CONFIG_INVALID", `alerts.webhooks names must be unique (${names.join(", ")})`);
      const webhookSecrets = loadWebhookSecrets(webhookTargets);
      const store = await openHomeStore(home, "apply");
      try {
        const integrity = await store.read((tx) => checkLogIntegrity(tx, config.authority, pki.certificates("log").map((c) => c.certificate.publicKey)));
        const peers = new PeerDirectory(paths.peers);
        const metrics = createMetrics(() => store.read((tx) => tx.outbox.pendingCount()), options.processMetrics === true);
        const jobs = new JobRunner({
          store,
          logger,
          ...(options.instance === undefined ? {} : { owner: options.instance }),
          leaseMs: options.leaseMs ?? (config.instances?.leaseSeconds ?? 15) * 1000,
        });
        let worker: DeliveryWorker | undefined;
        const ctx: GatewayContext = {
          config,
          paths,
          authority: config.authority,
          pki,
          store,
          jobs,
          identity,
          peers,
          checkpoints: new Checkpointer(store, config.authority, () => identity.logKey, now),
          validator: documentValidator(),
          logger,
          metrics,
          certificateCache: new Map(),
          now,
          wakeDelivery: () => jobs.wake("delivery"),
        };
        const client = new PeerClient(identity, peers, now);
        // Before serving anything: the log against what the peers cosigned (a restored home must reach every peer).
        const restored = readRestoreMarker(paths.root);
        const checkClient = new PeerClient(identity, peers, now, 5000);
        try {
          const logPeers = { store, authority: config.authority, logKeys: pki.certificates("log").map((c) => c.certificate.publicKey), peers, client: checkClient };
          const comparison = await checkLogAgainstPeers(logPeers, { restored: restored !== undefined, home: paths.root });
          for (const view of comparison.peers.filter((p) => !p.reachable)) logger.warn("a peer could not be asked what it cosigned of this log", { peer: view.peer, reason: view.error });
        } finally {
          checkClient.close();
        }
        worker = new DeliveryWorker(ctx, client, {
          ...(config.delivery?.initialBackoffMs === undefined ? {} : { initialBackoffMs: config.delivery.initialBackoffMs }),
          ...(config.delivery?.maxBackoffMs === undefined ? {} : { maxBackoffMs: config.delivery.maxBackoffMs }),
          ...(config.delivery?.giveUpAfterSeconds === undefined ? {} : { giveUpAfterMs: config.delivery.giveUpAfterSeconds * 1000 }),
          ...options.delivery,
        });

        const uploader = new EvidenceUploader(ctx, client, {
          ...(config.delivery?.initialBackoffMs === undefined ? {} : { initialBackoffMs: config.delivery.initialBackoffMs }),
          ...(config.delivery?.maxBackoffMs === undefined ? {} : { maxBackoffMs: config.delivery.maxBackoffMs }),
          ...(config.delivery?.giveUpAfterSeconds === undefined ? {} : { giveUpAfterMs: config.delivery.giveUpAfterSeconds * 1000 }),
          ...(options.delivery?.initialBackoffMs === undefined ? {} : { initialBackoffMs: options.delivery.initialBackoffMs }),
          ...(options.delivery?.maxBackoffMs === undefined ? {} : { maxBackoffMs: options.delivery.maxBackoffMs }),
          ...options.evidence,
        });

        const peerListen = options.listen?.peer ?? config.peerApi;
        const localListen = options.listen?.local ?? config.localApi;
        const peerIdleMs = (peerListen.idleTimeoutSeconds ?? config.peerApi.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000;
        const localIdleMs = (localListen.idleTimeoutSeconds ?? config.localApi.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000;
        const peerServer = https.createServer(
          { ...peerServerTlsOptions(identity, peers), handshakeTimeout: peerIdleMs, connectionsCheckingInterval: CHECKING_INTERVAL_MS },
          peerApi(ctx),
        );
        peerServer.headersTimeout = 10_000;
        peerServer.requestTimeout = 30_000; // a slow body gets a 408, not a held socket
        limitIdleConnections(peerServer, peerIdleMs, true);
        peerServer.on("tlsClientError", () => metrics.tlsHandshakeRefusals.inc({ reason: "handshake" }));
        peerServer.on("clientError", clientErrorHandler((code) => metrics.envelopesRejected.inc({ code })));
        const connections = new PeerConnections(peerServer);
        peers.onChange(() => {
          peerServer.setSecureContext(peerServerTlsOptions(identity, peers));
          logger.info("peer trust reloaded", { peers: peers.all().map((p) => p.authority) });
          // A connection opened before its certificate was revoked is closed now, not at its next handshake.
          for (const closed of connections.recheck(peers, now())) {
            metrics.tlsHandshakeRefusals.inc({ reason: "identity" });
            logger.warn("closed a peer connection whose certificate no longer validates", { ...closed });
          }
        });
        // A stalled thread pool (file system calls that never return) shows in health and the log.
        const threadPool = threadPoolProbe({ probe: () => stat(paths.root), logger, ...options.threadPoolProbe });
        const localServer = http.createServer({ connectionsCheckingInterval: CHECKING_INTERVAL_MS }, localApi(ctx, client, threadPool));
        localServer.headersTimeout = 10_000;
        localServer.requestTimeout = 30_000;
        limitIdleConnections(localServer, localIdleMs, false);
        localServer.on("clientError", clientErrorHandler());

        // A rotation or revocation by the CLI: new TLS contexts, an audit entry, a
        // checkpoint under the current log key, and queued envelopes signed by a
        // revoked key re-sealed (gateway/delivery/reseal.ts).
        identity.onChange((change) => {
          if (change.tls) {
            peerServer.setSecureContext(peerServerTlsOptions(identity, peers));
            peerServer.closeIdleConnections();
            client.close();
          }
          void applyIdentityChange(ctx, change).catch((error: unknown) =>
            logger.error("recording the reloaded PKI failed", { reason: error instanceof Error ? error.message : String(error) }),
          );
        });
        await listen(peerServer, peerListen, "peer");
        try {
          await listen(localServer, localListen, "local");
        } catch (error) {
          await close(peerServer);
          throw error;
        }
        await store.transaction((tx) =>
          appendEntry(tx, { kind: "gateway.started", actor: "operator", time: now(), details: { peers: peers.all().map((p) => p.authority), instance: jobs.owner } }),
        );
        threadPool.start();
        // Revoked while the gateway was stopped: what is queued under those keys is re-sealed first.
        await expediteResealing(ctx, identity.revokedSignerKids());
        // A checkpoint over everything up to this start; the witness job asks peers to cosign it.
        await ctx.checkpoints.sign();
        const witnessClient = new WitnessClient(ctx, client, options.witness);
        // Every background duty is a job: row jobs on any instance, singletons on the leader.
        jobs.add(worker);
        jobs.add(uploader);
        jobs.add(deadlineJob(ctx));
        jobs.add(dueSoonJob(ctx));
        const webhooks = webhookJob(ctx, options.webhooks);
        if (webhooks !== undefined) jobs.add(webhooks);
        jobs.add(refusalSummaryJob(ctx, options.refusalSummaryMs));
        jobs.add(witnessClient);
        jobs.add(new WebhookSender({ store, logger, now, owner: jobs.owner, leaseMs: jobs.leaseMs, wake: () => jobs.wake("alert-webhooks") }, webhookSecrets, options.alertWebhooks));
        jobs.add(alertCheckJob(ctx));
        jobs.add(uploadExpiryJob(ctx));
        // Trust refresh: own CRL before it expires, peers' bundles (new CRLs, rotations).
        const refreshEvery = options.trustRefreshMs ?? 3600_000;
        if (refreshEvery > 0) jobs.add(trustRefreshJob(ctx, client, refreshEvery));
        // A restored home reconciles with every peer once it runs (then its restore marker goes).
        if (restored !== undefined) jobs.add(reconcileAfterRestoreJob(ctx, client));
        await jobs.start();
        context = ctx;
        witness = witnessClient;
        // The handshake's CA list and CRLs follow the peer directory, which re-reads
        // peers/ only when asked: ask every second, so that an operator's `valise peers
        // update` (a revoked certificate) reaches the TLS layer even with no traffic.
        identity.start(options.pkiCheckMs ?? 2000);
        const peerWatch = setInterval(() => {
          try {
            peers.refresh();
          } catch (error) {
            logger.error("reading the peers folder failed", { reason: error instanceof Error ? error.message : String(error) });
          }
        }, 1000);
        peerWatch.unref();

        stopper = async () => {
          clearInterval(peerWatch);
          threadPool.stop();
          await identity.stop();
          const stopping = Promise.all([close(peerServer), close(localServer)]); // stop accepting; in-flight requests finish
          await jobs.stop();
          await stopping;
          await summariseRefusals(ctx); // after the peer server closed: no refusal left uncounted in the last summary
          await store.transaction((tx) => appendEntry(tx, { kind: "gateway.stopped", actor: "operator", time: now(), details: { instance: jobs.owner } }));
          client.close();
          await store.close();
          logger.info("gateway stopped");
        };
        const addresses = {
          peerPort: (peerServer.address() as AddressInfo).port,
          localPort: (localServer.address() as AddressInfo).port,
          peerUrl: `https://${peerListen.host}:${(peerServer.address() as AddressInfo).port}`,
          localUrl: `http://${localListen.host}:${(localServer.address() as AddressInfo).port}`,
        };
        logger.info("gateway started", { ...addresses, endpoint: config.endpoint, peers: peers.all().map((p) => p.authority), auditEntries: integrity.entries, store: store.kind, instance: jobs.owner });
        return addresses;
      } catch (error) {
        await store.close().catch(() => undefined);
        throw error;
      }
    },

    async stop(): Promise<void> {
      const stop = stopper;
      stopper = undefined;
      if (stop !== undefined) await stop();
    },
  };
}

/** Re-signs the own CRL before it expires and fetches peers' bundles: a singleton job (it writes the home's files). */
function trustRefreshJob(ctx: GatewayContext, client: PeerClient, everyMs: number): Job {
  return {
    name: "trust-refresh",
    singleton: true,
    idleMs: everyMs,
    async run() {
      await refreshTrust(ctx, client);
      return everyMs;
    },
  };
}

/**
 * Listens on `address`. A port in use, an address this host does not have or
 * a port it may not bind is the configuration's problem, reported as
 * `CONFIG_LISTEN_FAILED` naming the API and the address.
 */
function listen(server: http.Server, address: ListenAddress, api: "peer" | "local"): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      const why: Record<string, string> = { EADDRINUSE: "the port is in use", EADDRNOTAVAIL: "this host has no such address", EACCES: "no permission to bind this port" };
      const reason = error.code === undefined ? undefined : why[error.code];
      if (reason === undefined) {
        reject(error);
        return;
      }
      const field = api === "peer" ? "peerApi" : "localApi";
      reject(
        new GatewayError("CONFIG_LISTEN_FAILED", `the ${api} API cannot listen on ${address.host}:${address.port}: ${reason}; change ${field} in valise.json or free the port`, {
          details: { api, host: address.host, port: address.port, reason: error.code ?? "" },
          cause: error,
        }),
      );
    };
    server.once("error", failed);
    server.listen(address.port, address.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
}

/**
 * Stops accepting and resolves when every connection has ended: idle
 * keep-alive connections are closed as soon as their request is answered,
 * and anything still open after 10 s is cut.
 */
function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Records a reload of the own PKI (audit entry, then a checkpoint: a new log key signs at once) and wakes delivery. */
async function applyIdentityChange(ctx: GatewayContext, change: IdentityChange): Promise<void> {
  const changed = (["tls", "sign", "encrypt", "log"] as const).filter((use) => change[use]);
  await ctx.store.transaction((tx) =>
    appendEntry(tx, {
      kind: "identity.reloaded",
      actor: "gateway",
      time: ctx.now(),
      details: { serials: { ...change.serials }, changed, revokedSignerKids: [...change.revokedSignerKids] },
    }),
  );
  await ctx.checkpoints.sign();
  // Envelopes queued under a key revoked now are re-sealed at once, not at their next backoff.
  await expediteResealing(ctx, change.revokedSignerKids);
  ctx.wakeDelivery();
}
