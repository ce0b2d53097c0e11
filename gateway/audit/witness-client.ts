/**
 * The log side of witnessing: this gateway submits its latest checkpoint to
 * every peer's `POST /peer/v1/witness/add-checkpoint` (C2SP tlog-witness
 * add-checkpoint) with a consistency proof from the size that peer last
 * cosigned, and keeps the cosignatures it gets back (after verifying them
 * with the peer's `log` key) in `audit_cosignatures`.
 *
 * It is a singleton job of the job runner (gateway/jobs/runner.ts): only
 * the leader instance signs and submits. After activity (within
 * `activityPollMs` of the log growing) it signs a checkpoint over everything
 * committed and submits it to every peer that has not cosigned that size; a
 * peer that failed is retried with exponential backoff (from
 * `activityPollMs` up to `periodMs`); and every `periodMs` it submits
 * regardless. Peers' answers are hostile input: a 409 body is parsed
 * strictly, and a cosignature is kept only if it verifies over our own
 * checkpoint.
 */
import type { GatewayContext } from "../context.js";
import type { PeerClient, PeerResponse } from "../delivery/peer-client.js";
import type { Peer } from "../peers/directory.js";
import { GatewayError } from "../errors.js";
import type { Job } from "../jobs/runner.js";
import type { StoredCheckpoint } from "./checkpoints.js";
import { withStoredTree } from "./stored-tree.js";
import { verifyCosignature, witnessName } from "./cosignature.js";
import { consistencyProof } from "./merkle.js";
import { appendSignatureLines, formatSignatureLine, parseSignatureLines } from "./note.js";
import { ADD_CHECKPOINT_PATH, formatAddCheckpointRequest } from "./witness-request.js";
import { peerLogKeys } from "./witness.js";
import { announceEpoch } from "./new-epoch.js";

/** Path of the witness endpoint on a peer (tlog-witness `<submission prefix>/add-checkpoint`). */
export const WITNESS_PATH = ADD_CHECKPOINT_PATH;

/** Scheduling of {@link WitnessClient}. */
export interface WitnessClientOptions {
  /** How often to look for log growth and peers to (re)submit to (ms); default 1000. */
  readonly activityPollMs?: number;
  /** How often to sign (if the log grew) and submit regardless (ms); default 60 000. */
  readonly periodMs?: number;
}

/** What one submission to one peer gave. */
export interface WitnessSubmission {
  readonly peer: string;
  /** `cosigned` (stored), `current` (already cosigned at this size), or `failed`. */
  readonly outcome: "cosigned" | "current" | "failed";
  readonly size: number;
  /** The error code when failed. */
  readonly code?: string;
}

/** Submits this gateway's checkpoints to its peers for cosigning. */
export class WitnessClient implements Job {
  readonly name = "witness";
  readonly singleton = true;
  readonly idleMs: number;
  readonly firstRunMs: number;
  readonly #ctx: GatewayContext;
  readonly #client: PeerClient;
  readonly #activityPollMs: number;
  readonly #periodMs: number;
  #chain: Promise<unknown> = Promise.resolve();
  #lastPeriodic = Date.now();
  #stopped = false;
  /** Per peer: failures in a row and when to try again (epoch ms). */
  readonly #retry = new Map<string, { failures: number; at: number }>();

  constructor(ctx: GatewayContext, client: PeerClient, options: WitnessClientOptions = {}) {
    this.#ctx = ctx;
    this.#client = client;
    this.#activityPollMs = options.activityPollMs ?? 1000;
    this.#periodMs = options.periodMs ?? 60_000;
    this.idleMs = this.#activityPollMs;
    this.firstRunMs = this.#activityPollMs;
  }

  /** One turn of the job: a run after activity, retries with backoff, and one every `periodMs` regardless. */
  async run(): Promise<number> {
    if (Date.now() - this.#lastPeriodic >= this.#periodMs) {
      this.#lastPeriodic = Date.now();
      this.#retry.clear();
      await this.runNow({ sign: true });
    } else if (await this.#due()) {
      await this.runNow({ sign: true });
    }
    return this.#activityPollMs;
  }

  /** Waits for a run in progress and takes no more (the runner's stop). */
  async settle(): Promise<void> {
    this.#stopped = true;
    await this.#chain.catch(() => undefined);
  }

  /**
   * Submits the latest checkpoint to every peer now (after any run in
   * progress); with `sign`, first signs a checkpoint if the log grew.
   * Never rejects for a peer's failure: each peer's outcome is returned.
   */
  runNow(options: { sign?: boolean } = {}): Promise<WitnessSubmission[]> {
    const run = this.#chain.then(() => this.#run(options.sign === true));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Whether a run is worth it now: the log grew past the latest checkpoint,
   * or a peer has not cosigned the latest checkpoint and is not backing off.
   */
  async #due(): Promise<boolean> {
    const ctx = this.#ctx;
    const latest = await ctx.checkpoints.latest();
    if (latest === undefined || (await ctx.store.read((tx) => tx.audit.leafCount())) > latest.size) return true;
    const now = Date.now();
    for (const peer of ctx.peers.all()) {
      if ((this.#retry.get(peer.authority)?.at ?? 0) <= now && (await cosignedSize(ctx, witnessName(peer.authority))) < latest.size) return true;
    }
    return false;
  }

  async #run(sign: boolean): Promise<WitnessSubmission[]> {
    if (this.#stopped) return [];
    const ctx = this.#ctx;
    const checkpoint = sign ? await ctx.checkpoints.sign() : await ctx.checkpoints.latest();
    if (checkpoint === undefined) return [];
    const submissions = await Promise.all(ctx.peers.all().map((peer) => this.#submit(peer, checkpoint)));
    for (const submission of submissions) {
      if (submission.outcome !== "failed") {
        this.#retry.delete(submission.peer);
        continue;
      }
      // Backoff on wall-clock time (a test's injected clock may stand still).
      const failures = (this.#retry.get(submission.peer)?.failures ?? 0) + 1;
      const delay = Math.min(this.#periodMs, this.#activityPollMs * 2 ** Math.min(failures, 20));
      this.#retry.set(submission.peer, { failures, at: Date.now() + delay });
    }
    return submissions;
  }

  async #submit(peer: Peer, checkpoint: StoredCheckpoint, announced = false): Promise<WitnessSubmission> {
    const ctx = this.#ctx;
    const witness = witnessName(peer.authority);
    try {
      const cosigned = await cosignedSize(ctx, witness);
      if (cosigned >= checkpoint.size) return { peer: peer.authority, outcome: "current", size: cosigned };
      let answer = await this.#post(peer, checkpoint, cosigned);
      if (answer.status === 404 && errorCodeOf(answer.body) === "WITNESS_EPOCH_UNKNOWN" && !announced) {
        // The peer was not told of this epoch (unreachable when it started): its statement first, then the checkpoint.
        const outcome = await announceEpoch(
          { store: ctx.store, authority: ctx.authority, logKeys: ctx.pki.certificates("log").map((c) => c.certificate.publicKey), peers: ctx.peers, client: this.#client },
          peer,
          ctx.now(),
        );
        ctx.logger.info("announced this log's epoch to a peer", { peer: peer.authority, outcome: outcome.outcome, code: outcome.code });
        if (outcome.outcome === "accepted" || outcome.outcome === "already-accepted") return await this.#submit(peer, checkpoint, true);
        throw refused(peer, 404, outcome.code ?? "WITNESS_EPOCH_UNKNOWN");
      }
      if (answer.status === 409) {
        // The peer cosigned another size than we recorded (a lost answer, a restored store): retry once
        // from it (the same size too: a witness cosigns an identical checkpoint again).
        const known = parseTlogSize(answer.body);
        if (known > checkpoint.size) {
          ctx.logger.error("a peer has cosigned a larger tree of this gateway's log than the log holds", {
            peer: peer.authority,
            knownSize: known,
            size: checkpoint.size,
          });
          throw refused(peer, 409, "the peer cosigned a larger tree than this log holds");
        }
        answer = await this.#post(peer, checkpoint, known);
      }
      if (answer.status !== 200) {
        if (answer.status === 422) {
          ctx.logger.error("a peer found this gateway's checkpoint inconsistent with one it cosigned", { peer: peer.authority, size: checkpoint.size });
        }
        throw refused(peer, answer.status, errorCodeOf(answer.body));
      }
      const line = verifiedCosignature(checkpoint.note, answer.body, peer, witness);
      await ctx.store.transaction((tx) => tx.audit.insertCosignature({ size: checkpoint.size, witness, line, receivedAt: ctx.now().toISOString() }));
      return { peer: peer.authority, outcome: "cosigned", size: checkpoint.size };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      ctx.logger.warn("witnessing by a peer failed", { peer: peer.authority, size: checkpoint.size, code, reason: error instanceof Error ? error.message : String(error) });
      return { peer: peer.authority, outcome: "failed", size: checkpoint.size, code: typeof code === "string" ? code : "PEER_UNREACHABLE" };
    }
  }

  async #post(peer: Peer, checkpoint: StoredCheckpoint, oldSize: number): Promise<PeerResponse> {
    const proof = await this.#ctx.store.read((tx) => withStoredTree(tx, checkpoint.size, (reader) => consistencyProof(reader, oldSize, checkpoint.size)));
    const body = Buffer.from(formatAddCheckpointRequest({ oldSize, proof, checkpoint: checkpoint.note }), "utf8");
    return this.#client.request(peer, "POST", WITNESS_PATH, body, { "content-type": "text/plain; charset=utf-8" });
  }
}

/** The largest size of this gateway's log that `witness` has cosigned (0 if none). */
export function cosignedSize(ctx: GatewayContext, witness: string): Promise<number> {
  return ctx.store.read((tx) => tx.audit.cosignedSize(witness));
}

/**
 * The peer's cosignature line over `note`, from a 200 body of signature
 * lines. Lines by other names are ignored; the one by `witness` must verify
 * with one of the peer's `log` keys. Throws WITNESS_REFUSED.
 */
function verifiedCosignature(note: string, body: Buffer, peer: Peer, witness: string): string {
  let lines;
  try {
    lines = parseSignatureLines(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch (cause) {
    throw new GatewayError("WITNESS_REFUSED", `${peer.authority} answered something other than signature lines`, { cause, details: { peer: peer.authority } });
  }
  for (const signature of lines.filter((s) => s.name === witness)) {
    const line = formatSignatureLine(signature);
    for (const publicKey of peerLogKeys(peer)) {
      try {
        verifyCosignature(appendSignatureLines(note, line), { name: witness, publicKey });
        return line;
      } catch {
        // another key, or a bad line
      }
    }
  }
  throw new GatewayError("WITNESS_REFUSED", `${peer.authority} returned no valid cosignature`, { details: { peer: peer.authority } });
}

/** A `text/x.tlog.size` body: a decimal and a newline. Throws WITNESS_REFUSED otherwise. */
function parseTlogSize(body: Buffer): number {
  const match = /^(0|[1-9][0-9]{0,15})\n$/.exec(body.subarray(0, 32).toString("utf8"));
  const size = match === null ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(size)) throw new GatewayError("WITNESS_REFUSED", "a 409 answer without a text/x.tlog.size body");
  return size;
}

function errorCodeOf(body: Buffer): string {
  try {
    const code = (JSON.parse(body.toString("utf8")) as { error?: { code?: unknown } }).error?.code;
    return typeof code === "string" ? code.slice(0, 64) : "unknown";
  } catch {
    return "unknown";
  }
}

function refused(peer: Peer, status: number, reason: string): GatewayError {
  return new GatewayError("WITNESS_REFUSED", `${peer.authority} did not cosign (${status} ${reason})`, { details: { peer: peer.authority, status, reason } });
}
