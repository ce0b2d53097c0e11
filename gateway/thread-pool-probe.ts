/**
 * A watch on libuv's thread pool (four threads unless UV_THREADPOOL_SIZE
 * says otherwise). Every file system call of the gateway (reading evidence,
 * writing uploads, realpath, stat) and some crypto run there; the event loop
 * and SQLite do not. So when a few calls never return — an open(2) of a
 * FIFO with no writer, a hung NFS mount — sending, submitting and receiving
 * hang while the HTTP servers still answer and nothing is logged.
 *
 * The probe makes that visible: every `intervalMs` it issues one tiny file
 * system call (a stat of the home) and times it. One that has waited longer
 * than `stallMs` means the pool is stalled: health (`/healthz`,
 * `/api/v1/health`) says so with the reason, and one error log line is
 * written when it starts and one info line when it ends. Only one probe is
 * in flight at a time, so a stalled pool does not pile probes up.
 */
import type { Logger } from "./log.js";

/** Tuning of the probe. */
export interface ThreadPoolProbeOptions {
  /** How often to probe (default 1 s). */
  readonly intervalMs: number;
  /** A probe waiting this long means a stalled pool (default 5 s). */
  readonly stallMs: number;
}

/** Defaults of {@link ThreadPoolProbeOptions}. */
export const DEFAULT_THREAD_POOL_PROBE: ThreadPoolProbeOptions = Object.freeze({ intervalMs: 1000, stallMs: 5000 });

/** What the probe saw. */
export interface ThreadPoolHealth {
  readonly stalled: boolean;
  /** How long the probe in flight has waited, in ms (null: none in flight). */
  readonly waitingMs: number | null;
  /** How long the last completed probe took, in ms (null: none completed yet). */
  readonly lastLatencyMs: number | null;
}

/** A running probe. */
export interface ThreadPoolProbe {
  start(): void;
  stop(): void;
  /** The pool's state now. */
  health(): ThreadPoolHealth;
}

/** What {@link threadPoolProbe} needs. */
export interface ThreadPoolProbeInput extends Partial<ThreadPoolProbeOptions> {
  /** One small call that runs on the thread pool, e.g. `() => stat(home)`. */
  readonly probe: () => Promise<unknown>;
  readonly logger: Logger;
  /** Monotonic milliseconds (default `performance.now`). */
  readonly clock?: () => number;
}

/** A probe of the thread pool; nothing runs until `start`. */
export function threadPoolProbe(input: ThreadPoolProbeInput): ThreadPoolProbe {
  const intervalMs = input.intervalMs ?? DEFAULT_THREAD_POOL_PROBE.intervalMs;
  const stallMs = input.stallMs ?? DEFAULT_THREAD_POOL_PROBE.stallMs;
  const clock = input.clock ?? (() => performance.now());
  let timer: NodeJS.Timeout | undefined;
  let startedAt: number | undefined;
  let lastLatencyMs: number | null = null;
  let reported = false;

  const waiting = (): number | null => (startedAt === undefined ? null : clock() - startedAt);

  const tick = (): void => {
    const waited = waiting();
    if (waited !== null) {
      if (waited >= stallMs && !reported) {
        reported = true;
        input.logger.error("the thread pool is stalled: file system work is not being done", { waitingMs: Math.round(waited), stallMs });
      }
      return;
    }
    const started = clock();
    startedAt = started;
    const settle = (): void => {
      lastLatencyMs = clock() - started;
      startedAt = undefined;
      if (reported) {
        reported = false;
        input.logger.info("the thread pool is working again", { latencyMs: Math.round(lastLatencyMs) });
      }
    };
    input.probe().then(settle, settle); // a failing stat still went through the pool
  };

  return {
    start() {
      if (timer !== undefined) return;
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
    health() {
      const waited = waiting();
      return { stalled: waited !== null && waited >= stallMs, waitingMs: waited === null ? null : Math.round(waited), lastLatencyMs: lastLatencyMs === null ? null : Math.round(lastLatencyMs) };
    },
  };
}
