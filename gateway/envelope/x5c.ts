/**
 * The `x5c` header parameter (RFC 7515 §4.1.6): the signer certificate first,
 * then the certificates that chain it towards the root, each as standard
 * (not url-safe) base64 of its DER.
 */
import { parseCertificatePem, type CertificateInput } from "../../pki/certificate.js";
import { GatewayError, type GatewayErrorCode } from "../errors.js";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** DER bytes of a certificate given as parsed, PEM or DER. */
export function certificateDer(source: CertificateInput): Uint8Array {
  if (source instanceof Uint8Array) return source;
  if (typeof source === "string") {
    try {
      return parseCertificatePem(source).der;
    } catch (cause) {
      throw new GatewayError("ENVELOPE_INVALID_ARGUMENT", "The certificate is not a PEM certificate.", { cause });
    }
  }
  if (typeof source === "object" && source !== null && source.der instanceof Uint8Array) return source.der;
  throw new GatewayError("ENVELOPE_INVALID_ARGUMENT", "The certificate is not parsed, PEM or DER.");
}

/** The `x5c` array for a signer certificate followed by its chain. */
export function encodeX5c(certificates: readonly CertificateInput[]): string[] {
  if (certificates.length === 0) {
    throw new GatewayError("ENVELOPE_INVALID_ARGUMENT", "The signer needs its certificate (x5c cannot be empty).");
  }
  return certificates.map((certificate) => Buffer.from(certificateDer(certificate)).toString("base64"));
}

/**
 * Decode a header's `x5c` (attacker-controlled): a non-empty array of at most
 * `maxCertificates` canonical base64 strings. Returns the DER of each, signer first.
 *
 * @throws GatewayError `code` when the value has any other shape.
 */
export function decodeX5c(value: unknown, maxCertificates: number, code: GatewayErrorCode): Uint8Array[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > maxCertificates) {
    throw new GatewayError(code, `x5c must be an array of 1 to ${maxCertificates} certificates.`, {
      details: { field: "x5c" },
    });
  }
  return value.map((entry: unknown) => {
    if (typeof entry !== "string" || entry.length % 4 !== 0 || !BASE64.test(entry)) {
      throw new GatewayError(code, "x5c holds an entry that is not base64.", { details: { field: "x5c" } });
    }
    const der = Buffer.from(entry, "base64");
    if (der.toString("base64") !== entry) {
      throw new GatewayError(code, "x5c holds a non-canonical base64 entry.", { details: { field: "x5c" } });
    }
    return new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
  });
}
