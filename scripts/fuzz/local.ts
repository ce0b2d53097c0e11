/**
 * The local API with every role's token (caseworker, auditor, operator), no
 * token and invalid tokens: routes a role may not use, invalid JSON,
 * documents broken from the schema's shape (a required field missing, a
 * field of the wrong type, an unknown field, a huge string, a value outside
 * its enum), path traversal and unknown ids, invalid lifecycle steps, evidence
 * routes with hostile paths, hostile query parameters, bad %-encoding.
 */
import { readFileSync } from "node:fs";
import type { Rng } from "./prng.js";
import { uuidFrom } from "./prng.js";
import { send } from "./client.js";
import { ACCEPTED, refused, type Expectation, type FuzzCase } from "./model.js";
import type { FuzzNetwork } from "./network.js";
import type { SeedEnvelope } from "./envelopes.js";
import { BAD_PERCENT } from "./peer-http.js";

const EXAMPLES = new URL("../../schemas/examples/", import.meta.url);
const SCHEMAS = new URL("../../schemas/", import.meta.url);

/** US's own request to GB (the local API submits as US). */
const REQUEST = { ...(JSON.parse(readFileSync(new URL("mla-request/valid-email-records.json", EXAMPLES), "utf8")) as Record<string, unknown>), requestingAuthority: "US-DOJ-OIA", requestedAuthority: "GB-UKCA" };
const SCHEMA = JSON.parse(readFileSync(new URL("mla-request.schema.json", SCHEMAS), "utf8")) as { required: string[]; properties: Record<string, { type?: string; $ref?: string }> };

/** Who calls: a role's token, none, or an invalid one. */
export type Caller = "caseworker" | "auditor" | "operator" | "none" | "invalid";
export const CALLERS: readonly Caller[] = ["caseworker", "auditor", "operator", "none", "invalid"];

interface LocalRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: Buffer;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
}

/** A route: who may call it, and requests with what a permitted caller gets. */
interface Route {
  readonly roles: readonly Caller[];
  readonly make: (rng: Rng, seeds: readonly SeedEnvelope[]) => { request: LocalRequest; expect: Expectation; kind: string };
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const HOSTILE_IDS = ["..%2F..%2Fetc%2Fpasswd", "..", "%2E%2E", "00000000-0000-4000-8000-000000000000", "x".repeat(300), "%00", "'%20OR%201=1--", "%3Cscript%3E", "CON", "a%2Fb"];
const INVALID_JSON = ["{", "{\"kind\":", "[1,", "nul", "{'a':1}", "\u0000", "{\"a\":1}}", "\"unterminated"];

/** A document broken from the schema's shape; each of these fails validation. */
function brokenRequest(rng: Rng): { body: unknown; how: string } {
  const doc: Record<string, unknown> = structuredClone(REQUEST);
  const field = rng.pick(SCHEMA.required.filter((name) => name !== "kind"));
  switch (rng.int(0, 6)) {
    case 0:
      delete doc[field];
      return { body: doc, how: `required ${field} missing` };
    case 1: {
      const declared = SCHEMA.properties[field]?.type;
      doc[field] = declared === "string" ? rng.pick([42, true, null, [], {}]) : declared === "boolean" ? rng.pick(["true", 1, null]) : rng.pick([42, "text", null, true]);
      return { body: doc, how: `${field} of the wrong type` };
    }
    case 2:
      doc[`${rng.text(rng.int(1, 12))}Extra`] = rng.pick(["x", 1, { nested: true }]);
      return { body: doc, how: "unknown field" };
    case 3:
      doc["facts"] = "f".repeat(rng.int(100_001, 1_500_000));
      return { body: doc, how: "huge string" };
    case 4:
      doc["urgency"] = { level: rng.pick(["asap", "EMERGENCY", "", "later"]) };
      return { body: doc, how: "value outside its enum" };
    case 5:
      doc["requestingAuthority"] = rng.pick(["GB-UKCA", "FR-MJ-BEPI", "us-doj-oia"]);
      return { body: doc, how: "not this authority" };
    default:
      return { body: rng.pick([[], "text", 42, null, { kind: rng.pick(["receipt", "status-update", "x"]) }, { ...doc, kind: "preservation-request" }]), how: "not a request" };
  }
}

const CW: readonly Caller[] = ["caseworker"];
const AUDITOR: readonly Caller[] = ["auditor"];
const REPORTS: readonly Caller[] = ["auditor", "operator"];

const ROUTES: ReadonlyArray<readonly [number, Route]> = [
  [6, { roles: CW, make: (rng) => {
    const pick = rng.int(0, 9);
    if (pick === 0) return { kind: "submit a valid request", request: { method: "POST", path: "/api/v1/requests", body: json(REQUEST), headers: rng.chance(0.3) ? { "idempotency-key": rng.text(16) } : {} }, expect: ACCEPTED };
    if (pick === 1) return { kind: "submit invalid JSON", request: { method: "POST", path: "/api/v1/requests", body: Buffer.from(rng.pick(INVALID_JSON)) }, expect: refused("REQUEST_MALFORMED") };
    if (pick === 2) return { kind: "submit over the size limit", request: { method: "POST", path: "/api/v1/requests", body: json({ ...REQUEST, facts: "f".repeat(2_200_000) }) }, expect: refused("REQUEST_TOO_LARGE") };
    if (pick === 3) return { kind: "submit as another content type", request: { method: "POST", path: "/api/v1/requests", body: json(REQUEST), contentType: rng.pick(["text/plain", "application/xml", "multipart/form-data"]) }, expect: refused("DOCUMENT_INVALID") };
    if (pick === 4) return { kind: "submit with a malformed idempotency key", request: { method: "POST", path: "/api/v1/requests", body: json(REQUEST), headers: { "idempotency-key": rng.pick(["", "x".repeat(300), "a b", "\"\""]) } }, expect: refused("IDEMPOTENCY_KEY_INVALID") };
    const { body, how } = brokenRequest(rng);
    // A bare string, number or null is refused by the JSON parser (objects and arrays only).
    return { kind: `submit a document with ${how}`, request: { method: "POST", path: "/api/v1/requests", body: json(body) }, expect: refused("DOCUMENT_INVALID", "REQUEST_TOO_LARGE", "REQUEST_MALFORMED") };
  } }],
  [2, { roles: CW, make: (rng) => rng.chance(0.5)
    ? { kind: "list cases", request: { method: "GET", path: `/api/v1/cases${rng.pick(["", "?direction=inbound", "?status=received", "?direction=outbound&status=submitted"])}` }, expect: ACCEPTED }
    : { kind: "list cases with a hostile filter", request: { method: "GET", path: `/api/v1/cases?direction=${rng.pick(["sideways", "%00", "inbound%27", "x".repeat(500)])}` }, expect: refused("USAGE") } }],
  [4, { roles: CW, make: (rng, seeds) => {
    const pick = rng.int(0, 3);
    if (pick === 0) return { kind: "read a case", request: { method: "GET", path: `/api/v1/cases/${rng.pick(seeds).caseId}` }, expect: ACCEPTED };
    if (pick === 1) return { kind: "read a case by a bad %-encoded id", request: { method: "GET", path: `/api/v1/cases/${rng.pick(BAD_PERCENT)}` }, expect: refused("REQUEST_PATH_MALFORMED") };
    return { kind: "read an unknown or hostile case id", request: { method: "GET", path: `/api/v1/cases/${rng.chance(0.5) ? uuidFrom(rng) : rng.pick(HOSTILE_IDS)}` }, expect: refused("CASE_UNKNOWN", "NOT_FOUND") };
  } }],
  [3, { roles: CW, make: (rng, seeds) => {
    const seed = rng.pick(seeds);
    const pick = rng.int(0, 3);
    if (pick === 0) return { kind: "read a document", request: { method: "GET", path: `/api/v1/cases/${seed.caseId}/documents/${seed.envelopeId}` }, expect: ACCEPTED };
    if (pick === 1) return { kind: "read a document by a bad %-encoded id", request: { method: "GET", path: `/api/v1/cases/${seed.caseId}/documents/${rng.pick(BAD_PERCENT)}` }, expect: refused("REQUEST_PATH_MALFORMED") };
    return { kind: "read an unknown or hostile document", request: { method: "GET", path: `/api/v1/cases/${rng.chance(0.5) ? seed.caseId : rng.pick(HOSTILE_IDS)}/documents/${rng.chance(0.5) ? uuidFrom(rng) : rng.pick(HOSTILE_IDS)}` }, expect: refused("CASE_UNKNOWN", "NOT_FOUND") };
  } }],
  [5, { roles: CW, make: (rng, seeds) => {
    const caseId = rng.chance(0.7) ? rng.pick(seeds).caseId : rng.pick([uuidFrom(rng), ...HOSTILE_IDS]);
    const body = rng.pick<unknown>([
      { step: rng.text(rng.int(1, 20)) },
      { step: "withdraw" },
      { step: "close" },
      {},
      [],
      "acknowledge",
      { step: "acknowledge", status: "executed" },
      { step: "refuse" },
      { step: "acknowledge", [`x${rng.text(3)}`]: 1 },
      { step: "accept", note: rng.pick([42, null, ["n"], { text: "n" }]) },
    ]);
    // A bare JSON string is refused by the JSON parser (objects and arrays only), the rest by the lifecycle.
    return { kind: "take an invalid step", request: { method: "POST", path: `/api/v1/cases/${caseId}/status`, body: json(body) }, expect: refused("DOCUMENT_INVALID", "CASE_TRANSITION_INVALID", "CASE_UNKNOWN", "REQUEST_MALFORMED") };
  } }],
  [2, { roles: CW, make: (rng) => rng.chance(0.4)
    ? { kind: "deadline lists", request: { method: "GET", path: rng.pick(["/api/v1/cases/overdue", "/api/v1/cases/due-soon", "/api/v1/cases/due-soon?days=3"]) }, expect: ACCEPTED }
    : { kind: "deadline list with a hostile parameter", request: { method: "GET", path: `/api/v1/cases/due-soon?days=${rng.pick(["-1", "x", "", "Infinity", "NaN", "%20"])}` }, expect: refused("USAGE") } }],
  [4, { roles: CW, make: (rng, seeds) => {
    const caseId = rng.chance(0.7) ? rng.pick(seeds).caseId : rng.pick([uuidFrom(rng), ...HOSTILE_IDS]);
    const pick = rng.int(0, 2);
    if (pick === 0) {
      const body = rng.pick<unknown>([{ files: ["/etc/passwd"] }, { files: ["../../../../etc/shadow"] }, { files: [{ path: "/proc/self/environ" }] }, { files: "x" }, {}, { files: [] }, { files: [{ path: `/tmp/${rng.text(8)}`, name: "../x" }] }]);
      return { kind: "send evidence from a hostile path", request: { method: "POST", path: `/api/v1/cases/${caseId}/evidence`, body: json(body) }, expect: refused() };
    }
    if (pick === 1) return { kind: "read an unknown evidence item", request: { method: "GET", path: `/api/v1/cases/${caseId}/evidence/${rng.chance(0.5) ? uuidFrom(rng) : rng.pick([...HOSTILE_IDS, ...BAD_PERCENT])}` }, expect: refused() };
    return { kind: "list evidence of an unknown case", request: { method: "GET", path: `/api/v1/cases/${rng.pick([uuidFrom(rng), ...HOSTILE_IDS])}/evidence` }, expect: refused("CASE_UNKNOWN", "NOT_FOUND") };
  } }],
  [3, { roles: REPORTS, make: (rng) => rng.chance(0.4)
    ? { kind: "reports", request: { method: "GET", path: rng.pick(["/api/v1/reports/kpi", "/api/v1/reports/transparency?from=2025-01-01&to=2025-12-31", "/api/v1/reports/transparency?from=2025-01-01&to=2026-12-31&format=csv", "/api/v1/reports/kpi?from=2025-01-01&to=2025-12-31"]) }, expect: ACCEPTED }
    : { kind: "reports with hostile parameters", request: { method: "GET", path: rng.pick([`/api/v1/reports/kpi?from=${rng.pick(["x", "2025-13-45", "-1"])}`, `/api/v1/reports/transparency?format=${rng.pick(["pdf", "../x", ""])}`, `/api/v1/reports/transparency?suppressBelow=${rng.pick(["-5", "x"])}`]) }, expect: refused() } }],
  [4, { roles: AUDITOR, make: (rng, seeds) => {
    const pick = rng.int(0, 3);
    if (pick === 0) return { kind: "audit reads", request: { method: "GET", path: rng.pick(["/api/v1/audit/checkpoint", "/api/v1/audit/entries?from=0&count=5", `/api/v1/audit/custody/${rng.pick(seeds).caseId}`]) }, expect: ACCEPTED };
    if (pick === 1) return { kind: "audit custody of a bad %-encoded id", request: { method: "GET", path: `/api/v1/audit/custody/${rng.pick(BAD_PERCENT)}` }, expect: refused("REQUEST_PATH_MALFORMED") };
    return {
      kind: "audit reads with hostile parameters",
      request: { method: "GET", path: rng.pick([`/api/v1/audit/entries?from=${rng.pick(["-1", "x", "1e9"])}&count=${rng.pick(["0", "-3", "100000", "y"])}`, `/api/v1/audit/proof/inclusion?index=${rng.pick(["x", "-1", "99999999"])}&size=${rng.pick(["0", "z"])}`, `/api/v1/audit/proof/consistency?old=${rng.pick(["5", "x"])}&new=${rng.pick(["1", "-2"])}`, `/api/v1/audit/checkpoint?size=${rng.pick(["x", "-1", "999999999"])}`, `/api/v1/audit/custody/${rng.pick([uuidFrom(rng), ...HOSTILE_IDS])}`]) },
      expect: refused(),
    };
  } }],
  [1, { roles: ["operator"], make: () => ({ kind: "health", request: { method: "GET", path: "/api/v1/health" }, expect: ACCEPTED }) }],
  [1, { roles: ["caseworker", "auditor", "operator"], make: (rng) => ({ kind: "unknown endpoint or method", request: { method: rng.pick(["GET", "DELETE", "PUT", "PATCH"]), path: rng.pick(["/api/v1/nothing", "/api/v1/requests", "/api/v2/cases", "/api/v1/cases/x/y/z", `/api/v1/${rng.pick(BAD_PERCENT)}`]) }, expect: refused("NOT_FOUND", "FORBIDDEN") }) }],
];

const TOTAL = ROUTES.reduce((sum, [weight]) => sum + weight, 0);

/** A token header for `caller`. */
function authorization(caller: Caller, network: FuzzNetwork, rng: Rng): Record<string, string> {
  if (caller === "none") return {};
  if (caller === "invalid") {
    return { authorization: rng.pick([`Bearer vls_${rng.bytes(32).toString("base64url")}`, "Bearer", "Basic dXNlcjpwYXNz", `Bearer ${network.tokens.caseworker}x`, `Bearer ${"A".repeat(6000)}`, `bearer  ${network.tokens.auditor.slice(0, 10)}`]) };
  }
  return { authorization: `Bearer ${network.tokens[caller]}` };
}

/** One local API case for `caller`, drawn from `rng`. */
export function localCase(network: FuzzNetwork, seeds: readonly SeedEnvelope[], caller: Caller, rng: Rng, timeoutMs: number): FuzzCase {
  let draw = rng.next() * TOTAL;
  let route = ROUTES[ROUTES.length - 1]![1];
  for (const [weight, candidate] of ROUTES) {
    draw -= weight;
    if (draw < 0) {
      route = candidate;
      break;
    }
  }
  const caseRng = rng.fork();
  const made = route.make(caseRng, seeds);
  const headers = { ...authorization(caller, network, caseRng), ...(made.request.body === undefined ? {} : { "content-type": made.request.contentType ?? "application/json" }), ...made.request.headers };
  let expect: Expectation;
  let kind = made.kind;
  if (caller === "none" || caller === "invalid") {
    // Tokens are checked under /api/v1/ only; elsewhere there is nothing to find.
    expect = made.request.path.startsWith("/api/v1/") ? refused("UNAUTHENTICATED") : refused("NOT_FOUND");
  } else if (!route.roles.includes(caller)) {
    // The body is parsed before the route's role check, and a path's %-encoding when the route matches.
    expect = refused("FORBIDDEN", "REQUEST_MALFORMED", "REQUEST_TOO_LARGE", "REQUEST_PATH_MALFORMED", "NOT_FOUND");
    kind = `${kind} (role not allowed)`;
  } else {
    expect = made.expect;
  }
  // A large body refused before it is read (no token, no role) may be answered while it is still being
  // sent: the client then sees the connection close (EPIPE) rather than the answer.
  if ("refused" in expect && (made.request.body?.length ?? 0) > 1_000_000) expect = { ...expect, noAnswerOk: true };
  return {
    family: `local/${caller}`,
    kind,
    expect,
    run: () => send(network.localPort, { method: made.request.method, path: made.request.path, headers, ...(made.request.body === undefined ? {} : { body: made.request.body }) }, { timeoutMs }),
  };
}
