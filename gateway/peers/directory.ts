/**
 * The peers a running gateway trusts, read from the home's `peers/` folder
 * (written by `valise peers add|update|remove`). The folder is re-read when
 * it changes — checked at most once a second — so an operator's update
 * (a rotation, a new CRL) takes effect without a restart.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { KeyObject } from "node:crypto";
import { listPeers, loadPeerTrust, type PeerTrust } from "../../pki/peers.js";
import type { AuthorityTrust } from "../envelope/signer.js";
import { GatewayError } from "../errors.js";

/** One peer, ready to use. */
export interface Peer extends PeerTrust {
  /** Public key of the peer's current `encrypt` certificate: whom we seal to. */
  readonly encryptionKey: KeyObject;
}

/** The trusted peers, reloaded from disk when the folder changes. */
export class PeerDirectory {
  readonly #dir: string;
  #peers = new Map<string, Peer>();
  #stamp = "";
  #checkedAt = 0;
  readonly #listeners: Array<() => void> = [];

  constructor(dir: string) {
    this.#dir = dir;
    this.refresh(true);
  }

  /** Calls `listener` after each reload that changed the peers. */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Re-reads the folder if it changed (at most once a second unless `force`). */
  refresh(force = false): void {
    const now = Date.now();
    if (!force && now - this.#checkedAt < 1000) return;
    this.#checkedAt = now;
    const stamp = this.#folderStamp();
    if (stamp === this.#stamp) return;
    const peers = new Map<string, Peer>();
    for (const summary of listPeers(this.#dir)) {
      const trust = loadPeerTrust(this.#dir, summary.authority);
      const encrypt = trust.certificates.find((c) => c.use === "encrypt" && c.status === "current");
      if (encrypt === undefined) continue; // a bundle without an encrypt key cannot receive envelopes
      peers.set(summary.authority, { ...trust, encryptionKey: encrypt.certificate.publicKey });
    }
    const changed = this.#stamp !== "";
    this.#peers = peers;
    this.#stamp = stamp;
    if (changed) for (const listener of this.#listeners) listener();
  }

  /** Every peer. */
  all(): Peer[] {
    this.refresh();
    return [...this.#peers.values()];
  }

  /** The peer `authority`, or undefined. */
  find(authority: string): Peer | undefined {
    this.refresh();
    return this.#peers.get(authority);
  }

  /** The peer `authority`; `PEER_UNKNOWN` when it is not one. */
  get(authority: string): Peer {
    const peer = this.find(authority);
    if (peer === undefined) throw new GatewayError("PEER_UNKNOWN", `${authority} is not a peer of this gateway (valise peers add)`);
    return peer;
  }

  /** Root and CRL of `authority` for signature checks (the envelope layer's `trustFor`). */
  trustFor(authority: string): AuthorityTrust | undefined {
    const peer = this.find(authority);
    return peer === undefined ? undefined : { root: peer.root, crl: peer.crl };
  }

  #folderStamp(): string {
    try {
      return readdirSync(this.#dir)
        .filter((file) => file.endsWith(".peer.json"))
        .sort()
        .map((file) => {
          const stat = statSync(join(this.#dir, file));
          return `${file}:${stat.mtimeMs}:${stat.size}`;
        })
        .join("|");
    } catch {
      return "none";
    }
  }
}
