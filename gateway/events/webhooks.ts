/**
 * Webhooks: the event feed POSTed to the case system's endpoints
 * (`webhooks` in valise.json), at least once and in order, signed.
 *
 * One singleton job of the job runner (the leader instance delivers; another
 * takes over when it dies). Per endpoint, a cursor in the store
 * (`webhook_cursors.delivered_seq`) says which events were answered 2xx;
 * the job posts the next event after it, one at a time, and moves the cursor
 * only after a 2xx, so a crash or a failover may post an event again but
 * never skips one. Receivers deduplicate by `eventId` (also in the
 * `Valise-Event-Id` header).
 *
 * Each POST carries the event as JSON and `Valise-Signature: t=<unix
 * seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the receiver
 * recomputes it with the shared secret (from `secretFile`, never logged) and
 * refuses a stale `t`, so a forged or replayed POST is told apart.
 *
 * A receiver that answers slowly or never is bounded: an answer not complete
 * within `timeoutSeconds` (default 10) is a failure (`WEBHOOK_DELIVERY_FAILED`,
 * kept in the cursor row), retried with exponential backoff and jitter up to
 * five minutes — the other endpoints, the feed and the gateway go on. Events
 * written before an endpoint was first configured are not posted to it (its
 * cursor starts at the feed's end); the feed has them all.
 */
import http from "node:http";
import https from "node:https";
import { readFile } from "node:fs/promises";
import type { GatewayContext } from "../context.js";
import type { Job } from "../jobs/runner.js";
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from "../webhooks/signature.js";
import { feedEventFromRow, type FeedEvent } from "./feed-events.js";

/** One endpoint, as configured. */
export interface WebhookEndpoint {
  readonly name: string;
  readonly url: string;
  readonly secretFile: string;
  readonly timeoutSeconds?: number;
  readonly kinds?: readonly string[];
}

/** Retry tuning. */
export interface WebhookOptions {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** How often to look for new events (default 250 ms). */
  readonly idleMs: number;
}

const DEFAULTS: WebhookOptions = Object.freeze({ initialBackoffMs: 1000, maxBackoffMs: 5 * 60 * 1000, idleMs: 250 });

/** Most of a receiver's answer read (the rest is dropped): the body means nothing to the sender. */
const ANSWER_BYTES = 4096;

/** Delay before attempt `attempts + 1` (pure; `random` in [0, 1)). */
export function webhookBackoff(attempts: number, options: Pick<WebhookOptions, "initialBackoffMs" | "maxBackoffMs">, random: number): number {
  const base = Math.min(options.maxBackoffMs, options.initialBackoffMs * 2 ** Math.min(attempts, 30));
  return Math.round(base / 2 + (base / 2) * random);
}

/** POSTs `body`; resolves on 2xx, rejects with a reason otherwise (never waits past `timeoutMs`). */
function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === "https:" ? https : http;
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    // One deadline for the whole exchange: a receiver that trickles its answer is cut too.
    const deadline = setTimeout(() => settle(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    const req = client.request(target, { method: "POST", agent: false, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } }, (res) => {
      let read = 0;
      res.on("data", (chunk: Buffer) => {
        read += chunk.byteLength;
        if (read > ANSWER_BYTES) res.destroy();
      });
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        settle(status >= 200 && status < 300 ? undefined : new Error(`answered ${status}`));
      });
      res.on("error", (error) => settle(error));
      res.on("close", () => settle(new Error("the connection closed before the answer ended")));
    });
    req.on("error", (error) => settle(error));
    req.end(body);
  });
}

/** The webhooks job; undefined when no endpoint is configured. */
export function webhookJob(ctx: GatewayContext, options: Partial<WebhookOptions> = {}): Job | undefined {
  const endpoints: readonly WebhookEndpoint[] = ctx.config.webhooks ?? [];
  if (endpoints.length === 0) return undefined;
  const tuning = { ...DEFAULTS, ...options };
  const secrets = new Map<string, string>();

  const secretOf = async (endpoint: WebhookEndpoint): Promise<string> => {
    let secret = secrets.get(endpoint.name);
    if (secret === undefined) {
      secret = (await readFile(endpoint.secretFile, "utf8")).trim();
      if (secret.length < 32) throw new Error(`the secret in ${endpoint.secretFile} is shorter than 32 characters`);
      secrets.set(endpoint.name, secret);
    }
    return secret;
  };

  /** Delivers what is due to one endpoint; returns the delay it wants before its next turn. */
  const serve = async (endpoint: WebhookEndpoint): Promise<number> => {
    await ctx.store.transaction(async (tx) => tx.events.startWebhookCursor(endpoint.name, await tx.events.latestSeq(), ctx.now().toISOString()));
    for (;;) {
      const cursor = (await ctx.store.read((tx) => tx.events.webhookCursor(endpoint.name)))!;
      const wait = Number(cursor.next_attempt_at) - Date.now();
      if (wait > 0) return wait;
      const [row] = await ctx.store.read((tx) => tx.events.after(Number(cursor.delivered_seq), 1));
      if (row === undefined) return tuning.idleMs;
      const event: FeedEvent = feedEventFromRow(row);
      if (endpoint.kinds !== undefined && !endpoint.kinds.includes(event.kind)) {
        await ctx.store.transaction((tx) => tx.events.webhookDelivered(endpoint.name, event.seq, ctx.now().toISOString()));
        continue;
      }
      const body = JSON.stringify(event);
      try {
        const secret = await secretOf(endpoint);
        await post(
          endpoint.url,
          body,
          {
            "content-type": "application/json",
            "user-agent": `valise-gateway/${ctx.authority}`,
            // Signed as alert webhooks are (gateway/webhooks/signature.ts): one verifier serves both.
            [EVENT_ID_HEADER]: event.eventId,
            "valise-event-kind": event.kind,
            [SIGNATURE_HEADER]: signWebhook(secret, body, Math.floor(Date.now() / 1000)),
          },
          (endpoint.timeoutSeconds ?? 10) * 1000,
        );
      } catch (error) {
        const reason = `WEBHOOK_DELIVERY_FAILED: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
        const delay = webhookBackoff(cursor.attempts, tuning, Math.random());
        await ctx.store.transaction((tx) => tx.events.webhookFailed(endpoint.name, reason, Date.now() + delay, ctx.now().toISOString()));
        ctx.logger.warn("webhook delivery failed; retrying", { endpoint: endpoint.name, eventId: event.eventId, seq: event.seq, attempts: cursor.attempts + 1, reason, retryInMs: delay });
        return delay;
      }
      await ctx.store.transaction((tx) => tx.events.webhookDelivered(endpoint.name, event.seq, ctx.now().toISOString()));
    }
  };

  return {
    name: "webhooks",
    singleton: true,
    idleMs: tuning.idleMs,
    run: async () => {
      const delays = await Promise.all(
        endpoints.map((endpoint) =>
          serve(endpoint).catch((error: unknown) => {
            ctx.logger.error("webhook endpoint failed", { endpoint: endpoint.name, reason: error instanceof Error ? error.message : String(error) });
            return tuning.initialBackoffMs;
          }),
        ),
      );
      return Math.max(10, Math.min(...delays));
    },
  };
}
