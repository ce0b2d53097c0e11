/**
 * The fdatasync of a SQLite database's -wal file, on a thread of its own
 * (see engine.ts for why that makes a `synchronous=NORMAL` commit as durable
 * as a `synchronous=FULL` one). Not libuv's thread pool: a few file system
 * calls that never return (a FIFO, a hung mount) can hold all of its
 * threads, and commits must not wait on them. The thread starts at the
 * first sync and keeps the process alive only while a sync is in flight.
 */
import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";

// Plain JavaScript (evaluated, CommonJS): no loader needed in the thread.
const THREAD = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
let lastInode = -1;
parentPort.on("message", (id) => {
  let error = null;
  try {
    let fd;
    try {
      fd = fs.openSync(workerData.wal, "r");
    } catch (e) {
      // No -wal file: it was removed after a complete checkpoint, so the data is in the database file.
      if (e.code !== "ENOENT") throw e;
      fd = fs.openSync(workerData.db, "r");
    }
    try {
      fs.fdatasyncSync(fd);
      const inode = fs.fstatSync(fd).ino;
      if (inode !== lastInode) {
        // A file new to us: its directory entry must be on disk too.
        const dir = fs.openSync(workerData.dir, "r");
        try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
        lastInode = inode;
      }
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    error = { code: String((e && e.code) || "EIO"), message: String((e && e.message) || e) };
  }
  parentPort.postMessage({ id, error });
});
`;

// The checkpointer: its own connection, PASSIVE checkpoints (never waiting for the writer, never blocking it).
const CHECKPOINTER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
let db;
parentPort.on("message", (message) => {
  if (message === "close") {
    if (db !== undefined) db.close();
    process.exit(0);
  }
  let result = null;
  try {
    if (db === undefined) {
      db = new Database(workerData.db, { fileMustExist: true });
      db.pragma("synchronous = FULL");
    }
    result = db.pragma("wal_checkpoint(PASSIVE)")[0];
  } catch (e) {
    result = { error: String((e && e.code) || e) };
  }
  parentPort.postMessage(result);
});
`;

/** Commits between two checkpoints (of a few pages each, on the order of SQLite's default of 1000 pages). */
const CHECKPOINT_EVERY_COMMITS = 32;

/**
 * Checkpoints the WAL (copies its frames into the database file, then lets
 * the writer start the WAL over) on a thread of its own, so the main thread
 * never does the copying and its two fsyncs inside a COMMIT. SQLite's own
 * automatic checkpoint stays as a safety net for a WAL that grows anyway
 * (the engine sets it to a much larger size).
 */
class Checkpointer {
  readonly #db: string;
  #worker: Worker | undefined;
  #running = false;
  #commits = 0;
  #closing = false;

  constructor(db: string) {
    this.#db = db;
  }

  /** Counts a commit; starts a checkpoint when enough were made and none is running. */
  committed(): void {
    this.#commits += 1;
    if (this.#running || this.#closing || this.#commits < CHECKPOINT_EVERY_COMMITS) return;
    this.#commits = 0;
    this.#running = true;
    this.#start().postMessage("checkpoint");
  }

  async close(): Promise<void> {
    this.#closing = true;
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.ref(); // keep the process alive until the thread has closed its connection
    worker.postMessage("close");
    await exited;
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { db: this.#db, module: createRequire(import.meta.url).resolve("better-sqlite3") } });
    worker.unref(); // a checkpoint is never waited for: SQLite does it at close if need be
    worker.on("message", () => {
      this.#running = false;
    });
    const gone = (): void => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#running = false;
    };
    worker.on("error", gone);
    worker.on("exit", gone);
    this.#worker = worker;
    return worker;
  }
}

/** Syncs one database's -wal file on a dedicated thread. */
export class WalSync {
  readonly #paths: { wal: string; db: string; dir: string };
  readonly #checkpointer: Checkpointer;
  #worker: Worker | undefined;
  #next = 1;
  readonly #pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(databasePath: string) {
    const db = resolve(databasePath);
    this.#paths = { wal: `${db}-wal`, db, dir: dirname(db) };
    this.#checkpointer = new Checkpointer(db);
  }

  /** Says a batch was committed and synced: now and then, the WAL is checkpointed on another thread. */
  committed(): void {
    this.#checkpointer.committed();
  }

  /** Resolves once everything written to the -wal file before the call is on disk. */
  sync(): Promise<void> {
    const worker = this.#start();
    const id = this.#next++;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.ref(); // a CLI command awaiting its commit must not exit before it
      worker.postMessage(id);
    });
  }

  /** Stops the threads (call once nothing is pending). */
  async close(): Promise<void> {
    await this.#checkpointer.close();
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(THREAD, { eval: true, workerData: this.#paths });
    worker.unref();
    worker.on("message", (message: { id: number; error: { code: string; message: string } | null }) => {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (this.#pending.size === 0) worker.unref();
      if (pending === undefined) return;
      if (message.error === null) pending.resolve();
      else pending.reject(Object.assign(new Error(`fdatasync of the database's WAL failed: ${message.error.message}`), { code: message.error.code }));
    });
    const fail = (error: Error): void => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the WAL sync thread exited (${code})`)));
    this.#worker = worker;
    return worker;
  }
}
