import { expect } from "chai";
import { canonicalize, canonicalBytes } from "../../../gateway/envelope/canonical-json.js";
import { codeOf } from "../../error-code.js";

function fromBits(hex: string): number {
  return Buffer.from(hex, "hex").readDoubleBE(0);
}

describe("gateway/envelope/canonical-json (RFC 8785)", () => {
  it("canonicalises the RFC 8785 §3.2.2 example", () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalize(input)).to.equal(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("sorts keys by UTF-16 code units (RFC 8785 §3.2.3 example)", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    // Compare the text: JSON.parse would reorder integer-like keys ("1") first.
    expect(canonicalize(input)).to.equal(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("serialises the numbers of RFC 8785 Appendix B", () => {
    const vectors: Array<[string, string]> = [
      ["0000000000000000", "0"],
      ["8000000000000000", "0"],
      ["0000000000000001", "5e-324"],
      ["8000000000000001", "-5e-324"],
      ["7fefffffffffffff", "1.7976931348623157e+308"],
      ["ffefffffffffffff", "-1.7976931348623157e+308"],
      ["4340000000000000", "9007199254740992"],
      ["c340000000000000", "-9007199254740992"],
      ["4430000000000000", "295147905179352830000"],
      ["44b52d02c7e14af5", "9.999999999999997e+22"],
      ["44b52d02c7e14af6", "1e+23"],
      ["44b52d02c7e14af7", "1.0000000000000001e+23"],
      ["444b1ae4d6e2ef4e", "999999999999999700000"],
      ["444b1ae4d6e2ef4f", "999999999999999900000"],
      ["444b1ae4d6e2ef50", "1e+21"],
      ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
      ["3eb0c6f7a0b5ed8d", "0.000001"],
      ["41b3de4355555553", "333333333.3333332"],
      ["41b3de4355555554", "333333333.33333325"],
      ["41b3de4355555555", "333333333.3333333"],
      ["41b3de4355555556", "333333333.3333334"],
      ["41b3de4355555557", "333333333.33333343"],
      ["becbf647612f3696", "-0.0000033333333333333333"],
      ["43143ff3c1cb0959", "1424953923781206.2"],
    ];
    for (const [bits, expected] of vectors) {
      expect(canonicalize(fromBits(bits)), bits).to.equal(expected);
    }
  });

  it("refuses NaN and the infinities (Appendix B 7fffffffffffffff, 7ff0000000000000)", () => {
    expect(codeOf(() => canonicalize(fromBits("7fffffffffffffff")))).to.equal("CANONICAL_JSON_UNSUPPORTED");
    expect(codeOf(() => canonicalize({ a: fromBits("7ff0000000000000") }))).to.equal("CANONICAL_JSON_UNSUPPORTED");
    expect(codeOf(() => canonicalize([-Infinity]))).to.equal("CANONICAL_JSON_UNSUPPORTED");
  });

  it("refuses values JSON.stringify would drop or coerce", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3];
    for (const value of [
      undefined,
      { a: undefined },
      [undefined],
      () => 1,
      Symbol("s"),
      10n,
      new Date(0),
      new Map(),
      cyclic,
      sparse,
      "\ud800",
      { "\udc00": 1 },
    ]) {
      expect(codeOf(() => canonicalize(value)), String(typeof value)).to.equal("CANONICAL_JSON_UNSUPPORTED");
    }
  });

  it("accepts shared (non-cyclic) references, nested structures and null-prototype objects", () => {
    const shared = { x: 1 };
    const bare = Object.create(null) as Record<string, unknown>;
    bare.z = "é";
    bare.a = [shared, shared];
    expect(canonicalize(bare)).to.equal('{"a":[{"x":1},{"x":1}],"z":"é"}');
    expect(canonicalize({ "": [], b: {}, a: "\u2028" })).to.equal('{"":[],"a":"\u2028","b":{}}');
  });

  it("encodes canonical JSON as UTF-8", () => {
    expect(Buffer.from(canonicalBytes({ e: "€" })).toString("hex")).to.equal(
      Buffer.from('{"e":"€"}', "utf8").toString("hex"),
    );
  });
});
