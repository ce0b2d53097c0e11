/**
 * A hand-built fixture of 52 cases for the KPI and transparency tests, seen
 * from GB-UKCA's gateway on 1 July 2026: 40 requests received (from US 20,
 * FR 12, DE 8) and 12 sent (to US 6, to FR 6). Each case is written as "received
 * R days before the report" and its steps as "k days after receipt", so every
 * duration below is a whole (or half) number of days that can be checked by
 * hand. The expected figures live in the tests, computed by hand from this
 * table — never by the code under test.
 *
 * Step patterns (days after receipt):
 * - exec(d):      acknowledge@1, accept@2, executed@d          (requested hops 1, 1, d-2)
 * - refused(d):   acknowledge@1, refuse@d                      (requested hops 1, d-1)
 * - withdrawn(d): acknowledge@1, withdraw@d (requester)        (requested 1; requesting d-1)
 * - partial(p,c): accept@2, report-progress with delivery@p, close@c (requester)
 *                                                              (requested 2, p-2; requesting c-p)
 */
import type { ReportCase, ReportStep } from "../../../gateway/reports/report-case.js";
import type { CaseFacts } from "../../../gateway/cases/facts.js";
import type { CaseStatus, CaseStep, RefusalGround, Side } from "../../../gateway/cases/lifecycle.js";

/** The time of the report. */
export const AS_OF = new Date("2026-07-01T00:00:00.000Z");
const DAY = 86_400_000;

type Step = readonly [CaseStep, Side, CaseStatus, number, (readonly RefusalGround[])?];

const exec = (d: number): Step[] => [
  ["acknowledge", "requested", "acknowledged", 1],
  ["accept", "requested", "accepted", 2],
  ["executed", "requested", "executed", d],
];
const refused = (d: number, grounds: RefusalGround[]): Step[] => [
  ["acknowledge", "requested", "acknowledged", 1],
  ["refuse", "requested", "refused", d, grounds],
];
const withdrawn = (d: number): Step[] => [
  ["acknowledge", "requested", "acknowledged", 1],
  ["withdraw", "requesting", "withdrawn", d],
];
const partial = (p: number, c: number): Step[] => [
  ["accept", "requested", "accepted", 2],
  ["report-progress", "requested", "partially-executed", p],
  ["close", "requesting", "closed", c],
];

const facts = (assistanceTypes: string[], dataCategories: string[], offenceCategory: string, preservationDays?: number): CaseFacts => ({
  assistanceTypes,
  dataCategories,
  offenceCategory,
  ...(preservationDays === undefined ? {} : { preservationDays }),
});

/** US's requests U1–U10: content and subscriber data, fraud. */
const US_DATA = facts(["content-data", "subscriber-data"], ["content-data", "subscriber-data"], "fraud");
/** US's requests U11–U20: witness testimony, drug trafficking. */
const US_WITNESS = facts(["witness-testimony"], [], "drug-trafficking");
/** FR's F2–F12: bank records and a search, money laundering. */
const FR_BANK = facts(["bank-records", "search-and-seizure"], ["bank-records"], "money-laundering");
/** DE's D1–D8: traffic data, terrorism. */
const DE_TRAFFIC = facts(["traffic-data"], ["traffic-data"], "terrorism");
/** Sent to US, O1–O6: content, subscriber and traffic data, fraud. */
const TO_US = facts(["content-data", "subscriber-data", "traffic-data"], ["content-data", "subscriber-data", "traffic-data"], "fraud");
/** Sent to FR, O7–O11: freezing of assets, corruption. */
const TO_FR = facts(["freezing-or-confiscation"], [], "corruption");

function build(
  id: string,
  direction: "inbound" | "outbound",
  peer: string,
  receivedDaysAgo: number | null,
  steps: readonly Step[],
  caseFacts: CaseFacts,
  options: { kind?: string; priority?: "normal" | "urgent" | "emergency"; createdDaysAgo?: number } = {},
): ReportCase {
  const receivedAt = receivedDaysAgo === null ? null : AS_OF.getTime() - receivedDaysAgo * DAY;
  let from: CaseStatus = "received";
  const built: ReportStep[] = steps.map(([step, by, to, after, grounds]) => {
    const s: ReportStep = { step, by, from, to, at: new Date(receivedAt! + after * DAY).toISOString(), grounds: grounds ?? [] };
    from = to;
    return s;
  });
  // Sent requests left an hour before they were received; received ones are recorded at receipt.
  const created = options.createdDaysAgo !== undefined ? AS_OF.getTime() - options.createdDaysAgo * DAY : direction === "outbound" ? receivedAt! - 3_600_000 : receivedAt!;
  return {
    caseId: id,
    direction,
    kind: options.kind ?? "mla-request",
    peer,
    priority: options.priority ?? "normal",
    status: receivedAt === null ? "submitted" : (built.at(-1)?.to ?? "received"),
    createdAt: new Date(created).toISOString(),
    receivedAt: receivedAt === null ? null : new Date(receivedAt).toISOString(),
    facts: caseFacts,
    steps: built,
  };
}

const US = "US-DOJ-OIA";
const FR = "FR-MJ-BEPI";
const DE = "DE-BMJ";

/** The 52 cases. */
export const FIXTURE: readonly ReportCase[] = [
  // Received from US (20).
  build("U1", "inbound", US, 100, exec(5), US_DATA),
  build("U2", "inbound", US, 100, exec(7), US_DATA),
  build("U3", "inbound", US, 100, exec(9), US_DATA),
  build("U4", "inbound", US, 90, exec(10), US_DATA),
  build("U5", "inbound", US, 90, exec(12), US_DATA),
  build("U6", "inbound", US, 90, exec(14), US_DATA),
  build("U7", "inbound", US, 80, exec(15), US_DATA),
  build("U8", "inbound", US, 80, exec(20), US_DATA),
  build("U9", "inbound", US, 80, exec(28), US_DATA),
  build("U10", "inbound", US, 70, exec(35), US_DATA),
  build("U11", "inbound", US, 70, refused(6, ["dual-criminality"]), US_WITNESS),
  build("U12", "inbound", US, 70, refused(8, ["dual-criminality", "disproportionate"]), US_WITNESS),
  build("U13", "inbound", US, 60, refused(16, ["human-rights"]), US_WITNESS),
  build("U14", "inbound", US, 60, refused(31, ["insufficient-justification"]), US_WITNESS),
  build("U15", "inbound", US, 60, withdrawn(3), US_WITNESS),
  build("U16", "inbound", US, 50, withdrawn(10), US_WITNESS),
  // Under review since day 3: hop due day 8, completion day 30 — both passed at day 50.
  build("U17", "inbound", US, 50, [["acknowledge", "requested", "acknowledged", 1], ["start-review", "requested", "under-review", 3]], US_WITNESS),
  // In execution, last progress report day 30: hop due day 35, passed at day 40.
  build("U18", "inbound", US, 40, [["acknowledge", "requested", "acknowledged", 1], ["accept", "requested", "accepted", 4], ["report-progress", "requested", "in-execution", 30]], US_WITNESS),
  // Received 5 days ago: hop due day 6 / 7, not passed.
  build("U19", "inbound", US, 5, [["acknowledge", "requested", "acknowledged", 1]], US_WITNESS),
  build("U20", "inbound", US, 5, [["acknowledge", "requested", "acknowledged", 1], ["start-review", "requested", "under-review", 2]], US_WITNESS),
  // Received from FR (12). F1 is a quick freeze preserved for 90 days from day 3: expires day 93, after the report (day 90).
  build("F1", "inbound", FR, 90, exec(3), facts(["preservation"], ["subscriber-data", "traffic-data"], "illegal-access", 90), { kind: "preservation-request" }),
  build("F2", "inbound", FR, 100, exec(4), FR_BANK),
  build("F3", "inbound", FR, 90, exec(18), FR_BANK),
  build("F4", "inbound", FR, 90, exec(22), FR_BANK),
  build("F5", "inbound", FR, 80, exec(40), FR_BANK),
  build("F6", "inbound", FR, 80, exec(60), FR_BANK),
  build("F7", "inbound", FR, 70, partial(10, 25), FR_BANK),
  build("F8", "inbound", FR, 70, partial(20, 45), FR_BANK),
  build("F9", "inbound", FR, 60, refused(2, ["political-offence"]), FR_BANK),
  // Questions asked day 10, unanswered: FR's hop due day 15, passed at day 20; completion paused.
  build("F10", "inbound", FR, 20, [["acknowledge", "requested", "acknowledged", 1], ["request-more-info", "requested", "more-info-requested", 10]], FR_BANK),
  // Accepted day 3, nothing since: hop due day 8, passed at day 12.
  build("F11", "inbound", FR, 12, [["acknowledge", "requested", "acknowledged", 1], ["accept", "requested", "accepted", 3]], FR_BANK),
  // Partly delivered day 4, nothing since: hop due day 9, passed at day 10.
  build("F12", "inbound", FR, 10, [["accept", "requested", "accepted", 2], ["report-progress", "requested", "partially-executed", 4]], FR_BANK),
  // Received from DE (8).
  build("D1", "inbound", DE, 100, exec(30), DE_TRAFFIC),
  build("D2", "inbound", DE, 100, exec(30), DE_TRAFFIC),
  build("D3", "inbound", DE, 90, exec(31), DE_TRAFFIC),
  build("D4", "inbound", DE, 90, exec(13), DE_TRAFFIC),
  build("D5", "inbound", DE, 80, refused(45, ["dual-criminality"]), DE_TRAFFIC),
  build("D6", "inbound", DE, 70, refused(14, ["sovereignty-security-public-order", "other"]), DE_TRAFFIC),
  build("D7", "inbound", DE, 60, [["accept", "requested", "accepted", 0.25], ["executed", "requested", "executed", 0.5]], DE_TRAFFIC, { priority: "emergency" }),
  // In execution, last report day 38: hop due day 43 (not passed at day 40); completion due day 30, passed.
  build("D8", "inbound", DE, 40, [["acknowledge", "requested", "acknowledged", 1], ["accept", "requested", "accepted", 2], ["report-progress", "requested", "in-execution", 38]], DE_TRAFFIC),
  // Sent to US (6).
  build("O1", "outbound", US, 100, exec(10), TO_US),
  build("O2", "outbound", US, 100, exec(20), TO_US),
  build("O3", "outbound", US, 90, exec(30), TO_US),
  build("O4", "outbound", US, 90, exec(40), TO_US),
  build("O5", "outbound", US, 80, refused(15, ["discrimination"]), TO_US),
  // Acknowledged day 1, nothing since: overdue.
  build("O6", "outbound", US, 60, [["acknowledge", "requested", "acknowledged", 1]], TO_US),
  // Sent to FR (6).
  build("O7", "outbound", FR, 50, exec(7), TO_FR),
  build("O8", "outbound", FR, 50, exec(8), TO_FR),
  build("O9", "outbound", FR, 40, withdrawn(5), TO_FR),
  // Sent 2 days ago, no receipt yet: no clock runs.
  build("O10", "outbound", FR, null, [], TO_FR, { createdDaysAgo: 2 }),
  build("O11", "outbound", FR, 40, refused(29, ["double-jeopardy", "military-offence"]), TO_FR),
  // A quick freeze preserved day 14 for 60 days: expires day 74, after the report (day 30).
  build("O12", "outbound", FR, 30, exec(14), facts(["preservation"], ["content-data"], "corruption", 60), { kind: "preservation-request" }),
];
