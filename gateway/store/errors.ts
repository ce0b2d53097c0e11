/**
 * Errors of either engine, mapped to the gateway's codes here and nowhere
 * else: domain code sees `STORE_DUPLICATE`, `STORE_BUSY`, `STORE_UNAVAILABLE`
 * or `STORE_FAILED`, never a SQLite or PostgreSQL error code. Messages never
 * carry connection strings (they may hold a password).
 */
import { GatewayError } from "../errors.js";

const SQLITE_DUPLICATE = new Set(["SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"]);
const SQLITE_BUSY = new Set(["SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_TIMEOUT", "SQLITE_LOCKED"]);
// PostgreSQL SQLSTATEs: class 08 connection exceptions, 57P0x shutdown, 53xxx resources.
const PG_UNAVAILABLE = /^(08|57P0|53)/;

/** `error` as a GatewayError with a store code (a GatewayError passes through). */
export function storeError(error: unknown): unknown {
  if (error instanceof GatewayError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === "string") {
    if (SQLITE_DUPLICATE.has(code) || code === "23505") {
      return new GatewayError("STORE_DUPLICATE", "the row already exists", { cause: error, details: { constraint: constraintOf(error) } });
    }
    if (SQLITE_BUSY.has(code) || code === "40001" || code === "40P01" || code === "55P03") {
      return new GatewayError("STORE_BUSY", "the database is busy; retry", { cause: error });
    }
    if (PG_UNAVAILABLE.test(code) || code === "ECONNREFUSED" || code === "ECONNRESET" || code === "ETIMEDOUT" || code === "ENOTFOUND") {
      return new GatewayError("STORE_UNAVAILABLE", `the database cannot be reached (${code})`, { cause: error });
    }
    if (code === "SQLITE_READONLY") return new GatewayError("STORE_FAILED", "a write was attempted on a read-only connection", { cause: error });
    if (code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB") return new GatewayError("STORE_CORRUPT", "the database file is damaged or not a database", { cause: error });
  }
  if (/Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(message)) {
    return new GatewayError("STORE_UNAVAILABLE", "the database cannot be reached", { cause: error });
  }
  return new GatewayError("STORE_FAILED", `the database refused a statement: ${redactSecrets(message)}`, { cause: error });
}

/** Whether a PostgreSQL transaction failed only because of a concurrent one (and may be retried whole). */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "40001" || code === "40P01";
}

function constraintOf(error: unknown): string | null {
  const pg = (error as { constraint?: unknown }).constraint;
  if (typeof pg === "string") return pg;
  const match = /constraint failed: ([\w.]+)/.exec(error instanceof Error ? error.message : "");
  return match?.[1] ?? null;
}

/** A connection string with its password replaced: `postgres://user:***@host/db`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an unparsable database URL)";
  }
}

function redactSecrets(message: string): string {
  return message.replace(/\b(postgres(?:ql)?:\/\/[^:\s/]*:)[^@\s]*@/gi, "$1***@");
}
