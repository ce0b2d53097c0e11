/**
 * The transparency report as CSV (RFC 4180, CRLF line ends): one row per
 * published figure — `section,direction,key,label,value` — so a statistics
 * office can load it as it is. A suppressed count reads `[c]`, as in the
 * JSON and the HTML (transparency.ts says when a count is suppressed).
 */
import type { BreakdownRow, DirectionFigures, TransparencyReport } from "./transparency.js";
import { labelOf, type LabelTable } from "./labels.js";

function field(value: string | number | null): string {
  const text = value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function row(...values: Array<string | number | null>): string {
  return values.map(field).join(",");
}

const TABLES: ReadonlyArray<[keyof DirectionFigures, string, LabelTable]> = [
  ["byCountry", "country", "country"],
  ["byAssistanceType", "assistance-type", "assistance"],
  ["byDataCategory", "data-category", "data"],
  ["byOffenceCategory", "offence-category", "offence"],
  ["byOutcome", "outcome", "outcome"],
  ["refusedByGround", "refusal-ground", "ground"],
  ["unableByReason", "unable-to-execute-reason", "unable"],
  ["byInstrument", "instrument", "instrument"],
];

/** The report as CSV text. */
export function transparencyCsv(report: TransparencyReport): string {
  const lines = [
    row("section", "direction", "key", "label", "value"),
    row("report", "", "authority", "Authority", report.authority),
    row("report", "", "from", "Period from", report.period.from),
    row("report", "", "to", "Period to", report.period.to),
    row("report", "", "as-of", "Outcomes as of", report.asOf),
    row("report", "", "suppress-below", "Counts below this are suppressed", report.suppression.below),
    row("report", "", "suppressed-marker", "How a suppressed count reads", report.suppression.marker),
  ];
  for (const [direction, figures] of [
    ["sent", report.sent],
    ["received", report.received],
  ] as const) {
    lines.push(row("total", direction, "requests", "Requests", figures.total));
    for (const [property, section, table] of TABLES) {
      for (const entry of figures[property] as readonly BreakdownRow[]) lines.push(row(section, direction, entry.key, labelOf(table, entry.key), entry.count));
    }
    const c = figures.completionDays;
    lines.push(row("completion-days", direction, "completed", "Requests answered", c.completed));
    for (const p of ["p25", "p50", "p75", "p90", "p95"] as const) lines.push(row("completion-days", direction, p, `${p.slice(1)}th percentile (days)`, c[p]));
  }
  return `${lines.join("\r\n")}\r\n`;
}
