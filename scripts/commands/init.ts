/**
 * `valise init`: create a gateway home with its configuration and PKI.
 */
import { Command, Option } from "commander";
import { initHome } from "../../gateway/home.js";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";
import type { Profile } from "../../pki/profiles.js";
import { openAuthorityPki } from "../../pki/store.js";
import { certificateDetails, recordOperatorEvents } from "../../gateway/audit/operator-events.js";
import { operatorSigning } from "../cli/log-signing.js";

interface InitOptions extends CommonOptions {
  authority: string;
  endpoint: string;
  profile: Profile;
  dns: string[];
  ip: string[];
  force?: boolean;
  store?: string;
  listen?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Registers `valise init`. */
export function registerInit(program: Command, context: CliContext): void {
  const command = program
    .command("init")
    .description("create a gateway home: configuration, root CA and the tls, sign, encrypt and log certificates")
    .requiredOption("--authority <id>", "this authority's id, e.g. GB-UKCA (ISO 3166 alpha-2, then upper-case words)")
    .requiredOption("--endpoint <url>", "the https URL peers use to reach this gateway, e.g. https://valise.example.gov.uk:8443")
    .addOption(new Option("--profile <profile>", "key profile: ed25519 (Ed25519 + X25519), p256 or p384 (ECDSA + ECDH)").choices(["ed25519", "p256", "p384"]).default("ed25519"))
    .option("--dns <name>", "extra DNS name for the TLS certificate (repeatable)", collect, [])
    .option("--ip <addr>", "extra IP address for the TLS certificate (repeatable)", collect, [])
    .option("--force", "replace an existing home (the old one is kept, renamed)")
    .option("--store <url>", "where the database lives: sqlite (default, valise.db in the home) or a postgres:// URL")
    .option("--listen <address[:port]>", "where the peer API listens when it is not the endpoint's address (behind NAT or a load balancer), e.g. 0.0.0.0:8443; the port defaults to the endpoint's");
  withCommonOptions(command, true).action(async (options: InitOptions) => {
    const out = context.output(options.json === true);
    const home = homeDir(options, context);
    const secret = await passphrase(options, context, true);
    const result = await initHome(home, {
      authority: options.authority,
      endpoint: options.endpoint,
      profile: options.profile,
      dns: options.dns,
      ips: options.ip,
      ...(options.store === undefined ? {} : { store: options.store }),
      ...(options.listen === undefined ? {} : { listen: options.listen }),
      passphrase: secret,
      force: options.force === true,
      now: context.now(),
    });
    const { config } = result.home;
    // The log starts with the certificates the authority begins with, and a checkpoint over them.
    const issuedAt = context.now();
    await recordOperatorEvents(
      result.home,
      openAuthorityPki(result.home.paths.pki)
        .list(issuedAt)
        .map((listing) => ({ kind: "certificate.issued", actor: "operator", time: issuedAt, details: { ...certificateDetails(listing), profile: config.profile } })),
      operatorSigning(result.home, secret, context, out),
    );
    out.result(
      {
        home: result.home.paths.root,
        authority: config.authority,
        profile: config.profile,
        endpoint: config.endpoint,
        rootFingerprint: result.rootFingerprint,
        ...(result.replacedHomeMovedTo === undefined ? {} : { replacedHomeMovedTo: result.replacedHomeMovedTo }),
      },
      () =>
        [
          `Created the Valise home of ${config.authority} in ${result.home.paths.root}`,
          ...(result.replacedHomeMovedTo === undefined ? [] : [`The previous home was moved to ${result.replacedHomeMovedTo}`]),
          "",
          "Root certificate SHA-256 fingerprint (read it out to your peers over a separate channel):",
          `  ${groupFingerprint(result.rootFingerprint)}`,
          "",
          "Next steps:",
          `  1. valise pki export-bundle --home ${result.home.paths.root} --out ${config.authority}.bundle.json`,
          "     and send the bundle to each peer authority, with the fingerprint above by another channel.",
          `  2. valise peers add PEER.bundle.json --fingerprint <peer's fingerprint> --home ${result.home.paths.root}`,
          `  3. valise pki list --home ${result.home.paths.root}   to review the certificates.`,
        ].join("\n"),
    );
  });
}

/** `ab12cd…` → `AB:12:CD:…`, easier to read out over the phone. */
export function groupFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/.{2}/g) ?? []).join(":");
}
