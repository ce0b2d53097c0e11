/**
 * Both sides' audit logs, read through the auditor role, and the exchange
 * as one timeline merged from the two logs.
 */
import { expectThat } from "../check.js";
import { apiOf, tokenOf, type DemoAuthority, type DemoState, type DemoStep } from "../scenario.js";
import type { Report } from "../report.js";

interface Entry {
  index: number;
  time: string;
  kind: string;
  actor: string;
  caseId?: string;
  envelopeId?: string;
  envelopeDigest?: string;
  details: Record<string, unknown>;
}

async function entriesOf(authority: DemoAuthority): Promise<Entry[]> {
  const answer = await apiOf(authority).get("/api/v1/audit/entries?from=0&count=1000", tokenOf(authority, "auditor"));
  expectThat(answer.status === 200, `${authority.id}'s audit entries answered ${answer.status}`, [JSON.stringify(answer.body)]);
  return (answer.body as { entries: Entry[] }).entries;
}

function short(id: string | undefined): string {
  return id === undefined ? "" : `${id.slice(0, 8)}…`;
}

function printEntries(report: Report, entries: readonly Entry[]): void {
  for (const entry of entries) {
    const about = [entry.caseId === undefined ? "" : `case ${short(entry.caseId)}`, entry.envelopeDigest === undefined ? "" : `digest ${entry.envelopeDigest.slice(0, 12)}…`]
      .filter((part) => part !== "")
      .join(" ");
    report.block([`#${String(entry.index).padEnd(3)} ${entry.time}  ${entry.kind.padEnd(17)} ${entry.actor.padEnd(26)} ${about}`]);
  }
}

/** Both audit logs in full; the entries the exchange must have left. */
export const showAuditLogs: DemoStep = {
  title: "Both audit logs, as an auditor sees them (GET /api/v1/audit/entries)",
  async run(state, report) {
    const exchange = state.exchange;
    expectThat(exchange !== undefined, "no request was exchanged");
    const required: Array<[DemoAuthority, string[]]> = [
      [state.gb, ["envelope.sent", "receipt.received"]],
      [state.us, ["envelope.received", "access.read"]],
    ];
    report.say("Entries hold ids, digests and who did what; never the content of a request.");
    for (const [authority, kinds] of required) {
      const entries = await entriesOf(authority);
      report.say("");
      report.say(`${authority.id} (${entries.length} entries):`);
      printEntries(report, entries);
      for (const kind of kinds) {
        const entry = entries.find((e) => e.kind === kind && e.envelopeId === exchange.envelopeId);
        expectThat(entry !== undefined, `${authority.id}'s log has no ${kind} entry for the envelope`);
        expectThat(entry.envelopeDigest === exchange.envelopeDigest, `${authority.id}'s ${kind} entry names another digest`);
      }
      report.ok(`${authority.id} logged ${kinds.join(" and ")} for envelope ${short(exchange.envelopeId)}, with its digest`);
      const leaked = entries.some((entry) => JSON.stringify(entry).includes(String(exchange.document["reference"])));
      expectThat(!leaked, `${authority.id}'s audit log contains the request's reference: content leaked into the log`);
    }
    report.ok("no entry contains content of the request (its reference appears nowhere in either log)");
  },
};

/** The exchange as one timeline merged from both logs. */
export const showTimeline: DemoStep = {
  title: "Timeline of the exchange (from both audit logs)",
  async run(state: DemoState, report) {
    const exchange = state.exchange;
    expectThat(exchange !== undefined, "no request was exchanged");
    const rows: Array<{ at: number; who: string; entry: Entry }> = [];
    for (const authority of [state.gb, state.us]) {
      for (const entry of await entriesOf(authority)) {
        if (entry.caseId === exchange.caseId) rows.push({ at: Date.parse(entry.time), who: authority.label, entry });
      }
    }
    rows.sort((a, b) => a.at - b.at || (a.who === b.who ? a.entry.index - b.entry.index : 0));
    const start = rows[0]?.at ?? 0;
    const story: Record<string, string> = {
      "envelope.sent": "request signed, encrypted and queued (201 to the caseworker)",
      "envelope.received": "envelope opened, checked and committed; receipt signed",
      "receipt.received": "receipt verified and stored: proof of delivery",
      "status.changed": "the case moved from submitted to received",
      "access.read": "a caseworker read the request",
    };
    report.fact("case", exchange.caseId);
    report.fact("envelope", exchange.envelopeId);
    report.fact("digest", exchange.envelopeDigest);
    report.say("");
    for (const row of rows) {
      report.block([`${`+${row.at - start} ms`.padStart(9)}  ${row.who}  ${row.entry.kind.padEnd(17)} ${story[row.entry.kind] ?? ""}  (${row.entry.actor})`]);
    }
    expectThat(rows.length >= 4, `the timeline has ${rows.length} entries, expected at least 4`);
  },
};
