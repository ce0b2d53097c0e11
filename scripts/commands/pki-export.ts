/**
 * `valise pki export-bundle` and `valise pki export-p12`: material that leaves
 * the home — never a private key except inside a passphrase-protected PKCS#12.
 */
import { writeFileSync } from "node:fs";
import { Argument, type Command } from "commander";
import { readPassphrase } from "../cli/passphrase.js";
import { type CliContext, type CommonOptions, passphrase, withCommonOptions } from "../cli/context.js";
import { groupFingerprint } from "./init.js";
import { pkiOf } from "./pki.js";

/** Registers the export subcommands of `valise pki`. */
export function registerPkiExports(pki: Command, context: CliContext): void {
  withCommonOptions(
    pki
      .command("export-bundle")
      .description("write the signed trust bundle (root, current and previous certificates, CRL) to give to peers")
      .requiredOption("--out <file>", "where to write the bundle (JSON)"),
    true,
  ).action(async (options: CommonOptions & { out: string }) => {
    const store = pkiOf(options, context);
    // Loaded when used: `valise pki list` need not load JSON Schema or PKCS#12 code.
    const { createTrustBundle } = await import("../../pki/bundle.js");
    const bundle = await createTrustBundle(store, await passphrase(options, context), context.now());
    writeFileSync(options.out, `${JSON.stringify(bundle, null, 2)}\n`);
    const fingerprint = store.rootFingerprint();
    context.output(options.json === true).result({ out: options.out, authority: store.authority, rootFingerprint: fingerprint }, () =>
      [
        `Wrote the trust bundle of ${store.authority} to ${options.out}.`,
        "Send it to each peer; give them this root fingerprint by another channel (phone, signed letter):",
        `  ${groupFingerprint(fingerprint)}`,
        `They run: valise peers add ${options.out} --fingerprint ${fingerprint}`,
      ].join("\n"),
    );
  });

  withCommonOptions(
    pki
      .command("export-p12")
      .description("write a certificate, its chain and its private key as PKCS#12, for other tools or HSM import")
      .addArgument(new Argument("<use>", "which certificate").choices(["tls", "sign"]))
      .requiredOption("--out <file>", "where to write the PKCS#12 file")
      .option("--p12-passphrase-file <file>", "passphrase protecting the PKCS#12 (default: the key passphrase)"),
    true,
  ).action(async (use: "tls" | "sign", options: CommonOptions & { out: string; p12PassphraseFile?: string }) => {
    const store = pkiOf(options, context);
    const keyPassphrase = await passphrase(options, context);
    const p12Passphrase =
      options.p12PassphraseFile === undefined
        ? keyPassphrase
        : await readPassphrase({ passphraseFile: options.p12PassphraseFile, env: {}, interactive: false });
    const certificate = store.currentCertificate(use);
    const { exportPkcs12 } = await import("../../pki/pkcs12.js");
    const der = exportPkcs12({
      chain: [certificate, store.rootCertificate()],
      privateKey: store.loadPrivateKey(use, keyPassphrase, certificate.serial),
      passphrase: p12Passphrase,
      friendlyName: `${store.authority} ${use}`,
    });
    writeFileSync(options.out, der, { mode: 0o600 });
    context.output(options.json === true).result({ out: options.out, use, serial: certificate.serial }, () =>
      `Wrote the ${use} certificate ${certificate.serial}, its chain and key to ${options.out} (PKCS#12, mode 0600).`,
    );
  });
}
