/**
 * Group commit: many small writes share one durable transaction.
 *
 * With `synchronous=FULL` every commit waits for the disk; one commit per
 * envelope would cap the gateway at the disk's fsync rate. Callers that are
 * about to acknowledge something (a 201 to a caseworker, a receipt to a peer)
 * queue their write here and await it: everything queued in the same turn of
 * the event loop commits together, and each promise settles only after that
 * commit has returned, i.e. after the data is on disk. Each write runs in its
 * own savepoint, so one failing write does not take the others down.
 */
import type { Db } from "./database.js";

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Batches writes into shared durable transactions. */
export class GroupCommit {
  #queue: Pending[] = [];
  #scheduled = false;
  #idle: Array<() => void> = [];
  readonly #db: Db;
  readonly #maxBatch: number;

  constructor(db: Db, maxBatch = 512) {
    this.#db = db;
    this.#maxBatch = maxBatch;
  }

  /**
   * Runs `work` (synchronous database code) in the next group transaction;
   * resolves with its result once committed, rejects with its error (its
   * savepoint rolled back) or with the commit's error.
   */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Resolves when nothing is queued (used when stopping). */
  drained(): Promise<void> {
    if (this.#queue.length === 0 && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    const batch = this.#queue.splice(0, this.#maxBatch);
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      // BEGIN IMMEDIATE: the write lock is taken before anything is read, so a
      // CLI command writing to the same database (valise token, pki, peers)
      // makes this batch wait (busy_timeout) rather than fail on a stale snapshot.
      this.#db
        .transaction(() => {
          for (const item of batch) {
            try {
              outcomes.push({ ok: true, value: this.#db.transaction(item.work)() });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
      batch.forEach((item, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.error);
      });
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing of the batch is on disk.
      for (const item of batch) item.reject(error);
    }
    this.#scheduled = false;
    if (this.#queue.length > 0) this.#schedule();
    else for (const resolve of this.#idle.splice(0)) resolve();
  }
}
