/**
 * Bearer tokens of the local API. A token is shown once, at creation; the
 * database keeps only its SHA-256, so a stolen database yields no token.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Db } from "../store/database.js";
import { GatewayError } from "../errors.js";
import { statement } from "../store/statements.js";

/** Roles of the local API. */
export const ROLES = ["caseworker", "auditor", "operator"] as const;
/** One role of the local API. */
export type Role = (typeof ROLES)[number];

/** A token as listed (never the secret). */
export interface TokenRecord {
  readonly tokenId: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** The holder of a presented, valid token. */
export interface Principal {
  readonly tokenId: string;
  readonly name: string;
  readonly role: Role;
}

const TOKEN_PREFIX = "vls_";

function hashToken(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** True when `value` names a role. */
export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/**
 * Creates a token; returns its record and the secret, which is not stored.
 * Call inside the caller's transaction when an audit entry goes with it.
 */
export function createToken(db: Db, role: Role, name: string, now: Date): { record: TokenRecord; token: string } {
  if (!isRole(role)) throw new GatewayError("USAGE", `unknown role ${String(role)}: use ${ROLES.join(", ")}`);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  const record: TokenRecord = { tokenId: randomUUID(), name, role, createdAt: now.toISOString(), revokedAt: null };
  statement(db, "INSERT INTO tokens (token_id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)").run(
    record.tokenId,
    name,
    role,
    hashToken(token),
    record.createdAt,
  );
  return { record, token };
}

/** Every token, newest first. */
export function listTokens(db: Db): TokenRecord[] {
  return statement(db, "SELECT token_id, name, role, created_at, revoked_at FROM tokens ORDER BY created_at DESC, token_id")
    .all()
    .map((row) => toRecord(row as TokenRow));
}

/** Revokes a token by id; `TOKEN_UNKNOWN` if none, `TOKEN_ALREADY_REVOKED` if revoked. */
export function revokeToken(db: Db, tokenId: string, now: Date): TokenRecord {
  const row = statement(db, "SELECT token_id, name, role, created_at, revoked_at FROM tokens WHERE token_id = ?").get(tokenId) as
    | TokenRow
    | undefined;
  if (row === undefined) throw new GatewayError("TOKEN_UNKNOWN", `no token with id ${tokenId}`);
  if (row.revoked_at !== null) throw new GatewayError("TOKEN_ALREADY_REVOKED", `token ${tokenId} was revoked at ${row.revoked_at}`);
  statement(db, "UPDATE tokens SET revoked_at = ? WHERE token_id = ?").run(now.toISOString(), tokenId);
  return { ...toRecord(row), revokedAt: now.toISOString() };
}

/**
 * The principal of a presented token, or undefined when the token is
 * unknown or revoked. The lookup is by hash, so timing reveals nothing of
 * stored secrets.
 */
export function authenticateToken(db: Db, presented: string): Principal | undefined {
  if (!presented.startsWith(TOKEN_PREFIX) || presented.length > 256) return undefined;
  const row = statement(db, "SELECT token_id, name, role, revoked_at FROM tokens WHERE hash = ?").get(hashToken(presented)) as
    | Pick<TokenRow, "token_id" | "name" | "role" | "revoked_at">
    | undefined;
  if (row === undefined || row.revoked_at !== null) return undefined;
  return { tokenId: row.token_id, name: row.name, role: row.role };
}

interface TokenRow {
  token_id: string;
  name: string;
  role: Role;
  created_at: string;
  revoked_at: string | null;
}

function toRecord(row: TokenRow): TokenRecord {
  return { tokenId: row.token_id, name: row.name, role: row.role, createdAt: row.created_at, revokedAt: row.revoked_at };
}
