/**
 * `valise config set-endpoint`: the one way to move a gateway to another
 * public URL. The endpoint has copies that must agree (valise.json, the PKI
 * index that trust bundles are built from, the tls certificate's SANs), so
 * this changes all of them: a new tls certificate for the new host (the
 * current one becomes previous), the PKI index, then valise.json.
 *
 * The PKI is written first, in one commit (its index). A crash before
 * valise.json is rewritten leaves the two disagreeing, which every command
 * then refuses with `CONFIG_ENDPOINT_MISMATCH` until the same command is run
 * again; it never leaves a home that serves one name and publishes another.
 */
import { writeFileAtomic } from "../../pki/atomic-file.js";
import { openAuthorityPki, type CertificateListing } from "../../pki/store.js";
import { openHome } from "../home.js";
import { parseEndpoint, peerListenFor, validateConfig, type GatewayConfig } from "./config.js";

/** What to change. */
export interface SetEndpointOptions {
  /** The new https URL peers reach the peer API at. */
  readonly endpoint: string;
  /** DNS names to add to the tls certificate (besides the endpoint's host). */
  readonly dns?: readonly string[];
  /** IP addresses to add to the tls certificate (besides the endpoint's host). */
  readonly ips?: readonly string[];
  readonly passphrase: string;
  readonly now?: Date;
}

/** What {@link setEndpoint} did. */
export interface EndpointChange {
  readonly authority: string;
  readonly previous: string;
  readonly endpoint: string;
  readonly tls: { readonly dns: readonly string[]; readonly ips: readonly string[] };
  /** The new current tls certificate. */
  readonly certificate: CertificateListing;
  readonly previousSerial: string | null;
  /** Where the peer API listens now. */
  readonly peerApi: GatewayConfig["peerApi"];
}

/**
 * Moves the home at `root` to `options.endpoint`. The old endpoint's host
 * leaves the TLS names, the new one joins them, other names stay. The peer
 * API's listen address follows the endpoint when it is the one `valise init`
 * derived from the old endpoint; one the operator set stays. Refuses a
 * home whose authority disagrees with its PKI (`CONFIG_IDENTITY_MISMATCH`)
 * and a URL that is not https (`CONFIG_INVALID`); a wrong passphrase
 * (`PKI_BAD_PASSPHRASE`) changes nothing.
 */
export async function setEndpoint(root: string, options: SetEndpointOptions): Promise<EndpointChange> {
  const home = openHome(root, { endpoint: false });
  const { config } = home;
  const next = parseEndpoint(options.endpoint);
  const pki = openAuthorityPki(home.paths.pki);
  const old = pki.endpointNames();
  const oldHosts = [config.endpoint, old.endpoint].map((url) => parseEndpoint(url).host);
  const keep = (names: readonly string[]): string[] => names.filter((name) => !oldHosts.includes(name));
  const dns = unique([...(next.ip ? [] : [next.host]), ...keep(config.tls.dns), ...(options.dns ?? [])]);
  const ips = unique([...(next.ip ? [next.host] : []), ...keep(config.tls.ips), ...(options.ips ?? [])]);
  // A listen address that is init's default for the old endpoint follows the endpoint; one the operator chose stays.
  const followed = [config.endpoint, old.endpoint]
    .map((url) => peerListenFor(parseEndpoint(url)))
    .some((listen) => config.peerApi.host === listen.host && config.peerApi.port === listen.port);
  const peerApi = followed ? peerListenFor(next) : config.peerApi;
  const updated = validateConfig({ ...structuredClone(config), endpoint: next.origin, peerApi, tls: { dns, ips } });

  const previousSerial = pki.certificates("tls").find((issued) => issued.status === "current")?.certificate.serial ?? null;
  const certificate = await pki.setEndpoint(next.origin, { dns, ips }, options.passphrase, options.now);
  writeFileAtomic(home.paths.config, `${JSON.stringify(updated, null, 2)}\n`, { mode: 0o600 });
  return { authority: config.authority, previous: config.endpoint, endpoint: next.origin, tls: { dns, ips }, certificate, previousSerial, peerApi: updated.peerApi };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
