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
import type { Job } from "../jobs/runner.js";
import type { DueEnvelope } from "../store/repos/envelopes.js";
import { GatewayError } from "../errors.js";
import { recordDelivered } from "../cases/received.js";
import { resealEnvelope, resealReason } from "./reseal.js";
import { raiseAlert } from "../alerts/alerts.js";
import { fetchPeerRequirements } from "../requirements/fetch.js";

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

type DueRow = DueEnvelope;

/** HTTP statuses after which retrying the same bytes cannot succeed. */
const PERMANENT_STATUSES = new Set([400, 413, 422]);

/**
 * A 409 conflicts with the peer's state as it was, and that state may be our
 * own envelope being stored by another delivery in flight (a retry racing the
 * first attempt, a restart): the peer may hold the envelope. So a 409 is
 * retried — a redelivery of stored bytes is answered with the receipt — and
 * an envelope is given up only when this many attempts in a row were
 * answered 409 (its give-up time aside). Attempts that found the peer
 * unreachable do not count: they say nothing of its state. The count is
 * kept per instance (a cache: another instance counts afresh, which only
 * delays giving up).
 */
const CONFLICT_ATTEMPTS = 3;

class DeliveryFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/**
 * Delivers the outbox: a row job of the job runner. Any instance may
 * deliver; each envelope is claimed under a lease (`lease_owner`,
 * `lease_expires_at`), so two instances do not deliver one envelope at once
 * and an instance that dies is taken over when its leases expire. Should a
 * lease run out mid-delivery, the receiver answers a second delivery with
 * the same receipt and only the first outcome is recorded.
 */
export class DeliveryWorker implements Job {
  readonly name = "delivery";
  readonly singleton = false;
  readonly idleMs: number;
  readonly #ctx: GatewayContext;
  readonly #client: PeerClient;
  readonly #options: DeliveryOptions;
  readonly #leaseMs: number;
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Attempts in a row answered 409, by envelope. */
  readonly #conflicts = new Map<string, number>();

  constructor(ctx: GatewayContext, client: PeerClient, options: Partial<DeliveryOptions> = {}) {
    this.#ctx = ctx;
    this.#client = client;
    this.#options = { ...DEFAULT_DELIVERY_OPTIONS, ...options };
    this.idleMs = this.#options.idlePollMs;
    this.#leaseMs = ctx.jobs.leaseMs;
  }

  /** Looks for due work now. */
  wake(): void {
    this.#ctx.jobs.wake(this.name);
  }

  /** Waits for deliveries in flight to settle (the runner's stop). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#inFlight.values()]);
  }

  /** Envelopes being delivered right now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** One turn: claims due envelopes up to the concurrency and starts them; says when the next is due. */
  async run(): Promise<number> {
    const ctx = this.#ctx;
    const free = this.#options.concurrency - this.#inFlight.size;
    if (free > 0) {
      const rows = await ctx.store.transaction((tx) => tx.outbox.claimDue(ctx.jobs.owner, ctx.now().getTime(), this.#leaseMs, free, [...this.#inFlight.keys()], Date.now()));
      for (const row of rows) {
        const delivery = this.#deliver(row).finally(() => {
          this.#inFlight.delete(row.envelope_id);
          this.wake();
        });
        this.#inFlight.set(row.envelope_id, delivery);
      }
    }
    if (this.#inFlight.size > 0) return this.#options.idlePollMs;
    const next = await ctx.store.read((tx) => tx.outbox.nextDue());
    return next === undefined ? this.#options.idlePollMs : Math.max(0, Math.min(this.#options.idlePollMs, next - ctx.now().getTime()));
  }

  async #deliver(row: DueRow): Promise<void> {
    const ctx = this.#ctx;
    try {
      // Retrying bytes signed by a revoked key cannot succeed: re-seal them instead.
      const reseal = await ctx.store.read((tx) => resealReason(ctx, tx, row));
      if (reseal !== undefined) {
        await resealEnvelope(ctx, row.envelope_id, reseal);
        return;
      }
      const peer = ctx.peers.get(row.peer);
      // The body is read only now: due rows are listed often, bodies are large.
      const wire = await ctx.store.read((tx) => tx.envelopes.wire(row.envelope_id));
      if (wire === undefined) throw new GatewayError("STORE_CORRUPT", `the outbox names envelope ${row.envelope_id}, which has no body`);
      const response = await this.#client.request(peer, "POST", "/peer/v1/envelopes", Buffer.from(wire, "utf8"));
      if (response.status !== 200 && response.status !== 201) {
        const { code, message } = errorOf(response.body);
        // The peer's requirements changed since the request was checked: fetch them now, so the caseworker's resubmission is checked against them.
        if (code === "REQUIREMENTS_OUTDATED") {
          await fetchPeerRequirements(ctx, this.#client, peer).catch((error: unknown) =>
            ctx.logger.warn("fetching a peer's requirements after REQUIREMENTS_OUTDATED failed", { peer: peer.authority, code: isValiseError(error) ? error.code : "PEER_UNREACHABLE" }),
          );
        }
        const conflicts = response.status === 409 ? (this.#conflicts.get(row.envelope_id) ?? 0) + 1 : 0;
        if (conflicts > 0) this.#conflicts.set(row.envelope_id, conflicts);
        else this.#conflicts.delete(row.envelope_id);
        const permanent = PERMANENT_STATUSES.has(response.status) || conflicts >= CONFLICT_ATTEMPTS;
        if (permanent) this.#conflicts.delete(row.envelope_id);
        throw new DeliveryFailure(code, `${peer.authority} answered ${response.status} ${code}: ${message}`, permanent);
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
      const recorded = await ctx.store.transaction(async (tx) => {
        const now = ctx.now();
        await tx.peerLogs.recordCheckpoint({ origin: verified.receipt.log!.origin, size: logged.size, root: logged.root, note: logged.note, receivedAt: now.toISOString() });
        // Once, whatever the number of instances: only the first verified receipt moves the envelope out of `pending`.
        if (!(await tx.outbox.markDelivered(row.envelope_id, now.toISOString()))) return false;
        await tx.envelopes.setReceipt(row.envelope_id, receipt as string);
        await appendEntry(tx, {
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
            ...(verified.receipt.requirements === undefined ? {} : { requirements: { ...verified.receipt.requirements } }),
          },
        });
        await recordDelivered(tx, {
          caseId: row.case_id,
          envelopeId: row.envelope_id,
          envelopeDigest: row.digest,
          type: row.type,
          receivedAt: verified.receipt.receivedAt,
          peer: peer.authority,
          now,
          // The peer found the request short of its requirements: its clock has not started, nor does ours.
          clockStarts: verified.receipt.requirements?.compliant !== false,
        });
        return true;
      });
      if (!recorded) return;
      ctx.metrics.deliveryAttempts.inc({ outcome: "delivered" });
      ctx.metrics.envelopesSent.inc({ type: row.type });
      const latency = (ctx.now().getTime() - Date.parse(row.created_at)) / 1000;
      ctx.metrics.deliveryLatency.observe(latency);
      ctx.metrics.peerDeliveries.inc({ peer: peer.authority, outcome: "delivered" });
      ctx.metrics.peerDeliveryLatency.observe({ peer: peer.authority }, latency);
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
    // The give-up clock runs from the envelope's creation, or from an operator's retry.
    const age = now.getTime() - Date.parse(row.retry_from ?? row.created_at);
    const giveUp = (error instanceof DeliveryFailure && error.permanent) || age >= this.#options.giveUpAfterMs;
    ctx.metrics.deliveryAttempts.inc({ outcome: giveUp ? "failed" : "retry" });
    ctx.metrics.peerDeliveries.inc({ peer: row.peer, outcome: giveUp ? "failed" : "retry" });
    ctx.metrics.peerDeliveryFailures.inc({ peer: row.peer, code });
    if (giveUp) {
      const marked = await ctx.store.transaction(async (tx) => {
        if (!(await tx.outbox.markFailed(row.envelope_id, attempts, `${code}: ${message}`, now.toISOString()))) return false;
        await appendEntry(tx, {
          kind: "delivery.failed",
          actor: "gateway",
          time: now,
          caseId: row.case_id,
          envelopeId: row.envelope_id,
          envelopeDigest: row.digest,
          details: { to: row.peer, code, attempts },
        });
        await raiseAlert(tx, ctx.config, {
          type: "alert.delivery.failed",
          key: `${row.envelope_id}:${attempts}`,
          time: now,
          data: { envelopeId: row.envelope_id, caseId: row.case_id, type: row.type, peer: row.peer, code, attempts, lastError: `${code}: ${message}`.slice(0, 500) },
        });
        return true;
      });
      if (!marked) return;
      ctx.logger.error("delivery failed for good", { envelopeId: row.envelope_id, caseId: row.case_id, to: row.peer, code, attempts, reason: message });
      return;
    }
    const ceiling = Math.min(this.#options.maxBackoffMs, this.#options.initialBackoffMs * 2 ** Math.min(attempts - 1, 30));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // "equal jitter": spread retries of many envelopes
    await ctx.store.transaction((tx) => tx.outbox.reschedule(row.envelope_id, attempts, now.getTime() + Math.round(delay), `${code}: ${message}`));
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

