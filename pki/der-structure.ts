/**
 * The few raw DER slices signature checks need and the parsers do not expose:
 * the signed TBS bytes, the signature algorithm and value of a CRL, and the
 * raw subject of a certificate. Raw bytes, never re-encodings: a signature
 * covers exactly what was signed.
 */
import type * as Asn1js from "asn1js";
import { peculiar } from "./x509-provider.js";

/** Raw pieces of a signed X.509 structure (Certificate or CertificateList). */
export interface SignedStructure {
  /** The DER of the `tbs…` SEQUENCE, exactly as signed. */
  readonly tbs: Buffer;
  /** The raw elements of the TBS SEQUENCE, in order. */
  readonly tbsElements: readonly Buffer[];
  /** DER of the outer signatureAlgorithm AlgorithmIdentifier. */
  readonly signatureAlgorithm: Buffer;
  /** OID of the outer signature algorithm. */
  readonly signatureAlgorithmOid: string;
  /** The signature bits. */
  readonly signature: Buffer;
}

function raw(block: Asn1js.AsnType): Buffer {
  return Buffer.from(block.valueBeforeDecodeView);
}

function sequenceItems(block: Asn1js.AsnType): Asn1js.AsnType[] {
  if (!(block instanceof peculiar().asn1js.Sequence)) throw new Error("expected a SEQUENCE");
  return block.valueBlock.value as Asn1js.AsnType[];
}

/**
 * Splits a signed structure `SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING }`.
 * Throws on malformed DER or trailing bytes (hostile input: CRLs come from peers).
 */
export function splitSignedStructure(der: Uint8Array): SignedStructure {
  const { asn1js } = peculiar();
  const parsed = asn1js.fromBER(new Uint8Array(der));
  if (parsed.offset !== der.length) throw new Error("malformed DER or trailing bytes");
  const [tbs, algorithm, signature] = sequenceItems(parsed.result);
  if (tbs === undefined || algorithm === undefined || signature === undefined) throw new Error("expected three elements");
  const [oid] = sequenceItems(algorithm);
  if (!(oid instanceof asn1js.ObjectIdentifier)) throw new Error("expected an algorithm OID");
  if (!(signature instanceof asn1js.BitString) || signature.valueBlock.unusedBits !== 0) throw new Error("expected a BIT STRING");
  return {
    tbs: raw(tbs),
    tbsElements: sequenceItems(tbs).map(raw),
    signatureAlgorithm: raw(algorithm),
    signatureAlgorithmOid: oid.valueBlock.toString(),
    signature: Buffer.from(signature.valueBlock.valueHexView),
  };
}

/** The raw DER of a certificate's subject Name. */
export function rawSubjectOfCertificate(der: Uint8Array): Buffer {
  const { tbsElements } = splitSignedStructure(der);
  // TBSCertificate: [0] version (explicit, present in v3), serial, signature, issuer, validity, subject, …
  const offset = tbsElements[0]?.[0] === 0xa0 ? 1 : 0;
  const subject = tbsElements[offset + 4];
  if (subject === undefined) throw new Error("no subject");
  return subject;
}
