/** `Idempotency-Key`s of local API submissions (see gateway/http/idempotency.ts). */
import type { Sql } from "../sql.js";

/** A stored key. */
export interface IdempotencyRow {
  fingerprint: string;
  state: "pending" | "done";
  holder: string;
  status: number | null;
  response: string | null;
}

/** Idempotency keys, per token. */
export class IdempotencyRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** The key's row (PostgreSQL: locked until the transaction ends, so two instances never both claim it). */
  get(tokenId: string, key: string): Promise<IdempotencyRow | undefined> {
    return this.#sql.get<IdempotencyRow>(
      `SELECT fingerprint, state, holder, status, response FROM idempotency_keys WHERE token_id = ? AND key = ?${this.#sql.dialect === "postgres" ? " FOR UPDATE" : ""}`,
      [tokenId, key],
    );
  }

  /** Claims a new key for `holder` (`STORE_DUPLICATE` if another request claimed it first). */
  insertPending(k: { tokenId: string; key: string; fingerprint: string; holder: string; createdAt: string }): Promise<unknown> {
    return this.#sql.run("INSERT INTO idempotency_keys (token_id, key, fingerprint, state, holder, created_at) VALUES (?, ?, ?, 'pending', ?, ?)", [
      k.tokenId,
      k.key,
      k.fingerprint,
      k.holder,
      k.createdAt,
    ]);
  }

  /** Takes a pending key over (its holder died). */
  setHolder(tokenId: string, key: string, holder: string): Promise<unknown> {
    return this.#sql.run("UPDATE idempotency_keys SET holder = ? WHERE token_id = ? AND key = ?", [holder, tokenId, key]);
  }

  /**
   * Stores the answer to replay, if `holder` still holds the pending key:
   * false when another instance took it over (this one was taken for dead),
   * so that the caller rolls its work back instead of doing it twice.
   */
  async markDone(tokenId: string, key: string, holder: string, status: number, response: string): Promise<boolean> {
    const done = await this.#sql.run("UPDATE idempotency_keys SET state = 'done', status = ?, response = ? WHERE token_id = ? AND key = ? AND state = 'pending' AND holder = ?", [
      status,
      response,
      tokenId,
      key,
      holder,
    ]);
    return done.changes > 0;
  }

  /** Frees a key whose request was refused (only `holder`'s: a key taken over stays its new holder's). */
  deletePending(tokenId: string, key: string, holder: string): Promise<unknown> {
    return this.#sql.run("DELETE FROM idempotency_keys WHERE token_id = ? AND key = ? AND state = 'pending' AND holder = ?", [tokenId, key, holder]);
  }
}
