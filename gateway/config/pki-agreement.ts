/**
 * The configuration must name the identity the PKI proves, and the endpoint
 * the PKI publishes.
 *
 * `valise.json` is a file an operator edits by hand; the certificates are
 * what peers trust. A one-character typo in `authority` would otherwise
 * start a gateway that signs checkpoints under another log origin with the
 * right keys (and, once the typo is fixed, refuse its own log as tampered).
 * An endpoint edited in `valise.json` alone would leave the trust bundle
 * (which carries the PKI index's endpoint) and the tls certificate's SANs
 * naming the old address. So both are compared here, before a key is
 * loaded or anything is signed, by every command that opens a home.
 */
import { isIP } from "node:net";
import { GatewayError } from "../errors.js";
import { authorityOfCertificate } from "../../pki/authority.js";
import { LEAF_USES } from "../../pki/profiles.js";
import type { AuthorityPki } from "../../pki/store.js";
import { parseEndpoint, type GatewayConfig } from "./config.js";

/** What to compare. */
export interface AgreementOptions {
  /**
   * Compare the endpoint and TLS names too (default true). Only the command
   * that repairs a disagreement (`valise config set-endpoint`) skips it.
   */
  readonly endpoint?: boolean;
}

/**
 * Throws `CONFIG_IDENTITY_MISMATCH` when the configured authority is not the
 * one of the PKI index, the root certificate and every usable leaf, and
 * `CONFIG_ENDPOINT_MISMATCH` when the configured endpoint or TLS names are
 * not the PKI's (its index, and the SANs of the current tls certificate).
 */
export function assertConfigMatchesPki(config: GatewayConfig, pki: AuthorityPki, options: AgreementOptions = {}): void {
  const certified = [
    { name: "root certificate", authority: authorityOfCertificate(pki.rootCertificate()) },
    ...LEAF_USES.flatMap((use) =>
      pki.certificates(use).map((issued) => ({ name: `${use} certificate ${issued.certificate.serial}`, authority: authorityOfCertificate(issued.certificate) })),
    ),
  ];
  const other = certified.find((c) => c.authority !== config.authority);
  if (pki.authority !== config.authority || other !== undefined) {
    const pkiAuthority = other?.authority ?? pki.authority;
    throw new GatewayError(
      "CONFIG_IDENTITY_MISMATCH",
      `valise.json names the authority ${config.authority}, but the PKI in ${pki.dir} is ${pkiAuthority}'s` +
        `${other === undefined ? " (index.json)" : ` (${other.name})`}; correct "authority" in valise.json — nothing was signed`,
      { details: { configured: config.authority, pki: pkiAuthority, ...(other === undefined ? { source: "index.json" } : { source: other.name }) } },
    );
  }
  if (options.endpoint === false) return;

  const names = pki.endpointNames();
  const configured = parseEndpoint(config.endpoint);
  const published = parseEndpoint(names.endpoint);
  const mismatch = (field: string, configuredValue: unknown, pkiValue: unknown, where: string): GatewayError =>
    new GatewayError(
      "CONFIG_ENDPOINT_MISMATCH",
      `valise.json's ${field} (${JSON.stringify(configuredValue)}) differs from ${where} (${JSON.stringify(pkiValue)}); ` +
        "change the endpoint with valise config set-endpoint URL, which updates both and re-issues the tls certificate",
      { details: { field, configured: configuredValue, pki: pkiValue, where } },
    );
  if (configured.origin !== published.origin) throw mismatch("endpoint", config.endpoint, names.endpoint, "the endpoint the PKI publishes in trust bundles");

  const wanted = { dns: nameSet(config.tls.dns, false), ips: nameSet(config.tls.ips, true) };
  const indexed = { dns: nameSet(names.dns, false), ips: nameSet(names.ips, true) };
  if (!sameSet(wanted.dns, indexed.dns)) throw mismatch("tls.dns", config.tls.dns, names.dns, "the DNS names the PKI issues tls certificates for");
  if (!sameSet(wanted.ips, indexed.ips)) throw mismatch("tls.ips", config.tls.ips, names.ips, "the IP addresses the PKI issues tls certificates for");
  const tls = pki.certificates("tls").find((issued) => issued.status === "current")?.certificate;
  if (tls === undefined) return; // revoked and not yet re-issued: nothing serves on a wrong name, `pki rotate tls` must still run
  const sans = { dns: nameSet(tls.san.dns, false), ips: nameSet(tls.san.ips, true) };
  if (!sameSet(wanted.dns, sans.dns) || !sameSet(wanted.ips, sans.ips)) {
    throw mismatch("tls", { dns: config.tls.dns, ips: config.tls.ips }, { dns: tls.san.dns, ips: tls.san.ips }, `the SANs of the current tls certificate ${tls.serial}`);
  }
  const host = canonicalName(configured.host, configured.ip);
  if (!(configured.ip ? sans.ips : sans.dns).has(host)) {
    throw mismatch("endpoint", config.endpoint, { dns: tls.san.dns, ips: tls.san.ips }, `the SANs of the current tls certificate ${tls.serial}`);
  }
}

function nameSet(names: readonly string[], ip: boolean): Set<string> {
  return new Set(names.map((name) => canonicalName(name, ip)));
}

/** DNS names compare case-insensitively; IPv6 addresses in their compressed form. */
function canonicalName(name: string, ip: boolean): string {
  if (!ip) return name.toLowerCase().replace(/\.$/, "");
  if (isIP(name) === 6) return new URL(`https://[${name}]/`).hostname.slice(1, -1);
  return name;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((value) => b.has(value));
}
