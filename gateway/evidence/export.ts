/**
 * Onward hand-off of a case's received evidence to an agency outside the
 * Valise network (a police force, a prosecutor), as OpenPGP that GnuPG 2.2
 * reads. For a case, in a new folder:
 *
 * ```
 * items/<itemId>-<name>.gpg     each item: one OpenPGP message, signed (one-pass) by the exporting
 *                               authority and encrypted to the recipient (SEIPD v1, AES-256, no AEAD)
 * manifest.json (+ .asc)        what was received: each package's manifest (item keys left out), the
 *                               manifest envelope's id, digest and sender, and per item its size,
 *                               SHA-256 and the signed receipt this authority issued; detached signature
 * envelopes/<envelopeId>.json   each manifest envelope as it travelled (signed by the sender)
 * custody.json (+ .asc)         the case's chain of custody (gateway/audit/custody.ts); detached signature
 * signer.asc                    the signing public key (check its fingerprint out of band)
 * README.txt                    how to verify and decrypt with gpg
 * ```
 *
 * The plaintext is decrypted from the store and verified as it goes (every
 * chunk's tag, then the manifest's SHA-256), and streamed through openpgp.js
 * into the file: memory stays flat whatever the item size. Each item read is
 * an `access.read` audit entry (purpose `export`, recipient fingerprint)
 * committed before it is read, and the export as a whole an
 * `evidence.exported` entry. The folder is written beside the target and
 * renamed into place at the end: an export that fails leaves nothing.
 *
 * The signing key is the operator's OpenPGP key (armored private key and its
 * passphrase) or, when none is given, the home's own export key
 * (HOME/openpgp/export-signing-key.asc, Ed25519, made on first use and
 * protected with the home's passphrase).
 */
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type * as OpenPgp from "openpgp";
import { GatewayError } from "../errors.js";
import { PkiError } from "../../pki/errors.js";
import type { Store } from "../store/store.js";
import type { HomePaths } from "../home.js";
import { appendEntry } from "../audit/append.js";
import { caseCustody } from "../audit/custody.js";
import type { ItemRow } from "./items.js";
import { withoutKeys, type EvidenceManifest } from "./manifest.js";
import { storedPlaintext } from "./download.js";

/** The home an export reads, and who runs it. */
export interface ExportContext {
  readonly store: Store;
  readonly paths: HomePaths;
  readonly authority: string;
  /** `operator`, or `token:<name>`. */
  readonly actor: string;
  readonly now: () => Date;
}

/** What to export, for whom, signed by what. */
export interface ExportOptions {
  readonly caseId: string;
  /** The recipient's armored OpenPGP public key. */
  readonly recipientKey: string;
  /** The folder to create (absent or empty). */
  readonly outDir: string;
  /** The signing key: armored private key (and its passphrase when protected). */
  readonly signingKey: OpenPgp.PrivateKey;
}

/** What an export wrote. */
export interface ExportResult {
  readonly caseId: string;
  readonly outDir: string;
  readonly signer: { readonly fingerprint: string; readonly userIds: readonly string[] };
  readonly recipient: { readonly fingerprint: string; readonly userIds: readonly string[] };
  readonly items: ReadonlyArray<{ itemId: string; name: string; file: string; size: number; sha256: string }>;
  readonly files: readonly string[];
}

/**
 * openpgp.js, loaded on first use: it is large, and a gateway (valise start)
 * never needs it — only exports do.
 */
function pgp(): Promise<typeof OpenPgp> {
  return import("openpgp");
}

/** The home's own export signing key, made on first use. */
export const HOME_EXPORT_KEY = join("openpgp", "export-signing-key.asc");

/**
 * Reads an armored private key and unlocks it. Throws
 * `EVIDENCE_EXPORT_KEY_INVALID` (not a private key, or cannot sign),
 * `PKI_PASSPHRASE_MISSING`, `PKI_BAD_PASSPHRASE`.
 */
export async function unlockSigningKey(armored: string, passphrase: string | undefined): Promise<OpenPgp.PrivateKey> {
  const openpgp = await pgp();
  let key: OpenPgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armored });
  } catch (cause) {
    throw new GatewayError("EVIDENCE_EXPORT_KEY_INVALID", "the signing key is not an armored OpenPGP private key", { cause });
  }
  if (!key.isDecrypted()) {
    if (passphrase === undefined) throw new PkiError("PKI_PASSPHRASE_MISSING", "the OpenPGP signing key is protected: give its passphrase (--signing-passphrase-file)");
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase });
    } catch (cause) {
      throw new PkiError("PKI_BAD_PASSPHRASE", "the passphrase does not unlock the OpenPGP signing key", { cause });
    }
  }
  try {
    await key.getSigningKey();
  } catch (cause) {
    throw new GatewayError("EVIDENCE_EXPORT_KEY_INVALID", "the OpenPGP key cannot sign (no valid signing key or subkey)", { cause });
  }
  return key;
}

/**
 * The home's export signing key, protected by `passphrase` (the home's);
 * generated (Ed25519, OpenPGP v4, as GnuPG 2.2 reads it) when absent.
 */
export async function homeSigningKey(paths: HomePaths, authority: string, passphrase: string, now: Date): Promise<{ key: OpenPgp.PrivateKey; created: boolean }> {
  const path = join(paths.root, HOME_EXPORT_KEY);
  if (existsSync(path)) return { key: await unlockSigningKey(readFileSync(path, "utf8"), passphrase), created: false };
  const { privateKey, publicKey } = await (await pgp()).generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: `${authority} Valise evidence export`, email: `evidence-export@${authority.toLowerCase()}.valise.invalid` }],
    passphrase,
    date: now,
    format: "armored",
  });
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, privateKey, { mode: 0o600, flag: "wx" });
  writeFileSync(path.replace(/\.asc$/, ".pub.asc"), publicKey, { mode: 0o644 });
  return { key: await unlockSigningKey(privateKey, passphrase), created: true };
}

/** Reads the recipient's public key; `EVIDENCE_EXPORT_KEY_INVALID` unless it is a public key that can encrypt. */
export async function readRecipientKey(armored: string): Promise<OpenPgp.PublicKey> {
  let key: OpenPgp.Key;
  try {
    key = await (await pgp()).readKey({ armoredKey: armored });
  } catch (cause) {
    throw new GatewayError("EVIDENCE_EXPORT_KEY_INVALID", "the recipient key is not an armored OpenPGP public key", { cause });
  }
  // A private key here is a mistake worth stopping: it would travel nowhere, but it should not be handled at all.
  if (key.isPrivate()) throw new GatewayError("EVIDENCE_EXPORT_KEY_INVALID", "the recipient key is a private key: give the recipient's public key");
  try {
    await key.getEncryptionKey();
  } catch (cause) {
    throw new GatewayError("EVIDENCE_EXPORT_KEY_INVALID", "the recipient key cannot encrypt (no valid encryption key or subkey)", { cause });
  }
  return key as OpenPgp.PublicKey;
}

function describeKey(key: OpenPgp.Key): { fingerprint: string; userIds: string[] } {
  return { fingerprint: key.getFingerprint().toUpperCase(), userIds: key.getUserIDs() };
}

/** Exports the received evidence of a case; see the module comment. */
export async function exportEvidence(ctx: ExportContext, options: ExportOptions): Promise<ExportResult> {
  const recipient = await readRecipientKey(options.recipientKey);
  const signer = options.signingKey;
  const { items, kase } = await ctx.store.read(async (tx) => ({ items: await tx.evidence.receivedItemsOfCase(options.caseId), kase: await tx.cases.get(options.caseId) }));
  if (kase === undefined) throw new GatewayError("CASE_UNKNOWN", `no case ${options.caseId}`);
  if (items.length === 0) throw new GatewayError("EVIDENCE_ITEM_NOT_RECEIVED", `case ${options.caseId} has no received evidence item to export`, { details: { caseId: options.caseId } });

  const target = resolve(options.outDir);
  if (existsSync(target) && readdirSync(target).length > 0) throw new GatewayError("EVIDENCE_EXPORT_EXISTS", `${target} exists and is not empty`, { details: { outDir: target } });
  const staging = join(dirname(target), `.${basename(target)}.export-${randomBytes(4).toString("hex")}`);
  mkdirSync(join(staging, "items"), { recursive: true, mode: 0o700 });
  mkdirSync(join(staging, "envelopes"), { mode: 0o700 });
  const signerInfo = describeKey(signer);
  const recipientInfo = describeKey(recipient);
  try {
    const exported: Array<{ itemId: string; name: string; file: string; size: number; sha256: string }> = [];
    for (const item of items) {
      const file = join("items", `${item.item_id}-${item.name}.gpg`);
      // The read is on record before a byte of plaintext exists outside the store.
      await ctx.store.transaction((tx) =>
        appendEntry(tx, {
          kind: "access.read",
          actor: ctx.actor,
          time: ctx.now(),
          caseId: options.caseId,
          envelopeId: item.envelope_id,
          envelopeDigest: item.envelope_digest,
          details: { what: "evidence", purpose: "export", packageId: item.package_id, itemId: item.item_id, size: item.size, sha256: item.sha256, recipient: recipientInfo.fingerprint },
        }),
      );
      await encryptItem(ctx.paths, item, join(staging, file), recipient, signer, ctx.now());
      exported.push({ itemId: item.item_id, name: item.name, file, size: item.size, sha256: item.sha256 });
    }

    const packages = [];
    for (const packageId of new Set(items.map((item) => item.package_id))) {
      const found = await ctx.store.read((tx) => tx.evidence.packageWithManifest(packageId));
      if (found === undefined) throw new GatewayError("STORE_CORRUPT", `evidence package ${packageId} has no manifest envelope`);
      const row = found as unknown as Record<string, string>;
      writeFileSync(join(staging, "envelopes", `${row["envelope_id"]}.json`), `${row["wire"]}\n`, { mode: 0o600 });
      const manifest = withoutKeys(JSON.parse(row["document"]!) as EvidenceManifest);
      packages.push({
        packageId,
        from: row["peer"],
        completes: row["completes"],
        receivedManifestAt: row["created_at"],
        envelope: { envelopeId: row["envelope_id"], envelopeDigest: row["digest"], from: row["from_authority"], to: row["to_authority"], createdAt: row["sealed_at"], signerKid: row["signer_kid"], file: join("envelopes", `${row["envelope_id"]}.json`) },
        manifest,
        items: items
          .filter((item) => item.package_id === packageId)
          .map((item) => ({
            itemId: item.item_id,
            name: item.name,
            file: exported.find((e) => e.itemId === item.item_id)!.file,
            size: item.size,
            sha256: item.sha256,
            sealedSha256: item.sealed_sha256,
            receivedAt: item.received_at,
            receipt: item.receipt,
          })),
      });
    }
    const exportedAt = ctx.now().toISOString();
    const manifestJson = JSON.stringify({ format: "valise-evidence-export/1", caseId: options.caseId, exportedBy: ctx.authority, exportedAt, signer: signerInfo, recipient: recipientInfo, packages }, null, 2);
    await writeSigned(join(staging, "manifest.json"), `${manifestJson}\n`, signer, ctx.now());
    await writeSigned(join(staging, "custody.json"), `${JSON.stringify(await ctx.store.read((tx) => caseCustody(tx, options.caseId)), null, 2)}\n`, signer, ctx.now());
    writeFileSync(join(staging, "signer.asc"), signer.toPublic().armor(), { mode: 0o644 });
    writeFileSync(join(staging, "README.txt"), readme(options.caseId, ctx.authority, signerInfo.fingerprint, recipientInfo.fingerprint, exported), { mode: 0o644 });

    if (existsSync(target)) rmdirSync(target); // empty, checked above
    renameSync(staging, target);
    await ctx.store.transaction((tx) =>
      appendEntry(tx, {
        kind: "evidence.exported",
        actor: ctx.actor,
        time: ctx.now(),
        caseId: options.caseId,
        details: { items: exported.map((e) => ({ itemId: e.itemId, sha256: e.sha256 })), recipient: recipientInfo.fingerprint, signer: signerInfo.fingerprint, format: "openpgp" },
      }),
    );
    const files = ["README.txt", "custody.json", "custody.json.asc", "manifest.json", "manifest.json.asc", "signer.asc", ...packages.map((p) => p.envelope.file), ...exported.map((e) => e.file)];
    return { caseId: options.caseId, outDir: target, signer: signerInfo, recipient: recipientInfo, items: exported, files };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** One item, decrypted and verified from the store, signed and encrypted to `recipient` as it streams into `file`. */
async function encryptItem(paths: HomePaths, item: ItemRow, file: string, recipient: OpenPgp.PublicKey, signer: OpenPgp.PrivateKey, date: Date): Promise<void> {
  const plaintext = Readable.toWeb(Readable.from(storedPlaintext(paths, item), { objectMode: false })) as unknown as ReadableStream<Uint8Array>;
  const openpgp = await pgp();
  const message = await openpgp.createMessage({ binary: plaintext, filename: item.name, date, format: "binary" });
  const encrypted = await openpgp.encrypt({ message, encryptionKeys: recipient, signingKeys: signer, format: "binary", date });
  await pipeline(Readable.fromWeb(encrypted as unknown as WebReadableStream<Uint8Array>), createWriteStream(file, { mode: 0o600 }));
}

/** Writes `text` and its armored detached signature beside it (`.asc`). */
async function writeSigned(path: string, text: string, signer: OpenPgp.PrivateKey, date: Date): Promise<void> {
  const bytes = Buffer.from(text, "utf8");
  writeFileSync(path, bytes, { mode: 0o644 });
  const openpgp = await pgp();
  const signature = await openpgp.sign({ message: await openpgp.createMessage({ binary: bytes }), signingKeys: signer, detached: true, format: "armored", date });
  writeFileSync(`${path}.asc`, signature, { mode: 0o644 });
}

function readme(caseId: string, authority: string, signer: string, recipient: string, items: ReadonlyArray<{ file: string; name: string; sha256: string }>): string {
  return [
    `Evidence of case ${caseId}, exported by ${authority} with Valise.`,
    "",
    `Signed by OpenPGP key ${signer} (signer.asc; compare its fingerprint with the one ${authority} gave you out of band).`,
    `Encrypted to OpenPGP key ${recipient}.`,
    "",
    "Verify and decrypt with GnuPG 2.2 or later:",
    "",
    "  gpg --import signer.asc",
    "  gpg --verify manifest.json.asc manifest.json",
    "  gpg --verify custody.json.asc custody.json",
    ...items.map((item) => `  gpg --output '${item.name}' --decrypt '${item.file}'     # then: sha256sum '${item.name}' = ${item.sha256}`),
    "",
    "manifest.json lists each item with its SHA-256 as the sending authority declared it in its signed manifest",
    "(envelopes/), and the receipt this authority signed when the item arrived intact. custody.json is the",
    "case's chain of custody from this authority's audit log.",
    "",
  ].join("\n");
}
