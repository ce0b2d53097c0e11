/**
 * `HOME/restored.json`: written by `valise restore`, it says that the home
 * came from a backup and what its log held then. While it is there the
 * gateway compares its log with what every peer cosigned before it serves
 * (and refuses to start when a peer cannot be asked), and reconciles with
 * each peer once it runs; then the marker is removed. It is a file of the
 * home, not a row: on PostgreSQL the database is restored by the operator's
 * own tools, after this marker was written.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../pki/atomic-file.js";
import { GatewayError } from "../errors.js";
import type { ManifestLog } from "./manifest.js";

/** File name of the marker in the home. */
export const RESTORE_MARKER = "restored.json";

/** The marker's content. */
export interface RestoreMarker {
  readonly "valise-restored": 1;
  readonly restoredAt: string;
  /** The archive's file name and when the backup was taken. */
  readonly archive: string;
  readonly backupCreatedAt: string;
  readonly store: "sqlite" | "postgres";
  /** What the log held at backup time (the manifest's). */
  readonly log: ManifestLog;
}

/** The marker of the home at `root`, if it was restored and not yet reconciled. */
export function readRestoreMarker(root: string): RestoreMarker | undefined {
  const path = join(root, RESTORE_MARKER);
  if (!existsSync(path)) return undefined;
  try {
    const marker = JSON.parse(readFileSync(path, "utf8")) as RestoreMarker;
    if (marker["valise-restored"] !== 1 || typeof marker.log?.size !== "number") throw new Error("not a marker");
    return marker;
  } catch (cause) {
    throw new GatewayError("CONFIG_INVALID", `${path} is not a restore marker; remove it only if this home was not restored`, { cause });
  }
}

/** Writes the marker into the folder `root`. */
export function writeRestoreMarker(root: string, marker: RestoreMarker): void {
  writeFileAtomic(join(root, RESTORE_MARKER), `${JSON.stringify(marker, null, 2)}\n`, { mode: 0o600 });
}

/** Removes the marker (the restored home has been checked and reconciled). */
export function removeRestoreMarker(root: string): void {
  rmSync(join(root, RESTORE_MARKER), { force: true });
}
