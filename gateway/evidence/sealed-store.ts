/**
 * Where evidence bytes live on disk, beside the database, still sealed as
 * they arrived (DESIGN.md, "Storage"):
 *
 * ```
 * HOME/evidence/partial/<itemId>.sealed           an upload in progress (verified chunks only, up to the offset)
 * HOME/evidence/sha256/<hh>/<sha256>.sealed        received items, named by the SHA-256 of the sealed stream
 * ```
 *
 * Content addressing is by the sealed bytes (what is on disk), so anyone can
 * check a stored file with `sha256sum` without any key, and two items of the
 * same plaintext (each sealed under its own key) never share a name.
 * Durability: a partial file is fsynced before its offset is acknowledged;
 * a received file is linked into the store and its folder fsynced before the
 * item's row says `received`.
 */
import { constants } from "node:fs";
import { link, mkdir, open, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { HomePaths } from "../home.js";

/** The partial file of an upload in progress. */
export function partialPath(paths: HomePaths, itemId: string): string {
  return join(paths.evidence, "partial", `${itemId}.sealed`);
}

/** The stored file of a received item, by the SHA-256 (hex) of its sealed stream. */
export function storedPath(paths: HomePaths, sealedSha256: string): string {
  return join(paths.evidence, "sha256", sealedSha256.slice(0, 2), `${sealedSha256}.sealed`);
}

/** fsyncs a folder, so that a file created, renamed or linked in it survives a crash. */
export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates the partial folder (and the evidence folder) if needed. */
export async function ensurePartialFolder(paths: HomePaths): Promise<string> {
  const folder = join(paths.evidence, "partial");
  await mkdir(folder, { recursive: true, mode: 0o700 });
  return folder;
}

/**
 * Moves a complete, verified partial file into the content-addressed store:
 * a hard link under its sealed SHA-256 (an existing file of that name holds
 * the same bytes), then the folder is fsynced. The partial file is removed by
 * the caller once the item's row is committed, so a crash in between leaves
 * a complete partial file that the next access finishes again.
 */
export async function promoteToStore(paths: HomePaths, itemId: string, sealedSha256: string, sealedSize: number): Promise<string> {
  const target = storedPath(paths, sealedSha256);
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  try {
    await link(partialPath(paths, itemId), target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // Same name, same bytes — unless the file was cut short behind our back.
    if ((await stat(target)).size !== sealedSize) throw new Error(`${target} exists with another size`);
  }
  await syncFolder(dirname(target));
  return target;
}

/** Removes a partial file (absent is fine) and fsyncs its folder. */
export async function removePartial(paths: HomePaths, itemId: string): Promise<void> {
  const path = partialPath(paths, itemId);
  await rm(path, { force: true });
  await syncFolder(dirname(path)).catch(() => undefined);
}
