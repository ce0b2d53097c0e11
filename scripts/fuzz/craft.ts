/**
 * Envelopes built layer by layer, as a peer gone rogue (or a buggy one) would
 * build them: every layer validly signed and encrypted with real keys, except
 * for the one thing a case tampers with. `sealEnvelope` refuses to make most
 * of these, which is why the harness has its own builder.
 */
import { CompactEncrypt, CompactSign, FlattenedSign } from "jose";
import type { KeyObject } from "node:crypto";
import { jwkThumbprint } from "../../pki/keys.js";
import { canonicalBytes, canonicalize } from "../../gateway/envelope/canonical-json.js";
import { encodeX5c } from "../../gateway/envelope/x5c.js";
import type { ParsedCertificate } from "../../pki/certificate.js";

/** A signing key and its certificate chain. */
export interface CraftSigner {
  readonly key: KeyObject;
  readonly certificates: readonly ParsedCertificate[];
}

/** What to build; each `…Header` is merged over the honest header (a `null` member is removed). */
export interface CraftInput {
  readonly document: unknown;
  /** The routing header, honest fields first; `routing` overrides them (null removes). */
  readonly routing: Record<string, unknown>;
  readonly outerSigner: CraftSigner;
  readonly innerSigner?: CraftSigner;
  readonly recipientKey: KeyObject;
  readonly outerHeader?: Record<string, unknown>;
  readonly innerHeader?: Record<string, unknown>;
  readonly jweHeader?: Record<string, unknown>;
  /** Raw bytes of the inner payload instead of the canonical document. */
  readonly innerPayload?: Uint8Array;
  /** Tamper with the compact inner JWS / JWE text before it is wrapped. */
  readonly mutateInner?: (compact: string) => string;
  readonly mutateJwe?: (compact: string) => string;
}

/** The wire object of a crafted envelope and its bytes. */
export interface Crafted {
  readonly wire: { protected: string; payload: string; signature: string };
  readonly bytes: Buffer;
}

function merged(honest: Record<string, unknown>, overrides: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...honest };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

const ALG: Record<string, string> = { ed25519: "EdDSA", ec: "ES256" };

/** Builds the envelope (see {@link CraftInput}). */
export async function craftEnvelope(input: CraftInput): Promise<Crafted> {
  const inner = input.innerSigner ?? input.outerSigner;
  const id = input.routing["id"];
  const algOf = (key: KeyObject) => ALG[key.asymmetricKeyType ?? ""] ?? "EdDSA";
  const innerHeader = merged(
    { alg: algOf(inner.key), kid: await jwkThumbprint(inner.key), x5c: encodeX5c(inner.certificates), eid: id, typ: "valise-document+jws", cty: input.routing["type"] },
    input.innerHeader,
  );
  const payload = input.innerPayload ?? canonicalBytes(input.document as Record<string, unknown>);
  let innerJws = await signedOrSwapped(innerHeader, algOf(inner.key), (header) => new CompactSign(payload).setProtectedHeader(header as never).sign(inner.key));
  if (input.mutateInner !== undefined) innerJws = input.mutateInner(innerJws);

  const jweHeader = merged({ alg: "ECDH-ES+A256KW", enc: "A256GCM", kid: await jwkThumbprint(input.recipientKey), eid: id, typ: "valise-document+jwe" }, input.jweHeader);
  const encrypt = (header: Record<string, unknown>) => new CompactEncrypt(new TextEncoder().encode(innerJws)).setProtectedHeader(header as never).encrypt(input.recipientKey);
  let jwe: string;
  try {
    if (jweHeader["alg"] !== "ECDH-ES+A256KW" || jweHeader["enc"] !== "A256GCM") throw new Error("not an algorithm jose should use here");
    jwe = await encrypt(jweHeader);
  } catch {
    // A header jose would not encrypt under: an honest JWE with the lying header in place of its own.
    jwe = replaceHeader(await encrypt({ alg: "ECDH-ES+A256KW", enc: "A256GCM", kid: jweHeader["kid"], eid: id, typ: "valise-document+jwe" }), jweHeader);
  }
  if (input.mutateJwe !== undefined) jwe = input.mutateJwe(jwe);

  // A routing `payload` given by the case stands in place of the JWE.
  const routing: Record<string, unknown> = { payload: jwe, ...input.routing };
  const outer = input.outerSigner;
  const outerHeader = merged({ alg: algOf(outer.key), kid: await jwkThumbprint(outer.key), x5c: encodeX5c(outer.certificates), eid: id, typ: "valise-envelope+jws" }, input.outerHeader);
  const compact = await signedOrSwapped(outerHeader, algOf(outer.key), async (header) => {
    const signed = await new FlattenedSign(canonicalBytes(routing as never)).setProtectedHeader(header as never).sign(outer.key);
    return `${signed.protected ?? ""}.${signed.payload}.${signed.signature}`;
  });
  const [protectedPart, payloadPart, signaturePart] = compact.split(".") as [string, string, string];
  const wire = { protected: protectedPart, payload: payloadPart, signature: signaturePart };
  return { wire, bytes: Buffer.from(canonicalize(wire)) };
}

/**
 * Signs under `header` when jose will (the key's own alg, members jose
 * accepts); otherwise signs under an honest header and puts `header` in its
 * place — the signature then covers another header, as a forger's would.
 */
async function signedOrSwapped(header: Record<string, unknown>, keyAlg: string, sign: (header: Record<string, unknown>) => Promise<string>): Promise<string> {
  if (header["alg"] === keyAlg) {
    try {
      return await sign(header);
    } catch {
      // jose refused a member (crit, b64…): fall through
    }
  }
  const honest = Object.fromEntries(Object.entries(header).filter(([key]) => ["kid", "x5c", "eid", "typ", "cty"].includes(key)));
  return replaceHeader(await sign({ ...honest, alg: keyAlg }), header);
}

/** The compact serialisation with its first part replaced by `header` (its signature then no longer covers it). */
function replaceHeader(compact: string, header: Record<string, unknown>): string {
  const parts = compact.split(".");
  parts[0] = Buffer.from(JSON.stringify(header)).toString("base64url");
  return parts.join(".");
}

/** Flips one random bit of base64url `text`'s decoded bytes (`at` in [0,1) picks the byte), re-encoded canonically. */
export function flipBit(text: string, at: number, bit: number): string {
  const bytes = Buffer.from(text, "base64url");
  if (bytes.length === 0) return "A";
  const index = Math.min(bytes.length - 1, Math.floor(at * bytes.length));
  bytes[index] = bytes[index]! ^ (1 << (bit & 7));
  return bytes.toString("base64url");
}
