/**
 * Remembers the outcome of signature checks between parsed objects.
 *
 * Whether a certificate or CRL carries a valid signature of an issuer's key
 * is a pure function of the two objects' bytes, and parsed certificates and
 * CRLs are never mutated after parsing. A gateway passes the same parsed
 * root, CRL and (cached) signer certificate for every envelope of a peer, so
 * the same signatures would otherwise be verified again and again. Entries
 * are keyed by object identity in WeakMaps: they live exactly as long as the
 * objects, and a re-parsed (possibly different) object is checked afresh.
 * Only the signature outcome is remembered; times, usages and revocation are
 * checked on every call.
 */
const outcomes = new WeakMap<object, WeakMap<object, boolean>>();

/** `check()`'s result for (`signed`, `signer`), computed once per pair of objects. */
export function rememberedSignatureCheck(signed: object, signer: object, check: () => boolean): boolean {
  let bySigner = outcomes.get(signed);
  if (bySigner === undefined) {
    bySigner = new WeakMap();
    outcomes.set(signed, bySigner);
  }
  const known = bySigner.get(signer);
  if (known !== undefined) return known;
  const outcome = check();
  bySigner.set(signer, outcome);
  return outcome;
}
