/**
 * A restored gateway reconciles with every peer once it runs (a singleton
 * job of the job runner): each peer's report is written to
 * `HOME/reconciliation/<PEER>-<time>.json`, and when every peer has been
 * reconciled the restore marker is removed (the next start no longer
 * insists on reaching every peer). A peer that cannot be reached is tried
 * again after the job's idle time; `valise peers reconcile PEER` runs the
 * same thing by hand.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../pki/atomic-file.js";
import type { GatewayContext } from "../context.js";
import type { PeerClient } from "../delivery/peer-client.js";
import type { Job } from "../jobs/runner.js";
import { DEFAULT_CLOCK_SKEW_MS } from "../envelope/limits.js";
import { removeRestoreMarker } from "../backup/restore-marker.js";
import { reconcileWithPeer, type ReconcileDeps, type ReconcileReport } from "./reconcile.js";

/** The reconciliation deps of a running gateway. */
export function reconcileDeps(ctx: GatewayContext, client: PeerClient): ReconcileDeps {
  return {
    store: ctx.store,
    authority: ctx.authority,
    identity: ctx.identity,
    signCertificates: ctx.pki.certificates("sign").map((c) => c.certificate),
    peers: ctx.peers,
    client,
    validator: ctx.validator,
    checkpoints: ctx.checkpoints,
    now: ctx.now,
    clockSkewMs: (ctx.config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_MS / 1000) * 1000,
  };
}

/** Writes a report into `HOME/reconciliation/`; returns its path. */
export function keepReport(home: string, report: ReconcileReport): string {
  const folder = join(home, "reconciliation");
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const path = join(folder, `${report.peer}-${report.at.replace(/[:.]/g, "-")}.json`);
  writeFileAtomic(path, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/** The job that reconciles a restored gateway with every peer, once. */
export function reconcileAfterRestoreJob(ctx: GatewayContext, client: PeerClient, retryMs = 60_000): Job {
  const done = new Set<string>();
  return {
    name: "reconcile-after-restore",
    singleton: true,
    idleMs: retryMs,
    async run() {
      for (const peer of ctx.peers.all()) {
        if (done.has(peer.authority)) continue;
        try {
          const report = await reconcileWithPeer(reconcileDeps(ctx, client), peer.authority);
          const path = keepReport(ctx.paths.root, report);
          done.add(peer.authority);
          ctx.logger.info("reconciled with a peer after the restore", {
            peer: peer.authority,
            report: path,
            receivedAgain: report.receivedAgain.length,
            recovered: report.recovered.length,
            unresolved: report.unresolved.length,
            casesAgree: report.casesAgree,
          });
        } catch (error) {
          ctx.logger.warn("reconciling with a peer after the restore failed; will retry", { peer: peer.authority, code: (error as { code?: unknown }).code, reason: error instanceof Error ? error.message : String(error) });
        }
      }
      if (ctx.peers.all().every((peer) => done.has(peer.authority))) {
        removeRestoreMarker(ctx.paths.root);
        return 24 * 3600_000; // nothing left to do in this run of the gateway
      }
      return retryMs;
    },
  };
}
