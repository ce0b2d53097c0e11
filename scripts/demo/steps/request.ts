/**
 * The exchange itself: GB's case-management system submits the example MLA
 * request through GB's local API; it travels sealed to US; GB gets a signed
 * receipt, which the demo verifies itself; a US caseworker reads it.
 */
import { isDeepStrictEqual } from "node:util";
import { verifyReceipt } from "../../../gateway/envelope/receipt.js";
import { homePaths } from "../../../gateway/home.js";
import { loadPeerTrust } from "../../../pki/peers.js";
import { isValiseError } from "../../../pki/errors.js";
import { expectThat } from "../check.js";
import { pollUntil } from "../local-api-client.js";
import { apiOf, tokenOf, type DemoAuthority, type DemoState, type DemoStep } from "../scenario.js";
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
    const answer = await apiOf(state.gb).post("/api/v1/requests", tokenOf(state.gb, "caseworker"), document);
    const body = answer.body as { caseId?: string; envelopeId?: string; envelopeDigest?: string; status?: string };
    expectThat(answer.status === 201 && typeof body.caseId === "string" && typeof body.envelopeId === "string" && typeof body.envelopeDigest === "string", `the submission answered ${answer.status}`, [JSON.stringify(answer.body)]);
    state.exchange = { caseId: body.caseId, envelopeId: body.envelopeId, envelopeDigest: body.envelopeDigest, document };
    report.ok(`201: validated against the shared schema and US's requirements (version 1), signed, encrypted to US, signed again, and committed with its audit entry`);
    report.fact("case id", body.caseId);
    report.fact("envelope id", body.envelopeId);
    report.fact("envelope digest", `${body.envelopeDigest}  (SHA-256 of the outer JWS; what logs and receipts name)`);
  },
};

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
