/**
 * What an envelope may carry, and how its document must agree with its
 * routing header. Checked by the receiver after decryption (the document is
 * the sender's word, signed, but a peer gone rogue or buggy signs anything)
 * and by the sender before sealing, so that neither side stores a document
 * that contradicts the header it was routed, ordered and audited by.
 *
 * The threats: a peer that stores a `receipt`, `audit-entry`, `trust-bundle`,
 * `envelope` or `audit-export` document into one of our cases (internal
 * shapes, which our code then reads as if we had made them); a request whose
 * `requestingAuthority` is not the peer that sent it (a request in another
 * authority's name) or whose `requestedAuthority` is another state; a request
 * routed `normal` that claims `emergency` inside (or the reverse), so that the
 * queues, clocks and reports disagree with the document a caseworker reads.
 *
 * Pure: the header and the document are arguments.
 */
import { GatewayError } from "../errors.js";
import type { Priority } from "./types.js";

/**
 * Each envelope type and the document kind it admits (one each: the document's
 * `kind` names its type). No other type travels in an envelope.
 */
export const ENVELOPE_DOCUMENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  "mla-request": "mla-request",
  "preservation-request": "preservation-request",
  "status-update": "status-update",
  "evidence-manifest": "evidence-manifest",
});

/** Types whose documents name the two parties and the urgency. */
const REQUEST_TYPES: ReadonlySet<string> = new Set(["mla-request", "preservation-request"]);

/** The routing fields a document is checked against. */
export interface BindingHeader {
  readonly type: string;
  readonly from: string;
  readonly to: string;
  readonly priority: Priority;
}

/** Text of a hostile value for an error's details: bounded, never an object. */
function shown(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

/**
 * Refuses an envelope type no document may travel as.
 *
 * @throws GatewayError `ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED` (details: type, allowed).
 */
export function checkEnvelopeType(type: string): void {
  if (!Object.hasOwn(ENVELOPE_DOCUMENT_TYPES, type)) {
    throw new GatewayError("ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED", `No document travels as ${shown(type)} in an envelope.`, {
      details: { type: shown(type), allowed: Object.keys(ENVELOPE_DOCUMENT_TYPES) },
    });
  }
}

/**
 * Checks that `document` may travel under `header`: an allowed type, the
 * document kind of that type, and for a request its parties and urgency equal
 * to the header's `from`, `to` and `priority`. Run before schema validation,
 * so a document of another kind gets this precise code, not a list of fields.
 *
 * @throws GatewayError `ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED`,
 *   `ENVELOPE_PARTY_MISMATCH` (details: field, document, header) or
 *   `ENVELOPE_URGENCY_MISMATCH` (details: document, header).
 */
export function checkDocumentBinding(header: BindingHeader, document: Record<string, unknown>): void {
  checkEnvelopeType(header.type);
  const expected = ENVELOPE_DOCUMENT_TYPES[header.type];
  if (document["kind"] !== expected) {
    throw new GatewayError("ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED", `A ${header.type} envelope carries only a ${expected} document.`, {
      details: { type: header.type, kind: shown(document["kind"]) },
    });
  }
  if (!REQUEST_TYPES.has(header.type)) return;
  const parties: ReadonlyArray<readonly [field: string, routed: string, role: string]> = [
    ["requestingAuthority", header.from, "sender"],
    ["requestedAuthority", header.to, "recipient"],
  ];
  for (const [field, routed, role] of parties) {
    if (document[field] !== routed) {
      throw new GatewayError("ENVELOPE_PARTY_MISMATCH", `The document's ${field} is not the envelope's ${role}.`, {
        details: { field, document: shown(document[field]), header: routed },
      });
    }
  }
  const level = (document["urgency"] as { level?: unknown } | null | undefined)?.level;
  if (level !== header.priority) {
    throw new GatewayError("ENVELOPE_URGENCY_MISMATCH", "The document's urgency differs from the envelope's routing priority.", {
      details: { document: shown(level), header: header.priority },
    });
  }
}
