/**
 * Crash-safe file writes: write a temporary file beside the target, fsync it,
 * then rename (or link, to refuse overwriting) it into place, and fsync the
 * folder. A crash leaves either the old file or the new one, never a torn one.
 */
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o644; key files use 0o600). */
  mode?: number;
  /** Replace an existing file (default true). When false and the file exists, throws an `EEXIST` error. */
  overwrite?: boolean;
}

/** Writes `data` to `file` atomically. */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const mode = options.mode ?? 0o644;
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${crypto.randomBytes(6).toString("hex")}.tmp`);
  const fd = fs.openSync(temp, "wx", mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fchmodSync(fd, mode); // umask may have narrowed or widened nothing, but be explicit
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (options.overwrite === false) {
      fs.linkSync(temp, file); // atomic "create if absent": fails with EEXIST
      fs.unlinkSync(temp);
    } else {
      fs.renameSync(temp, file);
    }
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  syncFolder(dir);
}

/** fsyncs a folder so that renames inside it are durable (best effort where unsupported). */
export function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
