/**
 * Helpers of the disaster-recovery tests: homes moved onto the engine under
 * test (PostgreSQL: a fresh database per home, the tokens carried over),
 * the CLI run in-process, and small readers.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../../gateway/store/store.js";
import type { TestEngine } from "../../store/engines.js";
import type { TestAuthority } from "../fixtures.js";
import { PASSPHRASE } from "../fixtures.js";
import { valise, type CliRun } from "../../scripts/cli-helpers.js";

/** The environment of a CLI run that holds the passphrase. */
export const WITH_PASSPHRASE: NodeJS.ProcessEnv = { VALISE_PASSPHRASE: PASSPHRASE };

/** Runs `valise …args` in-process with the passphrase in its environment. */
export function cli(args: readonly string[]): Promise<CliRun> {
  return valise(args, WITH_PASSPHRASE);
}

/**
 * Puts `authority`'s home on `engine`: nothing for SQLite; for PostgreSQL a
 * new database named in valise.json, with the home's tokens copied over
 * (their hashes), so the test's bearer tokens keep working.
 */
export async function moveToEngine(authority: TestAuthority, engine: TestEngine): Promise<void> {
  if (engine.name === "sqlite") return;
  const location = await engine.location();
  if (location.kind !== "postgres") throw new Error("expected a PostgreSQL location");
  const sqlite = await openStore({ kind: "sqlite", path: join(authority.home, "valise.db") }, "refuse");
  const tokens = await sqlite.inspect<{ token_id: string; name: string; role: string; hash: string; created_at: string }>("SELECT token_id, name, role, hash, created_at FROM tokens");
  await sqlite.close();
  const configPath = join(authority.home, "valise.json");
  const config = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
  writeFileSync(configPath, `${JSON.stringify({ ...config, store: { kind: "postgres", url: location.url } }, null, 2)}\n`);
  const pg = await openStore(location, "apply");
  try {
    await pg.transaction(async (tx) => {
      for (const t of tokens) await tx.tokens.insert({ tokenId: t.token_id, name: t.name, role: t.role, hash: t.hash, createdAt: t.created_at });
    });
  } finally {
    await pg.close();
  }
}

/** The error code a `--json` CLI run printed. */
export function errorCode(run: CliRun): string | undefined {
  try {
    return run.json<{ error?: { code?: string } }>().error?.code;
  } catch {
    return undefined;
  }
}
