/**
 * Peers' profiles: fetched over the peer API (`GET /peer/v1/requirements`)
 * beside the trust bundle, verified against the peer's current `sign`
 * certificate, checked, and shelved as a new version with an audit entry.
 * A profile that is forged, stale, invalid or names an unknown rule is
 * refused with its code and the version in force stays.
 */
import { createHash } from "node:crypto";
import { isValiseError } from "../../pki/errors.js";
import { appendEntry } from "../audit/append.js";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { HomePaths } from "../home.js";
import type { PeerClient } from "../delivery/peer-client.js";
import type { Peer } from "../peers/directory.js";
import type { DocumentValidator } from "../../schemas/validate.js";
import { checkProfile, type CompiledProfile } from "./profile.js";
import { MAX_PROFILE_BYTES, verifySignedProfile } from "./signed-profile.js";
import { latestVersion, peerShelf, shelve } from "./shelf.js";

/** The peer API path of the profile in force. */
export const REQUIREMENTS_PEER_PATH = "/peer/v1/requirements";

/** What accepting a peer's profile did. */
export interface AcceptedProfile {
  readonly outcome: "updated" | "unchanged";
  readonly version: number;
  readonly previous: number | null;
  /** SHA-256 (hex) of the profile's canonical JSON, as signed. */
  readonly digest: string;
  readonly compiled: CompiledProfile;
}

/** A signed file's payload digest: what the audit log names. */
function payloadDigest(jws: string): string {
  return createHash("sha256").update(Buffer.from(jws.split(".")[1] ?? "", "base64url")).digest("hex");
}

/**
 * Verifies `file` as `peer`'s profile and shelves it when newer. Pure of the
 * network: the CLI and the gateway's fetch both call it.
 *
 * @throws GatewayError `REQUIREMENTS_INVALID`, `REQUIREMENTS_RULE_UNKNOWN`,
 *   `REQUIREMENTS_SIGNATURE`, `REQUIREMENTS_STALE`.
 */
export async function acceptPeerProfile(paths: HomePaths, validator: DocumentValidator, peer: Peer, file: unknown, now: Date): Promise<AcceptedProfile> {
  const sign = peer.certificates.find((c) => c.use === "sign" && c.status === "current");
  if (sign === undefined) {
    throw new GatewayError("REQUIREMENTS_SIGNATURE", `${peer.authority}'s trust bundle has no current sign certificate`, { details: { authority: peer.authority, reason: "no current sign certificate" } });
  }
  const payload = await verifySignedProfile(file, { authority: peer.authority, certificate: sign.certificate, root: peer.root, crl: peer.crl }, now);
  const compiled = checkProfile(validator, payload);
  if (compiled.profile.authority !== peer.authority) {
    // Signed by the peer, but about another authority: a peer does not publish others' requirements.
    throw new GatewayError("REQUIREMENTS_INVALID", `the profile fetched from ${peer.authority} is ${compiled.profile.authority}'s`, {
      details: { errors: [{ path: "/authority", message: `must be ${peer.authority}` }] },
    });
  }
  const dir = peerShelf(paths, peer.authority);
  const previous = latestVersion(dir) ?? null;
  const stored = shelve(dir, compiled.profile.version, file as never);
  const jws = (file as { jws: string }).jws;
  return { outcome: stored ? "updated" : "unchanged", version: compiled.profile.version, previous, digest: payloadDigest(jws), compiled };
}

/**
 * Fetches `peer`'s profile and applies it: `"updated"` (with a
 * `requirements.updated` audit entry), `"unchanged"`, `"none"` (the peer
 * publishes none), or throws — the peer unreachable (`PEER_UNREACHABLE`) or
 * its profile refused (the codes of {@link acceptPeerProfile}, also logged).
 */
export async function fetchPeerRequirements(ctx: GatewayContext, client: PeerClient, peer: Peer): Promise<"updated" | "unchanged" | "none"> {
  let response;
  try {
    response = await client.request(peer, "GET", REQUIREMENTS_PEER_PATH);
  } catch (cause) {
    throw new GatewayError("PEER_UNREACHABLE", `${peer.authority} could not be reached for its requirements profile`, { cause });
  }
  if (response.status === 404) return "none";
  if (response.status !== 200) throw new GatewayError("PEER_UNREACHABLE", `${peer.authority} answered ${response.status} for its requirements profile`);
  if (response.body.length > MAX_PROFILE_BYTES + 1024) throw new GatewayError("REQUIREMENTS_INVALID", `${peer.authority}'s profile exceeds ${MAX_PROFILE_BYTES} bytes`, { details: { errors: [{ path: "", message: "too large" }] } });
  let file: unknown;
  try {
    file = JSON.parse(response.body.toString("utf8"));
  } catch {
    throw new GatewayError("REQUIREMENTS_INVALID", `${peer.authority}'s profile is not JSON`, { details: { errors: [{ path: "", message: "not JSON" }] } });
  }
  const now = ctx.now();
  let accepted: AcceptedProfile;
  try {
    accepted = await acceptPeerProfile(ctx.paths, ctx.validator, peer, file, now);
  } catch (error) {
    ctx.logger.warn("peer requirements profile refused", { peer: peer.authority, code: isValiseError(error) ? error.code : "INTERNAL", reason: error instanceof Error ? error.message : String(error) });
    throw error;
  }
  if (accepted.outcome === "unchanged") return "unchanged";
  await ctx.store.transaction((tx) =>
    appendEntry(tx, {
      kind: "requirements.updated",
      actor: "gateway",
      time: now,
      details: { peer: peer.authority, version: accepted.version, previous: accepted.previous, digest: accepted.digest, source: "fetched from the peer" },
    }),
  );
  ctx.logger.info("peer requirements profile updated", { peer: peer.authority, version: accepted.version, previous: accepted.previous });
  return "updated";
}

/** {@link fetchPeerRequirements} for every peer, failures logged (the trust refresh runs it). */
export async function refreshRequirements(ctx: GatewayContext, client: PeerClient): Promise<void> {
  await Promise.all(
    ctx.peers.all().map((peer) =>
      fetchPeerRequirements(ctx, client, peer).catch((error: unknown) =>
        ctx.logger.warn("peer requirements refresh failed", { peer: peer.authority, code: isValiseError(error) ? error.code : "INTERNAL" }),
      ),
    ),
  );
}
