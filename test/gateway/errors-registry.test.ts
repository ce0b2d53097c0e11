/**
 * The error registries and their one mapping to HTTP status and exit codes,
 * checked against the exit-code table that README.md gives operators.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { PKI_ERRORS } from "../../pki/errors.js";
import { ERROR_DISPOSITIONS, GATEWAY_ERRORS, dispositionOf } from "../../gateway/errors.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("error registries", function () {
  const codes = [...Object.keys(PKI_ERRORS), ...Object.keys(GATEWAY_ERRORS)];

  it("never reuse a code across the two registries", function () {
    expect(new Set(codes).size).to.equal(codes.length);
  });

  it("give every code a description and a disposition, and nothing else", function () {
    for (const [code, description] of Object.entries({ ...PKI_ERRORS, ...GATEWAY_ERRORS })) {
      expect(description, code).to.be.a("string").with.length.greaterThan(10);
    }
    expect(Object.keys(ERROR_DISPOSITIONS).sort()).to.deep.equal([...codes].sort());
  });

  it("agree with README.md's exit-code table", function () {
    const table = readme.slice(readme.indexOf("### Exit codes"));
    const rows = [...table.matchAll(/^\| (\d) \| (.*) \|$/gm)];
    expect(rows.length).to.be.greaterThan(5);
    const named = rows.flatMap(([, exit, meaning]) => [...meaning!.matchAll(/`([A-Z0-9_]+)`/g)].map(([, code]) => ({ code: code!, exit: Number(exit) })));
    expect(named.length).to.be.greaterThan(10);
    for (const { code, exit } of named) {
      expect(codes, `README names ${code}`).to.include(code);
      expect(dispositionOf(code).exit, code).to.equal(exit);
    }
  });

  it("map access failures to 401 and 403, bad input to 4xx, and unknown codes to 500", function () {
    expect(dispositionOf("UNAUTHENTICATED").http).to.equal(401);
    expect(dispositionOf("FORBIDDEN").http).to.equal(403);
    expect(dispositionOf("DOCUMENT_INVALID").http).to.equal(422);
    expect(dispositionOf("ENVELOPE_REPLAY").http).to.equal(409);
    expect(dispositionOf("ENVELOPE_TOO_LARGE").http).to.equal(413);
    expect(dispositionOf("NO_SUCH_CODE")).to.deep.equal({ http: 500, exit: 1 });
  });
});
