/**
 * Certificate profiles: which key algorithm each use gets in each profile,
 * and the exact key usages / extended key usages of each use (DESIGN.md, PKI).
 */
import { PkiError } from "./errors.js";

/** A PKI profile: `ed25519` (default), `p256` (HSM/FIPS shops), `p384`. */
export type Profile = "ed25519" | "p256" | "p384";

/** Every profile, default first. */
export const PROFILES: readonly Profile[] = ["ed25519", "p256", "p384"];

/** What a certificate is for. */
export type CertificateUse = "root" | "tls" | "sign" | "encrypt" | "log";

/** The leaf uses, in the order a PKI issues them. */
export const LEAF_USES: readonly Exclude<CertificateUse, "root">[] = ["tls", "sign", "encrypt", "log"];

/** A leaf use (anything but `root`). */
export type LeafUse = (typeof LEAF_USES)[number];

/** Key algorithms Valise uses. EC keys serve ECDSA (root/tls/sign) or ECDH (encrypt). */
export type KeyAlgorithm = "Ed25519" | "X25519" | "P-256" | "P-384";

/** Key usage bit names, as RFC 5280 spells them. */
export type KeyUsageName =
  | "digitalSignature"
  | "nonRepudiation"
  | "keyEncipherment"
  | "dataEncipherment"
  | "keyAgreement"
  | "keyCertSign"
  | "cRLSign"
  | "encipherOnly"
  | "decipherOnly";

/** OID of id-kp-serverAuth. */
export const EKU_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
/** OID of id-kp-clientAuth. */
export const EKU_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/** Key usages and EKUs of one use; a certificate must carry exactly these. */
export interface UsagePolicy {
  readonly keyUsage: readonly KeyUsageName[];
  /** EKU OIDs; empty means the extension is absent. */
  readonly extendedKeyUsage: readonly string[];
  readonly ca: boolean;
}

/** The usage policy per use (exact sets, so no use can pass for another). */
export const USAGE_POLICIES: Readonly<Record<CertificateUse, UsagePolicy>> = {
  root: { keyUsage: ["keyCertSign", "cRLSign"], extendedKeyUsage: [], ca: true },
  tls: { keyUsage: ["digitalSignature"], extendedKeyUsage: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH], ca: false },
  sign: { keyUsage: ["digitalSignature", "nonRepudiation"], extendedKeyUsage: [], ca: false },
  encrypt: { keyUsage: ["keyAgreement"], extendedKeyUsage: [], ca: false },
  log: { keyUsage: ["digitalSignature"], extendedKeyUsage: [], ca: false },
};

/** True when `value` names a profile. */
export function isProfile(value: unknown): value is Profile {
  return typeof value === "string" && (PROFILES as readonly string[]).includes(value);
}

/** True when `value` names a certificate use. */
export function isCertificateUse(value: unknown): value is CertificateUse {
  return value === "root" || isLeafUse(value);
}

/** True when `value` names a leaf use. */
export function isLeafUse(value: unknown): value is LeafUse {
  return typeof value === "string" && (LEAF_USES as readonly string[]).includes(value);
}

/** Throws `PKI_INVALID_ARGUMENT` unless `value` is a profile. */
export function assertProfile(value: unknown): asserts value is Profile {
  if (!isProfile(value)) {
    throw new PkiError("PKI_INVALID_ARGUMENT", `Unknown profile ${JSON.stringify(value)} (expected ${PROFILES.join(", ")}).`);
  }
}

/**
 * The key algorithm for `use` in `profile`. `log` is Ed25519 in every profile
 * (C2SP signed notes are Ed25519).
 */
export function keyAlgorithmFor(profile: Profile, use: CertificateUse): KeyAlgorithm {
  if (use === "log") return "Ed25519";
  switch (profile) {
    case "ed25519":
      return use === "encrypt" ? "X25519" : "Ed25519";
    case "p256":
      return "P-256";
    case "p384":
      return "P-384";
  }
}

/** Key algorithms a certificate of `use` may carry, whatever the profile. */
export function allowedKeyAlgorithms(use: CertificateUse): readonly KeyAlgorithm[] {
  if (use === "log") return ["Ed25519"];
  if (use === "encrypt") return ["X25519", "P-256", "P-384"];
  return ["Ed25519", "P-256", "P-384"];
}
