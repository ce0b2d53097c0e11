/**
 * Everything a running gateway's domain functions share. Built once by
 * `createGateway`; no process-wide state, so several gateways can run in one
 * process (tests do).
 */
import type { GatewayConfig } from "./config/config.js";
import type { HomePaths } from "./home.js";
import type { Store } from "./store/store.js";
import type { JobRunner } from "./jobs/runner.js";
import type { LiveIdentity } from "./live-identity.js";
import type { PeerDirectory } from "./peers/directory.js";
import type { DocumentValidator } from "../schemas/validate.js";
import type { Logger } from "./log.js";
import type { GatewayMetrics } from "./metrics.js";
import type { ParsedCertificate } from "../pki/certificate.js";
import type { AuthorityPki } from "../pki/store.js";
import type { Checkpointer } from "./audit/checkpoints.js";

/** The shared state of one running gateway. */
export interface GatewayContext {
  readonly config: GatewayConfig;
  readonly paths: HomePaths;
  readonly authority: string;
  readonly pki: AuthorityPki;
  /** The store: every read and write goes through it; await a transaction before acknowledging anything. */
  readonly store: Store;
  /** Background jobs of this instance (delivery, uploads, checkpoints, deadlines). */
  readonly jobs: JobRunner;
  /** The own keys, following the PKI folder (rotations, revocations) while the gateway runs. */
  readonly identity: LiveIdentity;
  readonly peers: PeerDirectory;
  /** Signs this gateway's audit checkpoints and places entries in them. */
  readonly checkpoints: Checkpointer;
  readonly validator: DocumentValidator;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Signer certificates that passed path validation, by base64 DER (see openEnvelope). */
  readonly certificateCache: Map<string, ParsedCertificate>;
  /** The clock (injectable for tests). */
  readonly now: () => Date;
  /** Tells the delivery worker there is new work. */
  wakeDelivery(): void;
}
