/**
 * Defensive decoding of JOSE serialisations (compact JWS/JWE parts, base64url,
 * protected headers).
 *
 * Everything decoded here arrived from a peer and is attacker-controlled. Node's
 * base64url decoder silently skips characters outside the alphabet, so two
 * different strings could decode to the same bytes and a digest over the text
 * would no longer name the bytes; decoding here is strict. JSON is parsed only
 * after its size is checked, and must be a plain object.
 */
import { GatewayError, type GatewayErrorCode } from "../errors.js";

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Decode strict, unpadded base64url (RFC 7515 §2).
 *
 * @throws GatewayError `code` when `text` has characters outside the alphabet,
 *   an impossible length, or non-zero trailing bits (a non-canonical encoding).
 */
export function decodeBase64url(text: string, what: string, code: GatewayErrorCode): Uint8Array {
  if (!BASE64URL.test(text) || text.length % 4 === 1) {
    throw new GatewayError(code, `${what} is not base64url.`, { details: { part: what } });
  }
  const bytes = Buffer.from(text, "base64url");
  // Reject non-canonical encodings (trailing bits set): re-encoding must give the same text.
  if (bytes.toString("base64url") !== text) {
    throw new GatewayError(code, `${what} is not canonical base64url.`, { details: { part: what } });
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Encode bytes as unpadded base64url. */
export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/**
 * Split a compact serialisation into exactly `count` parts (3 for JWS, 5 for JWE).
 *
 * @throws GatewayError `code` when `token` is not a string of `count` dot-separated parts.
 */
export function splitCompact(token: unknown, count: 3 | 5, what: string, code: GatewayErrorCode): string[] {
  if (typeof token !== "string") {
    throw new GatewayError(code, `${what} is not a string.`, { details: { part: what } });
  }
  const parts = token.split(".");
  if (parts.length !== count) {
    throw new GatewayError(code, `${what} does not have ${count} parts.`, {
      details: { part: what, parts: parts.length },
    });
  }
  return parts;
}

/**
 * Decode base64url text holding a JSON object, checking its size first.
 *
 * @throws GatewayError `tooLargeCode` when the encoded text exceeds `maxBytes`
 *   (checked before decoding); `code` when it is not base64url, not UTF-8, not
 *   JSON, or not a plain JSON object.
 */
export function decodeJsonObject(
  text: string,
  what: string,
  limits: { maxBytes: number; code: GatewayErrorCode; tooLargeCode: GatewayErrorCode },
): Record<string, unknown> {
  // Size before work: a huge header must not cost a decode and a parse.
  if (text.length > Math.ceil((limits.maxBytes * 4) / 3)) {
    throw new GatewayError(limits.tooLargeCode, `${what} exceeds ${limits.maxBytes} bytes.`, {
      details: { part: what, limit: limits.maxBytes },
    });
  }
  const bytes = decodeBase64url(text, what, limits.code);
  return parseJsonObject(bytes, what, limits.code);
}

/**
 * Parse UTF-8 bytes as a JSON object.
 *
 * @throws GatewayError `code` when the bytes are not UTF-8 JSON of a plain object.
 */
export function parseJsonObject(bytes: Uint8Array, what: string, code: GatewayErrorCode): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new GatewayError(code, `${what} is not UTF-8 JSON.`, { cause, details: { part: what } });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new GatewayError(code, `${what} is not a JSON object.`, { details: { part: what } });
  }
  return value as Record<string, unknown>;
}
