/**
 * Validates Valise documents against the shared JSON Schemas (draft 2020-12)
 * and reports every failing field with a hint the sender can act on.
 *
 * @example
 * const result = validateDocument("mla-request", body);
 * if (!result.valid) res.status(422).json({ error: { code: "DOCUMENT_INVALID", details: { errors: result.errors } } });
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { AnySchemaObject, ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { GatewayError } from "../gateway/errors.js";
import { DATE_RANGE_KEYWORDS } from "./date-range.js";
import { REQUEST_RULE_KEYWORDS } from "./request-rules.js";
import { toFieldErrors, type FieldError } from "./field-errors.js";

export type { FieldError, FieldErrorCode } from "./field-errors.js";

/** The base of every Valise schema `$id`. */
export const SCHEMA_BASE = "https://valise.example/schemas/";

/** The folder holding the `*.schema.json` files (this module's folder). */
export const SCHEMA_DIR = dirname(fileURLToPath(import.meta.url));

/** Document schemas Valise ships (trust-bundle when the PKI layer provides it). */
export type SchemaName =
  | "mla-request"
  | "preservation-request"
  | "status-update"
  | "evidence-manifest"
  | "receipt"
  | "envelope"
  | "trust-bundle"
  | "audit-entry";

/** The flattened JWS JSON object of an envelope on the wire. */
export const ENVELOPE_WIRE = "envelope#/$defs/wire";

/** Outcome of {@link DocumentValidator.validateDocument}. */
export type ValidationResult = { valid: true } | { valid: false; errors: FieldError[] };

/** A compiled set of the Valise schemas. */
export interface DocumentValidator {
  /** Names accepted by `validateDocument`, e.g. `mla-request`, `envelope#/$defs/wire`. */
  readonly schemaNames: readonly string[];
  /**
   * Validates `value` against the named schema. Throws `UNKNOWN_SCHEMA` for a
   * name not in {@link schemaNames}; never throws for a bad document.
   */
  validateDocument(schemaName: SchemaName | string, value: unknown): ValidationResult;
  /**
   * Returns `value` typed as `T` when it is valid; otherwise throws
   * `GatewayError("DOCUMENT_INVALID")` with `details.errors` (the field errors).
   */
  assertDocument<T = unknown>(schemaName: SchemaName | string, value: unknown): T;
}

/** Options of {@link createDocumentValidator}. */
export interface DocumentValidatorOptions {
  /** Folder of `*.schema.json` files; defaults to {@link SCHEMA_DIR}. */
  schemaDir?: string;
}

const SUFFIX = ".schema.json";
/** Definitions only, not a document type. */
const DEFINITION_SCHEMAS = new Set(["common", "local-api"]);

function loadSchemas(dir: string): Map<string, AnySchemaObject> {
  const schemas = new Map<string, AnySchemaObject>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(SUFFIX)).sort()) {
    const path = join(dir, file);
    let schema: unknown;
    try {
      schema = JSON.parse(readFileSync(path, "utf8"));
    } catch (cause) {
      throw new GatewayError("INTERNAL", `schema ${file} is not valid JSON`, { cause });
    }
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
      throw new GatewayError("INTERNAL", `schema ${file} is not a JSON object`);
    }
    schemas.set(file.slice(0, -SUFFIX.length), schema as AnySchemaObject);
  }
  return schemas;
}

/**
 * Loads every `*.schema.json` of the schema folder into one ajv instance
 * (draft 2020-12, all errors, strict, formats, the Valise date-range and request-rule keywords)
 * and compiles each document schema and each of its `$defs` once.
 * Throws `INTERNAL` when a schema file does not parse or compile.
 */
export function createDocumentValidator(options: DocumentValidatorOptions = {}): DocumentValidator {
  const dir = options.schemaDir ?? SCHEMA_DIR;
  // strictRequired is off because it does not see the parent's `properties`
  // from an if/then branch (`then: {required: ["reason"]}`); the schema tests
  // check instead that every required name is a declared property.
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  addFormats.default(ajv);
  for (const keyword of DATE_RANGE_KEYWORDS) ajv.addKeyword(keyword);
  for (const keyword of REQUEST_RULE_KEYWORDS) ajv.addKeyword(keyword);

  const schemas = loadSchemas(dir);
  const ids = new Map<string, string>();
  try {
    for (const [name, schema] of schemas) {
      const id = typeof schema.$id === "string" ? schema.$id : `${SCHEMA_BASE}${name}${SUFFIX}`;
      ids.set(name, id);
      ajv.addSchema(schema, typeof schema.$id === "string" ? undefined : id);
    }
  } catch (cause) {
    throw new GatewayError("INTERNAL", "the schema folder holds conflicting schemas", { cause });
  }

  const compiled = new Map<string, ValidateFunction>();
  for (const [name, schema] of schemas) {
    if (DEFINITION_SCHEMAS.has(name)) continue;
    const id = ids.get(name) as string;
    const refs = [[name, id] as const].concat(
      Object.keys((schema.$defs ?? {}) as object).map((def) => [`${name}#/$defs/${def}`, `${id}#/$defs/${def}`] as const),
    );
    for (const [key, ref] of refs) {
      try {
        const fn = ajv.getSchema(ref);
        if (fn === undefined) throw new Error(`no schema at ${ref}`);
        compiled.set(key, fn);
      } catch (cause) {
        throw new GatewayError("INTERNAL", `schema ${key} does not compile`, { cause });
      }
    }
  }

  function validateDocument(schemaName: string, value: unknown): ValidationResult {
    const fn = compiled.get(schemaName);
    if (fn === undefined) {
      throw new GatewayError("UNKNOWN_SCHEMA", `no document schema named ${JSON.stringify(schemaName)}`, {
        details: { schema: schemaName, known: [...compiled.keys()] },
      });
    }
    if (fn(value)) return { valid: true };
    return { valid: false, errors: toFieldErrors(schemaName, fn.errors ?? [], value) };
  }

  function assertDocument<T = unknown>(schemaName: string, value: unknown): T {
    const result = validateDocument(schemaName, value);
    if (result.valid) return value as T;
    const [first] = result.errors;
    const summary = first === undefined ? "" : `: ${first.message}${result.errors.length > 1 ? ` (and ${result.errors.length - 1} more)` : ""}`;
    throw new GatewayError("DOCUMENT_INVALID", `the ${schemaName} document is invalid${summary}`, {
      details: { schema: schemaName, errors: result.errors },
    });
  }

  return Object.freeze({
    schemaNames: Object.freeze([...compiled.keys()].sort()),
    validateDocument,
    assertDocument,
  });
}

let shared: DocumentValidator | undefined;

/** The process-wide validator over {@link SCHEMA_DIR}, built on first use and frozen. */
export function documentValidator(): DocumentValidator {
  shared ??= createDocumentValidator();
  return shared;
}

/** {@link DocumentValidator.validateDocument} on the shared validator. */
export function validateDocument(schemaName: SchemaName | string, value: unknown): ValidationResult {
  return documentValidator().validateDocument(schemaName, value);
}

/** {@link DocumentValidator.assertDocument} on the shared validator. */
export function assertDocument<T = unknown>(schemaName: SchemaName | string, value: unknown): T {
  return documentValidator().assertDocument<T>(schemaName, value);
}
