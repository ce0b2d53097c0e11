/**
 * Prometheus metrics of one gateway, on a registry of its own (several
 * gateways may run in one process).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

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
}

/**
 * Creates the metrics; `outboxDepth` is read from `readOutboxDepth` at each
 * scrape. Process metrics are included when `processMetrics` is set (once
 * per process: the `valise start` case).
 */
export function createMetrics(readOutboxDepth: () => Promise<number>, processMetrics = false): GatewayMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: "valise_" });
  return {
    registry,
    envelopesSent: new Counter({ name: "valise_envelopes_sent_total", help: "Envelopes delivered to a peer with a verified receipt.", labelNames: ["type"], registers: [registry] }),
    envelopesReceived: new Counter({ name: "valise_envelopes_received_total", help: "Envelopes received, stored and receipted.", labelNames: ["type"], registers: [registry] }),
    envelopesRejected: new Counter({ name: "valise_envelopes_rejected_total", help: "Inbound envelopes refused, by error code.", labelNames: ["code"], registers: [registry] }),
    deliveryAttempts: new Counter({ name: "valise_delivery_attempts_total", help: "Outbound delivery attempts, by outcome.", labelNames: ["outcome"], registers: [registry] }),
    deliveryLatency: new Histogram({
      name: "valise_delivery_latency_seconds",
      help: "From an envelope entering the outbox to its verified receipt.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
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
  };
}
