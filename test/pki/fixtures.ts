/**
 * Throwaway authorities for PKI tests: a root, one leaf per use and a CRL,
 * built in memory at a fixed time.
 */
import { spawnSync } from "node:child_process";
import { expect } from "chai";
import { createRootCertificate, issueCertificate } from "../../pki/certificate.js";
import type { Issuer, ParsedCertificate } from "../../pki/certificate.js";
import { createCrl } from "../../pki/crl.js";
import type { ParsedCrl } from "../../pki/crl.js";
import { generateKeyPair } from "../../pki/keys.js";
import type { KeyPair } from "../../pki/keys.js";
import { LEAF_USES } from "../../pki/profiles.js";
import type { LeafUse, Profile } from "../../pki/profiles.js";

/** The fixed "now" of the tests. */
export const NOW = new Date("2026-01-15T12:00:00Z");

/** One authority's PKI, in memory. */
export interface TestAuthority {
  authority: string;
  profile: Profile;
  root: ParsedCertificate;
  rootKeys: KeyPair;
  issuer: Issuer;
  leaves: Record<LeafUse, ParsedCertificate>;
  leafKeys: Record<LeafUse, KeyPair>;
  crl: ParsedCrl;
}

/** Builds a root, one leaf per use and an empty CRL (number 1) at `now`. */
export async function makeAuthority(profile: Profile, authority = "GB-UKCA", now = NOW): Promise<TestAuthority> {
  const rootKeys = generateKeyPair(profile, "root");
  const root = await createRootCertificate({ authority, ...rootKeys, now });
  const issuer = { certificate: root, privateKey: rootKeys.privateKey };
  const leaves = {} as Record<LeafUse, ParsedCertificate>;
  const leafKeys = {} as Record<LeafUse, KeyPair>;
  for (const use of LEAF_USES) {
    leafKeys[use] = generateKeyPair(profile, use);
    leaves[use] = await issueCertificate({ issuer, use, publicKey: leafKeys[use].publicKey, dns: ["valise.example.org"], ips: ["192.0.2.10"], now });
  }
  const crl = await createCrl({ issuer, crlNumber: 1, entries: [], now });
  return { authority, profile, root, rootKeys, issuer, leaves, leafKeys, crl };
}

/** Runs a function expected to throw a PkiError with `code`; returns the error. */
export function expectCode(fn: () => unknown, code: string): Error & { code: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    expect((error as { code?: string }).code, String(error)).to.equal(code);
    return error as Error & { code: string };
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

/** Awaits a promise expected to reject with `code`; returns the error. */
export async function expectCodeAsync(promise: Promise<unknown>, code: string): Promise<Error & { code: string; details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    expect((error as { code?: string }).code, String(error)).to.equal(code);
    return error as Error & { code: string };
  }
  throw new Error(`expected ${code}, the promise resolved`);
}

/** Runs openssl; returns {status, output} (stdout+stderr) without throwing on a non-zero exit. */
export function openssl(args: string[]): { status: number; output: string } {
  const result = spawnSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return { status: result.status ?? 1, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}
