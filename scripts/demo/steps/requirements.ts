/**
 * Requirements profiles: each authority publishes what it requires of
 * incoming requests (`valise requirements set`), GB's gateway fetches US's,
 * and GB's first attempt at the example request is refused before anything
 * is sealed, with US's own explanation — in French, as the GB officer asked.
 * The request step then sends it fixed.
 */
import { readFileSync } from "node:fs";
import { expectThat } from "../check.js";
import { apiOf, tokenOf, type DemoState, type DemoStep } from "../scenario.js";
import { operator } from "./authorities.js";
import { runValise } from "../valise-cli.js";

const PROFILES = new URL("../../../schemas/examples/requirements-profile/", import.meta.url);
const EXAMPLE_REQUEST = new URL("../../../schemas/examples/mla-request/valid-email-records.json", import.meta.url);

/** The example request as the GB officer first writes it: 122 days of content data. */
export function firstDraftRequest(): Record<string, unknown> {
  return JSON.parse(readFileSync(EXAMPLE_REQUEST, "utf8")) as Record<string, unknown>;
}

/** The same request after the officer narrowed the content period to the 90 days US grants. */
export function requestMeetingUsRequirements(): Record<string, unknown> {
  const request = firstDraftRequest() as { assistance: Array<{ type: string; dateRange?: { from: string; to: string } }> };
  const content = request.assistance.find((item) => item.type === "content-data");
  expectThat(content !== undefined, "the example request asks for no content data");
  content.dateRange = { from: "2025-03-01", to: "2025-05-29" };
  return request as unknown as Record<string, unknown>;
}

/** Both authorities publish their profiles; GB fetches US's and shows it. */
export const publishRequirements: DemoStep = {
  title: "Each authority publishes what it requires of incoming requests; GB fetches US's",
  async run(state, report) {
    for (const [authority, file] of [[state.us, "valid-us-doj-oia.json"], [state.gb, "valid-gb-ukca.json"]] as const) {
      const path = new URL(file, PROFILES).pathname;
      const published = (await operator(state, report, ["requirements", "set", path, "--home", authority.home]))["published"] as { version?: number; digest?: string } | undefined;
      expectThat(published?.version === 1, `${authority.id} did not publish version 1`);
      report.ok(`${authority.id} published version 1 of its requirements, signed with its sign key (sha256 ${String(published.digest).slice(0, 16)}…)`);
    }
    const token = (await operator(state, report, ["token", "create", "--home", state.gb.home, "--role", "operator", "--name", "demo-operator"]))["token"];
    expectThat(typeof token === "string", "no operator token was created for GB");
    const fetch = await runValise(["requirements", "fetch", state.us.id, "--home", state.gb.home, "--json"], { VALISE_TOKEN: token });
    report.block([`$ VALISE_TOKEN=… ${fetch.command}`]);
    const fetched = fetch.json as { version?: number } | undefined;
    expectThat(fetch.exitCode === 0 && fetched?.version === 1, `GB did not fetch US's requirements (exit ${fetch.exitCode})`, [fetch.stdout, fetch.stderr]);
    report.ok("GB's gateway fetched US's profile over the peer API, checked its signature against US's current sign certificate, and logged it");
    const shown = await runValise(["requirements", "show", state.us.id, "--home", state.gb.home, "--lang", "fr"], {});
    expectThat(shown.exitCode === 0, "valise requirements show failed", [shown.stderr]);
    report.say("What a GB officer reads at the terminal (first lines):");
    report.block([`$ ${shown.command}`, ...shown.stdout.split("\n").slice(0, 14)]);
  },
};

/** The first draft is refused by US's profile before it leaves GB. */
export const refuseByRequirements: DemoStep = {
  title: "GB's first draft is refused before sending: it breaks US's requirements",
  async run(state: DemoState, report) {
    report.say("The GB officer submits the request asking for 122 days of stored email content, reading in French (Accept-Language: fr):");
    const api = apiOf(state.gb);
    const answer = await api.post("/api/v1/requests", tokenOf(state.gb, "caseworker"), firstDraftRequest(), { "accept-language": "fr" });
    const error = (answer.body as { error?: { code?: string; details?: { requirements?: { version?: number }; errors?: Array<{ path: string; rule: string; language: string; message: string; hint: string }> } } }).error;
    expectThat(answer.status === 422 && error?.code === "REQUIREMENTS_NOT_MET", `the first draft was not refused by US's requirements (${answer.status})`, [JSON.stringify(answer.body)]);
    const failure = error.details?.errors?.[0];
    expectThat(failure?.rule === "us-content-period" && failure.language === "fr", "the refusal does not cite US's content-period rule in French", [JSON.stringify(error)]);
    report.ok(`422 REQUIREMENTS_NOT_MET under US's profile version ${String(error.details?.requirements?.version)}: nothing was sealed, stored or sent`);
    report.fact("field", failure.path);
    report.fact("rule", failure.rule);
    report.fact("why", failure.message);
    report.fact(`US explains (${failure.language})`, failure.hint);
    const cases = await api.get("/api/v1/cases", tokenOf(state.gb, "caseworker"));
    expectThat(((cases.body as { cases?: unknown[] }).cases ?? []).length === 0, "GB opened a case for a refused request");
    report.ok("GB has no case for it; the officer narrows the content period to 90 days (2025-03-01 to 2025-05-29) and submits again");
  },
};
