/**
 * Documents both ways, between two running gateways: GB uploads a 50 MiB
 * signed letter (interrupted at half and resumed) and a translation through
 * its local API and sends a request carrying both; US reads both
 * byte-identical (reads audited); US requests more information and GB
 * answers with a document; every SHA-256 matches on both sides and in the
 * custody report. Bad uploads are refused with their codes and leave nothing.
 */
import http from "node:http";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../../gateway/gateway.js";
import { DEFAULT_UPLOAD_KEEP_HOURS, expireUploads } from "../../../gateway/attachments/upload.js";
import { example, localRequest, waitFor, type HttpAnswer, type TestNetwork, startNetwork, stopNetwork } from "../fixtures.js";
import { plaintextOf } from "../evidence/helpers.js";
import { responseChecker } from "../http/openapi-responses.js";

const contract = responseChecker();

const MiB = 1024 * 1024;

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** PUTs `bytes` as [start, start + bytes.length) of an upload of `total`; `cutAfter` sends that many bytes, then drops the connection. */
function putPart(port: number, token: string, uploadId: string, start: number, bytes: Buffer, total: number, cutAfter?: number): Promise<HttpAnswer | "cut"> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "PUT",
        path: `/api/v1/uploads/${uploadId}`,
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/octet-stream",
          "content-length": String(bytes.length),
          "content-range": `bytes ${start}-${start + bytes.length - 1}/${total}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: text === "" ? undefined : JSON.parse(text) });
        });
      },
    );
    req.on("error", (error) => (cutAfter === undefined ? reject(error) : resolve("cut")));
    if (cutAfter === undefined) {
      req.end(bytes);
      return;
    }
    req.write(bytes.subarray(0, cutAfter), () => setImmediate(() => req.destroy()));
  });
}

/** GETs raw bytes. */
function getBytes(port: number, token: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

describe("documents both ways: uploads, attachments on requests and steps", function () {
  this.timeout(300_000);
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  const letter = plaintextOf(50 * MiB, "signed letter of request");
  const translation = plaintextOf(300 * 1024 + 17, "translation");
  const answer = plaintextOf(2 * MiB + 5, "answer to questions");
  let caseId: string;

  before(async function () {
    ({ network, gb, us } = await startNetwork());
  });

  after(() => stopNetwork({ network, gb, us }));

  async function upload(port: number, token: string, name: string, mediaType: string, bytes: Buffer, options: { interrupt?: boolean } = {}): Promise<string> {
    const created = await localRequest(port, "POST", "/api/v1/uploads", { token, body: { name, mediaType, size: bytes.length, sha256: sha256(bytes) } });
    expect(created.status, created.text).to.equal(201);
    contract.check("POST", "/api/v1/uploads", 201, created.json);
    const { uploadId } = created.json;
    let offset = 0;
    if (options.interrupt === true) {
      const half = Math.floor(bytes.length / 2);
      expect(await putPart(port, token, uploadId, 0, bytes, bytes.length, half)).to.equal("cut");
      // The gateway keeps what arrived; HEAD says where to resume.
      const head = await waitFor("the interrupted part to be recorded", async () => {
        const answer = await localRequest(port, "HEAD", `/api/v1/uploads/${uploadId}`, { token });
        return Number(answer.headers["upload-offset"]) > 0 ? answer : undefined;
      });
      offset = Number(head.headers["upload-offset"]);
      expect(offset).to.be.greaterThan(0).and.at.most(half);
      expect(head.headers["valise-upload-state"]).to.equal("receiving");
      // A part that does not start there is refused with the offset.
      const wrong = await putPart(port, token, uploadId, 0, bytes.subarray(0, 10), bytes.length);
      expect(wrong).to.not.equal("cut");
      expect((wrong as HttpAnswer).status).to.equal(409);
      expect((wrong as HttpAnswer).json.error.code).to.equal("EVIDENCE_RANGE_MISMATCH");
      expect(Number((wrong as HttpAnswer).headers["upload-offset"])).to.equal(offset);
    }
    const rest = await putPart(port, token, uploadId, offset, bytes.subarray(offset), bytes.length);
    expect(rest).to.not.equal("cut");
    expect((rest as HttpAnswer).status, (rest as HttpAnswer).text).to.equal(200);
    expect((rest as HttpAnswer).json).to.include({ state: "complete", sha256: sha256(bytes), received: bytes.length });
    contract.check("PUT", "/api/v1/uploads/{uploadId}", 200, (rest as HttpAnswer).json);
    return uploadId;
  }

  it("refuses a document naming an upload that is not complete, then sends the request once the letter (resumed after a cut at half) and its translation are in", async function () {
    const token = network.gb.tokens.caseworker;
    const letterId = await upload(network.gb.localPort, token, "letter-of-request-signed.pdf", "application/pdf", letter, { interrupt: true });
    const pending = await localRequest(network.gb.localPort, "POST", "/api/v1/uploads", { token, body: { name: "translation-es.pdf", mediaType: "application/pdf", size: translation.length } });
    const request = { ...example("mla-request", "valid-email-records"), reference: "GB/ATT/1" };
    const early = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", {
      token,
      body: { ...request, attachments: [{ uploadId: letterId, role: "letter-of-request", description: "The signed letter of request." }, { uploadId: pending.json.uploadId, role: "translation", description: "Spanish translation." }] },
    });
    expect(early.status, early.text).to.equal(409);
    expect(early.json.error.code).to.equal("ATTACHMENT_NOT_READY");
    contract.check("POST", "/api/v1/requests", 409, early.json);
    const mismatch = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", {
      token,
      body: { ...request, attachments: [{ uploadId: letterId, role: "letter-of-request", description: "The signed letter of request.", sha256: "0".repeat(64) }] },
    });
    expect(mismatch.status).to.equal(422);
    expect(mismatch.json.error.code).to.equal("ATTACHMENT_MISMATCH");
    const otherToken = await network.gb.createToken("caseworker", "other-system");
    const foreign = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", {
      token: otherToken.token,
      body: { ...request, attachments: [{ uploadId: letterId, role: "letter-of-request", description: "Not yours." }] },
    });
    expect(foreign.status).to.equal(404);
    expect(foreign.json.error.code).to.equal("UPLOAD_UNKNOWN");
    expect((await localRequest(network.gb.localPort, "GET", "/api/v1/cases", { token })).json.cases).to.deep.equal([]);

    const translationId = await upload(network.gb.localPort, token, "translation-es.pdf", "application/pdf", translation);
    const sent = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", {
      token,
      body: {
        ...request,
        attachments: [
          { uploadId: letterId, role: "letter-of-request", description: "The signed letter of request.", sha256: sha256(letter) },
          { uploadId: translationId, role: "translation", language: "es", description: "Spanish translation of the letter." },
        ],
      },
    });
    expect(sent.status, sent.text).to.equal(201);
    contract.check("POST", "/api/v1/requests", 201, sent.json);
    caseId = sent.json.caseId;
    const again = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", {
      token,
      body: { ...request, attachments: [{ uploadId: letterId, role: "letter-of-request", description: "Again." }] },
    });
    expect(again.json.error.code).to.equal("ATTACHMENT_ALREADY_USED");
  });

  it("US receives both attachments, verified; reads them byte-identical, each read audited; the feed said attachment.received", async function () {
    const token = network.us.tokens.caseworker;
    const listed = await waitFor(
      "both attachments received at US",
      async () => {
        const answer = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}/attachments`, { token });
        if (answer.status !== 200) return undefined;
        return answer.json.attachments.length === 2 && answer.json.attachments.every((a: { state: string }) => a.state === "received") ? answer.json : undefined;
      },
      120_000,
      200,
    );
    contract.check("GET", "/api/v1/cases/{caseId}/attachments", 200, listed);
    expect(listed.attachments.map((a: { name: string; role: string; sha256: string; direction: string }) => [a.name, a.role, a.sha256, a.direction])).to.deep.equal([
      ["letter-of-request-signed.pdf", "letter-of-request", sha256(letter), "inbound"],
      ["translation-es.pdf", "translation", sha256(translation), "inbound"],
    ]);
    for (const [item, bytes] of [[listed.attachments[0], letter], [listed.attachments[1], translation]] as const) {
      const read = await getBytes(network.us.localPort, token, `/api/v1/cases/${caseId}/attachments/${item.itemId}`);
      expect(read.status).to.equal(200);
      expect(sha256(read.body)).to.equal(sha256(bytes));
      expect(read.body.equals(bytes)).to.equal(true);
    }
    const audit = await localRequest(network.us.localPort, "GET", `/api/v1/audit/custody/${caseId}`, { token: network.us.tokens.auditor });
    const reads = audit.json.events.filter((e: { kind: string; details: { what?: string } }) => e.kind === "access.read" && e.details.what === "attachment");
    expect(reads.map((e: { details: { sha256: string } }) => e.details.sha256)).to.deep.equal([sha256(letter), sha256(translation)]);
    const received = audit.json.events.filter((e: { kind: string }) => e.kind === "evidence.item.received");
    expect(received.map((e: { details: { sha256: string } }) => e.details.sha256).sort()).to.deep.equal([sha256(letter), sha256(translation)].sort());
    // The document lists them with their digests, never their keys.
    const caseView = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}`, { token });
    const requestEnvelope = caseView.json.envelopes[0].envelopeId;
    const document = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}/documents/${requestEnvelope}`, { token });
    const sealedEntries = document.json.attachments.filter((a: { encryption?: unknown }) => a.encryption !== undefined);
    expect(sealedEntries.map((a: { sha256: string }) => a.sha256)).to.deep.equal([sha256(letter), sha256(translation)]);
    for (const entry of sealedEntries) expect(entry.encryption).to.include({ key: "(withheld)", noncePrefix: "(withheld)" });
    const feed = await localRequest(network.us.localPort, "GET", `/api/v1/events?kind=attachment.received&caseId=${caseId}`, { token });
    expect(feed.json.events.map((e: { data: { sha256: string } }) => e.data.sha256).sort()).to.deep.equal([sha256(letter), sha256(translation)].sort());
    // GB holds US's signed item receipts, and its custody report names the same digests.
    const gbCustody = await waitFor("GB's item receipts", async () => {
      const report = await localRequest(network.gb.localPort, "GET", `/api/v1/audit/custody/${caseId}`, { token: network.gb.tokens.auditor });
      return report.json.events.filter((e: { kind: string }) => e.kind === "evidence.receipt.received").length === 2 ? report.json : undefined;
    });
    const gbSent = gbCustody.events.find((e: { kind: string }) => e.kind === "attachments.sent");
    expect(gbSent.details.items.map((i: { sha256: string }) => i.sha256)).to.deep.equal([sha256(letter), sha256(translation)]);
  });

  it("US requests more information; GB answers with a document; US reads it byte-identical", async function () {
    const usToken = network.us.tokens.caseworker;
    const gbToken = network.gb.tokens.caseworker;
    for (const body of [{ step: "acknowledge" }, { step: "request-more-info", questions: ["Please send the production order for the second account."] }]) {
      const step = await localRequest(network.us.localPort, "POST", `/api/v1/cases/${caseId}/status`, { token: usToken, body });
      expect(step.status, step.text).to.equal(201);
    }
    await waitFor("GB to see more-info-requested", async () => {
      const detail = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}`, { token: gbToken });
      return detail.json.status === "more-info-requested" ? true : undefined;
    });
    const answerId = await upload(network.gb.localPort, gbToken, "production-order.pdf", "application/pdf", answer);
    const step = await localRequest(network.gb.localPort, "POST", `/api/v1/cases/${caseId}/status`, {
      token: gbToken,
      body: { step: "provide-more-info", answers: ["The production order is attached."], attachments: [{ uploadId: answerId, role: "court-order", description: "Production order of 3 March." }] },
    });
    expect(step.status, step.text).to.equal(201);
    const item = await waitFor(
      "the answer's attachment at US",
      async () => {
        const listed = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}/attachments`, { token: usToken });
        return listed.json.attachments?.find((a: { name: string; state: string }) => a.name === "production-order.pdf" && a.state === "received");
      },
      60_000,
      100,
    );
    expect(item).to.include({ role: "court-order", sha256: sha256(answer), envelopeId: step.json.envelopeId });
    // The list pages: three attachments, two a page, each once.
    const first = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}/attachments?limit=2`, { token: usToken });
    expect(first.json.attachments).to.have.length(2);
    const second = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}/attachments?limit=2&cursor=${first.json.next}`, { token: usToken });
    expect(second.json.attachments.map((a: { itemId: string }) => a.itemId)).to.deep.equal([item.itemId]);
    expect(second.json.next).to.equal(null);
    const evidence = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}/evidence?limit=1&cursor=${first.json.next}`, { token: usToken });
    expect(evidence.json.error.code).to.equal("CURSOR_LIST_MISMATCH");
    const noEvidence = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}/evidence?limit=1`, { token: usToken });
    expect(noEvidence.json).to.deep.include({ packages: [], next: null });
    const read = await getBytes(network.us.localPort, usToken, `/api/v1/cases/${caseId}/attachments/${item.itemId}`);
    expect(read.body.equals(answer)).to.equal(true);
  });

  it("refuses an oversized upload, an unknown media type, a wrong digest and a wrong Content-Range, leaving nothing behind", async function () {
    const token = network.gb.tokens.caseworker;
    const uploadsDir = join(network.gb.home, "evidence", "uploads");
    const before = readdirSync(uploadsDir).length;
    const big = await localRequest(network.gb.localPort, "POST", "/api/v1/uploads", { token, body: { name: "huge.pdf", mediaType: "application/pdf", size: 3 * 1024 * 1024 * 1024 } });
    expect(big.status).to.equal(413);
    expect(big.json.error.code).to.equal("UPLOAD_TOO_LARGE");
    contract.check("POST", "/api/v1/uploads", 413, big.json);
    const exe = await localRequest(network.gb.localPort, "POST", "/api/v1/uploads", { token, body: { name: "tool.exe", mediaType: "application/x-msdownload", size: 10 } });
    expect(exe.status).to.equal(415);
    expect(exe.json.error.code).to.equal("UPLOAD_MEDIA_TYPE_NOT_ALLOWED");
    expect(readdirSync(uploadsDir).length).to.equal(before);

    const bytes = plaintextOf(1000, "small");
    const declared = await localRequest(network.gb.localPort, "POST", "/api/v1/uploads", { token, body: { name: "note.txt", mediaType: "text/plain", size: 1000, sha256: "1".repeat(64) } });
    const overlong = await putPart(network.gb.localPort, token, declared.json.uploadId, 0, Buffer.concat([bytes, bytes]), 2000);
    expect((overlong as HttpAnswer).json.error.code).to.equal("EVIDENCE_RANGE_INVALID");
    const wrong = await putPart(network.gb.localPort, token, declared.json.uploadId, 0, bytes, 1000);
    expect((wrong as HttpAnswer).status).to.equal(422);
    expect((wrong as HttpAnswer).json.error.code).to.equal("UPLOAD_DIGEST_MISMATCH");
    const gone = await localRequest(network.gb.localPort, "GET", `/api/v1/uploads/${declared.json.uploadId}`, { token });
    expect(gone.json.error.code).to.equal("UPLOAD_UNKNOWN");
    expect(readdirSync(uploadsDir).length).to.equal(before);
  });

  it("lists the caller's own uploads, newest first, a page at a time; another system's token sees none of them", async function () {
    const token = network.gb.tokens.caseworker;
    const opened: string[] = [];
    for (const name of ["a.txt", "b.txt", "c.txt"]) {
      const created = await localRequest(network.gb.localPort, "POST", "/api/v1/uploads", { token, body: { name, mediaType: "text/plain", size: 3 } });
      opened.push(created.json.uploadId as string);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: HttpAnswer = await localRequest(network.gb.localPort, "GET", `/api/v1/uploads?limit=2${cursor === null ? "" : `&cursor=${cursor}`}`, { token });
      expect(page.status, page.text).to.equal(200);
      contract.check("GET", "/api/v1/uploads", 200, page.json);
      expect(page.json.uploads.length).to.be.at.most(2);
      seen.push(...(page.json.uploads as Array<{ uploadId: string }>).map((u) => u.uploadId));
      cursor = page.json.next as string | null;
      pages += 1;
    } while (cursor !== null && pages < 50);
    expect(new Set(seen).size, "no upload twice").to.equal(seen.length);
    expect(seen).to.include.members(opened);
    const created = await Promise.all(seen.map(async (id) => (await localRequest(network.gb.localPort, "GET", `/api/v1/uploads/${id}`, { token })).json.createdAt as string));
    expect([...created].sort().reverse()).to.deep.equal(created); // newest first

    const other = await network.gb.createToken("caseworker", "another case system");
    const theirs = await localRequest(network.gb.localPort, "GET", "/api/v1/uploads", { token: other.token });
    expect(theirs.json).to.deep.equal({ uploads: [], next: null });
    const bad = await localRequest(network.gb.localPort, "GET", "/api/v1/uploads?cursor=forged.cursor", { token });
    expect(bad.status).to.equal(400);
    expect(bad.json.error.code).to.equal("CURSOR_INVALID");
  });

  it("deletes an upload no document named within uploads.keepHours (row and bytes) and a stray file; attached uploads stay", async function () {
    const token = network.gb.tokens.caseworker;
    const uploadsDir = join(network.gb.home, "evidence", "uploads");
    const bytes = plaintextOf(4096, "forgotten draft");
    const forgotten = await upload(network.gb.localPort, token, "draft.txt", "text/plain", bytes);
    const opened = await localRequest(network.gb.localPort, "POST", "/api/v1/uploads", { token, body: { name: "half.txt", mediaType: "text/plain", size: 10 } });
    const half = opened.json.uploadId as string;
    const shown = await localRequest(network.gb.localPort, "GET", `/api/v1/uploads/${forgotten}`, { token });
    contract.check("GET", "/api/v1/uploads/{uploadId}", 200, shown.json);
    expect(Date.parse(shown.json.expiresAt) - Date.parse(shown.json.createdAt)).to.equal(DEFAULT_UPLOAD_KEEP_HOURS * 3_600_000);
    const stray = join(uploadsDir, "0f0e0d0c-0b0a-4909-8807-060504030201");
    writeFileSync(stray, "left by a crash between row and file");
    const attached = (await gb.context.store.inspect<{ upload_id: string }>("SELECT upload_id FROM uploads WHERE state = 'attached'")).map((r) => r.upload_id);
    expect(attached.length).to.be.greaterThan(0); // the letter and translation of the request sent above

    // Not yet: a day later everything is still there.
    const ctx = gb.context;
    const later = (hours: number): typeof ctx => ({ ...ctx, now: () => new Date(Date.now() + hours * 3_600_000) });
    expect(await expireUploads(later(24))).to.deep.equal({ uploads: 0, strayFiles: 0, more: false });
    // A week and an hour later: the unattached uploads go, the stray file (once old) too; the attached stay.
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(stray, old, old);
    const unattached = (await gb.context.store.inspect<{ upload_id: string }>("SELECT upload_id FROM uploads WHERE state <> 'attached'")).map((r) => r.upload_id);
    expect(unattached).to.include.members([forgotten, half]); // and any an earlier test left unfinished
    expect(await expireUploads(later(DEFAULT_UPLOAD_KEEP_HOURS + 1))).to.deep.equal({ uploads: unattached.length, strayFiles: 1, more: false });
    for (const id of unattached) {
      expect((await localRequest(network.gb.localPort, "GET", `/api/v1/uploads/${id}`, { token })).json.error.code).to.equal("UPLOAD_UNKNOWN");
      expect(existsSync(join(uploadsDir, id))).to.equal(false);
    }
    expect(existsSync(stray)).to.equal(false);
    for (const id of attached) expect(existsSync(join(uploadsDir, id)), `attached upload ${id}`).to.equal(true);
    const kept = await gb.context.store.inspect<{ n: number }>("SELECT COUNT(*) AS n FROM uploads WHERE state = 'attached'");
    expect(Number(kept[0]!.n)).to.equal(attached.length);
  });
});
