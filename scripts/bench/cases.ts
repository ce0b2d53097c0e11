/**
 * How long the case clocks and reports take over a large store: the
 * periodic deadline check (every open case's clocks), the KPIs and the
 * transparency report (every case). Synthetic rows written straight into a
 * throwaway database.
 *
 * Run: `npx tsx scripts/bench/cases.ts [cases]` (default 20 000).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { openStore } from "../../gateway/store/store.js";
import { validateConfig } from "../../gateway/config/config.js";
import { overdueDeadlines } from "../../gateway/cases/deadlines.js";
import { clockSettingsFor } from "../../gateway/cases/clocks.js";
import { loadReportCases } from "../../gateway/reports/load.js";
import { computeKpis } from "../../gateway/reports/kpi.js";
import { transparencyReport } from "../../gateway/reports/transparency.js";
import { transparencyHtml } from "../../gateway/reports/transparency-html.js";

const count = Number(process.argv[2] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), "valise-bench-cases-"));
const store = await openStore({ kind: "sqlite", path: join(dir, "valise.db") }, "apply");
const config = validateConfig({
  valise: 1,
  authority: "GB-UKCA",
  profile: "ed25519",
  endpoint: "https://127.0.0.1:8443",
  peerApi: { host: "127.0.0.1", port: 8443 },
  localApi: { host: "127.0.0.1", port: 8444 },
  tls: { dns: [], ips: [] },
});
const now = Date.parse("2026-07-01T00:00:00Z");
const DAY = 86_400_000;
const peers = ["US-DOJ-OIA", "FR-MJ-BEPI", "DE-BMJ", "NL-OM", "ES-MJ"];
const priorities = ["normal", "normal", "normal", "urgent", "emergency"] as const;
const facts = JSON.stringify({ assistanceTypes: ["subscriber-data", "traffic-data"], dataCategories: ["subscriber-data", "traffic-data"], offenceCategory: "fraud" });

await store.transaction(async (tx) => {
  for (let i = 0; i < count; i += 1) {
    const caseId = randomUUID();
    const request = randomUUID();
    const received = now - (i % 120) * DAY - 3_600_000;
    const at = (days: number): string => new Date(received + days * DAY).toISOString();
    // A third executed, a third acknowledged, a third accepted and in execution.
    const kind = i % 3;
    const steps: Array<[string, string, string, number]> =
      kind === 0
        ? [["acknowledge", "received", "acknowledged", 1], ["accept", "acknowledged", "accepted", 2], ["executed", "accepted", "executed", Math.min(20, (i % 120) - 0.1)]]
        : kind === 1
          ? [["acknowledge", "received", "acknowledged", 0.5]]
          : [["accept", "received", "accepted", 1], ["report-progress", "accepted", "in-execution", 3]];
    const valid = steps.filter(([, , , d]) => d > 0 && received + d * DAY < now);
    const status = valid.at(-1)?.[2] ?? "received";
    const envelope = (id: string, type: string, when: string) =>
      tx.envelopes.insert({ envelopeId: id, caseId, direction: "inbound", type, from: "X", to: "GB-UKCA", inReplyTo: null, createdAt: when, storedAt: when, digest: "d", signerKid: "k", wire: "{}", document: "{}" });
    let head = request;
    await tx.cases.insert({ caseId, direction: i % 2 === 0 ? "inbound" : "outbound", kind: "mla-request", peer: peers[i % peers.length]!, status, priority: priorities[i % priorities.length]!, at: at(0) });
    await envelope(request, "mla-request", at(0));
    await tx.cases.recordOpened(caseId, request, facts, at(0));
    for (const [n, [step, from, to, d]] of valid.entries()) {
      const id = randomUUID();
      await envelope(id, "status-update", at(d));
      await tx.cases.insertStep({ envelope_id: id, case_id: caseId, seq: n + 1, predecessor: head, step, by_side: "requested", from_status: from, to_status: to, at: at(d), grounds: null, state: "applied", superseded_by: null });
      head = id;
    }
    await tx.cases.move(caseId, status, head, at(0));
  }
});

async function time<T>(label: string, work: () => T | Promise<T>, runs = 5): Promise<T> {
  let result!: T;
  const took: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = process.hrtime.bigint();
    result = await work();
    took.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  took.sort((a, b) => a - b);
  process.stdout.write(`${label.padEnd(44)} median ${took[Math.floor(runs / 2)]!.toFixed(1)} ms (${runs} runs)\n`);
  return result;
}

process.stdout.write(`${count} cases\n`);
const overdue = await time("deadline check (overdue over open cases)", () => store.read((tx) => overdueDeadlines(tx, config, new Date(now))));
const cases = await time("load report cases", () => store.read((tx) => loadReportCases(tx)));
await time("KPIs", () => computeKpis(cases, { asOf: new Date(now), clocks: (peer) => clockSettingsFor(config.clocks, peer) }));
const report = await time("transparency report (aggregate)", () => transparencyReport(cases, { authority: "GB-UKCA", from: "2026-01-01", to: "2026-06-30", asOf: new Date(now) }));
const html = await time("transparency report (HTML)", () => transparencyHtml(report));
process.stdout.write(`overdue deadlines: ${overdue.length}; HTML ${html.length} bytes\n`);
await store.close();
rmSync(dir, { recursive: true, force: true });
