/**
 * `valise case …`: a case's lifecycle from the command line.
 *
 * Steps (acknowledge, refuse, withdraw, …) go through the running gateway's
 * local API with a caseworker token — the same checks, sealing and audit as
 * any case-management system. Reading (list, show, overdue, due-soon) opens
 * the home's database directly, so it works with the gateway stopped.
 */
import type { Command } from "commander";
import { openHome } from "../../gateway/home.js";
import type { Tx } from "../../gateway/store/store.js";
import { withHomeStore } from "../../gateway/store/home-store.js";
import type { GatewayConfig } from "../../gateway/config/config.js";
import { GatewayError } from "../../gateway/errors.js";
import { getCase, listCases, type CaseDetail } from "../../gateway/cases/query.js";
import { dueSoonDeadlines, overdueDeadlines, type DeadlineItem } from "../../gateway/cases/deadlines.js";
import { DAY_MS } from "../../gateway/cases/clocks.js";
import type { StepTaken } from "../../gateway/cases/transition.js";
import { type CliContext, type CommonOptions, homeDir, withCommonOptions } from "../cli/context.js";
import { localApiOf, withApiOptions as withApiCall, type ApiOptions } from "../cli/local-api.js";
import { callApi, type BodyOf } from "../cli/typed-local-api.js";

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Reads the home's store (never migrating it) with its configuration. */
export function withHomeDatabase<T>(options: CommonOptions, context: CliContext, work: (tx: Tx, config: GatewayConfig) => Promise<T>): Promise<T> {
  const home = openHome(homeDir(options, context));
  return withHomeStore(home, "refuse", (store) => store.read((tx) => work(tx, home.config)));
}

function withApiOptions(command: Command): Command {
  return withApiCall(withCommonOptions(command, false));
}

type StepOptions = ApiOptions & {
  note?: string;
  question?: string[];
  answer?: string[];
  condition?: string[];
  ground?: string[];
  explanation?: string[];
  delivered?: string;
  package?: string[];
  reason?: string[];
  item?: string[];
  partial?: boolean;
  details?: string;
};

/** `--item 0 --item 2` as positions in the request's assistance list. */
function items(options: StepOptions): number[] | undefined {
  if (options.item === undefined) return undefined;
  return options.item.map((text) => {
    if (!/^(0|[1-9][0-9]?)$/.test(text)) throw new GatewayError("USAGE", `--item is a position in the request's assistance list, from 0 (got ${JSON.stringify(text)})`);
    return Number(text);
  });
}

/** The status-update fields of a step from the command's options. */
function stepBody(step: string, options: StepOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { step };
  if (options.note !== undefined) body["note"] = options.note;
  if (options.question !== undefined) body["questions"] = options.question;
  if (options.answer !== undefined) body["answers"] = options.answer;
  if (options.condition !== undefined) body["conditions"] = options.condition;
  if (options.ground !== undefined || (options.explanation !== undefined && options.reason === undefined)) {
    const grounds = options.ground ?? [];
    const explanations = options.explanation ?? [];
    if (grounds.length !== explanations.length) {
      throw new GatewayError("USAGE", `give one --explanation after each --ground (got ${grounds.length} ground(s), ${explanations.length} explanation(s))`);
    }
    const covered = items(options);
    body["grounds"] = grounds.map((ground, i) => ({ ground, explanation: explanations[i], ...(covered === undefined ? {} : { assistanceItems: covered }) }));
  }
  if (options.partial === true) body["partial"] = true;
  if (options.reason !== undefined) {
    const explanations = options.explanation ?? [];
    if (options.reason.length !== explanations.length) {
      throw new GatewayError("USAGE", `give one --explanation after each --reason (got ${options.reason.length} reason(s), ${explanations.length} explanation(s))`);
    }
    const covered = items(options);
    body["unable"] = options.reason.map((reason, i) => ({ reason, explanation: explanations[i], ...(covered === undefined ? {} : { assistanceItems: covered }) }));
  }
  if (options.details !== undefined) {
    let details: unknown;
    try {
      details = JSON.parse(options.details);
    } catch {
      details = undefined;
    }
    if (typeof details !== "object" || details === null || Array.isArray(details)) {
      throw new GatewayError("USAGE", '--details is a JSON object of the step\'s fields, e.g. \'{"postponement":{"reason":"ongoing-investigation","until":"2026-09-01","explanation":"…"}}\'');
    }
    Object.assign(body, details);
  }
  if (options.delivered !== undefined || options.package !== undefined) {
    body["delivered"] = { ...(options.delivered === undefined ? {} : { text: options.delivered }), ...(options.package === undefined ? {} : { packageIds: options.package }) };
  }
  return body;
}

function priorityTag(priority: string): string {
  return priority === "normal" ? "" : ` ${priority.toUpperCase()}`;
}

function days(ms: number): string {
  return `${(ms / DAY_MS).toFixed(1)} days`;
}

/** A case and its history as text. */
export function formatCase(detail: CaseDetail, now: Date): string {
  const direction = detail.direction === "inbound" ? `received from ${detail.peer}` : `sent to ${detail.peer}`;
  const lines = [
    `Case ${detail.caseId}${priorityTag(detail.priority)}`,
    `  ${detail.kind} ${direction}; status ${detail.status}; you are the ${detail.side} authority`,
    `  received by the requested authority: ${detail.receivedAt ?? "not yet (no receipt)"}`,
    `  steps you may take now: ${detail.allowedSteps.length === 0 ? "none" : detail.allowedSteps.join(", ")}`,
    "",
    "History:",
    ...(detail.steps.length === 0
      ? ["  (no step yet)"]
      : detail.steps.map((s) => {
          const grounds = s.grounds.length === 0 ? "" : ` [${s.grounds.join(", ")}]`;
          const superseded = s.state === "superseded" ? `  (superseded by ${s.supersededBy ?? "?"})` : "";
          return `  ${String(s.seq).padStart(2)}  ${s.at}  ${s.by.padEnd(12)} ${s.step.padEnd(18)} ${s.from} → ${s.to}${grounds}${superseded}`;
        })),
  ];
  // A delivery that failed, was cancelled, or is being retried is the caseworker's business too: the other side has not got the step.
  const troubled = detail.envelopes.filter((e) => e.delivery !== undefined && (e.delivery.state === "failed" || e.delivery.state === "cancelled" || (e.delivery.state === "pending" && e.delivery.attempts > 0)));
  if (troubled.length > 0) {
    lines.push("", "Deliveries not received by the other authority:");
    for (const e of troubled) {
      const d = e.delivery!;
      const state = d.state === "pending" ? `RETRYING (${d.attempts} attempt(s) so far${d.nextAttemptAt === null ? "" : `, next ${d.nextAttemptAt}`})` : `${d.state.toUpperCase()} after ${d.attempts} attempt(s)`;
      lines.push(`  ${e.type} ${e.envelopeId} to ${e.to}: ${state}`);
      if (d.lastError !== null) lines.push(`    last error: ${d.lastError}`);
    }
    if (troubled.some((e) => e.delivery!.state === "failed")) lines.push("  (an operator can deliver a failed envelope again: valise outbox retry ENVELOPE-ID)");
  }
  const clocks = detail.clocks;
  if (clocks !== undefined) {
    lines.push("", "Clocks:");
    if (clocks.receivedAt === null) lines.push("  none yet: they start when the requested authority receives the request");
    if (clocks.hop !== null) {
      const who = clocks.hop.holder === detail.side ? "you" : detail.peer;
      const left = Date.parse(clocks.hop.dueAt) - now.getTime();
      lines.push(`  next step (${clocks.hop.holder} side, ${who}) due ${clocks.hop.dueAt}${left < 0 ? `, OVERDUE by ${days(-left)}` : `, in ${days(left)}`}`);
    }
    if (clocks.completion !== null) {
      const c = clocks.completion;
      lines.push(`  completion (${c.days} days): ${c.state}, due ${c.dueAt}${c.pausedMs > 0 ? ` (paused ${days(c.pausedMs)} awaiting information)` : ""}${c.completedAt === null ? "" : `, answered ${c.completedAt}`}`);
    }
    if (clocks.preservationExpiry !== null) {
      const p = clocks.preservationExpiry;
      lines.push(`  preservation (${p.days} days from ${p.preservedAt}): ${p.stopped ? "no longer tracked" : `expires ${p.dueAt}`}`);
    }
  }
  return lines.join("\n");
}

/** Deadlines as text, one per line. */
export function formatDeadlines(items: readonly DeadlineItem[], now: Date, empty: string): string {
  if (items.length === 0) return empty;
  return items
    .map((d) => {
      const left = Date.parse(d.dueAt) - now.getTime();
      const when = left < 0 ? `overdue by ${days(-left)}` : `due in ${days(left)}`;
      return `${d.priority.toUpperCase().padEnd(10)}${d.caseId}  ${d.clock.padEnd(19)} ${d.dueAt}  ${when.padEnd(20)} ${d.holderAuthority} to act (${d.direction} ${d.kind}, ${d.status})`;
    })
    .join("\n");
}

/** Steps whose fields travel as `--details` JSON: name and who takes it. */
const DETAILED_STEPS: ReadonlyArray<readonly [string, string]> = [
  ["forward", "forward the request to the competent authority (requested authority)"],
  ["notify-delay", "notify a delay with reasons and a new estimate (requested authority)"],
  ["postpone", "postpone execution until a date; the clocks pause (requested authority)"],
  ["resume", "resume a postponed or held execution (requested authority)"],
  ["consult", "consult the requesting authority, e.g. on proportionality; the clocks pause (requested authority)"],
  ["propose-alternative-measure", "propose another measure instead of the one requested (requested authority)"],
  ["agree-alternative", "agree to the alternative measure proposed (requesting authority)"],
  ["offer-conditions", "offer conditions on which the request could be executed (requested authority)"],
  ["accept-conditions", "accept the conditions offered (requesting authority)"],
  ["reject-conditions", "reject the conditions offered (requesting authority)"],
  ["confidentiality-not-possible", "say the confidentiality asked for cannot be kept (requested authority)"],
  ["confirm-proceed", "go on although confidentiality cannot be kept (requesting authority)"],
  ["legal-challenge", "report a legal challenge: the transfer is held (requested authority)"],
  ["extend-preservation", "extend a preservation by a number of days (requesting authority)"],
  ["confirm-follow-up", "confirm the request for disclosure that follows a preservation (requesting authority)"],
];

/**
 * The lifecycle steps as commands, named as the API and the case view name
 * them (`steps you may take now`); the shorter names of earlier releases
 * stay as aliases.
 */
const STEPS: ReadonlyArray<{ name: string; step: string; alias?: string; description: string; configure?: (c: Command) => Command }> = [
  { name: "acknowledge", step: "acknowledge", description: "acknowledge receipt of a request (requested authority)" },
  { name: "start-review", step: "start-review", description: "start reviewing a request (requested authority)" },
  {
    name: "request-more-info",
    alias: "request-info",
    step: "request-more-info",
    description: "ask the requesting authority for more information; the completion clock pauses (requested authority)",
    configure: (c) => c.requiredOption("--question <text>", "a question (repeat for several)", collect),
  },
  {
    name: "accept",
    step: "accept",
    description: "accept a request for execution (requested authority)",
    configure: (c) => c.option("--condition <text>", "a condition attached to acceptance or to the use of the evidence (repeatable)", collect),
  },
  {
    name: "report-progress",
    alias: "progress",
    step: "report-progress",
    description: "report progress; with --delivered or --package the case becomes partially executed (requested authority)",
    configure: (c) => c.option("--delivered <text>", "what was delivered").option("--package <id>", "an evidence package id delivered (repeatable)", collect),
  },
  {
    name: "executed",
    step: "executed",
    description: "report the request executed (requested authority)",
    configure: (c) => c.option("--delivered <text>", "what was delivered").option("--package <id>", "an evidence package id delivered (repeatable)", collect),
  },
  {
    name: "refuse",
    step: "refuse",
    description: "refuse a request, citing one or more grounds, each with an explanation (requested authority)",
    configure: (c) =>
      c
        .requiredOption(
          "--ground <ground>",
          "a ground the case's instrument allows: sovereignty-security-public-order, national-security-intelligence, political-offence, discrimination, double-jeopardy, pending-proceedings, military-offence, human-rights, death-penalty, dual-criminality, compulsory-measure-not-available, immunity-or-privilege, press-freedom, territoriality, offence-list-or-threshold, lapse-of-time, insufficient-justification, disproportionate or other (repeatable)",
          collect,
        )
        .requiredOption("--explanation <text>", "how the ground before it applies (one per --ground, in order)", collect)
        .option("--partial", "refuse only the assistance items named with --item; the rest of the request goes on")
        .option("--item <n>", "an assistance item the grounds cover, by position from 0 (repeatable)", collect),
  },
  {
    name: "unable-to-execute",
    step: "unable-to-execute",
    description: "report that the request cannot be executed (data not held, deleted, identifier not found…): counted apart from refusals (requested authority)",
    configure: (c) =>
      c
        .requiredOption(
          "--reason <reason>",
          "data-not-held, data-deleted, identifier-not-found, person-not-found, provider-not-in-jurisdiction, measure-not-available, force-majeure, conflicting-foreign-law, legal-standard-not-met or other (repeatable)",
          collect,
        )
        .requiredOption("--explanation <text>", "what was found and why (one per --reason, in order)", collect)
        .option("--item <n>", "an assistance item concerned, by position from 0 (repeatable; default all)", collect),
  },
  {
    name: "provide-more-info",
    alias: "provide-info",
    step: "provide-more-info",
    description: "answer the requested authority's questions; the answers travel sealed (requesting authority)",
    configure: (c) => c.requiredOption("--answer <text>", "an answer, one per question, in order (repeatable)", collect),
  },
  ...DETAILED_STEPS.map(([step, description]) => ({
    name: step,
    step,
    description: `${description}; the step's fields as --details JSON (README: Steps that are not refusals)`,
    configure: (c: Command) => c.option("--details <json>", "the step's fields as a JSON object"),
  })),
  { name: "withdraw", step: "withdraw", description: "withdraw a request (requesting authority)" },
  { name: "close", step: "close", description: "close a case once it is executed, refused or withdrawn (requesting authority)" },
];

/** Registers `valise case` and its subcommands. */
export function registerCase(program: Command, context: CliContext): void {
  const cases = program.command("case").description("follow and move cases through their lifecycle");

  for (const { name, step, alias, description, configure } of STEPS) {
    let command = cases.command(name).description(description).argument("<caseId>", "the case id").option("--note <text>", "a note for the other authority");
    if (alias !== undefined) command = command.alias(alias);
    command = configure === undefined ? command : configure(command);
    withApiOptions(command).action(async (caseId: string, options: StepOptions) => {
      const body = stepBody(step, options);
      // Typed by the OpenAPI description: the body is checked here, the answer typed (scripts/cli/typed-local-api.ts).
      const taken: StepTaken = await callApi(localApiOf(options, context), "post", "/api/v1/cases/{caseId}/status", {
        path: { caseId },
        body: body as BodyOf<"/api/v1/cases/{caseId}/status", "post">,
      });
      context
        .output(options.json === true)
        .result(taken, () => `${taken.step}: case ${taken.caseId} ${taken.from} → ${taken.status}\n  envelope ${taken.envelopeId}\n  digest   ${taken.envelopeDigest}\n  signed, sealed and queued for delivery`);
    });
  }

  withCommonOptions(
    cases
      .command("list")
      .description("list cases, emergency first (reads the database)")
      .option("--direction <direction>", "inbound (received) or outbound (sent)")
      .option("--status <status>", "only cases in this status"),
    false,
  ).action(async (options: CommonOptions & { direction?: string; status?: string }) => {
    const rows = await withHomeDatabase(options, context, (tx) =>
      listCases(tx, { ...(options.direction === undefined ? {} : { direction: options.direction }), ...(options.status === undefined ? {} : { status: options.status }) }),
    );
    context.output(options.json === true).result({ cases: rows }, () =>
      rows.length === 0
        ? "No cases."
        : rows.map((c) => `${c.priority.toUpperCase().padEnd(10)}${c.caseId}  ${c.direction.padEnd(8)} ${c.kind.padEnd(20)} ${c.peer.padEnd(12)} ${c.status.padEnd(19)} ${c.updatedAt}`).join("\n"),
    );
  });

  withCommonOptions(cases.command("show").description("a case: its history (the same on both sides), clocks and envelopes (reads the database)").argument("<caseId>", "the case id"), false).action(
    async (caseId: string, options: CommonOptions) => {
      const now = context.now();
      const detail = await withHomeDatabase(options, context, (tx, config) => getCase(tx, caseId, { config, now }));
      context.output(options.json === true).result(detail, () => formatCase(detail, now));
    },
  );

  withCommonOptions(cases.command("overdue").description("deadlines that have passed, emergency first (reads the database)"), false).action(async (options: CommonOptions) => {
    const now = context.now();
    const deadlines = await withHomeDatabase(options, context, (tx, config) => overdueDeadlines(tx, config, now));
    context.output(options.json === true).result({ asOf: now.toISOString(), deadlines }, () => formatDeadlines(deadlines, now, "No deadline has passed."));
  });

  withCommonOptions(
    cases.command("due-soon").description("deadlines falling soon, emergency first (reads the database)").option("--days <n>", "how far ahead to look (default: clocks.dueSoonDays, 2)"),
    false,
  ).action(async (options: CommonOptions & { days?: string }) => {
    const now = context.now();
    const within = options.days === undefined ? undefined : Number(options.days);
    if (within !== undefined && !(Number.isFinite(within) && within >= 0)) throw new GatewayError("USAGE", "--days must be a non-negative number");
    const deadlines = await withHomeDatabase(options, context, (tx, config) => dueSoonDeadlines(tx, config, now, within));
    context.output(options.json === true).result({ asOf: now.toISOString(), deadlines }, () => formatDeadlines(deadlines, now, "Nothing falls due soon."));
  });
}
