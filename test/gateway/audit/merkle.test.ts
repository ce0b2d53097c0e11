import { createHash } from "node:crypto";
import { expect } from "chai";
import {
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  subtreeCoordinates,
  treeRoot,
  type HashReader,
} from "../../../gateway/audit/merkle.js";
import { InMemoryTree, type TreeNode } from "../../../gateway/audit/merkle-tree.js";
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from "../../../gateway/audit/merkle-verify.js";
import { codeOf } from "../../error-code.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const h = (s: string): Buffer => Buffer.from(s, "hex");

/** Deterministic PRNG (mulberry32), so every run checks the same cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// RFC 6962 reference test data, as in the Certificate Transparency
// implementations (google/certificate-transparency merkle tests,
// transparency-dev/merkle testonly): 8 leaves, the roots of sizes 1..8, and
// precomputed inclusion and consistency proofs.
const CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(h);
const CT_ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
const CT_INCLUSION: { index: number; size: number; proof: string[] }[] = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  { index: 2, size: 3, proof: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"] },
  {
    index: 1,
    size: 5,
    proof: [
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
];
const CT_CONSISTENCY: { oldSize: number; newSize: number; proof: string[] }[] = [
  { oldSize: 1, newSize: 1, proof: [] },
  {
    oldSize: 1,
    newSize: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    oldSize: 6,
    newSize: 8,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  {
    oldSize: 2,
    newSize: 5,
    proof: [
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
];

/** Leaf hashes of a deterministic pseudo-random log of `n` entries. */
function randomLeafHashes(n: number, seed: number): Buffer[] {
  const next = prng(seed);
  return Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`entry ${i} ${next()}`)));
}

/** Flips one bit of one byte of `proof[at]`, returning a new proof. */
function flipped(proof: readonly Buffer[], at: number, byte: number): Buffer[] {
  return proof.map((hash, i) => {
    if (i !== at) return hash;
    const copy = Buffer.from(hash);
    copy[byte] = (copy[byte] as number) ^ 0x01;
    return copy;
  });
}

describe("gateway/audit/merkle (RFC 9162 §2.1)", () => {
  describe("hashing and published test vectors", () => {
    const ctTree = InMemoryTree.fromLeafHashes(CT_LEAVES.map((leaf) => leafHash(leaf)));

    it("hashes the empty tree to SHA-256 of the empty string", () => {
      expect(hex(emptyRoot())).to.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
      expect(hex(rootFromLeafHashes([]))).to.equal(hex(emptyRoot()));
      expect(hex(treeRoot(new InMemoryTree(), 0))).to.equal(hex(emptyRoot()));
    });

    it("prefixes leaves with 0x00 and nodes with 0x01", () => {
      const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
      expect(hex(leafHash(h("2021")))).to.equal(sha(h("002021")));
      expect(hex(nodeHash(h("aa"), h("bb")))).to.equal(sha(h("01aabb")));
    });

    it("reproduces the CT roots of sizes 1..8, by the reference and from stored subtrees", () => {
      for (let size = 1; size <= 8; size++) {
        const expected = CT_ROOTS[size - 1];
        expect(hex(rootFromLeafHashes(CT_LEAVES.slice(0, size).map((leaf) => leafHash(leaf)))), `reference ${size}`).to.equal(expected);
        expect(hex(treeRoot(ctTree, size)), `stored ${size}`).to.equal(expected);
      }
    });

    it("produces and verifies the CT inclusion proofs", () => {
      for (const vector of CT_INCLUSION) {
        const proof = inclusionProof(ctTree, vector.index, vector.size);
        expect(proof.map(hex), `${vector.index}/${vector.size}`).to.deep.equal(vector.proof);
        const root = h(CT_ROOTS[vector.size - 1] as string);
        verifyInclusion(leafHash(CT_LEAVES[vector.index] as Buffer), vector.index, vector.size, vector.proof.map(h), root);
        expect(hex(rootFromInclusionProof(leafHash(CT_LEAVES[vector.index] as Buffer), vector.index, vector.size, vector.proof.map(h)))).to.equal(
          hex(root),
        );
      }
      // The CT suite's negative case: the proof of leaf 5 does not prove leaf 5 at index 4.
      const five = CT_INCLUSION[2] as (typeof CT_INCLUSION)[number];
      expect(codeOf(() => verifyInclusion(leafHash(CT_LEAVES[5] as Buffer), 4, 8, five.proof.map(h), h(CT_ROOTS[7] as string)))).to.equal(
        "AUDIT_PROOF_INVALID",
      );
    });

    it("produces and verifies the CT consistency proofs", () => {
      for (const vector of CT_CONSISTENCY) {
        expect(consistencyProof(ctTree, vector.oldSize, vector.newSize).map(hex), `${vector.oldSize}->${vector.newSize}`).to.deep.equal(
          vector.proof,
        );
        verifyConsistency(
          vector.oldSize,
          vector.newSize,
          h(CT_ROOTS[vector.oldSize - 1] as string),
          h(CT_ROOTS[vector.newSize - 1] as string),
          vector.proof.map(h),
        );
      }
      // The proof 6 -> 8 does not prove 5 -> 8.
      const sixToEight = (CT_CONSISTENCY[2] as (typeof CT_CONSISTENCY)[number]).proof.map(h);
      expect(codeOf(() => verifyConsistency(6, 8, h(CT_ROOTS[4] as string), h(CT_ROOTS[7] as string), sixToEight))).to.equal(
        "AUDIT_CONSISTENCY_FAILED",
      );
    });
  });

  describe("InMemoryTree level arrays", () => {
    it("returns exactly the completed (level, idx, hash) nodes of each append", () => {
      const leaves = randomLeafHashes(300, 1);
      const tree = new InMemoryTree();
      const rows = new Map<string, Buffer>();
      leaves.forEach((leaf, i) => {
        const nodes: TreeNode[] = tree.appendLeaf(leaf);
        expect(nodes[0]).to.deep.include({ level: 0, idx: i });
        for (const node of nodes) {
          const key = `${node.level}/${node.idx}`;
          expect(rows.has(key), `${key} written twice`).to.equal(false);
          rows.set(key, node.hash);
          const width = 2 ** node.level;
          expect(hex(node.hash)).to.equal(hex(rootFromLeafHashes(leaves.slice(node.idx * width, (node.idx + 1) * width))));
        }
        // Every perfect subtree that exists is stored: sum over levels of floor(n / 2^h).
        let expected = 0;
        for (let width = 1; width <= i + 1; width *= 2) expected += Math.floor((i + 1) / width);
        expect(rows.size).to.equal(expected);
      });
      // A reader over the stored rows alone (what a SQLite table would serve) gives the same answers.
      const stored: HashReader = {
        leafCount: leaves.length,
        subtreeHash(start, size) {
          const { level, idx } = subtreeCoordinates(start, size);
          const hash = rows.get(`${level}/${idx}`);
          if (hash === undefined) throw new Error(`missing ${level}/${idx}`);
          return hash;
        },
      };
      expect(hex(treeRoot(stored, 300))).to.equal(hex(rootFromLeafHashes(leaves)));
      expect(inclusionProof(stored, 123, 250).map(hex)).to.deep.equal(inclusionProof(tree, 123, 250).map(hex));
      expect(consistencyProof(stored, 77, 299).map(hex)).to.deep.equal(consistencyProof(tree, 77, 299).map(hex));
    });

    it("refuses a leaf hash that is not 32 bytes, and subtrees it does not hold", () => {
      const tree = InMemoryTree.fromLeafHashes(randomLeafHashes(5, 2));
      expect(codeOf(() => tree.appendLeaf(Buffer.alloc(31)))).to.equal("AUDIT_INVALID_ARGUMENT");
      expect(codeOf(() => tree.subtreeHash(4, 2))).to.equal("AUDIT_INVALID_ARGUMENT");
      expect(codeOf(() => tree.subtreeHash(2, 4))).to.equal("AUDIT_INVALID_ARGUMENT"); // unaligned
      expect(codeOf(() => tree.subtreeHash(0, 3))).to.equal("AUDIT_INVALID_ARGUMENT"); // not a power of two
      expect(tree.level(2)).to.have.length(1);
    });

    it("refuses proofs beyond the stored tree", () => {
      const tree = InMemoryTree.fromLeafHashes(randomLeafHashes(10, 3));
      expect(codeOf(() => treeRoot(tree, 11))).to.equal("AUDIT_INVALID_ARGUMENT");
      expect(codeOf(() => inclusionProof(tree, 10, 10))).to.equal("AUDIT_INVALID_ARGUMENT");
      expect(codeOf(() => inclusionProof(tree, 0, 0))).to.equal("AUDIT_INVALID_ARGUMENT");
      expect(codeOf(() => inclusionProof(tree, -1, 5))).to.equal("AUDIT_INVALID_ARGUMENT");
      expect(codeOf(() => inclusionProof(tree, 1.5, 5))).to.equal("AUDIT_INVALID_ARGUMENT");
      expect(codeOf(() => consistencyProof(tree, 6, 5))).to.equal("AUDIT_INVALID_ARGUMENT");
      expect(codeOf(() => consistencyProof(tree, 5, 11))).to.equal("AUDIT_INVALID_ARGUMENT");
    });
  });

  describe("properties over random trees", () => {
    const leaves = randomLeafHashes(5000, 42);
    const tree = InMemoryTree.fromLeafHashes(leaves);
    const roots = new Map<number, Buffer>();
    const referenceRoot = (size: number): Buffer => {
      let root = roots.get(size);
      if (root === undefined) {
        root = rootFromLeafHashes(leaves.slice(0, size));
        roots.set(size, root);
      }
      return root;
    };
    const next = prng(7);
    const pick = (below: number): number => Math.floor(next() * below);
    const largeSizes = [511, 512, 513, 1023, 1024, 1025, 2047, 3000, 4095, 4096, 4097, 4999, 5000];

    it("roots from stored subtrees equal the reference for sizes 0..300 and large sizes", () => {
      for (let size = 0; size <= 300; size++) expect(hex(tree.root(size)), `size ${size}`).to.equal(hex(referenceRoot(size)));
      for (const size of largeSizes) expect(hex(tree.root(size)), `size ${size}`).to.equal(hex(referenceRoot(size)));
    });

    /** Checks one inclusion proof and that each mutation of it fails. */
    function checkInclusion(index: number, size: number, mutate: boolean): void {
      const proof = inclusionProof(tree, index, size);
      const root = referenceRoot(size);
      const leaf = leaves[index] as Buffer;
      verifyInclusion(leaf, index, size, proof, root);
      if (!mutate) return;
      const fails = (label: string, fn: () => void): void => {
        expect(codeOf(fn), `${label} (${index}/${size})`).to.equal("AUDIT_PROOF_INVALID");
      };
      proof.forEach((_, at) => fails(`flipped hash ${at}`, () => verifyInclusion(leaf, index, size, flipped(proof, at, pick(32)), root)));
      if (size > 1) {
        fails("next index", () => verifyInclusion(leaf, (index + 1) % size, size, proof, root));
        fails("other leaf", () => verifyInclusion(leaves[(index + 1) % size] as Buffer, index, size, proof, root));
        fails("truncated", () => verifyInclusion(leaf, index, size, proof.slice(0, -1), root));
        fails("first hash dropped", () => verifyInclusion(leaf, index, size, proof.slice(1), root));
      }
      fails("index = size", () => verifyInclusion(leaf, size, size, proof, root));
      fails("extended", () => verifyInclusion(leaf, index, size, [...proof, leaf], root));
      fails("extended at the front", () => verifyInclusion(leaf, index, size, [leaf, ...proof], root));
      fails("short hash", () => verifyInclusion(leaf, index, size, [...proof.slice(0, -1), Buffer.alloc(31)], root));
      fails("wrong root", () => verifyInclusion(leaf, index, size, proof, referenceRoot(size - 1)));
      if (index < size - 1) fails("smaller size", () => verifyInclusion(leaf, index, size - 1, proof, referenceRoot(size - 1)));
      if (size < leaves.length) fails("larger size", () => verifyInclusion(leaf, index, size + 1, proof, referenceRoot(size + 1)));
    }

    it("every inclusion proof verifies up to size 64; every mutation fails (all up to 40, a third beyond)", () => {
      for (let size = 1; size <= 64; size++) {
        for (let index = 0; index < size; index++) checkInclusion(index, size, size <= 40 || index % 3 === 0);
      }
    });

    it("sampled inclusion proofs verify, and mutations fail (sizes 65..300 and large)", () => {
      for (let size = 65; size <= 300; size++) {
        checkInclusion(0, size, false);
        checkInclusion(size - 1, size, true);
        for (let i = 0; i < 3; i++) checkInclusion(pick(size), size, i === 0);
      }
      for (const size of largeSizes) {
        checkInclusion(0, size, true);
        checkInclusion(size - 1, size, true);
        for (let i = 0; i < 20; i++) checkInclusion(pick(size), size, i < 3);
      }
    });

    /** Checks one consistency proof and that each mutation of it fails. */
    function checkConsistency(oldSize: number, newSize: number, mutate: boolean): void {
      const proof = consistencyProof(tree, oldSize, newSize);
      const oldRoot = referenceRoot(oldSize);
      const newRoot = referenceRoot(newSize);
      verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof);
      if (!mutate) return;
      const fails = (label: string, fn: () => void): void => {
        expect(codeOf(fn), `${label} (${oldSize}->${newSize})`).to.equal("AUDIT_CONSISTENCY_FAILED");
      };
      proof.forEach((_, at) =>
        fails(`flipped hash ${at}`, () => verifyConsistency(oldSize, newSize, oldRoot, newRoot, flipped(proof, at, pick(32)))),
      );
      if (proof.length > 0) {
        fails("truncated", () => verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof.slice(0, -1)));
        fails("first hash dropped", () => verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof.slice(1)));
      }
      fails("extended", () => verifyConsistency(oldSize, newSize, oldRoot, newRoot, [...proof, oldRoot]));
      fails("extended at the front", () => verifyConsistency(oldSize, newSize, oldRoot, newRoot, [newRoot, ...proof]));
      fails("old root altered", () => verifyConsistency(oldSize, newSize, flipped([oldRoot], 0, 5)[0] as Buffer, newRoot, proof));
      // Every tree extends the empty one: with old size 0 the new root is not constrained.
      if (oldSize > 0) fails("new root altered", () => verifyConsistency(oldSize, newSize, oldRoot, flipped([newRoot], 0, 9)[0] as Buffer, proof));
      if (oldSize < newSize) {
        fails("roots swapped", () => verifyConsistency(oldSize, newSize, newRoot, oldRoot, proof));
        fails("sizes swapped", () => verifyConsistency(newSize, oldSize, newRoot, oldRoot, proof));
      }
      if (oldSize > 1 && oldSize < newSize) {
        fails("smaller old size", () => verifyConsistency(oldSize - 1, newSize, referenceRoot(oldSize - 1), newRoot, proof));
      }
      if (oldSize + 1 < newSize) {
        fails("larger old size", () => verifyConsistency(oldSize + 1, newSize, referenceRoot(oldSize + 1), newRoot, proof));
      }
      if (newSize < leaves.length && oldSize > 0) {
        fails("larger new size", () => verifyConsistency(oldSize, newSize + 1, oldRoot, referenceRoot(newSize + 1), proof));
      }
      if (newSize - 1 > oldSize && oldSize > 0) {
        fails("smaller new size", () => verifyConsistency(oldSize, newSize - 1, oldRoot, referenceRoot(newSize - 1), proof));
      }
    }

    it("every consistency proof verifies up to size 64; every mutation fails (all up to 40, a third beyond)", () => {
      for (let newSize = 1; newSize <= 64; newSize++) {
        for (let oldSize = 0; oldSize <= newSize; oldSize++) checkConsistency(oldSize, newSize, newSize <= 40 || oldSize % 3 === 0);
      }
    });

    it("sampled consistency proofs verify, and mutations fail (sizes 65..300 and large)", () => {
      for (let newSize = 65; newSize <= 300; newSize++) {
        checkConsistency(1, newSize, false);
        checkConsistency(newSize - 1, newSize, true);
        for (let i = 0; i < 3; i++) checkConsistency(1 + pick(newSize), newSize, i === 0);
      }
      for (const newSize of largeSizes) {
        for (let i = 0; i < 8; i++) checkConsistency(1 + pick(newSize), newSize, i < 3);
        if (newSize >= 512) checkConsistency(512, newSize, true);
      }
    });
  });

  describe("edge cases", () => {
    const leaves = randomLeafHashes(3, 9);
    const tree = InMemoryTree.fromLeafHashes(leaves);

    it("smallest possible tree: one leaf, empty proof, root = leaf hash", () => {
      expect(inclusionProof(tree, 0, 1)).to.deep.equal([]);
      expect(hex(tree.root(1))).to.equal(hex(leaves[0] as Buffer));
      verifyInclusion(leaves[0] as Buffer, 0, 1, [], leaves[0] as Buffer);
      expect(codeOf(() => verifyInclusion(leaves[1] as Buffer, 0, 1, [], leaves[0] as Buffer))).to.equal("AUDIT_PROOF_INVALID");
      expect(codeOf(() => verifyInclusion(leaves[0] as Buffer, 0, 1, [leaves[1] as Buffer], leaves[0] as Buffer))).to.equal(
        "AUDIT_PROOF_INVALID",
      );
    });

    it("no inclusion in the empty tree", () => {
      expect(codeOf(() => verifyInclusion(leaves[0] as Buffer, 0, 0, [], emptyRoot()))).to.equal("AUDIT_PROOF_INVALID");
      expect(codeOf(() => rootFromInclusionProof(Buffer.alloc(31), 0, 1, []))).to.equal("AUDIT_PROOF_INVALID");
    });

    it("old size equals new size: empty proof, equal roots", () => {
      expect(consistencyProof(tree, 3, 3)).to.deep.equal([]);
      verifyConsistency(3, 3, tree.root(3), tree.root(3), []);
      expect(codeOf(() => verifyConsistency(3, 3, tree.root(3), tree.root(2), []))).to.equal("AUDIT_CONSISTENCY_FAILED");
      expect(codeOf(() => verifyConsistency(3, 3, tree.root(3), tree.root(3), [tree.root(3)]))).to.equal("AUDIT_CONSISTENCY_FAILED");
      verifyConsistency(0, 0, emptyRoot(), emptyRoot(), []);
    });

    it("old size 0: empty proof, old root the empty-tree root", () => {
      expect(consistencyProof(tree, 0, 3)).to.deep.equal([]);
      verifyConsistency(0, 3, emptyRoot(), tree.root(3), []);
      expect(codeOf(() => verifyConsistency(0, 3, emptyRoot(), tree.root(3), [tree.root(3)]))).to.equal("AUDIT_CONSISTENCY_FAILED");
      expect(codeOf(() => verifyConsistency(0, 3, tree.root(1), tree.root(3), []))).to.equal("AUDIT_CONSISTENCY_FAILED");
    });

    it("refuses an empty proof between different sizes, a shrinking tree and unsafe sizes", () => {
      expect(codeOf(() => verifyConsistency(1, 3, tree.root(1), tree.root(3), []))).to.equal("AUDIT_CONSISTENCY_FAILED");
      expect(codeOf(() => verifyConsistency(3, 1, tree.root(3), tree.root(1), consistencyProof(tree, 1, 3)))).to.equal(
        "AUDIT_CONSISTENCY_FAILED",
      );
      expect(codeOf(() => verifyConsistency(1, 2 ** 53, tree.root(1), tree.root(3), [tree.root(3)]))).to.equal("AUDIT_CONSISTENCY_FAILED");
      expect(codeOf(() => verifyInclusion(leaves[0] as Buffer, 0, Number.NaN, [], tree.root(1)))).to.equal("AUDIT_PROOF_INVALID");
    });
  });

  describe("indices beyond 32 bits", () => {
    // A virtual tree of 2^40 + 777 leaves, all equal except a few: perfect
    // subtrees without a special leaf share one hash per level, so any
    // subtree hash costs O(specials × height).
    const specials = new Set([0, 2 ** 33 + 5, 2 ** 35 + 2, 2 ** 40 + 776]);
    const plain = leafHash(Buffer.from("plain"));
    const uniform: Buffer[] = [plain];
    for (let level = 1; level <= 41; level++) uniform.push(nodeHash(uniform[level - 1] as Buffer, uniform[level - 1] as Buffer));
    const leafAt = (i: number): Buffer => (specials.has(i) ? leafHash(Buffer.from(`special ${i}`)) : plain);
    const hashOf = (start: number, size: number): Buffer => {
      if (![...specials].some((s) => s >= start && s < start + size)) return uniform[Math.round(Math.log2(size))] as Buffer;
      if (size === 1) return leafAt(start);
      return nodeHash(hashOf(start, size / 2), hashOf(start + size / 2, size / 2));
    };
    const virtual: HashReader = {
      leafCount: 2 ** 40 + 777,
      subtreeHash(start, size) {
        subtreeCoordinates(start, size);
        return hashOf(start, size);
      },
    };

    it("proves inclusion and consistency with numeric, not 32-bit, index arithmetic", () => {
      const size = 2 ** 40 + 777;
      const root = treeRoot(virtual, size);
      for (const index of specials) {
        const proof = inclusionProof(virtual, index, size);
        expect(proof).to.have.length(index < 2 ** 40 ? 41 : 4);
        verifyInclusion(leafAt(index), index, size, proof, root);
        expect(codeOf(() => verifyInclusion(leafAt(index), index + 1, size, proof, root))).to.equal("AUDIT_PROOF_INVALID");
        // Truncating the index to 32 bits, as `|` or `>>` would, must not verify.
        if (index >= 2 ** 32) {
          expect(codeOf(() => verifyInclusion(leafAt(index), index % 2 ** 32, size, proof, root))).to.equal("AUDIT_PROOF_INVALID");
        }
      }
      const oldSize = 2 ** 35 + 3;
      const proof = consistencyProof(virtual, oldSize, size);
      verifyConsistency(oldSize, size, treeRoot(virtual, oldSize), root, proof);
      expect(codeOf(() => verifyConsistency(oldSize - 1, size, treeRoot(virtual, oldSize - 1), root, proof))).to.equal(
        "AUDIT_CONSISTENCY_FAILED",
      );
    });
  });
});
