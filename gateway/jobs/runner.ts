/**
 * One job runner for every background duty of a gateway instance.
 *
 * Several instances may share one store. Work that must happen once, not
 * once per instance, is coordinated through the store, never through memory:
 * - row jobs (deliver an outbox envelope, upload an evidence item) claim
 *   their rows under per-row leases, so any instance may run them;
 * - singleton jobs (sign and witness checkpoints, check deadlines, renew the
 *   CRL) run only on the instance holding the `leader` lease, which it
 *   renews every third of the lease time. An instance that dies loses the
 *   lease when it expires and another takes over; one that stops gives it up.
 *
 * A job's `run` does what is due and says when it wants to run again; the
 * runner keeps the timers, never runs a job twice at once, re-runs a job
 * woken while it was running, logs a failed run and retries it after the
 * job's idle time.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Store, Tx } from "../store/store.js";
import type { Logger } from "../log.js";

/** A background duty. */
export interface Job {
  /** Unique name, e.g. `delivery`, `checkpoints`, `deadlines`. */
  readonly name: string;
  /** Run only on the leader instance. */
  readonly singleton: boolean;
  /** Delay before the next run when `run` names none (or failed). */
  readonly idleMs: number;
  /** Delay before the first run after start (default 0). */
  readonly firstRunMs?: number;
  /** Does what is due; resolves with the delay (ms) until it wants to run again. */
  run(): Promise<number | undefined>;
  /** Waits for work the job started and has not finished (on stop). */
  settle?(): Promise<void>;
}

/** How the runner coordinates with other instances. */
export interface RunnerOptions {
  readonly store: Store;
  readonly logger: Logger;
  /** This instance's name in leases (default host:pid:random). */
  readonly owner?: string;
  /** Lease time of the leader (default 15 s); renewed every third of it. */
  readonly leaseMs?: number;
}

interface JobState {
  readonly job: Job;
  timer: NodeJS.Timeout | undefined;
  running: boolean;
  again: boolean;
}

const LEADER = "leader";

/** The lease every running instance renews with the leader lease: `instance:<owner>`. */
function instanceLease(owner: string): string {
  return `instance:${owner}`;
}

/** Whether the instance `owner` is running (its instance lease has not expired at `now`). */
export async function instanceAlive(tx: Tx, owner: string, now: number): Promise<boolean> {
  const lease = await tx.leases.get(instanceLease(owner));
  return lease !== undefined && lease.owner === owner && lease.expires_at > now;
}

/** Runs jobs until stopped. */
export class JobRunner {
  readonly owner: string;
  readonly leaseMs: number;
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #jobs = new Map<string, JobState>();
  readonly #runs = new Set<Promise<void>>();
  #started = false;
  #leader = false;
  #leaderSince: number | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;

  constructor(options: RunnerOptions) {
    this.#store = options.store;
    this.#logger = options.logger;
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
    this.leaseMs = options.leaseMs ?? 15_000;
  }

  /** Adds a job (before or after start). */
  add(job: Job): void {
    if (this.#jobs.has(job.name)) throw new Error(`job ${job.name} is already registered`);
    this.#jobs.set(job.name, { job, timer: undefined, running: false, again: false });
    if (this.#started) this.wake(job.name);
  }

  /** Whether this instance holds the leader lease. */
  get isLeader(): boolean {
    return this.#leader;
  }

  /** When this instance last became leader (epoch ms), if it is. */
  get leaderSince(): number | undefined {
    return this.#leader ? this.#leaderSince : undefined;
  }

  /** Starts: takes the leader lease if free, then runs every job. */
  async start(): Promise<void> {
    this.#started = true;
    await this.#renewLeadership();
    for (const state of this.#jobs.values()) this.#schedule(state, state.job.firstRunMs ?? 0);
  }

  /** Runs job `name` as soon as possible (again after its current run, if running). */
  wake(name: string): void {
    const state = this.#jobs.get(name);
    if (state === undefined || !this.#started) return;
    if (state.running) {
      state.again = true;
      return;
    }
    this.#schedule(state, 0);
  }

  /** Stops the timers, waits for running jobs and their work, gives the leader lease up. */
  async stop(): Promise<void> {
    this.#started = false;
    clearTimeout(this.#leaseTimer);
    for (const state of this.#jobs.values()) clearTimeout(state.timer);
    await Promise.allSettled([...this.#runs]);
    await Promise.allSettled([...this.#jobs.values()].map((state) => state.job.settle?.() ?? Promise.resolve()));
    const wasLeader = this.#leader;
    this.#leader = false;
    await this.#store
      .transaction(async (tx) => {
        await tx.leases.release(instanceLease(this.owner), this.owner);
        if (wasLeader) await tx.leases.release(LEADER, this.owner);
      })
      .catch(() => undefined);
  }

  #schedule(state: JobState, delayMs: number): void {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => this.#run(state), Math.max(0, delayMs));
    state.timer.unref();
  }

  #run(state: JobState): void {
    if (!this.#started || state.running) return;
    if (state.job.singleton && !this.#leader) return; // the lease loop wakes it on becoming leader
    state.running = true;
    state.again = false;
    const run = (async () => {
      let next: number | undefined;
      try {
        next = await state.job.run();
      } catch (error) {
        this.#logger.error("background job failed; retrying", { job: state.job.name, reason: error instanceof Error ? error.message : String(error) });
      }
      state.running = false;
      if (!this.#started) return;
      this.#schedule(state, state.again ? 0 : (next ?? state.job.idleMs));
    })();
    this.#runs.add(run);
    void run.finally(() => this.#runs.delete(run));
  }

  async #renewLeadership(): Promise<void> {
    // Leases run on the wall clock (an injected clock may stand still): the lease time must exceed the skew between hosts.
    const now = Date.now();
    let held = false;
    try {
      held = await this.#store.transaction(async (tx) => {
        await tx.leases.acquire(instanceLease(this.owner), this.owner, now, this.leaseMs);
        return tx.leases.acquire(LEADER, this.owner, now, this.leaseMs);
      });
    } catch (error) {
      // Without the store we cannot know whether we still lead: stop leading.
      this.#logger.warn("could not renew the leader lease", { reason: error instanceof Error ? error.message : String(error) });
    }
    if (held && !this.#leader) {
      this.#leader = true;
      this.#leaderSince = now;
      this.#logger.info("this instance leads the singleton jobs", { owner: this.owner });
      for (const state of this.#jobs.values()) if (state.job.singleton) this.wake(state.job.name);
    } else if (!held && this.#leader) {
      this.#leader = false;
      this.#logger.warn("this instance lost the leader lease", { owner: this.owner });
    }
    if (!this.#started) return;
    clearTimeout(this.#leaseTimer);
    this.#leaseTimer = setTimeout(() => void this.#renewLeadership(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.#leaseTimer.unref();
  }
}
