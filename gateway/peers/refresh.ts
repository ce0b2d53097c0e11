/**
 * Keeps trust material fresh without an operator in the loop.
 *
 * CRLs are short-lived (7 days): a peer holding our expired CRL refuses
 * everything we sign, and an expired CRL of a peer stops us accepting its
 * envelopes. So each gateway re-signs its own CRL before it expires, serves
 * its current signed trust bundle on the peer API, and fetches each peer's
 * bundle periodically. A fetched bundle is applied with `updatePeer`, which
 * verifies it against the root pinned out of band and refuses rollbacks —
 * the network can deliver a newer CRL or rotated certificates, never a new
 * root.
 */
import { createTrustBundle, decodeTrustBundle, type TrustBundleFile } from "../../pki/bundle.js";
import { updatePeer } from "../../pki/peers.js";
import { appendEntry } from "../audit/append.js";
import { peerDetails } from "../audit/operator-events.js";
import { isValiseError } from "../../pki/errors.js";
import type { GatewayContext } from "../context.js";
import type { PeerClient } from "../delivery/peer-client.js";
import type { Peer } from "./directory.js";
import { acceptedDocumentVersions } from "../exchange/versions.js";
import { refreshRequirements } from "../requirements/fetch.js";

const DAY_MS = 24 * 3600 * 1000;

/** Re-signs our CRL when it expires within `marginMs` (default 3 days). Returns whether it did. */
export async function refreshOwnCrl(ctx: GatewayContext, marginMs = 3 * DAY_MS): Promise<boolean> {
  const next = ctx.pki.crl().nextUpdate;
  const now = ctx.now();
  if (next !== undefined && next.getTime() - now.getTime() > marginMs) return false;
  const crl = await ctx.pki.refreshCrl(ctx.identity.tls.passphrase, now);
  await ctx.store.transaction((tx) =>
    appendEntry(tx, {
      kind: "crl.renewed",
      actor: "gateway",
      time: now,
      details: { crlNumber: crl.crlNumber ?? null, revoked: crl.entries.map((entry) => entry.serial), nextUpdate: crl.nextUpdate?.toISOString() ?? null },
    }),
  );
  ctx.logger.info("own CRL re-signed", { crlNumber: crl.crlNumber, nextUpdate: crl.nextUpdate?.toISOString() });
  return true;
}

/** Our current signed trust bundle, as served to peers. */
export function currentTrustBundle(ctx: GatewayContext): Promise<TrustBundleFile> {
  return createTrustBundle(ctx.pki, ctx.identity.tls.passphrase, ctx.now(), { documentVersions: acceptedDocumentVersions(ctx.config) });
}

/**
 * Fetches `peer`'s bundle and applies it when it carries a newer CRL or other
 * certificates than the one held. Returns what happened.
 */
export async function refreshPeer(ctx: GatewayContext, client: PeerClient, peer: Peer): Promise<"updated" | "unchanged" | "failed"> {
  try {
    const response = await client.request(peer, "GET", "/peer/v1/trust-bundle");
    if (response.status !== 200) throw new Error(`answered ${response.status}`);
    const bundle = JSON.parse(response.body.toString("utf8")) as unknown;
    const offered = decodeTrustBundle(bundle).payload; // unverified: only to skip no-op updates
    const held = new Set([peer.root.pem, ...peer.certificates.map((c) => `${c.status}:${c.certificate.pem}`)]);
    const same =
      offered.crl.trim() === peer.crl.pem.trim() &&
      offered.certificates.length === peer.certificates.length &&
      offered.certificates.every((c) => held.has(`${c.status}:${c.pem}`)) &&
      // A peer that starts reading a new version of the forms says so in its bundle.
      JSON.stringify(offered.documentVersions ?? [1]) === JSON.stringify(peer.documentVersions);
    if (same) return "unchanged";
    const updated = await updatePeer(ctx.paths.peers, bundle as object, ctx.now());
    await ctx.store.transaction((tx) => appendEntry(tx, { kind: "peer.updated", actor: "gateway", time: ctx.now(), details: { ...peerDetails(updated), source: "fetched from the peer" } }));
    ctx.peers.refresh(true);
    ctx.logger.info("peer trust bundle updated", { peer: peer.authority });
    return "updated";
  } catch (error) {
    ctx.logger.warn("peer trust bundle refresh failed", {
      peer: peer.authority,
      code: isValiseError(error) ? error.code : "PEER_UNREACHABLE",
      reason: error instanceof Error ? error.message : String(error),
    });
    return "failed";
  }
}

/** Runs {@link refreshOwnCrl} and {@link refreshPeer} for every peer, then fetches their requirements profiles (signed by the keys just refreshed). */
export async function refreshTrust(ctx: GatewayContext, client: PeerClient): Promise<void> {
  await refreshOwnCrl(ctx).catch((error: unknown) => ctx.logger.error("re-signing the own CRL failed", { reason: String(error) }));
  await Promise.all(ctx.peers.all().map((peer) => refreshPeer(ctx, client, peer)));
  await refreshRequirements(ctx, client);
}
