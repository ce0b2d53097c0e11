/**
 * `valise audit …`: what an auditor takes away and checks without trusting
 * the gateway.
 *
 * - `export` writes the whole log (entries, signed checkpoints with their
 *   cosignatures, receipts, bundles as hints) to one JSON file, first
 *   signing a checkpoint over all of it when none covers it yet (the CLI
 *   holds the log key).
 * - `verify` checks such a file offline, trusting only the bundles given
 *   with `--trust` (received out of band), optionally pinned by fingerprint;
 *   entries no trusted checkpoint covers are refused unless
 *   `--allow-unsigned-tail`.
 * - `custody` prints a case's chain of custody from the home's database.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { openHome } from "../../gateway/home.js";
import { withHomeStore } from "../../gateway/store/home-store.js";
import { GatewayError } from "../../gateway/errors.js";
import { buildAuditExport, buildSignedAuditExport, type SignedAuditExport } from "../../gateway/audit/export.js";
import { describeRange, trustFromBundles, verifyAuditExport, type AuditVerifyReport } from "../../gateway/audit/verify-export.js";
import { caseCustody, formatCustody } from "../../gateway/audit/custody.js";
import { createTrustBundle } from "../../pki/bundle.js";
import { openAuthorityPki } from "../../pki/store.js";
import { listPeers, peerBundleFile } from "../../pki/peers.js";
import { writeFileAtomic } from "../../pki/atomic-file.js";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";
import { operatorSigning } from "../cli/log-signing.js";
import { registerAuditEpoch } from "./audit-epoch.js";

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Reads and parses a JSON file named on the command line (`FILE_UNREADABLE`, `USAGE` when not JSON). */
function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new GatewayError("FILE_UNREADABLE", `cannot read the ${what} ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, {
      cause,
      details: { file },
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new GatewayError("AUDIT_EXPORT_INVALID", `the ${what} ${file} is not JSON`, { cause, details: { file } });
  }
}

/** Registers `valise audit` and its subcommands. */
export function registerAudit(program: Command, context: CliContext): void {
  const audit = program.command("audit").description("export, verify offline, and trace the chain of custody of the audit log");
  registerAuditEpoch(audit, context);

  withCommonOptions(
    audit
      .command("export")
      .description("write the whole audit log (entries, checkpoints with cosignatures, receipts, trust bundles) to a file")
      .requiredOption("--out <file>", "where to write the export (JSON)"),
    true,
  ).action(async (options: CommonOptions & { out: string }) => {
    const home = openHome(homeDir(options, context));
    const pki = openAuthorityPki(home.paths.pki);
    const now = context.now();
    const output = context.output(options.json === true);
    const secret = await passphrase(options, context);
    const ownBundle = await createTrustBundle(pki, secret, now);
    const peerBundles = listPeers(home.paths.peers).map((peer) => peerBundleFile(home.paths.peers, peer.authority));
    const signing = operatorSigning(home, secret, context, output);
    const input = { authority: home.config.authority, ownBundle, peerBundles, now };
    // Read-only without the log key; with it, the export may sign (a write), so the store is brought up to date.
    const result: SignedAuditExport = await withHomeStore(home, signing === undefined ? "refuse" : "apply", async (store) =>
      signing === undefined ? { exported: await store.read((tx) => buildAuditExport(tx, input)) } : buildSignedAuditExport(store, input, signing),
    );
    const { exported } = result;
    writeFileAtomic(options.out, `${JSON.stringify(exported)}\n`);
    if (result.refused !== undefined) output.note(`The export is not fully signed: ${result.refused.message}. valise audit verify will refuse its unsigned tail.`);
    const latest = exported.checkpoints.at(-1);
    const summary = {
      out: options.out,
      authority: exported.authority,
      entries: exported.entries.length,
      checkpoints: exported.checkpoints.length,
      latestCheckpointSize: latest?.size ?? 0,
      /** Size of the checkpoint this export signed (none covered every entry), or null. */
      signedForExport: result.signed?.size ?? null,
      /** Entries no signed checkpoint covers (0 unless the log could not be signed). */
      unsignedEntries: exported.entries.length - (latest?.size ?? 0),
      cosignatures: latest?.cosignatures.map((c) => c.witness) ?? [],
      receipts: { issued: exported.receipts.issued.length, held: exported.receipts.held.length },
    };
    output.result(summary, () =>
      [
        `Wrote the audit log of ${summary.authority} to ${summary.out}: ${summary.entries} entries, ${summary.checkpoints} signed checkpoints`,
        `(latest of size ${summary.latestCheckpointSize}${summary.signedForExport === null ? "" : ", signed for this export"}${summary.cosignatures.length === 0 ? ", not yet cosigned" : `, cosigned by ${summary.cosignatures.join(", ")}`}),`,
        `${summary.receipts.issued} receipts issued, ${summary.receipts.held} held.`,
        `Verify it offline with the bundles you trust: valise audit verify ${summary.out} --trust ${summary.authority}.bundle.json --trust PEER.bundle.json`,
      ].join("\n"),
    );
  });

  audit
    .command("verify")
    .description("verify an audit export offline, trusting only the bundles given (no gateway, no home needed)")
    .argument("<file>", "the export (valise audit export)")
    .requiredOption("--trust <bundle>", "a trust bundle received out of band: the log's authority's, and its peers' for cosignatures and receipts (repeatable)", collect, [])
    .option("--fingerprint <hex>", "pin the trusted bundles' roots: each --trust must match one (repeatable)", collect, [])
    .option("--allow-unsigned-tail", "accept entries after the largest trusted checkpoint (reported as unsigned) instead of refusing them (AUDIT_VERIFY_UNSIGNED)")
    .option("--json", "print one JSON document instead of text")
    .action(async (file: string, options: { trust: string[]; fingerprint: string[]; allowUnsignedTail?: boolean; json?: boolean }) => {
      const now = context.now();
      const bundles = options.trust.map((path) => readJsonFile(path, "trust bundle"));
      const trust = await trustFromBundles(bundles, { fingerprints: options.fingerprint, now });
      const report = await verifyAuditExport(readJsonFile(file, "audit export"), trust, now, { allowUnsignedTail: options.allowUnsignedTail === true });
      context.output(options.json === true).result({ verified: true, ...report }, () => renderReport(report));
    });

  withCommonOptions(
    audit
      .command("custody")
      .description("the chain of custody of a case: every envelope, receipt, status change, evidence item and read, with digests, signers and log indices")
      .argument("<caseId>", "the case id")
      .option("--format <format>", "json or text", "text"),
    false,
  ).action(async (caseId: string, options: CommonOptions & { format: string }) => {
    if (options.format !== "json" && options.format !== "text") throw new GatewayError("USAGE", "--format is json or text");
    const report = await withHomeStore(openHome(homeDir(options, context)), "refuse", (store) => store.read((tx) => caseCustody(tx, caseId)));
    context.output(options.json === true || options.format === "json").result(report, () => formatCustody(report));
  });
}

function renderReport(report: AuditVerifyReport): string {
  const { cosignatures: c, receipts: r } = report;
  return [
    `VERIFIED: the audit log of ${report.authority} (${report.origin})${report.unsignedRange === null ? "" : ", EXCEPT an unsigned tail"}`,
    `  entries       ${report.entries}, root ${report.rootHash}`,
    `  checkpoints   ${report.checkpoints.verified} signed by a trusted log key, largest of size ${report.checkpoints.largestSize}, each consistent with the previous one`,
    ...(report.unsignedRange === null
      ? []
      : [
          `  UNSIGNED      entries ${describeRange(report.unsignedRange)} (${report.unsignedEntries}) are covered by no trusted checkpoint: nothing proves what they held (accepted with --allow-unsigned-tail)`,
        ]),
    `  cosignatures  ${c.verified} verified${c.witnesses.length === 0 ? "" : ` (${c.witnesses.join(", ")})`}${c.unverified === 0 ? "" : `; ${c.unverified} by witnesses not trusted here (${c.unverifiedWitnesses.join(", ")})`}`,
    `  receipts      ${r.issued} issued and matching their entries; ${r.heldVerified} held from peers verified${r.heldUnverified === 0 ? "" : `, ${r.heldUnverified} not checked (no trusted bundle of ${r.unverifiedPeers.join(", ")})`}`,
    ...(report.epochs.length === 1
      ? []
      : report.epochs.map(
          (e) =>
            `  epoch ${String(e.epoch).padEnd(7)} ${e.origin}: ${e.checkpoints} checkpoint(s)${e.statementIndex === null ? "" : `, opened by the statement at index ${e.statementIndex}`}` +
            (e.statementIndex === null ? "" : e.lost === null ? " (FORCED: no loss declared)" : `; LOST entries ${describeRange(e.lost)} of the previous epoch (${e.lost.count})`),
        )),
    ...report.peerEpochs.map(
      (p) => `  peer epoch    entry ${p.index}: accepted ${p.origin} of ${p.peer}${p.lost === null ? " (forced, no loss)" : `, which lost entries ${describeRange(p.lost)} (${p.lost.count})`}`,
    ),
  ].join("\n");
}
