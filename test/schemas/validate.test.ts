import { expect } from "chai";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GATEWAY_ERRORS, GatewayError } from "../../gateway/errors.js";
import {
  assertDocument,
  createDocumentValidator,
  ENVELOPE_WIRE,
  SCHEMA_DIR,
  validateDocument,
  type FieldError,
} from "../../schemas/validate.js";

const validator = createDocumentValidator();

function example(schema: string, file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, "examples", schema, file), "utf8")) as Record<string, unknown>;
}

function errorsOf(schema: string, value: unknown): FieldError[] {
  const result = validator.validateDocument(schema, value);
  return result.valid ? [] : result.errors;
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("schemas/validate", () => {
  it("registers its error codes with the gateway", () => {
    expect(GATEWAY_ERRORS).to.have.property("DOCUMENT_INVALID");
    expect(GATEWAY_ERRORS).to.have.property("UNKNOWN_SCHEMA");
  });

  it("loads every document schema of the folder, and $defs by name", () => {
    for (const name of ["mla-request", "preservation-request", "status-update", "evidence-manifest", "receipt", "envelope", "audit-entry", ENVELOPE_WIRE]) {
      expect(validator.schemaNames).to.include(name);
    }
    // Definitions only: common (shared by documents) and local-api (the local API's own shapes, for the OpenAPI description).
    expect(validator.schemaNames).to.not.include("common");
    expect(validator.schemaNames).to.not.include("local-api");
    const onDisk = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith(".schema.json") && f !== "common.schema.json" && f !== "local-api.schema.json");
    for (const file of onDisk) expect(validator.schemaNames).to.include(file.replace(".schema.json", ""));
  });

  it("throws UNKNOWN_SCHEMA for a name it does not know", () => {
    const error = caught(() => validator.validateDocument("mla-reqest", {}));
    expect(error).to.be.instanceOf(GatewayError);
    expect((error as GatewayError).code).to.equal("UNKNOWN_SCHEMA");
    expect((caught(() => validator.validateDocument("common", {})) as GatewayError).code).to.equal("UNKNOWN_SCHEMA");
  });

  it("names the missing field itself, not its parent", () => {
    const doc = example("mla-request", "valid-email-records.json");
    delete doc["facts"];
    delete (doc["contact"] as Record<string, unknown>)["phone"];
    const errors = errorsOf("mla-request", doc);
    expect(errors.map((e) => [e.path, e.code])).to.deep.equal([
      ["/contact/phone", "required"],
      ["/facts", "required"],
    ]);
    expect(errors[1]?.message).to.equal('Required field "facts" is missing.');
    expect(errors[1]?.hint).to.equal(
      "Describe the facts that give reason to believe the data is linked to the offence; the requested authority must be able to assess necessity.",
    );
  });

  it("lists every failing field once, sorted by path", () => {
    const errors = errorsOf("mla-request", { kind: "mla-request", urgency: { level: "emergency" }, assistance: [{}], extra: true });
    const paths = errors.map((e) => e.path);
    expect(paths).to.deep.equal([...paths].sort());
    const keys = errors.map((e) => `${e.path} ${e.code}`);
    expect(new Set(keys).size).to.equal(keys.length);
    expect(keys).to.include.members([
      "/assistance/0/description required",
      "/assistance/0/type required",
      "/extra not-allowed",
      "/facts required",
      "/urgency/reason required",
    ]);
    for (const e of errors) {
      expect(e.message).to.not.equal("");
      expect(e.hint).to.not.equal("");
    }
  });

  it("reports a document that is not an object at the root", () => {
    const errors = errorsOf("mla-request", []);
    expect(errors.map((e) => [e.path, e.code])).to.deep.equal([["", "type"]]);
    expect(errors[0]?.message).to.equal("The document must be an object (a group of named fields).");
  });

  it("escapes unusual property names in the JSON Pointer", () => {
    const doc = example("audit-entry", "valid-access-read.json");
    doc["a/b~c"] = 1;
    expect(errorsOf("audit-entry", doc).map((e) => e.path)).to.deep.equal(["/a~1b~0c"]);
  });

  it("never echoes the content of a rejected value", () => {
    // Threat: errors end up in logs and HTTP responses; document content must not.
    const secret = "Marcus Venn, 12 Acacia Avenue";
    const doc = example("mla-request", "valid-email-records.json");
    doc["facts"] = secret;
    (doc["offence"] as Record<string, unknown>)["category"] = secret;
    doc["language"] = secret;
    const errors = errorsOf("mla-request", doc);
    expect(errors.map((e) => [e.path, e.code])).to.deep.equal([
      ["/facts", "filler"],
      ["/facts", "too-short"],
      ["/language", "pattern"],
      ["/offence/category", "enum"],
    ]);
    for (const e of errors) expect(JSON.stringify(e)).to.not.contain("Acacia");
  });

  it("reports a pattern mismatch once when a format says the same", () => {
    const doc = example("status-update", "valid-acknowledge.json");
    doc["at"] = "yesterday";
    expect(errorsOf("status-update", doc).map((e) => [e.path, e.code])).to.deep.equal([["/at", "format"]]);
  });

  it("requires grounds for a refusal and questions for a request for more information", () => {
    const base = example("status-update", "valid-acknowledge.json");
    expect(errorsOf("status-update", { ...base, step: "refuse", status: "refused" }).map((e) => e.path)).to.deep.equal(["/grounds"]);
    expect(errorsOf("status-update", { ...base, step: "request-more-info", status: "more-info-requested" }).map((e) => e.path)).to.deep.equal([
      "/questions",
    ]);
  });

  describe("assertDocument", () => {
    it("returns a valid document", () => {
      const doc = example("receipt", "valid-with-log.json");
      expect(validator.assertDocument<{ envelopeId: string }>("receipt", doc).envelopeId).to.equal(doc["envelopeId"]);
    });

    it("throws DOCUMENT_INVALID carrying every field error", () => {
      const doc = example("mla-request", "valid-email-records.json");
      delete doc["facts"];
      const error = caught(() => assertDocument("mla-request", doc)) as GatewayError;
      expect(error).to.be.instanceOf(GatewayError);
      expect(error.code).to.equal("DOCUMENT_INVALID");
      const errors = error.details?.["errors"] as FieldError[];
      expect(errors.map((e) => [e.path, e.code])).to.deep.equal([["/facts", "required"]]);
      expect(error.details?.["schema"]).to.equal("mla-request");
    });

    it("shares one frozen validator through the module functions", () => {
      expect(validateDocument("receipt", example("receipt", "valid-without-log.json"))).to.deep.equal({ valid: true });
      expect(Object.isFrozen(validator)).to.equal(true);
      expect(Object.isFrozen(validator.schemaNames)).to.equal(true);
    });
  });

  describe("schema folder", () => {
    // The audit export embeds trust bundles: it goes when the trust-bundle schema goes.
    const SCHEMAS_NEEDING_TRUST_BUNDLE = new Set(["trust-bundle.schema.json", "audit-export.schema.json"]);
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "valise-schemas-"));
      for (const f of readdirSync(SCHEMA_DIR).filter((n) => n.endsWith(".schema.json") && !SCHEMAS_NEEDING_TRUST_BUNDLE.has(n))) {
        copyFileSync(join(SCHEMA_DIR, f), join(dir, f));
      }
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("loads a trust-bundle schema when the PKI layer provides one", () => {
      writeFileSync(
        join(dir, "trust-bundle.schema.json"),
        JSON.stringify({
          $schema: "https://json-schema.org/draft/2020-12/schema",
          $id: "https://valise.example/schemas/trust-bundle.schema.json",
          type: "object",
          properties: { authority: { $ref: "common.schema.json#/$defs/authorityId" } },
          required: ["authority"],
        }),
      );
      const v = createDocumentValidator({ schemaDir: dir });
      expect(v.schemaNames).to.include("trust-bundle");
      expect(v.validateDocument("trust-bundle", { authority: "GB-UKCA" })).to.deep.equal({ valid: true });
      const result = v.validateDocument("trust-bundle", {});
      expect(result.valid ? [] : result.errors.map((e) => [e.path, e.code, e.hint !== ""])).to.deep.equal([["/authority", "required", true]]);
    });

    it("works without a trust-bundle schema", () => {
      const v = createDocumentValidator({ schemaDir: dir });
      expect(v.schemaNames).to.not.include("trust-bundle");
      expect((caught(() => v.validateDocument("trust-bundle", {})) as GatewayError).code).to.equal("UNKNOWN_SCHEMA");
    });

    it("refuses a schema that does not compile in strict mode", () => {
      writeFileSync(join(dir, "broken.schema.json"), JSON.stringify({ $id: "https://valise.example/schemas/broken.schema.json", type: "object", propertees: {} }));
      expect((caught(() => createDocumentValidator({ schemaDir: dir })) as GatewayError).code).to.equal("INTERNAL");
    });

    it("refuses a schema file that is not JSON", () => {
      writeFileSync(join(dir, "broken.schema.json"), "{");
      expect((caught(() => createDocumentValidator({ schemaDir: dir })) as GatewayError).code).to.equal("INTERNAL");
    });
  });
});
