/**
 * Checkpoint origins of log epochs. Epoch 1 of an authority's log is
 * `valise/<ID>` (every log before epochs existed, unchanged); epoch N >= 2,
 * started after the log lost entries (gateway/audit/epochs.ts), is
 * `valise/<ID>/epoch-N`. The origin names the epoch in every checkpoint,
 * cosignature and receipt, so a checkpoint of one epoch can never be taken
 * for the same size of another.
 */
import { GatewayError } from "../errors.js";
import { checkpointOrigin, VALISE_ORIGIN_PREFIX } from "./checkpoint.js";
import { isAuthorityId } from "../../pki/authority.js";

const EPOCH_SUFFIX = /^(.*)\/epoch-([1-9][0-9]{0,5})$/;

/** The origin of `epoch` of `authority`'s log. Throws AUDIT_INVALID_ARGUMENT for a bad id or epoch. */
export function epochOrigin(authority: string, epoch: number): string {
  if (!Number.isSafeInteger(epoch) || epoch < 1 || epoch > 999_999) throw new GatewayError("AUDIT_INVALID_ARGUMENT", "An epoch is a whole number from 1.", { details: { epoch } });
  const base = checkpointOrigin(authority);
  return epoch === 1 ? base : `${base}/epoch-${epoch}`;
}

/** The authority and epoch an origin names, or undefined for one that is not a Valise log's (hostile input: parsed, not trusted). */
export function parseLogOrigin(origin: string): { readonly authority: string; readonly epoch: number } | undefined {
  if (!origin.startsWith(VALISE_ORIGIN_PREFIX)) return undefined;
  const rest = origin.slice(VALISE_ORIGIN_PREFIX.length);
  const match = EPOCH_SUFFIX.exec(rest);
  const authority = match === null ? rest : match[1]!;
  const epoch = match === null ? 1 : Number(match[2]);
  if (!isAuthorityId(authority) || epoch < 1) return undefined;
  // `…/epoch-1` is not a name: epoch 1 is the bare origin.
  if (match !== null && epoch === 1) return undefined;
  return { authority, epoch };
}

/** Whether `origin` is an epoch's origin of `authority`'s log. */
export function isOriginOf(authority: string, origin: string): boolean {
  return parseLogOrigin(origin)?.authority === authority;
}

/** The origin line of a checkpoint note (unverified: to pick the key and epoch to verify it with). */
export function noteOrigin(note: string): string {
  const end = note.indexOf("\n");
  return end < 0 ? "" : note.slice(0, end);
}

/**
 * Refuses a checkpoint of an epoch of a peer's log that a witness does not
 * follow (`current`): a later one needs its statement first
 * (WITNESS_EPOCH_UNKNOWN), an earlier one is frozen (WITNESS_EPOCH_CLOSED).
 */
export function checkWitnessedEpoch(epoch: number, current: { epoch: number; origin: string }, origin: string): void {
  if (epoch > current.epoch) {
    throw new GatewayError("WITNESS_EPOCH_UNKNOWN", `this witness has accepted no statement opening ${origin}; submit it to /peer/v1/log/epochs first`, {
      details: { origin, following: current.origin },
    });
  }
  if (epoch < current.epoch) {
    throw new GatewayError("WITNESS_EPOCH_CLOSED", `${origin} was closed by ${current.origin}; nothing more is cosigned in it`, { details: { origin, following: current.origin } });
  }
}
