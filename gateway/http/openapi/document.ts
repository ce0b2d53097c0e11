/**
 * The OpenAPI 3.1 description of the local API, built — not kept by hand —
 * from the JSON Schemas the gateway validates with (schemas/*.schema.json,
 * embedded under components.schemas with their references rewritten) and
 * from the route table (routes.ts). Served at GET /api/v1/openapi.json and
 * written to schemas/local-api.openapi.json by `npm run openapi`; a test
 * checks the committed file is what this builds.
 *
 * The submission bodies are the request schemas with `attachments` widened
 * to accept uploads by id (`local-api#/$defs/attachmentReferences`): what a
 * case system sends, while the document schemas say what travels.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SCHEMA_DIR } from "../../../schemas/validate.js";
import { GATEWAY_ERRORS, httpStatusFor } from "../../errors.js";
import { LOCAL_API_ROUTES, type RouteSpec, type SchemaRef } from "./routes.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SUFFIX = ".schema.json";

/** What each group of routes is for. */
const TAGS: Readonly<Record<string, string>> = {
  operations: "Liveness, metrics, health, the outbox and this description.",
  requirements: "Requirements profiles: this authority's and its peers', readable in the caller's language.",
  cases: "Requests, cases, their documents and lifecycle steps.",
  evidence: "Evidence packages (files by path on the gateway's host).",
  documents: "Uploads and the attachments documents carry, both ways.",
  events: "The durable event feed (long-poll, Server-Sent Events); webhooks deliver the same events.",
  audit: "The audit log, its proofs and chains of custody (auditors).",
  reports: "KPIs and the transparency report.",
};

/** `#/components/schemas/<name>` plus a JSON pointer. */
function componentRef(name: string, pointer = ""): string {
  return `#/components/schemas/${name}${pointer}`;
}

/** Rewrites every `$ref` of schema `name` to point inside the OpenAPI document; drops `$id` and `$schema`. */
function embedded(name: string, node: Json): Json {
  if (Array.isArray(node)) return node.map((item) => embedded(name, item));
  if (node === null || typeof node !== "object") return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$id" || key === "$schema") continue;
    if (key === "$ref" && typeof value === "string") {
      const [file, pointer = ""] = value.split("#");
      out[key] = componentRef(file === "" || file === undefined ? name : file.replace(SUFFIX, ""), pointer);
      continue;
    }
    out[key] = embedded(name, value);
  }
  return out;
}

/** Every schema of `dir`, embedded, by name. */
function schemaComponents(dir: string): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith(SUFFIX)).sort()) {
    const name = file.slice(0, -SUFFIX.length);
    out[name] = embedded(name, JSON.parse(readFileSync(join(dir, file), "utf8")) as Json);
  }
  return out;
}

/** A request schema as the local API takes it: `attachments` may name uploads. */
function submissionOf(name: string, schema: JsonObject): Json {
  const properties = { ...(schema["properties"] as JsonObject) };
  properties["attachments"] = { $ref: componentRef("local-api", "/$defs/attachmentReferences") };
  return { ...schema, title: `${String(schema["title"] ?? name)} (as submitted through the local API)`, properties };
}

function schemaOf(ref: SchemaRef): Json {
  if (typeof ref === "object") return ref.inline as Json;
  const [kind, rest] = [ref.slice(0, 4), ref.slice(4)];
  const [name, pointer = ""] = rest.split("#");
  if (kind === "api:") return { $ref: componentRef("local-api", `/$defs/${name}${pointer}`) };
  return { $ref: componentRef(name!, pointer) };
}

function responsesOf(route: RouteSpec): JsonObject {
  const out: JsonObject = {};
  for (const [status, response] of Object.entries(route.responses)) {
    const content: JsonObject = {};
    if (response.json !== undefined) content["application/json"] = { schema: schemaOf(response.json) };
    for (const [type, ref] of Object.entries(response.content ?? {})) content[type] = { schema: schemaOf(ref) };
    out[status] = {
      description: response.description,
      ...(Object.keys(content).length === 0 ? {} : { content }),
      ...(response.headers === undefined ? {} : { headers: Object.fromEntries(Object.entries(response.headers).map(([h, d]) => [h, { description: d, schema: { type: "string" } }])) }),
    };
  }
  // Refusals: the coded error body, grouped by HTTP status (the codes listed in the description).
  const codes = [...(route.errors ?? []), ...(route.roles.length === 0 ? [] : ["UNAUTHENTICATED", "FORBIDDEN"])];
  const byStatus = new Map<number, string[]>();
  for (const code of codes) byStatus.set(httpStatusFor(code), [...(byStatus.get(httpStatusFor(code)) ?? []), code]);
  for (const [status, list] of [...byStatus.entries()].sort(([a], [b]) => a - b)) {
    if (out[String(status)] !== undefined) continue;
    out[String(status)] = {
      description: `Refused: ${list.map((code) => `\`${code}\` (${GATEWAY_ERRORS[code as keyof typeof GATEWAY_ERRORS] ?? ""})`).join("; ")}`,
      content: { "application/json": { schema: { $ref: componentRef("local-api", "/$defs/error") } } },
    };
  }
  return out;
}

function operationOf(route: RouteSpec): JsonObject {
  const pathParams: JsonObject[] = [...route.path.matchAll(/\{([A-Za-z]+)\}/g)].map(([, name]): JsonObject => ({
    name: name!,
    in: "path",
    required: true,
    schema: name === "caseId" || name === "envelopeId" || name === "itemId" || name === "uploadId" ? { $ref: componentRef("common", "/$defs/uuid") } : { type: "string" },
  }));
  const parameters: JsonObject[] = [
    ...pathParams,
    ...(route.parameters ?? []).map((p): JsonObject => ({ name: p.name, in: p.in ?? "query", description: p.description, ...(p.required === true ? { required: true } : {}), schema: schemaOf(p.schema) })),
  ];
  const body = route.body;
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.roles.length === 0 ? { security: [] } : { description: `Role: ${route.roles.join(" or ")}.` }),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: {
              ...(body.json === undefined ? {} : { "application/json": { schema: schemaOf(body.json) } }),
              ...Object.fromEntries(Object.entries(body.content ?? {}).map(([type, ref]) => [type, { schema: schemaOf(ref) }])),
            },
          },
        }),
    responses: responsesOf(route),
  };
}

/** The version of the local API's description (the path says v1; this moves with what v1 offers). */
export const LOCAL_API_VERSION = "1.1.0";

/** The OpenAPI 3.1 document of the local API (deterministic: same schemas and routes, same bytes). */
export function localApiOpenApi(options: { readonly version?: string; readonly schemaDir?: string } = {}): JsonObject {
  const schemas = schemaComponents(options.schemaDir ?? SCHEMA_DIR);
  schemas["mla-request-submission"] = submissionOf("mla-request", schemas["mla-request"] as JsonObject);
  schemas["preservation-request-submission"] = submissionOf("preservation-request", schemas["preservation-request"] as JsonObject);
  const paths: JsonObject = {};
  for (const route of LOCAL_API_ROUTES) {
    const item = (paths[route.path] ??= {}) as JsonObject;
    item[route.method] = operationOf(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Valise local API",
      version: options.version ?? LOCAL_API_VERSION,
      summary: "For the authority's own systems (case management, auditors, operators): requests, cases, documents, evidence, the event feed, the audit log.",
      description:
        "JSON over HTTP on a loopback or internal address; `Authorization: Bearer <token>` (roles caseworker, auditor, operator). Errors are `{error: {code, message, details}}` with stable codes (README: exit codes). Lists are paged with signed cursors (`next`). The schemas under components are the gateway's own (schemas/*.schema.json).",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [{ url: "http://127.0.0.1:8444", description: "The local API as `valise init` configures it (localApi in valise.json)." }],
    security: [{ bearer: [] }],
    tags: [...new Set(LOCAL_API_ROUTES.map((r) => r.tag))].map((name) => ({ name, description: TAGS[name] ?? name })),
    paths,
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A token made with valise token create." } }, schemas },
  };
}
