/**
 * Trust bundles: what an authority hands its peers (DESIGN.md, PKI).
 *
 * The file is `{ "valise-trust-bundle": 1, "jws": "<compact JWS>" }`; the JWS
 * is signed by the authority's current `sign` key, its protected header
 * carries `alg`, `typ: valise-trust-bundle+jws`, `kid` (JWK thumbprint) and
 * `x5c` (the sign certificate), and its payload is
 * `{ valise-trust-bundle: 1, authority, endpoint, profile, issuedAt, root, certificates: [{use, status, pem}], crl, documentVersions? }`
 * (`documentVersions`: the versions of the document forms the gateway reads, schemas/versions.ts).
 * All three parts are described by schemas/trust-bundle.schema.json.
 *
 * A bundle arrives from outside (mail, USB stick): everything in it is
 * hostile until the root matches the fingerprint given out of band and the
 * signature verifies under a valid `sign` certificate of that root.
 */
import fs from "node:fs";
import { CompactSign, compactVerify, decodeProtectedHeader } from "jose";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { PkiError } from "./errors.js";
import { authorityOfCertificate } from "./authority.js";
import { matchesUse, normalizeFingerprint, parseCertificateDer, parseCertificatePem } from "./certificate.js";
import type { ParsedCertificate } from "./certificate.js";
import { parseCrlPem } from "./crl.js";
import type { ParsedCrl } from "./crl.js";
import { jwkThumbprint } from "./keys.js";
import { validateCertificatePath } from "./path.js";
import type { LeafUse, Profile } from "./profiles.js";
import type { AuthorityPki } from "./store.js";
import { DOCUMENT_VERSIONS, UNSTATED_DOCUMENT_VERSIONS } from "../schemas/versions.js";

/** JWS algorithms a bundle may be signed with (never `none`, never HS*). */
export const BUNDLE_ALGORITHMS = ["EdDSA", "ES256", "ES384"] as const;

/** `typ` of the bundle JWS. */
export const BUNDLE_TYP = "valise-trust-bundle+jws";

/** Clock skew tolerated for a bundle's `issuedAt` lying in the future. */
export const BUNDLE_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The bundle file. */
export interface TrustBundleFile {
  "valise-trust-bundle": 1;
  jws: string;
}

/** The signed payload. */
export interface TrustBundlePayload {
  "valise-trust-bundle": 1;
  authority: string;
  endpoint: string;
  profile: Profile;
  issuedAt: string;
  root: string;
  certificates: { use: LeafUse; status: "current" | "previous"; pem: string }[];
  crl: string;
  /** Versions of the document forms the authority's gateway reads (absent: version 1 only). */
  documentVersions?: number[];
}

/** The JWS protected header. */
export interface TrustBundleHeader {
  alg: (typeof BUNDLE_ALGORITHMS)[number];
  typ: typeof BUNDLE_TYP;
  kid: string;
  x5c: string[];
}

/** A bundle's contents, parsed (from {@link verifyTrustBundle}: verified). */
export interface TrustBundleContents {
  authority: string;
  endpoint: string;
  profile: Profile;
  issuedAt: Date;
  root: ParsedCertificate;
  rootFingerprint: string;
  certificates: { use: LeafUse; status: "current" | "previous"; certificate: ParsedCertificate }[];
  crl: ParsedCrl;
  /** Versions of the document forms the authority's gateway reads ([1] when the bundle does not say). */
  documentVersions: readonly number[];
}

/** The verified contents plus the signer. */
export interface VerifiedTrustBundle extends TrustBundleContents {
  signer: ParsedCertificate;
  payload: TrustBundlePayload;
}

/** What to pin the bundle's root to: the out-of-band fingerprint, or a root already held. */
export interface BundlePin {
  /** Hex SHA-256 of the root's DER; case, colons and spaces ignored. */
  fingerprint?: string;
  pinnedRootPem?: string;
  now: Date;
  /**
   * Judge the bundle as a signed record of the past (an auditor's trust
   * material): the signer must have been valid, and not yet untrusted on the
   * bundle's CRL, at the bundle's `issuedAt`, and the CRL need not still be
   * current. Default false: a peer being added or updated is judged now,
   * with a current CRL.
   */
  historical?: boolean;
}

interface CompiledSchemas {
  file: ValidateFunction;
  header: ValidateFunction;
  payload: ValidateFunction;
}

let compiled: CompiledSchemas | undefined; // memoised compiled schema set (immutable once built)

function schemas(): CompiledSchemas {
  if (compiled === undefined) {
    const schema = JSON.parse(fs.readFileSync(new URL("../schemas/trust-bundle.schema.json", import.meta.url), "utf8")) as { $id: string };
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    addFormats.default(ajv);
    ajv.addSchema(schema);
    const get = (ref: string): ValidateFunction => {
      const fn = ajv.getSchema(schema.$id + ref);
      if (fn === undefined) throw new Error(`trust-bundle schema ${ref} missing`);
      return fn;
    };
    compiled = { file: get(""), header: get("#/$defs/protectedHeader"), payload: get("#/$defs/payload") };
  }
  return compiled;
}

function assertSchema<T>(validate: ValidateFunction, value: unknown, part: "file" | "header" | "payload"): T {
  if (!validate(value)) {
    const errors = (validate.errors ?? []).map((e: ErrorObject) => ({
      path: `${part}${e.instancePath}`,
      message: e.message ?? "invalid",
    }));
    throw new PkiError("PKI_BUNDLE_SCHEMA", `The trust bundle ${part} does not match the schema.`, { details: { errors } });
  }
  return value as T;
}

/** Reads and JSON-parses a bundle file; malformed JSON is `PKI_BUNDLE_SCHEMA`. */
export function readTrustBundleFile(file: string): unknown {
  const text = fs.readFileSync(file, "utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PkiError("PKI_BUNDLE_SCHEMA", `${file} is not JSON.`, { cause: error, details: { errors: [{ path: "file", message: "not JSON" }] } });
  }
}

/**
 * Decodes a bundle WITHOUT verifying its signature: schema checks of the file,
 * header and payload, and the algorithm allow-list. For display and for
 * finding which peer a bundle claims to be; never trust the result.
 */
export function decodeTrustBundle(file: unknown): { header: TrustBundleHeader; payload: TrustBundlePayload } {
  const { file: fileSchema, header: headerSchema, payload: payloadSchema } = schemas();
  const bundle = assertSchema<TrustBundleFile>(fileSchema, file, "file");
  let header: unknown;
  let payload: unknown;
  try {
    header = decodeProtectedHeader(bundle.jws);
    payload = JSON.parse(Buffer.from(bundle.jws.split(".")[1] ?? "", "base64url").toString("utf8"));
  } catch (error) {
    throw new PkiError("PKI_BUNDLE_SCHEMA", "The bundle JWS does not decode.", { cause: error, details: { errors: [{ path: "file/jws", message: "undecodable" }] } });
  }
  // Algorithm confusion (`none`, HS256 with the public key as secret): refused before anything else.
  const alg = (header as { alg?: unknown } | null)?.alg;
  if (typeof alg !== "string" || !(BUNDLE_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new PkiError("PKI_BUNDLE_ALGORITHM", `JWS algorithm ${JSON.stringify(alg)} is not allowed.`, { details: { alg: String(alg) } });
  }
  return {
    header: assertSchema<TrustBundleHeader>(headerSchema, header, "header"),
    payload: assertSchema<TrustBundlePayload>(payloadSchema, payload, "payload"),
  };
}

/** Parses a decoded payload into certificates and CRL (no trust decisions). */
export function trustBundleContents(payload: TrustBundlePayload): TrustBundleContents {
  const root = parseCertificatePem(payload.root);
  return {
    authority: payload.authority,
    endpoint: payload.endpoint,
    profile: payload.profile,
    issuedAt: new Date(payload.issuedAt),
    root,
    rootFingerprint: root.fingerprint256,
    certificates: payload.certificates.map((c) => ({ use: c.use, status: c.status, certificate: parseCertificatePem(c.pem) })),
    crl: parseCrlPem(payload.crl),
    documentVersions: payload.documentVersions ?? UNSTATED_DOCUMENT_VERSIONS,
  };
}

function signatureError(message: string, cause?: unknown): PkiError {
  const inner = (cause as { code?: unknown } | undefined)?.code;
  return new PkiError("PKI_BUNDLE_SIGNATURE", message, {
    ...(cause === undefined ? {} : { cause }),
    ...(typeof inner === "string" ? { details: { reason: inner } } : {}),
  });
}

/**
 * Verifies a bundle file against a root pinned out of band. Checks, in order:
 * schema (`PKI_BUNDLE_SCHEMA`, details.errors lists failing paths), JWS
 * algorithm (`PKI_BUNDLE_ALGORITHM`), root = pin (`PKI_FINGERPRINT_MISMATCH`),
 * signer is a valid `sign` certificate of that root for the bundle's authority
 * at `now` under the bundle's CRL (at `issuedAt`, judged historically, with
 * `pin.historical`), kid = its thumbprint, and the signature
 * (`PKI_BUNDLE_SIGNATURE`, details.reason = the path error code), then that
 * every listed certificate is issued by the root for its declared use and
 * authority (`PKI_BUNDLE_SCHEMA`), and that issuedAt is not in the future.
 */
export async function verifyTrustBundle(file: unknown, pin: BundlePin): Promise<VerifiedTrustBundle> {
  const { header, payload } = decodeTrustBundle(file);
  let contents: TrustBundleContents;
  try {
    contents = trustBundleContents(payload);
  } catch (error) {
    throw new PkiError("PKI_BUNDLE_SCHEMA", "The bundle's certificates or CRL do not parse.", { cause: error, details: { errors: [{ path: "payload", message: (error as Error).message }] } });
  }

  // Substituted root (man in the middle on the bundle's channel): only the
  // fingerprint received out of band decides which root is trusted.
  let pinned: string;
  if (pin.fingerprint !== undefined) pinned = normalizeFingerprint(pin.fingerprint);
  else if (pin.pinnedRootPem !== undefined) pinned = parseCertificatePem(pin.pinnedRootPem).fingerprint256;
  else throw new PkiError("PKI_INVALID_ARGUMENT", "A fingerprint or pinned root is required to verify a bundle.");
  if (contents.rootFingerprint !== pinned) {
    throw new PkiError("PKI_FINGERPRINT_MISMATCH", "The bundle's root does not match the fingerprint given out of band.", {
      details: { expected: pinned, actual: contents.rootFingerprint },
    });
  }

  // Forged bundle: the signer must be a valid sign certificate of the pinned root.
  let signer: ParsedCertificate;
  try {
    signer = parseCertificateDer(Buffer.from(header.x5c[0] ?? "", "base64"));
    validateCertificatePath({
      certificate: signer,
      trustedRoot: contents.root,
      crl: contents.crl,
      use: "sign",
      expectedAuthority: payload.authority,
      ...(pin.historical === true ? { at: contents.issuedAt, revocation: "at-signing-time" } : { at: pin.now }),
    });
  } catch (error) {
    throw signatureError("The bundle's signer is not a valid sign certificate of its root.", error);
  }
  if ((await jwkThumbprint(signer.publicKey)) !== header.kid) throw signatureError("The bundle's kid does not name the x5c certificate's key.");
  const expectedAlg = { Ed25519: "EdDSA", "P-256": "ES256", "P-384": "ES384" }[signer.keyAlgorithm as "Ed25519" | "P-256" | "P-384"];
  try {
    await compactVerify((file as TrustBundleFile).jws, signer.publicKey, { algorithms: expectedAlg === undefined ? [] : [expectedAlg] });
  } catch (error) {
    throw signatureError("The bundle's signature does not verify.", error);
  }

  // Inconsistent contents: a peer's bundle must not slip in another root's or
  // another authority's certificates, nor relabel a key's use.
  contents.certificates.forEach(({ use, certificate }, i) => {
    let ok = false;
    try {
      ok =
        certificate.x509.checkIssued(contents.root.x509) &&
        certificate.x509.verify(contents.root.publicKey) &&
        matchesUse(certificate, use) &&
        authorityOfCertificate(certificate) === payload.authority;
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new PkiError("PKI_BUNDLE_SCHEMA", `Certificate ${i} is not a ${use} certificate of the bundle's root and authority.`, {
        details: { errors: [{ path: `payload/certificates/${i}`, message: "not issued by the root for this use and authority" }] },
      });
    }
  });
  if (contents.issuedAt.getTime() > pin.now.getTime() + BUNDLE_CLOCK_SKEW_MS) {
    throw new PkiError("PKI_BUNDLE_SCHEMA", "The bundle's issuedAt lies in the future.", {
      details: { errors: [{ path: "payload/issuedAt", message: "in the future" }] },
    });
  }
  return { ...contents, signer, payload };
}

const JWS_ALG = { Ed25519: "EdDSA", "P-256": "ES256", "P-384": "ES384" } as const;

/**
 * Creates this authority's trust bundle, signed by its current `sign` key:
 * root, current and previous unrevoked, unexpired leaves, and the CRL
 * (re-signed first when it has expired at `now`), and the versions of the
 * document forms the gateway reads (default: every version this code reads).
 */
export async function createTrustBundle(
  pki: AuthorityPki,
  passphrase: string,
  now: Date = new Date(),
  options: { readonly documentVersions?: readonly number[] } = {},
): Promise<TrustBundleFile> {
  const signKey = pki.loadPrivateKey("sign", passphrase);
  const signer = pki.currentCertificate("sign");
  const alg = JWS_ALG[signer.keyAlgorithm as keyof typeof JWS_ALG];
  if (alg === undefined) throw new PkiError("PKI_KEY_INVALID", "The sign key is not Ed25519, P-256 or P-384.");
  let crl = pki.crl();
  if (crl.nextUpdate === undefined || crl.nextUpdate.getTime() <= now.getTime()) crl = await pki.refreshCrl(passphrase, now);
  const certificates: TrustBundlePayload["certificates"] = [];
  for (const use of ["tls", "sign", "encrypt", "log"] as const) {
    for (const { status, certificate } of pki.certificates(use)) {
      if (certificate.notAfter.getTime() >= now.getTime()) certificates.push({ use, status, pem: certificate.pem });
    }
  }
  const payload: TrustBundlePayload = {
    "valise-trust-bundle": 1,
    authority: pki.authority,
    endpoint: pki.endpoint,
    profile: pki.profile,
    issuedAt: now.toISOString(),
    root: pki.rootCertificate().pem,
    certificates,
    crl: crl.pem,
    documentVersions: [...(options.documentVersions ?? DOCUMENT_VERSIONS)],
  };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg, typ: BUNDLE_TYP, kid: await jwkThumbprint(signer.publicKey), x5c: [signer.der.toString("base64")] })
    .sign(signKey);
  return { "valise-trust-bundle": 1, jws };
}
