/**
 * What `npm run demo -- --keep` leaves beside the two homes so that they can
 * be opened and restarted afterwards: the random passphrase of their keys,
 * in a file only the user can read (0600, like the keys it unlocks), for
 * `--passphrase-file`. The demo never prints the passphrase itself.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../../pki/atomic-file.js";

/** Writes `passphrase` to `<workdir>/passphrase` (mode 0600) and returns the file's path. */
export function keepPassphrase(workdir: string, passphrase: string): string {
  const file = join(workdir, "passphrase");
  writeFileAtomic(file, `${passphrase}\n`, { mode: 0o600, overwrite: false });
  return file;
}

/** How to open the kept homes again, for the demo's last lines. */
export function keptFolderHelp(workdir: string, passphraseFile: string, homes: readonly string[]): string {
  return [
    `Kept ${workdir}`,
    `The passphrase of both homes' keys is in ${passphraseFile} (mode 0600). To open or restart them:`,
    ...homes.flatMap((home) => [
      `  npx valise pki list --home ${home}`,
      `  npx valise start --home ${home} --passphrase-file ${passphraseFile}`,
    ]),
    "",
  ].join("\n");
}
