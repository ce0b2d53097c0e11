/**
 * Throwaway PKIs for envelope tests: per run, per profile, one authority each
 * for GB-UKCA and US-DOJ-OIA, with current and previous sign/encrypt
 * certificates, a revoked and an expired sign certificate, and a TLS one (for
 * key-usage confusion).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { KeyObject } from "node:crypto";
import { createRootCertificate, issueCertificate, type ParsedCertificate } from "../../../pki/certificate.js";
import { createCrl, type ParsedCrl } from "../../../pki/crl.js";
import { generateKeyPair, jwkThumbprint } from "../../../pki/keys.js";
import type { LeafUse, Profile } from "../../../pki/profiles.js";
import type { DecryptionKey } from "../../../gateway/envelope/open.js";
import type { EnvelopeRecipient, EnvelopeSigner } from "../../../gateway/envelope/seal.js";
import type { AuthorityTrust } from "../../../gateway/envelope/signer.js";

/** A leaf certificate with its key pair and kid. */
export interface Leaf {
  readonly certificate: ParsedCertificate;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;
}

/** One authority's throwaway PKI. */
export interface AuthorityFixture {
  readonly authority: string;
  readonly profile: Profile;
  readonly root: ParsedCertificate;
  readonly rootKey: KeyObject;
  readonly sign: Leaf;
  readonly previousSign: Leaf;
  readonly revokedSign: Leaf;
  readonly expiredSign: Leaf;
  readonly tls: Leaf;
  readonly encrypt: Leaf;
  readonly previousEncrypt: Leaf;
  readonly crl: ParsedCrl;
  readonly trust: AuthorityTrust;
  /** The signer built from `leaf` (default: current sign). */
  signer(leaf?: Leaf): EnvelopeSigner;
  /** The recipient built from `leaf` (default: current encrypt). */
  recipient(leaf?: Leaf): EnvelopeRecipient;
  /** Current and previous encrypt keys. */
  decryptionKeys(): DecryptionKey[];
}

const DAY = 24 * 60 * 60 * 1000;

async function leaf(
  profile: Profile,
  use: LeafUse,
  issuer: { certificate: ParsedCertificate; privateKey: KeyObject },
  now: Date,
  validity: { notBefore?: Date; notAfter?: Date } = {},
): Promise<Leaf> {
  const pair = generateKeyPair(profile, use);
  const certificate = await issueCertificate({ issuer, use, publicKey: pair.publicKey, now, ...validity });
  return { certificate, privateKey: pair.privateKey, publicKey: pair.publicKey, kid: await jwkThumbprint(pair.publicKey) };
}

/** Create one authority's PKI valid around `now`. */
export async function createAuthority(authority: string, profile: Profile, now: Date): Promise<AuthorityFixture> {
  const rootPair = generateKeyPair(profile, "root");
  const root = await createRootCertificate({ authority, ...rootPair, now, notBefore: new Date(now.getTime() - 30 * DAY) });
  const issuer = { certificate: root, privateKey: rootPair.privateKey };
  const sign = await leaf(profile, "sign", issuer, now);
  const previousSign = await leaf(profile, "sign", issuer, now, { notBefore: new Date(now.getTime() - 20 * DAY) });
  const revokedSign = await leaf(profile, "sign", issuer, now);
  const expiredSign = await leaf(profile, "sign", issuer, now, {
    notBefore: new Date(now.getTime() - 10 * DAY),
    notAfter: new Date(now.getTime() - DAY),
  });
  const tls = await leaf(profile, "tls", issuer, now);
  const encrypt = await leaf(profile, "encrypt", issuer, now);
  const previousEncrypt = await leaf(profile, "encrypt", issuer, now, { notBefore: new Date(now.getTime() - 20 * DAY) });
  const crl = await createCrl({
    issuer,
    crlNumber: 1,
    entries: [{ serial: revokedSign.certificate.serial, revokedAt: new Date(now.getTime() - DAY), reason: "keyCompromise" }],
    now: new Date(now.getTime() - DAY),
  });
  const trust: AuthorityTrust = { root, crl };
  return {
    authority,
    profile,
    root,
    rootKey: rootPair.privateKey,
    sign,
    previousSign,
    revokedSign,
    expiredSign,
    tls,
    encrypt,
    previousEncrypt,
    crl,
    trust,
    signer: (which = sign) => ({ privateKey: which.privateKey, certificates: [which.certificate, root], kid: which.kid }),
    recipient: (which = encrypt) => ({ publicKey: which.publicKey, kid: which.kid }),
    decryptionKeys: () => [
      { kid: encrypt.kid, privateKey: encrypt.privateKey },
      { kid: previousEncrypt.kid, privateKey: previousEncrypt.privateKey },
    ],
  };
}

/** GB-UKCA and US-DOJ-OIA in one profile, and a `trustFor` knowing both. */
export interface PeerPair {
  readonly now: Date;
  readonly gb: AuthorityFixture;
  readonly us: AuthorityFixture;
  trustFor(authority: string): AuthorityTrust | undefined;
}

/** Create the two authorities of a test run in `profile`. */
export async function createPeerPair(profile: Profile, now = new Date()): Promise<PeerPair> {
  const [gb, us] = await Promise.all([createAuthority("GB-UKCA", profile, now), createAuthority("US-DOJ-OIA", profile, now)]);
  const byId = new Map([
    [gb.authority, gb.trust],
    [us.authority, us.trust],
  ]);
  return { now, gb, us, trustFor: (authority) => byId.get(authority) };
}

/** Minimal documents of every type (used when schemas/examples has none). */
export const MINIMAL_DOCUMENTS: Readonly<Record<string, Record<string, unknown>>> = {
  "mla-request": { kind: "mla-request", summary: "Request for subscriber records", offences: ["fraud"] },
  "preservation-request": { kind: "preservation-request", provider: "Example Mail", accounts: ["a@example.org"] },
  "status-update": { kind: "status-update", status: "acknowledged" },
  "evidence-manifest": { kind: "evidence-manifest", items: [{ name: "records.csv", size: 1024 }] },
};

/** Every document type the envelope tests round-trip. */
export const DOCUMENT_TYPES = ["mla-request", "preservation-request", "status-update", "evidence-manifest"] as const;

/**
 * Every valid example document of `type` in schemas/examples/<type>/valid-*.json
 * (sorted), or a minimal one when there is none.
 */
export function exampleDocuments(type: string): Array<{ document: Record<string, unknown>; source: string }> {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../schemas/examples", type);
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => /^valid.*\.json$/.test(name)).sort() : [];
  const found = files.flatMap((name) => {
    const value: unknown = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? [{ document: value as Record<string, unknown>, source: `${type}/${name}` }]
      : [];
  });
  return found.length > 0 ? found : [{ document: MINIMAL_DOCUMENTS[type] ?? { kind: type }, source: "minimal" }];
}

/** The first of {@link exampleDocuments}. */
export function exampleDocument(type: string): { document: Record<string, unknown>; source: string } {
  return exampleDocuments(type)[0] as { document: Record<string, unknown>; source: string };
}
