/**
 * The transparency report's HTML renders in headless Chromium with no
 * console error, no exception, and no request other than the file itself;
 * a full-page screenshot is taken (kept at $VALISE_SCREENSHOT when set).
 * What the browser lays out is measured too: every chart text lies inside
 * its SVG's viewBox (a label cut at the edge, "median 1" for "median 13.4",
 * reads as another number), and no suppressed count has a bar beside its
 * marker (a bar reads as a value).
 * Without Chromium (.ci/run installs it; CHROMIUM names another binary) it
 * fails in CI and is skipped, saying so, elsewhere (test/required-tools.ts).
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";
import { transparencyReport, type TransparencyReport } from "../../../gateway/reports/transparency.js";
import { transparencyHtml } from "../../../gateway/reports/transparency-html.js";
import { AS_OF, FIXTURE } from "./fixture.js";
import { CHROMIUM, pngSize, renderInChromium } from "./chromium.js";
import { chromiumTool, requireTool } from "../../required-tools.js";

describe("transparency report in headless Chromium", function () {
  this.timeout(120_000);
  let dir: string;

  before(function () {
    requireTool(this, chromiumTool(CHROMIUM));
    dir = mkdtempSync(join(tmpdir(), "valise-report-"));
  });

  after(function () {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, suppressBelow] of [
    ["with small counts suppressed", 5],
    ["without suppression", 0],
  ] as const) {
    it(`renders ${name}: no console error, no request but the file, a screenshot`, async function () {
      const file = join(dir, `transparency-${suppressBelow}.html`);
      writeFileSync(file, transparencyHtml(transparencyReport(FIXTURE, { authority: "GB-UKCA", from: "2026-03-01", to: "2026-06-30", asOf: AS_OF, suppressBelow })));
      const rendering = await renderInChromium(file, {
        width: 1200,
        height: 2000,
        expression: "({ title: document.title, charts: document.querySelectorAll('svg.chart').length, tables: document.querySelectorAll('table').length, bars: document.querySelectorAll('svg.chart rect').length, width: document.documentElement.scrollWidth })",
      });
      expect(rendering.problems, rendering.problems.join("\n")).to.deep.equal([]);
      expect(rendering.requests).to.deep.equal([pathToFileURL(file).href]);
      const page = rendering.evaluated as { title: string; charts: number; tables: number; bars: number; width: number };
      expect(page.title).to.contain("GB-UKCA");
      // Suppressed, the refusals by ground are all "[c]": that table has no chart. No request of this
      // fixture failed to be executed: that section has neither table nor chart. The instruments have both.
      expect(page.charts).to.equal(suppressBelow === 5 ? 7 : 8);
      expect(page.tables).to.equal(8);
      expect(page.bars).to.be.greaterThan(30);
      // Nothing wider than the window: no horizontal scrolling.
      expect(page.width).to.be.at.most(1200);
      const size = pngSize(rendering.screenshot);
      expect(size.width).to.equal(1200);
      expect(size.height).to.be.greaterThan(2000);
      const shot = join(dir, `transparency-${suppressBelow}.png`);
      writeFileSync(shot, rendering.screenshot);
      const keep = process.env["VALISE_SCREENSHOT"];
      if (keep !== undefined && keep !== "") copyFileSync(shot, keep.replace(/(\.png)?$/, `-${suppressBelow}.png`));
    });
  }

  /**
   * In the page: every chart text outside its viewBox, every suppression
   * marker ("[c]", or the "<N" of old) with a bar of non-zero width in its
   * band, and the median labels as laid out.
   */
  const MEASURE = `(() => {
    const clipped = [], barred = [], medians = [];
    for (const svg of document.querySelectorAll("svg.chart")) {
      const box = svg.viewBox.baseVal;
      const rects = [...svg.querySelectorAll("rect")].filter((r) => !r.closest("pattern") && !r.classList.contains("swatch"));
      for (const text of svg.querySelectorAll("text")) {
        const b = text.getBBox();
        const content = text.textContent;
        if (b.x < box.x - 0.5 || b.y < box.y - 0.5 || b.x + b.width > box.x + box.width + 0.5 || b.y + b.height > box.y + box.height + 0.5) {
          clipped.push(svg.querySelector("title").textContent + ": " + content + " at " + [b.x, b.y, b.width, b.height].map(Math.round).join(","));
        }
        if (content.startsWith("median")) medians.push({ text: content, right: b.x + b.width, width: box.width });
        if (content === "[c]" || /^<\\d+$/.test(content)) {
          for (const r of rects) {
            const top = r.y.baseVal.value, bottom = top + r.height.baseVal.value;
            if (r.width.baseVal.value > 0.5 && top < b.y + b.height - 1 && bottom > b.y + 1) barred.push(content + " beside a bar " + Math.round(r.width.baseVal.value) + " wide");
          }
        }
      }
    }
    return { clipped, barred, medians, markers: [...document.querySelectorAll("svg.chart text")].filter((t) => t.textContent === "[c]").length };
  })()`;

  async function measure(name: string, report: TransparencyReport): Promise<{ clipped: string[]; barred: string[]; medians: Array<{ text: string; right: number; width: number }>; markers: number }> {
    const file = join(dir, `${name}.html`);
    writeFileSync(file, transparencyHtml(report));
    const rendering = await renderInChromium(file, { width: 1200, height: 2000, expression: MEASURE });
    expect(rendering.problems, rendering.problems.join("\n")).to.deep.equal([]);
    writeFileSync(join(dir, `${name}.png`), rendering.screenshot);
    const keep = process.env["VALISE_SCREENSHOT"];
    if (keep !== undefined && keep !== "") copyFileSync(join(dir, `${name}.png`), keep.replace(/(\.png)?$/, `-${name}.png`));
    return rendering.evaluated as never;
  }

  it("draws suppressed counts without a bar, and keeps every chart label inside its chart", async function () {
    const report = transparencyReport(FIXTURE, { authority: "GB-UKCA", from: "2026-03-01", to: "2026-06-30", asOf: AS_OF });
    const page = await measure("measured", report);
    expect(page.clipped).to.deep.equal([]);
    expect(page.barred).to.deep.equal([]);
    // Suppressed counts are there, as markers: offences, outcomes and kinds of assistance.
    expect(page.markers).to.be.greaterThan(8);
  });

  it("shows a median label in full when the whisker reaches the right edge of the chart", async function () {
    const report = transparencyReport(FIXTURE, { authority: "GB-UKCA", from: "2026-03-01", to: "2026-06-30", asOf: AS_OF, suppressBelow: 0 });
    // A 95th percentile of 50 is the top of the axis: the received row's label starts at the right edge.
    const edge: TransparencyReport = {
      ...report,
      sent: { ...report.sent, completionDays: { completed: 9, p25: 5, p50: 9.5, p75: 20, p90: 30, p95: 45 } },
      received: { ...report.received, completionDays: { completed: 30, p25: 8, p50: 13.4, p75: 30, p90: 40, p95: 50 } },
    };
    const page = await measure("median-at-edge", edge);
    expect(page.clipped).to.deep.equal([]);
    expect(page.medians.map((m) => m.text)).to.deep.equal(["median 9.5", "median 13.4"]);
    for (const m of page.medians) expect(m.right, m.text).to.be.at.most(m.width);
  });
});
