import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GENERIC_HINTS, HINTS_BY_SCHEMA, hintFor, pathPattern } from "../../schemas/hints.js";
import type { FieldErrorCode } from "../../schemas/field-errors.js";
import { SCHEMA_DIR } from "../../schemas/validate.js";

type Schema = Record<string, unknown>;

const SCHEMAS = new Map<string, Schema>(
  readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith(".schema.json"))
    .map((f) => {
      const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, f), "utf8")) as Schema;
      return [String(schema["$id"]), schema] as const;
    }),
);

/** Resolves a `$ref` (relative to the schema's `$id`) to the schema it names. */
function resolve(ref: string, baseId: string): [Schema, string] {
  const [file, fragment = ""] = ref.split("#");
  const id = file === "" ? baseId : new URL(file as string, baseId).href;
  let node: unknown = SCHEMAS.get(id);
  for (const seg of fragment.split("/").filter((s) => s !== "")) node = (node as Schema)[seg];
  expect(node, `${ref} from ${baseId}`).to.be.an("object");
  return [node as Schema, id];
}

interface Walk {
  /** Every field path pattern the schema accepts. */
  fields: Set<string>;
  /** [path, required name, declared property names at that level]. */
  required: Array<[string, string, Set<string>]>;
}

/** Collects every property path and every `required` use of a schema. */
function walk(schema: Schema, baseId: string, path: string, out: Walk, declared = new Set<string>()): Walk {
  if (typeof schema["$ref"] === "string") {
    const [target, id] = resolve(schema["$ref"], baseId);
    return walk(target, id, path, out, declared);
  }
  const props = (schema["properties"] ?? {}) as Record<string, Schema>;
  const here = new Set([...declared, ...Object.keys(props)]);
  for (const [name, sub] of Object.entries(props)) {
    out.fields.add(`${path}/${name}`);
    walk(sub, baseId, `${path}/${name}`, out);
  }
  if (typeof schema["items"] === "object") walk(schema["items"] as Schema, baseId, `${path}/*`, out);
  for (const name of (schema["required"] ?? []) as string[]) out.required.push([path, name, here]);
  for (const key of ["if", "then", "else"]) {
    if (typeof schema[key] === "object") walk(schema[key] as Schema, baseId, path, out, here);
  }
  for (const sub of (schema["allOf"] ?? []) as Schema[]) walk(sub, baseId, path, out, here);
  return out;
}

function walkSchema(name: string): Walk {
  const id = `https://valise.example/schemas/${name}.schema.json`;
  const schema = SCHEMAS.get(id);
  expect(schema, name).to.be.an("object");
  return walk(schema as Schema, id, "", { fields: new Set(), required: [] });
}

const CODES: FieldErrorCode[] = [
  "required", "type", "too-short", "too-long", "too-few", "too-many", "too-small", "too-large", "pattern",
  "format", "enum", "not-allowed", "duplicate", "date-range-too-long", "date-range-reversed", "no-match", "invalid",
  "filler", "unknown-reference", "too-early", "instrument-mismatch", "judicial-validation-required", "not-allowed-for-instrument",
  "required-by-instrument", "outside-instrument-limits", "unknown-peer", "version-not-accepted",
];

describe("schemas/hints", () => {
  for (const name of ["mla-request", "preservation-request"]) {
    it(`gives every field of ${name} its own hint`, () => {
      const table = HINTS_BY_SCHEMA[name] ?? {};
      const missing = [...walkSchema(name).fields].filter((f) => table[f] === undefined);
      expect(missing).to.deep.equal([]);
    });
  }

  for (const [name, table] of Object.entries(HINTS_BY_SCHEMA)) {
    it(`keys the ${name} hints by paths the schema has`, () => {
      const { fields } = walkSchema(name);
      const known = new Set(["", ...fields, ...[...fields].map((f) => `${f}/*`)]);
      expect(Object.keys(table).filter((k) => !known.has(k))).to.deep.equal([]);
    });
  }

  it("requires only declared properties (stands in for ajv strictRequired)", () => {
    for (const id of SCHEMAS.keys()) {
      const name = id.replace(/^.*\//, "").replace(".schema.json", "");
      if (name === "common" || name === "trust-bundle") continue;
      const undeclared = walkSchema(name).required.filter(([, req, here]) => !here.has(req));
      expect(undeclared.map(([p, r]) => `${name}${p}/${r}`)).to.deep.equal([]);
    }
  });

  it("has a generic hint for every code", () => {
    for (const code of CODES) expect(GENERIC_HINTS[code], code).to.be.a("string").and.not.equal("");
  });

  it("writes array indices as * in path patterns", () => {
    expect(pathPattern("/assistance/12/identifiers/0/value")).to.equal("/assistance/*/identifiers/*/value");
    expect(pathPattern("")).to.equal("");
  });

  it("prefers the code-specific hint, then the field's default", () => {
    expect(hintFor("mla-request", "/facts", "too-short")).to.contain("too thin");
    expect(hintFor("mla-request", "/facts", "type")).to.contain("assess necessity");
    expect(hintFor("mla-request", "/assistance/3/dateRange", "date-range-too-long")).to.contain("180 days");
  });

  it("falls back to the nearest described parent, but not for fields that are not allowed", () => {
    expect(hintFor("mla-request", "/persons/0/aliases/2", "too-long")).to.equal(hintFor("mla-request", "/persons/0/aliases", "type"));
    expect(hintFor("mla-request", "/persons/0/nickname", "not-allowed")).to.equal(GENERIC_HINTS["not-allowed"]);
  });

  it("falls back to the generic hint for unknown schemas and fields", () => {
    expect(hintFor("trust-bundle", "/anything", "required")).to.equal(GENERIC_HINTS["required"]);
  });
});
