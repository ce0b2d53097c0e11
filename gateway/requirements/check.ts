/**
 * Where requests meet requirements profiles.
 *
 * - Before sealing (gateway/exchange/submit.ts): a request addressed to a
 *   peer is evaluated against the peer's profile in force; every failing
 *   rule comes back as a field error carrying the peer's explanation in the
 *   caller's language (`REQUIREMENTS_NOT_MET`), and nothing is sealed. The
 *   version checked is sealed into the routing header.
 * - On receipt (gateway/exchange/receive.ts): the request must name the
 *   version of our profile in force (`REQUIREMENTS_OUTDATED` with the version
 *   required otherwise, before anything is stored); it is re-checked against
 *   it, and only a compliant request starts the completion clock at receipt.
 *   A request that does not comply is still received — it passed the shared
 *   schema — but waits, with no clock running, for the officer to ask for
 *   what is missing.
 */
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { RoutingHeader } from "../envelope/types.js";
import { evaluateRequirements } from "./evaluate.js";
import { ownShelf, peerShelf, readLatest } from "./shelf.js";

/** The receiver's re-check of an inbound request. */
export interface InboundCompliance {
  readonly version: number;
  readonly compliant: boolean;
  /** Ids of the rules the request fails. */
  readonly failedRules: readonly string[];
}

/**
 * Evaluates `document` (a request of `kind`, valid against the shared
 * schema) against `peer`'s profile in force. Returns the version checked, or
 * undefined when no profile of the peer is held.
 *
 * @throws GatewayError `REQUIREMENTS_NOT_MET` (422; details: requirements
 *   {authority, version}, errors: the failing fields with the peer's explanations).
 */
export function checkOutboundRequirements(ctx: GatewayContext, peer: string, kind: string, document: Readonly<Record<string, unknown>>, languages: readonly string[]): number | undefined {
  const held = readLatest(peerShelf(ctx.paths, peer), ctx.validator);
  if (held === undefined) return undefined;
  const { profile } = held.compiled;
  const errors = evaluateRequirements(held.compiled, kind, document, { languages });
  if (errors.length > 0) {
    throw new GatewayError("REQUIREMENTS_NOT_MET", `the request does not meet ${peer}'s requirements (version ${profile.version}): ${errors.length} problem(s); see details.errors`, {
      details: { requirements: { authority: peer, version: profile.version }, errors },
    });
  }
  return profile.version;
}

/**
 * Checks an inbound request's routing header against our profile in force
 * and re-evaluates the request against it. Undefined when we publish no
 * profile and the request names none.
 *
 * @throws GatewayError `REQUIREMENTS_OUTDATED` (details: required — the
 *   version in force, or null — and checked).
 */
export function checkInboundRequirements(ctx: GatewayContext, header: RoutingHeader, kind: string, document: Readonly<Record<string, unknown>>): InboundCompliance | undefined {
  const held = readLatest(ownShelf(ctx.paths), ctx.validator);
  const checked = header.requirements ?? null;
  if (held === undefined && checked === null) return undefined;
  const required = held?.compiled.profile.version ?? null;
  if (held === undefined || checked !== required) {
    throw new GatewayError(
      "REQUIREMENTS_OUTDATED",
      required === null
        ? `the request names version ${String(checked)} of ${ctx.authority}'s requirements, which publishes none`
        : `the request was checked against ${checked === null ? "no version" : `version ${checked}`} of ${ctx.authority}'s requirements; version ${required} is in force: fetch it and submit again`,
      { details: { required, checked } },
    );
  }
  const errors = evaluateRequirements(held.compiled, kind, document);
  return { version: held.compiled.profile.version, compliant: errors.length === 0, failedRules: [...new Set(errors.map((e) => e.rule))] };
}
