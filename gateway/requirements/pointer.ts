/**
 * JSON Pointers with a `*` wildcard, as requirements profiles write them:
 * `/assistance/*\/dateRange` is the date range of every assistance item.
 * Pure; the document is a request that passed its shared schema, but a
 * pointer comes from a peer's profile, so neither is trusted to have the
 * shape the other expects.
 */

/** A value found at a concrete pointer. */
export interface Located {
  readonly path: string;
  readonly value: unknown;
}

function unescape(segment: string): string {
  return segment.replace(/~1/g, "/").replace(/~0/g, "~");
}

function escape(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** The segments of a pointer (`""` → none). */
export function segmentsOf(pointer: string): string[] {
  return pointer === "" ? [] : pointer.slice(1).split("/").map(unescape);
}

function child(node: unknown, segment: string): unknown {
  if (Array.isArray(node)) return /^(0|[1-9][0-9]{0,8})$/.test(segment) ? node[Number(segment)] : undefined;
  if (typeof node === "object" && node !== null && Object.hasOwn(node, segment)) return (node as Record<string, unknown>)[segment];
  return undefined;
}

/**
 * Every value present at `pointer`, with its concrete path; a `*` walks
 * every item of a list (and finds nothing in anything else).
 *
 * @example valuesAt({a: [{b: 1}, {b: 2}]}, "/a/*\/b") // [{path: "/a/0/b", value: 1}, {path: "/a/1/b", value: 2}]
 */
export function valuesAt(document: unknown, pointer: string): Located[] {
  const out: Located[] = [];
  const walk = (node: unknown, rest: readonly string[], path: string): void => {
    if (node === undefined) return;
    if (rest.length === 0) {
      out.push({ path, value: node });
      return;
    }
    const [head, ...tail] = rest as [string, ...string[]];
    if (head === "*") {
      if (Array.isArray(node)) node.forEach((item, i) => walk(item, tail, `${path}/${i}`));
      return;
    }
    walk(child(node, head), tail, `${path}/${escape(head)}`);
  };
  walk(document, segmentsOf(pointer), "");
  return out;
}

/** True for a value that says nothing: absent, null, blank text, an empty list or object. */
export function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === "string") return value.trim() === "";
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") return Object.keys(value).length === 0;
  return false;
}

/**
 * The concrete paths at which `pointer` names a missing or empty field. A
 * missing named member is reported where it is missing (`/offence/limitation`
 * when `offence` has none; `/deadline` for `/deadline/reason` when there is no
 * deadline at all); a `*` over a missing or empty list asks nothing of its
 * items (require the list itself with its own pointer).
 */
export function missingAt(document: unknown, pointer: string): string[] {
  const out: string[] = [];
  const walk = (node: unknown, rest: readonly string[], path: string): void => {
    if (rest.length === 0) {
      if (isEmpty(node)) out.push(path);
      return;
    }
    if (node === undefined || node === null) {
      out.push(path);
      return;
    }
    const [head, ...tail] = rest as [string, ...string[]];
    if (head === "*") {
      if (Array.isArray(node)) node.forEach((item, i) => walk(item, tail, `${path}/${i}`));
      return;
    }
    walk(child(node, head), tail, `${path}/${escape(head)}`);
  };
  walk(document, segmentsOf(pointer), "");
  return out;
}
