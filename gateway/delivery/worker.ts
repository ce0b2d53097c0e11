/**
 * The delivery worker: takes due envelopes from the outbox, POSTs them to the
 * peer, and stops at a verified receipt. Failures retry with exponential
 * backoff and jitter, always with the same envelope (same id, same bytes);
 * after the give-up time the envelope is marked `failed`, with an audit entry
 * and an error log line. Emergency envelopes go first. An envelope signed by
 * a key the own CRL now revokes is not sent again: it is re-sealed under the
 * current key as a new envelope (./reseal.ts), which is then delivered.
 */
import { verifyReceipt } from "../envelope/receipt.js";
import { appendEntry } from "../audit/append.js";
import { verifyLogPosition } from "../audit/checkpoints.js";
import { isValiseError } from "../../pki/errors.js";
import type { GatewayContext } from "../context.js";
import type { PeerClient } from "./peer-client.js";
import { statement } from "../store/statements.js";
import { recordDelivered } from "../cases/received.js";
import { resealEnvelope, resealReason } from "./reseal.js";

/** Tuning of the worker. */
export interface DeliveryOptions {
  /** First retry delay (default 1 s); doubles per attempt. */
  readonly initialBackoffMs: number;
  /** Ceiling of the retry delay (default 5 min). */
  readonly maxBackoffMs: number;
  /** After this long in the outbox an envelope is marked failed (default 7 days). */
  readonly giveUpAfterMs: number;
  /** Deliveries in flight at once (default 64). */
  readonly concurrency: number;
  /** How often to look for due work when idle (default 1 s). */
  readonly idlePollMs: number;
}

/** Defaults of {@link DeliveryOptions}. */
export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = Object.freeze({
  initialBackoffMs: 1000,
  maxBackoffMs: 5 * 60 * 1000,
  giveUpAfterMs: 7 * 24 * 3600 * 1000,
  concurrency: 64,
  idlePollMs: 1000,
});

interface DueRow {
  envelope_id: string;
  peer: string;
  attempts: number;
  created_at: string;
  digest: string;
  case_id: string;
  type: string;
  signer_kid: string;
  in_reply_to: string | null;
}

/** HTTP statuses after which retrying the same bytes cannot succeed. */
const PERMANENT_STATUSES = new Set([400, 409, 413, 422]);

class DeliveryFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** Delivers the outbox. */
export class DeliveryWorker {
  readonly #ctx: GatewayContext;
  readonly #client: PeerClient;
  readonly #options: DeliveryOptions;
  readonly #inFlight = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #scheduled = false;
  #running = false;

  constructor(ctx: GatewayContext, client: PeerClient, options: Partial<DeliveryOptions> = {}) {
    this.#ctx = ctx;
    this.#client = client;
    this.#options = { ...DEFAULT_DELIVERY_OPTIONS, ...options };
  }

  /** Starts delivering (picks up whatever the outbox held before a restart). */
  start(): void {
    this.#running = true;
    this.wake();
  }

  /** Looks for due work now. */
  wake(): void {
    if (!this.#running || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#tick();
    });
  }

  /** Stops taking work and waits for deliveries in flight to settle. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await Promise.allSettled([...this.#inFlight.values()]);
  }

  /** Envelopes being delivered right now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  #tick(): void {
    if (!this.#running) return;
    const free = this.#options.concurrency - this.#inFlight.size;
    if (free <= 0) return; // a settling delivery wakes us
    const rows = statement(this.#ctx.db, 
        `SELECT o.envelope_id, o.peer, o.attempts, o.created_at, e.digest, e.case_id, e.type, e.signer_kid, e.in_reply_to
           FROM outbox o JOIN envelopes e USING (envelope_id)
          WHERE o.state = 'pending' AND o.next_attempt_at <= ?
          ORDER BY o.rank, o.next_attempt_at
          LIMIT ?`,
      )
      .all(this.#ctx.now().getTime(), free + this.#inFlight.size) as DueRow[];
    let started = 0;
    for (const row of rows) {
      if (this.#inFlight.has(row.envelope_id) || started >= free) continue;
      started += 1;
      const delivery = this.#deliver(row).finally(() => {
        this.#inFlight.delete(row.envelope_id);
        this.wake();
      });
      this.#inFlight.set(row.envelope_id, delivery);
    }
    if (this.#inFlight.size === 0) this.#sleepUntilDue();
  }

  #sleepUntilDue(): void {
    clearTimeout(this.#timer);
    const next = statement(this.#ctx.db, "SELECT MIN(next_attempt_at) AS next FROM outbox WHERE state = 'pending'").get() as { next: number | null };
    const wait = next.next === null ? this.#options.idlePollMs : Math.max(0, Math.min(this.#options.idlePollMs, next.next - this.#ctx.now().getTime()));
    this.#timer = setTimeout(() => this.wake(), wait);
    this.#timer.unref();
  }

  async #deliver(row: DueRow): Promise<void> {
    const ctx = this.#ctx;
    try {
      // Retrying bytes signed by a revoked key cannot succeed: re-seal them instead.
      const reseal = resealReason(ctx, row);
      if (reseal !== undefined) {
        await resealEnvelope(ctx, row.envelope_id, reseal);
        return;
      }
      const peer = ctx.peers.get(row.peer);
      // The body is read only now: due rows are listed often, bodies are large.
      const { wire } = statement(ctx.db, "SELECT wire FROM envelope_bodies WHERE envelope_id = ?").get(row.envelope_id) as { wire: string };
      const response = await this.#client.request(peer, "POST", "/peer/v1/envelopes", Buffer.from(wire, "utf8"));
      if (response.status !== 200 && response.status !== 201) {
        const { code, message } = errorOf(response.body);
        throw new DeliveryFailure(code, `${peer.authority} answered ${response.status} ${code}: ${message}`, PERMANENT_STATUSES.has(response.status));
      }
      const receipt = (JSON.parse(response.body.toString("utf8")) as { receipt?: unknown }).receipt;
      const verified = await verifyReceipt(receipt, {
        expected: { envelopeId: row.envelope_id, envelopeDigest: row.digest, from: ctx.authority, to: peer.authority },
        trustFor: (authority) => ctx.peers.trustFor(authority),
        now: ctx.now(),
        parsedCertificates: ctx.certificateCache,
      });
      // The receiver's signed word that the envelope is in its log.
      if (verified.receipt.log === undefined) throw new DeliveryFailure("RECEIPT_MALFORMED", `${peer.authority}'s receipt has no log position`, false);
      const logged = verifyLogPosition(verified.receipt.log, {
        receiver: peer.authority,
        envelopeId: row.envelope_id,
        envelopeDigest: row.digest,
        logKeys: peer.certificates.filter((c) => c.use === "log").map((c) => c.certificate.publicKey),
      });
      await ctx.commits.run(() => {
        const now = ctx.now();
        statement(ctx.db, "INSERT OR IGNORE INTO peer_checkpoints (origin, size, root, note, received_at) VALUES (?, ?, ?, ?, ?)")
          .run(verified.receipt.log!.origin, logged.size, logged.root, logged.note, now.toISOString());
        statement(ctx.db, "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, finished_at = ?, last_error = NULL WHERE envelope_id = ?").run(now.toISOString(), row.envelope_id);
        statement(ctx.db, "UPDATE envelopes SET receipt = ? WHERE envelope_id = ?").run(receipt as string, row.envelope_id);
        appendEntry(ctx.db, {
          kind: "receipt.received",
          actor: `peer:${peer.authority}`,
          time: now,
          caseId: row.case_id,
          envelopeId: row.envelope_id,
          envelopeDigest: row.digest,
          details: {
            receivedAt: verified.receipt.receivedAt,
            signerKid: verified.signer.kid,
            attempts: row.attempts + 1,
            peerLog: { origin: verified.receipt.log!.origin, index: verified.receipt.log!.index, checkpointSize: logged.size },
          },
        });
        recordDelivered(ctx.db, { caseId: row.case_id, envelopeId: row.envelope_id, envelopeDigest: row.digest, type: row.type, receivedAt: verified.receipt.receivedAt, peer: peer.authority, now });
      });
      ctx.metrics.deliveryAttempts.inc({ outcome: "delivered" });
      ctx.metrics.envelopesSent.inc({ type: row.type });
      ctx.metrics.deliveryLatency.observe((ctx.now().getTime() - Date.parse(row.created_at)) / 1000);
      ctx.logger.info("envelope delivered", { envelopeId: row.envelope_id, caseId: row.case_id, to: peer.authority, attempts: row.attempts + 1 });
    } catch (error) {
      await this.#recordFailure(row, error);
    }
  }

  async #recordFailure(row: DueRow, error: unknown): Promise<void> {
    const ctx = this.#ctx;
    const now = ctx.now();
    const code = error instanceof DeliveryFailure || isValiseError(error) ? error.code : "PEER_UNREACHABLE";
    const message = error instanceof Error ? error.message : String(error);
    const attempts = row.attempts + 1;
    const age = now.getTime() - Date.parse(row.created_at);
    const giveUp = (error instanceof DeliveryFailure && error.permanent) || age >= this.#options.giveUpAfterMs;
    ctx.metrics.deliveryAttempts.inc({ outcome: giveUp ? "failed" : "retry" });
    if (giveUp) {
      await ctx.commits.run(() => {
        statement(ctx.db, "UPDATE outbox SET state = 'failed', attempts = ?, last_error = ?, finished_at = ? WHERE envelope_id = ?")
          .run(attempts, `${code}: ${message}`, now.toISOString(), row.envelope_id);
        appendEntry(ctx.db, {
          kind: "delivery.failed",
          actor: "gateway",
          time: now,
          caseId: row.case_id,
          envelopeId: row.envelope_id,
          envelopeDigest: row.digest,
          details: { to: row.peer, code, attempts },
        });
      });
      ctx.logger.error("delivery failed for good", { envelopeId: row.envelope_id, caseId: row.case_id, to: row.peer, code, attempts, reason: message });
      return;
    }
    const ceiling = Math.min(this.#options.maxBackoffMs, this.#options.initialBackoffMs * 2 ** Math.min(attempts - 1, 30));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // "equal jitter": spread retries of many envelopes
    await ctx.commits.run(() =>
      statement(ctx.db, "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE envelope_id = ?")
        .run(attempts, now.getTime() + Math.round(delay), `${code}: ${message}`, row.envelope_id),
    );
    ctx.logger.warn("delivery failed, will retry", { envelopeId: row.envelope_id, to: row.peer, code, attempts, retryInMs: Math.round(delay) });
  }
}

function errorOf(body: Buffer): { code: string; message: string } {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === "string") return { code: parsed.error.code, message: String(parsed.error.message ?? "") };
  } catch {
    // not JSON: fall through
  }
  return { code: "PEER_UNREACHABLE", message: body.toString("utf8").slice(0, 200) };
}

