/**
 * The CLI holds the log key: every command that appends an audit entry
 * signs a checkpoint over the whole log in the same transaction
 * (gateway/audit/operator-events.ts), so what an operator did while the
 * gateway was stopped is covered by a signature at once.
 *
 * Commands that need the passphrase anyway (init, pki rotate and revoke)
 * always sign. Token and peer commands sign when a passphrase is at hand
 * (`--passphrase-file`, `VALISE_PASSPHRASE`, or a prompt on a terminal);
 * unattended without one, they still record the entry and say that it waits
 * for the next checkpoint (the gateway's, or `valise audit export`'s).
 */
import type { Home } from "../../gateway/home.js";
import type { OperatorSigning } from "../../gateway/audit/operator-events.js";
import { openAuthorityPki } from "../../pki/store.js";
import { isValiseError } from "../../pki/errors.js";
import type { Output } from "./output.js";
import { type CliContext, type CommonOptions, passphrase } from "./context.js";

/**
 * Signing with the home's current `log` key, unlocked with `secret` (a
 * wrong passphrase throws `PKI_BAD_PASSPHRASE` before anything changes).
 * Undefined, with a note, when there is no current log key (it was just
 * revoked: `valise pki rotate log` issues one).
 */
export function operatorSigning(home: Home, secret: string, context: CliContext, output: Output): OperatorSigning | undefined {
  let logKey;
  try {
    logKey = openAuthorityPki(home.paths.pki).loadPrivateKey("log", secret);
  } catch (error) {
    if (!isValiseError(error) || error.code !== "PKI_NO_CURRENT_CERTIFICATE") throw error;
    output.note("No current log key: the audit entry is recorded but not yet covered by a signed checkpoint (run valise pki rotate log).");
    return undefined;
  }
  return {
    authority: home.config.authority,
    logKey,
    now: context.now(),
    onRefused: (error) => output.note(`The audit log was not signed: ${error.message}. The entry is recorded; the gateway will refuse to start on this log (${error.code}).`),
  };
}

/**
 * {@link operatorSigning} when a passphrase is at hand, without asking an
 * unattended run for one; otherwise undefined (say so with
 * {@link noteUnsigned} once the change is made). Call before the change: a
 * wrong passphrase then changes nothing.
 */
export async function optionalOperatorSigning(home: Home, options: CommonOptions, context: CliContext, output: Output): Promise<OperatorSigning | undefined> {
  const available = options.passphraseFile !== undefined || (context.env["VALISE_PASSPHRASE"] ?? "") !== "" || context.interactive;
  return available ? operatorSigning(home, await passphrase(options, context), context, output) : undefined;
}

/** Tells the operator that the entry just recorded waits for the next checkpoint. */
export function noteUnsigned(output: Output): void {
  output.note("No passphrase (VALISE_PASSPHRASE or --passphrase-file): the audit entry is recorded and will be covered by the next signed checkpoint (the gateway's, or valise audit export's).");
}
