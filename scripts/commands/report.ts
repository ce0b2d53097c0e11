/**
 * `valise report …`: the KPIs and the transparency report, computed from
 * the home's database (read directly, so it works offline and needs no
 * token; the same figures as GET /api/v1/reports/…).
 */
import { writeFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { GatewayError } from "../../gateway/errors.js";
import { clockSettingsFor } from "../../gateway/cases/clocks.js";
import { loadReportCases } from "../../gateway/reports/load.js";
import { computeKpis, type DirectionKpis, type Durations, type KpiFigures, type Share } from "../../gateway/reports/kpi.js";
import { checkPeriod, dayStart, DEFAULT_SUPPRESS_BELOW, transparencyReport } from "../../gateway/reports/transparency.js";
import { transparencyCsv } from "../../gateway/reports/transparency-csv.js";
import { transparencyHtml } from "../../gateway/reports/transparency-html.js";
import { type CliContext, type CommonOptions, withCommonOptions } from "../cli/context.js";
import { withHomeDatabase } from "./case.js";

function day(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const start = dayStart(value);
  if (Number.isNaN(start)) throw new GatewayError("USAGE", `${name} must be a date written YYYY-MM-DD`);
  return new Date(start);
}

function percent(share: Share): string {
  return share.share === null ? "–" : `${(share.share * 100).toFixed(0)}% (${share.count}/${share.of})`;
}

/** A duration given in days, in the unit a reader expects: seconds, minutes, hours or days. */
export function humanDuration(days: number | null): string {
  if (days === null) return "–";
  const seconds = days * 86_400;
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (days < 2) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Number(days.toFixed(1))} days`;
}

function spread(d: Durations): string {
  return d.count === 0 ? "–" : `median ${humanDuration(d.medianDays)}, p95 ${humanDuration(d.p95Days)} (${d.count})`;
}

function figuresLine(label: string, f: KpiFigures): string[] {
  const grounds = Object.entries(f.refusals.byGround)
    .map(([g, v]) => `${g} ${v.count}`)
    .join(", ");
  return [
    `  ${label}: ${f.cases} case(s): ${f.completed} answered, ${f.withdrawn} withdrawn, ${f.open} open, ${f.overdue} overdue`,
    `      answered within 14 days ${percent(f.completedWithin14Days)}, within 30 days ${percent(f.completedWithin30Days)}`,
    `      time to answer ${spread(f.timeToCompletion)}`,
    `      time per step: requested side ${spread(f.timePerHop.requested)}; requesting side ${spread(f.timePerHop.requesting)}`,
    `      refused ${f.refusals.count}${f.refusals.rate === null ? "" : ` (${(f.refusals.rate * 100).toFixed(0)}%)`}${grounds === "" ? "" : `: ${grounds}`}`,
  ];
}

function direction(title: string, kpis: DirectionKpis): string[] {
  return [title, ...figuresLine("all peers", kpis.overall), ...Object.entries(kpis.byPeer).flatMap(([peer, f]) => figuresLine(peer, f))];
}

/** Registers `valise report` and its subcommands. */
export function registerReport(program: Command, context: CliContext): void {
  const report = program.command("report").description("KPIs and the transparency report, from the gateway's case records");

  withCommonOptions(
    report
      .command("kpi")
      .description("key performance indicators, overall and per peer, for requests received and sent")
      .option("--from <date>", "count cases sent or received from this day (YYYY-MM-DD)")
      .option("--to <date>", "…up to and including this day"),
    false,
  ).action(async (options: CommonOptions & { from?: string; to?: string }) => {
    const from = day(options.from, "--from");
    const to = day(options.to, "--to");
    const asOf = context.now();
    const kpis = await withHomeDatabase(options, context, async (tx, config) =>
      computeKpis(await loadReportCases(tx), {
        asOf,
        clocks: (peer) => clockSettingsFor(config.clocks, peer),
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to: new Date(to.getTime() + 24 * 3600 * 1000) }),
      }),
    );
    context.output(options.json === true).result(kpis, () =>
      [
        `KPIs as of ${kpis.asOf}${kpis.window.from === null && kpis.window.to === null ? "" : ` (cases from ${kpis.window.from ?? "the start"} to ${kpis.window.to ?? "now"})`}`,
        ...direction("Requests received (how fast we answer):", kpis.inbound),
        ...direction("Requests sent (how fast peers answer):", kpis.outbound),
      ].join("\n"),
    );
  });

  withCommonOptions(
    report
      .command("transparency")
      .description("the transparency report of a period: counts and durations only, small counts suppressed")
      .requiredOption("--from <date>", "first day of the period (YYYY-MM-DD, UTC)")
      .requiredOption("--to <date>", "last day of the period (YYYY-MM-DD, UTC)")
      .addOption(new Option("--format <format>", "json, csv or html").choices(["json", "csv", "html"]).default("json"))
      .option("--out <file>", "write the report to this file instead of stdout")
      .option("--suppress-below <n>", `suppress counts from 1 to n-1, and what would give them away, as "[c]" (default ${DEFAULT_SUPPRESS_BELOW}; 0 turns suppression off)`),
    false,
  ).action(async (options: CommonOptions & { from: string; to: string; format: "json" | "csv" | "html"; out?: string; suppressBelow?: string }) => {
    const period = checkPeriod(options.from, options.to);
    const below = options.suppressBelow === undefined ? DEFAULT_SUPPRESS_BELOW : Number(options.suppressBelow);
    if (!Number.isInteger(below) || below < 0) throw new GatewayError("USAGE", "--suppress-below must be a whole number, 0 or more");
    const built = await withHomeDatabase(options, context, async (tx, config) =>
      transparencyReport(await loadReportCases(tx), { authority: config.authority, ...period, asOf: context.now(), suppressBelow: below }),
    );
    const text = options.format === "json" ? `${JSON.stringify(built, null, 2)}\n` : options.format === "csv" ? transparencyCsv(built) : transparencyHtml(built);
    if (options.out === undefined) {
      // The report itself is the output (with --json too, for json).
      context.stdout.write(text);
      return;
    }
    writeFileSync(options.out, text);
    context.output(options.json === true).result({ written: options.out, format: options.format, bytes: Buffer.byteLength(text), period: built.period }, () => `Wrote the ${options.format} transparency report for ${period.from} to ${period.to} to ${options.out}`);
  });
}
