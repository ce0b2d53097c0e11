/**
 * `valise evidence …`: evidence packages.
 *
 * `send`, `list` and `get` act through the running gateway's local API with
 * a caseworker token (`--token-file` or VALISE_TOKEN), on the gateway's host:
 * `send` passes the files' absolute paths, which the gateway reads in place
 * (they must be in HOME/outgoing or a folder of evidence.sendFrom), so a file
 * of any size never crosses the API. `export` works on the home directly (an
 * operator's task on the gateway's host) and writes OpenPGP for GnuPG.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { Option, type Command } from "commander";
import { GatewayError } from "../../gateway/errors.js";
import { openHome } from "../../gateway/home.js";
import { withHomeStore } from "../../gateway/store/home-store.js";
import { ValiseError } from "../../pki/errors.js";
import { exportEvidence, homeSigningKey, unlockSigningKey, type ExportResult } from "../../gateway/evidence/export.js";
import type { ListedPackage, PackageProgress } from "../../gateway/evidence/query.js";
import type { SentPackage } from "../../gateway/evidence/send.js";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";
import { apiError, localApiOf, withApiOptions, type ApiOptions } from "../cli/local-api.js";
import { ProgressLine, formatBytes } from "../cli/progress.js";

interface SendOptions extends ApiOptions {
  describe?: string;
  completes: "executed" | "partially-executed";
  note?: string;
  chunkSize?: string;
  wait: boolean;
}

/** The result of `send` once waited for. */
interface SendResult extends SentPackage {
  readonly state: string;
  readonly delivered?: ListedPackage;
}

const POLL_MS = 500;

function progressEnabled(context: CliContext, json: boolean): boolean {
  return !json && (context.stderr as NodeJS.WriteStream).isTTY === true;
}

/** `--describe`: inline JSON, or the path of a JSON file; an object for every file or an array, one per file. */
function descriptions(value: string | undefined, count: number): Array<Record<string, unknown>> {
  if (value === undefined) return Array.from({ length: count }, () => ({}));
  let parsed: unknown;
  try {
    parsed = JSON.parse(/^\s*[[{]/.test(value) ? value : readFileSync(value, "utf8"));
  } catch (cause) {
    throw new GatewayError("USAGE", "--describe must be JSON (inline, or the path of a JSON file)", { cause });
  }
  if (Array.isArray(parsed)) {
    if (parsed.length !== count) throw new GatewayError("USAGE", `--describe gives ${parsed.length} descriptions for ${count} files`);
    return parsed as Array<Record<string, unknown>>;
  }
  if (typeof parsed !== "object" || parsed === null) throw new GatewayError("USAGE", "--describe must be a JSON object or array");
  return Array.from({ length: count }, () => ({ ...(parsed as Record<string, unknown>) }));
}

function packageOf<P extends { packageId: string }>(listing: { packages: P[] }, packageId: string): P | undefined {
  return listing.packages.find((p) => p.packageId === packageId);
}

/** Registers `valise evidence` and its subcommands. */
export function registerEvidence(program: Command, context: CliContext): void {
  const evidence = program.command("evidence").description("send, list, fetch and export evidence packages");

  withApiOptions(
    withCommonOptions(
      evidence
        .command("send")
        .description("send files as one evidence package on a case this authority received; waits until every item is receipted (progress on a terminal)")
        .argument("<caseId>", "the case (one this authority received)")
        .argument("<files...>", "files on the gateway's host, in HOME/outgoing or a folder of evidence.sendFrom")
        .option("--describe <json>", "JSON (or a JSON file): {description, source, acquiredAt, legalInstrument, name?, mediaType?} for every file, or an array, one per file")
        .addOption(new Option("--completes <state>", "what this package does to the case").choices(["executed", "partially-executed"]).default("partially-executed"))
        .option("--note <text>", "a note to the requesting authority, in the manifest")
        .option("--chunk-size <bytes>", "plaintext bytes per sealed chunk (65536 to 16777216)")
        .option("--no-wait", "return once the package is queued"),
      false,
    ),
  ).action(async (caseId: string, files: string[], options: SendOptions) => {
    const json = options.json === true;
    const api = localApiOf(options, context);
    const described = descriptions(options.describe, files.length);
    const body = {
      completes: options.completes,
      ...(options.note === undefined ? {} : { note: options.note }),
      ...(options.chunkSize === undefined ? {} : { chunkSize: Number(options.chunkSize) }),
      items: files.map((file, i) => ({ ...described[i], path: resolve(file) })),
    };
    const progress = new ProgressLine(context.stderr, progressEnabled(context, json), "sending");
    if (!json) context.stderr.write(`Hashing ${files.length} file(s) and sealing the manifest…\n`);
    const sent = await api.json<SentPackage>("POST", `/api/v1/cases/${caseId}/evidence`, body);
    let result: SendResult = { ...sent, state: "queued" };
    if (options.wait) {
      for (;;) {
        // Progress only while waiting (not audited); the full listing, an audited read, once at the end.
        const listed = packageOf(await api.json<{ packages: PackageProgress[] }>("GET", `/api/v1/cases/${caseId}/evidence?view=progress`), sent.packageId);
        if (listed === undefined) throw new GatewayError("INTERNAL", "the package is not listed");
        const total = listed.items.reduce((sum, item) => sum + item.sealedSize, 0);
        const done = listed.items.reduce((sum, item) => sum + (item.state === "receipted" ? item.sealedSize : item.sentBytes), 0);
        const receipted = listed.items.filter((item) => item.state === "receipted").length;
        progress.update(done, total, listed.manifestDelivery === "pending" ? "manifest…" : `${receipted}/${listed.items.length} items`);
        if (listed.state === "delivered" || listed.state === "failed") {
          progress.finish();
          const delivered = packageOf(await api.json<{ packages: ListedPackage[] }>("GET", `/api/v1/cases/${caseId}/evidence`), sent.packageId);
          result = { ...sent, state: listed.state, ...(delivered === undefined ? {} : { delivered }) };
          break;
        }
        await new Promise((done) => setTimeout(done, POLL_MS));
      }
    }
    context.output(json).result(result, () =>
      [
        `Package ${sent.packageId} on case ${caseId} (${sent.completes}): ${result.state}`,
        ...sent.items.map((item) => {
          const listed = result.delivered?.items.find((i) => i.itemId === item.itemId);
          return `  ${listed?.state === "receipted" ? "✓" : listed?.state === "failed" ? "✗" : "·"} ${item.name}  ${formatBytes(item.size)}  sha256 ${item.sha256}${listed?.state === "receipted" ? "  receipted" : listed?.lastError ? `  ${listed.lastError}` : ""}`;
        }),
      ].join("\n"),
    );
    if (result.state === "failed") {
      const error = result.delivered?.items.find((item) => item.state === "failed")?.lastError ?? "";
      const code = /^([A-Z0-9_]+):/.exec(error)?.[1] ?? "PEER_UNREACHABLE";
      throw new ValiseError(code, `the package was not delivered: ${error}`);
    }
  });

  withApiOptions(withCommonOptions(evidence.command("list").description("the evidence packages of a case, with item states and receipts").argument("<caseId>"), false)).action(
    async (caseId: string, options: ApiOptions) => {
      const listing = await localApiOf(options, context).json<{ caseId: string; packages: ListedPackage[] }>("GET", `/api/v1/cases/${caseId}/evidence`);
      context.output(options.json === true).result(listing, () =>
        listing.packages.length === 0
          ? `No evidence on case ${caseId}.`
          : listing.packages
              .flatMap((p) => [
                `${p.packageId}  ${p.direction === "outbound" ? `to ${p.peer}` : `from ${p.peer}`}  ${p.state}  completes ${p.completes}  ${p.createdAt}`,
                ...p.items.map((i) => `  ${i.itemId}  ${i.state.padEnd(9)} ${i.name}  ${formatBytes(i.size)}  sha256 ${i.sha256}${i.lastError === null ? "" : `  (${i.lastError})`}`),
              ])
              .join("\n"),
      );
    },
  );

  withApiOptions(
    withCommonOptions(
      evidence
        .command("get")
        .description("download a received item's plaintext, verified as the gateway decrypts it (the read is audited)")
        .argument("<caseId>")
        .argument("<itemId>")
        .requiredOption("--out <file>", "where to write it (not overwritten unless --force)")
        .option("--force", "replace an existing file"),
      false,
    ),
  ).action(async (caseId: string, itemId: string, options: ApiOptions & { out: string; force?: boolean }) => {
    const json = options.json === true;
    const out = resolve(options.out);
    if (existsSync(out) && options.force !== true) throw new GatewayError("USAGE", `${out} exists; pass --force to replace it`);
    const response = await localApiOf(options, context).fetch("GET", `/api/v1/cases/${caseId}/evidence/${itemId}`);
    if (!response.ok || response.body === null) {
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      throw apiError(response.status, parsed);
    }
    const size = Number(response.headers.get("content-length"));
    const expected = /^sha-256=:([A-Za-z0-9+/=]+):$/.exec(response.headers.get("repr-digest") ?? "")?.[1];
    const progress = new ProgressLine(context.stderr, progressEnabled(context, json), "receiving");
    const hash = createHash("sha256");
    let received = 0;
    const partial = join(dirname(out), `.${basename(out)}.partial-${randomBytes(4).toString("hex")}`);
    try {
      await pipeline(
        Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>),
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            hash.update(chunk);
            received += chunk.byteLength;
            progress.update(received, size);
            done(null, chunk);
          },
        }),
        createWriteStream(partial, { mode: 0o600 }),
      );
    } catch (cause) {
      rmSync(partial, { force: true });
      progress.finish();
      throw new GatewayError("EVIDENCE_DIGEST_MISMATCH", "the download was cut short (the gateway found a stored chunk that does not verify, or the connection broke); nothing was written", { cause });
    }
    progress.finish();
    const sha256 = hash.digest();
    if (received !== size || expected === undefined || !sha256.equals(Buffer.from(expected, "base64"))) {
      rmSync(partial, { force: true });
      throw new GatewayError("EVIDENCE_DIGEST_MISMATCH", `the download is not the item: ${received} of ${size} bytes, or its SHA-256 differs from the manifest's; nothing was written`);
    }
    renameSync(partial, out);
    const result = { caseId, itemId, out, size, sha256: sha256.toString("hex") };
    context.output(json).result(result, () => `Wrote ${out}: ${formatBytes(size)}, sha256 ${result.sha256} (the manifest's)`);
  });

  withCommonOptions(
    evidence
      .command("export")
      .description("write a case's received evidence as OpenPGP for an agency outside the network: per item signed and encrypted, with the signed manifest and custody timeline")
      .argument("<caseId>")
      .requiredOption("--to <key.asc>", "the recipient's armored OpenPGP public key")
      .requiredOption("--out <dir>", "the folder to create (absent or empty)")
      .option("--signing-key <key.asc>", "an armored OpenPGP private key to sign with (default: the home's export key, HOME/openpgp/, made on first use)")
      .option("--signing-passphrase-file <file>", "file holding the signing key's passphrase"),
    true,
  ).action(async (caseId: string, options: CommonOptions & { to: string; out: string; signingKey?: string; signingPassphraseFile?: string }) => {
    const home = openHome(homeDir(options, context));
    const read = (path: string, what: string): string => {
      try {
        return readFileSync(path, "utf8");
      } catch (cause) {
        throw new GatewayError("USAGE", `cannot read ${what} ${path}`, { cause });
      }
    };
    const recipientKey = read(options.to, "the recipient key");
    let note: string | undefined;
    const signingKey =
      options.signingKey !== undefined
        ? await unlockSigningKey(read(options.signingKey, "the signing key"), options.signingPassphraseFile === undefined ? undefined : read(options.signingPassphraseFile, "the passphrase file").replace(/\r?\n$/, ""))
        : await (async () => {
            const { key, created } = await homeSigningKey(home.paths, home.config.authority, await passphrase(options, context), context.now());
            if (created) note = `Made the home's OpenPGP export key ${key.getFingerprint().toUpperCase()} (HOME/openpgp/); give its fingerprint to recipients out of band.`;
            return key;
          })();
    const result: ExportResult = await withHomeStore(home, "refuse", (store) =>
      exportEvidence({ store, paths: home.paths, authority: home.config.authority, actor: "operator", now: context.now }, { caseId, recipientKey, outDir: options.out, signingKey }),
    );
    const output = context.output(options.json === true);
    if (note !== undefined) output.note(note);
    output.result(result, () =>
      [
        `Exported ${result.items.length} item(s) of case ${caseId} to ${result.outDir}`,
        `  signed by    ${result.signer.fingerprint} ${result.signer.userIds.join(", ")}`,
        `  encrypted to ${result.recipient.fingerprint} ${result.recipient.userIds.join(", ")}`,
        ...result.items.map((item) => `  ${item.file}  ${formatBytes(item.size)}  sha256 ${item.sha256}`),
        "See README.txt in the folder for the gpg commands.",
      ].join("\n"),
    );
  });
}
