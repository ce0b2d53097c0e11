/**
 * `valise backup`: one consistent archive of a home, taken while the
 * gateway runs.
 *
 * - SQLite: the database is copied with SQLite's online backup API (a WAL
 *   snapshot of committed data, store.backupTo), then the evidence objects
 *   that snapshot refers to are archived. Evidence files are written and
 *   fsynced before the row that names them commits, so every object the
 *   snapshot names exists; objects received later are not in the snapshot's
 *   rows and are left out. Partial uploads are left out too: after a
 *   restore the receiver finds no partial file, says so on HEAD, and the
 *   sender uploads those items again from the start.
 * - PostgreSQL: the database is the operator's to back up (pg_dump, or
 *   continuous archiving for point-in-time recovery; README "Disaster
 *   recovery"); the archive holds the home's files and records the log's
 *   size, root and epoch read at backup time, so a restore knows what it
 *   should find.
 *
 * The manifest lists every file with its SHA-256 and is signed with the
 * `log` key (gateway/backup/manifest.ts). A `backup.created` audit entry is
 * appended (and signed) before the snapshot, so the archive holds it.
 * The archive is written beside `out` under a temporary name and linked into
 * place at the end: a failure leaves no half-written file at `out`.
 */
import { closeSync, existsSync, linkSync, lstatSync, mkdtempSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { KeyObject } from "node:crypto";
import { syncFolder } from "../../pki/atomic-file.js";
import type { AuthorityPki } from "../../pki/store.js";
import { GatewayError } from "../errors.js";
import type { Home } from "../home.js";
import { openHomeStore } from "../store/home-store.js";
import { openStore, type Store } from "../store/store.js";
import { storedPath } from "../evidence/sealed-store.js";
import { currentEpoch } from "../audit/epochs.js";
import { withStoredTree } from "../audit/stored-tree.js";
import { treeRoot } from "../audit/merkle.js";
import { recordOperatorEvents, type OperatorSigning } from "../audit/operator-events.js";
import { TarWriter } from "./tar.js";
import { BACKUP_FORMAT, HOME_PREFIX, MANIFEST_NAME, SIGNATURE_NAME, isHomePath, manifestBytes, signManifest, type BackupManifest, type ManifestFile, type ManifestLog } from "./manifest.js";

/** What a backup needs besides the home. */
export interface BackupOptions {
  /** The archive to write (must not exist). */
  readonly out: string;
  readonly pki: AuthorityPki;
  /** The current `log` private key: signs the manifest (and the audit entry's checkpoint). */
  readonly logKey: KeyObject;
  readonly now: Date;
  /** Signing of the `backup.created` entry (the CLI's operator signing). */
  readonly signing?: OperatorSigning;
}

/** What was written. */
export interface BackupSummary {
  readonly out: string;
  readonly authority: string;
  readonly rootFingerprint: string;
  readonly bytes: number;
  readonly files: number;
  readonly evidenceObjects: number;
  readonly store: BackupManifest["store"];
  readonly log: ManifestLog;
}

/** Backs up `home` to `options.out`. Throws BACKUP_EXISTS when `out` exists. */
export async function createBackup(home: Home, options: BackupOptions): Promise<BackupSummary> {
  const { out, pki, now } = options;
  if (existsSync(out)) throw new GatewayError("BACKUP_EXISTS", `${out} already exists; a backup never overwrites a file`, { details: { out } });
  const signer = pki.currentCertificate("log");
  await recordOperatorEvents(home, [{ kind: "backup.created", actor: "operator", time: now, details: { file: basename(out), store: home.config.store?.kind ?? "sqlite" } }], options.signing);

  const work = mkdtempSync(join(dirname(out), `.${basename(out)}.`));
  try {
    const live = await openHomeStore(home, "refuse");
    let state: DatabaseState;
    let snapshot: string | undefined;
    try {
      if (live.backupTo !== undefined) {
        snapshot = join(work, "valise.db");
        await live.backupTo(snapshot);
        const copy = await openStore({ kind: "sqlite", path: snapshot }, "refuse");
        try {
          state = await databaseState(copy, home.config.authority);
        } finally {
          await copy.close();
        }
        // The snapshot is archived alone: its WAL was checkpointed into it when the copy closed.
        for (const companion of ["-wal", "-shm"]) rmSync(`${snapshot}${companion}`, { force: true });
      } else {
        state = await databaseState(live, home.config.authority);
      }
    } finally {
      await live.close();
    }

    const archive = join(work, "archive.tar");
    const fd = openSync(archive, "wx", 0o600);
    const files: ManifestFile[] = [];
    try {
      const tar = new TarWriter(fd, now);
      const add = (path: string, source: string): void => {
        if (!isHomePath(path)) return; // temp files of atomic writes, anything outside the layout
        const stat = statSync(source);
        const written = tar.addFile(HOME_PREFIX + path, source, stat.size, stat.mode & 0o777);
        files.push({ path, size: written.size, sha256: written.sha256, mode: stat.mode & 0o777 });
      };
      add("valise.json", home.paths.config);
      for (const path of regularFilesUnder(home.paths.root, "pki")) add(path, join(home.paths.root, path));
      for (const path of regularFilesUnder(home.paths.root, "peers")) add(path, join(home.paths.root, path));
      if (snapshot !== undefined) add("valise.db", snapshot);
      for (const sha256 of state.evidenceObjects) {
        const source = storedPath(home.paths, sha256);
        if (!existsSync(source)) {
          throw new GatewayError("FILE_UNREADABLE", `the database refers to the evidence object ${sha256}, which is not in ${home.paths.evidence}`, { details: { sha256 } });
        }
        add(`evidence/sha256/${sha256.slice(0, 2)}/${sha256}.sealed`, source);
      }
      const manifest: BackupManifest = {
        "valise-backup": BACKUP_FORMAT,
        authority: home.config.authority,
        rootFingerprint: pki.rootFingerprint(),
        createdAt: now.toISOString(),
        store: { kind: live.kind, included: snapshot !== undefined, schemaVersion: state.schemaVersion },
        log: state.log,
        files,
        signer: { serial: signer.serial, fingerprint: signer.fingerprint256 },
      };
      const bytes = manifestBytes(manifest);
      tar.addBuffer(MANIFEST_NAME, bytes, 0o600);
      tar.addBuffer(SIGNATURE_NAME, signManifest(bytes, options.logKey), 0o600);
      tar.finish();
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(archive, out); // atomic "create if absent"
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new GatewayError("BACKUP_EXISTS", `${out} appeared while the backup was written`, { details: { out } });
      throw error;
    }
    syncFolder(dirname(out));
    return {
      out,
      authority: home.config.authority,
      rootFingerprint: pki.rootFingerprint(),
      bytes: statSync(out).size,
      files: files.length,
      evidenceObjects: state.evidenceObjects.length,
      store: { kind: live.kind, included: snapshot !== undefined, schemaVersion: state.schemaVersion },
      log: state.log,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface DatabaseState {
  readonly log: ManifestLog;
  readonly evidenceObjects: readonly string[];
  readonly schemaVersion: number;
}

/** The log's size, root and epoch, the evidence objects referred to, the schema version: of one database state. */
async function databaseState(store: Store, authority: string): Promise<DatabaseState> {
  return store.read(async (tx) => {
    const size = await tx.audit.leafCount();
    const root = await withStoredTree(tx, size, (reader) => treeRoot(reader, size));
    const epoch = await currentEpoch(tx, authority);
    // PostgreSQL reads committed data statement by statement: the checkpoint is the newest one the read size covers.
    const checkpoint = await tx.audit.checkpointAtMost(size);
    return {
      log: {
        size,
        root: root.toString("base64"),
        epoch: epoch.epoch,
        origin: epoch.origin,
        checkpoint: checkpoint === undefined ? null : { size: checkpoint.size, note: checkpoint.note },
      },
      evidenceObjects: await tx.backup.evidenceObjects(),
      schemaVersion: await tx.backup.schemaVersion(),
    };
  });
}

/** Regular files under `root/dir`, as `dir/…` paths, sorted; symbolic links and hidden names are skipped. */
function regularFilesUnder(root: string, dir: string): string[] {
  const found: string[] = [];
  const walk = (relative: string): void => {
    let names: string[];
    try {
      names = readdirSync(join(root, relative));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    for (const name of names.sort()) {
      if (name.startsWith(".")) continue;
      const path = `${relative}/${name}`;
      const stat = lstatSync(join(root, path));
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) found.push(path);
    }
  };
  walk(dir);
  return found;
}
