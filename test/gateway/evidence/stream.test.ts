/**
 * The STREAM construction over AES-256-GCM: round trips at the edges of the
 * chunking (empty, one byte, an exact multiple, several chunks, pieces of
 * any length), and each way a sealed stream can be damaged rejected with its
 * own code — with nothing of a bad chunk, and no last chunk of a wrong
 * digest, ever handed out.
 */
import { createHash, randomBytes } from "node:crypto";
import { expect } from "chai";
import {
  SealedStreamReader,
  TAG_BYTES,
  chunkCount,
  chunkNonce,
  itemAad,
  newItemKey,
  sealItem,
  sealedLength,
  sealedOffsetOf,
  type OpenedChunk,
  type StreamParams,
} from "../../../gateway/evidence/stream.js";

const CHUNK = 64;
const PACKAGE = "a7d3e0c1-5b2f-4c8e-9d61-0f4e2a8b3c57";
const ITEM = "c2d4f6a8-1b3d-4e5f-8a7b-9c0d1e2f3a4b";

function paramsFor(size: number, chunkSize = CHUNK): StreamParams {
  return { ...newItemKey(), size, chunkSize, aad: itemAad(PACKAGE, ITEM) };
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Feeds `sealed` in pieces of `piece` bytes; returns the opened chunks and the reader. */
function readAll(params: StreamParams, sealed: Uint8Array, expected?: string, piece = 17): { chunks: OpenedChunk[]; reader: SealedStreamReader } {
  const reader = new SealedStreamReader(params, expected);
  const chunks: OpenedChunk[] = [];
  for (let at = 0; at < sealed.byteLength; at += piece) chunks.push(...reader.write(sealed.subarray(at, at + piece)));
  reader.finish();
  return { chunks, reader };
}

/** The code of the error `work` throws, with whatever chunks were handed out before it. */
function failureOf(params: StreamParams, sealed: Uint8Array, expected?: string): { code: string; handedOut: number[] } {
  const reader = new SealedStreamReader(params, expected);
  const handedOut: number[] = [];
  try {
    for (let at = 0; at < sealed.byteLength; at += 29) for (const chunk of reader.write(sealed.subarray(at, at + 29))) handedOut.push(chunk.index);
    reader.finish();
  } catch (error) {
    return { code: (error as { code: string }).code, handedOut };
  }
  throw new Error("the damaged stream was accepted");
}

/** The sealed chunks of a stream, as separate buffers. */
function chunksOf(params: StreamParams, sealed: Buffer): Buffer[] {
  const n = chunkCount(params.size, params.chunkSize);
  return Array.from({ length: n }, (_, i) => sealed.subarray(sealedOffsetOf(i, params.size, params.chunkSize), sealedOffsetOf(i + 1, params.size, params.chunkSize)));
}

describe("gateway/evidence/stream", function () {
  describe("layout", function () {
    it("has at least one chunk, and 16 bytes of tag per chunk", function () {
      expect(chunkCount(0, CHUNK)).to.equal(1);
      expect(chunkCount(1, CHUNK)).to.equal(1);
      expect(chunkCount(CHUNK, CHUNK)).to.equal(1);
      expect(chunkCount(CHUNK + 1, CHUNK)).to.equal(2);
      expect(chunkCount(3 * CHUNK, CHUNK)).to.equal(3);
      expect(sealedLength(0, CHUNK)).to.equal(TAG_BYTES);
      expect(sealedLength(3 * CHUNK + 5, CHUNK)).to.equal(3 * CHUNK + 5 + 4 * TAG_BYTES);
      expect(sealedOffsetOf(2, 3 * CHUNK + 5, CHUNK)).to.equal(2 * (CHUNK + TAG_BYTES));
      expect(sealedOffsetOf(4, 3 * CHUNK + 5, CHUNK)).to.equal(sealedLength(3 * CHUNK + 5, CHUNK));
    });

    it("builds the nonce as prefix ‖ big-endian counter ‖ last-chunk flag", function () {
      const prefix = Buffer.from("01020304050607", "hex");
      expect(chunkNonce(prefix, 0x0a0b0c0d, false).toString("hex")).to.equal("01020304050607" + "0a0b0c0d" + "00");
      expect(chunkNonce(prefix, 1, true).toString("hex")).to.equal("01020304050607" + "00000001" + "01");
    });
  });

  describe("round trips", function () {
    const cases: Array<[string, number]> = [
      ["an empty item (one empty last chunk)", 0],
      ["a one-byte item", 1],
      ["an item of exactly one chunk", CHUNK],
      ["an exact multiple of the chunk size (the last chunk is full)", 4 * CHUNK],
      ["several chunks with a short last one", 5 * CHUNK + 7],
    ];
    for (const [what, size] of cases) {
      it(`opens ${what}, verifying every tag and the digest`, function () {
        const params = paramsFor(size);
        const plaintext = randomBytes(size);
        const sealed = sealItem(params, plaintext);
        expect(sealed.byteLength).to.equal(sealedLength(size, CHUNK));
        const { chunks, reader } = readAll(params, sealed, sha256(plaintext));
        expect(Buffer.concat(chunks.map((c) => c.plaintext)).equals(plaintext)).to.equal(true);
        expect(chunks.map((c) => c.index)).to.deep.equal(Array.from({ length: chunkCount(size, CHUNK) }, (_, i) => i));
        expect(chunks.at(-1)?.last).to.equal(true);
        expect(reader.digests).to.deep.equal({ plaintext: sha256(plaintext), sealed: sha256(sealed) });
        expect(reader.offset).to.equal(sealed.byteLength);
      });
    }

    it("opens the same stream whatever the pieces it arrives in (1 byte, one chunk, all at once)", function () {
      const params = paramsFor(3 * CHUNK + 9);
      const plaintext = randomBytes(params.size);
      const sealed = sealItem(params, plaintext);
      for (const piece of [1, CHUNK + TAG_BYTES, sealed.byteLength]) {
        const { chunks } = readAll(params, sealed, sha256(plaintext), piece);
        expect(Buffer.concat(chunks.map((c) => c.plaintext)).equals(plaintext), `pieces of ${piece}`).to.equal(true);
      }
    });

    it("seals each item differently: a fresh key and nonce prefix per item", function () {
      const plaintext = randomBytes(100);
      expect(sealItem(paramsFor(100), plaintext).equals(sealItem(paramsFor(100), plaintext))).to.equal(false);
    });

    it("pauses between uploads: a partial chunk is dropped and the stream goes on from the offset", function () {
      const params = paramsFor(3 * CHUNK + 9);
      const plaintext = randomBytes(params.size);
      const sealed = sealItem(params, plaintext);
      const reader = new SealedStreamReader(params, sha256(plaintext));
      const out: Buffer[] = [];
      out.push(...reader.write(sealed.subarray(0, CHUNK + TAG_BYTES + 10)).map((c) => c.plaintext));
      expect(reader.pause()).to.equal(10);
      expect(reader.offset).to.equal(CHUNK + TAG_BYTES);
      out.push(...reader.write(sealed.subarray(reader.offset)).map((c) => c.plaintext));
      expect(reader.finish().plaintext).to.equal(sha256(plaintext));
      expect(Buffer.concat(out).equals(plaintext)).to.equal(true);
    });
  });

  describe("damaged streams, each refused with its own code", function () {
    const size = 6 * CHUNK + 11;
    let params: StreamParams;
    let plaintext: Buffer;
    let sealed: Buffer;
    let chunks: Buffer[];
    beforeEach(function () {
      params = paramsFor(size);
      plaintext = randomBytes(size);
      sealed = sealItem(params, plaintext);
      chunks = chunksOf(params, sealed);
    });

    it("a flipped ciphertext byte: EVIDENCE_CHUNK_TAG_INVALID, nothing from that chunk on", function () {
      const damaged = Buffer.from(sealed);
      damaged[2 * (CHUNK + TAG_BYTES) + 5]! ^= 0x01;
      expect(failureOf(params, damaged, sha256(plaintext))).to.deep.equal({ code: "EVIDENCE_CHUNK_TAG_INVALID", handedOut: [0, 1] });
    });

    it("a flipped tag byte: EVIDENCE_CHUNK_TAG_INVALID", function () {
      const damaged = Buffer.from(sealed);
      damaged[CHUNK + 3]! ^= 0x80;
      expect(failureOf(params, damaged).code).to.equal("EVIDENCE_CHUNK_TAG_INVALID");
    });

    it("a dropped chunk: EVIDENCE_CHUNK_MISSING", function () {
      const damaged = Buffer.concat([chunks[0]!, chunks[1]!, ...chunks.slice(3)]);
      expect(failureOf(params, damaged, sha256(plaintext))).to.deep.equal({ code: "EVIDENCE_CHUNK_MISSING", handedOut: [0, 1] });
    });

    it("a dropped first chunk: EVIDENCE_CHUNK_MISSING", function () {
      expect(failureOf(params, Buffer.concat(chunks.slice(1))).code).to.equal("EVIDENCE_CHUNK_MISSING");
    });

    it("two chunks swapped: EVIDENCE_CHUNK_REORDERED", function () {
      const damaged = Buffer.concat([chunks[0]!, chunks[2]!, chunks[1]!, ...chunks.slice(3)]);
      expect(failureOf(params, damaged, sha256(plaintext))).to.deep.equal({ code: "EVIDENCE_CHUNK_REORDERED", handedOut: [0] });
    });

    it("a chunk replayed in place of a later one: EVIDENCE_CHUNK_REORDERED", function () {
      const damaged = Buffer.concat([chunks[0]!, chunks[1]!, chunks[1]!, ...chunks.slice(3)]);
      expect(failureOf(params, damaged).code).to.equal("EVIDENCE_CHUNK_REORDERED");
    });

    it("a truncated stream (the last whole chunks cut off, declared as the whole item): EVIDENCE_STREAM_TRUNCATED", function () {
      // A stream of six full chunks cut after four and presented as a four-chunk item: the fourth lacks the last-chunk flag.
      const full = paramsFor(6 * CHUNK);
      const fullSealed = sealItem(full, randomBytes(6 * CHUNK));
      const cut = fullSealed.subarray(0, 4 * (CHUNK + TAG_BYTES));
      expect(failureOf({ ...full, size: 4 * CHUNK }, cut).code).to.equal("EVIDENCE_STREAM_TRUNCATED");
    });

    it("a stream that stops before its last chunk: EVIDENCE_STREAM_TRUNCATED, with the whole chunks before it handed out", function () {
      const cut = sealed.subarray(0, 3 * (CHUNK + TAG_BYTES) + 20);
      expect(failureOf(params, cut, sha256(plaintext))).to.deep.equal({ code: "EVIDENCE_STREAM_TRUNCATED", handedOut: [0, 1, 2] });
    });

    it("bytes after the last chunk: EVIDENCE_SIZE_MISMATCH", function () {
      expect(failureOf(params, Buffer.concat([sealed, Buffer.from([0])])).code).to.equal("EVIDENCE_SIZE_MISMATCH");
    });

    it("a last chunk before the declared end: EVIDENCE_SIZE_MISMATCH", function () {
      const short = paramsFor(2 * CHUNK);
      const shortSealed = sealItem(short, randomBytes(2 * CHUNK));
      expect(failureOf({ ...short, size: 5 * CHUNK }, shortSealed).code).to.equal("EVIDENCE_SIZE_MISMATCH");
    });

    it("a wrong manifest digest: EVIDENCE_DIGEST_MISMATCH, and the last chunk is never handed out", function () {
      expect(failureOf(params, sealed, sha256(Buffer.from("something else")))).to.deep.equal({ code: "EVIDENCE_DIGEST_MISMATCH", handedOut: [0, 1, 2, 3, 4, 5] });
    });

    it("another item's AAD or another key: EVIDENCE_CHUNK_TAG_INVALID", function () {
      expect(failureOf({ ...params, aad: itemAad(PACKAGE, "d3e5a7b9-2c4e-4f60-9b8c-0d1e2f3a4b5c") }, sealed).code).to.equal("EVIDENCE_CHUNK_TAG_INVALID");
      expect(failureOf({ ...params, ...newItemKey() }, sealed).code).to.equal("EVIDENCE_CHUNK_TAG_INVALID");
    });

    it("stays dead after a failure", function () {
      const damaged = Buffer.from(sealed);
      damaged[1]! ^= 1;
      const reader = new SealedStreamReader(params);
      expect(() => reader.write(damaged)).to.throw().with.property("code", "EVIDENCE_CHUNK_TAG_INVALID");
      expect(() => reader.write(sealed)).to.throw().with.property("code", "EVIDENCE_CHUNK_TAG_INVALID");
      expect(() => reader.finish()).to.throw().with.property("code", "EVIDENCE_CHUNK_TAG_INVALID");
    });
  });

  it("refuses unusable parameters with EVIDENCE_MANIFEST_INVALID", function () {
    expect(() => new SealedStreamReader({ ...paramsFor(10), key: randomBytes(16) })).to.throw().with.property("code", "EVIDENCE_MANIFEST_INVALID");
    expect(() => new SealedStreamReader({ ...paramsFor(10), noncePrefix: randomBytes(8) })).to.throw().with.property("code", "EVIDENCE_MANIFEST_INVALID");
    expect(() => new SealedStreamReader(paramsFor(2 ** 33, 1))).to.throw().with.property("code", "EVIDENCE_MANIFEST_INVALID");
  });
});
