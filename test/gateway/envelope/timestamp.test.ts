/**
 * RFC 3339 times in routing headers and receipts name a real instant: an
 * impossible calendar date is refused, not rolled over by Date.parse
 * (found by the hostile-input generator: createdAt 2025-02-30 was read as
 * March 2 and the envelope judged on that date).
 */
import { expect } from "chai";
import { checkRoutingHeader, parseTimestamp } from "../../../gateway/envelope/routing-header.js";
import { GatewayError } from "../../../gateway/errors.js";

describe("envelope timestamps", function () {
  it("parses real RFC 3339 times, with fractions and offsets", function () {
    expect(parseTimestamp("2024-02-29T23:59:59.999Z")).to.equal(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
    expect(parseTimestamp("2026-11-29T10:00:00+02:00")).to.equal(Date.UTC(2026, 10, 29, 8, 0, 0));
  });

  it("refuses impossible dates and times instead of rolling them over", function () {
    for (const text of ["2025-02-30T10:00:00Z", "2025-02-29T10:00:00Z", "2026-04-31T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T10:60:00Z", "2026-01-01T10:00:60Z"]) {
      expect(parseTimestamp(text), text).to.equal(undefined);
    }
  });

  it("makes a routing header with an impossible createdAt malformed", function () {
    const header = { valise: 1, id: "e1", type: "mla-request", from: "GB-UKCA", to: "US-DOJ-OIA", caseId: "c1", priority: "normal", createdAt: "2025-02-30T10:00:00Z", payload: "x" };
    try {
      checkRoutingHeader(header, "ENVELOPE_MALFORMED");
      expect.fail("accepted");
    } catch (error) {
      expect((error as GatewayError).code).to.equal("ENVELOPE_MALFORMED");
      expect((error as GatewayError).details).to.deep.equal({ field: "createdAt" });
    }
  });
});
