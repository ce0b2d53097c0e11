/**
 * The sealed form of an evidence item: the STREAM construction (Hoang,
 * Reyhanitabar, Rogaway and Vizár, "Online authenticated-encryption and its
 * nonce-reuse misuse-resistance", CRYPTO 2015) over AES-256-GCM, manifest
 * algorithm `A256GCM-STREAM`.
 *
 * The plaintext is cut into chunks of `chunkSize` bytes; the last chunk may
 * be shorter (it is full when the size is an exact multiple) and an empty
 * item is one empty chunk. Chunk `i` of `n` is sealed as
 *
 * ```
 * nonce_i  = noncePrefix (7 bytes) ‖ uint32_be(i) ‖ (i = n-1 ? 0x01 : 0x00)
 * aad      = "valise-evidence/1 " ‖ packageId ‖ " " ‖ itemId      (ASCII)
 * sealed_i = AES-256-GCM(key, nonce_i, aad, plaintext_i) ‖ tag_i (16 bytes)
 * ```
 *
 * and the sealed stream is the sealed chunks one after the other, nothing
 * else: its length is `size + 16 · n`. Every item has a fresh random key and
 * nonce prefix, carried inside the sealed manifest.
 *
 * What each part defends against: the counter binds a chunk to its
 * position, so a dropped, reordered or replayed chunk fails its tag; the
 * last-chunk flag binds the end, so a stream cut after a whole chunk (or
 * carried on past its end) fails; the AAD binds the item, so a sealed stream
 * filed under another package or item fails even if a key were ever reused.
 *
 * Everything here is pure (node:crypto only, no IO): the receiver, the
 * caseworker download and the export share {@link SealedStreamReader}.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, type Hash } from "node:crypto";
import { GatewayError, type GatewayErrorCode } from "../errors.js";

/** The manifest's `encryption.alg`. */
export const STREAM_ALGORITHM = "A256GCM-STREAM";
/** Bytes of the item key. */
export const KEY_BYTES = 32;
/** Bytes of the nonce prefix. */
export const NONCE_PREFIX_BYTES = 7;
/** Bytes of the GCM tag that ends every sealed chunk. */
export const TAG_BYTES = 16;
/** Most chunks an item may have (the counter is 32 bits). */
export const MAX_CHUNKS = 2 ** 32;
/** Smallest and largest chunk size a manifest may name (schemas/evidence-manifest.schema.json). */
export const MIN_CHUNK_SIZE = 64 * 1024;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** Chunk size of new items unless configured otherwise. */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

/** How far around its position a chunk that fails its tag is looked for, to say why. */
const DIAGNOSIS_WINDOW = 4;
/** How many chunks past a misplaced one are read to tell a reordered chunk from a dropped one. */
const DIAGNOSIS_LOOKAHEAD = 4;

/** The secret part of an item's encryption: fresh per item. */
export interface ItemKey {
  /** 32 bytes. */
  readonly key: Uint8Array;
  /** 7 bytes. */
  readonly noncePrefix: Uint8Array;
}

/** Everything needed to seal or open one item's stream. */
export interface StreamParams extends ItemKey {
  /** Plaintext bytes of the item. */
  readonly size: number;
  /** Plaintext bytes per chunk (the last chunk may be shorter). */
  readonly chunkSize: number;
  /** Additional authenticated data of every chunk: {@link itemAad}. */
  readonly aad: Uint8Array;
}

/** A fresh random key and nonce prefix for one item. */
export function newItemKey(): ItemKey {
  return { key: randomBytes(KEY_BYTES), noncePrefix: randomBytes(NONCE_PREFIX_BYTES) };
}

/** The AAD binding every chunk to its package and item. */
export function itemAad(packageId: string, itemId: string): Buffer {
  return Buffer.from(`valise-evidence/1 ${packageId} ${itemId}`, "ascii");
}

/** Number of chunks of an item of `size` bytes: at least one (an empty item is one empty chunk). */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}

/** Length of the sealed stream of an item: `size + 16 · chunks`. */
export function sealedLength(size: number, chunkSize: number): number {
  return size + TAG_BYTES * chunkCount(size, chunkSize);
}

/** Offset in the sealed stream where chunk `index` starts (`index = n` gives the length). */
export function sealedOffsetOf(index: number, size: number, chunkSize: number): number {
  const n = chunkCount(size, chunkSize);
  return index >= n ? sealedLength(size, chunkSize) : index * (chunkSize + TAG_BYTES);
}

/** Plaintext bytes of chunk `index`. */
export function plaintextLengthOf(index: number, size: number, chunkSize: number): number {
  const n = chunkCount(size, chunkSize);
  return index < n - 1 ? chunkSize : size - (n - 1) * chunkSize;
}

/**
 * Checks that `params` describe a stream this module can seal and open:
 * key and prefix lengths, a chunk size of at least one byte, at most 2^32
 * chunks, and a sealed length that is a safe integer.
 * Throws `EVIDENCE_MANIFEST_INVALID`.
 */
export function checkStreamParams(params: StreamParams): void {
  const fail = (why: string): never => {
    throw new GatewayError("EVIDENCE_MANIFEST_INVALID", `the item's encryption parameters are unusable: ${why}`);
  };
  if (params.key.byteLength !== KEY_BYTES) fail(`the key is not ${KEY_BYTES} bytes`);
  if (params.noncePrefix.byteLength !== NONCE_PREFIX_BYTES) fail(`the nonce prefix is not ${NONCE_PREFIX_BYTES} bytes`);
  if (!Number.isSafeInteger(params.chunkSize) || params.chunkSize < 1) fail("the chunk size is not a positive integer");
  if (!Number.isSafeInteger(params.size) || params.size < 0) fail("the size is not a non-negative integer");
  if (chunkCount(params.size, params.chunkSize) > MAX_CHUNKS) fail(`more than 2^32 chunks`);
  if (!Number.isSafeInteger(sealedLength(params.size, params.chunkSize))) fail("the sealed length is too large");
}

/** The 12-byte nonce of chunk `index`. */
export function chunkNonce(noncePrefix: Uint8Array, index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.set(noncePrefix, 0);
  nonce.writeUInt32BE(index, NONCE_PREFIX_BYTES);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/**
 * Seals chunk `index` of an item: returns its ciphertext and its tag (two
 * buffers, so a writer need not copy them together).
 */
export function sealChunk(params: StreamParams, index: number, plaintext: Uint8Array): [Buffer, Buffer] {
  const last = index === chunkCount(params.size, params.chunkSize) - 1;
  const cipher = createCipheriv("aes-256-gcm", params.key, chunkNonce(params.noncePrefix, index, last));
  cipher.setAAD(params.aad);
  const ciphertext = cipher.update(plaintext);
  cipher.final(); // GCM emits nothing here
  return [ciphertext, cipher.getAuthTag()];
}

/** Seals a whole item held in memory (tests, small items). */
export function sealItem(params: StreamParams, plaintext: Uint8Array): Buffer {
  checkStreamParams(params);
  if (plaintext.byteLength !== params.size) throw new GatewayError("EVIDENCE_SIZE_MISMATCH", "the plaintext is not params.size bytes");
  const parts: Buffer[] = [];
  const n = chunkCount(params.size, params.chunkSize);
  for (let i = 0; i < n; i += 1) {
    parts.push(...sealChunk(params, i, plaintext.subarray(i * params.chunkSize, Math.min(params.size, (i + 1) * params.chunkSize))));
  }
  return Buffer.concat(parts);
}

/**
 * Opens one sealed chunk as chunk `index` with the given last-chunk flag;
 * undefined when the tag does not verify.
 */
function tryOpen(params: StreamParams, index: number, last: boolean, sealed: Uint8Array): Buffer | undefined {
  if (sealed.byteLength < TAG_BYTES || index < 0 || index >= MAX_CHUNKS) return undefined;
  const decipher = createDecipheriv("aes-256-gcm", params.key, chunkNonce(params.noncePrefix, index, last), { authTagLength: TAG_BYTES });
  decipher.setAAD(params.aad);
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES));
  const plaintext = decipher.update(sealed.subarray(0, sealed.byteLength - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return plaintext;
}

/** A chunk that authenticated at its position. */
export interface OpenedChunk {
  readonly index: number;
  readonly last: boolean;
  /** The sealed bytes as they arrived (ciphertext ‖ tag). */
  readonly sealed: Buffer;
  /** The verified plaintext. */
  readonly plaintext: Buffer;
}

/** Digests of a complete item. */
export interface StreamDigests {
  /** SHA-256 of the plaintext, lowercase hex: what the manifest names. */
  readonly plaintext: string;
  /** SHA-256 of the sealed stream, lowercase hex: the content address of the stored file. */
  readonly sealed: string;
}

function streamError(code: GatewayErrorCode, message: string, index: number, extra: Record<string, unknown> = {}): GatewayError {
  return new GatewayError(code, message, { details: { chunk: index, ...extra } });
}

/**
 * Opens a sealed stream of known size and chunk size incrementally, as its
 * bytes arrive in pieces of any length: every chunk's tag is checked before
 * its plaintext is handed out, the plaintext and the sealed bytes are hashed
 * as they go, and the last chunk is handed out only after the plaintext's
 * SHA-256 matched the expected one (when given). Memory: one chunk.
 *
 * The sealed bytes are hostile (they come from a peer, or from a disk an
 * attacker may have written to): a failure names why with its own code —
 * `EVIDENCE_CHUNK_TAG_INVALID` (tampered, or a wrong key),
 * `EVIDENCE_CHUNK_MISSING` (a later chunk where this one belongs, and this
 * one nowhere after it), `EVIDENCE_CHUNK_REORDERED` (a chunk of another
 * position, this one soon after), `EVIDENCE_STREAM_TRUNCATED` (the input
 * ends early, or the final chunk lacks the last-chunk flag),
 * `EVIDENCE_SIZE_MISMATCH` (a last-chunk flag before the end, or bytes
 * after it), `EVIDENCE_DIGEST_MISMATCH`. After a failure the reader is dead.
 *
 * @example
 * const reader = new SealedStreamReader({ ...itemKey, size, chunkSize, aad }, sha256);
 * for await (const piece of sealedBytes) for (const chunk of reader.write(piece)) out.write(chunk.plaintext);
 * reader.finish(); // throws EVIDENCE_STREAM_TRUNCATED if the input ended early
 */
export class SealedStreamReader {
  readonly #params: StreamParams;
  readonly #expectedSha256: string | undefined;
  readonly #count: number;
  readonly #plaintextHash: Hash = createHash("sha256");
  readonly #sealedHash: Hash = createHash("sha256");
  #next = 0;
  #offset = 0;
  #pending: Buffer;
  #filled = 0;
  #digests: StreamDigests | undefined;
  #failed: GatewayError | undefined;
  /** Full-size chunk buffers handed back by the caller, reused for the next chunks (fewer allocations, flatter memory). */
  readonly #spare: Buffer[] = [];
  /** A chunk authenticated as a later one: reading on to tell a drop from a reorder. */
  #diagnosis: { readonly index: number; readonly foundAs: number; looked: number } | undefined;

  /** `expectedSha256`: the manifest's plaintext digest (hex), checked before the last chunk is handed out. */
  constructor(params: StreamParams, expectedSha256?: string) {
    checkStreamParams(params);
    this.#params = params;
    this.#expectedSha256 = expectedSha256;
    this.#count = chunkCount(params.size, params.chunkSize);
    this.#pending = this.#buffer(this.#sealedLengthOf(0));
  }

  /** Sealed bytes of the chunks verified so far: where an interrupted upload resumes. */
  get offset(): number {
    return this.#offset;
  }

  /** Chunks verified so far. */
  get chunks(): number {
    return this.#next;
  }

  /** Length of the whole sealed stream. */
  get sealedLength(): number {
    return sealedLength(this.#params.size, this.#params.chunkSize);
  }

  /** The last chunk was verified (and the digest matched). */
  get complete(): boolean {
    return this.#digests !== undefined;
  }

  /** Digests of the complete item; undefined until {@link complete}. */
  get digests(): StreamDigests | undefined {
    return this.#digests;
  }

  /**
   * Feeds the next sealed bytes; returns the chunks they completed, each
   * verified. Throws the stream's error code on the first bad chunk.
   */
  write(data: Uint8Array): OpenedChunk[] {
    if (this.#failed !== undefined) throw this.#failed;
    const opened: OpenedChunk[] = [];
    let at = 0;
    while (at < data.byteLength) {
      if (this.#digests !== undefined) {
        throw this.#fail(streamError("EVIDENCE_SIZE_MISMATCH", "bytes follow the last chunk: the stream is longer than the manifest says", this.#count));
      }
      const take = Math.min(this.#pending.byteLength - this.#filled, data.byteLength - at);
      this.#pending.set(data.subarray(at, at + take), this.#filled);
      this.#filled += take;
      at += take;
      if (this.#filled === this.#pending.byteLength) {
        const chunk = this.#chunkArrived(this.#pending);
        if (chunk !== undefined) opened.push(chunk);
        this.#filled = 0;
        // Another buffer: the caller may still hold the last one (to write it out) until it recycles it.
        if (this.#next < this.#count) this.#pending = this.#buffer(this.#sealedLengthOf(this.#diagnosisPosition()));
      }
    }
    return opened;
  }

  /**
   * Hands back the `sealed` buffer of a chunk this reader returned, once the
   * caller is done with it (written out): it is reused for a later chunk.
   */
  recycle(sealed: Buffer): void {
    if (sealed.byteLength === this.#params.chunkSize + TAG_BYTES && this.#spare.length < 8 && sealed !== this.#pending) this.#spare.push(sealed);
  }

  /**
   * The input paused (an upload request ended): a partial chunk is dropped,
   * and the stream can go on from {@link offset}. Returns the bytes dropped.
   * Throws when a chunk was found out of place (a dropped chunk, since its
   * successor was not followed by it).
   */
  pause(): number {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#diagnosis !== undefined) throw this.#fail(this.#missing());
    const dropped = this.#filled;
    this.#filled = 0;
    return dropped;
  }

  /** The input ended: throws `EVIDENCE_STREAM_TRUNCATED` unless the last chunk was verified. */
  finish(): StreamDigests {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#diagnosis !== undefined) throw this.#fail(this.#missing());
    if (this.#digests === undefined) {
      throw this.#fail(
        streamError("EVIDENCE_STREAM_TRUNCATED", `the sealed stream ends after ${this.#offset + this.#filled} of ${this.sealedLength} bytes, before its last chunk`, this.#next),
      );
    }
    return this.#digests;
  }

  #buffer(length: number): Buffer {
    return (length === this.#params.chunkSize + TAG_BYTES ? this.#spare.pop() : undefined) ?? Buffer.allocUnsafe(length);
  }

  #sealedLengthOf(index: number): number {
    return plaintextLengthOf(Math.min(index, this.#count - 1), this.#params.size, this.#params.chunkSize) + TAG_BYTES;
  }

  /** The position of the chunk being filled (while diagnosing, the reader reads on past the bad one). */
  #diagnosisPosition(): number {
    return this.#diagnosis === undefined ? this.#next : this.#next + 1 + this.#diagnosis.looked;
  }

  #fail(error: GatewayError): GatewayError {
    this.#failed = error;
    return error;
  }

  #missing(): GatewayError {
    const { index, foundAs } = this.#diagnosis!;
    return streamError("EVIDENCE_CHUNK_MISSING", `chunk ${index} is missing: chunk ${foundAs} came in its place, and chunk ${index} did not follow`, index, { foundAs });
  }

  #chunkArrived(sealed: Buffer): OpenedChunk | undefined {
    if (this.#diagnosis !== undefined) {
      // Reading on after a misplaced chunk: does the one that belongs there come soon after?
      const diagnosis = this.#diagnosis;
      diagnosis.looked += 1;
      if (tryOpen(this.#params, diagnosis.index, diagnosis.index === this.#count - 1, sealed) !== undefined) {
        throw this.#fail(
          streamError("EVIDENCE_CHUNK_REORDERED", `chunk ${diagnosis.index} arrived after chunk ${diagnosis.foundAs}: the chunks are out of order`, diagnosis.index, { foundAs: diagnosis.foundAs }),
        );
      }
      if (diagnosis.looked >= DIAGNOSIS_LOOKAHEAD || this.#diagnosisPosition() >= this.#count) throw this.#fail(this.#missing());
      return undefined;
    }
    const index = this.#next;
    const last = index === this.#count - 1;
    const plaintext = tryOpen(this.#params, index, last, sealed);
    if (plaintext === undefined) {
      this.#diagnose(index, last, sealed);
      return undefined;
    }
    this.#plaintextHash.update(plaintext);
    this.#sealedHash.update(sealed);
    if (last) {
      const digests = { plaintext: this.#plaintextHash.digest("hex"), sealed: this.#sealedHash.digest("hex") };
      // Checked before the last chunk leaves: a reader never sees a complete item with the wrong digest.
      if (this.#expectedSha256 !== undefined && digests.plaintext !== this.#expectedSha256) {
        throw this.#fail(
          new GatewayError("EVIDENCE_DIGEST_MISMATCH", "the item's SHA-256 is not the manifest's", { details: { expected: this.#expectedSha256, actual: digests.plaintext } }),
        );
      }
      this.#digests = digests;
    }
    this.#next += 1;
    this.#offset += sealed.byteLength;
    return { index, last, sealed, plaintext };
  }

  /** Why chunk `index` did not authenticate: throws its code, or starts reading on. */
  #diagnose(index: number, last: boolean, sealed: Buffer): void {
    if (tryOpen(this.#params, index, !last, sealed) !== undefined) {
      throw this.#fail(
        last
          ? streamError("EVIDENCE_STREAM_TRUNCATED", `chunk ${index} should be the last but lacks the last-chunk flag: the stream was cut from a longer one`, index)
          : streamError("EVIDENCE_SIZE_MISMATCH", `chunk ${index} carries the last-chunk flag before the end: the stream is shorter than the manifest says`, index),
      );
    }
    for (let distance = 1; distance <= DIAGNOSIS_WINDOW; distance += 1) {
      for (const candidate of [index - distance, index + distance]) {
        if (candidate < 0 || candidate >= this.#count) continue;
        if (tryOpen(this.#params, candidate, candidate === this.#count - 1, sealed) === undefined) continue;
        if (candidate < index) {
          throw this.#fail(streamError("EVIDENCE_CHUNK_REORDERED", `chunk ${candidate} arrived again at position ${index}`, index, { foundAs: candidate }));
        }
        this.#diagnosis = { index, foundAs: candidate, looked: 0 };
        if (this.#diagnosisPosition() >= this.#count) throw this.#fail(this.#missing());
        return;
      }
    }
    throw this.#fail(streamError("EVIDENCE_CHUNK_TAG_INVALID", `chunk ${index} does not authenticate: its bytes were altered, or the key is wrong`, index));
  }
}
