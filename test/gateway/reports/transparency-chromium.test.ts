/**
 * The transparency report's HTML renders in headless Chromium with no
 * console error, no exception, and no request other than the file itself;
 * a full-page screenshot is taken (kept at $VALISE_SCREENSHOT when set).
 * Without Chromium (.ci/run installs it; CHROMIUM names another binary) it
 * fails in CI and is skipped, saying so, elsewhere (test/required-tools.ts).
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";
import { transparencyReport } from "../../../gateway/reports/transparency.js";
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
      // Suppressed, the refusals by ground are all "<5": that table has no chart.
      expect(page.charts).to.equal(suppressBelow === 5 ? 6 : 7);
      expect(page.tables).to.equal(7);
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
});
