/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Signatures in Valise are computed over canonical JSON so that two
 * implementations that agree on a value agree on its bytes. In JavaScript,
 * `JSON.stringify` of a finite number already is the ES6 Number-to-String
 * serialisation that RFC 8785 §3.2.2.3 mandates, and of a string the escaping of
 * §3.2.2.2; what remains is sorting object keys by UTF-16 code units and
 * refusing every value that has no single JSON meaning.
 */
import { GatewayError } from "../errors.js";

/** A JSON value that {@link canonicalize} accepts. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

// A lone surrogate has no Unicode meaning (I-JSON, RFC 7493 §2.1); two
// parsers could read it differently, so it is refused rather than escaped.
const LONE_SURROGATE = /\p{Surrogate}/u;
// String.prototype.isWellFormed (Node 20+) answers the same question without
// a regular-expression scan of every string; the regex is the fallback.
const isWellFormed: (text: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
    ? (text) => (text as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (text) => !LONE_SURROGATE.test(text);

/**
 * Serialise `value` as RFC 8785 canonical JSON.
 *
 * Refuses, with `CANONICAL_JSON_UNSUPPORTED`, anything JSON.stringify would
 * silently drop or coerce: `undefined`, functions, symbols, bigints,
 * non-finite numbers, lone surrogates, non-plain objects (Date, Map, class
 * instances) and cycles.
 *
 * @example
 * canonicalize({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalize(value: unknown): string {
  return serialise(value, new Set(), ROOT);
}

/** {@link canonicalize}, encoded as UTF-8 bytes. */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}

/**
 * Where a value sits, as a chain of parents: the `$.a[0].b` text is built
 * only when an error names it (auditors canonicalise every entry of a log).
 */
interface PathNode {
  readonly parent: PathNode | undefined;
  /** A member name, an array index, or `null` for "the key of the parent member". */
  readonly step: string | number | null;
}

const ROOT: PathNode = { parent: undefined, step: "$" };

function pathText(node: PathNode): string {
  if (node.parent === undefined) return String(node.step);
  const step = node.step === null ? " key" : typeof node.step === "number" ? `[${node.step}]` : `.${node.step}`;
  return `${pathText(node.parent)}${step}`;
}

function serialise(value: unknown, ancestors: Set<object>, path: PathNode): string {
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw unsupported(path, "a non-finite number");
      return JSON.stringify(value); // -0 → "0", 1e21 → "1e+21": ES6 Number-to-String
    case "string":
      return serialiseString(value, path);
    case "object":
      if (value === null) return "null";
      return serialiseContainer(value, ancestors, path);
    default:
      throw unsupported(path, `a ${typeof value}`);
  }
}

function serialiseString(value: string, path: PathNode): string {
  if (!isWellFormed(value)) throw unsupported(path, "a string with a lone surrogate");
  return JSON.stringify(value);
}

function serialiseContainer(value: object, ancestors: Set<object>, path: PathNode): string {
  if (ancestors.has(value)) throw unsupported(path, "a cycle");
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      let text = "[";
      for (let index = 0; index < value.length; index++) {
        const at: PathNode = { parent: path, step: index };
        // A sparse array's hole would become null; refuse it like undefined.
        if (!(index in value)) throw unsupported(at, "a hole in an array");
        text += (index === 0 ? "" : ",") + serialise(value[index], ancestors, at);
      }
      return `${text}]`;
    }
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      throw unsupported(path, "a non-plain object");
    }
    const record = value as Record<string, unknown>;
    // Default string order compares UTF-16 code units, as RFC 8785 §3.2.3 asks.
    const keys = Object.keys(record).sort();
    let text = "{";
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const at: PathNode = { parent: path, step: key };
      text += `${i === 0 ? "" : ","}${serialiseString(key, { parent: path, step: null })}:${serialise(record[key], ancestors, at)}`;
    }
    return `${text}}`;
  } finally {
    ancestors.delete(value);
  }
}

function unsupported(node: PathNode, what: string): GatewayError {
  const path = pathText(node);
  return new GatewayError("CANONICAL_JSON_UNSUPPORTED", `Canonical JSON cannot contain ${what} (at ${path}).`, {
    details: { path },
  });
}
