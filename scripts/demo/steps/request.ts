/**
 * The exchange itself: GB's case-management system submits the example MLA
 * request through GB's local API; it travels sealed to US; GB gets a signed
 * receipt, which the demo verifies itself; a US caseworker reads it.
 */
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { verifyReceipt } from "../../../gateway/envelope/receipt.js";
import { homePaths } from "../../../gateway/home.js";
import { loadPeerTrust } from "../../../pki/peers.js";
import { isValiseError } from "../../../pki/errors.js";
import { expectThat } from "../check.js";
import { pollUntil } from "../local-api-client.js";
import { apiOf, tokenOf, type DemoAuthority, type DemoExchange, type DemoState, type DemoStep } from "../scenario.js";
import { runValise } from "../valise-cli.js";
import { requestMeetingUsRequirements } from "./requirements.js";

/** The example request: GB-UKCA asks US-DOJ-OIA for a suspect's email records. */
export const EXAMPLE_REQUEST = new URL("../../../schemas/examples/mla-request/valid-email-records.json", import.meta.url);

interface CaseView {
  caseId: string;
  direction: string;
  peer: string;
  status: string;
  envelopes: Array<{ envelopeId: string; envelopeDigest: string; receipt: string | null; delivery?: { state: string; attempts: number; lastError: string | null } }>;
  events: Array<{ index: number; kind: string; actor: string; time: string; details: Record<string, unknown> }>;
}

function exchangeOf(state: DemoState): NonNullable<DemoState["exchange"]> {
  expectThat(state.exchange !== undefined, "no request was submitted");
  return state.exchange;
}

async function caseAt(authority: DemoAuthority, caseId: string): Promise<CaseView | undefined> {
  const answer = await apiOf(authority).get(`/api/v1/cases/${caseId}`, tokenOf(authority, "caseworker"));
  return answer.status === 200 ? (answer.body as CaseView) : undefined;
}

/** The fingerprint of the authority's current `sign` certificate, as `valise pki list` shows it. */
async function currentSignFingerprint(authority: DemoAuthority): Promise<string | undefined> {
  const listed = await runValise(["pki", "list", "--home", authority.home, "--json"], {});
  const rows = (listed.json as { certificates?: Array<{ use: string; status: string; fingerprint: string }> } | undefined)?.certificates ?? [];
  return rows.find((row) => row.use === "sign" && row.status === "current")?.fingerprint;
}

function decodeJwsPart(part: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

/** GB submits the example request. */
export const submitRequest: DemoStep = {
  title: "GB's case-management system submits an MLA request (POST /api/v1/requests)",
  async run(state, report) {
    // The example request, its content period narrowed to the 90 days US's requirements grant (steps/requirements.ts).
    const example = requestMeetingUsRequirements();
    // The example's deadline is a date of its story; the demo's caseworker needs the data 60 days from today.
    const dueBy = new Date(Date.now() + 60 * 24 * 3600 * 1000);
    dueBy.setUTCHours(17, 0, 0, 0);
    const due = dueBy.toISOString().replace(/\.000Z$/, "Z");
    const document: Record<string, unknown> = { ...example, deadline: { ...(example["deadline"] as Record<string, unknown>), dueBy: due } };
    const offence = document["offence"] as { description?: string } | undefined;
    const assistance = (document["assistance"] as Array<{ type: string }> | undefined) ?? [];
    const legalBasis = (document["legalBasis"] as Array<{ instrumentCode?: string; article?: string }> | undefined) ?? [];
    report.say(`Request ${String(document["reference"])} from ${String(document["requestingAuthority"])} to ${String(document["requestedAuthority"])}:`);
    report.fact("instrument", `${String(document["instrument"])} (${legalBasis.map((b) => `${b.instrumentCode ?? "?"} ${b.article ?? ""}`.trim()).join("; ")}), form version ${String(document["schemaVersion"])}`);
    report.fact("offence", offence?.description ?? "?");
    report.fact("asks for", assistance.map((item) => item.type).join(", "));
    report.fact("needed by", `${due} (the case's clocks count to it at the latest)`);
    const letter = await uploadSignedLetter(state, report);
    const submitted = {
      ...document,
      attachments: [...((document["attachments"] as unknown[] | undefined) ?? []), { uploadId: letter.uploadId, role: "letter-of-request", description: "The letter of request, signed by the issuing judge." }],
    };
    const answer = await apiOf(state.gb).post("/api/v1/requests", tokenOf(state.gb, "caseworker"), submitted);
    const body = answer.body as { caseId?: string; envelopeId?: string; envelopeDigest?: string; status?: string };
    expectThat(answer.status === 201 && typeof body.caseId === "string" && typeof body.envelopeId === "string" && typeof body.envelopeDigest === "string", `the submission answered ${answer.status}`, [JSON.stringify(answer.body)]);
    // The document as it travels: GB's own copy (the attachment listed with its digest; item keys withheld from readers).
    const sealed = await apiOf(state.gb).get(`/api/v1/cases/${body.caseId}/documents/${body.envelopeId}`, tokenOf(state.gb, "caseworker"));
    expectThat(sealed.status === 200, `GB could not read its own document back (${sealed.status})`, [JSON.stringify(sealed.body)]);
    state.exchange = { caseId: body.caseId, envelopeId: body.envelopeId, envelopeDigest: body.envelopeDigest, document: sealed.body as Record<string, unknown>, letter };
    report.ok(`201: validated against the shared schema and US's requirements (version 1), signed, encrypted to US, signed again, and committed with its audit entry`);
    report.fact("case id", body.caseId);
    report.fact("envelope id", body.envelopeId);
    report.fact("envelope digest", `${body.envelopeDigest}  (SHA-256 of the outer JWS; what logs and receipts name)`);
  },
};

/** A small signed letter of request (a real PDF, one page of text). */
function signedLetterPdf(reference: string): Buffer {
  const text = `Letter of request ${reference} - signed: HHJ A. Example, Southwark Crown Court`;
  const stream = `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let pdf = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")}`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, "latin1");
}

/** GB's case system uploads the signed letter through the local API, in two parts (as after a cut connection). */
async function uploadSignedLetter(state: DemoState, report: Parameters<DemoStep["run"]>[1]): Promise<NonNullable<DemoExchange["letter"]>> {
  const bytes = signedLetterPdf("GB/NCA/2026/00417");
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const name = "letter-of-request-signed.pdf";
  const token = tokenOf(state.gb, "caseworker");
  const created = await apiOf(state.gb).post("/api/v1/uploads", token, { name, mediaType: "application/pdf", size: bytes.length, sha256 });
  const uploadId = (created.body as { uploadId?: string }).uploadId;
  expectThat(created.status === 201 && typeof uploadId === "string", `opening the upload answered ${created.status}`, [JSON.stringify(created.body)]);
  const half = Math.floor(bytes.length / 2);
  for (const [start, end] of [[0, half], [half, bytes.length]] as const) {
    const part = await apiOf(state.gb).putBytes(`/api/v1/uploads/${uploadId}`, token, bytes.subarray(start, end), { "content-range": `bytes ${start}-${end - 1}/${bytes.length}` });
    expectThat(part.status === 200, `uploading bytes ${start}-${end - 1} answered ${part.status}`, [JSON.stringify(part.body)]);
  }
  report.ok(`uploaded the signed letter (${name}, ${bytes.length} bytes, in two resumable parts): SHA-256 ${sha256}`);
  return { uploadId, name, size: bytes.length, sha256 };
}

/** The envelope arrives at US and the receipt comes back to GB. */
export const deliverRequest: DemoStep = {
  title: "The envelope travels over mutual TLS and arrives at US",
  async run(state, report) {
    const exchange = exchangeOf(state);
    const { gb, us } = state;
    const atGb = await pollUntil(async () => {
      const view = await caseAt(gb, exchange.caseId);
      const delivery = view?.envelopes[0]?.delivery;
      expectThat(delivery?.state !== "failed", "GB gave up delivering the envelope", [JSON.stringify(delivery)]);
      return delivery?.state === "delivered" ? view : undefined;
    });
    expectThat(atGb !== undefined, "GB's outbox did not deliver the envelope within 10 s", gb.gateway?.logTail() ?? []);
    const sent = atGb.envelopes[0];
    expectThat(sent !== undefined && sent.receipt !== null, "GB's delivered envelope has no receipt");
    exchange.receipt = sent.receipt;
    report.ok(`GB's delivery worker delivered it (attempt ${sent.delivery?.attempts ?? "?"}) and stored US's receipt; GB's case is now "${atGb.status}"`);

    const atUs = await pollUntil(() => caseAt(us, exchange.caseId), 50);
    expectThat(atUs !== undefined, "the case is not visible at US", us.gateway?.logTail() ?? []);
    const received = atUs.envelopes[0];
    expectThat(atUs.direction === "inbound" && atUs.peer === gb.id, `US's case is ${atUs.direction} with ${atUs.peer}`);
    expectThat(received?.envelopeId === exchange.envelopeId && received.envelopeDigest === exchange.envelopeDigest, "US stored another envelope or other bytes than GB sent", [JSON.stringify(received)]);
    report.ok(`US opened it (signature, certificate chain, CRL, decryption, schema) and opened case ${atUs.caseId}, status "${atUs.status}"`);
    report.ok(`the envelope digest is the same on both sides: ${received.envelopeDigest}`);

    const entry = atUs.events.find((event) => event.kind === "envelope.received");
    const signer = entry?.details["signer"];
    expectThat(typeof signer === "string", "US's audit entry does not name the signer");
    const gbSign = await currentSignFingerprint(gb);
    expectThat(signer === gbSign, `US says the signer is ${signer}, but GB's current sign certificate is ${String(gbSign)}`);
    report.say("Who signed it, as US established from the envelope itself:");
    report.fact("authority", gb.id);
    report.fact("certificate", `sha256 ${signer}`);
    report.fact("key id (kid)", String(entry?.details["signerKid"]));
    report.ok("that is the current sign certificate listed by GB's own `valise pki list`");
  },
};

/** GB's receipt, decoded and verified independently of the gateways. */
export const verifyDeliveryReceipt: DemoStep = {
  title: "GB holds US's signed receipt; the demo verifies it independently",
  async run(state, report) {
    const exchange = exchangeOf(state);
    const receipt = exchange.receipt;
    expectThat(receipt !== undefined, "there is no receipt to verify");
    const [header, payload] = receipt.split(".");
    const protectedHeader = decodeJwsPart(header);
    const claims = decodeJwsPart(payload);
    report.say(`The receipt is a compact JWS (${receipt.length} bytes) signed by US. Decoded:`);
    report.fact("alg, typ", `${String(protectedHeader["alg"])}, ${String(protectedHeader["typ"])}`);
    for (const field of ["envelopeId", "envelopeDigest", "from", "to", "receivedAt"]) report.fact(field, String(claims[field]));
    report.fact("requirements", JSON.stringify(claims["requirements"]));
    const requirements = claims["requirements"] as { version?: unknown; compliant?: unknown } | undefined;
    expectThat(requirements?.version === 1 && requirements.compliant === true, "US's receipt does not say the request meets version 1 of its requirements", [JSON.stringify(claims)]);
    report.ok("US re-checked the request against version 1 of its requirements: it complies, so US's completion clock runs from receivedAt");

    const peersDir = homePaths(state.gb.home).peers;
    const trustFor = (authority: string) => (authority === state.us.id ? loadPeerTrust(peersDir, authority) : undefined);
    const expected = { envelopeId: exchange.envelopeId, envelopeDigest: exchange.envelopeDigest, from: state.gb.id, to: state.us.id };
    const verified = await verifyReceipt(receipt, { expected, trustFor, now: new Date() });
    const usSign = await currentSignFingerprint(state.us);
    expectThat(verified.signer.authority === state.us.id && verified.signer.fingerprint === usSign, "the receipt was signed by another certificate than US's current sign certificate");
    report.ok(`verified with verifyReceipt against US's root pinned in ${peersDir}:`);
    report.say("  it names exactly this envelope and these bytes, and is signed by US's sign certificate,");
    report.say(`  sha256 ${verified.signer.fingerprint}, chained to US's pinned root and not revoked.`);

    let mismatch: string | undefined;
    try {
      await verifyReceipt(receipt, { expected: { ...expected, envelopeDigest: "0".repeat(64) }, trustFor, now: new Date() });
    } catch (error) {
      mismatch = isValiseError(error) ? error.code : String(error);
    }
    expectThat(mismatch === "RECEIPT_MISMATCH", `a receipt checked against other bytes was not refused (${String(mismatch)})`);
    report.ok("the same receipt does not vouch for other bytes: checked against another digest it fails with RECEIPT_MISMATCH");
  },
};

/** A US caseworker reads the request; the read is logged. */
export const readAtUs: DemoStep = {
  title: "A US caseworker reads the request (the read is written to the audit log first)",
  async run(state, report) {
    const exchange = exchangeOf(state);
    const { us } = state;
    const path = `/api/v1/cases/${exchange.caseId}/documents/${exchange.envelopeId}`;
    report.block([`GET ${path}`]);
    const answer = await apiOf(us).get(path, tokenOf(us, "caseworker"));
    expectThat(answer.status === 200, `reading the document answered ${answer.status}`, [JSON.stringify(answer.body)]);
    expectThat(isDeepStrictEqual(answer.body, exchange.document), "the document US reads is not the one GB submitted");
    const document = answer.body as Record<string, unknown>;
    report.ok(`US reads request ${String(document["reference"])}, exactly as GB submitted it (${JSON.stringify(document).length} bytes of JSON)`);
    const view = await caseAt(us, exchange.caseId);
    const access = view?.events.find((event) => event.kind === "access.read");
    expectThat(access !== undefined, "the read left no access entry in US's audit log");
    report.ok(`US's audit log, entry #${access.index}: ${access.kind} by ${access.actor} at ${access.time}`);
  },
};

/** The signed letter follows the request, sealed, and US reads it byte-identical. */
export const receiveSignedLetter: DemoStep = {
  title: "The signed letter of request arrives at US, verified, and is read (audited)",
  async run(state, report) {
    const exchange = exchangeOf(state);
    const letter = exchange.letter;
    expectThat(letter !== undefined, "no letter was attached");
    const { us } = state;
    const token = tokenOf(us, "caseworker");
    type Listed = { attachments: Array<{ itemId: string; name: string; role: string; size: number; sha256: string; state: string; receipt: string | null }> };
    const listed = await pollUntil(async () => {
      const answer = await apiOf(us).get(`/api/v1/cases/${exchange.caseId}/attachments`, token);
      const item = answer.status === 200 ? (answer.body as Listed).attachments.find((a) => a.itemId === letter.uploadId) : undefined;
      return item?.state === "received" ? item : undefined;
    }, 200);
    expectThat(listed !== undefined, "the signed letter did not arrive at US within 20 s", us.gateway?.logTail() ?? []);
    expectThat(listed.sha256 === letter.sha256 && listed.size === letter.size && listed.role === "letter-of-request", "US lists another file than GB attached", [JSON.stringify(listed)]);
    report.ok(`US received ${listed.name} (${listed.size} bytes): every chunk authenticated, SHA-256 checked against the signed request; US signed an item receipt`);
    const read = await apiOf(us).getBytes(`/api/v1/cases/${exchange.caseId}/attachments/${listed.itemId}`, token);
    const digest = createHash("sha256").update(read.bytes).digest("hex");
    expectThat(read.status === 200 && digest === letter.sha256, `reading the letter answered ${read.status}, SHA-256 ${digest}`);
    report.ok(`a US caseworker reads it: byte-identical to what GB uploaded (SHA-256 ${digest}); the read is in US's audit log`);
    const feed = await apiOf(us).get(`/api/v1/events?kind=attachment.received&caseId=${exchange.caseId}`, token);
    const events = (feed.body as { events?: Array<{ eventId: string; data: { sha256?: string } }> }).events ?? [];
    expectThat(events.some((e) => e.data.sha256 === letter.sha256), "US's event feed does not report the arrival", [JSON.stringify(feed.body)]);
    report.ok(`US's event feed reported it to its case system: attachment.received (event ${events[0]?.eventId})`);
  },
};
