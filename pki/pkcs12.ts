/**
 * PKCS#12 export of a certificate chain and its private key, for operators
 * who must load a Valise key into other software (browsers, HSM tooling, curl).
 *
 * node-forge's PKCS#12 writer only handles RSA, so the structure is built
 * with forge.asn1 (RFC 7292): an unencrypted SafeContents of certBags (leaf
 * first, then the chain) and one holding a pkcs8ShroudedKeyBag, plus an
 * HMAC-SHA-256 MacData. The key bag's EncryptedPrivateKeyInfo is produced by
 * node:crypto (OpenSSL: PBES2, PBKDF2-HMAC-SHA-256, AES-256-CBC); forge
 * supplies only the ASN.1 and the RFC 7292 Appendix B MAC-key derivation,
 * which node:crypto lacks. `openssl pkcs12` (OpenSSL 3) opens the result
 * without `-legacy`.
 */
import crypto from "node:crypto";
import type { KeyObject } from "node:crypto";
import forge from "node-forge";
import { PkiError } from "./errors.js";
import { parseCertificate } from "./certificate.js";
import type { CertificateInput } from "./certificate.js";

const { asn1 } = forge;

const OID = {
  data: "1.2.840.113549.1.7.1",
  certBag: "1.2.840.113549.1.12.10.1.3",
  pkcs8ShroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  friendlyName: "1.2.840.113549.1.9.20",
  localKeyId: "1.2.840.113549.1.9.21",
  sha256: "2.16.840.1.101.3.4.2.1",
};

/** Iterations of the MAC key derivation (the key bag uses OpenSSL's PBKDF2 default). */
export const PKCS12_ITERATIONS = 10_000;

/** Options of {@link exportPkcs12}. */
export interface Pkcs12Options {
  /** The leaf first, then its issuers (e.g. `[leaf, root]`). */
  chain: readonly CertificateInput[];
  /** The leaf's private key. */
  privateKey: KeyObject;
  /** Protects both the key and the MAC. */
  passphrase: string;
  /** Friendly name of the leaf (default: its subject CN). */
  friendlyName?: string;
}

type Asn1 = forge.asn1.Asn1;

const seq = (value: Asn1[]): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, value);
const set = (value: Asn1[]): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, value);
const oid = (value: string): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(value).getBytes());
const octets = (bytes: Uint8Array): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, Buffer.from(bytes).toString("binary"));
const explicit0 = (value: Asn1): Asn1 => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [value]);
const integer = (n: number): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(n).getBytes());
const der = (value: Asn1): Buffer => Buffer.from(asn1.toDer(value).getBytes(), "binary");
const fromDer = (bytes: Uint8Array): Asn1 => asn1.fromDer(forge.util.createBuffer(Buffer.from(bytes).toString("binary")));

/** forge encodes a BMPSTRING's JS string as UTF-16BE itself. */
function bmpString(text: string): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BMPSTRING, false, text);
}

function attributes(localKeyId: Buffer | undefined, friendlyName: string | undefined): Asn1[] {
  const attrs: Asn1[] = [];
  if (friendlyName !== undefined) attrs.push(seq([oid(OID.friendlyName), set([bmpString(friendlyName)])]));
  if (localKeyId !== undefined) attrs.push(seq([oid(OID.localKeyId), set([octets(localKeyId)])]));
  return attrs.length === 0 ? [] : [set(attrs)];
}

function dataContentInfo(content: Buffer): Asn1 {
  return seq([oid(OID.data), explicit0(octets(content))]);
}

/**
 * Builds a PKCS#12 (PFX) file: the chain's certificates and the encrypted key,
 * MAC'd with HMAC-SHA-256. Returns the DER bytes. Throws
 * `PKI_PASSPHRASE_MISSING` on an empty passphrase and `PKI_PKCS12` when the
 * key does not belong to the first certificate.
 */
export function exportPkcs12(options: Pkcs12Options): Buffer {
  if (options.passphrase === undefined || options.passphrase.length === 0) {
    throw new PkiError("PKI_PASSPHRASE_MISSING", "A passphrase is required to protect a PKCS#12 file.");
  }
  const chain = options.chain.map(parseCertificate);
  const leaf = chain[0];
  if (leaf === undefined) throw new PkiError("PKI_PKCS12", "The chain holds no certificate.");
  const publicDer = crypto.createPublicKey(options.privateKey).export({ type: "spki", format: "der" });
  if (!publicDer.equals(leaf.publicKey.export({ type: "spki", format: "der" }))) {
    throw new PkiError("PKI_PKCS12", "The private key does not belong to the first certificate of the chain.");
  }
  const localKeyId = crypto.createHash("sha256").update(leaf.der).digest();
  const friendlyName = options.friendlyName ?? /CN=([^,]+)/.exec(leaf.subject)?.[1];

  const certBags = chain.map((cert, i) =>
    seq([
      oid(OID.certBag),
      explicit0(seq([oid(OID.x509Certificate), explicit0(octets(cert.der))])),
      ...attributes(i === 0 ? localKeyId : undefined, i === 0 ? friendlyName : undefined),
    ]),
  );
  const encryptedKey = options.privateKey.export({ type: "pkcs8", format: "der", cipher: "aes-256-cbc", passphrase: options.passphrase });
  const keyBag = seq([oid(OID.pkcs8ShroudedKeyBag), explicit0(fromDer(encryptedKey)), ...attributes(localKeyId, friendlyName)]);

  const authenticatedSafe = der(seq([dataContentInfo(der(seq(certBags))), dataContentInfo(der(seq([keyBag])))]));

  // RFC 7292 §5 / Appendix B: MAC key from the PKCS#12 KDF (ID 3) over the BMPString password.
  const macSalt = crypto.randomBytes(16);
  const macKey = forge.pkcs12.generateKey(options.passphrase, forge.util.createBuffer(macSalt.toString("binary")), 3, PKCS12_ITERATIONS, 32, forge.md.sha256.create());
  const mac = crypto.createHmac("sha256", Buffer.from(macKey.getBytes(), "binary")).update(authenticatedSafe).digest();
  const macData = seq([
    seq([seq([oid(OID.sha256), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, "")]), octets(mac)]),
    octets(macSalt),
    integer(PKCS12_ITERATIONS),
  ]);
  return der(seq([integer(3), dataContentInfo(authenticatedSafe), macData]));
}
