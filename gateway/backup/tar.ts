/**
 * A minimal POSIX ustar writer and reader for backup archives: regular files
 * only, written and read in 1 MiB pieces (memory stays flat whatever the
 * database's size), hashed with SHA-256 as they pass. Sizes of 8 GiB and
 * more use the GNU base-256 size field, which GNU tar and bsdtar read.
 *
 * The reader is given hostile bytes (an archive from anywhere): every header
 * checksum is checked, only regular files are accepted (a symbolic or hard
 * link, a device or a folder entry is refused, so nothing can point outside
 * the restore folder), and a file or the archive cut short is named as
 * truncated rather than read as empty. Names are returned as written; the
 * caller decides which ones belong to its layout.
 */
import { closeSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { createHash } from "node:crypto";
import { GatewayError } from "../errors.js";

const BLOCK = 512;
const PIECE = 1024 * 1024;
const OCTAL_SIZE_LIMIT = 8 ** 11; // 11 octal digits

/** A file as written into the archive. */
export interface TarWritten {
  readonly size: number;
  /** Lowercase hex SHA-256 of the bytes written. */
  readonly sha256: string;
}

/** Writes a tar archive to a file descriptor, one regular file at a time. */
export class TarWriter {
  readonly #fd: number;
  readonly #mtime: number;

  /** `mtime`: the time stamped on every entry (seconds), so an archive's bytes depend only on its content and this time. */
  constructor(fd: number, mtime: Date) {
    this.#fd = fd;
    this.#mtime = Math.floor(mtime.getTime() / 1000);
  }

  /** Adds `name` with the bytes of `data`. */
  addBuffer(name: string, data: Buffer, mode = 0o600): TarWritten {
    this.#header(name, data.length, mode);
    writeAll(this.#fd, data);
    this.#pad(data.length);
    return { size: data.length, sha256: createHash("sha256").update(data).digest("hex") };
  }

  /**
   * Adds `name` with the first `size` bytes of the file at `path` (its whole
   * length when `size` is omitted), copied in pieces. The file must not
   * shrink while it is copied (BACKUP_TRUNCATED otherwise).
   */
  addFile(name: string, path: string, size: number, mode = 0o600): TarWritten {
    this.#header(name, size, mode);
    const hash = createHash("sha256");
    const source = openSync(path, "r");
    try {
      const buffer = Buffer.alloc(Math.min(PIECE, Math.max(size, 1)));
      let done = 0;
      while (done < size) {
        const n = readSync(source, buffer, 0, Math.min(buffer.length, size - done), done);
        if (n === 0) throw new GatewayError("BACKUP_TRUNCATED", `${path} became shorter while it was archived`, { details: { name } });
        const piece = buffer.subarray(0, n);
        hash.update(piece);
        writeAll(this.#fd, piece);
        done += n;
      }
    } finally {
      closeSync(source);
    }
    this.#pad(size);
    return { size, sha256: hash.digest("hex") };
  }

  /** Writes the end-of-archive marker (two zero blocks) and fsyncs. */
  finish(): void {
    writeAll(this.#fd, Buffer.alloc(2 * BLOCK));
    fsyncSync(this.#fd);
  }

  #header(name: string, size: number, mode: number): void {
    const header = Buffer.alloc(BLOCK);
    const [prefix, base] = splitName(name);
    header.write(base, 0, 100, "utf8");
    writeOctal(header, 100, 8, mode);
    writeOctal(header, 108, 8, 0);
    writeOctal(header, 116, 8, 0);
    writeSize(header, size);
    writeOctal(header, 136, 12, this.#mtime);
    header.fill(0x20, 148, 156); // checksum field counts as spaces
    header.write("0", 156, 1, "ascii");
    header.write("ustar\u000000", 257, 8, "binary");
    header.write("valise", 265, 32, "ascii");
    header.write("valise", 297, 32, "ascii");
    header.write(prefix, 345, 155, "utf8");
    const sum = header.reduce((total, byte) => total + byte, 0);
    header.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "binary");
    writeAll(this.#fd, header);
  }

  #pad(size: number): void {
    const rest = size % BLOCK;
    if (rest !== 0) writeAll(this.#fd, Buffer.alloc(BLOCK - rest));
  }
}

/** An entry's header, as read. */
export interface TarEntry {
  readonly name: string;
  readonly size: number;
  readonly mode: number;
}

/** Where an entry's bytes go, in order; `end` after the last piece. */
export interface TarSink {
  write(piece: Buffer): void;
  end(): void;
}

/**
 * Reads the archive at `path`, calling `onEntry` for each regular file and
 * streaming its bytes to the sink it returns. Throws BACKUP_MALFORMED (a
 * header that is not ustar, a bad checksum, a non-file entry) or
 * BACKUP_TRUNCATED (the file ends inside an entry or before the
 * end-of-archive marker).
 */
export function readTar(path: string, onEntry: (entry: TarEntry) => TarSink): void {
  const fd = openSync(path, "r");
  try {
    let offset = 0;
    const header = Buffer.alloc(BLOCK);
    const piece = Buffer.alloc(PIECE);
    for (;;) {
      const got = readSync(fd, header, 0, BLOCK, offset);
      if (offset === 0 && got < BLOCK) throw malformed("the file is too short to be a tar archive");
      if (got === 0) throw truncated("the archive ends without its end-of-archive marker");
      if (got < BLOCK) throw truncated("the archive ends inside a header");
      offset += BLOCK;
      if (header.every((byte) => byte === 0)) return; // end of archive (the second zero block is not required)
      const entry = parseHeader(header, offset - BLOCK);
      const sink = onEntry(entry);
      let left = entry.size;
      while (left > 0) {
        const n = readSync(fd, piece, 0, Math.min(PIECE, left), offset);
        if (n === 0) throw truncated(`the archive ends inside ${entry.name}`);
        sink.write(piece.subarray(0, n));
        offset += n;
        left -= n;
      }
      sink.end();
      const rest = entry.size % BLOCK;
      if (rest !== 0) offset += BLOCK - rest;
    }
  } finally {
    closeSync(fd);
  }
}

function parseHeader(header: Buffer, offset: number): TarEntry {
  if (header.toString("binary", 257, 262) !== "ustar") throw malformed(offset === 0 ? "the file is not a tar archive" : "an entry header is not ustar");
  const stored = parseOctal(header.subarray(148, 156));
  const sum = header.reduce((total, byte, i) => total + (i >= 148 && i < 156 ? 0x20 : byte), 0);
  if (stored !== sum) throw malformed("an entry header's checksum is wrong");
  const type = header.toString("binary", 156, 157);
  const name = cString(header.subarray(0, 100));
  const prefix = cString(header.subarray(345, 500));
  const full = prefix === "" ? name : `${prefix}/${name}`;
  // Only regular files: a link or device in a hostile archive could point the restore anywhere.
  if (type !== "0" && type !== "\u0000") throw malformed(`${full.slice(0, 200)} is not a regular file (type ${JSON.stringify(type)})`);
  return { name: full, size: parseSize(header.subarray(124, 136)), mode: parseOctal(header.subarray(100, 108)) & 0o777 };
}

function splitName(name: string): [string, string] {
  if (Buffer.byteLength(name) <= 100) return ["", name];
  const cut = name.lastIndexOf("/", name.length - 1);
  const prefix = name.slice(0, cut);
  const base = name.slice(cut + 1);
  if (cut <= 0 || Buffer.byteLength(prefix) > 155 || Buffer.byteLength(base) > 100) {
    throw new GatewayError("INTERNAL", `a file name too long for a tar archive: ${name.slice(0, 80)}…`);
  }
  return [prefix, base];
}

function writeOctal(header: Buffer, at: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, "0")}\u0000`, at, width, "ascii");
}

function writeSize(header: Buffer, size: number): void {
  if (size < OCTAL_SIZE_LIMIT) {
    writeOctal(header, 124, 12, size);
    return;
  }
  // GNU base-256: the high bit of the first byte set, then the size big-endian.
  header.fill(0, 124, 136);
  header[124] = 0x80;
  header.writeBigUInt64BE(BigInt(size), 128);
}

function parseSize(field: Buffer): number {
  if ((field[0]! & 0x80) !== 0) {
    const size = Number(field.readBigUInt64BE(4));
    if (!Number.isSafeInteger(size) || field.subarray(1, 4).some((byte) => byte !== 0)) throw malformed("an entry's size is out of range");
    return size;
  }
  return parseOctal(field);
}

function parseOctal(field: Buffer): number {
  const text = cString(field).trim();
  if (!/^[0-7]{1,12}$/.test(text)) throw malformed("an entry header holds a malformed number");
  return parseInt(text, 8);
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString("utf8");
}

function writeAll(fd: number, data: Buffer): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

function malformed(reason: string): GatewayError {
  return new GatewayError("BACKUP_MALFORMED", `not a Valise backup archive: ${reason}`, { details: { reason } });
}

function truncated(reason: string): GatewayError {
  return new GatewayError("BACKUP_TRUNCATED", `the backup archive is cut short: ${reason}`, { details: { reason } });
}
