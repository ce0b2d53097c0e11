/**
 * `valise peers …`: the peer authorities this gateway trusts, each pinned to
 * the root fingerprint given out of band.
 */
import type { Command } from "commander";
import { openHome } from "../../gateway/home.js";
import { addPeer, listPeers, removePeer, updatePeer, type PeerSummary } from "../../pki/peers.js";
import { type CliContext, type CommonOptions, homeDir, withCommonOptions } from "../cli/context.js";
import { groupFingerprint } from "./init.js";
import { peerDetails, recordOperatorEvents } from "../../gateway/audit/operator-events.js";
import type { JsonValue } from "../../gateway/envelope/canonical-json.js";
import { noteUnsigned, optionalOperatorSigning } from "../cli/log-signing.js";
import { registerPeersReconcile } from "./peers-reconcile.js";

function peersDir(options: CommonOptions, context: CliContext): string {
  return openHome(homeDir(options, context)).paths.peers;
}

/**
 * Unlocks the log key (when a passphrase is at hand) before the change, so
 * that a wrong passphrase changes nothing, and returns what records the
 * change in the audit log, signed.
 */
async function auditor(options: CommonOptions, context: CliContext): Promise<(kind: string, details: { [key: string]: JsonValue }) => Promise<void>> {
  const home = openHome(homeDir(options, context));
  const output = context.output(options.json === true);
  const signing = await optionalOperatorSigning(home, options, context, output);
  return async (kind, details) => {
    await recordOperatorEvents(home, [{ kind, actor: "operator", time: context.now(), details }], signing);
    if (signing === undefined) noteUnsigned(output);
  };
}

/** Registers `valise peers` and its subcommands. */
export function registerPeers(program: Command, context: CliContext): void {
  const peers = program.command("peers").description("manage the peer authorities this gateway exchanges with");
  registerPeersReconcile(peers, context);

  withCommonOptions(
    peers
      .command("add")
      .description("trust a peer authority from its bundle, pinned to the root fingerprint it gave you out of band")
      .argument("<bundle>", "the peer's trust bundle (JSON file)")
      .requiredOption("--fingerprint <hex>", "the peer root's SHA-256 fingerprint, as read out by the peer (colons and case ignored)"),
    true,
  ).action(async (bundle: string, options: CommonOptions & { fingerprint: string }) => {
    const audit = await auditor(options, context);
    const peer = await addPeer(peersDir(options, context), bundle, options.fingerprint, context.now());
    await audit("peer.added", peerDetails(peer));
    context.output(options.json === true).result({ added: peer }, () => `Added peer ${peer.authority} at ${peer.endpoint}\n${describe(peer)}`);
  });

  withCommonOptions(
    peers
      .command("update")
      .description("replace a known peer's bundle with a newer one (it must chain to the pinned root)")
      .argument("<bundle>", "the peer's new trust bundle (JSON file)"),
    true,
  ).action(async (bundle: string, options: CommonOptions) => {
    const audit = await auditor(options, context);
    const peer = await updatePeer(peersDir(options, context), bundle, context.now());
    await audit("peer.updated", peerDetails(peer));
    context.output(options.json === true).result({ updated: peer }, () => `Updated peer ${peer.authority}\n${describe(peer)}`);
  });

  withCommonOptions(peers.command("list").description("list the peer authorities"), false).action((options: CommonOptions) => {
    const rows = listPeers(peersDir(options, context));
    context
      .output(options.json === true)
      .result({ peers: rows }, () => (rows.length === 0 ? "No peers yet: valise peers add BUNDLE --fingerprint HEX" : rows.map(describe).join("\n\n")));
  });

  withCommonOptions(peers.command("remove").description("stop trusting a peer authority").argument("<id>", "the peer's authority id"), true).action(
    async (id: string, options: CommonOptions) => {
      const audit = await auditor(options, context);
      const removed = listPeers(peersDir(options, context)).find((peer) => peer.authority === id);
      removePeer(peersDir(options, context), id);
      await audit("peer.removed", { peer: id, rootFingerprint: removed?.rootFingerprint ?? null });
      context.output(options.json === true).result({ removed: id }, () => `Removed peer ${id}`);
    },
  );
}

function describe(peer: PeerSummary): string {
  return [
    `${peer.authority}  ${peer.endpoint}  (${peer.profile})`,
    `  root sha256  ${groupFingerprint(peer.rootFingerprint)}`,
    `  bundle       issued ${peer.issuedAt}, ${peer.certificates} certificates, CRL #${peer.crlNumber} until ${peer.crlNextUpdate ?? "?"}`,
    `  added        ${peer.addedAt}, updated ${peer.updatedAt}`,
  ].join("\n");
}
