/**
 * Queuing a webhook event: one row per subscribed target, in the caller's
 * transaction, so the event is durable exactly when what it reports is
 * committed (and vanishes with it on rollback). Delivery is at least once
 * (gateway/webhooks/sender.ts): receivers deduplicate by the event id.
 *
 * Event ids are derived from the event's type and a key naming the
 * occurrence (an envelope and its attempt, an alarm id, a certificate
 * serial): the same occurrence noticed twice — by two instances, or by a
 * check that runs every minute — is queued once.
 *
 * @example
 * await ctx.store.transaction(async (tx) => {
 *   await tx.outbox.markFailed(…);
 *   await enqueueWebhookEvent(tx, targets, { type: "alert.delivery.failed", key: `${envelopeId}:${attempts}`, time: now, authority, data: { envelopeId } });
 * });
 */
import { createHash } from "node:crypto";
import type { Tx } from "../store/store.js";

/** Where events go: a webhook of valise.json (its secret stays with the sender). */
export interface WebhookTarget {
  /** A short name, shown in logs and stored with each delivery (never the URL, which may embed a credential). */
  readonly name: string;
  readonly url: string;
  /** The event types it receives (all when absent). */
  readonly events?: readonly string[];
}

/** An event to send. */
export interface WebhookEvent {
  /** Dotted type, e.g. `alert.delivery.failed`. */
  readonly type: string;
  /** Names this occurrence; with the type it makes the event id. */
  readonly key: string;
  readonly time: Date;
  /** The authority whose gateway sends it. */
  readonly authority: string;
  /** What happened: ids, codes and times only, never document content, keys or tokens. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** The id of the occurrence `key` of events of `type`: `evt_` and 32 hex digits. */
export function eventIdOf(type: string, key: string): string {
  return `evt_${createHash("sha256").update(type).update("\u0000").update(key).digest("hex").slice(0, 32)}`;
}

/** The JSON body every target receives for `event`. */
export function eventBody(event: WebhookEvent): string {
  return JSON.stringify({ id: eventIdOf(event.type, event.key), type: event.type, time: event.time.toISOString(), authority: event.authority, data: event.data });
}

/** Queues `event` for each target subscribed to its type; returns the event id. Run inside a transaction. */
export async function enqueueWebhookEvent(tx: Tx, targets: readonly WebhookTarget[], event: WebhookEvent): Promise<string> {
  const eventId = eventIdOf(event.type, event.key);
  const body = eventBody(event);
  for (const target of targets) {
    if (target.events !== undefined && !target.events.includes(event.type)) continue;
    await tx.webhooks.enqueue({ eventId, target: target.name, url: target.url, kind: event.type, body, at: event.time });
  }
  return eventId;
}
