/**
 * SQLite group commit with the WAL synced off the main thread
 * (gateway/store/sqlite/engine.ts): a transaction's promise settles only
 * after its batch is synced, one failing transaction rolls back alone, and a
 * read never returns a row of a transaction whose promise has not resolved
 * (reads wait for a pending sync), so nothing read can be acknowledged
 * before it is on disk.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import Database from "better-sqlite3";
import { SqliteEngine } from "../../gateway/store/sqlite/engine.js";

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("SQLite group commit, WAL synced off the main thread", function () {
  let dir: string;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), "valise-group-commit-"));
  });

  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("settles each transaction after its batch, rolls a failing one back alone, and never lets a read see a row of an unresolved transaction", async function () {
    const path = join(dir, "valise.db");
    const engine = SqliteEngine.open(path, "apply");
    const resolved = new Set<string>();
    const transactions: Array<Promise<unknown>> = [];
    const failing = (i: number): boolean => i % 7 === 3;
    let seenByReads = 0;
    let stop = false;
    // Reads interleaved with the batches: every row they return must belong to a transaction already resolved.
    const reader = (async () => {
      while (!stop) {
        const rows = await engine.read((sql) => sql.all<{ name: string }>("SELECT name FROM leases WHERE name LIKE 'gc-%'"));
        for (const row of rows) expect(resolved.has(row.name), `${row.name} was read before its transaction resolved`).to.equal(true);
        seenByReads = Math.max(seenByReads, rows.length);
        await tick();
      }
    })();
    for (let group = 0; group < 30; group += 1) {
      for (let j = 0; j < 10; j += 1) {
        const i = group * 10 + j;
        const name = `gc-${i}`;
        transactions.push(
          engine
            .transaction(async (sql) => {
              await sql.run("INSERT INTO leases (name, owner, expires_at, acquired_at) VALUES (?, ?, ?, ?)", [name, "test", i, i]);
              if (failing(i)) throw new Error("refused");
              return i;
            })
            .then(
              (value) => {
                expect(value).to.equal(i);
                resolved.add(name);
              },
              (error: Error) => {
                expect(failing(i)).to.equal(true);
                expect(error.message).to.equal("refused");
              },
            ),
        );
      }
      await tick(); // the next group arrives while a batch runs or syncs
    }
    await Promise.all(transactions);
    stop = true;
    await reader;
    await engine.drained();
    const expected = Array.from({ length: 300 }, (_, i) => i).filter((i) => !failing(i)).map((i) => `gc-${i}`);
    expect([...resolved].sort()).to.deep.equal([...expected].sort());
    expect(seenByReads).to.be.greaterThan(0);
    await engine.close();

    // What was acknowledged is in the file, read by a connection of its own.
    const db = new Database(path, { readonly: true });
    try {
      const names = (db.prepare("SELECT name FROM leases WHERE name LIKE 'gc-%'").all() as Array<{ name: string }>).map((row) => row.name);
      expect(names.sort()).to.deep.equal([...expected].sort());
    } finally {
      db.close();
    }
  });
});
