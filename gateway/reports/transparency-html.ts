/**
 * The transparency report as one self-contained HTML file, fit to publish as
 * it is: inline CSS, inline SVG charts, a table beside every chart, no
 * script, no font, image or style sheet fetched from anywhere (a Content
 * Security Policy of `default-src 'none'` says so to the browser). It holds
 * counts and durations only — no names, identifiers, references or case
 * content — and every text that comes from data is escaped.
 */
import { escapeXml, groupedBarChart, percentileChart, type BarRow, type Series } from "./charts.js";
import { countryName, labelOf, type LabelTable } from "./labels.js";
import { SUPPRESSED, type BreakdownRow, type Count, type DirectionFigures, type TransparencyReport } from "./transparency.js";

const SENT: Series = { name: "Requests sent", colour: "#1d4e89" };
const RECEIVED: Series = { name: "Requests received", colour: "#d9731a" };

const STYLE = `
:root { color-scheme: light; --ink: #1b2430; --muted: #5a6472; --rule: #d5dbe3; --band: #0f2d52; --tint: #f3f6fa; }
* { box-sizing: border-box; }
html { background: #ffffff; }
body { margin: 0; color: var(--ink); font: 15px/1.55 system-ui, "Segoe UI", "Helvetica Neue", Arial, "Noto Sans", "DejaVu Sans", sans-serif; }
header { background: var(--band); color: #ffffff; padding: 28px 0 30px; border-bottom: 6px solid #d9731a; }
.wrap { max-width: 1000px; margin: 0 auto; padding: 0 32px; }
.eyebrow { margin: 0; text-transform: uppercase; letter-spacing: .08em; font-size: 12px; opacity: .85; }
h1 { margin: 6px 0 8px; font-size: 30px; line-height: 1.2; font-weight: 700; }
.period { margin: 0; font-size: 17px; }
.meta { margin: 10px 0 0; font-size: 13px; opacity: .85; }
main { padding: 8px 0 40px; }
h2 { font-size: 21px; margin: 36px 0 6px; padding-top: 18px; border-top: 1px solid var(--rule); }
h3 { font-size: 16px; margin: 22px 0 6px; }
p.lead { margin: 0 0 14px; color: var(--muted); max-width: 760px; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; margin: 26px 0 8px; }
.tile { background: var(--tint); border-left: 5px solid var(--band); padding: 14px 16px; }
.tile .figure { font-size: 30px; font-weight: 700; line-height: 1.1; }
.tile .caption { font-size: 13px; color: var(--muted); margin-top: 4px; }
.pair { display: grid; grid-template-columns: 3fr 2fr; gap: 24px; align-items: start; }
figure { margin: 0; }
figcaption { margin-top: 4px; }
.single { max-width: 620px; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg.chart text { font-family: system-ui, "Segoe UI", "Helvetica Neue", Arial, "Noto Sans", "DejaVu Sans", sans-serif; fill: var(--ink); }
svg.chart .label { font-size: 12px; }
svg.chart .value { font-size: 11px; fill: var(--muted); }
svg.chart .suppressed { font-style: italic; }
svg.chart .tick { font-size: 10px; fill: var(--muted); }
svg.chart .legend { font-size: 12px; }
svg.chart .grid { stroke: #e6eaf0; stroke-width: 1; }
svg.chart .axis { stroke: #8a94a6; stroke-width: 1; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 4px 0 0; }
caption { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--rule); text-align: left; }
thead th { background: var(--tint); border-bottom: 2px solid #b9c2ce; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) td { background: #fafbfd; }
tfoot td { font-weight: 600; border-top: 2px solid #b9c2ce; }
.note { font-size: 13px; color: var(--muted); }
dl.defs { margin: 8px 0 0; }
dl.defs dt { font-weight: 600; margin-top: 10px; }
dl.defs dd { margin: 2px 0 0; color: var(--ink); max-width: 820px; }
footer { border-top: 1px solid var(--rule); padding: 16px 0 40px; font-size: 12px; color: var(--muted); }
@media (max-width: 760px) { .tiles { grid-template-columns: repeat(2, 1fr); } .pair { grid-template-columns: 1fr; } }
@media print { header { background: #ffffff; color: var(--ink); border-bottom: 3px solid var(--ink); } h2 { break-after: avoid; } .pair, table, svg { break-inside: avoid; } }
`;

/** A published count as a number for ordering rows: a suppressed one as 0 (its true size must not order it). */
function numeric(count: Count): number {
  return typeof count === "number" ? count : 0;
}

/** The rows of two breakdowns side by side, keyed the same, largest first (by published figures). */
function merged(sent: readonly BreakdownRow[], received: readonly BreakdownRow[], table: LabelTable, keepOrder = false): Array<{ key: string; label: string; sent: Count; received: Count }> {
  const keys = [...new Set([...sent.map((r) => r.key), ...received.map((r) => r.key)])];
  const rows = keys.map((key) => ({
    key,
    label: labelOf(table, key),
    sent: sent.find((r) => r.key === key)?.count ?? 0,
    received: received.find((r) => r.key === key)?.count ?? 0,
  }));
  if (!keepOrder) rows.sort((a, b) => numeric(b.sent) + numeric(b.received) - (numeric(a.sent) + numeric(a.received)) || a.label.localeCompare(b.label));
  return rows;
}

function cell(count: Count | number | null, suffix = ""): string {
  return `<td class="num">${count === null ? "–" : escapeXml(`${count}${suffix}`)}</td>`;
}

function breakdownSection(
  id: string,
  heading: string,
  lead: string,
  first: string,
  table: LabelTable,
  report: TransparencyReport,
  pick: (f: DirectionFigures) => readonly BreakdownRow[],
  options: { keepOrder?: boolean; totals?: boolean } = {},
): string {
  const rows = merged(pick(report.sent), pick(report.received), table, options.keepOrder);
  if (rows.length === 0) {
    return `<section id="${id}"><h2>${escapeXml(heading)}</h2><p class="lead">${escapeXml(lead)}</p><p class="note">None in this period.</p></section>`;
  }
  const bars: BarRow[] = rows.map((r) => ({ label: r.label, values: [r.sent, r.received] }));
  // A chart of nothing but suppressed counts and zeros would show nothing.
  const drawable = rows.some((r) => (typeof r.sent === "number" && r.sent > 0) || (typeof r.received === "number" && r.received > 0));
  const suppressed = rows.some((r) => r.sent === SUPPRESSED || r.received === SUPPRESSED);
  const chart = drawable
    ? `${groupedBarChart(id, heading, [SENT, RECEIVED], bars)}${suppressed ? `<figcaption class="note">${SUPPRESSED}: not published, and drawn without a bar (see Small numbers, under About these figures).</figcaption>` : ""}`
    : `<p class="note">Every count in this table is suppressed (${SUPPRESSED}) or zero, so no chart is drawn.</p>`;
  const body = rows.map((r) => `<tr><td>${escapeXml(r.label)}</td>${cell(r.sent)}${cell(r.received)}</tr>`).join("");
  const foot = options.totals === true ? `<tfoot><tr><td>All requests</td>${cell(report.sent.total)}${cell(report.received.total)}</tr></tfoot>` : "";
  const tableHtml = `<table><caption>${escapeXml(heading)}</caption><thead><tr><th scope="col">${escapeXml(first)}</th><th scope="col" class="num">Sent</th><th scope="col" class="num">Received</th></tr></thead><tbody>${body}</tbody>${foot}</table>`;
  return [
    `<section id="${id}">`,
    `<h2>${escapeXml(heading)}</h2>`,
    `<p class="lead">${escapeXml(lead)}</p>`,
    drawable ? `<div class="pair"><figure>${chart}</figure>${tableHtml}</div>` : `<div class="single">${chart}${tableHtml}</div>`,
    `</section>`,
  ].join("");
}

function longDate(date: string): string {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
}

function tile(figure: string, caption: string): string {
  return `<div class="tile"><div class="figure">${escapeXml(figure)}</div><div class="caption">${escapeXml(caption)}</div></div>`;
}

/**
 * Why a direction's percentiles are not drawn. Never "too few": percentiles
 * are withheld whenever the number answered is suppressed, large or small,
 * and saying which would undo its suppression.
 */
function withheldBecause(f: DirectionFigures): string {
  const answered = f.completionDays.completed;
  return answered === 0 ? "none answered yet" : answered === SUPPRESSED ? `not shown: the number answered is ${SUPPRESSED}` : "not shown";
}

function outcomeCount(f: DirectionFigures, key: string): Count {
  return f.byOutcome.find((r) => r.key === key)?.count ?? 0;
}

/** The report as one self-contained HTML document. */
export function transparencyHtml(report: TransparencyReport): string {
  const country = countryName(report.authority.slice(0, 2));
  const period = `${longDate(report.period.from)} to ${longDate(report.period.to)}`;
  const asOf = new Date(report.asOf);
  const asOfText = `${asOf.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" })}, ${asOf.toISOString().slice(11, 16)} UTC`;
  const median = report.received.completionDays.p50;
  const percentiles = (["p25", "p50", "p75", "p90", "p95"] as const)
    .map((p) => {
      const name = p === "p50" ? "Median (50th percentile)" : `${p.slice(1)}th percentile`;
      return `<tr><td>${name}</td>${cell(report.sent.completionDays[p])}${cell(report.received.completionDays[p])}</tr>`;
    })
    .join("");
  const sections = [
    breakdownSection("countries", "Requests by counterpart country", "The country of the central authority that received our request (sent) or sent us one (received).", "Country", "country", report, (f) => f.byCountry, { totals: true }),
    breakdownSection(
      "assistance",
      "Kinds of assistance requested",
      "A request may ask for several kinds of assistance; it is counted once for each, so the columns may add up to more than the number of requests.",
      "Kind of assistance",
      "assistance",
      report,
      (f) => f.byAssistanceType,
    ),
    breakdownSection(
      "data",
      "Categories of data sought",
      "Stored data asked for or asked to be preserved. A request seeking several categories is counted once for each.",
      "Category of data",
      "data",
      report,
      (f) => f.byDataCategory,
    ),
    breakdownSection("offences", "Offence categories", "The category of the offence each request concerns.", "Offence category", "offence", report, (f) => f.byOffenceCategory, { totals: true }),
    breakdownSection(
      "outcomes",
      "Outcomes",
      `Where each request stood on ${asOfText}. Pending requests are still being handled.`,
      "Outcome",
      "outcome",
      report,
      (f) => f.byOutcome,
      { keepOrder: true, totals: true },
    ),
    breakdownSection(
      "grounds",
      "Refusals by ground",
      "The grounds cited when a request was refused. A refusal may cite several grounds and is counted once for each.",
      "Ground for refusal",
      "ground",
      report,
      (f) => f.refusedByGround,
    ),
    breakdownSection(
      "unable",
      "Requests that could not be executed",
      "Not refusals: the requested state was willing but could not execute, e.g. because the data was not held or had been deleted. A request may give several reasons and is counted once for each.",
      "Reason",
      "unable",
      report,
      (f) => f.unableByReason,
    ),
    breakdownSection("instruments", "Legal instruments", "The instrument each request was made under; requests of the earlier form name none.", "Instrument", "instrument", report, (f) => f.byInstrument, { keepOrder: true, totals: true }),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="generator" content="Valise">
<title>${escapeXml(`${report.title} — ${report.authority} — ${period}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><div class="wrap">
<p class="eyebrow">Central authority for mutual legal assistance · ${escapeXml(country)} · ${escapeXml(report.authority)}</p>
<h1>${escapeXml(report.title)}</h1>
<p class="period">${escapeXml(period)}</p>
<p class="meta">Outcomes as of ${escapeXml(asOfText)}</p>
</div></header>
<main class="wrap">
<div class="tiles">
${tile(String(report.sent.total), "requests sent to other states")}
${tile(String(report.received.total), "requests received from other states")}
${tile(String(outcomeCount(report.received, "executed")), "received requests executed")}
${tile(median === null ? "–" : `${median} days`, "median time to answer a received request")}
</div>
${sections.join("\n")}
<section id="time">
<h2>Time to answer</h2>
<p class="lead">Calendar days from the requested authority's receipt of a request to its answer (execution, refusal, or the end of a partial execution), for the requests answered so far. Time spent waiting for further information from the requesting state is included.</p>
<div class="pair">
<figure>${percentileChart(
    "time-chart",
    "Time to answer, in days",
    [
      { label: "Requests sent", colour: SENT.colour, ...report.sent.completionDays, withheld: withheldBecause(report.sent) },
      { label: "Requests received", colour: RECEIVED.colour, ...report.received.completionDays, withheld: withheldBecause(report.received) },
    ],
  )}<figcaption class="note">Days from receipt to answer. Box: 25th to 75th percentile; thick bar: median; whisker: to the 95th percentile, with a tick at the 90th.</figcaption></figure>
<table><caption>Time to answer (days)</caption><thead><tr><th scope="col">Percentile</th><th scope="col" class="num">Sent</th><th scope="col" class="num">Received</th></tr></thead><tbody>${percentiles}</tbody><tfoot><tr><td>Requests answered</td>${cell(report.sent.completionDays.completed)}${cell(report.received.completionDays.completed)}</tr></tfoot></table>
</div>
</section>
<section id="about">
<h2>About these figures</h2>
<dl class="defs">
<dt>What is counted</dt><dd>Requests for mutual legal assistance and for expedited preservation of data (quick freeze) exchanged through this authority's Valise gateway between ${escapeXml(longDate(report.period.from))} and ${escapeXml(longDate(report.period.to))} inclusive (UTC): sent requests by the date they were sent, received requests by the date they were received.</dd>
<dt>Outcomes</dt><dd>Executed: all the assistance requested was provided. Partially executed: part of it was provided (and the rest is pending, or the requesting state closed the request). Refused: the requested state declined, citing one or more grounds of the applicable treaty. Withdrawn: the requesting state withdrew the request. Pending: none of these yet.</dd>
<dt>Percentiles</dt><dd>Computed by the nearest-rank method: each figure is the time taken by an actual request; the median is the middle one (for an even number, the lower of the two middle ones).</dd>
<dt>Small numbers</dt><dd>${escapeXml(report.suppression.note)} This protects investigations and the people concerned from being identified through small counts.</dd>
<dt>Personal data</dt><dd>This report holds counts and durations only. It contains no names, identifiers, case references or content of any request.</dd>
</dl>
</section>
</main>
<footer><div class="wrap">Produced from the gateway's case records by Valise (valise report transparency). ${escapeXml(report.authority)}, ${escapeXml(period)}.</div></footer>
</body>
</html>
`;
}
