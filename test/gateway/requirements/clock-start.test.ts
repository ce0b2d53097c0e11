/**
 * The requesting side follows the receiver's word on compliance: a receipt
 * saying the request does not meet the peer's requirements moves the case to
 * `received` without starting its clocks; a compliant one starts them at the
 * signed receivedAt. On both store engines (the null clock start is SQL).
 */
import { expect } from "chai";
import { recordDelivered } from "../../../gateway/cases/received.js";
import type { Store } from "../../../gateway/store/store.js";
import { forEachEngine, freshStore } from "../../store/engines.js";

forEachEngine("requirements: the requesting side's clock start", (engine) => {
  let store: Store;
  before(async function () {
    store = await freshStore(engine);
  });
  after(async () => store?.close());

  for (const [caseId, compliant] of [["c-compliant", true], ["c-not-compliant", false]] as const) {
    it(`a receipt saying compliant: ${String(compliant)}`, async function () {
      const at = "2025-09-01T10:00:00.000Z";
      await store.transaction(async (tx) => {
        await tx.cases.insert({ caseId, direction: "outbound", kind: "mla-request", peer: "US-DOJ-OIA", status: "submitted", priority: "normal", at });
        await recordDelivered(tx, { caseId, envelopeId: `e-${caseId}`, envelopeDigest: "ab".repeat(32), type: "mla-request", receivedAt: "2025-09-01T10:00:01.000Z", peer: "US-DOJ-OIA", now: new Date(at), clockStarts: compliant });
      });
      const [row] = await store.inspect<{ status: string; received_at: string | null }>("SELECT status, received_at FROM cases WHERE case_id = ?", [caseId]);
      expect(row).to.deep.equal({ status: "received", received_at: compliant ? "2025-09-01T10:00:01.000Z" : null });
    });
  }
});
