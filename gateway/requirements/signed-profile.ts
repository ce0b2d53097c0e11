/**
 * A requirements profile as it is published: `{ "valise-requirements": 1,
 * "jws": "<compact JWS>" }`, the JWS signed by the authority's current `sign`
 * key over the profile's RFC 8785 canonical JSON, its protected header
 * `{alg, typ: "valise-requirements+jws", kid, x5c}` (like a trust bundle).
 *
 * A fetched profile is hostile until verified: the peer API is reached over
 * mutual TLS, but a profile is also stored and re-served, so its signature,
 * not the channel, says who wrote it. Only the peer's current `sign`
 * certificate (from its pinned trust bundle) is accepted: a key the peer has
 * rotated away from, or one merely chaining to its root, must not be able to
 * rewrite what the peer requires.
 */
import { CompactSign, compactVerify, decodeProtectedHeader } from "jose";
import { jwkThumbprint } from "../../pki/keys.js";
import { validateCertificatePath } from "../../pki/path.js";
import type { ParsedCertificate } from "../../pki/certificate.js";
import type { CrlInput } from "../../pki/crl.js";
import { GatewayError } from "../errors.js";
import { canonicalBytes } from "../envelope/canonical-json.js";
import { isSigningAlgorithm, signingAlgorithmFor } from "../envelope/algorithms.js";
import type { EnvelopeSigner } from "../envelope/seal.js";
import { encodeX5c } from "../envelope/x5c.js";

/** `typ` of a profile's JWS. */
export const PROFILE_TYP = "valise-requirements+jws";

/** The largest profile file accepted (a profile is a few KiB of text). */
export const MAX_PROFILE_BYTES = 256 * 1024;

/** A signed profile file. */
export interface SignedProfileFile {
  readonly "valise-requirements": 1;
  readonly jws: string;
}

/** What a profile must be signed by: the authority's current `sign` certificate and its trust material. */
export interface ProfileSigner {
  readonly authority: string;
  readonly certificate: ParsedCertificate;
  readonly root: ParsedCertificate;
  readonly crl: CrlInput;
}

function malformed(message: string): GatewayError {
  return new GatewayError("REQUIREMENTS_INVALID", message, { details: { errors: [{ path: "", message }] } });
}

/**
 * Signs `profile` (already checked) with `signer`, the authority's current sign key.
 *
 * @example const file = await signProfile(profile, ctx.identity.signer);
 */
export async function signProfile(profile: object, signer: Required<EnvelopeSigner>): Promise<SignedProfileFile> {
  const jws = await new CompactSign(canonicalBytes(profile as never))
    .setProtectedHeader({ alg: signingAlgorithmFor(signer.privateKey), typ: PROFILE_TYP, kid: signer.kid, x5c: encodeX5c(signer.certificates) })
    .sign(signer.privateKey);
  return { "valise-requirements": 1, jws };
}

/**
 * The payload and header of a signed profile, WITHOUT checking the signature
 * (for a profile this gateway stored after verifying it, and to find which
 * authority a file claims to be). Throws `REQUIREMENTS_INVALID` when the file
 * is not one.
 */
export function decodeSignedProfile(file: unknown): { header: Record<string, unknown>; payload: unknown } {
  const record = file as Partial<SignedProfileFile> | null;
  if (typeof record !== "object" || record === null || Array.isArray(record) || record["valise-requirements"] !== 1 || typeof record.jws !== "string") {
    throw malformed('not a signed requirements profile ({"valise-requirements": 1, "jws": "…"})');
  }
  if (Object.keys(record).length !== 2) throw malformed("a signed requirements profile has only the members valise-requirements and jws");
  if (record.jws.length > MAX_PROFILE_BYTES) throw malformed(`the signed profile exceeds ${MAX_PROFILE_BYTES} bytes`);
  const parts = record.jws.split(".");
  if (parts.length !== 3) throw malformed("the profile's JWS is not a compact JWS");
  try {
    const header = decodeProtectedHeader(record.jws) as Record<string, unknown>;
    const payload = JSON.parse(Buffer.from(parts[1] as string, "base64url").toString("utf8")) as unknown;
    return { header, payload };
  } catch {
    throw malformed("the profile's JWS does not decode");
  }
}

/**
 * Verifies that `file` is signed by `expected.certificate` — the current
 * sign certificate of `expected.authority`, still valid at `now` under its
 * root and CRL — and returns the (unchecked) profile it carries.
 *
 * @throws GatewayError `REQUIREMENTS_INVALID` (not a signed profile),
 *   `REQUIREMENTS_SIGNATURE` (algorithm, typ, key or signature).
 */
export async function verifySignedProfile(file: unknown, expected: ProfileSigner, now: Date): Promise<unknown> {
  const { header, payload } = decodeSignedProfile(file);
  const refuse = (reason: string, cause?: unknown): never => {
    throw new GatewayError("REQUIREMENTS_SIGNATURE", `the requirements profile is not signed by ${expected.authority}'s current sign key: ${reason}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { authority: expected.authority, reason },
    });
  };
  // Algorithm confusion (`none`, HS256 keyed with the public key): refused before any key is used.
  if (!isSigningAlgorithm(header["alg"])) refuse("the algorithm is not EdDSA, ES256 or ES384");
  if (header["typ"] !== PROFILE_TYP) refuse(`typ is not ${PROFILE_TYP}`);
  try {
    validateCertificatePath({ certificate: expected.certificate, trustedRoot: expected.root, crl: expected.crl, use: "sign", expectedAuthority: expected.authority, at: now });
  } catch (error) {
    refuse("the current sign certificate is not valid now", error);
  }
  const kid = await jwkThumbprint(expected.certificate.publicKey);
  if (header["kid"] !== kid) refuse("it names another key (kid) than the current sign certificate's");
  try {
    await compactVerify((file as SignedProfileFile).jws, expected.certificate.publicKey, { algorithms: [header["alg"] as string] });
  } catch (error) {
    refuse("the signature does not verify", error);
  }
  return payload;
}
