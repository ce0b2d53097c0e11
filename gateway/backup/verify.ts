/**
 * `valise backup verify`: checks a backup archive offline, from the file
 * alone (and the root fingerprint the operator pins, when given). Also the
 * reading half of a restore, which extracts only what this check passed.
 *
 * The archive is hostile. In order: the tar structure (ustar headers with
 * good checksums, regular files only, every name inside the backup's layout,
 * each at most once, nothing after the signature) — BACKUP_MALFORMED, or
 * BACKUP_TRUNCATED when it ends early; the manifest parses (BACKUP_MALFORMED);
 * its signature verifies with the archived `log` certificate, which chains
 * to the archived root (BACKUP_SIGNATURE_INVALID), and that root is the one
 * pinned (BACKUP_FOREIGN); then every file's size and SHA-256 are the
 * manifest's and the archive holds exactly the files it lists
 * (BACKUP_DIGEST_MISMATCH). Memory stays flat: files are hashed as they
 * stream by; only the PKI's small files are kept, to check the signature.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { GatewayError } from "../errors.js";
import { readTar, type TarSink } from "./tar.js";
import { HOME_PREFIX, MANIFEST_NAME, MAX_MANIFEST_BYTES, SIGNATURE_NAME, isHomePath, parseManifest, verifyManifestSignature, type BackupManifest } from "./manifest.js";

/** Largest PKI file or configuration kept in memory for the checks. */
const SMALL_FILE_BYTES = 1024 * 1024;

/** Options of {@link verifyBackup}. */
export interface VerifyBackupOptions {
  /** The authority's root fingerprint, given out of band: the archive must be that root's. */
  readonly expectedFingerprint?: string;
  /** Write every home file here as it is read (a restore's staging folder); refused archives leave it to be removed. */
  readonly extractTo?: string;
}

/** A backup that verified. */
export interface VerifiedBackup {
  readonly manifest: BackupManifest;
  /** The archived valise.json, parsed (its store location, for a restore). */
  readonly config: Record<string, unknown>;
}

/** Verifies the archive at `file`; see the module comment for the codes. */
export function verifyBackup(file: string, options: VerifyBackupOptions = {}): VerifiedBackup {
  const found = new Map<string, { size: number; sha256: string }>();
  const small = new Map<string, Buffer>();
  let manifest: Buffer | undefined;
  let signature: Buffer | undefined;
  readTar(file, (entry): TarSink => {
    if (signature !== undefined) throw malformed(`${entry.name.slice(0, 200)} follows the signature`);
    if (entry.name === MANIFEST_NAME || entry.name === SIGNATURE_NAME) {
      if (entry.name === SIGNATURE_NAME && manifest === undefined) throw malformed("the signature comes before the manifest");
      if (entry.name === MANIFEST_NAME && manifest !== undefined) throw malformed("two manifests");
      const limit = entry.name === MANIFEST_NAME ? MAX_MANIFEST_BYTES : 4096;
      if (entry.size > limit) throw malformed(`${entry.name} is too large`);
      return collect((bytes) => {
        if (entry.name === MANIFEST_NAME) manifest = bytes;
        else signature = bytes;
      });
    }
    if (manifest !== undefined) throw malformed(`${entry.name.slice(0, 200)} follows the manifest`);
    const path = entry.name.startsWith(HOME_PREFIX) ? entry.name.slice(HOME_PREFIX.length) : "";
    if (!isHomePath(path)) throw malformed(`an entry outside the backup's layout: ${entry.name.slice(0, 200)}`);
    if (found.has(path)) throw malformed(`${path} appears twice`);
    const hash = createHash("sha256");
    const keep = (path.startsWith("pki/") || path === "valise.json") && entry.size <= SMALL_FILE_BYTES ? ([] as Buffer[]) : undefined;
    const out = options.extractTo === undefined ? undefined : openFor(join(options.extractTo, path), entry.mode);
    let size = 0;
    return {
      write(piece) {
        hash.update(piece);
        size += piece.length;
        keep?.push(Buffer.from(piece));
        if (out !== undefined) writeAll(out, piece);
      },
      end() {
        found.set(path, { size, sha256: hash.digest("hex") });
        if (keep !== undefined) small.set(path, Buffer.concat(keep));
        if (out !== undefined) {
          fsyncSync(out);
          closeSync(out);
        }
      },
    };
  });
  if (manifest === undefined) {
    if (found.size > 0) throw new GatewayError("BACKUP_TRUNCATED", "the backup archive ends before its manifest", { details: { files: found.size } });
    throw malformed("no manifest");
  }
  if (signature === undefined) throw new GatewayError("BACKUP_TRUNCATED", "the backup archive ends before the manifest's signature");
  const parsed = parseManifest(manifest);
  verifyManifestSignature(parsed, manifest, signature, small, options.expectedFingerprint);
  const listed = new Map(parsed.files.map((f) => [f.path, f]));
  for (const [path, file] of listed) {
    const got = found.get(path);
    if (got === undefined) throw mismatch(path, "listed in the manifest but not in the archive");
    if (got.size !== file.size || got.sha256 !== file.sha256) throw mismatch(path, "differs from its SHA-256 in the manifest");
  }
  for (const path of found.keys()) if (!listed.has(path)) throw mismatch(path, "is in the archive but not in the manifest");
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(small.get("valise.json")?.toString("utf8") ?? "") as Record<string, unknown>;
  } catch {
    throw malformed("the archived valise.json is not JSON");
  }
  if (config["authority"] !== parsed.authority) throw new GatewayError("BACKUP_FOREIGN", "the archived configuration names another authority than the manifest");
  return { manifest: parsed, config };
}

function collect(done: (bytes: Buffer) => void): TarSink {
  const pieces: Buffer[] = [];
  return {
    write: (piece) => void pieces.push(Buffer.from(piece)),
    end: () => done(Buffer.concat(pieces)),
  };
}

/** A new file for extraction; never group- or world-writable, keys and the database stay 0600. */
function openFor(path: string, mode: number): number {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  return openSync(path, "wx", mode & 0o755);
}

function writeAll(fd: number, data: Buffer): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

function malformed(reason: string): GatewayError {
  return new GatewayError("BACKUP_MALFORMED", `not a Valise backup archive: ${reason}`, { details: { reason } });
}

function mismatch(path: string, what: string): GatewayError {
  return new GatewayError("BACKUP_DIGEST_MISMATCH", `the backup was changed: ${path} ${what}`, { details: { path } });
}
