/**
 * The operator's health view: each peer reachable or not, the outbox,
 * the certificates this gateway uses now (a revoked, expired or missing one
 * makes it `degraded`: peers refuse what it signs or presents),
 * certificates (ours and peers') that expire within 30 days, and witnessing:
 * each peer's log consistent or not (an alarm), how far we cosigned it, how
 * far it cosigned ours, and our latest checkpoint with its cosigners.
 */
import type { GatewayContext } from "./context.js";
import type { PeerClient } from "./delivery/peer-client.js";
import { checkpointOrigin } from "./audit/checkpoint.js";
import { witnessName } from "./audit/cosignature.js";
import { logAlarms, witnessedLog } from "./audit/witness.js";
import { cosignedSize } from "./audit/witness-client.js";
import type { OwnCertificate } from "./live-identity.js";

const DAY_MS = 24 * 3600 * 1000;

/** The health report. */
export interface HealthReport {
  readonly authority: string;
  readonly status: "ok" | "degraded";
  readonly peers: ReadonlyArray<{
    authority: string;
    endpoint: string;
    reachable: boolean;
    latencyMs?: number;
    error?: string;
    crlNextUpdate: string | null;
    /** False once the peer showed a checkpoint inconsistent with one it showed before (see `logAlarms`). */
    logConsistent: boolean;
    /** Size of the peer's log this gateway last cosigned as its witness (null: never). */
    witnessedSize: number | null;
    /** Largest size of this gateway's log the peer has cosigned (0: none). */
    cosignedOurSize: number;
  }>;
  /** This gateway's latest checkpoint and the peers whose cosignature it carries. */
  readonly checkpoint: { size: number; cosignedBy: string[] } | null;
  /** Inconsistencies detected in peers' logs (evidence in the log_alarms table, audit kind `log.inconsistent`). */
  readonly logAlarms: ReadonlyArray<{ id: number; origin: string; detectedAt: string; reason: string }>;
  readonly outbox: { pending: number; failed: number; oldestPendingSince: string | null };
  /** The certificates this gateway signs, decrypts and authenticates with now, as its PKI folder says now. */
  readonly identity: readonly OwnCertificate[];
  readonly certificatesExpiringSoon: ReadonlyArray<{ owner: string; use: string; serial: string; notAfter: string }>;
}

/** Probes every peer (GET /peer/v1/hello, short timeout) and reads the store. */
export async function healthReport(ctx: GatewayContext, client: PeerClient): Promise<HealthReport> {
  const now = ctx.now();
  const soon = now.getTime() + 30 * DAY_MS;
  const alarms = logAlarms(ctx.db);
  const peers = await Promise.all(
    ctx.peers.all().map(async (peer) => {
      const started = performance.now();
      const crlNextUpdate = peer.crl.nextUpdate?.toISOString() ?? null;
      const origin = checkpointOrigin(peer.authority);
      const witnessing = {
        logConsistent: !alarms.some((alarm) => alarm.origin === origin),
        witnessedSize: witnessedLog(ctx.db, origin)?.size ?? null,
        cosignedOurSize: cosignedSize(ctx, witnessName(peer.authority)),
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
  const latest = ctx.checkpoints.latest();
  const checkpoint =
    latest === undefined
      ? null
      : {
          size: latest.size,
          cosignedBy: (ctx.db.prepare("SELECT witness FROM audit_cosignatures WHERE size = ? ORDER BY witness").all(latest.size) as { witness: string }[]).map(
            (row) => row.witness,
          ),
        };
  const outbox = ctx.db
    .prepare(
      `SELECT SUM(state = 'pending') AS pending, SUM(state = 'failed') AS failed,
              MIN(CASE WHEN state = 'pending' THEN created_at END) AS oldest FROM outbox`,
    )
    .get() as { pending: number | null; failed: number | null; oldest: string | null };
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
  const degraded =
    identity.some((c) => c.status !== "ok") ||
    peers.some((p) => !p.reachable) || (outbox.failed ?? 0) > 0 || certificatesExpiringSoon.length > 0 || alarms.length > 0;
  return {
    authority: ctx.authority,
    status: degraded ? "degraded" : "ok",
    peers,
    outbox: { pending: outbox.pending ?? 0, failed: outbox.failed ?? 0, oldestPendingSince: outbox.oldest },
    identity,
    certificatesExpiringSoon,
    checkpoint,
    logAlarms: alarms,
  };
}
