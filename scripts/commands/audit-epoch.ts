/**
 * `valise audit new-epoch`: after a restore lost part of the log, freeze
 * the epoch and start the next one, openly (gateway/audit/new-epoch.ts).
 * The gateway must not be running on the home (its start-up check stops it
 * on a log behind its peers; the command works either way).
 */
import type { Command } from "commander";
import { openHome } from "../../gateway/home.js";
import { openAuthorityPki } from "../../pki/store.js";
import { loadIdentity } from "../../gateway/identity.js";
import { PeerDirectory } from "../../gateway/peers/directory.js";
import { PeerClient } from "../../gateway/delivery/peer-client.js";
import { withHomeStore } from "../../gateway/store/home-store.js";
import { readRestoreMarker } from "../../gateway/backup/restore-marker.js";
import { startNewEpoch, type NewEpochResult } from "../../gateway/audit/new-epoch.js";
import { describeRange } from "../../gateway/audit/verify-export.js";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";

/** Registers `valise audit new-epoch` under `audit`. */
export function registerAuditEpoch(audit: Command, context: CliContext): void {
  withCommonOptions(
    audit
      .command("new-epoch")
      .description("after a restore lost part of the log: freeze the epoch, start the next one with a signed statement of the loss, and have the peers witness it")
      .option("--force", "start a new epoch although no peer cosigned more than the log holds (peers see it as forced)")
      .option("--operator <name>", "who starts it, written into the statement (default: $USER)")
      .option("--reason <text>", "why, written into the statement"),
    true,
  ).action(async (options: CommonOptions & { force?: boolean; operator?: string; reason?: string }) => {
    const home = openHome(homeDir(options, context));
    const output = context.output(options.json === true);
    const secret = await passphrase(options, context);
    const now = context.now();
    const pki = openAuthorityPki(home.paths.pki);
    const identity = await loadIdentity(pki, secret, now);
    const peers = new PeerDirectory(home.paths.peers);
    const client = new PeerClient(identity, peers, () => now, 10_000);
    const marker = readRestoreMarker(home.paths.root);
    try {
      const result = await withHomeStore(home, "apply", (store) =>
        startNewEpoch({
          store,
          authority: home.config.authority,
          logKeys: pki.certificates("log").map((c) => c.certificate.publicKey),
          peers,
          client,
          logKey: identity.logKey,
          now,
          force: options.force === true,
          operator: (options.operator ?? context.env["USER"] ?? "operator").slice(0, 128),
          reason: (options.reason ?? (marker === undefined ? "log entries lost" : `restored from the backup taken ${marker.backupCreatedAt}`)).slice(0, 1000),
          ...(marker === undefined ? {} : { restored: { size: marker.log.size, root: marker.log.root, backupCreatedAt: marker.backupCreatedAt } }),
        }),
      );
      output.result(result, () => render(result));
    } finally {
      client.close();
    }
  });
}

function render(result: NewEpochResult): string {
  const s = result.statement;
  return [
    `Started epoch ${result.epoch} of the log (${result.origin}); ${s.previousOrigin} is frozen.`,
    `  statement   entry ${result.statementIndex}, covered by the signed checkpoint of size ${result.checkpointSize}`,
    `  held        ${s.held.size} entries${s.restored === null ? "" : ` (${s.restored.size} from the backup taken ${s.restored.backupCreatedAt})`}`,
    `  cosigned    ${s.previous === null ? "nothing by the peers" : `${s.previous.size} entries by ${s.previous.cosignedBy.join(", ")}`}`,
    `  lost        ${s.lost === null ? "nothing (FORCED)" : `entries ${describeRange(s.lost)} of ${s.previousOrigin} (${s.lost.count})`}`,
    ...result.peers.map((p) => `  ${p.peer.padEnd(11)} ${p.outcome}${p.code === undefined ? "" : ` (${p.code}${p.reason === undefined ? "" : `: ${p.reason}`})`}${(p.alarmsResolved ?? []).length === 0 ? "" : `, its alarm(s) ${p.alarmsResolved!.join(", ")} resolved`}`),
    "Next: valise start, then valise peers reconcile PEER for each peer (a restored gateway reconciles by itself once it runs).",
  ].join("\n");
}
