/**
 * Store engines for tests: a temporary SQLite file, and a PostgreSQL
 * database created for the run on 127.0.0.1:5432 and dropped afterwards.
 * Without PostgreSQL the PostgreSQL suites skip with the reason printed —
 * except in CI (`CI=true`), where they fail.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { openStore, type Store, type StoreLocation } from "../../gateway/store/store.js";
import { inCi } from "../required-tools.js";

/** The server the PostgreSQL tests use (VALISE_TEST_PG overrides). */
export const TEST_PG_ADMIN_URL = process.env["VALISE_TEST_PG"] ?? "postgres://root@127.0.0.1:5432/postgres";

let reachable: Promise<string | null> | undefined;

/** Null when PostgreSQL answers, else why not. */
export function postgresUnavailable(): Promise<string | null> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return null;
    } catch (error) {
      return `PostgreSQL is not reachable at ${TEST_PG_ADMIN_URL} (${error instanceof Error ? error.message : String(error)})`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

/** Creates an empty database for one test run; returns its URL and how to drop it. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `valise_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A fresh store location of each engine, with its cleanup. */
export interface TestEngine {
  readonly name: "sqlite" | "postgres";
  /** A new, empty location (a file, or a database). */
  location(): Promise<StoreLocation>;
  /** Removes every location handed out. */
  cleanup(): Promise<void>;
}

function sqliteEngine(): TestEngine {
  const dirs: string[] = [];
  return {
    name: "sqlite",
    async location() {
      const dir = mkdtempSync(join(tmpdir(), "valise-store-"));
      dirs.push(dir);
      return { kind: "sqlite", path: join(dir, "valise.db") };
    },
    async cleanup() {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresEngine(): TestEngine {
  const drops: Array<() => Promise<void>> = [];
  return {
    name: "postgres",
    async location() {
      const db = await createTestDatabase();
      drops.push(db.drop);
      return { kind: "postgres", url: db.url };
    },
    async cleanup() {
      for (const drop of drops.splice(0)) await drop();
    },
  };
}

/**
 * Declares `suite` once per engine (`describe("… [sqlite]")`, `… [postgres]`).
 * The PostgreSQL copy skips with a printed reason when the server is down,
 * and fails in CI.
 */
export function forEachEngine(title: string, suite: (engine: TestEngine) => void): void {
  for (const engine of [sqliteEngine(), postgresEngine()]) {
    describe(`${title} [${engine.name}]`, function () {
      if (engine.name === "postgres") {
        before(async function () {
          await requirePostgres(this);
        });
      }
      after(() => engine.cleanup());
      suite(engine);
    });
  }
}

/** Opens a new, migrated store on `engine`. */
export async function freshStore(engine: TestEngine): Promise<Store> {
  return openStore(await engine.location(), "apply");
}

/** In a PostgreSQL-only suite's `before`: skips (saying why) without PostgreSQL, and fails in CI. */
export async function requirePostgres(context: Mocha.Context): Promise<void> {
  const why = await postgresUnavailable();
  if (why === null) return;
  if (inCi(process.env)) throw new Error(`${why}: CI runs the PostgreSQL tests (.ci/run starts PostgreSQL)`);
  console.log(`      skipped: ${why}`);
  context.skip();
}
