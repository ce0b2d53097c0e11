import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createDocumentValidator, ENVELOPE_WIRE, SCHEMA_DIR } from "../../schemas/validate.js";

/**
 * Every file under schemas/examples/<schema>/ (and <schema>/<def>/ for a
 * `$defs` entry) is checked: valid-*.json must pass, invalid-*.json must fail
 * with exactly the {path, code} pairs of its sibling .expect.json.
 */
interface Example {
  schema: string;
  file: string;
  path: string;
}

const EXAMPLES_DIR = join(SCHEMA_DIR, "examples");

function collect(dir: string, schema: string, out: Example[]): Example[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, `${schema}#/$defs/${name}`, out);
    else if (name.endsWith(".json") && !name.endsWith(".expect.json")) out.push({ schema, file: name, path });
  }
  return out;
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

describe("schemas/examples", () => {
  const validator = createDocumentValidator();
  const examples = readdirSync(EXAMPLES_DIR)
    .filter((d) => statSync(join(EXAMPLES_DIR, d)).isDirectory())
    .flatMap((d) => collect(join(EXAMPLES_DIR, d), d, []));

  it("covers every document schema with valid and invalid examples", () => {
    // trust-bundle belongs to the PKI layer, which ships its own examples; of
    // the $defs, only the envelope on the wire is a document of its own.
    const documents = validator.schemaNames.filter((n) => !n.includes("#") && !n.startsWith("trust-bundle"));
    for (const schema of [...documents, ENVELOPE_WIRE]) {
      const mine = examples.filter((e) => e.schema === schema);
      expect(mine.some((e) => e.file.startsWith("valid-")), `valid example of ${schema}`).to.equal(true);
      expect(mine.some((e) => e.file.startsWith("invalid-")), `invalid example of ${schema}`).to.equal(true);
    }
  });

  it("names every example valid-* or invalid-*", () => {
    for (const e of examples) expect(e.file).to.match(/^(valid|invalid)-[a-z0-9-]+\.json$/);
  });

  it("holds the demo request the gateway demo sends", () => {
    const demo = readJson(join(EXAMPLES_DIR, "mla-request", "valid-email-records.json")) as Record<string, unknown>;
    expect(demo["requestingAuthority"]).to.equal("GB-UKCA");
    expect(demo["requestedAuthority"]).to.equal("US-DOJ-OIA");
  });

  for (const e of examples) {
    it(`${e.schema}: ${e.file}`, () => {
      const result = validator.validateDocument(e.schema, readJson(e.path));
      if (e.file.startsWith("valid-")) {
        expect(result, JSON.stringify(result)).to.deep.equal({ valid: true });
        return;
      }
      const expected = readJson(e.path.replace(/\.json$/, ".expect.json"));
      expect(result.valid).to.equal(false);
      if (result.valid) return;
      expect(result.errors.map(({ path, code }) => ({ path, code }))).to.deep.equal(expected);
      for (const error of result.errors) {
        expect(error.message.trim(), "message").to.not.equal("");
        expect(error.hint.trim(), "hint").to.not.equal("");
        // ajv's own messages start with "must"; ours name the field first.
        expect(error.message).to.not.match(/^must /);
        expect(error.message).to.contain('"');
        expect(error.hint).to.not.equal(error.message);
      }
    });
  }
});
