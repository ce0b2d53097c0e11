import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SCHEMA_DIR } from "../../schemas/validate.js";
import { PY_JSONSCHEMA, requireTool } from "../required-tools.js";

/**
 * The examples read the same with python-jsonschema, an implementation of
 * JSON Schema independent of ajv: every valid-* example is valid there too,
 * and every invalid-* example is invalid there too unless all it breaks are
 * the Valise keywords (x-substantive, x-ref, x-not-before,
 * x-instrument-rules, the date-range keywords) or formats, which a generic
 * validator ignores by design.
 */
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "independent_validator.py");
const EXAMPLES = join(SCHEMA_DIR, "examples");
/** Field error codes only Valise's own keywords or format checks give. */
const VALISE_ONLY = new Set([
  "filler",
  "unknown-reference",
  "too-early",
  "instrument-mismatch",
  "judicial-validation-required",
  "not-allowed-for-instrument",
  "required-by-instrument",
  "outside-instrument-limits",
  "date-range-too-long",
  "date-range-reversed",
  "format",
]);

describe("schemas/examples read by an independent validator (python-jsonschema)", function () {
  let python: string;
  before(function () {
    python = requireTool(this, PY_JSONSCHEMA);
  });

  it("agrees on every request, preservation and status-update example of both versions", () => {
    const kinds = ["mla-request", "preservation-request", "status-update", "mla-request-v1", "preservation-request-v1", "status-update-v1"];
    const files = kinds.flatMap((kind) =>
      readdirSync(join(EXAMPLES, kind))
        .filter((f) => f.endsWith(".json") && !f.endsWith(".expect.json") && statSync(join(EXAMPLES, kind, f)).isFile())
        .map((f) => ({ kind, path: join(EXAMPLES, kind, f), file: f })),
    );
    const out = execFileSync(python, [SCRIPT, SCHEMA_DIR], { input: files.map((f) => `${f.kind} ${f.path}`).join("\n"), encoding: "utf8", timeout: 60_000 });
    const verdicts = new Map(out.trim().split("\n").map((line) => [line.slice(0, line.lastIndexOf(" ")), line.slice(line.lastIndexOf(" ") + 1)]));
    expect(verdicts.size).to.equal(files.length);
    let checkedInvalid = 0;
    for (const f of files) {
      const verdict = verdicts.get(f.path);
      if (f.file.startsWith("valid-")) {
        expect(verdict, `${f.kind}/${f.file}`).to.equal("valid");
        continue;
      }
      const expected = JSON.parse(readFileSync(f.path.replace(/\.json$/, ".expect.json"), "utf8")) as Array<{ code: string }>;
      if (expected.every((e) => VALISE_ONLY.has(e.code))) continue;
      checkedInvalid += 1;
      expect(verdict, `${f.kind}/${f.file}`).to.equal("invalid");
    }
    expect(checkedInvalid).to.be.greaterThan(20);
  });
});
