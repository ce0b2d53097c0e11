/**
 * A demo step's verification: `expectThat(condition, what)` throws
 * {@link DemoCheckFailed} naming what did not hold, which ends the run with
 * exit status 1.
 */

/** A verification of the demo did not hold. */
export class DemoCheckFailed extends Error {
  /** Stable code, for scripts that drive the demo. */
  readonly code = "DEMO_CHECK_FAILED";
  /** Whatever helps the operator see why (a response body, a log tail). */
  readonly evidence: readonly string[];

  constructor(message: string, evidence: readonly string[] = []) {
    super(message);
    this.name = "DemoCheckFailed";
    this.evidence = evidence;
  }
}

/** Throws {@link DemoCheckFailed} with `what` unless `condition` holds. */
export function expectThat(condition: boolean, what: string, evidence: readonly string[] = []): asserts condition {
  if (!condition) throw new DemoCheckFailed(what, evidence);
}
