/**
 * Default size and time limits of the envelope layer. Sizes are checked before
 * any parsing: a hostile peer must not make the gateway decode, parse or
 * verify more than these bounds.
 */

/** Size limits applied before any parsing. */
export interface EnvelopeLimits {
  /** Largest envelope accepted, in bytes (default 16 MiB). */
  readonly maxEnvelopeBytes: number;
  /** Largest JOSE protected header accepted, decoded, in bytes (default 32 KiB). */
  readonly maxHeaderBytes: number;
  /** Most certificates accepted in an `x5c` (default 4). */
  readonly maxCertificates: number;
}

/** Default {@link EnvelopeLimits}. */
export const DEFAULT_ENVELOPE_LIMITS: EnvelopeLimits = Object.freeze({
  maxEnvelopeBytes: 16 * 1024 * 1024,
  maxHeaderBytes: 32 * 1024,
  maxCertificates: 4,
});

/** Default clock skew allowed around `createdAt` (and `receivedAt`): 5 minutes. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60 * 1000;
