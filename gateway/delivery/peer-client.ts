/**
 * HTTPS calls to peer gateways: one keep-alive agent (one TLS context) per
 * peer, rebuilt when the peer's trust material changes.
 */
import https from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import type { GatewayIdentity } from "../identity.js";
import type { Peer, PeerDirectory } from "../peers/directory.js";
import { peerAgent } from "../peers/tls.js";

/** A peer's answer. */
export interface PeerResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Calls peers' APIs over mutual TLS. */
export class PeerClient {
  readonly #identity: GatewayIdentity;
  readonly #now: () => Date;
  readonly #agents = new Map<string, { peer: Peer; agent: https.Agent }>();
  readonly #timeoutMs: number;

  constructor(identity: GatewayIdentity, peers: PeerDirectory, now: () => Date, timeoutMs = 30_000) {
    this.#identity = identity;
    this.#now = now;
    this.#timeoutMs = timeoutMs;
    peers.onChange(() => this.close()); // new roots or CRLs: new TLS contexts
  }

  /** Sends `body` to `path` of `peer`'s endpoint with `method`. */
  request(peer: Peer, method: string, path: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<PeerResponse> {
    const url = new URL(path, peer.endpoint);
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          agent: this.#agentFor(peer),
          timeout: this.#timeoutMs,
          headers: { ...(body === undefined ? {} : { "content-type": "application/json", "content-length": String(body.byteLength) }), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer from ${peer.authority} within ${this.#timeoutMs} ms`)));
      req.on("error", reject);
      req.end(body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    });
  }

  /** The pooled keep-alive agent (one TLS context) of `peer`, for streaming requests (evidence uploads). */
  agent(peer: Peer): https.Agent {
    return this.#agentFor(peer);
  }

  /** Closes every pooled connection. */
  close(): void {
    for (const { agent } of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }

  #agentFor(peer: Peer): https.Agent {
    const pooled = this.#agents.get(peer.authority);
    if (pooled !== undefined && pooled.peer === peer) return pooled.agent;
    pooled?.agent.destroy();
    const agent = peerAgent(this.#identity, peer, this.#now);
    this.#agents.set(peer.authority, { peer, agent });
    return agent;
  }
}
