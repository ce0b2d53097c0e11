/**
 * `npm run demo`: two central authorities, GB-UKCA and US-DOJ-OIA, set up
 * their Valise gateways with the real CLI, exchange a mutual legal assistance
 * request, and show what each side can prove afterwards. Every claim the
 * demo prints is checked; it exits 0 only when all of them held.
 *
 * Run: `npm run demo [-- --keep] [-- --store postgres://HOST/DB]` (`--keep` leaves the temporary folder
 * with both homes, bundles and gateway logs for inspection, and the keys'
 * passphrase in `passphrase`, mode 0600, to open and restart the homes).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { DemoCheckFailed } from "./demo/check.js";
import { createReport } from "./demo/report.js";
import type { DemoAuthority, DemoState, DemoStep } from "./demo/scenario.js";
import { createHomes, createTokens, exchangeTrust } from "./demo/steps/authorities.js";
import { startGateways, stopGateways } from "./demo/steps/gateways.js";
import { deliverRequest, readAtUs, receiveSignedLetter, submitRequest, verifyDeliveryReceipt } from "./demo/steps/request.js";
import { refuseIncompleteRequest } from "./demo/steps/refusal.js";
import { showAuditLogs, showTimeline } from "./demo/steps/audit.js";
import { verifyAuditLogs } from "./demo/steps/audit-verify.js";
import { acceptRequest, closeCase, compareTimelines, showKpis } from "./demo/steps/lifecycle.js";
import { sendEvidence } from "./demo/steps/evidence.js";
import { keepPassphrase, keptFolderHelp } from "./demo/kept-folder.js";
import { createDemoDatabases } from "./demo/postgres.js";
import { publishRequirements, refuseByRequirements } from "./demo/steps/requirements.js";

/** The demo, in order. New features add their steps here. */
export const DEMO_STEPS: readonly DemoStep[] = [
  createHomes,
  exchangeTrust,
  createTokens,
  startGateways,
  publishRequirements,
  refuseByRequirements,
  submitRequest,
  deliverRequest,
  verifyDeliveryReceipt,
  readAtUs,
  receiveSignedLetter,
  refuseIncompleteRequest,
  showAuditLogs,
  showTimeline,
  acceptRequest,
  sendEvidence,
  closeCase,
  compareTimelines,
  showKpis,
  verifyAuditLogs,
  stopGateways,
];

function authority(workdir: string, id: string, name: string, label: string): DemoAuthority {
  return { id, name, label, home: join(workdir, id), peerPort: 0, endpoint: "", rootFingerprint: "", tokens: {} };
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help")) {
    process.stdout.write(
      "usage: npm run demo [-- --keep] [-- --store postgres://HOST/DB]\n  --keep   keep the temporary folder (homes, bundles, gateway logs, and the keys' passphrase in a 0600 file)\n  --store  run on PostgreSQL: each authority gets a database of its own on that server (dropped at the end unless --keep)\n",
    );
    return 0;
  }
  const keep = argv.includes("--keep");
  const storeAt = argv.indexOf("--store");
  const storeUrl = storeAt < 0 ? undefined : argv[storeAt + 1];
  if (storeAt >= 0 && (storeUrl === undefined || !/^postgres(ql)?:\/\//.test(storeUrl))) {
    process.stderr.write("--store takes a postgres:// URL, e.g. postgres://127.0.0.1/postgres\n");
    return 2;
  }
  const databases = storeUrl === undefined ? undefined : await createDemoDatabases(storeUrl);
  const report = createReport({ stream: process.stdout });
  const workdir = mkdtempSync(join(tmpdir(), "valise-demo-"));
  const state: DemoState = {
    workdir,
    passphrase: randomBytes(24).toString("base64url"),
    gb: authority(workdir, "GB-UKCA", "UK Central Authority", "GB"),
    us: authority(workdir, "US-DOJ-OIA", "US Department of Justice, Office of International Affairs", "US"),
    ...(databases === undefined ? {} : { stores: { gb: databases.gb, us: databases.us } }),
  };
  // Kept homes are only useful with the passphrase of their keys: written first, so that a failed run's homes open too.
  const passphraseFile = keep ? keepPassphrase(workdir, state.passphrase) : undefined;
  const cleanup = (): void => {
    for (const side of [state.gb, state.us]) side.gateway?.kill();
    if (!keep) rmSync(workdir, { recursive: true, force: true });
  };
  const interrupted = (): void => {
    cleanup();
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);

  process.stdout.write(
    [
      "Valise demo: the UK Central Authority sends a mutual legal assistance request to the",
      "US Department of Justice (Office of International Affairs), gateway to gateway.",
      `Working folder: ${workdir}${keep ? " (kept)" : " (removed at the end; --keep to keep it)"}`,
      `Store: ${databases === undefined ? "SQLite, valise.db in each home" : "PostgreSQL, a database per authority (dropped at the end unless --keep)"}`,
      "",
    ].join("\n"),
  );
  let current = "";
  try {
    for (const step of DEMO_STEPS) {
      current = step.title;
      report.section(step.title);
      await step.run(state, report);
    }
    process.stdout.write(`\nAll ${DEMO_STEPS.length} steps verified.\n`);
    return 0;
  } catch (error) {
    report.fail(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof DemoCheckFailed) report.block(error.evidence.filter((line) => line !== "").flatMap((line) => line.split("\n")).slice(-20));
    else if (error instanceof Error && error.stack !== undefined) report.block(error.stack.split("\n").slice(1, 6));
    for (const side of [state.gb, state.us]) {
      if (side.gateway !== undefined) {
        report.say(`last log lines of ${side.id}'s gateway:`);
        report.block(side.gateway.logTail(8));
      }
    }
    process.stdout.write(`\nThe demo failed at "${current}".\n`);
    return 1;
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    cleanup();
    if (!keep) await databases?.drop().catch(() => undefined);
    if (passphraseFile !== undefined) process.stdout.write(keptFolderHelp(workdir, passphraseFile, [state.gb.home, state.us.home]));
  }
}

process.exitCode = await main(process.argv.slice(2));
