/**
 * Inline SVG charts for the transparency report: no script, no external
 * resource, readable without colour (values are printed beside each bar,
 * and every chart repeats a table next to it). Every text is escaped. The
 * `<svg>` elements carry no namespace URL: inside HTML they need none, and
 * the report holds no URL at all.
 */

/** Escapes text for HTML and SVG. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** A series of a grouped bar chart. */
export interface Series {
  readonly name: string;
  readonly colour: string;
}

/** A row of a grouped bar chart: one value per series; a string (the report's `"[c]"`) is a suppressed count. */
export interface BarRow {
  readonly label: string;
  readonly values: ReadonlyArray<number | string>;
}

// In CSS pixels at the size the report shows a chart (3/5 of a 1000 px page), so text stays legible.
const WIDTH = 560;
const LABEL_WIDTH = 190;
const BAR = 13;
const BAR_GAP = 3;
const ROW_GAP = 12;
const TOP = 28;
const AXIS = 22;

/**
 * Room for a text of `characters` characters, in px: wide enough for the
 * widest sans-serif digits and letters at the chart's 11–12 px sizes, so a
 * value or a median label beside a bar at the right edge is never cut off.
 */
function textRoom(characters: number): number {
  return 10 + characters * 7;
}

/** A "nice" axis step for values up to `max` (1, 2 or 5 times a power of ten), about five ticks or fewer. */
export function niceStep(max: number): number {
  if (max <= 5) return 1;
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalised = raw / magnitude;
  const nice = normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10;
  return nice * magnitude;
}

// Row labels end at LABEL_WIDTH - 8 and must start inside the chart.
function shorten(text: string, max = Math.floor((LABEL_WIDTH - 12) / 7)): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * A horizontal grouped bar chart. A suppressed value has no bar — a bar of
 * any length would read as a value, and one as long as the threshold would
 * say "this is small" — only its marker, in italics, where the bar would
 * start; it plays no part in the scale.
 */
export function groupedBarChart(id: string, title: string, series: readonly Series[], rows: readonly BarRow[]): string {
  const numbers = rows.flatMap((r) => r.values.filter((v): v is number => typeof v === "number"));
  const max = Math.max(1, ...numbers);
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const plot = WIDTH - LABEL_WIDTH - textRoom(Math.max(3, ...rows.flatMap((r) => r.values.map((v) => String(v).length))));
  const x = (value: number): number => LABEL_WIDTH + (value / top) * plot;
  const rowHeight = series.length * (BAR + BAR_GAP) - BAR_GAP + ROW_GAP;
  const height = TOP + rows.length * rowHeight + AXIS;
  const parts: string[] = [];
  parts.push(
    `<svg viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-labelledby="${id}-title" class="chart">`,
    `<title id="${id}-title">${escapeXml(title)}</title>`,
  );
  // Legend.
  let legendX = LABEL_WIDTH;
  for (const s of series) {
    parts.push(`<rect x="${legendX}" y="4" width="12" height="12" fill="${s.colour}" class="swatch"/>`, `<text x="${legendX + 17}" y="14" class="legend">${escapeXml(s.name)}</text>`);
    legendX += 34 + s.name.length * 7;
  }
  // Grid and axis.
  const bottom = TOP + rows.length * rowHeight - ROW_GAP / 2;
  for (let tick = 0; tick <= top + 1e-9; tick += step) {
    const tx = x(tick).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${TOP - 4}" x2="${tx}" y2="${bottom}" class="grid"/>`, `<text x="${tx}" y="${bottom + 15}" class="tick" text-anchor="middle">${Number(tick.toFixed(2))}</text>`);
  }
  rows.forEach((row, i) => {
    const y0 = TOP + i * rowHeight;
    const middle = y0 + (rowHeight - ROW_GAP) / 2;
    parts.push(`<text x="${LABEL_WIDTH - 8}" y="${(middle + 4).toFixed(1)}" class="label" text-anchor="end">${escapeXml(shorten(row.label))}</text>`);
    row.values.forEach((value, j) => {
      const y = y0 + j * (BAR + BAR_GAP);
      const colour = series[j]?.colour ?? "#555555";
      if (typeof value !== "number") {
        parts.push(`<text x="${LABEL_WIDTH + 5}" y="${y + BAR - 2}" class="value suppressed">${escapeXml(value)}</text>`);
        return;
      }
      const w = Math.max(0, x(value) - LABEL_WIDTH);
      if (value > 0) parts.push(`<rect x="${LABEL_WIDTH}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" fill="${colour}" class="bar"/>`);
      parts.push(`<text x="${(LABEL_WIDTH + w + 5).toFixed(1)}" y="${y + BAR - 2}" class="value">${value}</text>`);
    });
  });
  parts.push(`<line x1="${LABEL_WIDTH}" y1="${TOP - 4}" x2="${LABEL_WIDTH}" y2="${bottom}" class="axis"/>`, "</svg>");
  return parts.join("");
}

/** One distribution of a percentile chart (days); null values are withheld. */
export interface PercentileRow {
  readonly label: string;
  readonly colour: string;
  readonly p25: number | null;
  readonly p50: number | null;
  readonly p75: number | null;
  readonly p90: number | null;
  readonly p95: number | null;
  /** What to say in place of the box when the percentiles are withheld (default "not shown"). */
  readonly withheld?: string;
}

/**
 * A box chart of completion times: the box spans the 25th to the 75th
 * percentile, the bar inside is the median, the whisker reaches the 95th
 * percentile with a tick at the 90th.
 */
export function percentileChart(id: string, title: string, rows: readonly PercentileRow[]): string {
  const known = rows.flatMap((r) => [r.p25, r.p50, r.p75, r.p90, r.p95]).filter((v): v is number => v !== null);
  const max = Math.max(1, ...known);
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  // The "median N" label goes right of the whisker, which may end at the right edge.
  const plot = WIDTH - LABEL_WIDTH - textRoom(Math.max(0, ...rows.map((r) => `median ${r.p50 ?? ""}`.length)));
  const x = (value: number): number => LABEL_WIDTH + (value / top) * plot;
  const rowHeight = 40;
  const height = 14 + rows.length * rowHeight + AXIS;
  const bottom = 10 + rows.length * rowHeight;
  const parts = [
    `<svg viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-labelledby="${id}-title" class="chart">`,
    `<title id="${id}-title">${escapeXml(title)}</title>`,
  ];
  for (let tick = 0; tick <= top + 1e-9; tick += step) {
    const tx = x(tick).toFixed(1);
    parts.push(`<line x1="${tx}" y1="6" x2="${tx}" y2="${bottom}" class="grid"/>`, `<text x="${tx}" y="${bottom + 15}" class="tick" text-anchor="middle">${Number(tick.toFixed(2))}</text>`);
  }
  rows.forEach((row, i) => {
    const middle = 10 + i * rowHeight + rowHeight / 2;
    parts.push(`<text x="${LABEL_WIDTH - 8}" y="${middle + 4}" class="label" text-anchor="end">${escapeXml(row.label)}</text>`);
    if (row.p25 === null || row.p50 === null || row.p75 === null || row.p90 === null || row.p95 === null) {
      parts.push(`<text x="${LABEL_WIDTH + 8}" y="${middle + 4}" class="value">${escapeXml(row.withheld ?? "not shown")}</text>`);
      return;
    }
    const [b0, b1, med, p90, p95] = [x(row.p25), x(row.p75), x(row.p50), x(row.p90), x(row.p95)];
    parts.push(
      `<line x1="${b1.toFixed(1)}" y1="${middle}" x2="${p95.toFixed(1)}" y2="${middle}" stroke="${row.colour}" stroke-width="2"/>`,
      `<line x1="${p90.toFixed(1)}" y1="${middle - 5}" x2="${p90.toFixed(1)}" y2="${middle + 5}" stroke="${row.colour}" stroke-width="2"/>`,
      `<line x1="${p95.toFixed(1)}" y1="${middle - 8}" x2="${p95.toFixed(1)}" y2="${middle + 8}" stroke="${row.colour}" stroke-width="2"/>`,
      `<rect x="${b0.toFixed(1)}" y="${middle - 10}" width="${Math.max(2, b1 - b0).toFixed(1)}" height="20" fill="${row.colour}" fill-opacity="0.25" stroke="${row.colour}" stroke-width="1.5"/>`,
      `<line x1="${med.toFixed(1)}" y1="${middle - 10}" x2="${med.toFixed(1)}" y2="${middle + 10}" stroke="${row.colour}" stroke-width="3"/>`,
      `<text x="${(p95 + 6).toFixed(1)}" y="${middle + 4}" class="value">median ${row.p50}</text>`,
    );
  });
  parts.push(`<line x1="${LABEL_WIDTH}" y1="6" x2="${LABEL_WIDTH}" y2="${bottom}" class="axis"/>`, "</svg>");
  return parts.join("");
}
