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
import type { Store, Tx } from "../store/store.js";
import { isValiseError } from "../../pki/errors.js";
import type { GatewayError } from "../errors.js";
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

/**
 * Builds the export of the log (reads only). Entries are append-only, so
 * reading the first `size` entries, their leaves and the checkpoints up to
 * `size` gives one consistent moment of the log while others keep appending.
 */
export async function buildAuditExport(tx: Tx, input: AuditExportInput): Promise<AuditExport> {
  const size = await tx.audit.leafCount();
  const receipts = async (direction: "inbound" | "outbound"): Promise<ExportedReceipt[]> =>
    (await tx.envelopes.withReceipts(direction)).map((r) => ({
      envelopeId: r.envelope_id,
      caseId: r.case_id,
      type: r.type,
      envelopeDigest: r.digest,
      from: r.from_authority,
      to: r.to_authority,
      jws: r.receipt!,
    }));
  const leaves = await tx.audit.leafHashes(0, size);
  const checkpoints = (await allCheckpoints(tx)).filter((c) => c.size <= size);
  return {
    "valise-audit-export": AUDIT_EXPORT_VERSION,
    authority: input.authority,
    origin: checkpointOrigin(input.authority),
    exportedAt: input.now.toISOString(),
    entries: await readEntries(tx, 0, size),
    leafHashes: leaves.map((leaf) => leaf.toString("base64")),
    checkpoints: checkpoints.map((c) => ({ size: c.size, note: c.note, createdAt: c.createdAt, cosignatures: c.cosignatures })),
    receipts: { issued: await receipts("inbound"), held: await receipts("outbound") },
    bundles: { own: input.ownBundle, peers: [...input.peerBundles] },
  };
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
export async function buildSignedAuditExport(store: Store, input: AuditExportInput, signer: LogSigner): Promise<SignedAuditExport> {
  const exported = await store.read((tx) => buildAuditExport(tx, input));
  const size = exported.entries.length;
  const largest = exported.checkpoints.reduce((max, c) => Math.max(max, c.size), 0);
  if (size === 0 || largest >= size) return { exported };
  let signed: StoredCheckpoint;
  let createdAt: string | undefined;
  try {
    [signed, createdAt] = await store.transaction(async (tx) => {
      const head = await signLogHead(tx, signer, size);
      return [head, (await tx.audit.checkpoint(size))?.created_at] as const;
    });
  } catch (error) {
    if (!isValiseError(error) || error.code !== "AUDIT_LOG_TAMPERED") throw error;
    return { exported, refused: error as GatewayError };
  }
  const checkpoint: ExportedCheckpoint = { size, note: signed.note, createdAt: createdAt ?? signer.now.toISOString(), cosignatures: [] };
  const checkpoints = [...exported.checkpoints, checkpoint].sort((a, b) => a.size - b.size);
  return { exported: { ...exported, checkpoints }, signed };
}
