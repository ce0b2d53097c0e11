/**
 * `valise case …` and `valise report …` against two running gateways: steps
 * go through the local API with a caseworker token (codes and exit statuses
 * as the API answers them), reading and reports work from the database.
 * Also the report routes of the local API, with their roles.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import { createNetwork, freePort, localRequest, waitFor, type TestNetwork } from "../gateway/fixtures.js";
import { caseAt, mlaRequest, submit, waitForStatus } from "../gateway/cases/helpers.js";
import { valise, type CliRun } from "./cli-helpers.js";

function codeOf(run: CliRun): string {
  return run.json<{ error: { code: string } }>().error.code;
}

describe("valise case and valise report", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  let dir: string;
  let usToken: string;
  let gbToken: string;
  let caseId: string;

  before(async function () {
    network = await createNetwork();
    gb = network.gb.gateway();
    us = network.us.gateway();
    await gb.start();
    await us.start();
    dir = mkdtempSync(join(tmpdir(), "valise-case-cli-"));
    usToken = join(dir, "us.token");
    gbToken = join(dir, "gb.token");
    writeFileSync(usToken, `${network.us.tokens.caseworker}\n`);
    writeFileSync(gbToken, network.gb.tokens.caseworker);
    caseId = await submit(network.gb, network.us, mlaRequest("urgent"));
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const us_ = (...args: string[]): Promise<CliRun> => valise([...args, "--home", network.us.home, "--token-file", usToken, "--json"]);
  const gb_ = (...args: string[]): Promise<CliRun> => valise([...args, "--home", network.gb.home, "--token-file", gbToken, "--json"]);

  it("takes steps through the running gateway's local API: acknowledge, request-info, provide-info, accept", async function () {
    const ack = await us_("case", "acknowledge", caseId, "--note", "Registered under OIA 182-25-4417.");
    expect(ack.exit, ack.stdout + ack.stderr).to.equal(0);
    expect(ack.json()).to.include({ caseId, step: "acknowledge", from: "received", status: "acknowledged" });

    const asked = await us_("case", "request-info", caseId, "--question", "Which emails were sent from outside the United Kingdom?", "--question", "Is the account holder identified?");
    expect(asked.exit, asked.stdout).to.equal(0);
    await waitForStatus(network.gb, caseId, "more-info-requested");

    const answered = await gb_("case", "provide-info", caseId, "--answer", "Nine of them.", "--answer", "Yes, since 22 November.");
    expect(answered.exit, answered.stdout).to.equal(0);
    expect(answered.json()).to.include({ step: "provide-more-info", status: "under-review" });
    await waitForStatus(network.us, caseId, "under-review");

    const accepted = await us_("case", "accept", caseId, "--condition", "Use only in the proceedings described.");
    expect(accepted.exit).to.equal(0);
    await waitForStatus(network.gb, caseId, "accepted");
  });

  it("prints a step in plain text without --json", async function () {
    const run = await valise(["case", "progress", caseId, "--delivered", "Subscriber data.", "--home", network.us.home], { VALISE_TOKEN: network.us.tokens.caseworker });
    expect(run.exit, run.stderr).to.equal(0);
    expect(run.stdout).to.match(new RegExp(`^report-progress: case ${caseId} accepted → partially-executed\\n  envelope [0-9a-f-]{36}\\n  digest   [0-9a-f]{64}`));
  });

  it("exits with the code of the API's refusal: 5 for a step the lifecycle does not allow, 2 for an invalid document", async function () {
    const wrong = await gb_("case", "accept", caseId);
    expect(wrong.exit).to.equal(5);
    expect(codeOf(wrong)).to.equal("CASE_TRANSITION_INVALID");
    const shortExplanation = await us_("case", "refuse", caseId, "--ground", "other", "--explanation", "no");
    expect(shortExplanation.exit).to.equal(2);
    expect(codeOf(shortExplanation)).to.equal("DOCUMENT_INVALID");
    const unpaired = await us_("case", "refuse", caseId, "--ground", "other", "--ground", "human-rights", "--explanation", "The explanation of the first ground, long enough.");
    expect(unpaired.exit).to.equal(2);
    expect(codeOf(unpaired)).to.equal("USAGE");
    const unknown = await us_("case", "acknowledge", "00000000-0000-4000-8000-000000000000");
    expect(unknown.exit).to.equal(4);
    expect(codeOf(unknown)).to.equal("CASE_UNKNOWN");
  });

  it("needs a token, and says so when no gateway answers", async function () {
    const noToken = await valise(["case", "acknowledge", caseId, "--home", network.us.home, "--json"]);
    expect(noToken.exit).to.equal(6);
    expect(codeOf(noToken)).to.equal("UNAUTHENTICATED");
    const wrongToken = await valise(["case", "acknowledge", caseId, "--home", network.us.home, "--json"], { VALISE_TOKEN: network.gb.tokens.caseworker });
    expect(wrongToken.exit).to.equal(6);
    expect(codeOf(wrongToken)).to.equal("UNAUTHENTICATED");
    const down = await us_("case", "acknowledge", caseId, "--api-url", `http://127.0.0.1:${await freePort()}`);
    expect(down.exit).to.equal(1);
    expect(codeOf(down)).to.equal("GATEWAY_UNREACHABLE");
  });

  it("reads cases from the database: list (emergency first), show (history and clocks), overdue, due-soon", async function () {
    const emergency = await submit(network.gb, network.us, mlaRequest("emergency"));
    const list = await valise(["case", "list", "--home", network.us.home, "--json"]);
    expect(list.exit).to.equal(0);
    expect(list.json<{ cases: Array<{ caseId: string; priority: string }> }>().cases.map((c) => c.caseId)).to.deep.equal([emergency, caseId]);

    const shown = await valise(["case", "show", caseId, "--home", network.gb.home]);
    expect(shown.exit, shown.stderr).to.equal(0);
    expect(shown.stdout).to.contain(`Case ${caseId} URGENT`);
    expect(shown.stdout).to.contain("you are the requesting authority");
    expect(shown.stdout).to.match(/ 1 {2}\S+ {2}US-DOJ-OIA {3}acknowledge {8}received → acknowledged/);
    expect(shown.stdout).to.match(/ 3 {2}\S+ {2}GB-UKCA {6}provide-more-info {2}more-info-requested → under-review/);
    expect(shown.stdout).to.contain("completion (10 days): running");
    expect(shown.stdout).to.match(/paused \d+\.\d days awaiting information/);

    const json = await valise(["case", "show", caseId, "--home", network.us.home, "--json"]);
    const detail = json.json<{ steps: unknown[]; clocks: { completion: { days: number } } }>();
    expect(detail.steps).to.have.length(5);
    expect(detail.clocks.completion.days).to.equal(10);

    const overdue = await valise(["case", "overdue", "--home", network.us.home, "--json"]);
    expect(overdue.json<{ deadlines: unknown[] }>().deadlines).to.deep.equal([]);
    const soon = await valise(["case", "due-soon", "--home", network.us.home, "--days", "2"]);
    expect(soon.exit).to.equal(0);
    expect(soon.stdout).to.match(new RegExp(`^EMERGENCY +${emergency} +completion`));

    const missing = await valise(["case", "show", "00000000-0000-4000-8000-000000000000", "--home", network.us.home, "--json"]);
    expect(missing.exit).to.equal(4);
    expect(codeOf(missing)).to.equal("CASE_UNKNOWN");
  });

  it("reports KPIs and the transparency report from the database (json, csv, html to a file)", async function () {
    await waitFor("US's step to reach GB", async () => ((await caseAt(network.gb, caseId)).json.status === "partially-executed" ? true : undefined));
    const kpi = await valise(["report", "kpi", "--home", network.us.home, "--json"]);
    expect(kpi.exit, kpi.stdout).to.equal(0);
    const figures = kpi.json<{ inbound: { overall: { cases: number; open: number }; byPeer: Record<string, unknown> } }>();
    expect(figures.inbound.overall).to.include({ cases: 2, open: 2 });
    expect(Object.keys(figures.inbound.byPeer)).to.deep.equal(["GB-UKCA"]);
    const text = await valise(["report", "kpi", "--home", network.us.home]);
    expect(text.stdout).to.contain("Requests received (how fast we answer):");

    const today = new Date().toISOString().slice(0, 10);
    const csv = await valise(["report", "transparency", "--from", today, "--to", today, "--format", "csv", "--suppress-below", "0", "--home", network.gb.home]);
    expect(csv.exit, csv.stderr).to.equal(0);
    expect(csv.stdout.split("\r\n")).to.include("total,sent,requests,Requests,2");
    const out = join(dir, "report.html");
    const html = await valise(["report", "transparency", "--from", today, "--to", today, "--format", "html", "--out", out, "--home", network.gb.home, "--json"]);
    expect(html.exit, html.stdout).to.equal(0);
    expect(html.json()).to.include({ written: out, format: "html" });
    expect(readFileSync(out, "utf8")).to.contain("Mutual legal assistance: transparency report");
    const reversed = await valise(["report", "transparency", "--from", today, "--to", "2000-01-01", "--home", network.gb.home, "--json"]);
    expect(reversed.exit).to.equal(2);
    expect(codeOf(reversed)).to.equal("USAGE");
  });

  it("serves the reports on the local API to auditors and operators only", async function () {
    const { us: authority } = network;
    const kpi = await localRequest(authority.localPort, "GET", "/api/v1/reports/kpi", { token: authority.tokens.auditor });
    expect(kpi.status, kpi.text).to.equal(200);
    expect(kpi.json.inbound.overall.cases).to.equal(2);
    const forbidden = await localRequest(authority.localPort, "GET", "/api/v1/reports/kpi", { token: authority.tokens.caseworker });
    expect(forbidden.status).to.equal(403);
    const today = new Date().toISOString().slice(0, 10);
    const json = await localRequest(authority.localPort, "GET", `/api/v1/reports/transparency?from=${today}&to=${today}`, { token: authority.tokens.operator });
    expect(json.status).to.equal(200);
    expect(json.json.received.total).to.equal("[c]");
    const csv = await localRequest(authority.localPort, "GET", `/api/v1/reports/transparency?from=${today}&to=${today}&format=csv&suppressBelow=0`, { token: authority.tokens.operator });
    expect(csv.headers["content-type"]).to.match(/^text\/csv/);
    expect(csv.text).to.contain("total,received,requests,Requests,2");
    const html = await localRequest(authority.localPort, "GET", `/api/v1/reports/transparency?from=${today}&to=${today}&format=html`, { token: authority.tokens.auditor });
    expect(html.headers["content-type"]).to.match(/^text\/html/);
    const bad = await localRequest(authority.localPort, "GET", "/api/v1/reports/transparency?from=yesterday&to=today", { token: authority.tokens.auditor });
    expect(bad.status).to.equal(400);
    expect(bad.json.error.code).to.equal("USAGE");
    const format = await localRequest(authority.localPort, "GET", `/api/v1/reports/transparency?from=${today}&to=${today}&format=pdf`, { token: authority.tokens.auditor });
    expect(format.status).to.equal(400);
  });

  // Last: it opens a case of its own, which the report figures above do not count.
  it("takes the steps that are not refusals: postpone and resume with --details, unable-to-execute with its reasons", async function () {
    const other = await submit(network.gb, network.us, mlaRequest());
    expect((await us_("case", "accept", other)).exit).to.equal(0);
    const postponed = await us_("case", "postpone", other, "--details", JSON.stringify({ postponement: { reason: "ongoing-investigation", until: "2030-01-15", explanation: "Executing now would reveal a domestic investigation of the same group." } }));
    expect(postponed.exit, postponed.stdout).to.equal(0);
    expect(postponed.json()).to.include({ step: "postpone", status: "postponed" });
    const badDetails = await us_("case", "resume", other, "--details", "[1]");
    expect(badDetails.exit).to.equal(2);
    expect(codeOf(badDetails)).to.equal("USAGE");
    expect((await us_("case", "resume", other)).json()).to.include({ status: "in-execution" });
    const unable = await us_("case", "unable-to-execute", other, "--reason", "data-deleted", "--explanation", "The provider deleted the account's logs under its retention rules.", "--item", "2");
    expect(unable.exit, unable.stdout).to.equal(0);
    expect(unable.json()).to.include({ step: "unable-to-execute", status: "unable-to-execute" });
    await waitForStatus(network.gb, other, "unable-to-execute");
    const wrongGround = await us_("case", "refuse", caseId, "--ground", "press-freedom", "--explanation", "The account belongs to a journalist reporting on the fraud.");
    expect(wrongGround.exit).to.equal(2);
    expect(codeOf(wrongGround)).to.equal("CASE_GROUND_NOT_ALLOWED");
  });
});
