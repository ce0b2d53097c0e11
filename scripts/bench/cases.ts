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
import { openDatabase } from "../../gateway/store/database.js";
import { validateConfig } from "../../gateway/config/config.js";
import { overdueDeadlines } from "../../gateway/cases/deadlines.js";
import { clockSettingsFor } from "../../gateway/cases/clocks.js";
import { loadReportCases } from "../../gateway/reports/load.js";
import { computeKpis } from "../../gateway/reports/kpi.js";
import { transparencyReport } from "../../gateway/reports/transparency.js";
import { transparencyHtml } from "../../gateway/reports/transparency-html.js";

const count = Number(process.argv[2] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), "valise-bench-cases-"));
const db = openDatabase(join(dir, "valise.db"));
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

db.transaction(() => {
  const insertCase = db.prepare(
    "INSERT INTO cases (case_id, direction, kind, peer, status, priority, created_at, updated_at, request_envelope_id, head_envelope_id, received_at, facts) VALUES (?, ?, 'mla-request', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const insertEnvelope = db.prepare(
    "INSERT INTO envelopes (envelope_id, case_id, direction, type, from_authority, to_authority, created_at, stored_at, digest, signer_kid) VALUES (?, ?, 'inbound', ?, 'X', 'GB-UKCA', ?, ?, 'd', 'k')",
  );
  const insertStep = db.prepare(
    "INSERT INTO case_steps (envelope_id, case_id, seq, predecessor, step, by_side, from_status, to_status, at, state) VALUES (?, ?, ?, ?, ?, 'requested', ?, ?, ?, 'applied')",
  );
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
    let head = request;
    insertCase.run(caseId, i % 2 === 0 ? "inbound" : "outbound", peers[i % peers.length], status, priorities[i % priorities.length], at(0), at(0), null, null, at(0), facts);
    insertEnvelope.run(request, caseId, "mla-request", at(0), at(0));
    valid.forEach(([step, from, to, d], n) => {
      const id = randomUUID();
      insertEnvelope.run(id, caseId, "status-update", at(d), at(d));
      insertStep.run(id, caseId, n + 1, head, step, from, to, at(d));
      head = id;
    });
    db.prepare("UPDATE cases SET request_envelope_id = ?, head_envelope_id = ? WHERE case_id = ?").run(request, head, caseId);
  }
})();

function time<T>(label: string, work: () => T, runs = 5): T {
  let result!: T;
  const took: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = process.hrtime.bigint();
    result = work();
    took.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  took.sort((a, b) => a - b);
  process.stdout.write(`${label.padEnd(44)} median ${took[Math.floor(runs / 2)]!.toFixed(1)} ms (${runs} runs)\n`);
  return result;
}

process.stdout.write(`${count} cases\n`);
const overdue = time("deadline check (overdue over open cases)", () => overdueDeadlines(db, config, new Date(now)));
const cases = time("load report cases", () => loadReportCases(db));
time("KPIs", () => computeKpis(cases, { asOf: new Date(now), clocks: (peer) => clockSettingsFor(config.clocks, peer) }));
const report = time("transparency report (aggregate)", () => transparencyReport(cases, { authority: "GB-UKCA", from: "2026-01-01", to: "2026-06-30", asOf: new Date(now) }));
const html = time("transparency report (HTML)", () => transparencyHtml(report));
process.stdout.write(`overdue deadlines: ${overdue.length}; HTML ${html.length} bytes\n`);
db.close();
rmSync(dir, { recursive: true, force: true });
