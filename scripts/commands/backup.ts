/**
 * `valise backup`, `valise backup verify`, `valise restore`: a consistent,
 * signed archive of a home taken while the gateway runs, checked offline,
 * and restored only after it checked (gateway/backup/).
 */
import type { Command } from "commander";
import { openHome, resolveHomeDir } from "../../gateway/home.js";
import { GatewayError } from "../../gateway/errors.js";
import { openAuthorityPki } from "../../pki/store.js";
import { createBackup } from "../../gateway/backup/create.js";
import { verifyBackup } from "../../gateway/backup/verify.js";
import { restoreBackup } from "../../gateway/backup/restore.js";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";
import { operatorSigning } from "../cli/log-signing.js";
import { groupFingerprint } from "./init.js";

/** Registers `valise backup` (with `verify`). */
export function registerBackup(program: Command, context: CliContext): void {
  const backup = withCommonOptions(
    program
      .command("backup")
      .description("write a consistent, signed archive of the home (database, PKI, peers, configuration, evidence) while the gateway runs")
      .option("--out <file>", "the archive to write (never overwritten)"),
    true,
  ).action(async (options: CommonOptions & { out?: string }) => {
    if (options.out === undefined) throw new GatewayError("USAGE", "valise backup needs --out FILE");
    const home = openHome(homeDir(options, context));
    const output = context.output(options.json === true);
    const secret = await passphrase(options, context);
    const pki = openAuthorityPki(home.paths.pki);
    const logKey = pki.loadPrivateKey("log", secret);
    const signing = operatorSigning(home, secret, context, output);
    const summary = await createBackup(home, { out: options.out, pki, logKey, now: context.now(), ...(signing === undefined ? {} : { signing }) });
    output.result(summary, () =>
      [
        `Wrote the backup of ${summary.authority} to ${summary.out} (${summary.bytes} bytes, ${summary.files} files, ${summary.evidenceObjects} evidence objects).`,
        `  log        ${summary.log.size} entries, root ${summary.log.root}, epoch ${summary.log.epoch} (${summary.log.origin})`,
        summary.store.included
          ? "  database   SQLite, copied with the online backup API"
          : "  database   PostgreSQL: NOT in the archive; back it up with pg_dump or continuous archiving (README, Disaster recovery)",
        `  root       ${groupFingerprint(summary.rootFingerprint)}`,
        `Check it offline: valise backup verify ${summary.out} --fingerprint ${summary.rootFingerprint}`,
      ].join("\n"),
    );
  });

  backup
    .command("verify")
    .description("check a backup archive offline: structure, signature of the manifest, every file's SHA-256")
    .argument("<file>", "the archive")
    .option("--fingerprint <hex>", "the authority's root fingerprint, given out of band: the archive must be that root's")
    .option("--json", "print one JSON document instead of text")
    .action((file: string, _options: unknown, command: Command) => {
      // `backup`'s own --json and --home are parsed by it: read the options with the parent's.
      const options = command.optsWithGlobals<{ fingerprint?: string; json?: boolean }>();
      const { manifest } = verifyBackup(file, options.fingerprint === undefined ? {} : { expectedFingerprint: options.fingerprint });
      const summary = {
        verified: true,
        file,
        authority: manifest.authority,
        rootFingerprint: manifest.rootFingerprint,
        pinned: options.fingerprint !== undefined,
        createdAt: manifest.createdAt,
        store: manifest.store,
        log: manifest.log,
        files: manifest.files.length,
      };
      context.output(options.json === true).result(summary, () =>
        [
          `VERIFIED: the backup of ${summary.authority} taken ${summary.createdAt}: ${summary.files} files, each as the signed manifest says`,
          `  log        ${summary.log.size} entries, root ${summary.log.root}, epoch ${summary.log.epoch}`,
          `  database   ${summary.store.included ? "SQLite, included" : "PostgreSQL, not included (restore it with its own tools)"}`,
          `  root       ${groupFingerprint(summary.rootFingerprint)}${summary.pinned ? " (as pinned)" : " — compare it with the fingerprint you hold, or pass --fingerprint"}`,
        ].join("\n"),
      );
    });
}

/** Registers `valise restore`. */
export function registerRestore(program: Command, context: CliContext): void {
  program
    .command("restore")
    .description("restore a home from a backup archive, after checking all of it (never over a running gateway)")
    .argument("<file>", "the archive")
    .option("--home <dir>", "the home to restore into (default: $VALISE_HOME)")
    .option("--fingerprint <hex>", "the authority's root fingerprint, given out of band: the archive must be that root's")
    .option("--force", "replace an existing home no gateway runs on (it is kept, renamed)")
    .option("--json", "print one JSON document instead of text")
    .action(async (file: string, options: { home?: string; fingerprint?: string; force?: boolean; json?: boolean }) => {
      const target = resolveHomeDir(options.home, context.env);
      const summary = await restoreBackup(file, target, {
        now: context.now(),
        force: options.force === true,
        ...(options.fingerprint === undefined ? {} : { expectedFingerprint: options.fingerprint }),
      });
      context.output(options.json === true).result(summary, () =>
        [
          `Restored the backup of ${summary.authority} taken ${summary.backupCreatedAt} into ${summary.home}${summary.replacedHomeMovedTo === undefined ? "" : ` (the old home is kept at ${summary.replacedHomeMovedTo})`}.`,
          `  log        ${summary.log.size} entries, root ${summary.log.root}, epoch ${summary.log.epoch}`,
          `  root       ${groupFingerprint(summary.rootFingerprint)}`,
          ...(summary.store.included
            ? []
            : ["  database   PostgreSQL: restore it now with pg_restore (or point-in-time recovery) BEFORE starting the gateway"]),
          "Next: valise start. Before it serves, it compares its log with what each peer cosigned; if entries were lost it stops",
          "and tells you to run valise audit new-epoch, then reconciles with every peer (valise peers reconcile PEER to run it again).",
        ].join("\n"),
      );
    });
}
