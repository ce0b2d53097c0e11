/**
 * `valise audit …`: what an auditor takes away and checks without trusting
 * the gateway.
 *
 * - `export` writes the whole log (entries, signed checkpoints with their
 *   cosignatures, receipts, bundles as hints) to one JSON file.
 * - `verify` checks such a file offline, trusting only the bundles given
 *   with `--trust` (received out of band), optionally pinned by fingerprint.
 * - `custody` prints a case's chain of custody from the home's database.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { openHome } from "../../gateway/home.js";
import { withHomeStore } from "../../gateway/store/home-store.js";
import { GatewayError } from "../../gateway/errors.js";
import { buildAuditExport, type AuditExport } from "../../gateway/audit/export.js";
import { trustFromBundles, verifyAuditExport, type AuditVerifyReport } from "../../gateway/audit/verify-export.js";
import { caseCustody, formatCustody } from "../../gateway/audit/custody.js";
import { createTrustBundle } from "../../pki/bundle.js";
import { openAuthorityPki } from "../../pki/store.js";
import { listPeers, peerBundleFile } from "../../pki/peers.js";
import { writeFileAtomic } from "../../pki/atomic-file.js";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";

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
    const ownBundle = await createTrustBundle(pki, await passphrase(options, context), now);
    const peerBundles = listPeers(home.paths.peers).map((peer) => peerBundleFile(home.paths.peers, peer.authority));
    const exported: AuditExport = await withHomeStore(home, "refuse", (store) =>
      store.read((tx) => buildAuditExport(tx, { authority: home.config.authority, ownBundle, peerBundles, now })),
    );
    writeFileAtomic(options.out, `${JSON.stringify(exported)}\n`);
    const latest = exported.checkpoints.at(-1);
    const summary = {
      out: options.out,
      authority: exported.authority,
      entries: exported.entries.length,
      checkpoints: exported.checkpoints.length,
      latestCheckpointSize: latest?.size ?? 0,
      cosignatures: latest?.cosignatures.map((c) => c.witness) ?? [],
      receipts: { issued: exported.receipts.issued.length, held: exported.receipts.held.length },
    };
    context.output(options.json === true).result(summary, () =>
      [
        `Wrote the audit log of ${summary.authority} to ${summary.out}: ${summary.entries} entries, ${summary.checkpoints} signed checkpoints`,
        `(latest of size ${summary.latestCheckpointSize}${summary.cosignatures.length === 0 ? ", not yet cosigned" : `, cosigned by ${summary.cosignatures.join(", ")}`}),`,
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
    .option("--json", "print one JSON document instead of text")
    .action(async (file: string, options: { trust: string[]; fingerprint: string[]; json?: boolean }) => {
      const now = context.now();
      const bundles = options.trust.map((path) => readJsonFile(path, "trust bundle"));
      const trust = await trustFromBundles(bundles, { fingerprints: options.fingerprint, now });
      const report = await verifyAuditExport(readJsonFile(file, "audit export"), trust, now);
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
    `VERIFIED: the audit log of ${report.authority} (${report.origin})`,
    `  entries       ${report.entries}, root ${report.rootHash}`,
    `  checkpoints   ${report.checkpoints.verified} signed by a trusted log key, largest of size ${report.checkpoints.largestSize}, each consistent with the previous one`,
    ...(report.unsignedEntries > 0 ? [`                ${report.unsignedEntries} entries after the largest checkpoint are not yet covered by a signature`] : []),
    `  cosignatures  ${c.verified} verified${c.witnesses.length === 0 ? "" : ` (${c.witnesses.join(", ")})`}${c.unverified === 0 ? "" : `; ${c.unverified} by witnesses not trusted here (${c.unverifiedWitnesses.join(", ")})`}`,
    `  receipts      ${r.issued} issued and matching their entries; ${r.heldVerified} held from peers verified${r.heldUnverified === 0 ? "" : `, ${r.heldUnverified} not checked (no trusted bundle of ${r.unverifiedPeers.join(", ")})`}`,
  ].join("\n");
}
