/**
 * Bearer tokens of the local API. A token is shown once, at creation; the
 * database keeps only its SHA-256, so a stolen database yields no token.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Tx } from "../store/store.js";
import type { TokenRow } from "../store/repos/tokens.js";
import { GatewayError } from "../errors.js";

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
export async function createToken(tx: Tx, role: Role, name: string, now: Date): Promise<{ record: TokenRecord; token: string }> {
  if (!isRole(role)) throw new GatewayError("USAGE", `unknown role ${String(role)}: use ${ROLES.join(", ")}`);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  const record: TokenRecord = { tokenId: randomUUID(), name, role, createdAt: now.toISOString(), revokedAt: null };
  await tx.tokens.insert({ tokenId: record.tokenId, name, role, hash: hashToken(token), createdAt: record.createdAt });
  return { record, token };
}

/** Every token, newest first. */
export async function listTokens(tx: Tx): Promise<TokenRecord[]> {
  return (await tx.tokens.list()).map(toRecord);
}

/** Revokes a token by id; `TOKEN_UNKNOWN` if none, `TOKEN_ALREADY_REVOKED` if revoked. */
export async function revokeToken(tx: Tx, tokenId: string, now: Date): Promise<TokenRecord> {
  const row = await tx.tokens.get(tokenId);
  if (row === undefined) throw new GatewayError("TOKEN_UNKNOWN", `no token with id ${tokenId}`);
  if (row.revoked_at !== null) throw new GatewayError("TOKEN_ALREADY_REVOKED", `token ${tokenId} was revoked at ${row.revoked_at}`);
  await tx.tokens.revoke(tokenId, now.toISOString());
  return { ...toRecord(row), revokedAt: now.toISOString() };
}

/**
 * The principal of a presented token, or undefined when the token is
 * unknown or revoked. The lookup is by hash, so timing reveals nothing of
 * stored secrets.
 */
export async function authenticateToken(tx: Tx, presented: string): Promise<Principal | undefined> {
  if (!presented.startsWith(TOKEN_PREFIX) || presented.length > 256) return undefined;
  const row = await tx.tokens.byHash(hashToken(presented));
  if (row === undefined || row.revoked_at !== null) return undefined;
  return { tokenId: row.token_id, name: row.name, role: row.role };
}

function toRecord(row: TokenRow): TokenRecord {
  return { tokenId: row.token_id, name: row.name, role: row.role, createdAt: row.created_at, revokedAt: row.revoked_at };
}
