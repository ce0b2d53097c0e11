/**
 * The one SQL surface the repositories use, whatever the engine: parameters
 * are positional `?` in the SQL text (the PostgreSQL engine rewrites them to
 * `$1, $2, …`). Integers come back as JavaScript numbers on both engines,
 * binary columns as Buffers, text as strings.
 */

/** A value bound to a `?` parameter. */
export type SqlValue = string | number | bigint | Buffer | null;

/** What a write statement reports. */
export interface SqlRunResult {
  /** Rows inserted, updated or deleted. */
  readonly changes: number;
}

/** The engine a statement runs on, for the few places where SQL differs. */
export type Dialect = "sqlite" | "postgres";

/** Statements on one connection (inside a transaction, or a read). */
export interface Sql {
  readonly dialect: Dialect;
  /** Every row the query returns. */
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row, if any. */
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement that returns no rows. */
  run(sql: string, params?: readonly SqlValue[]): Promise<SqlRunResult>;
}

const rewritten = new Map<string, string>();

/**
 * `?` placeholders rewritten to PostgreSQL's `$n`. Quoted strings and
 * identifiers are skipped, so a `?` inside a literal stays as it is.
 */
export function numberedPlaceholders(sql: string): string {
  let cached = rewritten.get(sql);
  if (cached !== undefined) return cached;
  let out = "";
  let n = 0;
  let quote: string | null = null;
  for (const char of sql) {
    if (quote !== null) {
      if (char === quote) quote = null;
      out += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      out += char;
    } else if (char === "?") {
      n += 1;
      out += `$${n}`;
    } else {
      out += char;
    }
  }
  cached = out;
  if (rewritten.size < 10_000) rewritten.set(sql, cached);
  return cached;
}
