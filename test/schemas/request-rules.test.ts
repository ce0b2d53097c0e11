/**
 * The request-rule keywords and document versions as pure functions: what
 * reads as filler and what does not, where references point, and which
 * schema reads a document of each version.
 */
import { expect } from "chai";
import { fillerReason, repeatsACharacter, valuesAt } from "../../schemas/request-rules.js";
import { documentVersionOf, highestCommonVersion, schemaNameFor } from "../../schemas/versions.js";
import { inboundSchemaName, outboundRequestVersion, statusUpdateVersion } from "../../gateway/exchange/versions.js";
import { isValiseError } from "../../pki/errors.js";

describe("schemas/request-rules and versions", function () {
  it("refuses filler and accepts a short account in plain words", function () {
    expect(fillerReason("x".repeat(200))).to.equal("a character repeated");
    // A run is 10 of one code point, as /(.)\1{9,}/u: line breaks cut it, astral characters count once.
    const words = " The suspect used the account to defraud the company in March.";
    expect(fillerReason(`${"!".repeat(10)}${words}`)).to.equal("a character repeated");
    expect(fillerReason(`${"!".repeat(9)}${words}`)).to.equal(undefined);
    expect(fillerReason(`${"\u{1F600}".repeat(10)}${words}`)).to.equal("a character repeated");
    expect(fillerReason(`${"\u{1F600}".repeat(9)}${words}`)).to.equal(undefined);
    expect(fillerReason(`${"\n".repeat(12)}${words}`)).to.equal(undefined);
    expect(fillerReason(`${"-".repeat(5)}\n${"-".repeat(5)}${words}`)).to.equal(undefined);
    expect(fillerReason("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.")).to.equal("placeholder words");
    expect(fillerReason("Needed for the case. Needed for the case. Needed!!")).to.equal("too few different words");
    expect(fillerReason("The suspect used the account to defraud the company. ".repeat(8))).to.equal("the same words repeated");
    expect(fillerReason("The login addresses locate the person who used the account during the fraud.")).to.equal(undefined);
    expect(fillerReason("Ms Marsh authorised the transfers of 4 and 9 June 2022 on the accused's written instructions.")).to.equal(undefined);
  });

  it("finds the values a reference may name, across array items", function () {
    const request = { persons: [{ id: "p1" }, { id: "w1" }], preservation: [], relatedRequests: [{ reference: "R-1" }] };
    expect(valuesAt(request, "/persons/*/id")).to.deep.equal(["p1", "w1"]);
    expect(valuesAt(request, "/preservation/*/reference")).to.deep.equal([]);
    expect(valuesAt(request, "/relatedRequests/*/reference")).to.deep.equal(["R-1"]);
    expect(valuesAt(request, "/missing/*/x")).to.deep.equal([]);
  });

  it("reads a document without schemaVersion as version 1, with the frozen schema, and refuses an unknown version", function () {
    expect(documentVersionOf({ kind: "mla-request" })).to.equal(1);
    expect(documentVersionOf({ kind: "mla-request", schemaVersion: 2 })).to.equal(2);
    expect(documentVersionOf({ kind: "mla-request", schemaVersion: 3 })).to.equal(undefined);
    expect(documentVersionOf({ kind: "mla-request", schemaVersion: "2" })).to.equal(undefined);
    expect(schemaNameFor("status-update", 1)).to.equal("status-update-v1");
    expect(schemaNameFor("status-update", 2)).to.equal("status-update");
    expect(schemaNameFor("evidence-manifest", 1)).to.equal("evidence-manifest");
    expect(highestCommonVersion([1, 2], [1])).to.equal(1);
    expect(highestCommonVersion([1, 2], [2, 3])).to.equal(2);
    expect(highestCommonVersion([2], [1])).to.equal(undefined);
  });

  it("chooses the version a document travels in from both sides' versions", function () {
    const v1Only = {};
    const v2Only = { documentVersions: [2] };
    expect(inboundSchemaName(v1Only, "mla-request", { kind: "mla-request" })).to.equal("mla-request-v1");
    try {
      inboundSchemaName(v2Only, "mla-request", { kind: "mla-request" });
      expect.fail("a version 1 document was read by a gateway that reads version 2 only");
    } catch (error) {
      expect(isValiseError(error) && error.code).to.equal("DOCUMENT_VERSION_NOT_ACCEPTED");
    }
    const peer = { authority: "US-DOJ-OIA", documentVersions: [1] };
    expect(outboundRequestVersion({}, peer, "mla-request", { schemaVersion: 2 })).to.have.property("errors");
    expect(outboundRequestVersion({}, peer, "mla-request", {})).to.deep.equal({ version: 1, schema: "mla-request-v1" });
    expect(statusUpdateVersion({}, peer)).to.equal(1);
    expect(statusUpdateVersion({}, { authority: "FR-DACG", documentVersions: [1, 2] })).to.equal(2);
  });

  it("finds a character repeated 10 times exactly where /(.)\\1{9,}/u does (code points, line terminators never)", () => {
    const pieces = ["a", "b", " ", "\n", "\r", "\u2028", "\u2029", "é", "😀", "\ud800", "\udc00", "x"];
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const cases = ["a".repeat(9), "a".repeat(10), "😀".repeat(9), "😀".repeat(10), "\n".repeat(20), `${"\ud800".repeat(10)}`, `a${"\udc00".repeat(10)}`, "é".repeat(10), "ab".repeat(20)];
    for (let i = 0; i < 3000; i += 1) {
      const run = pieces[random(pieces.length)]!;
      cases.push(Array.from({ length: 1 + random(30) }, () => (random(3) === 0 ? run.repeat(random(12)) : pieces[random(pieces.length)]!)).join(""));
    }
    for (const text of cases) expect(repeatsACharacter(text, 10), JSON.stringify(text)).to.equal(/(.)\1{9,}/u.test(text));
    expect(cases.filter((text) => repeatsACharacter(text, 10)).length).to.be.above(100); // both outcomes are exercised
  });
});
