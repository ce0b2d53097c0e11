/**
 * The contract's storage on both engines: an event is written by the audit
 * append that reports it (same transaction: rolled back together), its seq
 * is the audit index, readers page after a seq with filters; cases page by
 * a sort key fixed at opening, with every filter, neither skipping nor
 * repeating a case while cases change.
 */
import { expect } from "chai";
import { openStore, type Store } from "../../gateway/store/store.js";
import { appendEntry } from "../../gateway/audit/append.js";
import { pageCases } from "../../gateway/cases/case-list.js";
import type { GatewayConfig } from "../../gateway/config/config.js";
import { forEachEngine } from "./engines.js";

const at = "2026-11-29T10:00:00.000Z";
const config = {} as GatewayConfig;

function caseId(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
}

forEachEngine("events and paging", (engine) => {
  let store: Store;

  beforeEach(async function () {
    store = await openStore(await engine.location(), "apply");
  });
  afterEach(async function () {
    await store?.close();
  });

  it("writes the event of an audit entry in its transaction, with the entry's index as seq; a rollback keeps neither", async function () {
    await store.transaction(async (tx) => {
      await appendEntry(tx, { kind: "gateway.started", actor: "gateway", time: new Date(at) });
      await appendEntry(tx, { kind: "status.changed", actor: "peer:US-DOJ-OIA", time: new Date(at), caseId: caseId(1), envelopeId: caseId(9), details: { step: "acknowledge", from: "received", to: "acknowledged", side: "requested", content: "never copied" } });
    });
    await store
      .transaction(async (tx) => {
        await appendEntry(tx, { kind: "deadline.missed", actor: "gateway", time: new Date(at), caseId: caseId(1), details: { clock: "hop" } });
        throw new Error("crash before commit");
      })
      .catch(() => undefined);
    const events = await store.read((tx) => tx.events.after(-1, 10));
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ seq: 1, kind: "status.changed", case_id: caseId(1) });
    expect(JSON.parse(events[0]!.data)).to.deep.equal({ envelopeId: caseId(9), step: "acknowledge", from: "received", to: "acknowledged", side: "requested" });
    expect(await store.read((tx) => tx.events.latestSeq())).to.equal(1);
  });

  it("reads events after a seq, by case and by kind", async function () {
    await store.transaction(async (tx) => {
      for (let i = 0; i < 6; i += 1) {
        await appendEntry(tx, { kind: i % 2 === 0 ? "status.changed" : "deadline.missed", actor: "gateway", time: new Date(at), caseId: caseId(i % 3), details: { clock: "hop", step: "x" } });
      }
    });
    expect((await store.read((tx) => tx.events.after(-1, 100))).map((e) => e.seq)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect((await store.read((tx) => tx.events.after(2, 2))).map((e) => e.seq)).to.deep.equal([3, 4]);
    expect((await store.read((tx) => tx.events.after(-1, 100, { caseId: caseId(1), kinds: null }))).map((e) => e.seq)).to.deep.equal([1, 4]);
    expect((await store.read((tx) => tx.events.after(-1, 100, { caseId: null, kinds: ["deadline.missed"] }))).map((e) => e.seq)).to.deep.equal([1, 3, 5]);
  });

  it("keeps the cursor key shared: the first secret stored wins", async function () {
    await store.transaction((tx) => tx.events.insertSecret("k", Buffer.alloc(32, 1), at));
    await store.transaction((tx) => tx.events.insertSecret("k", Buffer.alloc(32, 2), at));
    expect(Buffer.from((await store.read((tx) => tx.events.secret("k")))!)).to.deep.equal(Buffer.alloc(32, 1));
  });

  it("pages cases emergency first then newest, with filters, never repeating or skipping one while cases change", async function () {
    const priorities = ["normal", "urgent", "emergency"] as const;
    await store.transaction(async (tx) => {
      for (let i = 0; i < 25; i += 1) {
        const created = new Date(Date.parse(at) + i * 1000).toISOString();
        await tx.cases.insert({ caseId: caseId(i), direction: i % 2 === 0 ? "outbound" : "inbound", kind: "mla-request", peer: i % 5 === 0 ? "FR-MJ" : "US-DOJ-OIA", status: i >= 22 ? "submitted" : "received", priority: priorities[i % 3]!, at: created });
        if (i === 7) await tx.cases.setReference(caseId(i), "GB/2026/0007");
      }
    });
    const seen: string[] = [];
    let after: readonly [number, string, string] | null = null;
    for (let pageNo = 0; ; pageNo += 1) {
      const page = await store.read((tx) => pageCases(tx, {}, { limit: 4, after }, { config, now: new Date(at) }));
      seen.push(...page.cases.map((c) => c.caseId));
      // A case changes while the list is paged: it keeps its place.
      if (pageNo === 1) await store.transaction((tx) => tx.cases.markReceived(caseId(24), at, "2027-01-01T00:00:00.000Z"));
      if (page.last === null) break;
      after = page.last;
    }
    expect(seen).to.have.length(25);
    expect(new Set(seen).size).to.equal(25);
    const all = await store.read((tx) => pageCases(tx, {}, { limit: 100, after: null }, { config, now: new Date(at) }));
    expect(all.last).to.equal(null);
    expect(all.cases.map((c) => c.caseId)).to.deep.equal(seen);
    expect(all.cases.slice(0, 8).every((c) => c.priority === "emergency")).to.equal(true);
    expect(all.cases[0]!.caseId).to.equal(caseId(23));

    const filtered = async (filters: Record<string, string>): Promise<string[]> =>
      (await store.read((tx) => pageCases(tx, filters, { limit: 100, after: null }, { config, now: new Date(at) }))).cases.map((c) => c.caseId).sort();
    expect(await filtered({ reference: "GB/2026/0007" })).to.deep.equal([caseId(7)]);
    expect(await filtered({ peer: "FR-MJ" })).to.deep.equal([0, 5, 10, 15, 20].map(caseId).sort());
    expect(await filtered({ urgency: "urgent", direction: "inbound" })).to.deep.equal([1, 7, 13, 19].map(caseId).sort());
    expect(await filtered({ updatedSince: "2026-12-01T00:00:00.000Z" })).to.deep.equal([caseId(24)]);
    expect(await filtered({ status: "submitted" })).to.deep.equal([caseId(22), caseId(23)]);
  });
});
