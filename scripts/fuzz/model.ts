/**
 * A fuzz case and its oracle: what it sends, and the class of answer a
 * correct gateway gives — accepted (2xx), or refused (4xx with a coded JSON
 * error, optionally one of `codes`; `noAnswerOk` when refusing before HTTP,
 * at the TLS handshake or by closing a connection cut short, is right too;
 * `codeless` for an answer that has no body, e.g. to HEAD).
 */
import type { Outcome } from "./client.js";

/** The expected class of answer. */
export type Expectation =
  | { readonly accepted: true }
  | { readonly refused: true; readonly codes?: readonly string[]; readonly noAnswerOk?: boolean; readonly codeless?: boolean };

/** One generated case. */
export interface FuzzCase {
  /** The family it counts under in the summary (e.g. `envelope`, `peer-http`, `local/auditor`). */
  readonly family: string;
  /** What was done to the input (for the failure list). */
  readonly kind: string;
  readonly expect: Expectation;
  /** An envelope id that must be stored after the run iff the case was accepted (a fresh id). */
  readonly envelopeId?: string;
  run(): Promise<Outcome>;
}

/** Shorthands. */
export const ACCEPTED: Expectation = { accepted: true };
export function refused(...codes: string[]): Expectation {
  return codes.length === 0 ? { refused: true } : { refused: true, codes };
}
