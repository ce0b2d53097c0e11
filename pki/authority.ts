/**
 * Authority identity: the id (`CC-NAME[-NAME…]`) and the SAN URI that binds a
 * certificate to it. The URI, never the CN, is what Valise matches.
 */
import { PkiError } from "./errors.js";
import type { ParsedCertificate } from "./certificate.js";

/** Regex source of an authority id: ISO 3166-1 alpha-2 then 1–3 upper-case words. */
export const AUTHORITY_ID_PATTERN = "^[A-Z]{2}(-[A-Z0-9]{2,16}){1,3}$";

const AUTHORITY_ID_REGEX = new RegExp(AUTHORITY_ID_PATTERN);

/** Prefix of the SAN URI every certificate of an authority carries. */
export const AUTHORITY_URI_PREFIX = "urn:valise:authority:";

/** True when `id` is a well-formed authority id. */
export function isAuthorityId(id: unknown): id is string {
  return typeof id === "string" && AUTHORITY_ID_REGEX.test(id);
}

/**
 * Throws `PKI_INVALID_AUTHORITY_ID` unless `id` is a well-formed authority id.
 * Guards file names and URIs built from operator or peer input.
 */
export function assertAuthorityId(id: unknown): asserts id is string {
  if (!isAuthorityId(id)) {
    throw new PkiError("PKI_INVALID_AUTHORITY_ID", `Invalid authority id ${JSON.stringify(id)}: expected e.g. GB-UKCA.`, {
      details: { authority: typeof id === "string" ? id.slice(0, 64) : typeof id },
    });
  }
}

/** `urn:valise:authority:<ID>` for a (checked) authority id. */
export function authorityUri(id: string): string {
  assertAuthorityId(id);
  return AUTHORITY_URI_PREFIX + id;
}

/**
 * The authority id named by the certificate's SAN URI `urn:valise:authority:<ID>`.
 * Throws `PKI_AUTHORITY_URI` when there is none or more than one such URI
 * (a certificate naming two authorities is ambiguous, hence hostile), and
 * `PKI_INVALID_AUTHORITY_ID` when the id after the prefix is malformed.
 */
export function authorityOfCertificate(cert: Pick<ParsedCertificate, "san">): string {
  const uris = cert.san.uris.filter((uri) => uri.toLowerCase().startsWith(AUTHORITY_URI_PREFIX));
  if (uris.length !== 1) {
    throw new PkiError("PKI_AUTHORITY_URI", `Expected exactly one ${AUTHORITY_URI_PREFIX} SAN URI, found ${uris.length}.`, {
      details: { count: uris.length },
    });
  }
  const id = (uris[0] as string).slice(AUTHORITY_URI_PREFIX.length);
  assertAuthorityId(id);
  return id;
}
