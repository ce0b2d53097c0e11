/**
 * Evidence: US answers GB's request with a 64 MiB item (generated here, as
 * server logs would be), sent with the real CLI (`valise evidence send`),
 * sealed in AES-256-GCM chunks, uploaded over mutual TLS, verified chunk by
 * chunk at GB, receipted; then checked from both sides: sizes and SHA-256
 * equal, the item receipt verified independently, and a GB caseworker's
 * download (`valise evidence get`) byte-identical.
 */
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { homePaths } from "../../../gateway/home.js";
import { verifyItemReceipt } from "../../../gateway/evidence/item-receipt.js";
import { loadPeerTrust } from "../../../pki/peers.js";
import { expectThat } from "../check.js";
import { apiOf, tokenOf, type DemoStep } from "../scenario.js";
import { runValise } from "../valise-cli.js";

const ITEM_BYTES = 64 * 1024 * 1024;
const ITEM_NAME = "mailbridge-server-logs-2025.tar";

interface ListedItem {
  itemId: string;
  name: string;
  size: number;
  sha256: string;
  state: string;
  sealedSize: number;
  sealedSha256: string | null;
  receipt: string | null;
}

interface Listing {
  packages: Array<{ packageId: string; direction: string; state: string; completes: string; items: ListedItem[] }>;
}

/** Writes `bytes` of pseudo-random data (an AES-CTR keystream) to `path`; returns its SHA-256. */
async function generate(path: string, bytes: number): Promise<string> {
  const keystream = createCipheriv("aes-256-ctr", randomBytes(32), randomBytes(16));
  const zeros = Buffer.alloc(1024 * 1024);
  const hash = createHash("sha256");
  const out = createWriteStream(path, { mode: 0o640 });
  for (let written = 0; written < bytes; written += zeros.byteLength) {
    const piece = keystream.update(zeros.subarray(0, Math.min(zeros.byteLength, bytes - written)));
    hash.update(piece);
    if (!out.write(piece)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return hash.digest("hex");
}

/** US sends a 64 MiB item on the demo case; both sides show its verified arrival. */
export const sendEvidence: DemoStep = {
  title: "US sends 64 MiB of evidence back; GB verifies every chunk on arrival and signs an item receipt",
  async run(state, report) {
    const exchange = state.exchange;
    expectThat(exchange !== undefined, "no case to answer");
    const { gb, us } = state;
    const file = join(us.home, "outgoing", ITEM_NAME);
    const sha256 = await generate(file, ITEM_BYTES);
    report.say(`US's case system drops the provider's server logs in ${join(us.home, "outgoing")} (the folder the gateway may send from):`);
    report.fact("file", `${ITEM_NAME}, ${ITEM_BYTES / 1024 / 1024} MiB, sha256 ${sha256}`);

    const describe = {
      description: "Mail server logs for j.harlow.payments@mailbridge.example, 2025-03-01 to 2025-07-31, as exported by the provider.",
      source: { organisation: "Mailbridge Inc.", country: "US", custodian: "Custodian of Records", reference: "MB-LE-2026-00031" },
      acquiredAt: "2026-01-08T16:20:00.000Z",
      legalInstrument: "Order under 18 U.S.C. 3512, D.D.C., Misc. No. 25-1182",
      mediaType: "application/x-tar",
    };
    const started = Date.now();
    const sent = await runValise(
      ["evidence", "send", exchange.caseId, file, "--home", us.home, "--completes", "executed", "--describe", JSON.stringify(describe), "--json"],
      { VALISE_TOKEN: tokenOf(us, "caseworker") },
      120_000,
    );
    const seconds = (Date.now() - started) / 1000;
    report.block([`$ VALISE_TOKEN=… valise evidence send ${exchange.caseId} ${file} --home ${us.home} --completes executed --describe '{…provenance…}' --json`]);
    const result = sent.json as { packageId?: string; state?: string; items?: Array<{ itemId: string; size: number; sha256: string; sealedSize: number }> } | undefined;
    expectThat(sent.exitCode === 0 && result?.state === "delivered", `valise evidence send exited ${sent.exitCode} with ${result?.state ?? "no result"}`, [sent.stdout.trim(), sent.stderr.trim(), ...(us.gateway?.logTail() ?? [])]);
    const [item] = result.items ?? [];
    expectThat(item !== undefined, "the package has no item");
    report.ok(`the manifest (item key inside) went sealed to GB through the outbox and was receipted; the item followed as ${(item.sealedSize - item.size) / 16} AES-256-GCM chunks of 1 MiB, each with its 16-byte tag, and was receipted`);
    report.fact("package", `${result.packageId ?? "?"} (completes: executed)`);
    report.fact("command took", `${seconds.toFixed(1)} s, start-up and polling included (throughput: npm run bench:evidence)`);

    const atGb = await apiOf(gb).get(`/api/v1/cases/${exchange.caseId}/evidence`, tokenOf(gb, "caseworker"));
    const received = (atGb.body as Listing).packages.find((p) => p.packageId === result.packageId)?.items.find((i) => i.itemId === item.itemId);
    expectThat(received?.state === "received", `GB lists the item as ${received?.state ?? "absent"}`, [JSON.stringify(atGb.body)]);
    expectThat(received.size === ITEM_BYTES && item.size === ITEM_BYTES, `sizes differ: US ${item.size}, GB ${received.size}`);
    expectThat(received.sha256 === sha256 && item.sha256 === sha256, "the SHA-256 differs between the file, US's manifest and GB's record");
    report.ok(`the same size on both sides: ${received.size} bytes`);
    report.ok(`the same SHA-256 on both sides: ${sha256}`);
    const stored = join(homePaths(gb.home).evidence, "sha256", received.sealedSha256!.slice(0, 2), `${received.sealedSha256!}.sealed`);
    expectThat(createHash("sha256").update(readFileSync(stored)).digest("hex") === received.sealedSha256, "GB's stored file is not under its own SHA-256");
    report.ok(`GB keeps it sealed as it arrived, content-addressed: evidence/sha256/${received.sealedSha256!.slice(0, 2)}/${received.sealedSha256!.slice(0, 16)}….sealed`);

    const atUs = await apiOf(us).get(`/api/v1/cases/${exchange.caseId}/evidence`, tokenOf(us, "caseworker"));
    const receipt = (atUs.body as Listing).packages.find((p) => p.packageId === result.packageId)?.items.find((i) => i.itemId === item.itemId)?.receipt;
    expectThat(typeof receipt === "string", "US holds no item receipt");
    const gbTrust = loadPeerTrust(homePaths(us.home).peers, gb.id);
    const verified = await verifyItemReceipt(receipt, {
      expected: { caseId: exchange.caseId, packageId: result.packageId!, itemId: item.itemId, from: us.id, to: gb.id, size: ITEM_BYTES, sha256 },
      trustFor: (authority) => (authority === gb.id ? { root: gbTrust.root, crl: gbTrust.crl } : undefined),
      logKeys: gbTrust.certificates.filter((c) => c.use === "log").map((c) => c.certificate.publicKey),
      now: new Date(),
    });
    report.ok(`US holds GB's item receipt; verified here against GB's pinned root and log key:`);
    report.fact("signed by", `${verified.signer.authority}, sign certificate sha256 ${verified.signer.fingerprint.slice(0, 32)}…`);
    report.fact("names", `item ${item.itemId}, ${verified.receipt.size} bytes, sha256 ${verified.receipt.sha256.slice(0, 16)}…`);
    report.fact("logged at", `${verified.receipt.log.origin} #${verified.receipt.log.index}, in GB's signed checkpoint of size ${verified.checkpoint.size}`);

    const out = join(state.workdir, `downloaded-${ITEM_NAME}`);
    const got = await runValise(["evidence", "get", exchange.caseId, item.itemId, "--out", out, "--home", gb.home, "--json"], { VALISE_TOKEN: tokenOf(gb, "caseworker") }, 120_000);
    report.block([`$ VALISE_TOKEN=… ${got.command}`]);
    expectThat(got.exitCode === 0, `valise evidence get exited ${got.exitCode}`, [got.stdout.trim(), got.stderr.trim()]);
    const downloaded = createHash("sha256").update(readFileSync(out)).digest("hex");
    expectThat(downloaded === sha256, "the downloaded plaintext differs from the file US sent");
    report.ok("a GB caseworker downloads it, decrypted and verified chunk by chunk: byte-identical to US's file (the read is in GB's audit log first)");
  },
};
