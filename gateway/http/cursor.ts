/**
 * Cursors of the local API's lists: opaque to the caller, signed by the
 * gateway. A cursor names its list, the filters it was made under and the
 * position after which the next page starts, and carries an HMAC-SHA256 tag
 * under a key shared by the gateway's instances (the store's `api_secrets`).
 *
 * A cursor is hostile input: it comes back from the caller. Without the tag
 * anyone could hand-craft positions, and a cursor taken from one list (or
 * made under other filters) would silently page through another — so the
 * tag is checked first, in constant time (`CURSOR_INVALID`), then the list
 * and filters (`CURSOR_LIST_MISMATCH`). Pure: the key comes in as an argument.
 *
 * @example
 * const text = encodeCursor(key, { list: "cases", filters: { status: "received" }, position: ["2", "2024-…", "id"] });
 * decodeCursor(key, "cases", { status: "received" }, text).position; // ["2", "2024-…", "id"]
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { GatewayError } from "../errors.js";
import type { Store } from "../store/store.js";

/** Filters of a list, as strings (what the query string said). */
export type ListFilters = Readonly<Record<string, string>>;

/** What a cursor holds. */
export interface Cursor {
  readonly list: string;
  readonly filters: ListFilters;
  /** The sort key of the last row of the page, as the list defines it. */
  readonly position: readonly (string | number)[];
}

/** Longest cursor accepted (a cursor is short; anything longer is not one of ours). */
export const MAX_CURSOR_LENGTH = 2048;

const TAG_BYTES = 16;

function tagOf(key: Buffer, payload: string): Buffer {
  return createHmac("sha256", key).update(`valise-cursor.v1.${payload}`).digest().subarray(0, TAG_BYTES);
}

/** Filters in a canonical order, without empty values. */
function canonicalFilters(filters: ListFilters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(filters).sort()) if (filters[name] !== undefined && filters[name] !== "") out[name] = filters[name]!;
  return out;
}

/** The text of `cursor`, signed with `key`. */
export function encodeCursor(key: Buffer, cursor: Cursor): string {
  const payload = Buffer.from(JSON.stringify({ l: cursor.list, f: canonicalFilters(cursor.filters), p: cursor.position }), "utf8").toString("base64url");
  return `${payload}.${tagOf(key, payload).toString("base64url")}`;
}

/**
 * The cursor `text` of list `list`, made under `filters`.
 *
 * @throws GatewayError `CURSOR_INVALID` (malformed, or not signed by this
 *   gateway); `CURSOR_LIST_MISMATCH` (another list's, or other filters').
 */
export function decodeCursor(key: Buffer, list: string, filters: ListFilters, text: string): Cursor {
  const invalid = (): never => {
    throw new GatewayError("CURSOR_INVALID", "the cursor is not one this gateway issued: pass back the `next` of the previous page unchanged");
  };
  if (text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text)) invalid();
  const [payload, tag] = text.split(".") as [string, string];
  const presented = Buffer.from(tag, "base64url");
  const expected = tagOf(key, payload);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) invalid();
  let parsed: { l?: unknown; f?: unknown; p?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as typeof parsed;
  } catch {
    return invalid();
  }
  if (typeof parsed.l !== "string" || typeof parsed.f !== "object" || parsed.f === null || !Array.isArray(parsed.p)) return invalid();
  const cursor: Cursor = { list: parsed.l, filters: parsed.f as ListFilters, position: parsed.p as Cursor["position"] };
  const wanted = canonicalFilters(filters);
  if (cursor.list !== list || JSON.stringify(canonicalFilters(cursor.filters)) !== JSON.stringify(wanted)) {
    throw new GatewayError("CURSOR_LIST_MISMATCH", `the cursor belongs to ${cursor.list === list ? "this list under other filters" : "another list"}: page with the same path and filters it was issued for`, {
      details: { list, cursorList: cursor.list },
    });
  }
  return cursor;
}

/** Name of the cursor key in `api_secrets`. */
const CURSOR_KEY = "cursor-hmac";

/** The cursor key shared by the instances on `store`: made by the first that needs it. */
export async function cursorKey(store: Store, now: () => Date): Promise<Buffer> {
  const stored = await store.read((tx) => tx.events.secret(CURSOR_KEY));
  if (stored !== undefined) return Buffer.from(stored);
  return store.transaction(async (tx) => {
    await tx.events.insertSecret(CURSOR_KEY, randomBytes(32), now().toISOString());
    return Buffer.from((await tx.events.secret(CURSOR_KEY))!);
  });
}

/** Cursors for one running API: the key is read from the store once, then cached (the store holds the truth). */
export interface Cursors {
  encode(cursor: Cursor): Promise<string>;
  decode(list: string, filters: ListFilters, text: string): Promise<Cursor>;
}

/** {@link Cursors} over `store`. */
export function cursorsOver(store: Store, now: () => Date): Cursors {
  let key: Promise<Buffer> | undefined;
  const keyed = (): Promise<Buffer> => {
    key ??= cursorKey(store, now).catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    return key;
  };
  return {
    encode: async (cursor) => encodeCursor(await keyed(), cursor),
    decode: async (list, filters, text) => decodeCursor(await keyed(), list, filters, text),
  };
}
