/**
 * Strict standard base64 (RFC 4648 §4) for the text formats of the audit
 * log: signed notes, checkpoints, witness requests.
 */

const BASE64_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The bytes of `text` if it is canonical padded base64, else undefined.
 * Node's decoder skips invalid characters and ignores non-zero padding bits,
 * so one value would have many spellings; hostile notes and proofs could use
 * that to smuggle distinct-looking but equal signatures or hashes. Only the
 * one canonical spelling is accepted.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!BASE64_SHAPE.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : undefined;
}
