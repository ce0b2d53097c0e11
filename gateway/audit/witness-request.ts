/**
 * The body of a C2SP tlog-witness `add-checkpoint` request
 * (https://c2sp.org/tlog-witness):
 *
 *     old <size>\n
 *     <base64 consistency proof hash>\n   (0 to 63 lines)
 *     \n
 *     <checkpoint note>
 *
 * The body comes from any client on the network (the protocol authenticates
 * nothing but the checkpoint signature): it is parsed strictly and bounded
 * before anything else looks at it.
 */
import { GatewayError } from "../errors.js";
import { decodeBase64Strict } from "./base64.js";
import { HASH_SIZE, isSafeIndex } from "./merkle.js";
import { MAX_NOTE_BYTES, parseNote } from "./note.js";

/**
 * The witness's submission prefix: a Valise gateway serves
 * `POST <prefix>/add-checkpoint` on its peer API, as the spec names it, so
 * any tlog-witness client can submit to it (and Valise's own client uses
 * the same path).
 */
export const WITNESS_SUBMISSION_PREFIX = "/peer/v1/witness";

/** `POST` path of add-checkpoint. */
export const ADD_CHECKPOINT_PATH = `${WITNESS_SUBMISSION_PREFIX}/add-checkpoint`;

/** Most consistency proof lines a request may carry (the spec's limit). */
export const MAX_WITNESS_PROOF_LINES = 63;

/** Largest request body accepted, in bytes: the largest note plus a full proof. */
export const MAX_WITNESS_REQUEST_BYTES = MAX_NOTE_BYTES + 32 + MAX_WITNESS_PROOF_LINES * 45;

/** A parsed add-checkpoint request. */
export interface AddCheckpointRequest {
  /** The tree size of the latest checkpoint the client believes the witness cosigned (0 if none). */
  readonly oldSize: number;
  /** Consistency proof from `oldSize` to the checkpoint's size. */
  readonly proof: readonly Buffer[];
  /** The checkpoint note, well formed but not verified. */
  readonly checkpoint: string;
}

/**
 * The request body. Throws AUDIT_WITNESS_REQUEST_MALFORMED for a request that
 * would not parse back.
 */
export function formatAddCheckpointRequest(request: AddCheckpointRequest): string {
  const body =
    `old ${request.oldSize}\n` + request.proof.map((hash) => `${Buffer.from(hash).toString("base64")}\n`).join("") + "\n" + request.checkpoint;
  parseAddCheckpointRequest(body);
  return body;
}

/**
 * Parses an add-checkpoint body strictly. Throws
 * AUDIT_WITNESS_REQUEST_MALFORMED (HTTP 400 in the protocol).
 *
 * What the witness must check next, in the spec's order: the checkpoint's
 * log signature (`verifyCheckpoint`; unknown origin 404, no valid signature
 * 403); `oldSize <= checkpoint.size` (else 400); `oldSize` equal to the size
 * it last cosigned (else 409 with that size); the proof
 * (`verifyConsistency`, 422; it also refuses a non-empty proof for old size
 * 0, and for equal sizes different roots, which the spec answers with 409).
 */
export function parseAddCheckpointRequest(body: string | Uint8Array): AddCheckpointRequest {
  const text = decode(body);
  const firstEnd = text.indexOf("\n");
  if (firstEnd < 0) throw bad("no old size line");
  const match = /^old (0|[1-9][0-9]{0,15})$/.exec(text.slice(0, firstEnd));
  const oldSize = match === null ? Number.NaN : Number(match[1]);
  if (!isSafeIndex(oldSize)) throw bad("the old size line is not 'old' and a decimal without leading zeros");
  const proof: Buffer[] = [];
  let at = firstEnd + 1;
  for (;;) {
    const end = text.indexOf("\n", at);
    if (end < 0) throw bad("no blank line before the checkpoint");
    const line = text.slice(at, end);
    at = end + 1;
    if (line.length === 0) break;
    if (proof.length === MAX_WITNESS_PROOF_LINES) throw bad("more than 63 consistency proof lines");
    const hash = decodeBase64Strict(line);
    if (hash === undefined || hash.length !== HASH_SIZE) throw bad("a proof line is not base64 of a 32-byte hash");
    proof.push(hash);
  }
  const checkpoint = text.slice(at);
  try {
    parseNote(checkpoint);
  } catch (cause) {
    throw new GatewayError("AUDIT_WITNESS_REQUEST_MALFORMED", "Malformed add-checkpoint request: the checkpoint is not a signed note.", {
      cause,
      details: { reason: "checkpoint is not a signed note" },
    });
  }
  return { oldSize, proof, checkpoint };
}

function decode(body: string | Uint8Array): string {
  if (typeof body === "string") {
    if (body.length > MAX_WITNESS_REQUEST_BYTES || Buffer.byteLength(body, "utf8") > MAX_WITNESS_REQUEST_BYTES) throw bad("too large");
    return body;
  }
  if (body.length > MAX_WITNESS_REQUEST_BYTES) throw bad("too large");
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch (cause) {
    throw new GatewayError("AUDIT_WITNESS_REQUEST_MALFORMED", "Malformed add-checkpoint request: not valid UTF-8.", {
      cause,
      details: { reason: "not valid UTF-8" },
    });
  }
}

function bad(reason: string): GatewayError {
  return new GatewayError("AUDIT_WITNESS_REQUEST_MALFORMED", `Malformed add-checkpoint request: ${reason}.`, { details: { reason } });
}
