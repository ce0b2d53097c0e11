/**
 * The case lifecycle in the demo: US's caseworker acknowledges, accepts and
 * executes GB's request with `valise case …` (through US's local API), GB
 * closes it; both gateways show the same history; the KPI summary and a
 * transparency report come from each gateway's records.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expectThat } from "../check.js";
import { pollUntil } from "../local-api-client.js";
import { apiOf, tokenOf, type DemoAuthority, type DemoState, type DemoStep } from "../scenario.js";
import type { Report } from "../report.js";
import { runValise } from "../valise-cli.js";
import { humanDuration } from "../../commands/report.js";

interface Step {
  seq: number;
  envelopeId: string;
  step: string;
  side: string;
  by: string;
  from: string;
  to: string;
  at: string;
  state: string;
}

interface CaseView {
  status: string;
  steps: Step[];
  clocks?: { completion: { state: string; dueAt: string; days: number } | null };
}

function caseIdOf(state: DemoState): string {
  expectThat(state.exchange !== undefined, "no request was exchanged");
  return state.exchange.caseId;
}

async function caseAt(authority: DemoAuthority, caseId: string): Promise<CaseView | undefined> {
  const answer = await apiOf(authority).get(`/api/v1/cases/${caseId}`, tokenOf(authority, "caseworker"));
  return answer.status === 200 ? (answer.body as CaseView) : undefined;
}

/** `valise case <verb> <caseId> …` as the authority's caseworker; requires exit 0 and the expected status. */
async function caseworker(report: Report, authority: DemoAuthority, args: readonly string[], expected: string): Promise<void> {
  const run = await runValise(["case", ...args, "--home", authority.home, "--json"], { VALISE_TOKEN: tokenOf(authority, "caseworker") });
  report.block([`$ VALISE_TOKEN=… ${run.command}`]);
  const taken = run.json as { status?: string; from?: string; envelopeDigest?: string } | undefined;
  expectThat(run.exitCode === 0 && taken?.status === expected, `${run.command} did not move the case to ${expected} (exit ${run.exitCode})`, [run.stdout.trim(), run.stderr.trim()]);
  report.ok(`${authority.id}: ${taken.from ?? "?"} → ${expected}; signed status update ${String(taken.envelopeDigest).slice(0, 16)}… queued for the other side`);
}

async function reaches(authority: DemoAuthority, caseId: string, status: string): Promise<CaseView> {
  const view = await pollUntil(async () => {
    const seen = await caseAt(authority, caseId);
    return seen?.status === status ? seen : undefined;
  });
  expectThat(view !== undefined, `${authority.id} did not see the case become ${status}`);
  return view;
}

/** US acknowledges and accepts (the evidence step then executes the request). */
export const acceptRequest: DemoStep = {
  title: "US acknowledges and accepts the request (valise case …)",
  async run(state, report) {
    const caseId = caseIdOf(state);
    const { gb, us } = state;
    report.say("Each step is checked against the case lifecycle, signed, encrypted to the other side and delivered;");
    report.say("the caseworker's CLI talks to its own gateway's local API with a caseworker token.");
    await caseworker(report, us, ["acknowledge", caseId, "--note", "Registered under OIA 182-25-4417."], "acknowledged");
    await reaches(gb, caseId, "acknowledged");
    await caseworker(report, us, ["accept", caseId, "--condition", "The data may be used only in the proceedings described in the request."], "accepted");
    await reaches(gb, caseId, "accepted");
    report.ok("GB's gateway shows each step as soon as it arrives: no black box");
  },
};

/** After the evidence executed the request: an invalid step refused, then GB closes. */
export const closeCase: DemoStep = {
  title: "The delivered evidence executed the request; GB closes the case",
  async run(state, report) {
    const caseId = caseIdOf(state);
    const { gb, us } = state;
    await reaches(us, caseId, "executed");
    await reaches(gb, caseId, "executed");
    report.ok("the evidence package completed the request: both gateways show the case executed (a signed status update naming the package)");

    report.say("");
    report.say("A step the lifecycle does not allow is refused before anything is sealed:");
    const refused = await runValise(["case", "accept", caseId, "--home", us.home, "--json"], { VALISE_TOKEN: tokenOf(us, "caseworker") });
    report.block([`$ VALISE_TOKEN=… ${refused.command}`]);
    const error = (refused.json as { error?: { code?: string; message?: string } } | undefined)?.error;
    expectThat(refused.exitCode === 5 && error?.code === "CASE_TRANSITION_INVALID", `accepting an executed case was not refused with CASE_TRANSITION_INVALID (exit ${refused.exitCode})`, [refused.stdout]);
    report.ok(`refused, exit 5: ${error.code} — ${error.message ?? ""}`);

    report.say("");
    await caseworker(report, gb, ["close", caseId, "--note", "Evidence received; thank you."], "closed");
    await reaches(us, caseId, "closed");
  },
};

function timeline(report: Report, authority: DemoAuthority, view: CaseView): void {
  report.say(`${authority.id} (GET /api/v1/cases/:caseId), status ${view.status}:`);
  report.block(view.steps.map((s) => `${String(s.seq).padStart(2)}  ${s.at}  ${s.by.padEnd(11)} ${s.step.padEnd(12)} ${s.from} → ${s.to}  envelope ${s.envelopeId.slice(0, 8)}…`));
}

/** Both histories, printed and compared. */
export const compareTimelines: DemoStep = {
  title: "Both gateways hold the same history of the case",
  async run(state, report) {
    const caseId = caseIdOf(state);
    const [atGb, atUs] = [await caseAt(state.gb, caseId), await caseAt(state.us, caseId)];
    expectThat(atGb !== undefined && atUs !== undefined, "a gateway does not know the case");
    timeline(report, state.gb, atGb);
    report.say("");
    timeline(report, state.us, atUs);
    const shape = (view: CaseView): string => JSON.stringify(view.steps.map(({ seq, envelopeId, step, side, by, from, to, at, state: s }) => ({ seq, envelopeId, step, side, by, from, to, at, s })));
    expectThat(shape(atGb) === shape(atUs), "the two gateways hold different histories", [shape(atGb), shape(atUs)]);
    expectThat(atGb.steps.map((s) => s.step).join(",") === "acknowledge,accept,executed,close", `the history is ${atGb.steps.map((s) => s.step).join(",")}`);
    report.ok("same steps, same envelopes, same times, same states on both sides");
    const completion = atUs.clocks?.completion;
    expectThat(completion?.state === "met", `the completion clock is ${String(completion?.state)}, not met`);
    report.ok(`answered within the ${completion.days}-day completion deadline (due ${completion.dueAt})`);
  },
};

/** The KPI summary of each side, and GB's transparency report. */
export const showKpis: DemoStep = {
  title: "KPI summary and a transparency report (valise report …)",
  async run(state, report) {
    for (const [authority, direction, label] of [
      [state.us, "inbound", "requests received"],
      [state.gb, "outbound", "requests sent"],
    ] as const) {
      const run = await runValise(["report", "kpi", "--home", authority.home, "--json"], {});
      report.block([`$ ${run.command}`]);
      expectThat(run.exitCode === 0, `valise report kpi failed for ${authority.id}`, [run.stdout, run.stderr]);
      const overall = (run.json as Record<string, { overall: Record<string, any> }>)[direction]!.overall;
      expectThat(overall["cases"] === 1 && overall["completed"] === 1 && overall["refusals"]["count"] === 0, `${authority.id}'s KPIs do not count one answered case`, [JSON.stringify(overall)]);
      report.fact(`${authority.id}`, `${label}: ${overall["cases"]}, answered ${overall["completed"]}, open ${overall["open"]}, overdue ${overall["overdue"]}`);
      report.fact("", `answered within 14 days: ${overall["completedWithin14Days"]["count"]}/${overall["completedWithin14Days"]["of"]}; within 30: ${overall["completedWithin30Days"]["count"]}/${overall["completedWithin30Days"]["of"]}`);
      report.fact("", `time to answer: median ${humanDuration(overall["timeToCompletion"]["medianDays"])}; time per step (requested side): median ${humanDuration(overall["timePerHop"]["requested"]["medianDays"])}`);
    }
    report.ok("both sides count the same case, answered, from their own records");

    const today = new Date().toISOString().slice(0, 10);
    const out = join(state.workdir, "GB-UKCA-transparency.html");
    const run = await runValise(["report", "transparency", "--from", today, "--to", today, "--format", "html", "--out", out, "--home", state.gb.home, "--json"], {});
    report.block([`$ ${run.command}`]);
    expectThat(run.exitCode === 0, "valise report transparency failed", [run.stdout, run.stderr]);
    const html = readFileSync(out, "utf8");
    expectThat(html.includes("Mutual legal assistance: transparency report") && !html.includes(String(state.exchange?.document["reference"])), "the transparency report is missing or holds case content");
    report.ok(`one self-contained HTML file (${html.length} bytes, inline SVG charts, no script); counts only, small counts suppressed as "[c]"`);
  },
};
