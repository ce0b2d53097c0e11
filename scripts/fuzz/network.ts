/**
 * The fuzz target and the parties around it, made per run in a temp folder:
 *
 * - US-DOJ-OIA, the target, runs as its own `valise start` process (so a crash
 *   is seen as a crash, not as the harness dying), with a token of each role;
 * - GB-UKCA, the genuine peer: the harness speaks as GB with GB's real TLS,
 *   sign keys and certificates (no GB gateway runs: US's outbound envelopes
 *   to GB simply wait in US's outbox);
 * - FR-MJ-BEPI, another peer US trusts (its certificates on GB's envelopes);
 * - DE-BFJ, an authority nobody trusts.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, type KeyObject } from "node:crypto";
import { initHome, openHome } from "../../gateway/home.js";
import { withHomeStore } from "../../gateway/store/home-store.js";
import { createToken, type Role } from "../../gateway/auth/tokens.js";
import { createTrustBundle } from "../../pki/bundle.js";
import { addPeer } from "../../pki/peers.js";
import { openAuthorityPki, type AuthorityPki } from "../../pki/store.js";
import type { ParsedCertificate } from "../../pki/certificate.js";
import { freePortPair } from "../demo/ports.js";
import { startGatewayProcess, type GatewayProcess } from "../demo/gateway-process.js";

/** What the harness holds of one authority. */
export interface Party {
  readonly authority: string;
  readonly home: string;
  readonly signKey: KeyObject;
  /** The sign certificate and the root. */
  readonly signCertificates: readonly ParsedCertificate[];
  readonly encryptPublicKey: KeyObject;
  readonly tls: { readonly cert: string; readonly key: string; readonly passphrase: string };
  readonly rootPem: string;
}

/** A running fuzz network. */
export interface FuzzNetwork {
  readonly us: Party;
  readonly gb: Party;
  readonly fr: Party;
  readonly de: Party;
  readonly peerPort: number;
  readonly localPort: number;
  readonly tokens: Readonly<Record<Role, string>>;
  readonly gateway: GatewayProcess;
  /** The target's database file (read it through the store, never migrating it). */
  readonly database: string;
  /** The target's log lines at level error so far (each a 5xx or a failure it logged). */
  errorLines(): string[];
  /** Stops the gateway and removes the temp folder. */
  close(): Promise<void>;
}

function partyOf(authority: string, home: string, pki: AuthorityPki, passphrase: string): Party {
  const tlsCert = pki.currentCertificate("tls");
  const listing = pki.list().find((row) => row.use === "tls" && row.serial === tlsCert.serial);
  if (listing === undefined) throw new Error(`no tls key listed for ${authority}`);
  return {
    authority,
    home,
    signKey: pki.loadPrivateKey("sign", passphrase),
    signCertificates: [pki.currentCertificate("sign"), pki.rootCertificate()],
    encryptPublicKey: pki.currentCertificate("encrypt").publicKey,
    tls: { cert: tlsCert.pem, key: readFileSync(listing.keyPath, "utf8"), passphrase },
    rootPem: pki.rootCertificate().pem,
  };
}

/** Makes the four homes, starts US, and resolves once US serves. */
export async function startFuzzNetwork(): Promise<FuzzNetwork> {
  const dir = mkdtempSync(join(tmpdir(), "valise-fuzz-"));
  const logFile = join(dir, "us-gateway.log");
  const passphrase = randomBytes(18).toString("base64url");
  let gateway: GatewayProcess | undefined;
  try {
    const made = new Map<string, { home: string; pki: AuthorityPki; port: number }>();
    for (const authority of ["US-DOJ-OIA", "GB-UKCA", "FR-MJ-BEPI", "DE-BFJ"]) {
      const port = await freePortPair();
      const home = join(dir, authority);
      await initHome(home, { authority, endpoint: `https://127.0.0.1:${port}`, profile: "ed25519", dns: [], ips: [], passphrase });
      made.set(authority, { home, pki: openAuthorityPki(join(home, "pki")), port });
    }
    const get = (authority: string) => made.get(authority)!;
    const us = get("US-DOJ-OIA");
    for (const peer of ["GB-UKCA", "FR-MJ-BEPI"]) {
      await addPeer(join(us.home, "peers"), await createTrustBundle(get(peer).pki, passphrase), get(peer).pki.rootFingerprint());
    }
    await addPeer(join(get("GB-UKCA").home, "peers"), await createTrustBundle(us.pki, passphrase), us.pki.rootFingerprint());
    const database = join(us.home, "valise.db");
    const tokens: Record<Role, string> = await withHomeStore(openHome(us.home), "apply", (store) =>
      store.transaction(async (tx) => {
        const now = new Date();
        return {
          caseworker: (await createToken(tx, "caseworker", "fuzz-caseworker", now)).token,
          auditor: (await createToken(tx, "auditor", "fuzz-auditor", now)).token,
          operator: (await createToken(tx, "operator", "fuzz-operator", now)).token,
        };
      }),
    );
    gateway = await startGatewayProcess({ home: us.home, passphrase, logFile });
    const started = gateway;
    const party = (authority: string) => partyOf(authority, get(authority).home, get(authority).pki, passphrase);
    return {
      us: party("US-DOJ-OIA"),
      gb: party("GB-UKCA"),
      fr: party("FR-MJ-BEPI"),
      de: party("DE-BFJ"),
      peerPort: Number(new URL(started.started.peerUrl).port),
      localPort: Number(new URL(started.started.localUrl).port),
      tokens,
      gateway: started,
      database,
      errorLines: () => readFileSync(logFile, "utf8").split("\n").filter((line) => /"level":"error"/.test(line)),
      close: async () => {
        await started.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    gateway?.kill();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
