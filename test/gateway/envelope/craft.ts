/**
 * Hand-crafted envelopes for negative tests: every layer built with jose from
 * explicit headers, so a test can change exactly one thing (an eid, a cty, a
 * signer, an algorithm) and still have every other check pass. `alg: none` and
 * HS256 layers are built by hand, as an attacker would.
 */
import { randomUUID } from "node:crypto";
import { CompactEncrypt, CompactSign, FlattenedSign } from "jose";
import { canonicalBytes } from "../../../gateway/envelope/canonical-json.js";
import type { FlattenedJws } from "../../../gateway/envelope/types.js";
import type { ParsedCertificate } from "../../../pki/certificate.js";
import type { AuthorityFixture, Leaf, PeerPair } from "./fixtures.js";

/** Header overrides: a value replaces, `undefined` removes. */
export type HeaderPatch = Record<string, unknown>;

/** What to craft; everything defaults to a valid GB-UKCA → US-DOJ-OIA envelope. */
export interface CraftOptions {
  readonly pair: PeerPair;
  readonly from?: AuthorityFixture;
  readonly to?: AuthorityFixture;
  readonly document?: Record<string, unknown>;
  readonly type?: string;
  readonly id?: string;
  readonly createdAt?: string;
  readonly routing?: HeaderPatch;
  readonly innerSigner?: Leaf;
  readonly innerCertificates?: readonly ParsedCertificate[];
  readonly outerSigner?: Leaf;
  readonly outerCertificates?: readonly ParsedCertificate[];
  readonly recipientKey?: Leaf;
  readonly innerHeader?: HeaderPatch;
  readonly jweHeader?: HeaderPatch;
  readonly outerHeader?: HeaderPatch;
  /** Rewrite the inner compact JWS before encryption. */
  readonly mutateInner?: (jws: string) => string;
  /** Rewrite the compact JWE before the outer signature. */
  readonly mutateJwe?: (jwe: string) => string;
}

const ALG_OF: Record<string, string> = { ed25519: "EdDSA", p256: "ES256", p384: "ES384" };

function patch(base: Record<string, unknown>, overrides: HeaderPatch | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) delete result[key];
    else result[key] = value;
  }
  return result;
}

function x5cOf(certificates: readonly ParsedCertificate[]): string[] {
  return certificates.map((certificate) => certificate.der.toString("base64"));
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** Sign with jose, or by hand for `none`/HS256 (the attacker's algorithms). */
async function signCompact(payload: Uint8Array, header: Record<string, unknown>, signer: Leaf): Promise<string> {
  if (header.alg === "none") return `${b64url(header)}.${Buffer.from(payload).toString("base64url")}.`;
  if (header.alg === "HS256") {
    // Key confusion: HMAC keyed with the signer's public key bytes, which the verifier also holds.
    const secret = new Uint8Array(signer.publicKey.export({ format: "der", type: "spki" }));
    return new CompactSign(payload).setProtectedHeader(header as { alg: string }).sign(secret);
  }
  return new CompactSign(payload).setProtectedHeader(header as { alg: string }).sign(signer.privateKey);
}

/** Build an envelope from explicit layers. */
export async function craftEnvelope(options: CraftOptions): Promise<FlattenedJws> {
  const from = options.from ?? options.pair.gb;
  const to = options.to ?? options.pair.us;
  const id = options.id ?? randomUUID();
  const type = options.type ?? "mla-request";
  const alg = ALG_OF[from.profile] as string;
  const innerSigner = options.innerSigner ?? from.sign;
  const outerSigner = options.outerSigner ?? from.sign;
  const recipientKey = options.recipientKey ?? to.encrypt;

  const innerHeader = patch(
    { alg, kid: innerSigner.kid, x5c: x5cOf(options.innerCertificates ?? [innerSigner.certificate]), eid: id, typ: "valise-document+jws", cty: type },
    options.innerHeader,
  );
  let inner = await signCompact(canonicalBytes(options.document ?? { kind: type, note: "crafted" }), innerHeader, innerSigner);
  if (options.mutateInner) inner = options.mutateInner(inner);

  const jweHeader = patch({ alg: "ECDH-ES+A256KW", enc: "A256GCM", kid: recipientKey.kid, eid: id, typ: "valise-document+jwe" }, options.jweHeader);
  let jwe = await new CompactEncrypt(new TextEncoder().encode(inner))
    .setProtectedHeader(jweHeader as { alg: string; enc: string })
    .encrypt(recipientKey.publicKey);
  if (options.mutateJwe) jwe = options.mutateJwe(jwe);

  const routing = patch(
    {
      valise: 1,
      id,
      type,
      from: from.authority,
      to: to.authority,
      caseId: "case-2025-0001",
      priority: "normal",
      createdAt: options.createdAt ?? options.pair.now.toISOString(),
      payload: jwe,
    },
    options.routing,
  );
  const outerHeader = patch(
    { alg, kid: outerSigner.kid, x5c: x5cOf(options.outerCertificates ?? [outerSigner.certificate, from.root]), eid: id, typ: "valise-envelope+jws" },
    options.outerHeader,
  );
  const payload = canonicalBytes(routing);
  if (outerHeader.alg === "none" || outerHeader.alg === "HS256") {
    const [protectedPart, payloadPart, signature] = (await signCompact(payload, outerHeader, outerSigner)).split(".");
    return { protected: protectedPart as string, payload: payloadPart as string, signature: signature as string };
  }
  const outer = await new FlattenedSign(payload).setProtectedHeader(outerHeader as { alg: string }).sign(outerSigner.privateKey);
  return { protected: outer.protected as string, payload: outer.payload, signature: outer.signature };
}

/** Flip the lowest bit of byte `index` (negative counts from the end) of a base64url string's bytes. */
export function flipBase64url(text: string, index: number): string {
  const bytes = Buffer.from(text, "base64url");
  const at = index < 0 ? bytes.length + index : index;
  bytes[at] = (bytes[at] as number) ^ 0x01;
  return bytes.toString("base64url");
}

/** Replace one part of a compact serialisation. */
export function replacePart(compact: string, index: number, replace: (part: string) => string): string {
  const parts = compact.split(".");
  parts[index] = replace(parts[index] as string);
  return parts.join(".");
}

/** Re-encode the decoded JSON of a base64url part after editing its text. */
export function editJsonPart(part: string, edit: (json: string) => string): string {
  return Buffer.from(edit(Buffer.from(part, "base64url").toString("utf8"))).toString("base64url");
}
