/**
 * `valise pki …`: the authority's certificates, CRL, bundle and PKCS#12.
 */
import { writeFileSync } from "node:fs";
import { Argument, Command, Option } from "commander";
import { openHome } from "../../gateway/home.js";
import { openAuthorityPki, REVOKE_REASONS, type AuthorityPki, type CertificateListing, type RevokeReason } from "../../pki/store.js";
import { LEAF_USES, type LeafUse } from "../../pki/profiles.js";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";
import { groupFingerprint } from "./init.js";
import { certificateDetails, recordOperatorEvents } from "../../gateway/audit/operator-events.js";
import { registerPkiExports } from "./pki-export.js";
import { operatorSigning } from "../cli/log-signing.js";
import { GatewayError } from "../../gateway/errors.js";

/** The opened PKI of the home named by the options. */
export function pkiOf(options: CommonOptions, context: CliContext): AuthorityPki {
  return openAuthorityPki(openHome(homeDir(options, context)).paths.pki);
}

/** Registers `valise pki` and its subcommands. */
export function registerPki(program: Command, context: CliContext): void {
  const pki = program.command("pki").description("manage this authority's certificates, CRL and trust bundle");

  withCommonOptions(pki.command("list").description("list every certificate: use, serial, subject, SAN, validity, status, fingerprint, file"), false).action(
    (options: CommonOptions) => {
      const rows = pkiOf(options, context).list(context.now());
      context.output(options.json === true).result({ certificates: rows }, () => renderListing(rows));
    },
  );

  withCommonOptions(pki.command("fingerprint").description("the root certificate's SHA-256 fingerprint, to read out to peers"), false).action(
    (options: CommonOptions) => {
      const store = pkiOf(options, context);
      const fingerprint = store.rootFingerprint();
      context
        .output(options.json === true)
        .result({ authority: store.authority, fingerprint, grouped: groupFingerprint(fingerprint) }, () => groupFingerprint(fingerprint));
    },
  );

  withCommonOptions(
    pki
      .command("rotate")
      .description("issue a new key and certificate; the previous one stays valid for verification until it expires")
      .addArgument(new Argument("<use>", "which certificate").choices([...LEAF_USES])),
    true,
  ).action(async (use: LeafUse, options: CommonOptions) => {
    const store = pkiOf(options, context);
    const previous = store.list(context.now()).find((row) => row.use === use && row.status === "current");
    const secret = await passphrase(options, context);
    const issued = await store.rotate(use, secret, context.now());
    const home = openHome(homeDir(options, context));
    // Signed with the current log key: after `rotate log`, the new one.
    await recordOperatorEvents(
      home,
      [
        {
          kind: "certificate.rotated",
          actor: "operator",
          time: context.now(),
          details: { ...certificateDetails(issued), previousSerial: previous?.serial ?? null },
        },
      ],
      operatorSigning(home, secret, context, context.output(options.json === true)),
    );
    context.output(options.json === true).result({ rotated: issued }, () =>
      [
        `Issued a new ${use} certificate, serial ${issued.serial}, valid until ${issued.notAfter}.`,
        "The previous one stays valid for verification until it expires.",
        "Next: export a new trust bundle (valise pki export-bundle) and send it to your peers (valise peers update).",
      ].join("\n"),
    );
  });

  withCommonOptions(
    pki
      .command("revoke")
      .description("revoke a leaf certificate by serial and write a new CRL")
      .argument("<serial>", "serial number, hex (as `valise pki list` shows it)")
      .addOption(new Option("--reason <reason>", "revocation reason").choices([...REVOKE_REASONS]).default("superseded"))
      .option(
        "--invalid-since <time>",
        "keyCompromise only: since when the key may have been in other hands (RFC 3339, default: now); signatures from then on stop verifying, earlier ones stay valid",
      ),
    true,
  ).action(async (serial: string, options: CommonOptions & { reason: RevokeReason; invalidSince?: string }) => {
    const store = pkiOf(options, context);
    const invalidSince = options.invalidSince === undefined ? undefined : parseTime(options.invalidSince, "--invalid-since");
    const secret = await passphrase(options, context);
    const revocation = await store.revoke(serial, options.reason, secret, context.now(), invalidSince === undefined ? {} : { invalidSince });
    const home = openHome(homeDir(options, context));
    await recordOperatorEvents(
      home,
      [
        {
          kind: "certificate.revoked",
          actor: "operator",
          time: context.now(),
          details: {
            use: revocation.use,
            serial: revocation.serial,
            reason: revocation.reason,
            revokedAt: revocation.revokedAt,
            ...(revocation.invalidSince === undefined ? {} : { invalidSince: revocation.invalidSince }),
            crlNumber: revocation.crlNumber,
          },
        },
      ],
      // Revoking the current log key leaves none to sign with: the note says so.
      operatorSigning(home, secret, context, context.output(options.json === true)),
    );
    context.output(options.json === true).result({ revoked: revocation }, () =>
      [
        `Revoked ${revocation.use} certificate ${revocation.serial} (${revocation.reason}${revocation.invalidSince === undefined ? "" : `, invalid since ${revocation.invalidSince}`}); CRL number ${revocation.crlNumber} written.`,
        ...(store.list(context.now()).some((row) => row.use === revocation.use && row.status === "current")
          ? []
          : [`There is no current ${revocation.use} certificate now: run valise pki rotate ${revocation.use}.`]),
        "Next: export a new trust bundle and send it to your peers so they see the revocation.",
      ].join("\n"),
    );
  });

  withCommonOptions(pki.command("crl").description("print (or write) the current CRL, PEM").option("--out <file>", "write to FILE instead of stdout"), false).action(
    (options: CommonOptions & { out?: string }) => {
      const store = pkiOf(options, context);
      const pem = store.crlPem();
      const crl = store.crl();
      if (options.out !== undefined) writeFileSync(options.out, pem);
      const summary = {
        crlNumber: crl.crlNumber,
        thisUpdate: crl.thisUpdate.toISOString(),
        nextUpdate: crl.nextUpdate?.toISOString() ?? null,
        revoked: crl.entries.map((entry) => entry.serial),
        ...(options.out === undefined ? { pem } : { out: options.out }),
      };
      context.output(options.json === true).result(summary, () => (options.out === undefined ? pem : `Wrote CRL number ${crl.crlNumber} to ${options.out}`));
    },
  );

  registerPkiExports(pki, context);
}

/** An RFC 3339 date-time given on the command line (`USAGE` otherwise). */
function parseTime(text: string, option: string): Date {
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(time.getTime())) throw new GatewayError("USAGE", `${option} must be an RFC 3339 date-time, e.g. 2025-03-01T09:00:00Z`, { details: { option } });
  return time;
}

function renderListing(rows: readonly CertificateListing[]): string {
  return rows
    .map((row) =>
      [
        `${row.use.padEnd(8)} ${row.status.padEnd(9)} serial ${row.serial}`,
        `  subject     ${row.subject}`,
        `  SAN         ${row.sans.join(", ")}`,
        `  valid       ${row.notBefore} → ${row.notAfter}`,
        ...(row.revokedAt === undefined ? [] : [`  revoked     ${row.revokedAt} (${row.reason ?? "unspecified"})`]),
        `  sha256      ${row.fingerprint}`,
        `  file        ${row.path}`,
      ].join("\n"),
    )
    .join("\n\n");
}
