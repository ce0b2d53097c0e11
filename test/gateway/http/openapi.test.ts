/**
 * The OpenAPI description of the local API: built from schemas/ and the
 * route table, it describes exactly the routes the express app serves (no
 * more, no fewer), the committed copy is what the code builds, the gateway
 * serves it, Redocly's linter passes it, and answers validate against it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { expect } from "chai";
import { localApi } from "../../../gateway/http/local-api.js";
import { localApiOpenApi } from "../../../gateway/http/openapi/document.js";
import { openApiText, OPENAPI_FILE } from "../../../scripts/openapi.js";
import { REPO_ROOT } from "../fixtures.js";
import { responseChecker } from "./openapi-responses.js";

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string;
}

/** Every "METHOD /path" the express app routes, paths in OpenAPI form. */
function servedRoutes(): string[] {
  // Routes are registered when the app is built; no handler runs, so a bare context suffices.
  const app = localApi({ config: {}, store: {}, jobs: { owner: "route-walk" }, now: () => new Date() } as never, {} as never) as unknown as { router: { stack: Layer[] } };
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route !== undefined) {
        for (const method of Object.keys(layer.route.methods)) out.push(`${method.toUpperCase()} ${prefix}${layer.route.path.replace(/:([A-Za-z]+)/g, "{$1}")}`);
      } else if (layer.handle?.stack !== undefined) {
        walk(layer.handle.stack, prefix + (layer.rawPath === undefined || layer.rawPath === "/" ? "" : layer.rawPath));
      }
    }
  };
  walk(app.router.stack, "");
  return out.sort();
}

function describedRoutes(): string[] {
  const document = localApiOpenApi() as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(document.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

/** The Redocly CLI: the devDependency, or VALISE_REDOCLY; in CI a missing one fails. */
function redocly(context: Mocha.Context): string {
  const candidates = [process.env["VALISE_REDOCLY"], `${REPO_ROOT}node_modules/.bin/redocly`].filter((p): p is string => p !== undefined && p !== "");
  const found = candidates.find((p) => existsSync(p));
  if (found !== undefined) return found;
  if (process.env["CI"] !== undefined && process.env["CI"] !== "") throw new Error("@redocly/cli is missing: npm ci installs it (devDependency)");
  console.log("      (skipped: @redocly/cli is not installed here; npm ci installs it, or set VALISE_REDOCLY)");
  context.skip();
  return "";
}

describe("OpenAPI description of the local API", function () {
  it("describes every route the router serves, and nothing else", function () {
    const served = servedRoutes();
    expect(served.length).to.be.greaterThan(25);
    expect(describedRoutes()).to.deep.equal(served);
  });

  it("is kept in the repository as the code builds it (npm run openapi)", function () {
    expect(readFileSync(OPENAPI_FILE, "utf8")).to.equal(openApiText());
  });

  it("embeds the gateway's own schemas, references rewritten into the document", function () {
    const document = localApiOpenApi() as { openapi: string; components: { schemas: Record<string, unknown> } };
    expect(document.openapi).to.equal("3.1.0");
    const onDisk = JSON.parse(readFileSync(new URL("../../../schemas/mla-request.schema.json", import.meta.url), "utf8")) as { properties: Record<string, unknown> };
    const embedded = document.components.schemas["mla-request"] as { properties: Record<string, unknown>; $id?: string };
    expect(Object.keys(embedded.properties)).to.deep.equal(Object.keys(onDisk.properties));
    expect(embedded.$id).to.equal(undefined);
    const text = JSON.stringify(document);
    const refs = [...text.matchAll(/"\$ref":"([^"]+)"/g)].map(([, ref]) => ref!);
    expect(refs.length).to.be.greaterThan(50);
    for (const ref of refs) expect(ref, ref).to.match(/^#\/components\/schemas\//);
  });

  it("passes redocly lint", function () {
    const bin = redocly(this);
    const result = spawnSync(bin, ["lint", "schemas/local-api.openapi.json", "--config", "redocly.yaml"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 120_000 });
    expect(result.status, `${result.stdout}\n${result.stderr}`).to.equal(0);
    expect(result.stdout + result.stderr).to.contain("valid");
  });

  it("validates answers: a conforming page passes, a truncated one fails", function () {
    const checker = responseChecker();
    checker.check("GET", "/api/v1/cases", 200, { cases: [], next: null });
    expect(() => checker.check("GET", "/api/v1/cases", 200, { cases: [] })).to.throw(/next/);
    checker.check("GET", "/api/v1/events", 400, { error: { code: "CURSOR_INVALID", message: "…" } });
  });
});
