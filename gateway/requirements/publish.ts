/**
 * This authority's own profile: published by the operator (`valise
 * requirements set FILE`), signed with the current `sign` key, shelved as a
 * new version, and served to peers on the peer API.
 */
import { GatewayError } from "../errors.js";
import type { HomePaths } from "../home.js";
import type { DocumentValidator } from "../../schemas/validate.js";
import type { EnvelopeSigner } from "../envelope/seal.js";
import type { AuthorityPki } from "../../pki/store.js";
import { jwkThumbprint } from "../../pki/keys.js";
import { checkProfile, type CompiledProfile } from "./profile.js";
import { decodeSignedProfile, signProfile, type SignedProfileFile } from "./signed-profile.js";
import { latestVersion, ownShelf, readLatest, shelve } from "./shelf.js";

/** What publishing needs. */
export interface PublishContext {
  readonly paths: HomePaths;
  readonly validator: DocumentValidator;
  readonly authority: string;
  readonly signer: Required<EnvelopeSigner>;
  readonly now: Date;
}

/** A published version. */
export interface Published {
  readonly version: number;
  /** The version it replaces, or null for the first. */
  readonly previous: number | null;
  readonly file: SignedProfileFile;
  readonly compiled: CompiledProfile;
}

/** The signer of the home's current `sign` key (for the CLI, which has no running gateway). */
export async function homeSigner(pki: AuthorityPki, passphrase: string): Promise<Required<EnvelopeSigner>> {
  const certificate = pki.currentCertificate("sign");
  const privateKey = pki.loadPrivateKey("sign", passphrase, certificate.serial);
  return { privateKey, certificates: [certificate, pki.rootCertificate()], kid: await jwkThumbprint(privateKey) };
}

/**
 * Checks an authored profile (`valise requirements validate` stops here):
 * its schema and rules, and that it is this authority's. `issuedAt` is
 * stamped by {@link publishProfile}.
 */
export function checkAuthoredProfile(validator: DocumentValidator, authority: string, authored: unknown, now: Date): CompiledProfile {
  const stamped = typeof authored === "object" && authored !== null && !Array.isArray(authored) ? { ...authored, issuedAt: now.toISOString() } : authored;
  const compiled = checkProfile(validator, stamped);
  if (compiled.profile.authority !== authority) {
    throw new GatewayError("REQUIREMENTS_INVALID", `the profile is ${compiled.profile.authority}'s, not this gateway's (${authority})`, {
      details: { errors: [{ path: "/authority", message: `must be ${authority}` }] },
    });
  }
  return compiled;
}

/**
 * Publishes `authored` as the next version: {@link prepareProfile}, then
 * shelved. (The CLI shelves it inside the transaction of its audit entry.)
 */
export async function publishProfile(ctx: PublishContext, authored: unknown): Promise<Published> {
  const prepared = await prepareProfile(ctx, authored);
  shelve(ownShelf(ctx.paths), prepared.version, prepared.file);
  return prepared;
}

/**
 * The next version of this authority's profile, checked, stamped with
 * `issuedAt` and signed, not yet shelved (nothing changes). Its `version`
 * must exceed the one in force (`REQUIREMENTS_STALE` otherwise).
 */
export async function prepareProfile(ctx: PublishContext, authored: unknown): Promise<Published> {
  const compiled = checkAuthoredProfile(ctx.validator, ctx.authority, authored, ctx.now);
  const dir = ownShelf(ctx.paths);
  const previous = latestVersion(dir) ?? null;
  const { version } = compiled.profile;
  if (previous !== null && version <= previous) {
    throw new GatewayError("REQUIREMENTS_STALE", `version ${version} is not newer than version ${previous}, in force; raise "version" to publish a change`, {
      details: { held: previous, offered: version },
    });
  }
  const file = await signProfile(compiled.profile, ctx.signer);
  return { version, previous, file, compiled };
}

/**
 * The profile in force, as served to peers: the shelved file, re-signed with
 * the current sign key when it was signed by a key rotated since (peers
 * accept only the current key's signature). `REQUIREMENTS_NOT_FOUND` when
 * none is published.
 */
export async function servedProfile(paths: HomePaths, validator: DocumentValidator, signer: Required<EnvelopeSigner>): Promise<SignedProfileFile> {
  const held = readLatest(ownShelf(paths), validator);
  if (held === undefined) throw new GatewayError("REQUIREMENTS_NOT_FOUND", "this authority publishes no requirements profile (valise requirements set)");
  if (decodeSignedProfile(held.file).header["kid"] === signer.kid) return held.file;
  return signProfile(held.compiled.profile, signer);
}
