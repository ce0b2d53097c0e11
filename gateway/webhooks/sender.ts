/**
 * The webhook sender: POSTs queued events (webhook_deliveries) to their
 * targets, signed with each target's secret (signature.ts), until the
 * target answers 2xx. A row job of the job runner: any instance may send,
 * each row is claimed under a lease, so one event is not sent by two
 * instances at once (should a lease run out mid-request, the receiver sees
 * the same event id twice and deduplicates: delivery is at least once).
 *
 * Failures (no answer, a timeout, any non-2xx) retry with exponential
 * backoff and jitter, always with the same body and event id; after the
 * give-up time the row is `failed`, with an error log line. The request is
 * bounded by a timeout: a receiver that never answers does not hold a slot.
 */
import { readFileSync } from "node:fs";
import type { Job } from "../jobs/runner.js";
import type { Store } from "../store/store.js";
import type { Logger } from "../log.js";
import type { DueWebhookDelivery } from "../store/repos/webhooks.js";
import { GatewayError } from "../errors.js";
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from "./signature.js";

/** Tuning of the sender. */
export interface WebhookSenderOptions {
  /** First retry delay (default 1 s); doubles per attempt. */
  readonly initialBackoffMs: number;
  /** Ceiling of the retry delay (default 10 min). */
  readonly maxBackoffMs: number;
  /** After this long an event is given up (default 24 h). */
  readonly giveUpAfterMs: number;
  /** Requests in flight at once (default 8). */
  readonly concurrency: number;
  /** How often to look for due events when idle (default 1 s). */
  readonly idlePollMs: number;
  /** How long one request may take (default 10 s). */
  readonly timeoutMs: number;
}

/** Defaults of {@link WebhookSenderOptions}. */
export const DEFAULT_WEBHOOK_OPTIONS: WebhookSenderOptions = Object.freeze({
  initialBackoffMs: 1000,
  maxBackoffMs: 10 * 60 * 1000,
  giveUpAfterMs: 24 * 3600 * 1000,
  concurrency: 8,
  idlePollMs: 1000,
  timeoutMs: 10_000,
});

/** A target's name and its HMAC secret. */
export type WebhookSecrets = ReadonlyMap<string, Buffer>;

/** The shortest secret accepted: 16 bytes. */
const MIN_SECRET_BYTES = 16;

/**
 * Reads each target's secret from its `secretFile` (e.g. a systemd
 * credential); `CONFIG_INVALID` when one cannot be read or is shorter than
 * 16 bytes. Trailing newlines are not part of the secret.
 */
export function loadWebhookSecrets(targets: ReadonlyArray<{ readonly name: string; readonly secretFile: string }>): WebhookSecrets {
  const secrets = new Map<string, Buffer>();
  for (const target of targets) {
    let text: string;
    try {
      text = readFileSync(target.secretFile, "utf8").replace(/\r?\n+$/, "");
    } catch (cause) {
      throw new GatewayError("CONFIG_INVALID", `cannot read the secret of webhook ${target.name} (alerts.webhooks secretFile ${target.secretFile})`, { cause });
    }
    if (Buffer.byteLength(text) < MIN_SECRET_BYTES) {
      throw new GatewayError("CONFIG_INVALID", `the secret of webhook ${target.name} is shorter than ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -hex 32 > ${target.secretFile})`);
    }
    secrets.set(target.name, Buffer.from(text, "utf8"));
  }
  return secrets;
}

/** What the sender needs of its gateway. */
export interface WebhookSenderContext {
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => Date;
  /** This instance's name in leases. */
  readonly owner: string;
  readonly leaseMs: number;
  /** Runs the sender again now (the job runner's wake). */
  readonly wake: () => void;
}

/** Sends webhook deliveries: a row job of the job runner. */
export class WebhookSender implements Job {
  readonly name = "alert-webhooks";
  readonly singleton = false;
  readonly idleMs: number;
  readonly #ctx: WebhookSenderContext;
  readonly #secrets: WebhookSecrets;
  readonly #options: WebhookSenderOptions;
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(ctx: WebhookSenderContext, secrets: WebhookSecrets, options: Partial<WebhookSenderOptions> = {}) {
    this.#ctx = ctx;
    this.#secrets = secrets;
    this.#options = { ...DEFAULT_WEBHOOK_OPTIONS, ...options };
    this.idleMs = this.#options.idlePollMs;
  }

  /** Waits for requests in flight (the runner's stop). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#inFlight.values()]);
  }

  /** One turn: claims due deliveries up to the concurrency and starts them; says when to run again. */
  async run(): Promise<number> {
    const ctx = this.#ctx;
    const free = this.#options.concurrency - this.#inFlight.size;
    if (free > 0) {
      const rows = await ctx.store.transaction((tx) => tx.webhooks.claimDue(ctx.owner, Date.now(), ctx.leaseMs, free, [...this.#inFlight.keys()]));
      for (const row of rows) {
        const key = `${row.event_id}\n${row.target}`;
        this.#inFlight.set(
          key,
          this.#send(row).finally(() => {
            this.#inFlight.delete(key);
            ctx.wake();
          }),
        );
      }
    }
    if (this.#inFlight.size > 0) return this.#options.idlePollMs;
    const next = await ctx.store.read((tx) => tx.webhooks.nextDue());
    return next === undefined ? this.#options.idlePollMs : Math.max(0, Math.min(this.#options.idlePollMs, next - Date.now()));
  }

  async #send(row: DueWebhookDelivery): Promise<void> {
    const ctx = this.#ctx;
    const attempts = Number(row.attempts) + 1;
    let failure: string;
    const secret = this.#secrets.get(row.target);
    if (secret === undefined) {
      failure = "the webhook is no longer configured (alerts.webhooks)";
    } else {
      try {
        const response = await fetch(row.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "valise-webhooks/1",
            [EVENT_ID_HEADER]: row.event_id,
            // The receiver checks the time against its own clock: the wall clock, not an injected one.
            [SIGNATURE_HEADER]: signWebhook(secret, row.body, Math.floor(Date.now() / 1000)),
          },
          body: row.body,
          redirect: "manual", // a redirect is not followed: the signed body goes to the configured URL only
          signal: AbortSignal.timeout(this.#options.timeoutMs),
        });
        await response.body?.cancel().catch(() => undefined);
        if (response.status >= 200 && response.status < 300) {
          await ctx.store.transaction((tx) => tx.webhooks.markDelivered(row.event_id, row.target, attempts, ctx.now().toISOString()));
          ctx.logger.info("webhook delivered", { eventId: row.event_id, target: row.target, type: row.kind, attempts });
          return;
        }
        failure = `answered ${response.status}`;
      } catch (error) {
        failure = error instanceof Error ? (error.name === "TimeoutError" ? `no answer within ${this.#options.timeoutMs} ms` : error.message) : String(error);
      }
    }
    const now = ctx.now();
    if (secret === undefined || now.getTime() - Date.parse(row.created_at) >= this.#options.giveUpAfterMs) {
      if (await ctx.store.transaction((tx) => tx.webhooks.markFailed(row.event_id, row.target, attempts, failure, now.toISOString()))) {
        ctx.logger.error("webhook failed for good", { eventId: row.event_id, target: row.target, type: row.kind, attempts, reason: failure });
      }
      return;
    }
    const ceiling = Math.min(this.#options.maxBackoffMs, this.#options.initialBackoffMs * 2 ** Math.min(attempts - 1, 30));
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    await ctx.store.transaction((tx) => tx.webhooks.reschedule(row.event_id, row.target, attempts, Date.now() + delay, failure));
    ctx.logger.warn("webhook failed, will retry", { eventId: row.event_id, target: row.target, type: row.kind, attempts, retryInMs: delay, reason: failure });
  }
}
