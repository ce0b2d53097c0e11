/**
 * The chain of custody of a case, for auditors: every envelope (as it
 * travelled: digest, signer, receipt), every audit entry of the case
 * (status changes, deliveries, receipts, evidence, reads) with its log
 * index, in log order. Digests and metadata only: this module never reads
 * `envelope_bodies`, so no document content can leak into a report.
 */
import type { EnvelopeSummary } from "../exchange/store.js";
import type { Tx } from "../store/store.js";
import { GatewayError } from "../errors.js";
import { entriesOfCase, type AuditEntry } from "./append.js";
import { parseCheckpoint } from "./checkpoint.js";
import { parseNote } from "./note.js";
import type { JsonValue } from "../envelope/canonical-json.js";

/** Who signed what an event records, as the entry or envelope row names it. */
export interface CustodySigner {
  /** JWK thumbprint of the signing key. */
  readonly kid?: string;
  /** SHA-256 fingerprint of the signer certificate, when recorded. */
  readonly fingerprint?: string;
}

/** A receipt of an envelope, summarised (the JWS itself is kept for re-verification). */
export interface CustodyReceipt {
  /** `issued`: we signed it (inbound envelope); `held`: the peer's (outbound). */
  readonly role: "issued" | "held";
  /** The authority that signed it (the envelope's recipient). */
  readonly signedBy: string;
  readonly signerKid: string | null;
  readonly receivedAt: string | null;
  /** The receiver's log position of the envelope, when the receipt carries one. */
  readonly log: { readonly origin: string; readonly index: number; readonly checkpointSize: number | null } | null;
  /** The compact JWS (metadata only: ids, digest, log position). */
  readonly jws: string;
}

/** One envelope of the case. */
export interface CustodyEnvelope extends EnvelopeSummary {
  readonly signerKid: string;
  /** Indices of this gateway's log entries that name the envelope. */
  readonly logIndices: readonly number[];
  readonly receipt: CustodyReceipt | null;
}

/** One audit entry of the case. */
export interface CustodyEvent {
  readonly index: number;
  readonly time: string;
  readonly kind: string;
  readonly actor: string;
  readonly envelopeId?: string;
  readonly envelopeDigest?: string;
  readonly signer?: CustodySigner;
  readonly details: { readonly [key: string]: JsonValue };
}

/** The chain of custody of one case. */
export interface CustodyReport {
  readonly caseId: string;
  readonly direction: "outbound" | "inbound" | null;
  readonly kind: string | null;
  readonly peer: string | null;
  readonly status: string | null;
  readonly priority: string | null;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
  readonly envelopes: readonly CustodyEnvelope[];
  /** In log order. */
  readonly events: readonly CustodyEvent[];
}

interface EnvelopeRow {
  envelope_id: string;
  direction: "outbound" | "inbound";
  type: string;
  from_authority: string;
  to_authority: string;
  in_reply_to: string | null;
  created_at: string;
  stored_at: string;
  digest: string;
  signer_kid: string;
  receipt: string | null;
}

/**
 * The chain of custody of `caseId`: the case row, its envelopes with
 * receipts, and its audit entries. `CASE_UNKNOWN` when neither a case nor
 * any entry names it.
 */
export async function caseCustody(tx: Tx, caseId: string): Promise<CustodyReport> {
  const row = await tx.cases.get(caseId);
  const entries = await entriesOfCase(tx, caseId);
  if (row === undefined && entries.length === 0) throw new GatewayError("CASE_UNKNOWN", `no case ${caseId}`);
  const indicesByEnvelope = new Map<string, number[]>();
  for (const entry of entries) {
    if (entry.envelopeId === undefined) continue;
    const list = indicesByEnvelope.get(entry.envelopeId) ?? [];
    list.push(entry.index);
    indicesByEnvelope.set(entry.envelopeId, list);
  }
  // Deliberately not envelope_bodies: custody is metadata, never content.
  const rows: EnvelopeRow[] = await tx.envelopes.ofCaseMetadata(caseId);
  const envelopes = rows.map(
    (e): CustodyEnvelope => ({
      envelopeId: e.envelope_id,
      direction: e.direction,
      type: e.type,
      from: e.from_authority,
      to: e.to_authority,
      inReplyTo: e.in_reply_to,
      createdAt: e.created_at,
      storedAt: e.stored_at,
      envelopeDigest: e.digest,
      signerKid: e.signer_kid,
      logIndices: indicesByEnvelope.get(e.envelope_id) ?? [],
      receipt: e.receipt === null ? null : summariseReceipt(e.receipt, e.direction === "inbound" ? "issued" : "held", e.to_authority),
    }),
  );
  return {
    caseId,
    direction: row?.direction ?? null,
    kind: row?.kind ?? null,
    peer: row?.peer ?? null,
    status: row?.status ?? null,
    priority: row?.priority ?? null,
    createdAt: row?.created_at ?? null,
    updatedAt: row?.updated_at ?? null,
    envelopes,
    events: entries.map((entry) => custodyEvent(entry, rows)),
  };
}

function custodyEvent(entry: AuditEntry, envelopes: readonly EnvelopeRow[]): CustodyEvent {
  const kid = typeof entry.details["signerKid"] === "string" ? entry.details["signerKid"] : undefined;
  const fingerprint = typeof entry.details["signer"] === "string" ? entry.details["signer"] : undefined;
  // An envelope we sent is signed by our own key: the row names it.
  const ownKid = entry.kind === "envelope.sent" ? envelopes.find((e) => e.envelope_id === entry.envelopeId)?.signer_kid : undefined;
  const signerKid = kid ?? ownKid;
  const signer: CustodySigner | undefined =
    signerKid === undefined && fingerprint === undefined
      ? undefined
      : { ...(signerKid === undefined ? {} : { kid: signerKid }), ...(fingerprint === undefined ? {} : { fingerprint }) };
  return {
    index: entry.index,
    time: entry.time,
    kind: entry.kind,
    actor: entry.actor,
    ...(entry.envelopeId === undefined ? {} : { envelopeId: entry.envelopeId }),
    ...(entry.envelopeDigest === undefined ? {} : { envelopeDigest: entry.envelopeDigest }),
    ...(signer === undefined ? {} : { signer }),
    details: entry.details,
  };
}

/** Reads (without verifying: it was verified or signed when stored) what a receipt says. */
function summariseReceipt(jws: string, role: "issued" | "held", signedBy: string): CustodyReceipt {
  const [header, payload] = jws.split(".");
  const decode = (part: string | undefined): Record<string, unknown> => {
    try {
      const value = JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8")) as unknown;
      return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
  const h = decode(header);
  const p = decode(payload);
  const log = p["log"] as { origin?: unknown; index?: unknown; checkpoint?: unknown } | undefined;
  return {
    role,
    signedBy,
    signerKid: typeof h["kid"] === "string" ? h["kid"] : null,
    receivedAt: typeof p["receivedAt"] === "string" ? p["receivedAt"] : null,
    log:
      log === undefined || typeof log.origin !== "string" || typeof log.index !== "number"
        ? null
        : { origin: log.origin, index: log.index, checkpointSize: checkpointSize(log.checkpoint) },
    jws,
  };
}

function checkpointSize(note: unknown): number | null {
  if (typeof note !== "string") return null;
  try {
    return parseCheckpoint(parseNote(note).text).size;
  } catch {
    return null;
  }
}

/** The report as text, one line per event, for `valise audit custody`. */
export function formatCustody(report: CustodyReport): string {
  const short = (hex: string | undefined): string => (hex === undefined ? "" : `sha256:${hex.slice(0, 16)}…`);
  const lines = [
    `Case ${report.caseId}: ${report.kind ?? "?"} ${report.direction ?? "?"} with ${report.peer ?? "?"}, status ${report.status ?? "?"}, priority ${report.priority ?? "?"}`,
    "",
    "Envelopes:",
    ...report.envelopes.map((e) => {
      const receipt =
        e.receipt === null
          ? "no receipt"
          : `receipt ${e.receipt.role} by ${e.receipt.signedBy} (kid ${e.receipt.signerKid ?? "?"})${e.receipt.log === null ? "" : ` at ${e.receipt.log.origin}#${e.receipt.log.index}`}`;
      return `  ${e.envelopeId} ${e.direction} ${e.type} ${e.from} → ${e.to} ${short(e.envelopeDigest)} signer ${e.signerKid}; log ${e.logIndices.map((i) => `#${i}`).join(",") || "-"}; ${receipt}`;
    }),
    "",
    "Log:",
    ...report.events.map((e) => {
      const signer = e.signer === undefined ? "" : ` signer ${e.signer.kid ?? ""}${e.signer.fingerprint === undefined ? "" : ` (${e.signer.fingerprint.slice(0, 16)}…)`}`;
      return `  #${e.index} ${e.time} ${e.kind} by ${e.actor}${e.envelopeId === undefined ? "" : ` envelope ${e.envelopeId}`} ${short(e.envelopeDigest)}${signer}`.trimEnd();
    }),
  ];
  return lines.join("\n");
}
