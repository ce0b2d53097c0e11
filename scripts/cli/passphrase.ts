/**
 * Where the CLI gets the private-key passphrase: `--passphrase-file`, then
 * `VALISE_PASSPHRASE`, then — only on an interactive terminal — a hidden
 * prompt. Unattended runs never block on a prompt.
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { PkiError } from "../../pki/errors.js";

/** Sources the passphrase may come from. */
export interface PassphraseSources {
  passphraseFile?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Whether stdin is an interactive terminal (prompting is allowed). */
  interactive: boolean;
  /** Ask twice and compare (when creating keys). */
  confirm?: boolean;
}

/**
 * Returns the passphrase, or throws `PKI_PASSPHRASE_MISSING` when there is
 * none and no terminal to ask on.
 */
export async function readPassphrase(sources: PassphraseSources): Promise<string> {
  if (sources.passphraseFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(sources.passphraseFile, "utf8");
    } catch (cause) {
      throw new PkiError("PKI_PASSPHRASE_MISSING", `cannot read the passphrase file ${sources.passphraseFile}`, { cause });
    }
    return nonEmpty(text.replace(/\r?\n$/, ""), `the passphrase file ${sources.passphraseFile} is empty`);
  }
  const fromEnv = sources.env["VALISE_PASSPHRASE"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (!sources.interactive) {
    throw new PkiError(
      "PKI_PASSPHRASE_MISSING",
      "no passphrase for the private keys: set VALISE_PASSPHRASE or pass --passphrase-file FILE",
    );
  }
  const first = nonEmpty(await promptHidden("Passphrase for the private keys: "), "the passphrase is empty");
  if (sources.confirm === true && (await promptHidden("Repeat the passphrase: ")) !== first) {
    throw new PkiError("PKI_PASSPHRASE_MISSING", "the two passphrases differ");
  }
  return first;
}

function nonEmpty(value: string, message: string): string {
  if (value === "") throw new PkiError("PKI_PASSPHRASE_MISSING", message);
  return value;
}

async function promptHidden(question: string): Promise<string> {
  process.stderr.write(question);
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question("", resolve));
  } finally {
    rl.close();
    process.stderr.write("\n");
  }
}
