/**
 * Item receipts: the receiving authority's signed statement that it holds an
 * evidence item whose plaintext has exactly the manifest's size and SHA-256,
 * stored sealed under `sealedSha256`, and logged in its audit log. A compact
 * JWS by the receiver's `sign` key (`typ` {@link ITEM_RECEIPT_TYP}) over the
 * RFC 8785 canonical JSON of
 * `{caseId, packageId, itemId, from, to, size, sha256, sealedSha256, receivedAt, log}`,
 * where `log` is the position of the `evidence.item.received` entry (entry,
 * signed checkpoint, inclusion proof) exactly as envelope receipts carry it.
 *
 * The sender keeps it as proof of delivery, so it is checked like an
 * envelope receipt: the header is attacker-controlled, the signer must chain
 * to the receiver's pinned root, and every field must name the item the
 * sender sent — a receipt for another item, or for other bytes, proves nothing.
 */
import { verifyEntryInLog } from "../audit/checkpoints.js";
import type { KeyObject } from "node:crypto";
import { CompactSign } from "jose";
import { isAuthorityId } from "../../pki/authority.js";
import { jwkThumbprint } from "../../pki/keys.js";
import { GatewayError } from "../errors.js";
import { signingAlgorithmFor } from "../envelope/algorithms.js";
import { canonicalBytes } from "../envelope/canonical-json.js";
import { verifyReceiptJws, type ReceiptLogPosition } from "../envelope/receipt.js";
import { isEnvelopeId, parseTimestamp } from "../envelope/routing-header.js";
import type { EnvelopeSigner } from "../envelope/seal.js";
import { decodeBase64url, parseJsonObject, splitCompact } from "../envelope/serialization.js";
import type { AuthorityTrust } from "../envelope/signer.js";
import type { SignerIdentity } from "../envelope/types.js";
import { encodeX5c } from "../envelope/x5c.js";
import type { ParsedCertificate } from "../../pki/certificate.js";
import { isOriginOf } from "../audit/epoch-origin.js";

/** `typ` of an item receipt's compact JWS. */
export const ITEM_RECEIPT_TYP = "valise-evidence-receipt+jws";

/** The audit kind an item receipt's log entry must have. */
export const ITEM_RECEIVED_KIND = "evidence.item.received";

/** The signed content of an item receipt. */
export interface ItemReceipt {
  readonly caseId: string;
  readonly packageId: string;
  readonly itemId: string;
  /** The sender of the item. */
  readonly from: string;
  /** The receiver, which signs. */
  readonly to: string;
  /** Plaintext bytes, as verified. */
  readonly size: number;
  /** SHA-256 of the plaintext, hex, as verified (equal to the manifest's). */
  readonly sha256: string;
  /** SHA-256 of the sealed stream as stored, hex. */
  readonly sealedSha256: string;
  readonly receivedAt: string;
  readonly log: ReceiptLogPosition;
}

/** What an item receipt must name. */
export type ExpectedItemReceipt = Pick<ItemReceipt, "caseId" | "packageId" | "itemId" | "from" | "to" | "size" | "sha256">;

/** Options of {@link verifyItemReceipt}. */
export interface VerifyItemReceiptOptions {
  readonly expected: ExpectedItemReceipt;
  /** Root and CRL of the receiver. */
  readonly trustFor: (authority: string) => AuthorityTrust | undefined;
  /** The receiver's `log` public keys (current and previous). */
  readonly logKeys: readonly KeyObject[];
  readonly now: Date;
  readonly clockSkewMs?: number;
  readonly parsedCertificates?: Map<string, ParsedCertificate>;
}

/** A verified item receipt: who signed it and the receiver's checkpoint it carries. */
export interface VerifiedItemReceipt {
  readonly receipt: ItemReceipt;
  readonly signer: SignerIdentity;
  readonly checkpoint: { readonly size: number; readonly root: Buffer; readonly note: string };
}

const MEMBERS = new Set(["caseId", "packageId", "itemId", "from", "to", "size", "sha256", "sealedSha256", "receivedAt", "log"]);
const LOG_MEMBERS = new Set(["origin", "index", "checkpoint", "inclusionProof", "entry"]);
const SHA256_HEX = /^[0-9a-f]{64}$/;
const HASH_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

/** Signs an item receipt with the receiver's `sign` key. */
export async function signItemReceipt(receipt: ItemReceipt, signer: EnvelopeSigner): Promise<string> {
  const checked = checkItemReceipt({ ...receipt } as Record<string, unknown>, "ENVELOPE_INVALID_ARGUMENT");
  const kid = await jwkThumbprint(signer.privateKey);
  if (signer.kid !== undefined && signer.kid !== kid) throw new GatewayError("ENVELOPE_INVALID_ARGUMENT", "The signer kid is not the JWK thumbprint of its key.");
  return new CompactSign(canonicalBytes(checked))
    .setProtectedHeader({ alg: signingAlgorithmFor(signer.privateKey), kid, x5c: encodeX5c(signer.certificates), typ: ITEM_RECEIPT_TYP })
    .sign(signer.privateKey);
}

/** Reads an item receipt's payload without verifying it (for listings of receipts already verified or issued). */
export function readItemReceipt(jws: string): ItemReceipt {
  const [, payload] = splitCompact(jws, 3, "item receipt", "RECEIPT_MALFORMED") as [string, string, string];
  return checkItemReceipt(parseJsonObject(decodeBase64url(payload, "item receipt payload", "RECEIPT_MALFORMED"), "item receipt payload", "RECEIPT_MALFORMED"), "RECEIPT_MALFORMED");
}

/**
 * Verifies an item receipt: shape; that it names the expected item, size
 * and digest; its signer (chained to the receiver's root, valid at
 * `receivedAt`, not revoked) and signature; and its log position (the
 * checkpoint is signed by the receiver's log key, the entry records the
 * reception of this item, the inclusion proof leads to the checkpoint's root).
 *
 * @throws GatewayError `RECEIPT_MALFORMED`, `RECEIPT_MISMATCH`,
 *   `RECEIPT_SIGNER_UNTRUSTED`, `RECEIPT_BAD_SIGNATURE`, or an `AUDIT_*`
 *   code for a bad log position.
 */
export async function verifyItemReceipt(jws: unknown, options: VerifyItemReceiptOptions): Promise<VerifiedItemReceipt> {
  const { receipt, signer } = await verifyReceiptJws(
    jws,
    { typ: ITEM_RECEIPT_TYP, name: "item receipt", check: (payload) => checkItemReceipt(payload, "RECEIPT_MALFORMED") },
    options.expected,
    options,
  );
  return { receipt, signer, checkpoint: verifyItemLogPosition(receipt, options.logKeys) };
}

/**
 * The receipt's log position against the receiver's log keys: the
 * checkpoint is signed by that log, the entry is an `evidence.item.received`
 * entry naming this package, item, size and digest, and the inclusion proof
 * leads from it to the checkpoint's root.
 */
function verifyItemLogPosition(receipt: ItemReceipt, logKeys: readonly KeyObject[]): { size: number; root: Buffer; note: string } {
  return verifyEntryInLog(receipt.log, {
    receiver: receipt.to,
    logKeys,
    what: "the reception of this item",
    recordsIt: (entry) => {
      const details = entry.details;
      return (
        entry.kind === ITEM_RECEIVED_KIND &&
        entry.caseId === receipt.caseId &&
        details?.["packageId"] === receipt.packageId &&
        details["itemId"] === receipt.itemId &&
        details["size"] === receipt.size &&
        details["sha256"] === receipt.sha256 &&
        details["sealedSha256"] === receipt.sealedSha256
      );
    },
  });
}

function checkItemReceipt(value: Record<string, unknown>, code: "RECEIPT_MALFORMED" | "ENVELOPE_INVALID_ARGUMENT"): ItemReceipt {
  const fail = (field: string, why: string): never => {
    throw new GatewayError(code, `Item receipt ${field}: ${why}.`, { details: { field } });
  };
  for (const key of Object.keys(value)) if (!MEMBERS.has(key)) fail(key, "unknown member");
  for (const field of ["caseId", "packageId", "itemId"]) if (!isEnvelopeId(value[field])) fail(field, "not a UUID");
  if (!isAuthorityId(value["from"])) fail("from", "not an authority id");
  if (!isAuthorityId(value["to"])) fail("to", "not an authority id");
  if (!Number.isSafeInteger(value["size"]) || (value["size"] as number) < 0) fail("size", "not a non-negative integer");
  for (const field of ["sha256", "sealedSha256"]) if (typeof value[field] !== "string" || !SHA256_HEX.test(value[field] as string)) fail(field, "not 64 hex digits");
  if (parseTimestamp(value["receivedAt"]) === undefined) fail("receivedAt", "not an RFC 3339 date-time");
  const log = value["log"];
  if (typeof log !== "object" || log === null || Array.isArray(log)) return fail("log", "not an object");
  const position = log as Record<string, unknown>;
  for (const key of Object.keys(position)) if (!LOG_MEMBERS.has(key)) fail(`log.${key}`, "unknown member");
  if (typeof position["origin"] !== "string" || !isOriginOf(value["to"] as string, position["origin"])) fail("log.origin", "not valise/<to>[/epoch-N]");
  if (!Number.isSafeInteger(position["index"]) || (position["index"] as number) < 0) fail("log.index", "not a non-negative integer");
  if (typeof position["checkpoint"] !== "string" || position["checkpoint"].length === 0 || position["checkpoint"].length > 65536) fail("log.checkpoint", "not a signed note");
  const proof = position["inclusionProof"];
  if (!Array.isArray(proof) || proof.length > 64 || !proof.every((hash) => typeof hash === "string" && HASH_BASE64.test(hash))) fail("log.inclusionProof", "not a list of base64 SHA-256 hashes");
  const entry = position["entry"];
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) fail("log.entry", "not an object");
  return {
    caseId: value["caseId"] as string,
    packageId: value["packageId"] as string,
    itemId: value["itemId"] as string,
    from: value["from"] as string,
    to: value["to"] as string,
    size: value["size"] as number,
    sha256: value["sha256"] as string,
    sealedSha256: value["sealedSha256"] as string,
    receivedAt: value["receivedAt"] as string,
    log: {
      origin: position["origin"] as string,
      index: position["index"] as number,
      checkpoint: position["checkpoint"] as string,
      inclusionProof: [...(proof as string[])],
      entry: entry as Record<string, unknown>,
    },
  };
}

