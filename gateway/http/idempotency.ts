/**
 * `Idempotency-Key` on the local API's submissions (after the IETF
 * httpapi-idempotency-key-header draft): a case-management system that
 * retries a POST whose answer it lost — a timeout, a dropped connection, a
 * crash on its side — sends the same key, and gets the first answer again
 * instead of opening a second case.
 *
 * - same token, same key, same request (method, path, body) → the stored
 *   answer, same status, with `Idempotent-Replayed: true`;
 * - same token, same key, another request → 422 `IDEMPOTENCY_KEY_REUSED`;
 * - the first request with that key still running → 409 `IDEMPOTENCY_KEY_IN_USE`;
 * - a key that is not 1–255 visible ASCII characters → 400 `IDEMPOTENCY_KEY_INVALID`.
 *
 * Keys are scoped per token (one caller cannot replay or block another's),
 * and durable: the row lives in the `idempotency_keys` table. A handler that
 * commits its own work passes `record` into its transaction, so that the
 * answer is stored with the work it describes — either both are on disk or
 * neither is, and a crash between them cannot open a second case. A refused
 * request (any error) stores nothing, so the key can be used again.
 */
import { createHash } from "node:crypto";
import type { Request, Response } from "express";
import type { GatewayContext } from "../context.js";
import type { Principal } from "../auth/tokens.js";
import { GatewayError } from "../errors.js";
import type { Tx } from "../store/store.js";
import { instanceAlive } from "../jobs/runner.js";

/** An answer of an idempotent handler. */
export interface IdempotentAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Stores the answer of the request under way; call it inside the transaction that commits its work. */
export type RecordAnswer = (tx: Tx, answer: IdempotentAnswer) => Promise<void>;

/** A local API handler whose answer may be replayed. */
export type IdempotentHandler = (req: Request, res: Response, record: RecordAnswer) => Promise<IdempotentAnswer>;

/** `Idempotency-Key` values: visible ASCII, bounded (they are stored and compared, never interpreted). */
const KEY = /^[\x21-\x7e]{1,255}$/;

type Claim = { readonly kind: "claimed" } | { readonly kind: "replay"; readonly answer: IdempotentAnswer };

/** The key presented, if any; a structured-field string (`"…"`) is unquoted. */
function presentedKey(req: Request): string | undefined {
  const header = req.get("idempotency-key");
  if (header === undefined) return undefined;
  const key = /^"(.*)"$/.exec(header)?.[1] ?? header;
  if (!KEY.test(key)) throw new GatewayError("IDEMPOTENCY_KEY_INVALID", "Idempotency-Key must be 1 to 255 visible ASCII characters");
  return key;
}

/** What makes two requests the same: method, path (with query) and the parsed body. */
function fingerprintOf(req: Request): string {
  return createHash("sha256")
    .update(`${req.method}\n${req.originalUrl}\n`)
    .update(JSON.stringify(req.body) ?? "")
    .digest("hex");
}

/**
 * Wraps local API handlers with `Idempotency-Key` handling (see the module
 * comment). One per local API app: `holder` identifies this gateway process.
 */
export function idempotencyKeys(ctx: GatewayContext): (handler: IdempotentHandler) => (req: Request, res: Response) => Promise<void> {
  // The instance holding a pending row; rows pending under an instance that is no longer alive were left by one that died mid-request.
  const holder = ctx.jobs.owner;

  const claim = async (tx: Tx, tokenId: string, key: string, fingerprint: string): Promise<Claim> => {
    const row = await tx.idempotency.get(tokenId, key);
    if (row === undefined) {
      await tx.idempotency.insertPending({ tokenId, key, fingerprint, holder, createdAt: ctx.now().toISOString() });
      return { kind: "claimed" };
    }
    if (row.fingerprint !== fingerprint) {
      throw new GatewayError("IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was already used for another request; use a new key for a new request");
    }
    if (row.state === "done") return { kind: "replay", answer: { status: row.status ?? 200, body: JSON.parse(row.response ?? "null") as unknown } };
    if (row.holder === holder || (await instanceAlive(tx, row.holder, Date.now()))) {
      throw new GatewayError("IDEMPOTENCY_KEY_IN_USE", "the first request with this Idempotency-Key is still being processed; retry later");
    }
    // Its instance died before answering; the work is committed with its answer, so none was done: take it over.
    await tx.idempotency.setHolder(tokenId, key, holder);
    return { kind: "claimed" };
  };

  return (handler) => async (req, res) => {
    const key = presentedKey(req);
    if (key === undefined) {
      const answer = await handler(req, res, async () => {});
      res.status(answer.status).json(answer.body);
      return;
    }
    const { tokenId } = res.locals["principal"] as Principal;
    const fingerprint = fingerprintOf(req);
    let claimed: Claim;
    try {
      claimed = await ctx.store.transaction((tx) => claim(tx, tokenId, key, fingerprint));
    } catch (error) {
      // Two first requests with one key at once (on two instances): the second finds it claimed.
      if (!(error instanceof GatewayError && error.code === "STORE_DUPLICATE")) throw error;
      claimed = await ctx.store.transaction((tx) => claim(tx, tokenId, key, fingerprint));
    }
    if (claimed.kind === "replay") {
      res.set("Idempotent-Replayed", "true").status(claimed.answer.status).json(claimed.answer.body);
      return;
    }
    let recorded = false;
    const record: RecordAnswer = async (tx, answer) => {
      if (!(await tx.idempotency.markDone(tokenId, key, holder, answer.status, JSON.stringify(answer.body)))) {
        // Another instance took the key over while this one worked (it was taken for dead): throwing
        // rolls this work back in its transaction, so the request is done once, by the new holder.
        throw new GatewayError("IDEMPOTENCY_KEY_IN_USE", "another instance took this request over; retry with the same Idempotency-Key for its answer");
      }
      recorded = true;
    };
    let answer: IdempotentAnswer;
    try {
      answer = await handler(req, res, record);
    } catch (error) {
      // Refused: nothing was done, so the key is free again.
      await ctx.store.transaction((tx) => tx.idempotency.deletePending(tokenId, key, holder));
      throw error;
    }
    if (!recorded) await ctx.store.transaction((tx) => record(tx, answer));
    res.status(answer.status).json(answer.body);
  };
}
