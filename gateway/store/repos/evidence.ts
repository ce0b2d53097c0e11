/**
 * Evidence packages and their items (`evidence_packages`, `evidence_items`).
 * Item states: outbound `queued → receipted | failed`; inbound
 * `receiving → received`. Outbound items are uploaded under a per-row lease,
 * so one instance uploads an item at a time and another resumes it if that
 * one dies.
 */
import type { Sql } from "../sql.js";

/** Item states. */
export type ItemState = "queued" | "receipted" | "failed" | "receiving" | "received";

/** Package states: outbound `sending → delivered | failed`; inbound `receiving → received`. */
export type PackageState = "sending" | "delivered" | "failed" | "receiving" | "received";

/** One item with its package and the manifest envelope's digest. */
export interface ItemRow {
  readonly package_id: string;
  readonly item_id: string;
  readonly position: number;
  readonly name: string;
  readonly media_type: string;
  readonly size: number;
  readonly sha256: string;
  readonly chunk_size: number;
  readonly sealed_size: number;
  readonly item_key: Buffer;
  readonly nonce_prefix: Buffer;
  readonly state: ItemState;
  readonly acked_bytes: number;
  readonly sent_bytes: number;
  readonly source_path: string | null;
  readonly source_stat: string | null;
  readonly sealed_sha256: string | null;
  readonly receipt: string | null;
  readonly received_at: string | null;
  readonly attempts: number;
  readonly next_attempt_at: number;
  readonly last_error: string | null;
  readonly updated_at: string;
  readonly case_id: string;
  readonly direction: "outbound" | "inbound";
  readonly peer: string;
  readonly envelope_id: string;
  /** Null for attachments (they complete no step). */
  readonly completes: string | null;
  readonly purpose: PackagePurpose;
  readonly package_state: PackageState;
  readonly envelope_digest: string;
}

/** What a package carries: evidence (a manifest envelope) or the attachments of a document (a request, a status update). */
export type PackagePurpose = "evidence" | "attachments";

/** A package row with its manifest document and the manifest's delivery state. */
export interface PackageRow {
  package_id: string;
  case_id: string;
  direction: "outbound" | "inbound";
  peer: string;
  envelope_id: string;
  purpose: PackagePurpose;
  completes: string | null;
  state: PackageState;
  created_at: string;
  finished_at: string | null;
  digest: string;
  document: string;
  outbox_state: string | null;
}

/** An item as inserted with its package. */
export interface NewItem {
  readonly itemId: string;
  readonly position: number;
  readonly name: string;
  readonly mediaType: string;
  readonly size: number;
  readonly sha256: string;
  readonly chunkSize: number;
  readonly sealedSize: number;
  readonly key: Buffer;
  readonly noncePrefix: Buffer;
  readonly sourcePath: string | null;
  readonly sourceStat: string | null;
}

const ITEM_SELECT = `SELECT i.*, p.case_id, p.direction, p.peer, p.envelope_id, p.completes, p.purpose, p.state AS package_state, e.digest AS envelope_digest
  FROM evidence_items i JOIN evidence_packages p ON p.package_id = i.package_id JOIN envelopes e ON e.envelope_id = p.envelope_id`;

/** Evidence packages and items. */
export class EvidenceRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Stores a package and its items (`STORE_DUPLICATE` if an id exists). */
  async insertPackage(p: {
    packageId: string;
    caseId: string;
    direction: "outbound" | "inbound";
    peer: string;
    envelopeId: string;
    /** Null for attachments. */
    completes: string | null;
    purpose?: PackagePurpose;
    createdAt: string;
    items: readonly NewItem[];
  }): Promise<void> {
    const outbound = p.direction === "outbound";
    await this.#sql.run("INSERT INTO evidence_packages (package_id, case_id, direction, peer, envelope_id, purpose, completes, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
      p.packageId,
      p.caseId,
      p.direction,
      p.peer,
      p.envelopeId,
      p.purpose ?? "evidence",
      p.completes,
      outbound ? "sending" : "receiving",
      p.createdAt,
    ]);
    for (const item of p.items) {
      await this.#sql.run(
        `INSERT INTO evidence_items (package_id, item_id, position, name, media_type, size, sha256, chunk_size, sealed_size, item_key, nonce_prefix, state, source_path, source_stat, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          p.packageId,
          item.itemId,
          item.position,
          item.name,
          item.mediaType,
          item.size,
          item.sha256,
          item.chunkSize,
          item.sealedSize,
          item.key,
          item.noncePrefix,
          outbound ? "queued" : "receiving",
          item.sourcePath,
          item.sourceStat,
          p.createdAt,
        ],
      );
    }
  }

  /** Item `itemId` of package `packageId`. */
  item(packageId: string, itemId: string): Promise<ItemRow | undefined> {
    return this.#sql.get<ItemRow>(`${ITEM_SELECT} WHERE i.package_id = ? AND i.item_id = ?`, [packageId, itemId]);
  }

  /** Item `itemId` of case `caseId`. */
  itemOfCase(caseId: string, itemId: string): Promise<ItemRow | undefined> {
    return this.#sql.get<ItemRow>(`${ITEM_SELECT} WHERE i.item_id = ? AND p.case_id = ?`, [itemId, caseId]);
  }

  /** Every item of a package, in manifest order. */
  itemsOfPackage(packageId: string): Promise<ItemRow[]> {
    return this.#sql.all<ItemRow>(`${ITEM_SELECT} WHERE i.package_id = ? ORDER BY i.position`, [packageId]);
  }

  /** Received items of a case's inbound packages, in package and manifest order. */
  receivedItemsOfCase(caseId: string): Promise<ItemRow[]> {
    return this.#sql.all<ItemRow>(`${ITEM_SELECT} WHERE p.case_id = ? AND p.direction = 'inbound' AND i.state = 'received' ORDER BY p.created_at, i.position`, [caseId]);
  }

  /** The packages of a case (of one purpose) with their manifests, oldest first. */
  packagesOfCase(caseId: string, purpose: PackagePurpose = "evidence"): Promise<PackageRow[]> {
    return this.#sql.all<PackageRow>(
      `SELECT p.*, e.digest, b.document, o.state AS outbox_state FROM evidence_packages p
         JOIN envelopes e ON e.envelope_id = p.envelope_id JOIN envelope_bodies b ON b.envelope_id = p.envelope_id
         LEFT JOIN outbox o ON o.envelope_id = p.envelope_id
        WHERE p.case_id = ? AND p.purpose = ? ORDER BY p.created_at, p.package_id`,
      [caseId, purpose],
    );
  }

  /** A package with its manifest envelope (wire and document), for an export. */
  packageWithManifest(packageId: string): Promise<
    | {
        package_id: string;
        peer: string;
        completes: string;
        created_at: string;
        envelope_id: string;
        digest: string;
        from_authority: string;
        to_authority: string;
        sealed_at: string;
        signer_kid: string;
        document: string;
        wire: string;
      }
    | undefined
  > {
    return this.#sql.get(
      `SELECT p.package_id, p.peer, p.completes, p.created_at, e.envelope_id, e.digest, e.from_authority, e.to_authority, e.created_at AS sealed_at, e.signer_kid, b.document, b.wire
         FROM evidence_packages p JOIN envelopes e ON e.envelope_id = p.envelope_id JOIN envelope_bodies b ON b.envelope_id = p.envelope_id WHERE p.package_id = ?`,
      [packageId],
    );
  }

  /** An outbound package still sending, with its manifest digest. */
  sendingPackage(packageId: string): Promise<{ case_id: string; peer: string; completes: string | null; purpose: PackagePurpose; envelope_id: string; digest: string } | undefined> {
    return this.#sql.get(
      `SELECT p.case_id, p.peer, p.completes, p.purpose, p.envelope_id, e.digest FROM evidence_packages p JOIN envelopes e ON e.envelope_id = p.envelope_id
        WHERE p.package_id = ? AND p.direction = 'outbound' AND p.state = 'sending'`,
      [packageId],
    );
  }

  /** Item count, plaintext bytes and items not in `doneState`, of a package. */
  async tally(packageId: string, doneState: ItemState): Promise<{ n: number; bytes: number; open: number }> {
    const row = await this.#sql.get<{ n: number; bytes: number; open: number | null }>(
      "SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes, SUM(CASE WHEN state <> ? THEN 1 ELSE 0 END) AS open FROM evidence_items WHERE package_id = ?",
      [doneState, packageId],
    );
    return { n: row?.n ?? 0, bytes: row?.bytes ?? 0, open: row?.open ?? 0 };
  }

  /** Sets a package's state (and finished time); false if it was not in `from`. */
  async finishPackage(packageId: string, from: PackageState, to: PackageState, at: string): Promise<boolean> {
    return (await this.#sql.run("UPDATE evidence_packages SET state = ?, finished_at = ? WHERE package_id = ? AND state = ?", [to, at, packageId, from])).changes > 0;
  }

  /** Outbound packages still sending whose manifest failed for good. */
  packagesWithFailedManifest(): Promise<Array<{ package_id: string; case_id: string; envelope_id: string; digest: string; last_error: string | null }>> {
    return this.#sql.all(
      `SELECT p.package_id, p.case_id, p.envelope_id, e.digest, o.last_error FROM evidence_packages p JOIN outbox o ON o.envelope_id = p.envelope_id JOIN envelopes e ON e.envelope_id = p.envelope_id
        WHERE p.direction = 'outbound' AND p.state = 'sending' AND o.state = 'failed'`,
    );
  }

  /** Outbound packages still sending whose every item is receipted. */
  async completePackages(): Promise<string[]> {
    const rows = await this.#sql.all<{ package_id: string }>(
      `SELECT p.package_id FROM evidence_packages p WHERE p.direction = 'outbound' AND p.state = 'sending'
          AND NOT EXISTS (SELECT 1 FROM evidence_items i WHERE i.package_id = p.package_id AND i.state <> 'receipted')`,
    );
    return rows.map((r) => r.package_id);
  }

  /** Fails the queued items of a package. */
  failQueuedItems(packageId: string, error: string, at: string): Promise<unknown> {
    return this.#sql.run("UPDATE evidence_items SET state = 'failed', last_error = ?, updated_at = ? WHERE package_id = ? AND state = 'queued'", [error, at, packageId]);
  }

  /**
   * Claims up to `limit` outbound items due for upload (manifest delivered,
   * not leased by a live instance) for `owner` until `now + leaseMs`.
   */
  async claimDueUploads(owner: string, now: number, leaseMs: number, limit: number, skip: readonly string[] = [], leaseNow = now): Promise<ItemRow[]> {
    const lock = this.#sql.dialect === "postgres" ? "FOR UPDATE OF i SKIP LOCKED" : "";
    const exclude = skip.length === 0 ? "" : `AND i.item_id NOT IN (${skip.map(() => "?").join(", ")})`;
    const claimed = await this.#sql.all<{ item_id: string }>(
      `UPDATE evidence_items SET lease_owner = ?, lease_expires_at = ?
        WHERE item_id IN (SELECT i.item_id FROM evidence_items i JOIN evidence_packages p ON p.package_id = i.package_id JOIN outbox o ON o.envelope_id = p.envelope_id
                           WHERE p.direction = 'outbound' AND i.state = 'queued' AND o.state = 'delivered' AND i.next_attempt_at <= ? AND i.lease_expires_at <= ? ${exclude}
                           ORDER BY p.created_at, i.position LIMIT ? ${lock})
        RETURNING item_id`,
      [owner, leaseNow + leaseMs, now, leaseNow, ...skip, limit],
    );
    if (claimed.length === 0) return [];
    return this.#sql.all<ItemRow>(`${ITEM_SELECT} WHERE i.item_id IN (${claimed.map(() => "?").join(", ")}) ORDER BY p.created_at, i.position`, claimed.map((r) => r.item_id));
  }

  /** Extends `owner`'s lease on an item it is uploading. */
  async renewUpload(itemId: string, owner: string, until: number): Promise<boolean> {
    return (await this.#sql.run("UPDATE evidence_items SET lease_expires_at = ? WHERE item_id = ? AND lease_owner = ? AND state = 'queued'", [until, itemId, owner])).changes > 0;
  }

  /** Upload progress of an outbound item (sealed bytes pushed, and acknowledged). */
  uploadProgress(itemId: string, sent: number, acked: number | null): Promise<unknown> {
    return acked === null
      ? this.#sql.run("UPDATE evidence_items SET sent_bytes = ? WHERE item_id = ? AND state = 'queued'", [sent, itemId])
      : this.#sql.run("UPDATE evidence_items SET acked_bytes = ?, sent_bytes = CASE WHEN sent_bytes > ? THEN sent_bytes ELSE ? END WHERE item_id = ? AND state = 'queued'", [
          acked,
          acked,
          acked,
          itemId,
        ]);
  }

  /** An outbound item receipted; false if it was not queued. */
  async markReceipted(itemId: string, receipt: string, receivedAt: string, at: string): Promise<boolean> {
    const changed = await this.#sql.run(
      `UPDATE evidence_items SET state = 'receipted', receipt = ?, acked_bytes = sealed_size, sent_bytes = sealed_size, received_at = ?, attempts = attempts + 1, last_error = NULL, updated_at = ?,
              lease_owner = NULL, lease_expires_at = 0
        WHERE item_id = ? AND state = 'queued'`,
      [receipt, receivedAt, at, itemId],
    );
    return changed.changes > 0;
  }

  /** An outbound item failed for good; false if it was not queued. */
  async markUploadFailed(itemId: string, attempts: number, error: string, at: string): Promise<boolean> {
    const changed = await this.#sql.run(
      "UPDATE evidence_items SET state = 'failed', attempts = ?, last_error = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = 0 WHERE item_id = ? AND state = 'queued'",
      [attempts, error, at, itemId],
    );
    return changed.changes > 0;
  }

  /** Schedules the next upload attempt and releases the lease. */
  rescheduleUpload(itemId: string, attempts: number, nextAttemptAt: number, error: string, at: string): Promise<unknown> {
    return this.#sql.run(
      "UPDATE evidence_items SET attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = 0 WHERE item_id = ? AND state = 'queued'",
      [attempts, nextAttemptAt, error, at, itemId],
    );
  }

  /** Inbound: bytes durably stored so far. */
  receivedUpTo(itemId: string, offset: number, at: string): Promise<unknown> {
    return this.#sql.run("UPDATE evidence_items SET acked_bytes = ?, updated_at = ? WHERE item_id = ? AND state = 'receiving'", [offset, at, itemId]);
  }

  /** Inbound: the item is complete and verified; false if it was not receiving. */
  async markReceived(itemId: string, sealedSha256: string, at: string): Promise<boolean> {
    const changed = await this.#sql.run(
      "UPDATE evidence_items SET state = 'received', acked_bytes = sealed_size, sealed_sha256 = ?, received_at = ?, updated_at = ?, last_error = NULL WHERE item_id = ? AND state = 'receiving'",
      [sealedSha256, at, at, itemId],
    );
    return changed.changes > 0;
  }

  /** Inbound: a damaged upload is reset to its start. */
  resetReceiving(itemId: string, error: string, at: string): Promise<unknown> {
    return this.#sql.run("UPDATE evidence_items SET acked_bytes = 0, last_error = ?, updated_at = ? WHERE item_id = ? AND state = 'receiving'", [error, at, itemId]);
  }

  /** Records the item receipt issued (inbound) once. */
  setReceipt(itemId: string, receipt: string): Promise<unknown> {
    return this.#sql.run("UPDATE evidence_items SET receipt = ? WHERE item_id = ? AND receipt IS NULL", [receipt, itemId]);
  }

  /** Counts a repeated refusal of an item for `code`; false when it is the first (nothing counted yet). */
  async countRefusal(itemId: string, code: string, at: string): Promise<boolean> {
    const counted = await this.#sql.run(
      `UPDATE evidence_refusals SET total = total + 1, repeats = repeats + 1, repeats_since = COALESCE(repeats_since, ?), last_at = ?
        WHERE item_id = ? AND code = ?`,
      [at, at, itemId, code],
    );
    return counted.changes > 0;
  }

  /** Records the first refusal of an item for `code`. */
  insertRefusal(itemId: string, code: string, at: string): Promise<unknown> {
    return this.#sql.run("INSERT INTO evidence_refusals (item_id, code, first_at, last_at) VALUES (?, ?, ?, ?)", [itemId, code, at, at]);
  }

  /**
   * Refusals repeated since the last summary, with their item's package and
   * manifest; on PostgreSQL locked until the transaction ends, so two
   * instances never summarise the same repeats.
   */
  unsummarisedRefusals(): Promise<
    Array<{ item_id: string; code: string; repeats: number; repeats_since: string; last_at: string; total: number; package_id: string; case_id: string; peer: string; envelope_id: string; digest: string }>
  > {
    return this.#sql.all(
      `SELECT r.item_id, r.code, r.repeats, r.repeats_since, r.last_at, r.total, p.package_id, p.case_id, p.peer, p.envelope_id, e.digest
         FROM evidence_refusals r JOIN evidence_items i ON i.item_id = r.item_id JOIN evidence_packages p ON p.package_id = i.package_id
         JOIN envelopes e ON e.envelope_id = p.envelope_id
        WHERE r.repeats > 0 ORDER BY r.repeats_since, r.item_id, r.code${this.#sql.dialect === "postgres" ? " FOR UPDATE OF r" : ""}`,
    );
  }

  /** Starts counting repeats of a refusal afresh (after its summary). */
  resetRefusalRepeats(itemId: string, code: string): Promise<unknown> {
    return this.#sql.run("UPDATE evidence_refusals SET repeats = 0, repeats_since = NULL WHERE item_id = ? AND code = ?", [itemId, code]);
  }

  /** A re-sealed manifest envelope replaces its original on the package. */
  replaceManifest(oldId: string, newId: string): Promise<unknown> {
    return this.#sql.run("UPDATE evidence_packages SET envelope_id = ? WHERE envelope_id = ?", [newId, oldId]);
  }

  /** When a package was created. */
  async packageCreatedAt(packageId: string): Promise<string | undefined> {
    return (await this.#sql.get<{ created_at: string }>("SELECT created_at FROM evidence_packages WHERE package_id = ?", [packageId]))?.created_at;
  }
}
