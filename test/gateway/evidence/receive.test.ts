/**
 * The receiving side of evidence, over real mutual TLS: GB requested, so US
 * sends GB a manifest and uploads items to GB's peer API as the uploader
 * would. Uploads in one request and in pieces ending mid-chunk, the receipt
 * verified like a sender verifies it, HEAD offsets, the same receipt for a
 * retried last request — and every damaged stream (flipped byte, dropped
 * chunk, reordered chunks, truncated stream, wrong manifest digest, wrong
 * length) refused with its code, audited, and nothing of it kept.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../../gateway/gateway.js";
import { verifyItemReceipt } from "../../../gateway/evidence/item-receipt.js";
import { partialPath, storedPath } from "../../../gateway/evidence/sealed-store.js";
import { homePaths } from "../../../gateway/home.js";
import { loadPeerTrust } from "../../../pki/peers.js";
import { TAG_BYTES, sealItem } from "../../../gateway/evidence/stream.js";
import { summariseRefusals } from "../../../gateway/evidence/refusals.js";
import { example, localRequest, peerRequest, sealFrom, trust, waitFor, type HttpAnswer, type TestAuthority, type TestNetwork, createNetwork } from "../fixtures.js";
import { exchangeRequest } from "../witness/helpers.js";
import { TEST_CHUNK, entriesOfKind, itemRow, manifestOf, plaintextOf, testItem, type TestItem } from "./helpers.js";

describe("gateway/evidence: receiving items (peer API)", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  let caseId: string;

  /** US's request to GB's peer API with US's client certificate (or `as`'s). */
  const toGb = (method: string, path: string, options: { body?: Buffer; headers?: Record<string, string>; as?: TestAuthority } = {}): Promise<HttpAnswer> =>
    peerRequest(network.gb.peerPort, method, path, {
      ca: network.gb.rootPem(),
      credentials: (options.as ?? network.us).tlsCredentials(),
      ...(options.body === undefined ? {} : { body: options.body }),
      headers: { "content-type": "application/octet-stream", ...options.headers },
    });

  /** US delivers a manifest of `items` to GB; returns GB's answer. */
  async function deliverManifest(items: readonly TestItem[], packageId: string, options: { caseId?: string; manifestCaseId?: string } = {}): Promise<HttpAnswer> {
    const manifest = manifestOf(options.manifestCaseId ?? options.caseId ?? caseId, packageId, items);
    const sealed = await sealFrom(network.us, network.gb, manifest as unknown as Record<string, unknown>, { caseId: options.caseId ?? caseId, type: "evidence-manifest" });
    return toGb("POST", "/peer/v1/envelopes", { body: Buffer.from(sealed.bytes), headers: { "content-type": "application/json" } });
  }

  const put = (packageId: string, item: TestItem, bytes: Buffer, start: number, total = item.sealed.byteLength, as?: TestAuthority): Promise<HttpAnswer> =>
    toGb("PUT", `/peer/v1/evidence/${packageId}/${item.manifest.itemId}`, {
      body: bytes,
      headers: { "content-range": bytes.byteLength === 0 ? `bytes */${total}` : `bytes ${start}-${start + bytes.byteLength - 1}/${total}` },
      ...(as === undefined ? {} : { as }),
    });

  const head = (packageId: string, item: TestItem): Promise<HttpAnswer> => toGb("HEAD", `/peer/v1/evidence/${packageId}/${item.manifest.itemId}`);

  async function verifyAtUs(item: TestItem, packageId: string, receipt: string): Promise<void> {
    const gbTrust = loadPeerTrust(join(network.us.home, "peers"), "GB-UKCA");
    const verified = await verifyItemReceipt(receipt, {
      expected: { caseId, packageId, itemId: item.manifest.itemId, from: "US-DOJ-OIA", to: "GB-UKCA", size: item.manifest.size, sha256: item.manifest.sha256 },
      trustFor: (authority) => (authority === "GB-UKCA" ? { root: gbTrust.root, crl: gbTrust.crl } : undefined),
      logKeys: gbTrust.certificates.filter((c) => c.use === "log").map((c) => c.certificate.publicKey),
      now: new Date(),
    });
    expect(verified.receipt.sealedSha256).to.equal(createHash("sha256").update(item.sealed).digest("hex"));
  }

  /** Nothing of `item` is kept at GB: no stored file, no partial file, offset 0, no received entry. */
  async function expectNothingKept(item: TestItem): Promise<void> {
    const paths = homePaths(network.gb.home);
    expect(existsSync(storedPath(paths, createHash("sha256").update(item.sealed).digest("hex")))).to.equal(false);
    expect(existsSync(partialPath(paths, item.manifest.itemId))).to.equal(false);
    expect((await itemRow(gb.context.store, item.manifest.itemId))).to.include({ state: "receiving", acked_bytes: 0 });
    expect((await entriesOfKind(gb.context.store, "evidence.item.received")).map((e) => e.details["itemId"])).to.not.include(item.manifest.itemId);
  }

  before(async function () {
    network = await createNetwork();
    gb = network.gb.gateway();
    us = network.us.gateway();
    await gb.start();
    await us.start();
    caseId = await exchangeRequest(network.gb); // GB asks US: GB's case is outbound
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  it("refuses an upload before any manifest names the item: 404 EVIDENCE_ITEM_UNKNOWN", async function () {
    const item = testItem(randomUUID(), plaintextOf(100));
    const answer = await put(randomUUID(), item, item.sealed, 0);
    expect(answer.status).to.equal(404);
    expect(answer.json.error.code).to.equal("EVIDENCE_ITEM_UNKNOWN");
    expect((await head(randomUUID(), item)).status).to.equal(404);
  });

  it("receives a multi-chunk item in one request: 201 with a receipt US can verify; stored sealed under its SHA-256", async function () {
    const packageId = randomUUID();
    const item = testItem(packageId, plaintextOf(3 * TEST_CHUNK + 1234));
    expect((await deliverManifest([item], packageId)).status).to.equal(201);
    const before = await head(packageId, item);
    expect(before.status).to.equal(200);
    expect(before.headers).to.include({ "upload-offset": "0", "upload-length": String(item.sealed.byteLength), "valise-item-state": "receiving" });

    const answer = await put(packageId, item, item.sealed, 0);
    expect(answer.status, answer.text).to.equal(201);
    expect(answer.json).to.include({ state: "received", offset: item.sealed.byteLength });
    await verifyAtUs(item, packageId, answer.json.receipt);

    const sealedSha256 = createHash("sha256").update(item.sealed).digest("hex");
    const stored = storedPath(homePaths(network.gb.home), sealedSha256);
    expect(readFileSync(stored).equals(item.sealed)).to.equal(true);
    expect(existsSync(partialPath(homePaths(network.gb.home), item.manifest.itemId))).to.equal(false);
    expect((await itemRow(gb.context.store, item.manifest.itemId))).to.include({ state: "received", sealed_sha256: sealedSha256 });
    const [received] = (await entriesOfKind(gb.context.store, "evidence.item.received")).filter((e) => e.details["itemId"] === item.manifest.itemId);
    expect(received?.caseId).to.equal(caseId);
    expect(received?.details).to.include({ packageId, size: item.manifest.size, sha256: item.manifest.sha256, sealedSha256, from: "US-DOJ-OIA" });
    expect((await entriesOfKind(gb.context.store, "evidence.package.received")).map((e) => e.details["packageId"])).to.include(packageId);

    // The retried last request, and a status query, get the same receipt; HEAD says received.
    expect((await put(packageId, item, item.sealed, 0)).json.receipt).to.equal(answer.json.receipt);
    expect((await put(packageId, item, Buffer.alloc(0), 0)).json.receipt).to.equal(answer.json.receipt);
    expect((await head(packageId, item)).headers).to.include({ "upload-offset": String(item.sealed.byteLength), "valise-item-state": "received" });
  });

  it("receives an item in requests that end mid-chunk, keeping whole chunks only; an empty item too", async function () {
    const packageId = randomUUID();
    const item = testItem(packageId, plaintextOf(4 * TEST_CHUNK, "exact multiple"));
    const empty = testItem(packageId, Buffer.alloc(0), { name: "empty.bin" });
    expect((await deliverManifest([item, empty], packageId)).status).to.equal(201);

    const first = await put(packageId, item, item.sealed.subarray(0, TEST_CHUNK + TAG_BYTES + 500), 0);
    expect(first.status, first.text).to.equal(200);
    expect(first.json.offset).to.equal(TEST_CHUNK + TAG_BYTES);
    expect(first.headers["upload-offset"]).to.equal(String(TEST_CHUNK + TAG_BYTES));
    expect((await itemRow(gb.context.store, item.manifest.itemId))?.acked_bytes).to.equal(TEST_CHUNK + TAG_BYTES);

    // Not from the stored offset: 409 with the offset to resume from, and nothing written.
    const wrong = await put(packageId, item, item.sealed.subarray(2 * (TEST_CHUNK + TAG_BYTES)), 2 * (TEST_CHUNK + TAG_BYTES));
    expect(wrong.status).to.equal(409);
    expect(wrong.json.error.code).to.equal("EVIDENCE_RANGE_MISMATCH");
    expect(wrong.headers["upload-offset"]).to.equal(String(TEST_CHUNK + TAG_BYTES));

    const offset = Number((await head(packageId, item)).headers["upload-offset"]);
    const rest = await put(packageId, item, item.sealed.subarray(offset), offset);
    expect(rest.status, rest.text).to.equal(201);
    await verifyAtUs(item, packageId, rest.json.receipt);

    const emptyAnswer = await put(packageId, empty, empty.sealed, 0);
    expect(emptyAnswer.status, emptyAnswer.text).to.equal(201);
    expect(empty.sealed.byteLength).to.equal(TAG_BYTES);
    await verifyAtUs(empty, packageId, emptyAnswer.json.receipt);
  });

  describe("damaged uploads: refused with their code, audited, nothing kept, and the item can start again", function () {
    const size = 5 * TEST_CHUNK + 77;
    const chunk = (item: TestItem, i: number): Buffer => item.sealed.subarray(i * (TEST_CHUNK + TAG_BYTES), Math.min(item.sealed.byteLength, (i + 1) * (TEST_CHUNK + TAG_BYTES)));

    async function refused(item: TestItem, packageId: string, body: Buffer, code: string, total?: number): Promise<void> {
      const rejectedBefore = (await entriesOfKind(gb.context.store, "evidence.item.rejected")).length;
      const answer = await put(packageId, item, body, 0, total);
      expect(answer.json?.error?.code, answer.text).to.equal(code);
      expect(answer.status).to.equal(422);
      const rejected = (await entriesOfKind(gb.context.store, "evidence.item.rejected"));
      expect(rejected).to.have.length(rejectedBefore + 1);
      expect(rejected.at(-1)?.details).to.include({ packageId, itemId: item.manifest.itemId, code });
      await expectNothingKept(item);
      expect((await head(packageId, item)).headers["upload-offset"]).to.equal("0");
    }

    async function announced(options: { sha256?: string } = {}): Promise<{ item: TestItem; packageId: string }> {
      const packageId = randomUUID();
      const item = testItem(packageId, plaintextOf(size, randomUUID()), options);
      expect((await deliverManifest([item], packageId)).status).to.equal(201);
      return { item, packageId };
    }

    it("a flipped ciphertext byte: EVIDENCE_CHUNK_TAG_INVALID — and a clean upload afterwards is received", async function () {
      const { item, packageId } = await announced();
      const damaged = Buffer.from(item.sealed);
      damaged[3 * (TEST_CHUNK + TAG_BYTES) + 10]! ^= 0x04;
      await refused(item, packageId, damaged, "EVIDENCE_CHUNK_TAG_INVALID");
      const retry = await put(packageId, item, item.sealed, 0);
      expect(retry.status, retry.text).to.equal(201);
      await verifyAtUs(item, packageId, retry.json.receipt);
    });

    it("a dropped chunk: EVIDENCE_CHUNK_MISSING", async function () {
      const { item, packageId } = await announced();
      await refused(item, packageId, Buffer.concat([chunk(item, 0), chunk(item, 1), chunk(item, 3), chunk(item, 4), chunk(item, 5)]), "EVIDENCE_CHUNK_MISSING");
    });

    it("two chunks reordered: EVIDENCE_CHUNK_REORDERED", async function () {
      const { item, packageId } = await announced();
      await refused(item, packageId, Buffer.concat([chunk(item, 0), chunk(item, 2), chunk(item, 1), chunk(item, 3), chunk(item, 4), chunk(item, 5)]), "EVIDENCE_CHUNK_REORDERED");
    });

    it("a truncated stream (the final chunk lacks the last-chunk flag): EVIDENCE_STREAM_TRUNCATED", async function () {
      // The sender seals a longer plaintext under the announced key and sends only as many bytes as the manifest's size.
      const packageId = randomUUID();
      const item = testItem(packageId, plaintextOf(4 * TEST_CHUNK, randomUUID()));
      expect((await deliverManifest([item], packageId)).status).to.equal(201);
      const longer = sealItem({ ...item.params, size: 6 * TEST_CHUNK }, plaintextOf(6 * TEST_CHUNK, "longer"));
      await refused(item, packageId, longer.subarray(0, item.sealed.byteLength), "EVIDENCE_STREAM_TRUNCATED");
    });

    it("a wrong SHA-256 in the manifest: EVIDENCE_DIGEST_MISMATCH at the last chunk", async function () {
      const { item, packageId } = await announced({ sha256: "0".repeat(64) });
      await refused(item, packageId, item.sealed, "EVIDENCE_DIGEST_MISMATCH");
    });

    it("a total length that is not the manifest's size sealed: EVIDENCE_SIZE_MISMATCH, before any byte is read", async function () {
      const { item, packageId } = await announced();
      await refused(item, packageId, item.sealed.subarray(0, 1000), "EVIDENCE_SIZE_MISMATCH", item.sealed.byteLength + TAG_BYTES);
    });
  });

  it("bounds the audit of a refusal repeated by the peer: the first per item and code audited, the repeats counted and summarised", async function () {
    const packageId = randomUUID();
    const item = testItem(packageId, plaintextOf(2 * TEST_CHUNK + 5));
    expect((await deliverManifest([item], packageId)).status).to.equal(201);
    const ofItem = async (kind: string): Promise<Array<Record<string, unknown>>> =>
      (await entriesOfKind(gb.context.store, kind)).filter((e) => e.details["itemId"] === item.manifest.itemId).map((e) => e.details);
    const second = TEST_CHUNK + TAG_BYTES; // where chunk 1 starts: not where GB's stored stream ends
    for (let i = 0; i < 20; i += 1) {
      const answer = await put(packageId, item, item.sealed.subarray(0, 100), 0, item.sealed.byteLength + TAG_BYTES);
      expect(answer.json?.error?.code, answer.text).to.equal("EVIDENCE_SIZE_MISMATCH");
    }
    for (let i = 0; i < 5; i += 1) {
      const answer = await put(packageId, item, item.sealed.subarray(second), second);
      expect(answer.json?.error?.code, answer.text).to.equal("EVIDENCE_RANGE_MISMATCH");
    }
    expect((await ofItem("evidence.item.rejected")).map((d) => d["code"])).to.deep.equal(["EVIDENCE_SIZE_MISMATCH", "EVIDENCE_RANGE_MISMATCH"]);
    expect(await ofItem("evidence.item.rejected.repeated")).to.deep.equal([]);

    // The summary accounts for every repeat, once.
    expect(await summariseRefusals(gb.context)).to.be.at.least(2);
    const summary = await ofItem("evidence.item.rejected.repeated");
    expect(summary.map((d) => [d["code"], d["repeats"], d["total"]])).to.deep.equal([
      ["EVIDENCE_SIZE_MISMATCH", 19, 20],
      ["EVIDENCE_RANGE_MISMATCH", 4, 5],
    ]);
    await summariseRefusals(gb.context);
    expect(await ofItem("evidence.item.rejected.repeated")).to.have.length(2);

    // Repeats after a summary go into the next one, written by the running gateway's timer too.
    await put(packageId, item, item.sealed.subarray(second), second);
    expect(await ofItem("evidence.item.rejected")).to.have.length(2);
    const next = await waitFor("the next summary", async () => {
      await summariseRefusals(gb.context);
      const repeated = await ofItem("evidence.item.rejected.repeated");
      return repeated.length === 3 ? repeated[2] : undefined;
    });
    expect(next).to.include({ code: "EVIDENCE_RANGE_MISMATCH", repeats: 1, total: 6, packageId });

    // None of it hurt the item: a clean upload is received.
    const clean = await put(packageId, item, item.sealed, 0);
    expect(clean.status, clean.text).to.equal(201);
  });

  it("refuses uploads from another peer than the manifest's sender: 404 EVIDENCE_ITEM_UNKNOWN", async function () {
    const fr = await network.addAuthority("FR-MJ-BEPI");
    await trust(network.gb, fr);
    await trust(fr, network.gb);
    const packageId = randomUUID();
    const item = testItem(packageId, plaintextOf(1000));
    expect((await deliverManifest([item], packageId)).status).to.equal(201);
    const answer = await waitFor("GB to trust FR", async () => {
      const attempt = await put(packageId, item, item.sealed, 0, undefined, fr).catch(() => undefined);
      return attempt?.json?.error?.code === "PEER_TLS_IDENTITY" ? undefined : attempt;
    });
    expect(answer.status).to.equal(404);
    expect(answer.json.error.code).to.equal("EVIDENCE_ITEM_UNKNOWN");
    expect((await itemRow(gb.context.store, item.manifest.itemId))).to.include({ state: "receiving", acked_bytes: 0 });
  });

  it("refuses a manifest that names another case than its envelope (422 EVIDENCE_MANIFEST_INVALID) and one on a case GB did not request (409 EVIDENCE_CASE_DIRECTION)", async function () {
    const packageId = randomUUID();
    const item = testItem(packageId, plaintextOf(10));
    const mismatched = await deliverManifest([item], packageId, { manifestCaseId: randomUUID() });
    expect(mismatched.status).to.equal(422);
    expect(mismatched.json.error.code).to.equal("EVIDENCE_MANIFEST_INVALID");

    // US asks GB for something: that case is GB's inbound case, on which GB sends evidence, never receives it.
    const submitted = await localRequest(network.us.localPort, "POST", "/api/v1/requests", {
      token: network.us.tokens.caseworker,
      body: { ...example("mla-request", "valid-email-records"), requestingAuthority: "US-DOJ-OIA", requestedAuthority: "GB-UKCA" },
    });
    expect(submitted.status, submitted.text).to.equal(201);
    const usCase = submitted.json.caseId as string;
    await waitFor("GB to hold US's request", async () => ((await gb.context.store.inspect("SELECT 1 AS one FROM cases WHERE case_id = ?", [usCase])).length === 0 ? undefined : true));
    const wrongWay = await deliverManifest([item], packageId, { caseId: usCase });
    expect(wrongWay.status).to.equal(409);
    expect(wrongWay.json.error.code).to.equal("EVIDENCE_CASE_DIRECTION");
    expect(await gb.context.store.inspect("SELECT COUNT(*) AS n FROM evidence_packages WHERE package_id = ?", [packageId])).to.deep.equal([{ n: 0 }]);
    expect(await gb.context.store.inspect("SELECT COUNT(*) AS n FROM envelopes WHERE type = 'evidence-manifest' AND case_id = ?", [usCase])).to.deep.equal([{ n: 0 }]);
  });
});
