/**
 * When `valise start` must stop: SIGTERM or SIGINT to its process, or its
 * parent going away.
 *
 * The parent matters because launchers do not all pass signals on. Under
 * `npx valise start` the tree is npm → sh → node: npm forwards SIGTERM to
 * the shell, the shell dies without forwarding it, and the gateway would
 * run on as an orphan (re-parented to init) holding its ports and leases.
 * So the process also watches its parent id and stops, as for SIGTERM, when
 * it changes. (Linux's PR_SET_PDEATHSIG is not reachable from Node.)
 */

/** How often the parent id is checked. */
const PARENT_CHECK_MS = 500;

/** A stop request: resolves with what asked for it. */
export interface StopSignals {
  readonly requested: Promise<string>;
  /** Removes the listeners and the watch. */
  dispose(): void;
}

/** Listens for SIGTERM and SIGINT and watches the parent process of `proc`. */
export function stopSignals(proc: NodeJS.Process = process): StopSignals {
  let resolve!: (why: string) => void;
  const requested = new Promise<string>((r) => (resolve = r));
  const onTerm = (): void => resolve("SIGTERM");
  const onInt = (): void => resolve("SIGINT");
  proc.once("SIGTERM", onTerm);
  proc.once("SIGINT", onInt);
  const parent = proc.ppid;
  const watch = setInterval(() => {
    if (proc.ppid !== parent) resolve(`parent process ${parent} exited`);
  }, PARENT_CHECK_MS);
  watch.unref();
  return {
    requested,
    dispose() {
      clearInterval(watch);
      proc.off("SIGTERM", onTerm);
      proc.off("SIGINT", onInt);
    },
  };
}
