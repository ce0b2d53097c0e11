/**
 * Pure verification of RFC 9162 inclusion and consistency proofs, by the
 * bit-manipulation algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.
 *
 * Every argument may come from a hostile peer or a tampered export: sizes,
 * indices and proof hashes are checked before use, and a proof may be
 * neither shorter nor longer than the one the sizes imply. Verifiers throw a
 * GatewayError (AUDIT_PROOF_INVALID, AUDIT_CONSISTENCY_FAILED) rather than
 * return false, so a caller cannot forget to look at the result; `details.reason`
 * says which check failed.
 *
 * Indices and sizes are numbers, exact up to 2^53 - 1; "LSB" and "right
 * shift" are done arithmetically, because JavaScript's bitwise operators
 * truncate to 32 bits.
 */
import { GatewayError } from "../errors.js";
import { HASH_SIZE, emptyRoot, isPowerOfTwo, isSafeIndex, nodeHash } from "./merkle.js";

/**
 * The root implied by an inclusion proof of `leafHash` at `index` in a tree
 * of `size` leaves (RFC 9162 §2.1.3.2 steps 1–4). Throws AUDIT_PROOF_INVALID
 * when the proof cannot be for that index and size (index out of range,
 * wrong length, a hash not 32 bytes).
 */
export function rootFromInclusionProof(leafHash: Uint8Array, index: number, size: number, proof: readonly Uint8Array[]): Buffer {
  const fail = (reason: string): GatewayError =>
    new GatewayError("AUDIT_PROOF_INVALID", `Inclusion proof rejected: ${reason}.`, { details: { reason, index, size } });
  if (!isSafeIndex(index) || !isSafeIndex(size) || index >= size) throw fail("index not below size");
  if (leafHash.length !== HASH_SIZE) throw fail("leaf hash not 32 bytes");
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    // A proof longer than the path from leaf to root: stop before hashing more of it.
    if (sn === 0) throw fail("proof too long");
    if (p.length !== HASH_SIZE) throw fail("proof hash not 32 bytes");
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw fail("proof too short");
  return r;
}

/**
 * Checks that `proof` proves `leafHash` is leaf `index` of the tree of
 * `size` leaves whose root is `root` (RFC 9162 §2.1.3.2). Returns nothing;
 * throws AUDIT_PROOF_INVALID.
 *
 * @example
 * verifyInclusion(leafHash(entryBytes), receipt.log.index, checkpoint.size, proof, checkpoint.rootHash);
 */
export function verifyInclusion(leafHash: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): void {
  const computed = rootFromInclusionProof(leafHash, index, size, proof);
  if (root.length !== HASH_SIZE || !computed.equals(root)) {
    throw new GatewayError("AUDIT_PROOF_INVALID", "Inclusion proof rejected: root mismatch.", {
      details: { reason: "root mismatch", index, size },
    });
  }
}

/**
 * Checks that `proof` proves the tree of `newSize` leaves with root
 * `newRoot` extends the tree of `oldSize` leaves with root `oldRoot`
 * (RFC 9162 §2.1.4.2). Returns nothing; throws AUDIT_CONSISTENCY_FAILED.
 *
 * Edge cases, as in the tlog-witness protocol: when `oldSize` equals
 * `newSize` the proof must be empty and the roots equal; when `oldSize` is 0
 * the proof must be empty and `oldRoot` must be the empty-tree root
 * (`emptyRoot()`), since every tree extends the empty one.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  const fail = (reason: string): GatewayError =>
    new GatewayError("AUDIT_CONSISTENCY_FAILED", `Consistency proof rejected: ${reason}.`, {
      details: { reason, oldSize, newSize },
    });
  if (!isSafeIndex(oldSize) || !isSafeIndex(newSize) || oldSize > newSize) throw fail("old size exceeds new size");
  if (oldRoot.length !== HASH_SIZE || newRoot.length !== HASH_SIZE) throw fail("root not 32 bytes");
  if (proof.some((hash) => hash.length !== HASH_SIZE)) throw fail("proof hash not 32 bytes");
  if (oldSize === newSize) {
    if (proof.length !== 0) throw fail("proof not empty for equal sizes");
    if (!Buffer.from(oldRoot).equals(newRoot)) throw fail("roots differ for equal sizes");
    return;
  }
  if (oldSize === 0) {
    if (proof.length !== 0) throw fail("proof not empty for old size 0");
    if (!emptyRoot().equals(oldRoot)) throw fail("old root is not the empty-tree root");
    return;
  }
  if (proof.length === 0) throw fail("proof empty");

  // Step 1: a perfect old tree is itself the first node of the path.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  // Steps 2–3.
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 4.
  let fr: Buffer = Buffer.from(path[0] as Uint8Array);
  let sr: Buffer = fr;
  // Step 5.
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Uint8Array;
    if (sn === 0) throw fail("proof too long");
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 6.
  if (sn !== 0) throw fail("proof too short");
  if (!fr.equals(oldRoot)) throw fail("old root mismatch");
  if (!sr.equals(newRoot)) throw fail("new root mismatch");
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}
