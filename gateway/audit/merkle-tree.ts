/**
 * An append-only Merkle tree kept as level arrays of perfect subtree hashes
 * (a compact, tile-like layout): `levels[h][i]` is the hash of the aligned
 * subtree of `2^h` leaves starting at leaf `i * 2^h`; `levels[0]` holds the
 * leaf hashes. Each append completes at most one node per level, and
 * {@link InMemoryTree.appendLeaf} returns exactly those nodes, so a store can
 * persist the same arrays as rows of a `(level, idx, hash)` table and serve
 * {@link HashReader} from it.
 */
import { GatewayError } from "../errors.js";
import { HASH_SIZE, nodeHash, subtreeCoordinates, treeRoot, type HashReader } from "./merkle.js";

/** One completed perfect subtree: a row of the `(level, idx, hash)` table. */
export interface TreeNode {
  readonly level: number;
  readonly idx: number;
  readonly hash: Buffer;
}

/**
 * An in-memory append-only Merkle tree over leaf hashes.
 *
 * @example
 * const tree = new InMemoryTree();
 * for (const entry of entries) store.insertNodes(tree.appendLeaf(leafHash(entry)));
 * const proof = inclusionProof(tree, 3, tree.leafCount);
 */
export class InMemoryTree implements HashReader {
  readonly #levels: Buffer[][] = [[]];

  /** A tree holding `leafHashes`, in order. */
  static fromLeafHashes(leafHashes: Iterable<Uint8Array>): InMemoryTree {
    const tree = new InMemoryTree();
    for (const hash of leafHashes) tree.appendLeaf(hash);
    return tree;
  }

  /** Number of leaves appended. */
  get leafCount(): number {
    return (this.#levels[0] as Buffer[]).length;
  }

  /**
   * Appends one leaf hash (see `leafHash`). Returns the nodes this append
   * completed, leaf first (level 0), then one per level upwards while the
   * new node closes a pair. Throws AUDIT_INVALID_ARGUMENT for a hash that
   * is not 32 bytes.
   */
  appendLeaf(hash: Uint8Array): TreeNode[] {
    if (hash.length !== HASH_SIZE) {
      throw new GatewayError("AUDIT_INVALID_ARGUMENT", "A leaf hash must be 32 bytes.", { details: { length: hash.length } });
    }
    const completed: TreeNode[] = [];
    let node: Buffer = Buffer.from(hash);
    for (let level = 0; ; level++) {
      let row = this.#levels[level];
      if (row === undefined) {
        row = [];
        this.#levels.push(row);
      }
      const idx = row.length;
      row.push(node);
      completed.push({ level, idx, hash: node });
      if (idx % 2 === 0) return completed;
      node = nodeHash(row[idx - 1] as Buffer, node);
    }
  }

  /** Hash of the aligned perfect subtree `[start, start + size)`; throws AUDIT_INVALID_ARGUMENT if it is not stored. */
  subtreeHash(start: number, size: number): Buffer {
    const { level, idx } = subtreeCoordinates(start, size);
    const hash = this.#levels[level]?.[idx];
    if (hash === undefined) {
      throw new GatewayError("AUDIT_INVALID_ARGUMENT", "The subtree extends beyond the stored leaves.", {
        details: { start, size, leafCount: this.leafCount },
      });
    }
    return hash;
  }

  /** Root of the first `size` leaves (default: all of them). */
  root(size: number = this.leafCount): Buffer {
    return treeRoot(this, size);
  }

  /** The stored nodes of `level` (a copy), e.g. to bulk-load a store. */
  level(level: number): readonly Buffer[] {
    return [...(this.#levels[level] ?? [])];
  }
}
