/**
 * Crash points, for the tests that prove a gateway loses nothing to a crash:
 * with `VALISE_TEST_CRASH_AT=<name>` in its environment, a gateway process
 * kills itself with SIGKILL — no cleanup, no flush, as kill -9 or a power
 * cut — when it reaches the point of that name. Tests set it only in a child
 * process (`valise start`); nothing else does. The variable is read at the
 * point, not when the module loads.
 *
 * Points:
 * - `evidence.package.delivered`: right after a delivered package (and the
 *   case step it implies) is committed, before anything else happens.
 */
export function crashPoint(name: string): void {
  if (process.env["VALISE_TEST_CRASH_AT"] === name) process.kill(process.pid, "SIGKILL");
}
