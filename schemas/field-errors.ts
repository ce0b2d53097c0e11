/**
 * Turns ajv's errors into field errors that teach: one `{path, code, message,
 * hint}` per failing field, in plain English, never ajv's raw text.
 */
import type { ErrorObject } from "ajv/dist/2020.js";
import { hintFor } from "./hints.js";

/** The stable codes a field error can carry. */
export type FieldErrorCode =
  | "required"
  | "type"
  | "too-short"
  | "too-long"
  | "too-few"
  | "too-many"
  | "too-small"
  | "too-large"
  | "pattern"
  | "format"
  | "enum"
  | "not-allowed"
  | "duplicate"
  | "date-range-too-long"
  | "date-range-reversed"
  | "no-match"
  | "invalid"
  /** The text reads as filler, not as an account (x-substantive). */
  | "filler"
  /** The value names a person, preservation or attachment the document does not hold (x-ref). */
  | "unknown-reference"
  /** The date or time falls before the one it may not precede (x-not-before). */
  | "too-early"
  /** The instrument named does not fit the document kind or its legal basis (x-instrument-rules). */
  | "instrument-mismatch"
  /** The instrument wants a judge, court or prosecutor to issue or validate this measure (x-instrument-rules). */
  | "judicial-validation-required"
  /** The instrument does not provide for this measure (x-instrument-rules). */
  | "not-allowed-for-instrument"
  /** The instrument requires this field (x-instrument-rules). */
  | "required-by-instrument"
  /** The value is outside the bounds the instrument sets, e.g. a preservation period (x-instrument-rules). */
  | "outside-instrument-limits"
  /** Set by the gateway, not the schema: the addressee is not a peer of this gateway. */
  | "unknown-peer"
  /** Set by the gateway: the peer does not read documents of this version (schemas/versions.ts). */
  | "version-not-accepted"
  /** Set by the gateway, not the schema: a rule of the requested authority's requirements profile (gateway/requirements/). */
  | "requirement";

/** One failing field of a document. */
export interface FieldError {
  /** JSON Pointer to the field; for a missing field, the field itself (e.g. `/facts`). */
  path: string;
  /** Stable code, e.g. `required`, `too-short`, `date-range-too-long`. */
  code: FieldErrorCode;
  /** Plain-English statement of what is wrong, naming the field. */
  message: string;
  /** What the receiving authority needs, in plain words. */
  hint: string;
}

/** Describes the patterns the Valise schemas use, for messages. */
const PATTERN_FORMS: Readonly<Record<string, string>> = {
  "^[A-Z]{2}(-[A-Z0-9]{2,16}){1,3}$": "an authority id such as GB-UKCA",
  "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$": "a lowercase UUID",
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$":
    "a UTC time such as 2025-01-31T09:30:00.000Z",
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "a date written YYYY-MM-DD",
  "^[0-9a-f]{64}$": "a SHA-256 digest of 64 lowercase hexadecimal characters",
  "^[A-Za-z0-9_-]+$": "unpadded base64url text",
  "^[A-Z]{2}$": "a two-letter upper-case country code such as GB",
  "^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$": "a language tag such as en or pt-BR",
  "^\\+[1-9][0-9 ]{6,20}$": "an international phone number starting with + and the country code",
  "^[a-z0-9][a-z0-9-]{0,31}$": "a short lowercase id such as p1",
  "^[a-z]+/[a-zA-Z0-9.+_-]+$": "a media type such as application/pdf",
  "^[^/\\\\]+$": "a file name without / or \\",
  "^[^./\\\\\\u0000-\\u001f\\u007f][^/\\\\\\u0000-\\u001f\\u007f]*$":
    "a file name without folders, leading dot or control characters",
  "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$": "a 32-byte value in unpadded base64url (43 characters)",
  "^[A-Za-z0-9_-]{9}[AQgw]$": "a 7-byte value in unpadded base64url (10 characters)",
  "^valise/[A-Z]{2}(-[A-Z0-9]{2,16}){1,3}$": "valise/ followed by an authority id",
  "^[A-Za-z0-9+/]{43}=$": "a SHA-256 hash in standard base64 (44 characters)",
  "^[a-z]+(\\.[a-z-]+)+$": "dotted lowercase words such as envelope.sent",
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$":
    "a time to the second with its zone, such as 2025-03-02T14:07:31+01:00 or 2025-03-02T13:07:31Z",
  "^\\+[1-9][0-9]{6,14}$": "a phone number in E.164 form: + and the country code, then digits only, e.g. +447700900123",
  "^[a-z0-9]+(-[a-z0-9]+){1,7}$": "a code of lower-case words joined by hyphens, such as eu-dir-2014-41",
  "^[A-Z0-9]+(-[A-Za-z0-9]+){0,6}$": "a provision reference such as EIO-11-1-e or UNMT-4-1-d",
  "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$":
    "a compact JWE: five base64url parts separated by dots",
};

const FORMAT_FORMS: Readonly<Record<string, string>> = {
  date: "a real calendar date written YYYY-MM-DD",
  "date-time": "a time such as 2025-01-31T09:30:00.000Z",
  email: "an email address",
  uri: "an absolute URI",
};

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: "text",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  object: "an object (a group of named fields)",
  array: "a list",
  null: "null",
};

function escapeSegment(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

function unescapeSegment(segment: string): string {
  return segment.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** `/assistance/0/identifiers` → `assistance[0].identifiers`; the root is "the document". */
export function fieldLabel(path: string): string {
  if (path === "") return "the document";
  let label = "";
  for (const raw of path.slice(1).split("/")) {
    const segment = unescapeSegment(raw);
    if (/^(0|[1-9][0-9]*)$/.test(segment)) label += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) label += label === "" ? segment : `.${segment}`;
    else label += `[${JSON.stringify(segment)}]`;
  }
  return `"${label}"`;
}

/** The value at a JSON Pointer, or undefined. Used for lengths only, never echoed. */
function valueAt(document: unknown, path: string): unknown {
  let node: unknown = document;
  if (path === "") return node;
  for (const raw of path.slice(1).split("/")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[unescapeSegment(raw)];
  }
  return node;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function list(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
}

interface Draft {
  path: string;
  code: FieldErrorCode;
  message: string;
}

function num(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

/** Maps one ajv error to a draft field error, or undefined when it only repeats others. */
function draft(error: ErrorObject, document: unknown): Draft | undefined {
  const at = error.instancePath;
  const p = error.params as Record<string, unknown>;
  const label = fieldLabel(at);
  // An item failing inside `contains` is no error of its own: the list as a whole lacks an entry.
  if (error.keyword !== "contains" && /\/contains(\/|$)/.test(error.schemaPath)) return undefined;
  switch (error.keyword) {
    case "required":
    case "dependentRequired": {
      const path = `${at}/${escapeSegment(String(p["missingProperty"]))}`;
      return { path, code: "required", message: `Required field ${fieldLabel(path)} is missing.` };
    }
    case "additionalProperties":
    case "unevaluatedProperties": {
      const name = String(p["additionalProperty"] ?? p["unevaluatedProperty"]);
      const path = `${at}/${escapeSegment(name)}`;
      return { path, code: "not-allowed", message: `${fieldLabel(path)} is not a field of this form.` };
    }
    case "type": {
      const types = String(p["type"]).split(",").map((t) => TYPE_NAMES[t] ?? t);
      return { path: at, code: "type", message: `${label} must be ${types.join(" or ")}.` };
    }
    case "minLength": {
      const value = valueAt(document, at);
      const got = typeof value === "string" ? [...value].length : 0;
      return {
        path: at,
        code: "too-short",
        message: `${label} is too short: it has ${plural(got, "character")}, at least ${num(p["limit"])} are needed.`,
      };
    }
    case "maxLength":
      return { path: at, code: "too-long", message: `${label} is too long: at most ${plural(num(p["limit"]), "character")} are allowed.` };
    case "minItems":
      return { path: at, code: "too-few", message: `${label} must list at least ${plural(num(p["limit"]), "entry", "entries")}.` };
    case "maxItems":
      return { path: at, code: "too-many", message: `${label} may list at most ${plural(num(p["limit"]), "entry", "entries")}.` };
    case "minProperties":
      return { path: at, code: "too-few", message: `${label} must contain at least ${plural(num(p["limit"]), "field")}.` };
    case "maxProperties":
      return { path: at, code: "too-many", message: `${label} may contain at most ${plural(num(p["limit"]), "field")}.` };
    case "minimum":
      return { path: at, code: "too-small", message: `${label} must be at least ${num(p["limit"])}.` };
    case "exclusiveMinimum":
      return { path: at, code: "too-small", message: `${label} must be greater than ${num(p["limit"])}.` };
    case "maximum":
      return { path: at, code: "too-large", message: `${label} must be at most ${num(p["limit"])}.` };
    case "exclusiveMaximum":
      return { path: at, code: "too-large", message: `${label} must be less than ${num(p["limit"])}.` };
    case "pattern": {
      const form = PATTERN_FORMS[String(p["pattern"])] ?? "the expected form";
      return { path: at, code: "pattern", message: `${label} must be ${form}.` };
    }
    case "format": {
      const form = FORMAT_FORMS[String(p["format"])] ?? `in ${String(p["format"])} format`;
      return { path: at, code: "format", message: `${label} must be ${form}.` };
    }
    case "enum":
      return { path: at, code: "enum", message: `${label} must be one of: ${list(p["allowedValues"] as unknown[])}.` };
    case "const":
      return { path: at, code: "enum", message: `${label} must be ${JSON.stringify(p["allowedValue"])}.` };
    case "uniqueItems":
      return {
        path: at,
        code: "duplicate",
        message: `${label} lists the same entry twice (entries ${num(p["j"])} and ${num(p["i"])}).`,
      };
    case "x-max-range-days":
      return {
        path: at,
        code: "date-range-too-long",
        message: `${label} covers ${plural(num(p["days"]), "day")}; at most ${num(p["limit"])} are allowed unless ${String(p["unlessPresent"] ?? "a justification")} is given.`,
      };
    case "x-date-order":
      return { path: at, code: "date-range-reversed", message: `${label} is earlier than the start of the period.` };
    case "x-substantive":
      return { path: at, code: "filler", message: `${label} reads as filler (${String(p["reason"])}), not as an account of the case.` };
    case "x-ref":
      return { path: at, code: "unknown-reference", message: `${label} names nothing this request holds (it must match ${list(p["refs"] as unknown[])}).` };
    case "x-not-before":
      return { path: at, code: "too-early", message: `${label} falls before ${fieldLabel(String(p["limit"]))}.` };
    case "x-instrument-rules":
      return instrumentDraft(at, label, p);
    case "contains":
      return { path: at, code: "no-match", message: `${label} lacks an entry it must have here.` };
    case "if":
      // ajv adds "must match then schema" beside the real failures inside `then`.
      return undefined;
    case "anyOf":
    case "oneOf":
      return { path: at, code: "no-match", message: `${label} matches none of the accepted shapes.` };
    case "not":
    case "false schema":
      return { path: at, code: "not-allowed", message: `${label} is not allowed here.` };
    default:
      return { path: at, code: "invalid", message: `${label} is not valid (${error.keyword}).` };
  }
}

/** A breach of the instrument's rules (schemas/request-rules.ts). */
function instrumentDraft(at: string, label: string, p: Record<string, unknown>): Draft {
  const instrument = String(p["instrument"]);
  switch (p["code"]) {
    case "judicial-validation-required":
      return {
        path: at,
        code: "judicial-validation-required",
        message: `${label}: under ${instrument}, ${String(p["type"])} (assistance[${String(p["item"])}]) must be issued by ${list(p["issuers"] as unknown[])} or validated by ${list(p["validators"] as unknown[])}.`,
      };
    case "required-by-instrument":
      return { path: at, code: "required-by-instrument", message: `${label} is required under ${instrument}${p["type"] === undefined ? "" : ` for ${String(p["type"])}`}.` };
    case "outside-instrument-limits":
      return { path: at, code: "outside-instrument-limits", message: `${label} must be from ${String(p["min"])} to ${String(p["max"])} under ${instrument}.` };
    case "not-allowed-for-instrument":
      return { path: at, code: "not-allowed-for-instrument", message: `${label} is not a measure ${instrument} provides for (allowed: ${list(p["allowed"] as unknown[])}).` };
    default: {
      const codes = Array.isArray(p["codes"]) && p["codes"].length > 0 ? ` with instrumentCode ${list(p["codes"] as unknown[])}` : "";
      const what = p["kind"] !== undefined ? `is not an instrument for a ${String(p["kind"])}` : `must cite ${instrument}: an entry of type ${String(p["type"])}${codes}`;
      return { path: at, code: "instrument-mismatch", message: `${label} ${what}.` };
    }
  }
}

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Field errors for a failed validation of `document` against `schemaName`:
 * one per (path, code), sorted by path then code, each with a hint. A
 * `pattern` error is dropped where the same field also has a `format` error
 * (they say the same thing), and a `no-match` where a more precise error sits
 * at or below the same field.
 */
export function toFieldErrors(schemaName: string, ajvErrors: readonly ErrorObject[], document: unknown): FieldError[] {
  const byKey = new Map<string, Draft>();
  for (const error of ajvErrors) {
    const d = draft(error, document);
    if (d === undefined) continue;
    const key = `${d.path}\u0000${d.code}`;
    if (!byKey.has(key)) byKey.set(key, d);
  }
  const drafts = [...byKey.values()];
  const kept = drafts.filter((d) => {
    if (d.code === "pattern") return !byKey.has(`${d.path}\u0000format`);
    if (d.code === "no-match")
      return !drafts.some((o) => o !== d && o.code !== "no-match" && (o.path === d.path || o.path.startsWith(`${d.path}/`)));
    return true;
  });
  kept.sort((a, b) => comparePaths(a.path, b.path) || comparePaths(a.code, b.code));
  return kept.map((d) => ({
    ...d,
    message: d.message.charAt(0).toUpperCase() + d.message.slice(1),
    hint: hintFor(schemaName, d.path, d.code),
  }));
}
