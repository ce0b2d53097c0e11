/**
 * Uploads of the local API (`uploads`): files streamed into a draft before
 * a document names them as attachments. States `receiving → complete →
 * attached`; see gateway/attachments/upload.ts.
 */
import type { Sql } from "../sql.js";

/** A row of `uploads`. */
export interface UploadRow {
  upload_id: string;
  token_id: string;
  name: string;
  media_type: string;
  size: number;
  sha256: string | null;
  actual_sha256: string | null;
  received: number;
  state: "receiving" | "complete" | "attached";
  created_at: string;
  completed_at: string | null;
  attached_to: string | null;
}

/** Uploads. */
export class UploadsRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Opens an upload. */
  insert(u: { uploadId: string; tokenId: string; name: string; mediaType: string; size: number; sha256: string | null; createdAt: string }): Promise<unknown> {
    return this.#sql.run("INSERT INTO uploads (upload_id, token_id, name, media_type, size, sha256, state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'receiving', ?)", [
      u.uploadId,
      u.tokenId,
      u.name,
      u.mediaType,
      u.size,
      u.sha256,
      u.createdAt,
    ]);
  }

  /** The upload, if any (PostgreSQL: `forUpdate` locks it until the transaction ends). */
  get(uploadId: string, forUpdate = false): Promise<UploadRow | undefined> {
    return this.#sql.get<UploadRow>(`SELECT * FROM uploads WHERE upload_id = ?${forUpdate && this.#sql.dialect === "postgres" ? " FOR UPDATE" : ""}`, [uploadId]);
  }

  /** Bytes durably written so far (only forward, only while receiving). */
  received(uploadId: string, bytes: number): Promise<unknown> {
    return this.#sql.run("UPDATE uploads SET received = ? WHERE upload_id = ? AND state = 'receiving' AND received <= ?", [bytes, uploadId, bytes]);
  }

  /** Every byte is in and checked. */
  async complete(uploadId: string, actualSha256: string, at: string): Promise<boolean> {
    const done = await this.#sql.run("UPDATE uploads SET state = 'complete', received = size, actual_sha256 = ?, completed_at = ? WHERE upload_id = ? AND state = 'receiving'", [
      actualSha256,
      at,
      uploadId,
    ]);
    return done.changes > 0;
  }

  /** A committed document names it (false if it was not complete and free). */
  async attach(uploadId: string, envelopeId: string): Promise<boolean> {
    return (await this.#sql.run("UPDATE uploads SET state = 'attached', attached_to = ? WHERE upload_id = ? AND state = 'complete'", [envelopeId, uploadId])).changes > 0;
  }

  /** Uploads no document names, opened before `before` (oldest first). */
  unattachedBefore(before: string, limit: number): Promise<Array<Pick<UploadRow, "upload_id" | "created_at" | "state">>> {
    return this.#sql.all("SELECT upload_id, created_at, state FROM uploads WHERE state <> 'attached' AND created_at < ? ORDER BY created_at LIMIT ?", [before, limit]);
  }

  /** Drops an upload that is not attached (e.g. after a digest mismatch). */
  async remove(uploadId: string): Promise<boolean> {
    return (await this.#sql.run("DELETE FROM uploads WHERE upload_id = ? AND state <> 'attached'", [uploadId])).changes > 0;
  }

  /** A token's uploads, newest first, a page after (created_at, upload_id). */
  ofToken(tokenId: string, after: readonly [string, string] | null, limit: number): Promise<UploadRow[]> {
    return this.#sql.all<UploadRow>(
      `SELECT * FROM uploads WHERE token_id = ? ${after === null ? "" : "AND (created_at < ? OR (created_at = ? AND upload_id > ?))"} ORDER BY created_at DESC, upload_id LIMIT ?`,
      after === null ? [tokenId, limit] : [tokenId, after[0], after[0], after[1], limit],
    );
  }
}
