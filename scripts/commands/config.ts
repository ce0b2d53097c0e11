/**
 * `valise config …`: changes to the configuration that other copies depend
 * on. Today one: `set-endpoint`, which moves the endpoint everywhere it is
 * written (valise.json, the PKI index that bundles carry, the tls
 * certificate's SANs) so that they never disagree.
 */
import type { Command } from "commander";
import { setEndpoint } from "../../gateway/config/set-endpoint.js";
import { certificateDetails, recordOperatorEvents } from "../../gateway/audit/operator-events.js";
import { openHome } from "../../gateway/home.js";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Registers `valise config` and its subcommands. */
export function registerConfig(program: Command, context: CliContext): void {
  const config = program.command("config").description("change the gateway's configuration where other copies depend on it");

  withCommonOptions(
    config
      .command("set-endpoint")
      .description("move the peer API to a new public URL: valise.json, the PKI (bundles) and a new tls certificate, together")
      .argument("<url>", "the https URL peers will use, e.g. https://valise.example.gov.uk:8443")
      .option("--dns <name>", "extra DNS name for the new tls certificate (repeatable)", collect, [])
      .option("--ip <addr>", "extra IP address for the new tls certificate (repeatable)", collect, []),
    true,
  ).action(async (url: string, options: CommonOptions & { dns: string[]; ip: string[] }) => {
    const root = homeDir(options, context);
    const change = await setEndpoint(root, { endpoint: url, dns: options.dns, ips: options.ip, passphrase: await passphrase(options, context), now: context.now() });
    const time = context.now();
    await recordOperatorEvents(openHome(root), [
      { kind: "endpoint.changed", actor: "operator", time, details: { previous: change.previous, endpoint: change.endpoint, dns: [...change.tls.dns], ips: [...change.tls.ips] } },
      { kind: "certificate.rotated", actor: "operator", time, details: { ...certificateDetails(change.certificate), previousSerial: change.previousSerial } },
    ]);
    context.output(options.json === true).result(change, () =>
      [
        `${change.authority} now publishes ${change.endpoint} (was ${change.previous}).`,
        `New tls certificate ${change.certificate.serial} for ${[...change.tls.dns, ...change.tls.ips].join(", ")}; the previous one stays valid until it expires.`,
        `The peer API listens on ${change.peerApi.host}:${change.peerApi.port} (peerApi in valise.json).`,
        "Next: restart the gateway, export a new trust bundle (valise pki export-bundle) and send it to your peers (valise peers update).",
      ].join("\n"),
    );
  });
}
