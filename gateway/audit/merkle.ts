/**
 * RFC 9162 §2.1 (identical to RFC 6962 §2.1) Merkle tree hashing, and the
 * prover side: tree roots, inclusion proofs and consistency proofs computed
 * from stored hashes of perfect subtrees, never by rebuilding the tree.
 *
 * Indices and sizes are JavaScript numbers, exact up to 2^53 - 1
 * (`Number.MAX_SAFE_INTEGER`); every function refuses anything else. A log
 * that grows by a million entries a second would take 285 years to get there.
 * No bitwise operators are used on indices (they truncate to 32 bits).
 */
import { createHash, hash } from "node:crypto";
import { GatewayError } from "../errors.js";

/** Bytes of every hash of the tree (SHA-256). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

// One-shot `hash` rather than a Hash object per call: an auditor hashes every
// entry and node of the log, and the object's set-up cost more than the hashing.

/** `SHA-256(0x00 ‖ entry)`: the hash of one log entry's bytes. */
export function leafHash(entry: Uint8Array): Buffer {
  return hash("sha256", Buffer.concat([LEAF_PREFIX, entry]), "buffer");
}

/** `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return hash("sha256", Buffer.concat([NODE_PREFIX, left, right], 1 + left.length + right.length), "buffer");
}

/** The root of the empty tree, `SHA-256("")` (e3b0c442…b855). */
export function emptyRoot(): Buffer {
  return createHash("sha256").digest();
}

/**
 * The Merkle tree hash (MTH) of a list of leaf hashes, by the definition of
 * RFC 9162 §2.1.1. A reference for tests and small trees: O(n) hashing per
 * call; use {@link treeRoot} over stored subtree hashes for a live log.
 */
export function rootFromLeafHashes(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) return emptyRoot();
  return mthOf(hashes, 0, hashes.length);
}

function mthOf(hashes: readonly Uint8Array[], start: number, size: number): Buffer {
  if (size === 1) return Buffer.from(hashes[start] as Uint8Array);
  const k = largestPowerOfTwoBelow(size);
  return nodeHash(mthOf(hashes, start, k), mthOf(hashes, start + k, size - k));
}

/**
 * Read access to the hashes of the perfect subtrees of a tree: for every
 * `size = 2^h` and `start` a multiple of `size` with `start + size <=
 * leafCount`, `subtreeHash(start, size)` is the MTH of leaves
 * `[start, start + size)`. Size 1 is the leaf hash itself. That is exactly
 * what {@link InMemoryTree} keeps, and what a `(level, idx, hash)` table
 * holds: `level = log2(size)`, `idx = start / size` (see
 * {@link subtreeCoordinates}).
 */
export interface HashReader {
  /** Number of leaves stored. */
  readonly leafCount: number;
  /** Hash of the aligned perfect subtree `[start, start + size)`. */
  subtreeHash(start: number, size: number): Buffer;
}

/** Position of an aligned perfect subtree in a level array. */
export interface SubtreeCoordinates {
  /** `log2(size)`; level 0 holds the leaf hashes. */
  readonly level: number;
  /** `start / size`. */
  readonly idx: number;
}

/**
 * The `(level, idx)` of the aligned perfect subtree `[start, start + size)`;
 * throws AUDIT_INVALID_ARGUMENT when `size` is not a power of two or `start`
 * is not a multiple of it.
 */
export function subtreeCoordinates(start: number, size: number): SubtreeCoordinates {
  if (!isSafeIndex(start) || !isSafeIndex(size) || size === 0 || !isPowerOfTwo(size) || start % size !== 0) {
    throw new GatewayError("AUDIT_INVALID_ARGUMENT", "Not an aligned perfect subtree.", { details: { start, size } });
  }
  return { level: Math.round(Math.log2(size)), idx: start / size };
}

/** The root of the first `size` leaves of `reader` (size 0: {@link emptyRoot}). O(log size) lookups. */
export function treeRoot(reader: HashReader, size: number): Buffer {
  checkSize(reader, size);
  return size === 0 ? emptyRoot() : rangeHash(reader, 0, size);
}

/**
 * The RFC 9162 §2.1.3.1 inclusion proof (audit path) of leaf `index` in the
 * tree of the first `size` leaves, ordered from the leaf upwards.
 * Throws AUDIT_INVALID_ARGUMENT unless `index < size <= reader.leafCount`.
 */
export function inclusionProof(reader: HashReader, index: number, size: number): Buffer[] {
  checkSize(reader, size);
  if (!isSafeIndex(index) || index >= size) {
    throw new GatewayError("AUDIT_INVALID_ARGUMENT", "The leaf index is not below the tree size.", { details: { index, size } });
  }
  // PATH(m, D[start:start+n]) unrolled from the root down; collected top-down.
  const path: Buffer[] = [];
  let start = 0;
  let n = size;
  let m = index;
  while (n > 1) {
    const k = largestPowerOfTwoBelow(n);
    if (m < k) {
      path.push(rangeHash(reader, start + k, n - k));
      n = k;
    } else {
      path.push(rangeHash(reader, start, k));
      start += k;
      m -= k;
      n -= k;
    }
  }
  return path.reverse();
}

/**
 * The RFC 9162 §2.1.4.1 consistency proof from the tree of `oldSize` leaves
 * to the tree of `newSize` leaves. Empty when `oldSize` is 0 or equals
 * `newSize` (the tlog-witness convention). Throws AUDIT_INVALID_ARGUMENT
 * unless `oldSize <= newSize <= reader.leafCount`.
 */
export function consistencyProof(reader: HashReader, oldSize: number, newSize: number): Buffer[] {
  checkSize(reader, newSize);
  if (!isSafeIndex(oldSize) || oldSize > newSize) {
    throw new GatewayError("AUDIT_INVALID_ARGUMENT", "The old tree size exceeds the new tree size.", { details: { oldSize, newSize } });
  }
  if (oldSize === 0 || oldSize === newSize) return [];
  // SUBPROOF(m, D[start:start+n], b) unrolled; collected top-down.
  const proof: Buffer[] = [];
  let start = 0;
  let n = newSize;
  let m = oldSize;
  let complete = true;
  while (m !== n) {
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      proof.push(rangeHash(reader, start + k, n - k));
      n = k;
    } else {
      proof.push(rangeHash(reader, start, k));
      start += k;
      m -= k;
      n -= k;
      complete = false;
    }
  }
  if (!complete) proof.push(rangeHash(reader, start, n));
  return proof.reverse();
}

/**
 * MTH of leaves `[start, start + size)` where `start` is aligned to the
 * smallest power of two >= size (always true inside the RFC recursion from
 * the root): split at the largest power of two k < size; the left part is a
 * perfect subtree (one lookup), recurse on the right.
 */
function rangeHash(reader: HashReader, start: number, size: number): Buffer {
  const lefts: Buffer[] = [];
  let s = start;
  let n = size;
  while (!isPowerOfTwo(n)) {
    const k = largestPowerOfTwoBelow(n);
    lefts.push(reader.subtreeHash(s, k));
    s += k;
    n -= k;
  }
  let hash = reader.subtreeHash(s, n);
  for (let i = lefts.length - 1; i >= 0; i--) hash = nodeHash(lefts[i] as Buffer, hash);
  return hash;
}

function checkSize(reader: HashReader, size: number): void {
  if (!isSafeIndex(size) || size > reader.leafCount) {
    throw new GatewayError("AUDIT_INVALID_ARGUMENT", "The tree size exceeds the number of stored leaves.", {
      details: { size, leafCount: reader.leafCount },
    });
  }
}

/** True for integers in `[0, 2^53 - 1]`. */
export function isSafeIndex(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** True for 1, 2, 4, 8, … (exact for safe integers). */
export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

/** The largest power of two strictly below `n` (n >= 2): RFC 9162's k. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
