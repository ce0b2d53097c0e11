/**
 * Two gateway homes for a benchmark, made in-process (the demo shows the CLI
 * way): GB-UKCA and US-DOJ-OIA on free loopback ports, each pinning the
 * other's trust bundle, and a caseworker token on GB.
 */
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { initHome } from "../../gateway/home.js";
import { withHomeStore } from "../../gateway/store/home-store.js";
import { openHome } from "../../gateway/home.js";
import { createToken } from "../../gateway/auth/tokens.js";
import { createTrustBundle } from "../../pki/bundle.js";
import { addPeer } from "../../pki/peers.js";
import { openAuthorityPki } from "../../pki/store.js";
import type { Profile } from "../../pki/profiles.js";
import { freePortPair } from "../demo/ports.js";

/** The two homes of a run. */
export interface BenchHomes {
  readonly passphrase: string;
  readonly gbHome: string;
  readonly usHome: string;
  /** A caseworker token of GB's local API. */
  readonly gbToken: string;
}

/** Creates both homes under `workdir`. */
export async function createBenchHomes(workdir: string, profile: Profile = "ed25519", stores?: { readonly gb: string; readonly us: string }): Promise<BenchHomes> {
  const passphrase = randomBytes(18).toString("base64url");
  const now = new Date();
  const made = [];
  for (const authority of ["GB-UKCA", "US-DOJ-OIA"]) {
    const port = await freePortPair();
    const home = join(workdir, authority);
    const store = stores === undefined ? {} : { store: authority === "GB-UKCA" ? stores.gb : stores.us };
    await initHome(home, { authority, endpoint: `https://127.0.0.1:${port}`, profile, dns: [], ips: [], passphrase, now, ...store });
    const pki = openAuthorityPki(join(home, "pki"));
    made.push({ home, pki, bundle: await createTrustBundle(pki, passphrase, now) });
  }
  const [gb, us] = made as [(typeof made)[number], (typeof made)[number]];
  await addPeer(join(gb.home, "peers"), us.bundle, us.pki.rootFingerprint(), now);
  await addPeer(join(us.home, "peers"), gb.bundle, gb.pki.rootFingerprint(), now);
  const { token } = await withHomeStore(openHome(gb.home), "apply", (store) => store.transaction((tx) => createToken(tx, "caseworker", "bench", now)));
  return { passphrase, gbHome: gb.home, usHome: us.home, gbToken: token };
}
