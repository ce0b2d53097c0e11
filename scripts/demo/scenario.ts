/**
 * The demo as a list of steps sharing one state. Each step narrates and
 * verifies; the first failed check stops the run. Later issues (cases,
 * audit, evidence) add steps to the list in scripts/demo.ts.
 */
import type { GatewayProcess } from "./gateway-process.js";
import type { LocalApiClient } from "./local-api-client.js";
import type { Report } from "./report.js";

/** One central authority of the demo and its gateway. */
export interface DemoAuthority {
  /** Authority id, e.g. GB-UKCA. */
  readonly id: string;
  /** A name a ministry official recognises. */
  readonly name: string;
  /** Short label for timelines (GB, US). */
  readonly label: string;
  readonly home: string;
  /** Chosen before `valise init`: the peer API port (the local API is port + 1). */
  peerPort: number;
  endpoint: string;
  rootFingerprint: string;
  /** Bearer tokens by role, from `valise token create`. */
  readonly tokens: { caseworker?: string; auditor?: string };
  gateway?: GatewayProcess;
  api?: LocalApiClient;
}

/** The request sent from GB to US, as the steps learn about it. */
export interface DemoExchange {
  caseId: string;
  envelopeId: string;
  envelopeDigest: string;
  /** The document as submitted. */
  document: Record<string, unknown>;
  /** The receipt JWS GB holds once delivered. */
  receipt?: string;
  /** The signed letter of request uploaded and attached: its upload id, name and SHA-256. */
  letter?: { uploadId: string; name: string; size: number; sha256: string };
}

/** Shared state of a demo run. */
export interface DemoState {
  /** The temporary folder holding both homes and the bundles. */
  readonly workdir: string;
  /** Passphrase of both homes' keys (random per run, only ever in child environments). */
  readonly passphrase: string;
  readonly gb: DemoAuthority;
  readonly us: DemoAuthority;
  /** PostgreSQL databases of the two homes (`--store`), else SQLite in each home. */
  readonly stores?: { readonly gb: string; readonly us: string };
  exchange?: DemoExchange;
}

/** One step of the demo. */
export interface DemoStep {
  /** The section heading. */
  readonly title: string;
  /** Narrates and verifies; throws DemoCheckFailed (or anything) on failure. */
  run(state: DemoState, report: Report): Promise<void>;
}

/** The authority's API client; fails clearly when its gateway is not running. */
export function apiOf(authority: DemoAuthority): LocalApiClient {
  if (authority.api === undefined) throw new Error(`the gateway of ${authority.id} is not running`);
  return authority.api;
}

/** The authority's token for `role`; fails clearly when none was created. */
export function tokenOf(authority: DemoAuthority, role: "caseworker" | "auditor"): string {
  const token = authority.tokens[role];
  if (token === undefined) throw new Error(`no ${role} token for ${authority.id}`);
  return token;
}
