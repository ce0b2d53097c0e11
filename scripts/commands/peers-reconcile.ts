/**
 * `valise peers reconcile PEER`: compare with a peer what the two sides
 * hold of their exchanges and take back what this side lost
 * (gateway/reconcile/reconcile.ts). Works whether or not the gateway runs;
 * the report is printed (`--json`) and kept in `HOME/reconciliation/`.
 */
import type { Command } from "commander";
import { openHome } from "../../gateway/home.js";
import { openAuthorityPki } from "../../pki/store.js";
import { loadIdentity } from "../../gateway/identity.js";
import { PeerDirectory } from "../../gateway/peers/directory.js";
import { PeerClient } from "../../gateway/delivery/peer-client.js";
import { withHomeStore } from "../../gateway/store/home-store.js";
import { Checkpointer } from "../../gateway/audit/checkpoints.js";
import { documentValidator } from "../../schemas/validate.js";
import { DEFAULT_CLOCK_SKEW_MS } from "../../gateway/envelope/limits.js";
import { reconcileWithPeer, type ReconcileReport } from "../../gateway/reconcile/reconcile.js";
import { keepReport } from "../../gateway/reconcile/after-restore.js";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";

/** Registers `valise peers reconcile` under `peers`. */
export function registerPeersReconcile(peers: Command, context: CliContext): void {
  withCommonOptions(
    peers
      .command("reconcile")
      .description("compare with a peer the cases, envelopes and receipts both sides hold, and take back what this side lost (after a restore)")
      .argument("<peer>", "the peer's authority id"),
    true,
  ).action(async (peerId: string, options: CommonOptions) => {
    const home = openHome(homeDir(options, context));
    const secret = await passphrase(options, context);
    const pki = openAuthorityPki(home.paths.pki);
    const identity = await loadIdentity(pki, secret, context.now());
    const directory = new PeerDirectory(home.paths.peers);
    const client = new PeerClient(identity, directory, context.now, 30_000);
    try {
      const report = await withHomeStore(home, "apply", (store) =>
        reconcileWithPeer(
          {
            store,
            authority: home.config.authority,
            identity,
            signCertificates: pki.certificates("sign").map((c) => c.certificate),
            peers: directory,
            client,
            validator: documentValidator(),
            checkpoints: new Checkpointer(store, home.config.authority, identity.logKey, context.now),
            now: context.now,
            clockSkewMs: (home.config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_MS / 1000) * 1000,
          },
          peerId,
        ),
      );
      const kept = keepReport(home.paths.root, report);
      context.output(options.json === true).result({ ...report, keptAt: kept }, () => render(report, kept));
    } finally {
      client.close();
    }
  });
}

function render(report: ReconcileReport, kept: string): string {
  return [
    `Reconciled ${report.authority} with ${report.peer}: the case lists ${report.casesAgree ? "agree" : "still DIFFER"}.`,
    `  received again   ${report.receivedAgain.length} envelope(s) ${report.peer} had sent (opened and checked again, receipted in this epoch)`,
    `  recovered        ${report.recovered.length} own envelope(s), delivered as ${report.peer}'s receipts prove:`,
    ...report.recovered.map((r) => `                   ${r.envelopeId} (${r.type}, case ${r.caseId}) received ${r.receipt.receivedAt}${r.receipt.log === null ? "" : ` at ${r.receipt.log.origin}#${r.receipt.log.index}`}`),
    `  cases            ${report.casesRecreated.length} recreated, ${report.casesUpdated.length} brought up to date from ${report.peer}'s copy`,
    ...(report.evidenceToResend.length === 0 ? [] : [`  evidence         ${report.evidenceToResend.length} package(s) whose items must be sent again: ${report.evidenceToResend.join(", ")}`]),
    ...report.unresolved.map((u) => `  UNRESOLVED       case ${u.caseId}${u.envelopeId === null ? "" : `, envelope ${u.envelopeId}`}: ${u.code} ${u.reason}`),
    ...report.differences.map((d) => `  DIFFERS          case ${d.caseId}: here ${d.here ?? "absent"}, at ${report.peer} ${d.peer ?? "absent"}`),
    `  only here        ${report.onlyHere.length} envelope(s) ${report.peer} does not hold (pending delivery, or lost there)`,
    `The report is kept at ${kept}.`,
  ].join("\n");
}
