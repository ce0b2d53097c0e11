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
};

/** The status-update fields of a step from the command's options. */
function stepBody(step: string, options: StepOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { step };
  if (options.note !== undefined) body["note"] = options.note;
  if (options.question !== undefined) body["questions"] = options.question;
  if (options.answer !== undefined) body["answers"] = options.answer;
  if (options.condition !== undefined) body["conditions"] = options.condition;
  if (options.ground !== undefined || options.explanation !== undefined) {
    const grounds = options.ground ?? [];
    const explanations = options.explanation ?? [];
    if (grounds.length !== explanations.length) {
      throw new GatewayError("USAGE", `give one --explanation after each --ground (got ${grounds.length} ground(s), ${explanations.length} explanation(s))`);
    }
    body["grounds"] = grounds.map((ground, i) => ({ ground, explanation: explanations[i] }));
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

const STEPS: ReadonlyArray<{ name: string; step: string; description: string; configure?: (c: Command) => Command }> = [
  { name: "acknowledge", step: "acknowledge", description: "acknowledge receipt of a request (requested authority)" },
  { name: "start-review", step: "start-review", description: "start reviewing a request (requested authority)" },
  {
    name: "request-info",
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
    name: "progress",
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
          "sovereignty-security-public-order, political-offence, discrimination, double-jeopardy, military-offence, human-rights, dual-criminality, insufficient-justification, disproportionate or other (repeatable)",
          collect,
        )
        .requiredOption("--explanation <text>", "how the ground before it applies (one per --ground, in order)", collect),
  },
  {
    name: "provide-info",
    step: "provide-more-info",
    description: "answer the requested authority's questions; the answers travel sealed (requesting authority)",
    configure: (c) => c.requiredOption("--answer <text>", "an answer, one per question, in order (repeatable)", collect),
  },
  { name: "withdraw", step: "withdraw", description: "withdraw a request (requesting authority)" },
  { name: "close", step: "close", description: "close a case once it is executed, refused or withdrawn (requesting authority)" },
];

/** Registers `valise case` and its subcommands. */
export function registerCase(program: Command, context: CliContext): void {
  const cases = program.command("case").description("follow and move cases through their lifecycle");

  for (const { name, step, description, configure } of STEPS) {
    let command = cases.command(name).description(description).argument("<caseId>", "the case id").option("--note <text>", "a note for the other authority");
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
