/**
 * Operator alerts: what needs a person, sent to the webhooks of
 * `alerts.webhooks` as signed JSON events (gateway/webhooks/), at least once,
 * each with an event id the receiver deduplicates on.
 *
 * | type | raised when | key (one event per) |
 * | --- | --- | --- |
 * | alert.deadline.missed | a case clock passes its due time (cases/deadlines.ts) | case, clock, hop |
 * | alert.log.inconsistent | a peer's checkpoint contradicts one it showed before (audit/witness.ts) | alarm |
 * | alert.delivery.failed | an envelope is given up after the give-up time or a permanent refusal (delivery/worker.ts) | envelope and attempt |
 * | alert.certificate.expiring | a current or previous certificate of this authority expires within `certificateExpiryDays` | certificate serial |
 * | alert.outbox.stuck | the oldest pending envelope has waited longer than `outboxStuckSeconds` | envelope and since when it waits |
 *
 * The first three are queued in the transaction that records the event
 * itself; the last two by a check every `checkIntervalSeconds` on the
 * leader instance. Event data carries ids, codes and times only.
 */
import type { GatewayConfig } from "../config/config.js";
import type { GatewayContext } from "../context.js";
import type { Job } from "../jobs/runner.js";
import type { Tx } from "../store/store.js";
import { enqueueWebhookEvent, type WebhookTarget } from "../webhooks/events.js";

/** Every alert type, in the order of the table above. */
export const ALERT_TYPES = Object.freeze([
  "alert.deadline.missed",
  "alert.log.inconsistent",
  "alert.delivery.failed",
  "alert.certificate.expiring",
  "alert.outbox.stuck",
] as const);

/** One of {@link ALERT_TYPES}. */
export type AlertType = (typeof ALERT_TYPES)[number];

/** Defaults of the `alerts` settings. */
export const ALERT_DEFAULTS = Object.freeze({ outboxStuckSeconds: 3600, certificateExpiryDays: 30, checkIntervalSeconds: 60 });

/** An alert to raise. */
export interface Alert {
  readonly type: AlertType;
  /** Names the occurrence (see the table). */
  readonly key: string;
  readonly time: Date;
  readonly data: Readonly<Record<string, unknown>>;
}

/** The webhooks of the configuration (without their secrets). */
export function alertTargets(config: GatewayConfig): WebhookTarget[] {
  return (config.alerts?.webhooks ?? []).map((w) => ({ name: w.name, url: w.url, ...(w.events === undefined ? {} : { events: w.events }) }));
}

/** Queues `alert` for every subscribed webhook (none configured: nothing). Run inside the transaction that records the event. */
export async function raiseAlert(tx: Tx, config: GatewayConfig, alert: Alert): Promise<void> {
  const targets = alertTargets(config);
  if (targets.length === 0) return;
  await enqueueWebhookEvent(tx, targets, { type: alert.type, key: alert.key, time: alert.time, authority: config.authority, data: alert.data });
}

/**
 * The periodic checks (stuck outbox, own certificates expiring): a
 * singleton job, so one instance raises them; the event ids make a repeated
 * check harmless.
 */
export function alertCheckJob(ctx: GatewayContext): Job {
  const everyMs = (ctx.config.alerts?.checkIntervalSeconds ?? ALERT_DEFAULTS.checkIntervalSeconds) * 1000;
  return {
    name: "alert-checks",
    singleton: true,
    idleMs: everyMs,
    async run() {
      await checkAlerts(ctx);
      return everyMs;
    },
  };
}

/** Raises the stuck-outbox and expiring-certificate alerts due now. */
export async function checkAlerts(ctx: GatewayContext): Promise<void> {
  if (alertTargets(ctx.config).length === 0) return;
  const now = ctx.now();
  const stuckMs = (ctx.config.alerts?.outboxStuckSeconds ?? ALERT_DEFAULTS.outboxStuckSeconds) * 1000;
  const expiryMs = (ctx.config.alerts?.certificateExpiryDays ?? ALERT_DEFAULTS.certificateExpiryDays) * 24 * 3600 * 1000;
  const expiring = ctx.pki.list(now).filter((row) => (row.status === "current" || row.status === "previous") && Date.parse(row.notAfter) - now.getTime() < expiryMs);
  await ctx.store.transaction(async (tx) => {
    const oldest = await tx.outbox.oldestPending();
    if (oldest !== undefined) {
      const since = oldest.retry_from ?? oldest.created_at;
      const waitedMs = now.getTime() - Date.parse(since);
      if (waitedMs >= stuckMs) {
        await raiseAlert(tx, ctx.config, {
          type: "alert.outbox.stuck",
          key: `${oldest.envelope_id}:${since}`,
          time: now,
          data: { envelopeId: oldest.envelope_id, peer: oldest.peer, waitingSince: since, waitedSeconds: Math.floor(waitedMs / 1000), attempts: Number(oldest.attempts), lastError: oldest.last_error, pending: await tx.outbox.pendingCount() },
        });
      }
    }
    for (const row of expiring) {
      await raiseAlert(tx, ctx.config, {
        type: "alert.certificate.expiring",
        key: row.serial,
        time: now,
        data: { use: row.use, serial: row.serial, status: row.status, notAfter: row.notAfter, daysLeft: Math.floor((Date.parse(row.notAfter) - now.getTime()) / (24 * 3600 * 1000)) },
      });
    }
  });
}
