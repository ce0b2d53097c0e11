/**
 * Prometheus metrics of one gateway, on a registry of its own (several
 * gateways may run in one process).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { buildInfo } from "./build-info.js";

/** The gateway's metrics. */
export interface GatewayMetrics {
  readonly registry: Registry;
  readonly envelopesSent: Counter<"type">;
  readonly envelopesReceived: Counter<"type">;
  readonly envelopesRejected: Counter<"code">;
  readonly deliveryAttempts: Counter<"outcome">;
  readonly deliveryLatency: Histogram;
  readonly outboxDepth: Gauge;
  readonly tlsHandshakeRefusals: Counter<"reason">;
  /** Delivery attempts per peer, by outcome (delivered, retry, failed). */
  readonly peerDeliveries: Counter<"peer" | "outcome">;
  /** Failed delivery attempts per peer, by error code. */
  readonly peerDeliveryFailures: Counter<"peer" | "code">;
  /** From outbox to verified receipt, per peer. */
  readonly peerDeliveryLatency: Histogram<"peer">;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * Creates the metrics; `outboxDepth` is read from `readOutboxDepth` at each
 * scrape. Process metrics are included when `processMetrics` is set (once
 * per process: the `valise start` case).
 */
export function createMetrics(readOutboxDepth: () => Promise<number>, processMetrics = false): GatewayMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: "valise_" });
  const build = buildInfo();
  new Gauge({ name: "valise_build_info", help: "The running build: always 1, labelled with the Valise and Node versions.", labelNames: ["version", "node"], registers: [registry] }).set(
    { version: build.version, node: build.node },
    1,
  );
  return {
    registry,
    envelopesSent: new Counter({ name: "valise_envelopes_sent_total", help: "Envelopes delivered to a peer with a verified receipt.", labelNames: ["type"], registers: [registry] }),
    envelopesReceived: new Counter({ name: "valise_envelopes_received_total", help: "Envelopes received, stored and receipted.", labelNames: ["type"], registers: [registry] }),
    envelopesRejected: new Counter({ name: "valise_envelopes_rejected_total", help: "Inbound envelopes refused, by error code.", labelNames: ["code"], registers: [registry] }),
    deliveryAttempts: new Counter({ name: "valise_delivery_attempts_total", help: "Outbound delivery attempts, by outcome.", labelNames: ["outcome"], registers: [registry] }),
    deliveryLatency: new Histogram({
      name: "valise_delivery_latency_seconds",
      help: "From an envelope entering the outbox to its verified receipt.",
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: "valise_outbox_depth",
      help: "Envelopes waiting for delivery.",
      registers: [registry],
      async collect() {
        this.set(await readOutboxDepth());
      },
    }),
    tlsHandshakeRefusals: new Counter({ name: "valise_tls_handshake_refusals_total", help: "Peer TLS connections refused.", labelNames: ["reason"], registers: [registry] }),
    peerDeliveries: new Counter({ name: "valise_peer_deliveries_total", help: "Delivery attempts per peer, by outcome (delivered, retry, failed).", labelNames: ["peer", "outcome"], registers: [registry] }),
    peerDeliveryFailures: new Counter({ name: "valise_peer_delivery_failures_total", help: "Failed delivery attempts per peer, by error code.", labelNames: ["peer", "code"], registers: [registry] }),
    peerDeliveryLatency: new Histogram({
      name: "valise_peer_delivery_latency_seconds",
      help: "From an envelope entering the outbox to its verified receipt, per peer.",
      labelNames: ["peer"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
}
