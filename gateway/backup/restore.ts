/**
 * `valise restore FILE --home DIR`: a home back from a backup archive.
 *
 * Nothing is written until the whole archive has verified
 * (gateway/backup/verify.ts): a truncated, edited or foreign archive is
 * refused with its code and leaves the disk as it was. A home that a
 * gateway is running on (a live instance lease in its store) is never
 * replaced (RESTORE_HOME_LIVE); any other existing home only with `force`,
 * and then it is renamed aside, never deleted (it holds private keys).
 *
 * The archive is read a second time into a staging folder beside the home
 * (checked again as it streams, in case the file changed in between), the
 * restored SQLite log is checked against the manifest (every entry against
 * its leaf, the tree against its last signed checkpoint), a restore marker
 * (gateway/backup/restore-marker.ts) is added, and the staging folder is
 * renamed into place. The gateway started on it then compares its log with
 * what the peers cosigned before it serves anything.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { syncFolder } from "../../pki/atomic-file.js";
import { openAuthorityPki } from "../../pki/store.js";
import { GatewayError } from "../errors.js";
import { homePaths } from "../home.js";
import { loadConfigFile } from "../config/config.js";
import { openStore, type StoreLocation } from "../store/store.js";
import { appendEntry } from "../audit/append.js";
import { checkLogIntegrity } from "../audit/integrity.js";
import { withStoredTree } from "../audit/stored-tree.js";
import { treeRoot } from "../audit/merkle.js";
import { verifyBackup } from "./verify.js";
import type { BackupManifest } from "./manifest.js";
import { writeRestoreMarker } from "./restore-marker.js";

/** Options of {@link restoreBackup}. */
export interface RestoreOptions {
  /** The root fingerprint given out of band; the archive must be that root's. */
  readonly expectedFingerprint?: string;
  /** Replace an existing home that no gateway runs on (it is renamed aside). */
  readonly force?: boolean;
  readonly now: Date;
}

/** What was restored. */
export interface RestoreSummary {
  readonly home: string;
  readonly authority: string;
  readonly rootFingerprint: string;
  readonly backupCreatedAt: string;
  readonly store: BackupManifest["store"];
  readonly log: BackupManifest["log"];
  readonly files: number;
  /** Where the replaced home was moved, if one was. */
  readonly replacedHomeMovedTo?: string;
}

/** Restores the archive `file` into the home `target`. */
export async function restoreBackup(file: string, target: string, options: RestoreOptions): Promise<RestoreSummary> {
  const { manifest, config } = verifyBackup(file, options.expectedFingerprint === undefined ? {} : { expectedFingerprint: options.expectedFingerprint });
  const paths = homePaths(target);
  const occupied = existsSync(paths.root) && readdirSync(paths.root).length > 0;
  if (occupied) await checkReplaceable(paths.root, manifest, options.force === true);
  // A PostgreSQL home shares its database with whatever runs on it now.
  const archivedStore = config["store"] as { kind?: unknown; url?: unknown } | undefined;
  if (archivedStore?.kind === "postgres" && typeof archivedStore.url === "string") await refuseLive({ kind: "postgres", url: archivedStore.url }, paths.root, false);

  mkdirSync(dirname(paths.root), { recursive: true });
  const staging = join(dirname(paths.root), `.${basename(paths.root)}.restore-${randomBytes(4).toString("hex")}`);
  mkdirSync(staging, { mode: 0o700 });
  try {
    verifyBackup(file, { ...(options.expectedFingerprint === undefined ? {} : { expectedFingerprint: options.expectedFingerprint }), extractTo: staging });
    for (const folder of ["peers", "evidence"]) mkdirSync(join(staging, folder), { recursive: true, mode: 0o700 });
    if (manifest.store.included) await checkRestoredLog(join(staging, "valise.db"), manifest, file, options.now);
    writeRestoreMarker(staging, {
      "valise-restored": 1,
      restoredAt: options.now.toISOString(),
      archive: basename(file),
      backupCreatedAt: manifest.createdAt,
      store: manifest.store.kind,
      log: manifest.log,
    });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  let replacedHomeMovedTo: string | undefined;
  if (existsSync(paths.root)) {
    if (occupied) {
      replacedHomeMovedTo = `${paths.root}.replaced-${options.now.toISOString().replace(/[:.]/g, "-")}`;
      renameSync(paths.root, replacedHomeMovedTo);
    } else {
      rmSync(paths.root, { recursive: true, force: true }); // an empty folder: nothing to keep
    }
  }
  renameSync(staging, paths.root);
  syncFolder(dirname(paths.root));
  return {
    home: paths.root,
    authority: manifest.authority,
    rootFingerprint: manifest.rootFingerprint,
    backupCreatedAt: manifest.createdAt,
    store: manifest.store,
    log: manifest.log,
    files: manifest.files.length,
    ...(replacedHomeMovedTo === undefined ? {} : { replacedHomeMovedTo }),
  };
}

/**
 * An existing home may be replaced only by its own authority's backup
 * (BACKUP_FOREIGN), never while a gateway runs on it (RESTORE_HOME_LIVE),
 * and only when asked (HOME_EXISTS).
 */
async function checkReplaceable(root: string, manifest: BackupManifest, force: boolean): Promise<void> {
  const paths = homePaths(root);
  let location: StoreLocation | undefined;
  if (existsSync(paths.config)) {
    const config = loadConfigFile(paths.config);
    let fingerprint: string | undefined;
    try {
      fingerprint = openAuthorityPki(paths.pki).rootFingerprint();
    } catch {
      fingerprint = undefined; // a home without a usable PKI: its configuration still names the authority
    }
    if (config.authority !== manifest.authority || (fingerprint !== undefined && fingerprint !== manifest.rootFingerprint)) {
      throw new GatewayError("BACKUP_FOREIGN", `the archive is ${manifest.authority}'s backup; ${root} is the home of ${config.authority}${fingerprint === undefined ? "" : ` (root ${fingerprint})`}`, {
        details: { archive: manifest.authority, home: config.authority },
      });
    }
    location = config.store?.kind === "postgres" ? { kind: "postgres", url: config.store.url } : { kind: "sqlite", path: paths.database };
  }
  if (location !== undefined) await refuseLive(location, root, true);
  if (!force) throw new GatewayError("HOME_EXISTS", `${root} already exists and is not empty; pass --force to replace it (the old folder is kept, renamed)`);
}

/** RESTORE_HOME_LIVE when a gateway instance holds a live lease on the store at `location`. */
async function refuseLive(location: StoreLocation, root: string, mustOpen: boolean): Promise<void> {
  if (location.kind === "sqlite" && !existsSync(location.path)) return;
  let live: Array<{ owner: string; expiresAt: number }>;
  try {
    const store = await openStore(location, "refuse");
    try {
      live = await store.read((tx) => tx.backup.liveInstances(Date.now()));
    } finally {
      await store.close();
    }
  } catch (error) {
    // A store that cannot be opened (an old schema, PostgreSQL not restored yet or down) has no gateway on it.
    if (mustOpen && (error as { code?: string }).code === "STORE_CORRUPT") throw error;
    return;
  }
  if (live.length > 0) {
    // A database brought back from a dump taken while the gateway ran holds that gateway's lease too: it lapses at expiresAt.
    const until = new Date(Math.max(...live.map((i) => i.expiresAt))).toISOString();
    throw new GatewayError("RESTORE_HOME_LIVE", `a gateway is running on ${root} (instance ${live[0]!.owner}); stop it before restoring (a lease restored from a database dump lapses at ${until})`, {
      details: { instances: live.map((i) => i.owner), expiresAt: until },
    });
  }
}

/**
 * The restored database must hold the log the manifest describes, intact:
 * every entry matches its leaf, the tree its last signed checkpoint, and
 * its size and root are the manifest's. Then a `backup.restored` entry is
 * appended (unsigned: the next checkpoint of the epoch the gateway ends up
 * in covers it).
 */
async function checkRestoredLog(database: string, manifest: BackupManifest, file: string, now: Date): Promise<void> {
  const store = await openStore({ kind: "sqlite", path: database }, "apply");
  try {
    const pki = openAuthorityPki(join(dirname(database), "pki"));
    const logKeys = pki.certificates("log").map((c) => c.certificate.publicKey);
    await store.read(async (tx) => {
      const integrity = await checkLogIntegrity(tx, manifest.authority, logKeys);
      const root = await withStoredTree(tx, integrity.entries, (reader) => treeRoot(reader, integrity.entries));
      if (integrity.entries !== manifest.log.size || root.toString("base64") !== manifest.log.root) {
        throw new GatewayError("BACKUP_DIGEST_MISMATCH", "the archived database's log is not the one the manifest describes", {
          details: { size: integrity.entries, manifestSize: manifest.log.size },
        });
      }
    });
    await store.transaction((tx) =>
      appendEntry(tx, {
        kind: "backup.restored",
        actor: "operator",
        time: now,
        details: { file: basename(file), backupCreatedAt: manifest.createdAt, logSize: manifest.log.size, logRoot: manifest.log.root },
      }),
    );
  } finally {
    await store.close();
  }
}
