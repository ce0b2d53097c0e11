/**
 * Evidence end to end between two real gateways: GB requested, US sends a
 * package through its local API (files in US's outgoing folder), the
 * manifest travels through the outbox, the uploader seals and PUTs each item
 * in segments, GB verifies and receipts every item, US verifies and keeps
 * the receipts and the package is delivered; a GB caseworker downloads each
 * item, verified, with the read audited first. Refusals of the send (wrong
 * direction, paths outside the allowed folders, missing fields) store
 * nothing; a file changed after it was hashed is never delivered.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { appendFileSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../../gateway/gateway.js";
import { createGateway } from "../../../gateway/gateway.js";
import { createLogger } from "../../../gateway/log.js";
import { verifyItemReceipt } from "../../../gateway/evidence/item-receipt.js";
import { loadPeerTrust } from "../../../pki/peers.js";
import { storedPath } from "../../../gateway/evidence/sealed-store.js";
import { homePaths } from "../../../gateway/home.js";
import { FAST_DELIVERY, PASSPHRASE, count, createNetwork, localRequest, waitFor, type HttpAnswer, type TestAuthority, type TestNetwork } from "../fixtures.js";
import { acceptedRequest, exchangeRequest } from "../witness/helpers.js";
import { PROVENANCE, TEST_CHUNK, entriesOfKind, getBytes, plaintextOf } from "./helpers.js";
import { captureLogger, type LogLine } from "../log-capture.js";

/** Small segments, so that an item of a few chunks takes several PUTs. */
const EVIDENCE_TUNING = { idlePollMs: 50, minSegmentBytes: 3 * (TEST_CHUNK + 16), maxSegmentBytes: 5 * (TEST_CHUNK + 16) };

function gatewayOf(authority: TestAuthority, logger = createLogger({ authority: authority.authority, silent: true })): Gateway {
  return createGateway({ home: authority.home, passphrase: PASSPHRASE, logger, delivery: FAST_DELIVERY, evidence: EVIDENCE_TUNING });
}

interface Listed {
  packages: Array<{ packageId: string; direction: string; state: string; completes: string; items: Array<{ itemId: string; name: string; size: number; sha256: string; state: string; receipt: string | null; sealedSize: number; ackedBytes: number; lastError: string | null }> }>;
}

describe("gateway/evidence: sending a package between two gateways", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  let caseId: string;
  let outgoing: string;
  let gbLog: LogLine[];

  const files: Record<string, Buffer> = {
    "empty.bin": Buffer.alloc(0),
    "one-byte.txt": Buffer.from("x"),
    "exact-multiple.bin": plaintextOf(4 * TEST_CHUNK, "exact"),
    "mailbox.mbox": plaintextOf(17 * TEST_CHUNK + 4321, "mailbox"),
  };

  const send = (body: unknown, id = caseId): Promise<HttpAnswer> => localRequest(network.us.localPort, "POST", `/api/v1/cases/${id}/evidence`, { token: network.us.tokens.caseworker, body });
  const listAt = async (authority: TestAuthority, id = caseId): Promise<Listed> => (await localRequest(authority.localPort, "GET", `/api/v1/cases/${id}/evidence`, { token: authority.tokens.caseworker })).json as Listed;
  const item = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ path: join(outgoing, name), ...PROVENANCE, ...extra });

  before(async function () {
    network = await createNetwork();
    const captured = captureLogger(network.gb.authority);
    gbLog = captured.lines;
    gb = gatewayOf(network.gb, captured.logger);
    us = gatewayOf(network.us);
    await gb.start();
    await us.start();
    caseId = await acceptedRequest(network.gb, network.us); // GB asks US; US answers with evidence
    outgoing = join(network.us.home, "outgoing");
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(outgoing, name), bytes);
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  it("delivers every item (empty, one byte, an exact chunk multiple, many chunks), receipted, verified, and the package delivered", async function () {
    const answer = await send({ completes: "partially-executed", chunkSize: TEST_CHUNK, items: Object.keys(files).map((name) => item(name)) });
    expect(answer.status, answer.text).to.equal(201);
    const { packageId, items } = answer.json as { packageId: string; items: Array<{ itemId: string; name: string; size: number; sha256: string }> };
    expect(items.map((i) => [i.name, i.size, i.sha256])).to.deep.equal(Object.entries(files).map(([name, bytes]) => [name, bytes.byteLength, createHash("sha256").update(bytes).digest("hex")]));

    const sent = await waitFor("US's package to be delivered", async () => {
      const listed = await listAt(network.us);
      const pkg = listed.packages.find((p) => p.packageId === packageId);
      expect(pkg?.state).to.not.equal("failed");
      return pkg?.state === "delivered" ? pkg : undefined;
    }, 30_000);
    expect(sent.completes).to.equal("partially-executed");
    const gbTrust = loadPeerTrust(join(network.us.home, "peers"), "GB-UKCA");
    for (const listed of sent.items) {
      expect(listed.state).to.equal("receipted");
      const verified = await verifyItemReceipt(listed.receipt, {
        expected: { caseId, packageId, itemId: listed.itemId, from: "US-DOJ-OIA", to: "GB-UKCA", size: listed.size, sha256: listed.sha256 },
        trustFor: (authority) => (authority === "GB-UKCA" ? { root: gbTrust.root, crl: gbTrust.crl } : undefined),
        logKeys: gbTrust.certificates.filter((c) => c.use === "log").map((c) => c.certificate.publicKey),
        now: new Date(),
      });
      expect(verified.signer.authority).to.equal("GB-UKCA");
    }

    const received = (await listAt(network.gb)).packages.find((p) => p.packageId === packageId);
    expect(received).to.include({ direction: "inbound", state: "received", completes: "partially-executed" });
    expect(received!.items.map((i) => i.state)).to.deep.equal(["received", "received", "received", "received"]);

    // US's log: what was sent, each receipt, the package delivered; GB's: each item received, the package received.
    const usDb = us.context.store;
    expect((await entriesOfKind(usDb, "evidence.package.sent")).filter((e) => e.details["packageId"] === packageId)).to.have.length(1);
    expect((await entriesOfKind(usDb, "evidence.receipt.received")).filter((e) => e.details["packageId"] === packageId)).to.have.length(4);
    const delivered = (await entriesOfKind(usDb, "evidence.package.delivered")).filter((e) => e.details["packageId"] === packageId);
    expect(delivered).to.have.length(1);
    expect(delivered[0]!.details).to.include({ completes: "partially-executed", items: 4, to: "GB-UKCA" });

    // The delivery moves the case on both sides: a report-progress step naming the package, taken by the gateway.
    for (const side of [network.us, network.gb]) {
      const kase = await waitFor(`${side.authority} to see the case partially executed`, async () => {
        const answer = await localRequest(side.localPort, "GET", `/api/v1/cases/${caseId}`, { token: side.tokens.caseworker });
        return answer.json?.status === "partially-executed" ? answer.json : undefined;
      });
      const step = (kase.steps as Array<{ step: string; to: string }>).at(-1);
      expect(step).to.include({ step: "report-progress", to: "partially-executed" });
    }
    const changed = (await entriesOfKind(usDb, "status.changed")).filter((e) => e.details["step"] === "report-progress");
    expect(changed.map((e) => (e as unknown as { actor: string }).actor)).to.deep.equal(["gateway"]);
    expect((await entriesOfKind(gb.context.store, "evidence.item.received")).filter((e) => e.details["packageId"] === packageId)).to.have.length(4);
    expect((await entriesOfKind(gb.context.store, "evidence.package.received")).filter((e) => e.details["packageId"] === packageId)).to.have.length(1);
    // Names and descriptions stay in the sealed manifest, out of the logs.
    expect(JSON.stringify((await entriesOfKind(usDb, "evidence.package.sent")))).to.not.contain("mailbox.mbox");
    // The mailbox took several PUTs; each went on from the receiver's reader, none rescanned the partial file from its start.
    const puts = gbLog.filter((l) => l.message === "request" && l["method"] === "PUT" && String(l["path"]).includes(`/peer/v1/evidence/${packageId}/`));
    expect(puts.length, "several PUTs").to.be.greaterThan(4);
    expect(gbLog.filter((l) => l.message === "evidence upload resumable")).to.deep.equal([]);
  });

  it("audits the evidence list as a read of the manifests; the progress view shows nothing of them and is not audited", async function () {
    const db = gb.context.store;
    const reads = async (): Promise<Array<{ index: number; kind: string; caseId?: string; details: Record<string, unknown> }>> =>
      (await entriesOfKind(db, "access.read")).filter((e) => e.details["what"] === "evidence-list");
    const before = (await reads()).length;
    const listed = await listAt(network.gb);
    expect(listed.packages.length).to.be.greaterThan(0);
    const after = await reads();
    expect(after).to.have.length(before + 1);
    const entry = after.at(-1)!;
    expect(entry.caseId).to.equal(caseId);
    expect(entry.details).to.include({ role: "caseworker" });
    expect((entry.details["manifests"] as Array<{ packageId: string }>).map((m) => m.packageId)).to.deep.equal(listed.packages.map((p) => p.packageId));
    // Names stay out of the log.
    expect(JSON.stringify(entry)).to.not.contain("mailbox.mbox");

    const progress = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}/evidence?view=progress`, { token: network.gb.tokens.caseworker });
    expect(progress.status).to.equal(200);
    expect(progress.json.packages.map((p: { packageId: string }) => p.packageId)).to.deep.equal(listed.packages.map((p) => p.packageId));
    expect(progress.json.packages[0].items[0]).to.have.all.keys("itemId", "state", "sealedSize", "ackedBytes", "sentBytes", "receivedAt", "attempts", "lastError");
    expect(progress.text).to.not.contain("mailbox.mbox");
    expect(await reads()).to.have.length(before + 1);
    const badView = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}/evidence?view=everything`, { token: network.gb.tokens.caseworker });
    expect(badView.status).to.equal(400);
    expect(badView.json.error.code).to.equal("USAGE");
  });

  it("shows a caseworker the manifest with every item key withheld", async function () {
    const kase = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.gb.tokens.caseworker });
    const manifestEnvelope = (kase.json.envelopes as Array<{ envelopeId: string; type: string }>).find((e) => e.type === "evidence-manifest");
    expect(manifestEnvelope).to.not.equal(undefined);
    const read = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}/documents/${manifestEnvelope!.envelopeId}`, { token: network.gb.tokens.caseworker });
    expect(read.status).to.equal(200);
    const items = read.json.items as Array<{ sha256: string; encryption: { key: string; noncePrefix: string; chunkSize: number } }>;
    expect(items.length).to.be.greaterThan(0);
    for (const listed of items) expect(listed.encryption).to.include({ key: "(withheld)", noncePrefix: "(withheld)", chunkSize: TEST_CHUNK });
  });

  it("lets a GB caseworker download each item, verified as it is decrypted, after an access.read entry", async function () {
    const received = (await listAt(network.gb)).packages.find((p) => p.direction === "inbound" && p.state === "received");
    expect(received).to.not.equal(undefined);
    for (const listed of received!.items) {
      const readsBefore = (await entriesOfKind(gb.context.store, "access.read")).length;
      const answer = await getBytes(network.gb.localPort, `/api/v1/cases/${caseId}/evidence/${listed.itemId}`, network.gb.tokens.caseworker);
      expect(answer.status).to.equal(200);
      expect(answer.complete).to.equal(true);
      const bytes = answer.body;
      expect(answer.headers["content-length"]).to.equal(String(listed.size));
      expect(answer.headers["repr-digest"]).to.equal(`sha-256=:${Buffer.from(listed.sha256, "hex").toString("base64")}:`);
      expect(answer.headers["content-disposition"]).to.contain(encodeURIComponent(listed.name));
      expect(createHash("sha256").update(bytes).digest("hex")).to.equal(createHash("sha256").update(files[listed.name]!).digest("hex"));
      const reads = (await entriesOfKind(gb.context.store, "access.read"));
      expect(reads).to.have.length(readsBefore + 1);
      expect(reads.at(-1)!.details).to.include({ what: "evidence", itemId: listed.itemId, sha256: listed.sha256, role: "caseworker" });
    }
    const unknown = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}/evidence/00000000-0000-4000-8000-000000000000`, { token: network.gb.tokens.caseworker });
    expect(unknown.status).to.equal(404);
    expect(unknown.json.error.code).to.equal("EVIDENCE_ITEM_UNKNOWN");
    const asAuditor = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}/evidence`, { token: network.gb.tokens.auditor });
    expect(asAuditor.status).to.equal(403);
  });

  it("names a download with a non-ASCII, quoted name in filename* and an ASCII filename fallback", async function () {
    const name = 'Kontoauszüge "März" 2025 ✓\u0085.csv';
    const answer = await send({ completes: "partially-executed", chunkSize: TEST_CHUNK, items: [item("one-byte.txt", { name })] });
    expect(answer.status, answer.text).to.equal(201);
    const itemId = (answer.json as { items: Array<{ itemId: string }> }).items[0]!.itemId;
    await waitFor("GB to receive the item", async () => {
      const pkg = (await listAt(network.gb)).packages.find((p) => p.packageId === answer.json.packageId);
      return pkg?.state === "received" ? pkg : undefined;
    }, 30_000);
    const download = await getBytes(network.gb.localPort, `/api/v1/cases/${caseId}/evidence/${itemId}`, network.gb.tokens.caseworker);
    expect(download.status).to.equal(200);
    const header = String(download.headers["content-disposition"]);
    expect(header).to.match(/^[\x20-\x7e]+$/);
    expect(header).to.equal(`attachment; filename="Kontoauszuge _Marz_ 2025 __.csv"; filename*=UTF-8''Kontoausz%C3%BCge%20%22M%C3%A4rz%22%202025%20%E2%9C%93_.csv`);
  });

  it("never hands out a stored item altered on disk: a coded error, or a download cut short; the failure audited", async function () {
    const received = (await listAt(network.gb)).packages.find((p) => p.direction === "inbound" && p.state === "received")!;
    const mailbox = received.items.find((i) => i.name === "mailbox.mbox")!;
    const [row] = await gb.context.store.inspect<{ sealed_sha256: string }>("SELECT sealed_sha256 FROM evidence_items WHERE item_id = ?", [mailbox.itemId]);
    const stored = storedPath(homePaths(network.gb.home), row!.sealed_sha256);
    const download = () => getBytes(network.gb.localPort, `/api/v1/cases/${caseId}/evidence/${mailbox.itemId}`, network.gb.tokens.caseworker);
    const unreadable = async () => (await entriesOfKind(gb.context.store, "evidence.item.unreadable")).filter((e) => e.details["itemId"] === mailbox.itemId);
    const damage = (chunk: number): void => {
      const bytes = readFileSync(stored);
      bytes[chunk * (TEST_CHUNK + 16) + 3]! ^= 0x10;
      writeFileSync(stored, bytes);
    };

    // The last chunk (16 of 0..16) lies past the first MiB read from the store: the headers are out by then.
    damage(16);
    const cut = await download();
    expect(cut.status).to.equal(200);
    expect(cut.complete).to.equal(false);
    expect(cut.body.byteLength).to.be.at.most(16 * TEST_CHUNK);
    await waitFor("the failure to be audited", async () => ((await unreadable()).length === 1 ? true : undefined));
    expect((await unreadable())[0]!.details["code"]).to.equal("EVIDENCE_CHUNK_TAG_INVALID");

    // Chunk 2 fails before a byte went out: the answer is the error itself.
    damage(2);
    const refused = await download();
    expect(refused.status).to.equal(422);
    expect(JSON.parse(refused.body.toString("utf8")).error.code).to.equal("EVIDENCE_CHUNK_TAG_INVALID");
    expect(await unreadable()).to.have.length(2);
  });

  it("never sends the home's own files, even when evidence.sendFrom names the home itself", async function () {
    const config = join(network.us.home, "valise.json");
    const original = readFileSync(config, "utf8");
    const restart = async (): Promise<void> => {
      await us.stop();
      us = gatewayOf(network.us);
      await us.start();
    };
    writeFileSync(config, JSON.stringify({ ...JSON.parse(original), evidence: { sendFrom: [network.us.home] } }));
    try {
      await restart();
      const packages = async (): Promise<number> => (await us.context.store.inspect<{ n: number }>("SELECT COUNT(*) AS n FROM evidence_packages"))[0]!.n;
      const before = await packages();
      for (const own of ["valise.json", "valise.db", join("pki", "root.cert.pem")]) {
        const answer = await send({ completes: "partially-executed", items: [{ ...item("x"), path: join(network.us.home, own) }] });
        expect(answer.status, `${own}: ${answer.text}`).to.equal(403);
        expect(answer.json.error.code).to.equal("EVIDENCE_PATH_NOT_ALLOWED");
      }
      expect(await packages()).to.equal(before);
    } finally {
      writeFileSync(config, original);
      await restart();
    }
  });

  describe("refusals that store nothing", function () {
    let before: { packages: number; envelopes: number; outbox: number };
    const snapshot = async () => ({
      packages: (await us.context.store.inspect<{ n: number }>("SELECT COUNT(*) AS n FROM evidence_packages"))[0]!.n,
      envelopes: (await count(us.context.store, "envelopes")),
      outbox: (await count(us.context.store, "outbox")),
    });
    beforeEach(async function () {
      before = await snapshot();
    });
    afterEach(async function () {
      expect(await snapshot()).to.deep.equal(before);
    });

    it("evidence on a case not yet accepted: 409 CASE_TRANSITION_INVALID, before any file is read", async function () {
      const fresh = await exchangeRequest(network.gb);
      before = await snapshot(); // the fresh case's own rows are not the refusal's
      const answer = await send({ completes: "executed", items: [item("one-byte.txt")] }, fresh);
      expect(answer.status, answer.text).to.equal(409);
      expect(answer.json.error.code).to.equal("CASE_TRANSITION_INVALID");
      expect(answer.json.error.details.allowed).to.include("accept");
    });

    it("evidence on a case this side sent: 409 EVIDENCE_CASE_DIRECTION", async function () {
      const answer = await localRequest(network.gb.localPort, "POST", `/api/v1/cases/${caseId}/evidence`, { token: network.gb.tokens.caseworker, body: { completes: "executed", items: [item("one-byte.txt")] } });
      expect(answer.status).to.equal(409);
      expect(answer.json.error.code).to.equal("EVIDENCE_CASE_DIRECTION");
    });

    it("a file outside the allowed folders, even through a symbolic link: 403 EVIDENCE_PATH_NOT_ALLOWED", async function () {
      const direct = await send({ completes: "executed", items: [{ ...item("x"), path: join(network.us.home, "valise.db") }] });
      expect(direct.status).to.equal(403);
      expect(direct.json.error.code).to.equal("EVIDENCE_PATH_NOT_ALLOWED");
      symlinkSync(join(network.us.home, "valise.json"), join(outgoing, "innocent.txt"));
      const linked = await send({ completes: "executed", items: [item("innocent.txt")] });
      expect(linked.status).to.equal(403);
      expect(linked.json.error.code).to.equal("EVIDENCE_PATH_NOT_ALLOWED");
    });

    it("a hard link in outgoing (to the encrypted root CA key, to the database): 403 EVIDENCE_PATH_NOT_ALLOWED, nothing read", async function () {
      linkSync(join(network.us.home, "pki", "root.key.pem"), join(outgoing, "root-key.txt"));
      linkSync(join(network.us.home, "valise.db"), join(outgoing, "records.db"));
      for (const name of ["root-key.txt", "records.db"]) {
        const answer = await send({ completes: "executed", items: [item(name)] });
        expect(answer.status, answer.text).to.equal(403);
        expect(answer.json.error.code).to.equal("EVIDENCE_PATH_NOT_ALLOWED");
      }
    });

    it("a symbolic link in outgoing is refused even when it names a file of outgoing", async function () {
      symlinkSync(join(outgoing, "one-byte.txt"), join(outgoing, "alias.txt"));
      const answer = await send({ completes: "executed", items: [item("alias.txt")] });
      expect(answer.status, answer.text).to.equal(403);
      expect(answer.json.error.code).to.equal("EVIDENCE_PATH_NOT_ALLOWED");
    });

    it("tells nothing about host paths outside the allowed folders: the same answer whether they exist or not", async function () {
      const elsewhere = join(network.dir, "elsewhere");
      mkdirSync(elsewhere, { recursive: true });
      writeFileSync(join(elsewhere, "exists.txt"), "secret");
      symlinkSync(elsewhere, join(outgoing, "to-elsewhere"));
      symlinkSync(join(elsewhere, "exists.txt"), join(outgoing, "to-existing.txt"));
      symlinkSync(join(elsewhere, "missing.txt"), join(outgoing, "to-missing.txt"));
      symlinkSync(join(elsewhere, "missing-folder"), join(outgoing, "to-missing-folder"));
      // Pairs that differ only in whether the host path exists.
      const pairs: Array<[string, string]> = [
        [join(elsewhere, "exists.txt"), join(elsewhere, "missing.txt")],
        [join(outgoing, "..", "valise.json"), join(outgoing, "..", "no-such.json")],
        [join(outgoing, "to-elsewhere", "exists.txt"), join(outgoing, "to-elsewhere", "missing.txt")],
        [join(outgoing, "to-existing.txt"), join(outgoing, "to-missing.txt")],
        [join(outgoing, "to-elsewhere", "exists.txt"), join(outgoing, "to-missing-folder", "exists.txt")],
      ];
      const answerFor = async (path: string): Promise<unknown> => {
        const answer = await send({ completes: "executed", items: [{ ...item("x"), path }] });
        expect(answer.status, `${path}: ${answer.text}`).to.equal(403);
        const { code, message, details } = answer.json.error as { code: string; message: string; details: Record<string, unknown> };
        return { code, message: message.replace(path, "PATH"), details: { ...details, path: "PATH" } };
      };
      for (const [existing, missing] of pairs) {
        const first = await answerFor(existing);
        expect(first).to.have.property("code", "EVIDENCE_PATH_NOT_ALLOWED");
        expect(await answerFor(missing), `${existing} vs ${missing}`).to.deep.equal(first);
      }
    });

    it("a FIFO named in five sends at once: each refused with a code, and the gateway still sends, submits and answers", async function () {
      this.timeout(30_000);
      execFileSync("mkfifo", [join(outgoing, "pipe.bin")]);
      const answers = await Promise.all(Array.from({ length: 5 }, () => send({ completes: "executed", items: [item("pipe.bin")] })));
      for (const answer of answers) {
        expect(answer.status, answer.text).to.equal(404);
        expect(answer.json.error.code).to.equal("EVIDENCE_FILE_UNREADABLE");
      }
      // The thread pool is free: file work (a send that hashes a file) and the database still answer.
      const missing = await send({ completes: "executed", items: [item("no-such-file.pdf")] });
      expect(missing.json.error.code).to.equal("EVIDENCE_FILE_UNREADABLE");
      const listed = await localRequest(network.us.localPort, "GET", "/api/v1/cases", { token: network.us.tokens.caseworker });
      expect(listed.status).to.equal(200);
      const health = await localRequest(network.us.localPort, "GET", "/healthz");
      expect(health.status).to.equal(200);
    });

    it("a missing file (404 EVIDENCE_FILE_UNREADABLE), a folder (404), a missing description (422 at /items/0/description)", async function () {
      const missing = await send({ completes: "executed", items: [item("no-such-file.pdf")] });
      expect(missing.status).to.equal(404);
      expect(missing.json.error.code).to.equal("EVIDENCE_FILE_UNREADABLE");
      mkdirSync(join(outgoing, "a-folder"), { recursive: true });
      const folder = await send({ completes: "executed", items: [item("a-folder")] });
      expect(folder.json.error.code).to.equal("EVIDENCE_FILE_UNREADABLE");
      const undescribed = await send({ completes: "executed", items: [{ ...item("one-byte.txt"), description: undefined }] });
      expect(undescribed.status).to.equal(422);
      expect(undescribed.json.error.code).to.equal("DOCUMENT_INVALID");
      expect((undescribed.json.error.details.errors as Array<{ path: string }>).map((e) => e.path)).to.deep.equal(["/items/0/description"]);
      const noCompletes = await send({ items: [item("one-byte.txt")] });
      expect((noCompletes.json.error.details.errors as Array<{ path: string }>).map((e) => e.path)).to.deep.equal(["/completes"]);
    });
  });

  it("never delivers a file changed after it was hashed: the item fails with EVIDENCE_SOURCE_CHANGED, audited", async function () {
    // GB is down, so the manifest waits in US's outbox while the file changes.
    await gb.stop();
    writeFileSync(join(outgoing, "changing.log"), plaintextOf(3 * TEST_CHUNK, "before"));
    const answer = await send({ completes: "partially-executed", chunkSize: TEST_CHUNK, items: [item("changing.log")] });
    expect(answer.status, answer.text).to.equal(201);
    appendFileSync(join(outgoing, "changing.log"), "one more line\n");
    gb = gatewayOf(network.gb);
    await gb.start();
    const itemId = (answer.json as { items: Array<{ itemId: string }> }).items[0]!.itemId;
    const failed = await waitFor("the item to fail", async () => {
      const pkg = (await listAt(network.us)).packages.find((p) => p.packageId === answer.json.packageId);
      return pkg?.state === "failed" ? pkg : undefined;
    }, 30_000);
    expect(failed.items[0]!.lastError).to.match(/^EVIDENCE_SOURCE_CHANGED/);
    expect((await entriesOfKind(us.context.store, "evidence.item.failed")).filter((e) => e.details["itemId"] === itemId).map((e) => e.details["code"])).to.deep.equal(["EVIDENCE_SOURCE_CHANGED"]);
    expect((await entriesOfKind(gb.context.store, "evidence.item.received")).filter((e) => e.details["itemId"] === itemId)).to.have.length(0);
  });
});
