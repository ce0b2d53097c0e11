/**
 * Where requirements profiles are kept: signed files in the home, one per
 * version, never rewritten.
 *
 * ```
 * requirements/<version>.json                     this authority's published versions
 * peers/requirements/<AUTHORITY-ID>/<version>.json every version of a peer's profile seen
 * ```
 *
 * The highest version is the one in force. Files are written atomically and
 * refuse to replace an existing version, so a version, once held, means one
 * document for good — the receiver's re-check of a request names it. Every
 * file was verified before it was shelved; reading one checks it again
 * against its schema (a profile from an older Valise, or a hand-edited file,
 * is refused rather than half-applied).
 */
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../../pki/atomic-file.js";
import { assertAuthorityId } from "../../pki/authority.js";
import { GatewayError } from "../errors.js";
import type { HomePaths } from "../home.js";
import type { DocumentValidator } from "../../schemas/validate.js";
import { checkProfile, type CompiledProfile } from "./profile.js";
import { decodeSignedProfile, type SignedProfileFile } from "./signed-profile.js";

/** A shelved version: the signed file and the checked profile it carries. */
export interface ShelvedProfile {
  readonly file: SignedProfileFile;
  readonly compiled: CompiledProfile;
}

/** The folder of this authority's own versions. */
export function ownShelf(paths: HomePaths): string {
  return path.join(paths.root, "requirements");
}

/** The folder of the versions of `authority`'s profile seen. */
export function peerShelf(paths: HomePaths, authority: string): string {
  assertAuthorityId(authority); // the id becomes a folder name: no path traversal
  return path.join(paths.peers, "requirements", authority);
}

/** The versions on a shelf, lowest first (none when the folder does not exist). */
export function shelvedVersions(dir: string): number[] {
  // No exception for a missing folder: a peer without a profile is the common case, asked on every request sent.
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (stat === undefined) return [];
  const key = `${stat.ino}:${stat.mtimeMs}`;
  const known = listings.get(dir);
  if (known !== undefined && known.key === key) return [...known.versions];
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const versions = files
    .map((file) => /^([1-9][0-9]{0,9})\.json$/.exec(file)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  // Remembered only once the folder's mtime is safely in the past: a version
  // added within the file system's timestamp granularity of the listing
  // would otherwise leave the folder's mtime unchanged and go unseen.
  if (Date.now() - stat.mtimeMs > RECENT_MS) listings.set(dir, { key, versions });
  return [...versions];
}

/*
 * Every request sent and received is checked against a profile on a shelf:
 * without these, each did a readdir, a read, a JSON parse, a signature
 * decode and a schema check of the same file. A listing is remembered by
 * the folder's inode and mtime (a version added changes it); a profile by
 * its file's inode, size and mtime (versions are written once, by rename).
 * A CLI process adding a version is seen by the running gateway at once.
 */
const RECENT_MS = 2_000;
const listings = new Map<string, { readonly key: string; readonly versions: readonly number[] }>();
const profiles = new Map<string, { readonly key: string; readonly validator: DocumentValidator; readonly shelved: ShelvedProfile }>();

export function latestVersion(dir: string): number | undefined {
  return shelvedVersions(dir).at(-1);
}

/** Reads version `version` of a shelf; undefined when it is not there. */
export function readShelved(dir: string, version: number, validator: DocumentValidator): ShelvedProfile | undefined {
  const file = path.join(dir, `${version}.json`);
  let text: string;
  let key: string;
  try {
    const stat = fs.statSync(file);
    key = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    const known = profiles.get(file);
    if (known !== undefined && known.key === key && known.validator === validator) return known.shelved;
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const signed = JSON.parse(text) as SignedProfileFile;
    const compiled = checkProfile(validator, decodeSignedProfile(signed).payload, { shelved: true });
    if (compiled.profile.version !== version) throw new Error(`${file} holds version ${compiled.profile.version}`);
    const shelved = { file: signed, compiled };
    profiles.set(file, { key, validator, shelved });
    return shelved;
  } catch (cause) {
    throw new GatewayError("STORE_CORRUPT", `${file} is not a usable requirements profile`, { cause, details: { path: file } });
  }
}

/** The version in force on a shelf, or undefined when the shelf is empty. */
export function readLatest(dir: string, validator: DocumentValidator): ShelvedProfile | undefined {
  const version = latestVersion(dir);
  return version === undefined ? undefined : readShelved(dir, version, validator);
}

/**
 * Shelves a verified, checked profile as version `version`. Refuses
 * (`REQUIREMENTS_STALE`) a version lower than the latest, and the same
 * version with other content; the same version with the same signed bytes
 * is a no-op (returns false).
 */
export function shelve(dir: string, version: number, file: SignedProfileFile): boolean {
  const latest = latestVersion(dir);
  const stale = (held: number): GatewayError =>
    new GatewayError("REQUIREMENTS_STALE", `version ${version} is not newer than version ${held}, already held; the profile in force is unchanged`, { details: { held, offered: version } });
  if (latest !== undefined && version < latest) throw stale(latest);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const target = path.join(dir, `${version}.json`);
  const text = `${JSON.stringify(file, null, 2)}\n`;
  try {
    writeFileAtomic(target, text, { mode: 0o644, overwrite: false });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const held = JSON.parse(fs.readFileSync(target, "utf8")) as SignedProfileFile;
    if (decodedPayloadEqual(held, file)) return false;
    throw stale(version);
  }
}

/** Two signed files carry the same profile (a re-signature of the same version is not a change). */
function decodedPayloadEqual(a: SignedProfileFile, b: SignedProfileFile): boolean {
  return a.jws.split(".")[1] === b.jws.split(".")[1];
}
