/** Bearer tokens of the local API: only a hash of each secret is stored. */
import type { Sql } from "../sql.js";

/** A row of `tokens` (without its hash). */
export interface TokenRow {
  token_id: string;
  name: string;
  role: "caseworker" | "auditor" | "operator";
  created_at: string;
  revoked_at: string | null;
}

/** Tokens. */
export class TokensRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Stores a token. */
  insert(t: { tokenId: string; name: string; role: string; hash: string; createdAt: string }): Promise<unknown> {
    return this.#sql.run("INSERT INTO tokens (token_id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)", [t.tokenId, t.name, t.role, t.hash, t.createdAt]);
  }

  /** Every token, newest first. */
  list(): Promise<TokenRow[]> {
    return this.#sql.all<TokenRow>("SELECT token_id, name, role, created_at, revoked_at FROM tokens ORDER BY created_at DESC, token_id");
  }

  /** One token. */
  get(tokenId: string): Promise<TokenRow | undefined> {
    return this.#sql.get<TokenRow>("SELECT token_id, name, role, created_at, revoked_at FROM tokens WHERE token_id = ?", [tokenId]);
  }

  /** The token whose secret hashes to `hash`. */
  byHash(hash: string): Promise<TokenRow | undefined> {
    return this.#sql.get<TokenRow>("SELECT token_id, name, role, created_at, revoked_at FROM tokens WHERE hash = ?", [hash]);
  }

  /** Marks a token revoked. */
  revoke(tokenId: string, at: string): Promise<unknown> {
    return this.#sql.run("UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL", [at, tokenId]);
  }
}
