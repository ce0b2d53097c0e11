/**
 * The audit export (schemas/audit-export.schema.json): everything an auditor
 * needs to verify this gateway's log offline — every entry, every signed
 * checkpoint with its cosignatures, the receipts we issued and the ones we
 * hold, and trust bundles as hints (the auditor trusts only bundles received
 * out of band; see verify-export.ts).
 *
 * An export is fully signed: when no stored checkpoint covers every entry
 * (entries operators appended while the gateway was stopped, or appended
 * since the gateway's last checkpoint), the exporter signs one of exactly
 * the exported size with the log key first ({@link buildSignedAuditExport}).
 */
import type { Db } from "../store/database.js";
import { isValiseError } from "../../pki/errors.js";
import type { GatewayError } from "../errors.js";
import { statement } from "../store/statements.js";
import { readEntries, type AuditEntry } from "./append.js";
import { checkpointOrigin } from "./checkpoint.js";
import { allCheckpoints, type StoredCosignature } from "./queries.js";
import { signLogHead, type LogSigner, type StoredCheckpoint } from "./signed-head.js";
import type { TrustBundleFile } from "../../pki/bundle.js";

/** Version tag of the export format. */
export const AUDIT_EXPORT_VERSION = 1;

/** A checkpoint as exported. */
export interface ExportedCheckpoint {
  readonly size: number;
  /** The note as the log signed it (cosignatures separate). */
  readonly note: string;
  readonly createdAt: string;
  readonly cosignatures: readonly StoredCosignature[];
}

/** A receipt as exported, with the envelope it answers. */
export interface ExportedReceipt {
  readonly envelopeId: string;
  readonly caseId: string;
  readonly type: string;
  readonly envelopeDigest: string;
  readonly from: string;
  readonly to: string;
  /** The compact JWS. */
  readonly jws: string;
}

/** The export document. */
export interface AuditExport {
  readonly "valise-audit-export": 1;
  readonly authority: string;
  /** `valise/<AUTHORITY-ID>`. */
  readonly origin: string;
  readonly exportedAt: string;
  /** Every entry, index 0 first. */
  readonly entries: readonly AuditEntry[];
  /**
   * The leaf hashes the gateway stored, base64: a hint that lets a verifier
   * name the exact entry that changed, trusted only as far as it reproduces a
   * signed root.
   */
  readonly leafHashes?: readonly string[];
  readonly checkpoints: readonly ExportedCheckpoint[];
  readonly receipts: {
    /** Receipts this authority signed for envelopes it received. */
    readonly issued: readonly ExportedReceipt[];
    /** Receipts peers signed for envelopes this authority sent. */
    readonly held: readonly ExportedReceipt[];
  };
  /** Hints only: a verifier trusts the bundles it is given out of band. */
  readonly bundles: { readonly own: TrustBundleFile; readonly peers: readonly TrustBundleFile[] };
}

/** What the export needs besides the database. */
export interface AuditExportInput {
  readonly authority: string;
  readonly ownBundle: TrustBundleFile;
  readonly peerBundles: readonly TrustBundleFile[];
  readonly now: Date;
}

/** Builds the export of `db`'s log (reads only). */
export function buildAuditExport(db: Db, input: AuditExportInput): AuditExport {
  // One read transaction: entries, leaves, checkpoints and receipts of one moment.
  return db.transaction((): AuditExport => {
    const receipts = (direction: "inbound" | "outbound"): ExportedReceipt[] =>
      (
        statement(
          db,
          `SELECT envelope_id, case_id, type, digest, from_authority, to_authority, receipt FROM envelopes
            WHERE direction = ? AND receipt IS NOT NULL ORDER BY stored_at, envelope_id`,
        ).all(direction) as Array<Record<string, string>>
      ).map((r) => ({
        envelopeId: r["envelope_id"]!,
        caseId: r["case_id"]!,
        type: r["type"]!,
        envelopeDigest: r["digest"]!,
        from: r["from_authority"]!,
        to: r["to_authority"]!,
        jws: r["receipt"]!,
      }));
    const leaves = statement(db, "SELECT hash FROM audit_nodes WHERE level = 0 ORDER BY idx").all() as Array<{ hash: Buffer }>;
    return {
      "valise-audit-export": AUDIT_EXPORT_VERSION,
      authority: input.authority,
      origin: checkpointOrigin(input.authority),
      exportedAt: input.now.toISOString(),
      entries: readEntries(db),
      leafHashes: leaves.map((leaf) => leaf.hash.toString("base64")),
      checkpoints: allCheckpoints(db).map((c) => ({ size: c.size, note: c.note, createdAt: c.createdAt, cosignatures: c.cosignatures })),
      receipts: { issued: receipts("inbound"), held: receipts("outbound") },
      bundles: { own: input.ownBundle, peers: [...input.peerBundles] },
    };
  })();
}

/** An export and what was signed to cover it. */
export interface SignedAuditExport {
  readonly exported: AuditExport;
  /** The checkpoint signed for this export, when the stored ones did not cover every entry. */
  readonly signed?: StoredCheckpoint;
  /** Why no checkpoint could be signed (`AUDIT_LOG_TAMPERED`): the export then has an unsigned tail, which verify refuses. */
  readonly refused?: GatewayError;
}

/**
 * Builds the export of `db`'s log and makes sure a checkpoint signed by
 * `signer` covers all of it: if the largest stored checkpoint is smaller
 * than the export, one of exactly the exported size is signed, stored (in
 * an immediate transaction, beside a gateway that may be signing too: the
 * same size has the same root) and added to the export. A log that no
 * longer extends its signed checkpoints is not signed again (`refused`);
 * the export is still written, for the auditor to see why.
 */
export function buildSignedAuditExport(db: Db, input: AuditExportInput, signer: LogSigner): SignedAuditExport {
  const exported = buildAuditExport(db, input);
  const size = exported.entries.length;
  const largest = exported.checkpoints.reduce((max, c) => Math.max(max, c.size), 0);
  if (size === 0 || largest >= size) return { exported };
  let signed: StoredCheckpoint;
  try {
    signed = db.transaction(() => signLogHead(db, signer, size)).immediate();
  } catch (error) {
    if (!isValiseError(error) || error.code !== "AUDIT_LOG_TAMPERED") throw error;
    return { exported, refused: error as GatewayError };
  }
  const createdAt = (statement(db, "SELECT created_at FROM audit_checkpoints WHERE size = ?").get(size) as { created_at: string } | undefined)?.created_at ?? signer.now.toISOString();
  const checkpoint: ExportedCheckpoint = { size, note: signed.note, createdAt, cosignatures: [] };
  const checkpoints = [...exported.checkpoints, checkpoint].sort((a, b) => a.size - b.size);
  return { exported: { ...exported, checkpoints }, signed };
}
