/**
 * The operator's health view: the running version, each peer reachable or
 * not, the outbox (and whether it is stuck), the certificates this gateway
 * uses now (a revoked, expired or missing one makes it `degraded`: peers
 * refuse what it signs or presents), own certificates revoked or missing,
 * certificates (ours and peers') that expire within 30 days, and witnessing:
 * each peer's log consistent or not (an alarm), how far we cosigned it, how
 * far it cosigned ours, and our latest checkpoint with its cosigners; and
 * whether libuv's thread pool still does file system work (see
 * thread-pool-probe.ts). `reasons` says in words why the status is degraded.
 */
import type { GatewayContext } from "./context.js";
import type { PeerClient } from "./delivery/peer-client.js";
import { epochOrigin, isOriginOf } from "./audit/epoch-origin.js";
import { witnessName } from "./audit/cosignature.js";
import { logAlarms, witnessedLog } from "./audit/witness.js";
import { cosignedSize } from "./audit/witness-client.js";
import type { ThreadPoolHealth } from "./thread-pool-probe.js";
import type { OwnCertificate } from "./live-identity.js";
import { buildInfo } from "./build-info.js";
import { ALERT_DEFAULTS } from "./alerts/alerts.js";
import { LEAF_USES } from "../pki/profiles.js";

const DAY_MS = 24 * 3600 * 1000;

/** The health report. */
export interface HealthReport {
  readonly authority: string;
  /** The running build's version (as `valise --version`). */
  readonly version: string;
  readonly status: "ok" | "degraded";
  /** Why the status is degraded (empty when ok). */
  readonly reasons: readonly string[];
  readonly peers: ReadonlyArray<{
    authority: string;
    endpoint: string;
    reachable: boolean;
    latencyMs?: number;
    error?: string;
    crlNextUpdate: string | null;
    /** False while an alarm about the peer's log is open: it showed a checkpoint inconsistent with one it showed before (see `logAlarms`); an epoch statement of the peer closes it. */
    logConsistent: boolean;
    /** The epoch of the peer's log this gateway follows as its witness (1 until the peer declares a loss). */
    logEpoch: number;
    /** Size of the peer's log this gateway last cosigned as its witness (null: never). */
    witnessedSize: number | null;
    /** Largest size of this gateway's log the peer has cosigned (0: none). */
    cosignedOurSize: number;
  }>;
  /** This gateway's latest checkpoint and the peers whose cosignature it carries. */
  readonly checkpoint: { size: number; cosignedBy: string[] } | null;
  /**
   * Inconsistencies detected in peers' logs (evidence in the log_alarms table,
   * audit kind `log.inconsistent`), kept for ever; `resolved` when the peer's
   * epoch statement closed it (`log.epoch.accepted` in the audit log).
   */
  readonly logAlarms: ReadonlyArray<{ id: number; origin: string; detectedAt: string; reason: string; resolved: { at: string; by: string; reason: string } | null }>;
  /**
   * The outbox: `oldestPendingAgeSeconds` is how long the oldest pending
   * envelope has waited (since queued, or an operator's retry); `stuck` when
   * that exceeds `alerts.outboxStuckSeconds` (default an hour).
   */
  readonly outbox: { pending: number; failed: number; oldestPendingSince: string | null; oldestPendingAgeSeconds: number | null; stuck: boolean };
  /** This authority's certificates that are revoked but not yet expired, and the uses left with no current certificate (revoked, not rotated). */
  readonly ownCertificates: { readonly revoked: ReadonlyArray<{ use: string; serial: string; revokedAt: string | null; notAfter: string }>; readonly missingCurrent: readonly string[] };
  /** The certificates this gateway signs, decrypts and authenticates with now, as its PKI folder says now. */
  readonly identity: readonly OwnCertificate[];
  readonly certificatesExpiringSoon: ReadonlyArray<{ owner: string; use: string; serial: string; notAfter: string }>;
  /** The thread pool probe (null when the gateway runs none). */
  readonly threadPool: ThreadPoolHealth | null;
  /** Each webhook endpoint: events not yet answered 2xx, failed attempts at the next one and why (gateway/events/webhooks.ts). */
  readonly webhooks: ReadonlyArray<{ name: string; behind: number; attempts: number; lastError: string | null }>;
}

/** Failed attempts in a row after which a webhook endpoint makes the gateway `degraded`. */
const WEBHOOK_FAILURES_DEGRADED = 3;

/** The reason given when the thread pool is stalled. */
export function threadPoolReason(waitingMs: number | null): string {
  return `thread pool stalled: a file system probe has waited ${waitingMs ?? "?"} ms (sending, receiving and uploads are blocked)`;
}

/** Probes every peer (GET /peer/v1/hello, short timeout) and reads the store; `threadPool` is the probe's reading. */
export async function healthReport(ctx: GatewayContext, client: PeerClient, threadPool?: ThreadPoolHealth): Promise<HealthReport> {
  const now = ctx.now();
  const soon = now.getTime() + 30 * DAY_MS;
  const { alarms, resolutions, epochs } = await ctx.store.read(async (tx) => ({ alarms: await logAlarms(tx), resolutions: await tx.epochs.resolutions(), epochs: await tx.epochs.peerEpochs() }));
  const resolvedBy = new Map(resolutions.map((r) => [r.alarmId, { at: r.resolvedAt, by: r.origin, reason: r.reason }]));
  const open = alarms.filter((alarm) => !resolvedBy.has(alarm.id));
  const peers = await Promise.all(
    ctx.peers.all().map(async (peer) => {
      const started = performance.now();
      const crlNextUpdate = peer.crl.nextUpdate?.toISOString() ?? null;
      const followed = epochs.filter((e) => e.authority === peer.authority).at(-1);
      const origin = followed?.origin ?? epochOrigin(peer.authority, 1);
      const witnessing = {
        logConsistent: !open.some((alarm) => isOriginOf(peer.authority, alarm.origin)),
        logEpoch: followed?.epoch ?? 1,
        witnessedSize: (await ctx.store.read((tx) => witnessedLog(tx, origin)))?.size ?? null,
        cosignedOurSize: await cosignedSize(ctx, witnessName(peer.authority)),
      };
      try {
        const response = await client.request(peer, "GET", "/peer/v1/hello");
        if (response.status !== 200) throw new Error(`answered ${response.status}`);
        return { authority: peer.authority, endpoint: peer.endpoint, reachable: true, latencyMs: Math.round(performance.now() - started), crlNextUpdate, ...witnessing };
      } catch (error) {
        return { authority: peer.authority, endpoint: peer.endpoint, reachable: false, error: error instanceof Error ? error.message : String(error), crlNextUpdate, ...witnessing };
      }
    }),
  );
  const latest = await ctx.checkpoints.latest();
  const checkpoint =
    latest === undefined
      ? null
      : {
          size: latest.size,
          cosignedBy: (await ctx.store.read((tx) => tx.audit.cosignatures(latest.size))).map((row) => row.witness),
        };
  const outbox = await ctx.store.read((tx) => tx.outbox.health());
  const webhooks = await ctx.store.read(async (tx) => {
    const latest = await tx.events.latestSeq();
    const cursors = new Map((await tx.events.webhookCursors()).map((row) => [row.endpoint, row]));
    return (ctx.config.webhooks ?? []).map(({ name }) => {
      const row = cursors.get(name);
      return { name, behind: row === undefined ? 0 : Math.max(0, latest - Number(row.delivered_seq)), attempts: row?.attempts ?? 0, lastError: row?.last_error ?? null };
    });
  });
  const certificatesExpiringSoon = [
    ...ctx.pki
      .list(now)
      .filter((row) => (row.status === "current" || row.status === "previous") && Date.parse(row.notAfter) < soon)
      .map((row) => ({ owner: ctx.authority, use: row.use, serial: row.serial, notAfter: row.notAfter })),
    ...ctx.peers.all().flatMap((peer) =>
      [{ use: "root", certificate: peer.root }, ...peer.certificates]
        .filter((c) => c.certificate.notAfter.getTime() < soon)
        .map((c) => ({ owner: peer.authority, use: c.use, serial: c.certificate.serial, notAfter: c.certificate.notAfter.toISOString() })),
    ),
  ];
  const identity = ctx.identity.certificates();
  const oldestPendingAgeSeconds = outbox.oldest === null ? null : Math.max(0, Math.floor((now.getTime() - Date.parse(outbox.oldest)) / 1000));
  const stuckAfter = ctx.config.alerts?.outboxStuckSeconds ?? ALERT_DEFAULTS.outboxStuckSeconds;
  const stuck = oldestPendingAgeSeconds !== null && oldestPendingAgeSeconds >= stuckAfter;
  const own = ctx.pki.list(now);
  const ownCertificates = {
    revoked: own.filter((row) => row.status === "revoked" && Date.parse(row.notAfter) > now.getTime()).map((row) => ({ use: row.use, serial: row.serial, revokedAt: row.revokedAt ?? null, notAfter: row.notAfter })),
    missingCurrent: LEAF_USES.filter((use) => !own.some((row) => row.use === use && row.status === "current")),
  };
  const reasons = [
    ...identity.filter((c) => c.status !== "ok" && !(c.status === "missing" && ownCertificates.missingCurrent.includes(c.use))).map((c) => `own ${c.use} certificate ${c.status}`),
    ...peers.filter((p) => !p.reachable).map((p) => `peer ${p.authority} unreachable`),
    ...(outbox.failed > 0 ? [`${outbox.failed} envelope(s) failed delivery`] : []),
    ...(stuck ? [`outbox stuck: the oldest pending envelope has waited ${oldestPendingAgeSeconds} s (more than ${stuckAfter} s)`] : []),
    ...ownCertificates.missingCurrent.map((use) => `no current ${use} certificate (revoked and not rotated: valise pki rotate ${use})`),
    ...(certificatesExpiringSoon.length > 0 ? [`${certificatesExpiringSoon.length} certificate(s) expire within 30 days`] : []),
    ...open.map((alarm) => `log of ${alarm.origin} inconsistent`),
    ...(threadPool?.stalled === true ? [threadPoolReason(threadPool.waitingMs)] : []),
    ...webhooks.filter((w) => w.attempts >= WEBHOOK_FAILURES_DEGRADED).map((w) => `webhook ${w.name} failing (${w.attempts} attempts, ${w.behind} event(s) behind)`),
  ];
  return {
    authority: ctx.authority,
    version: buildInfo().version,
    status: reasons.length > 0 ? "degraded" : "ok",
    reasons,
    threadPool: threadPool ?? null,
    peers,
    outbox: { pending: outbox.pending, failed: outbox.failed, oldestPendingSince: outbox.oldest, oldestPendingAgeSeconds, stuck },
    ownCertificates,
    identity,
    certificatesExpiringSoon,
    checkpoint,
    logAlarms: alarms.map((alarm) => ({ ...alarm, resolved: resolvedBy.get(alarm.id) ?? null })),
    webhooks,
  };
}
