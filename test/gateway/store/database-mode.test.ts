/**
 * The database holds token hashes, case metadata and evidence item keys:
 * it and its WAL and shared-memory files are readable by the owner only
 * (0600, like the private keys), whatever the umask, and an older database
 * created with a wider mode is narrowed when it is opened.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import Database from "better-sqlite3";
import { openStore } from "../../../gateway/store/store.js";

function modes(path: string): Record<string, string> {
  return Object.fromEntries(["", "-wal", "-shm"].map((suffix) => [`valise.db${suffix}`, existsSync(path + suffix) ? (statSync(path + suffix).mode & 0o777).toString(8) : "missing"]));
}

describe("gateway database file modes", function () {
  let dir: string;
  let umask: number;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), "valise-db-mode-"));
    umask = process.umask(0o022); // the usual default, which would leave the files world-readable
  });

  afterEach(function () {
    process.umask(umask);
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates valise.db and its -wal and -shm files 0600", async function () {
    const path = join(dir, "valise.db");
    const store = await openStore({ kind: "sqlite", path }, "apply"); // the migrations write through the WAL: all three files exist
    try {
      expect(modes(path)).to.deep.equal({ "valise.db": "600", "valise.db-wal": "600", "valise.db-shm": "600" });
    } finally {
      await store.close();
    }
  });

  it("narrows an existing database and its companions to 0600 when it opens them", async function () {
    const path = join(dir, "valise.db");
    const old = new Database(path);
    old.pragma("journal_mode = WAL");
    old.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    chmodSync(path, 0o644);
    for (const suffix of ["-wal", "-shm"]) chmodSync(path + suffix, 0o644);
    const store = await openStore({ kind: "sqlite", path }, "apply");
    try {
      expect(modes(path)).to.deep.equal({ "valise.db": "600", "valise.db-wal": "600", "valise.db-shm": "600" });
    } finally {
      await store.close();
      old.close();
    }
  });
});
