/**
 * The signature of a webhook request: HMAC-SHA256 with the target's shared
 * secret over `<unix seconds>.<body>`, sent as
 *
 *     Valise-Signature: t=1767225600,v1=<64 hex>
 *
 * beside `Valise-Event-Id`. The receiver recomputes the HMAC over the raw
 * body bytes (not re-serialised JSON), compares in constant time, and
 * refuses a timestamp far from its clock: a captured request replayed later
 * is refused, and an edited body or timestamp does not verify. Receivers
 * deduplicate by event id, since delivery is at least once.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** The header carrying the signature. */
export const SIGNATURE_HEADER = "valise-signature";
/** The header carrying the event id (the receiver's idempotency key). */
export const EVENT_ID_HEADER = "valise-event-id";
/** How far a receiver should accept a signature's time from its own clock, by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function mac(secret: string | Buffer, timestamp: number, body: string | Buffer): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

/** The `Valise-Signature` value of `body` sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string | Buffer, body: string | Buffer, timestamp: number): string {
  return `t=${timestamp},v1=${mac(secret, timestamp, body)}`;
}

/**
 * Whether `header` is a valid signature of `body` under `secret`, made
 * within `toleranceSeconds` of `now`. The header is the sender's word and
 * may be anything: it is parsed strictly and never throws.
 */
export function verifyWebhookSignature(secret: string | Buffer, body: string | Buffer, header: string | undefined, now: Date, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): boolean {
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (match === null) return false;
  const timestamp = Number(match[1]);
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(mac(secret, timestamp, body), "hex");
  return timingSafeEqual(expected, Buffer.from(match[2]!, "hex"));
}
