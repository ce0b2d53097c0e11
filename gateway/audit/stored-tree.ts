/**
 * The audit log's Merkle tree as the store keeps it: `audit_nodes` holds
 * every completed perfect subtree, so roots and proofs take O(log² n) node
 * lookups, never a rebuild.
 *
 * The Merkle functions (merkle.ts) are pure and synchronous; the nodes live
 * in a database that may be across a network. Which nodes a root or proof
 * reads depends only on the sizes, never on the hashes, so each computation
 * runs twice: once over a reader that records the coordinates asked for,
 * then — after one query fetched them all — over the fetched hashes.
 */
import { GatewayError } from "../errors.js";
import type { Tx } from "../store/store.js";
import { nodeHash, subtreeCoordinates, type HashReader } from "./merkle.js";

const ZERO = Buffer.alloc(32);

/** Runs `compute` over the stored tree of `leafCount` leaves, fetching the nodes it needs in one query. */
export async function withStoredTree<T>(tx: Tx, leafCount: number, compute: (reader: HashReader) => T): Promise<T> {
  const wanted = new Map<string, { level: number; idx: number }>();
  compute({
    leafCount,
    subtreeHash(start, size) {
      const c = subtreeCoordinates(start, size);
      wanted.set(`${c.level}:${c.idx}`, c);
      return ZERO;
    },
  });
  const nodes = await tx.audit.nodes([...wanted.values()]);
  return compute({
    leafCount,
    subtreeHash(start, size) {
      const { level, idx } = subtreeCoordinates(start, size);
      const hash = nodes.get(`${level}:${idx}`);
      // A missing node means rows were deleted behind the triggers' back.
      if (hash === undefined) throw new GatewayError("STORE_CORRUPT", `the audit tree lacks node (${level}, ${idx})`, { details: { level, idx } });
      return hash;
    },
  });
}

/**
 * Stores leaf `index` (the next one) and every perfect subtree it completes.
 * Call inside the transaction that stores the entry.
 */
export async function appendLeaf(tx: Tx, index: number, leaf: Buffer): Promise<void> {
  // The left siblings the new leaf completes: (level, idx - 1) while idx is odd.
  const siblings: Array<{ level: number; idx: number }> = [];
  for (let level = 0, idx = index; idx % 2 === 1; level += 1, idx = (idx - 1) / 2) siblings.push({ level, idx: idx - 1 });
  const stored = siblings.length === 0 ? new Map<string, Buffer>() : await tx.audit.nodes(siblings);
  const nodes = [{ level: 0, idx: index, hash: leaf }];
  let hash = leaf;
  for (const sibling of siblings) {
    const left = stored.get(`${sibling.level}:${sibling.idx}`);
    if (left === undefined) throw new GatewayError("STORE_CORRUPT", `the audit tree lacks node (${sibling.level}, ${sibling.idx})`, { details: sibling });
    hash = nodeHash(left, hash);
    nodes.push({ level: sibling.level + 1, idx: (sibling.idx) / 2, hash });
  }
  await tx.audit.insertNodes(nodes);
}
