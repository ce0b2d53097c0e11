/**
 * X.509 certificates of an authority: the self-signed root, the leaves it
 * issues, and parsing into a {@link ParsedCertificate}.
 *
 * Creation uses @peculiar/x509 (async, WebCrypto); parsing is synchronous and
 * pairs Node's `X509Certificate` (OpenSSL: signatures, issuer checks) with
 * @peculiar/x509's parser (structured extensions), so path validation can stay
 * synchronous.
 *
 * Certificates from elsewhere (x5c headers, peers' bundles: hostile) are
 * parsed whole by both parsers at once ({@link parseCertificateDer}). The
 * gateway's own certificates, read from its home, are parsed by
 * {@link parseOwnCertificateDer}: Node's parser at once, @peculiar/x509's
 * only when a field only it reads is first used — so a command that only
 * reads the home does not load @peculiar/x509 at all (start-up time).
 */
import crypto from "node:crypto";
import type { KeyObject } from "node:crypto";
import { PkiError } from "./errors.js";
import { isIP } from "node:net";
import { authorityOfCertificate, authorityUri, assertAuthorityId } from "./authority.js";
import { keyAlgorithmOf } from "./keys.js";
import { isLeafUse, USAGE_POLICIES } from "./profiles.js";
import type { CertificateUse, KeyAlgorithm, KeyUsageName, LeafUse } from "./profiles.js";
import { peculiar, signingAlgorithmOf, toSigningCryptoKey, webCrypto } from "./x509-provider.js";
import type * as X509 from "@peculiar/x509";

/** Largest certificate accepted, in DER bytes (hostile x5c / bundles must not exhaust memory). */
export const MAX_CERTIFICATE_BYTES = 16 * 1024;

/** Subject alternative names, by kind. */
export interface SubjectAltNames {
  readonly uris: readonly string[];
  readonly dns: readonly string[];
  readonly ips: readonly string[];
  /** How many names of other kinds (email, DN, …) the extension holds. */
  readonly other: number;
}

/**
 * A parsed certificate. Every field is derived from `der`; `x509` is Node's
 * OpenSSL-backed object (use it for `verify` / `checkIssued`).
 */
export interface ParsedCertificate {
  /** The DER bytes. */
  readonly der: Buffer;
  /** PEM (`-----BEGIN CERTIFICATE-----`), regenerated from `der`. */
  readonly pem: string;
  /** Serial number, lowercase hex without leading zero bytes (see {@link normalizeSerial}). */
  readonly serial: string;
  /** Subject DN as a string, e.g. `CN=GB-UKCA sign, O=GB-UKCA`. */
  readonly subject: string;
  /** Issuer DN as a string. */
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** basicConstraints cA (false when the extension is absent). */
  readonly isCa: boolean;
  /** basicConstraints pathLenConstraint, if any. */
  readonly pathLength: number | undefined;
  /** Key usage bits, or `undefined` when the extension is absent. */
  readonly keyUsage: readonly KeyUsageName[] | undefined;
  /** Extended key usage OIDs, or `undefined` when the extension is absent. */
  readonly extendedKeyUsage: readonly string[] | undefined;
  readonly san: SubjectAltNames;
  /** OIDs of every critical extension. */
  readonly criticalExtensions: readonly string[];
  /** Subject key identifier, lowercase hex. */
  readonly subjectKeyId: string | undefined;
  /** Authority key identifier (keyIdentifier), lowercase hex. */
  readonly authorityKeyId: string | undefined;
  readonly publicKey: KeyObject;
  /** Valise key algorithm of the public key, `undefined` for any other algorithm. */
  readonly keyAlgorithm: KeyAlgorithm | undefined;
  /** Lowercase hex SHA-256 of `der`. */
  readonly fingerprint256: string;
  /** Node's X509Certificate over the same DER. */
  readonly x509: crypto.X509Certificate;
}

/** Anything a certificate argument may be given as: parsed, PEM text or DER bytes. */
export type CertificateInput = ParsedCertificate | string | Uint8Array;

/** RFC 5280 KeyUsage bits as @peculiar/x509 numbers them (bit 0, digitalSignature, is 1). */
const KEY_USAGE_BITS: readonly [KeyUsageName, number][] = [
  ["digitalSignature", 1],
  ["nonRepudiation", 2],
  ["keyEncipherment", 4],
  ["dataEncipherment", 8],
  ["keyAgreement", 16],
  ["keyCertSign", 32],
  ["cRLSign", 64],
  ["encipherOnly", 128],
  ["decipherOnly", 256],
];

/** Serial number as lowercase hex without colons or leading zero bytes. */
export function normalizeSerial(serial: string): string {
  const hex = serial.replace(/:/g, "").toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) throw new PkiError("PKI_INVALID_ARGUMENT", "A serial number must be hex.");
  const stripped = hex.replace(/^(00)+/, "");
  return stripped === "" ? "00" : stripped;
}

/** A fresh random positive 16-byte serial (lowercase hex, always 32 digits). */
export function randomSerial(): string {
  const bytes = crypto.randomBytes(16);
  // Top bit clear (positive INTEGER), next bit set (minimal DER, always 16 bytes).
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString("hex");
}

/** A SHA-256 fingerprint as 64 lowercase hex digits; accepts upper case, colons and spaces. */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/[\s:]/g, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new PkiError("PKI_INVALID_ARGUMENT", "A SHA-256 fingerprint is 64 hex digits (colons allowed).");
  }
  return hex;
}

function pemOf(der: Uint8Array, label: string): string {
  const body = Buffer.from(der).toString("base64").replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/** Every base64 body of `-----BEGIN <label>-----` blocks in `text`, decoded. */
export function pemBlocks(text: string, label: string): Buffer[] {
  const regex = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*?)-----END ${label}-----`, "g");
  return [...text.matchAll(regex)].map((match) => Buffer.from((match[1] ?? "").replace(/\s+/g, ""), "base64"));
}

/**
 * Parses one DER certificate. Throws `PKI_CERT_PARSE` on anything malformed;
 * the input is often attacker-supplied (x5c headers, peers' bundles), so both
 * parsers must accept it and trailing bytes are refused.
 */
export function parseCertificateDer(der: Uint8Array): ParsedCertificate {
  const bytes = certificateBytes(der);
  try {
    const node = nodeCertificate(bytes);
    const { x509 } = peculiar();
    const cert = new x509.X509Certificate(bytes);
    const sanExt = cert.getExtension(x509.SubjectAlternativeNameExtension);
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    const names = sanExt?.names.items ?? [];
    const publicKey = node.publicKey;
    return {
      der: bytes,
      pem: pemOf(bytes, "CERTIFICATE"),
      serial: normalizeSerial(cert.serialNumber),
      subject: cert.subject,
      issuer: cert.issuer,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      isCa: cert.getExtension(x509.BasicConstraintsExtension)?.ca === true,
      ...extensionFields(cert),
      extendedKeyUsage: eku === null ? undefined : [...eku.usages.map(String)],
      san: {
        uris: names.filter((n) => n.type === "url").map((n) => n.value),
        dns: names.filter((n) => n.type === "dns").map((n) => n.value),
        ips: names.filter((n) => n.type === "ip").map((n) => n.value),
        other: names.filter((n) => n.type !== "url" && n.type !== "dns" && n.type !== "ip").length,
      },
      publicKey,
      keyAlgorithm: keyAlgorithmOf(publicKey),
      fingerprint256: crypto.createHash("sha256").update(bytes).digest("hex"),
      x509: node,
    };
  } catch (error) {
    if (error instanceof PkiError) throw error;
    throw new PkiError("PKI_CERT_PARSE", "The certificate is not a well-formed X.509 certificate.", { cause: error });
  }
}

/** The fields only @peculiar/x509's parser reads (structured extensions). */
type ExtensionFields = Pick<ParsedCertificate, "pathLength" | "keyUsage" | "criticalExtensions" | "subjectKeyId" | "authorityKeyId">;
const EXTENSION_FIELDS: readonly (keyof ExtensionFields)[] = ["pathLength", "keyUsage", "criticalExtensions", "subjectKeyId", "authorityKeyId"];

function extensionFields(cert: X509.X509Certificate): ExtensionFields {
  const { x509 } = peculiar();
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  return {
    pathLength: basic?.pathLength,
    keyUsage: usage === null ? undefined : KEY_USAGE_BITS.filter(([, bit]) => (usage.usages & bit) !== 0).map(([name]) => name),
    criticalExtensions: cert.extensions.filter((e) => e.critical).map((e) => e.type),
    subjectKeyId: ski === null ? undefined : ski.keyId.toLowerCase(),
    authorityKeyId: aki?.keyId === undefined ? undefined : aki.keyId.toLowerCase(),
  };
}

function certificateBytes(der: Uint8Array): Buffer {
  if (!(der instanceof Uint8Array) || der.length === 0 || der.length > MAX_CERTIFICATE_BYTES) {
    throw new PkiError("PKI_CERT_PARSE", `A certificate must be 1..${MAX_CERTIFICATE_BYTES} DER bytes.`);
  }
  return Buffer.from(der);
}

function nodeCertificate(bytes: Buffer): crypto.X509Certificate {
  const node = new crypto.X509Certificate(bytes);
  if (!node.raw.equals(bytes)) throw new Error("trailing or non-canonical bytes");
  return node;
}

/**
 * Parses one of the gateway's own certificates, as read from its home (the
 * PKI store wrote it, after issuing it). Node's parser reads it at once —
 * a malformed file fails here with `PKI_CERT_PARSE` — and the fields only
 * @peculiar/x509 reads (key usage bits, path length, critical extensions,
 * key identifiers) are read when first used. Everything else is read from
 * Node's X509Certificate (OpenSSL), in the forms {@link parseCertificateDer}
 * gives (test/pki/own-certificate.test.ts holds the two to each other).
 * Never for certificates from outside: use {@link parseCertificateDer}.
 */
export function parseOwnCertificateDer(der: Uint8Array): ParsedCertificate {
  const bytes = certificateBytes(der);
  let node: crypto.X509Certificate;
  let san: SubjectAltNames;
  try {
    node = nodeCertificate(bytes);
    san = subjectAltNamesOf(node.subjectAltName);
  } catch (error) {
    if (error instanceof PkiError) throw error;
    throw new PkiError("PKI_CERT_PARSE", "The certificate is not a well-formed X.509 certificate.", { cause: error });
  }
  const publicKey = node.publicKey;
  const parsed = {
    der: bytes,
    pem: pemOf(bytes, "CERTIFICATE"),
    serial: normalizeSerial(node.serialNumber),
    subject: distinguishedName(node.subject),
    issuer: distinguishedName(node.issuer),
    notBefore: new Date(node.validFrom),
    notAfter: new Date(node.validTo),
    isCa: node.ca,
    extendedKeyUsage: node.keyUsage === undefined ? undefined : [...node.keyUsage],
    san,
    publicKey,
    keyAlgorithm: keyAlgorithmOf(publicKey),
    fingerprint256: crypto.createHash("sha256").update(bytes).digest("hex"),
    x509: node,
  };
  let extensions: ExtensionFields | undefined;
  const read = (): ExtensionFields => {
    if (extensions === undefined) {
      try {
        extensions = extensionFields(new (peculiar().x509.X509Certificate)(bytes));
      } catch (error) {
        throw new PkiError("PKI_CERT_PARSE", "The certificate is not a well-formed X.509 certificate.", { cause: error });
      }
    }
    return extensions;
  };
  for (const field of EXTENSION_FIELDS) Object.defineProperty(parsed, field, { enumerable: true, get: () => read()[field] });
  return parsed as ParsedCertificate;
}

/** Node prints a DN one attribute per line; {@link parseCertificateDer}'s form joins them with ", ". */
function distinguishedName(lines: string): string {
  return lines.split("\n").join(", ");
}

/**
 * Node's `subjectAltName` text (`DNS:a, IP Address:192.0.2.1, URI:…`, a value
 * with a comma, quote or control character as a JSON string) → the names.
 * IPv6 addresses come uncompressed and upper case: they are given in their
 * compressed form, as @peculiar/x509 gives them.
 */
function subjectAltNamesOf(text: string | undefined): SubjectAltNames {
  const san = { uris: [] as string[], dns: [] as string[], ips: [] as string[], other: 0 };
  let at = 0;
  while (text !== undefined && at < text.length) {
    const colon = text.indexOf(":", at);
    if (colon === -1) throw new Error("malformed subjectAltName text");
    const type = text.slice(at, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      end += 1;
      value = JSON.parse(text.slice(colon + 1, end)) as string;
    } else {
      const comma = text.indexOf(", ", colon + 1);
      end = comma === -1 ? text.length : comma;
      value = text.slice(colon + 1, end);
    }
    if (type === "URI") san.uris.push(value);
    else if (type === "DNS") san.dns.push(value);
    else if (type === "IP Address") san.ips.push(isIP(value) === 6 ? new URL(`https://[${value}]/`).hostname.slice(1, -1) : value);
    else san.other += 1;
    at = end + 2; // ", "
  }
  return san;
}

/** Parses a PEM holding exactly one certificate (`PKI_CERT_PARSE` otherwise). */
export function parseCertificatePem(pem: string): ParsedCertificate {
  const blocks = pemBlocks(pem, "CERTIFICATE");
  if (blocks.length !== 1) {
    throw new PkiError("PKI_CERT_PARSE", `Expected exactly one PEM certificate, found ${blocks.length}.`);
  }
  return parseCertificateDer(blocks[0] as Buffer);
}

/** {@link parseOwnCertificateDer} of a PEM holding exactly one certificate. */
export function parseOwnCertificatePem(pem: string): ParsedCertificate {
  const blocks = pemBlocks(pem, "CERTIFICATE");
  if (blocks.length !== 1) {
    throw new PkiError("PKI_CERT_PARSE", `Expected exactly one PEM certificate, found ${blocks.length}.`);
  }
  return parseOwnCertificateDer(blocks[0] as Buffer);
}

/** Parses every certificate of a PEM bundle, in order. */
export function parseCertificatesPem(pem: string): ParsedCertificate[] {
  return pemBlocks(pem, "CERTIFICATE").map(parseCertificateDer);
}

/** A certificate given as parsed, PEM or DER → parsed. */
export function parseCertificate(input: CertificateInput): ParsedCertificate {
  if (typeof input === "string") return parseCertificatePem(input);
  if (input instanceof Uint8Array) return parseCertificateDer(input);
  return input;
}

/** Lowercase hex SHA-256 of the certificate's DER. */
export function fingerprint256(cert: CertificateInput): string {
  return parseCertificate(cert).fingerprint256;
}

/**
 * True when the certificate's CA flag, key usages and EKUs are exactly those
 * of `use` (so no use can pass for another, e.g. a `log` key for `sign`).
 */
export function matchesUse(cert: ParsedCertificate, use: CertificateUse): boolean {
  const policy = USAGE_POLICIES[use];
  const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
    a.length === b.length && a.every((x) => b.includes(x));
  return (
    cert.isCa === policy.ca &&
    cert.keyUsage !== undefined &&
    sameSet(cert.keyUsage, policy.keyUsage) &&
    sameSet(cert.extendedKeyUsage ?? [], policy.extendedKeyUsage)
  );
}

/** The use whose profile the certificate matches exactly, or `undefined`. */
export function useOfCertificate(cert: ParsedCertificate): CertificateUse | undefined {
  return (Object.keys(USAGE_POLICIES) as CertificateUse[]).find((use) => matchesUse(cert, use));
}

/** A compact, JSON-ready description of a certificate. */
export interface CertificateDescription {
  use: CertificateUse | "unknown";
  serial: string;
  subject: string;
  issuer: string;
  /** e.g. `URI:urn:valise:authority:GB-UKCA`, `DNS:valise.example`, `IP:192.0.2.1`. */
  sans: string[];
  notBefore: string;
  notAfter: string;
  keyAlgorithm: KeyAlgorithm | "unknown";
  fingerprint: string;
}

/** Describes a certificate (use inferred from its key usages). */
export function describeCertificate(input: CertificateInput): CertificateDescription {
  const cert = parseCertificate(input);
  return {
    use: useOfCertificate(cert) ?? "unknown",
    serial: cert.serial,
    subject: cert.subject,
    issuer: cert.issuer,
    sans: sanStrings(cert),
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    keyAlgorithm: cert.keyAlgorithm ?? "unknown",
    fingerprint: cert.fingerprint256,
  };
}

/** The subject alternative names as `URI:…`, `DNS:…`, `IP:…`. */
export function sanStrings(cert: Pick<ParsedCertificate, "san">): string[] {
  return [...cert.san.uris.map((v) => `URI:${v}`), ...cert.san.dns.map((v) => `DNS:${v}`), ...cert.san.ips.map((v) => `IP:${v}`)];
}

/** A CA certificate with its private key, able to issue certificates and CRLs. */
export interface Issuer {
  readonly certificate: ParsedCertificate;
  readonly privateKey: KeyObject;
}

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function addYears(date: Date, years: number): Date {
  const result = new Date(date.getTime());
  result.setUTCFullYear(result.getUTCFullYear() + years);
  return result;
}

/** How far `notBefore` is backdated by default, so peers with a slow clock accept a fresh certificate. */
export const DEFAULT_BACKDATE_MS = 5 * 60 * 1000;

/** Validity options shared by root and leaf creation. */
export interface ValidityOptions {
  /** Current time (default `new Date()`); `notBefore` defaults to 5 minutes before it. */
  now?: Date;
  notBefore?: Date;
  notAfter?: Date;
  /** Serial (hex); default {@link randomSerial}. */
  serial?: string;
}

function validity(options: ValidityOptions, years: number): { notBefore: Date; notAfter: Date } {
  const now = options.now ?? new Date();
  const notBefore = wholeSeconds(options.notBefore ?? new Date(now.getTime() - DEFAULT_BACKDATE_MS));
  const notAfter = wholeSeconds(options.notAfter ?? addYears(notBefore, years));
  if (!(notAfter.getTime() > notBefore.getTime())) {
    throw new PkiError("PKI_INVALID_ARGUMENT", "notAfter must be later than notBefore.");
  }
  return { notBefore, notAfter };
}

function signingAlgorithmOfKey(key: KeyObject): { algorithm: KeyAlgorithm } {
  const algorithm = keyAlgorithmOf(key);
  if (algorithm === undefined || algorithm === "X25519") {
    throw new PkiError("PKI_KEY_INVALID", "A CA key must be Ed25519, P-256 or P-384.");
  }
  return { algorithm };
}

function spkiOf(publicKey: KeyObject): Buffer {
  const key = publicKey.type === "private" ? crypto.createPublicKey(publicKey) : publicKey;
  return key.export({ type: "spki", format: "der" });
}

function subjectName(authority: string, use: CertificateUse): string {
  return `CN=${authority} ${use}, O=${authority}`;
}

/** Options of {@link createRootCertificate}. */
export interface RootCertificateOptions extends ValidityOptions {
  authority: string;
  /** The root key pair (Ed25519, P-256 or P-384). */
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/**
 * Creates the authority's self-signed root: CA:true pathLen:0 (critical),
 * keyCertSign+cRLSign (critical), SKI, SAN URI of the authority; 10 years by default.
 */
export async function createRootCertificate(options: RootCertificateOptions): Promise<ParsedCertificate> {
  assertAuthorityId(options.authority);
  const { algorithm } = signingAlgorithmOfKey(options.privateKey);
  const { notBefore, notAfter } = validity(options, 10);
  const spki = spkiOf(options.publicKey);
  const name = subjectName(options.authority, "root");
  const { x509 } = peculiar();
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: normalizeSerial(options.serial ?? randomSerial()),
      subject: name,
      issuer: name,
      notBefore,
      notAfter,
      publicKey: spki,
      signingKey: await toSigningCryptoKey(options.privateKey, algorithm),
      signingAlgorithm: signingAlgorithmOf(algorithm),
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(keyUsageFlags("root"), true),
        await x509.SubjectKeyIdentifierExtension.create(spki, false, webCrypto),
        new x509.SubjectAlternativeNameExtension([{ type: "url", value: authorityUri(options.authority) }], false),
      ],
    },
    webCrypto,
  );
  return parseCertificateDer(new Uint8Array(cert.rawData));
}

/** Options of {@link issueCertificate}. */
export interface LeafCertificateOptions extends ValidityOptions {
  /** The root (certificate and private key). */
  issuer: Issuer;
  use: LeafUse;
  /** The subject's public key. */
  publicKey: KeyObject;
  /** `tls` only: DNS names of the endpoint. */
  dns?: readonly string[];
  /** `tls` only: IP addresses of the endpoint. */
  ips?: readonly string[];
}

function keyUsageFlags(use: CertificateUse): number {
  return USAGE_POLICIES[use].keyUsage.reduce((flags, name) => flags | (KEY_USAGE_BITS.find(([n]) => n === name)?.[1] ?? 0), 0);
}

/**
 * Issues a leaf certificate for `use`, signed by the root: subject
 * `CN=<ID> <use>, O=<ID>`, the use's key usages (critical) and EKUs, SAN URI of
 * the root's authority (plus DNS/IP names for `tls`), SKI/AKI; 1 year by default.
 */
export async function issueCertificate(options: LeafCertificateOptions): Promise<ParsedCertificate> {
  if (!isLeafUse(options.use)) throw new PkiError("PKI_INVALID_ARGUMENT", `Not a leaf use: ${JSON.stringify(options.use)}.`);
  const root = options.issuer.certificate;
  const authority = authorityOfCertificate(root);
  const { algorithm } = signingAlgorithmOfKey(options.issuer.privateKey);
  const { notBefore, notAfter } = validity(options, 1);
  const spki = spkiOf(options.publicKey);
  const names: { type: "url" | "dns" | "ip"; value: string }[] = [{ type: "url", value: authorityUri(authority) }];
  if (options.use === "tls") {
    for (const value of options.dns ?? []) names.push({ type: "dns", value });
    for (const value of options.ips ?? []) {
      if (isIP(value) === 0) {
        throw new PkiError("PKI_INVALID_ARGUMENT", `Not an IP address: ${JSON.stringify(value)}.`);
      }
      names.push({ type: "ip", value });
    }
  }
  const { x509 } = peculiar();
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(keyUsageFlags(options.use), true),
    await x509.SubjectKeyIdentifierExtension.create(spki, false, webCrypto),
    new x509.SubjectAlternativeNameExtension(names, false),
  ];
  if (root.subjectKeyId !== undefined) extensions.push(new x509.AuthorityKeyIdentifierExtension(root.subjectKeyId, false));
  const eku = USAGE_POLICIES[options.use].extendedKeyUsage;
  if (eku.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension([...eku], false));
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: normalizeSerial(options.serial ?? randomSerial()),
      subject: subjectName(authority, options.use),
      issuer: new x509.X509Certificate(root.der).subjectName,
      notBefore,
      notAfter,
      publicKey: spki,
      signingKey: await toSigningCryptoKey(options.issuer.privateKey, algorithm),
      signingAlgorithm: signingAlgorithmOf(algorithm),
      extensions,
    },
    webCrypto,
  );
  return parseCertificateDer(new Uint8Array(cert.rawData));
}
