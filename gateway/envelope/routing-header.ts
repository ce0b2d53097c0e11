/**
 * Shape checks of the routing header, shared by seal (arguments from our own
 * caller) and open (a header from a peer, attacker-controlled until its
 * signature and signer are checked — and even then only as honest as the peer).
 */
import { isAuthorityId } from "../../pki/authority.js";
import { GatewayError, type GatewayErrorCode } from "../errors.js";
import { PRIORITIES, type Priority, type RoutingHeader } from "./types.js";

// Ids end up in file names, SQL rows and log lines: keep them to a small, inert alphabet.
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TYPE_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;
// RFC 3339 date-time with a mandatory offset; parsed by Date only after this gate.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

const MEMBERS = new Set(["valise", "id", "type", "from", "to", "caseId", "inReplyTo", "priority", "createdAt", "requirements", "payload"]);

/** True when `id` is a well-formed envelope or case id. */
export function isEnvelopeId(id: unknown): id is string {
  return typeof id === "string" && ID_PATTERN.test(id);
}

/** True when `type` is a well-formed document type name (e.g. `mla-request`). */
export function isDocumentType(type: unknown): type is string {
  return typeof type === "string" && TYPE_PATTERN.test(type);
}

/**
 * Milliseconds since the epoch of an RFC 3339 date-time, or `undefined` when
 * `text` is not one.
 */
export function parseTimestamp(text: unknown): number | undefined {
  if (typeof text !== "string" || !RFC3339.test(text)) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return undefined;
  // Date.parse rolls impossible dates over (2025-02-30 is read as March 2): a
  // signed time that names no real instant is refused, not reinterpreted.
  const [year, month, day, hour, minute, second] = text.slice(0, 19).split(/[-T:]/).map(Number) as [number, number, number, number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined;
  return hour < 24 && minute < 60 && second < 60 ? ms : undefined;
}

/**
 * Check that `value` is a routing header: exactly the known members, each of the
 * right shape. Unknown members are refused, not ignored: a field the signer
 * meant and the receiver skipped is a field an attacker can use.
 *
 * @throws GatewayError `code` naming the first offending member in `details.field`.
 */
export function checkRoutingHeader(value: Record<string, unknown>, code: GatewayErrorCode): RoutingHeader {
  const fail = (field: string, why: string): never => {
    throw new GatewayError(code, `Routing header ${field}: ${why}.`, { details: { field } });
  };
  for (const key of Object.keys(value)) if (!MEMBERS.has(key)) fail(key, "unknown member");
  if (value.valise !== 1) fail("valise", "must be 1");
  if (!isEnvelopeId(value.id)) fail("id", "malformed");
  if (!isDocumentType(value.type)) fail("type", "malformed");
  if (!isAuthorityId(value.from)) fail("from", "not an authority id");
  if (!isAuthorityId(value.to)) fail("to", "not an authority id");
  if (!isEnvelopeId(value.caseId)) fail("caseId", "malformed");
  if (value.inReplyTo !== undefined && !isEnvelopeId(value.inReplyTo)) fail("inReplyTo", "malformed");
  if (!(PRIORITIES as readonly unknown[]).includes(value.priority)) fail("priority", `not one of ${PRIORITIES.join(", ")}`);
  if (parseTimestamp(value.createdAt) === undefined) fail("createdAt", "not an RFC 3339 date-time");
  if (value.requirements !== undefined && !(Number.isSafeInteger(value.requirements) && (value.requirements as number) >= 1)) fail("requirements", "not a profile version (a positive integer)");
  if (typeof value.payload !== "string") fail("payload", "not a compact JWE");
  return {
    valise: 1,
    id: value.id as string,
    type: value.type as string,
    from: value.from as string,
    to: value.to as string,
    caseId: value.caseId as string,
    ...(value.inReplyTo === undefined ? {} : { inReplyTo: value.inReplyTo as string }),
    priority: value.priority as Priority,
    createdAt: value.createdAt as string,
    ...(value.requirements === undefined ? {} : { requirements: value.requirements as number }),
    payload: value.payload as string,
  };
}
