import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { calendarDaysCovered, epochDay } from "../../schemas/date-range.js";
import { createDocumentValidator, SCHEMA_DIR } from "../../schemas/validate.js";

const validator = createDocumentValidator();
const demo = JSON.parse(readFileSync(join(SCHEMA_DIR, "examples", "mla-request", "valid-email-records.json"), "utf8")) as {
  assistance: Array<Record<string, unknown>>;
};

/** The demo request with its content-data item (index 2) given another range. */
function withContentRange(from: string, to: string, justification?: string): unknown {
  const doc = structuredClone(demo);
  const item = doc.assistance[2] as Record<string, unknown>;
  expect(item["type"]).to.equal("content-data");
  item["dateRange"] = { from, to };
  if (justification !== undefined) item["dateRangeJustification"] = justification;
  return doc;
}

function codes(value: unknown): Array<[string, string]> {
  const result = validator.validateDocument("mla-request", value);
  return result.valid ? [] : result.errors.map((e) => [e.path, e.code]);
}

describe("schemas/date-range", () => {
  describe("calendarDaysCovered", () => {
    it("counts both ends: a single day is 1", () => {
      expect(calendarDaysCovered("2025-03-01", "2025-03-01")).to.equal(1);
    });
    it("counts 29 February in a leap year", () => {
      expect(calendarDaysCovered("2024-02-01", "2024-03-01")).to.equal(30);
      expect(calendarDaysCovered("2025-02-01", "2025-03-01")).to.equal(29);
    });
    it("is zero or negative for a reversed range", () => {
      expect(calendarDaysCovered("2025-03-02", "2025-03-01")).to.equal(0);
    });
    it("rejects dates that do not exist or are not YYYY-MM-DD", () => {
      expect(epochDay("2025-02-29")).to.equal(undefined);
      expect(epochDay("2025-13-01")).to.equal(undefined);
      expect(epochDay("2025-1-01")).to.equal(undefined);
      expect(epochDay(20250101)).to.equal(undefined);
      expect(calendarDaysCovered("2025-02-30", "2025-03-01")).to.equal(undefined);
    });
  });

  describe("content data is limited to 180 days", () => {
    // 2025-01-01 + 179 days = 2025-06-29: 180 days counting both ends.
    it("accepts exactly 180 days", () => {
      expect(calendarDaysCovered("2025-01-01", "2025-06-29")).to.equal(180);
      expect(codes(withContentRange("2025-01-01", "2025-06-29"))).to.deep.equal([]);
    });

    it("refuses 181 days without a justification, as a field error on the range", () => {
      expect(calendarDaysCovered("2025-01-01", "2025-06-30")).to.equal(181);
      const result = validator.validateDocument("mla-request", withContentRange("2025-01-01", "2025-06-30"));
      expect(result.valid).to.equal(false);
      if (result.valid) return;
      expect(result.errors).to.have.length(1);
      const [error] = result.errors;
      expect(error?.path).to.equal("/assistance/2/dateRange");
      expect(error?.code).to.equal("date-range-too-long");
      expect(error?.message).to.contain("181 days");
      expect(error?.hint).to.contain("dateRangeJustification");
    });

    it("accepts 181 days with a justification", () => {
      const doc = withContentRange(
        "2025-01-01",
        "2025-06-30",
        "The facts show the account was used for the fraud throughout the first half of 2025, from its creation on.",
      );
      expect(codes(doc)).to.deep.equal([]);
    });

    it("counts across a leap day (2024-01-01..2024-06-28 is 180 days, ..06-29 is 181)", () => {
      expect(codes(withContentRange("2024-01-01", "2024-06-28"))).to.deep.equal([]);
      expect(codes(withContentRange("2024-01-01", "2024-06-29"))).to.deep.equal([["/assistance/2/dateRange", "date-range-too-long"]]);
    });

    it("does not limit other kinds of data", () => {
      const doc = structuredClone(demo);
      (doc.assistance[1] as Record<string, unknown>)["dateRange"] = { from: "2024-01-01", to: "2025-07-31" };
      expect(codes(doc)).to.deep.equal([]);
    });

    it("reports a malformed end once, as a format error, not as a range error", () => {
      expect(codes(withContentRange("2025-01-01", "2025-31-12"))).to.deep.equal([["/assistance/2/dateRange/to", "format"]]);
    });
  });

  it("refuses a range that ends before it starts", () => {
    expect(codes(withContentRange("2025-06-01", "2025-05-31"))).to.deep.equal([["/assistance/2/dateRange/to", "date-range-reversed"]]);
  });

  it("applies the order check to preservation requests too", () => {
    const pres = JSON.parse(
      readFileSync(join(SCHEMA_DIR, "examples", "preservation-request", "valid-email-account.json"), "utf8"),
    ) as Record<string, unknown>;
    pres["dateRange"] = { from: "2025-07-31", to: "2025-01-01" };
    const result = validator.validateDocument("preservation-request", pres);
    expect(result.valid ? [] : result.errors.map((e) => [e.path, e.code])).to.deep.equal([["/dateRange/to", "date-range-reversed"]]);
  });
});
