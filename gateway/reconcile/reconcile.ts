/**
 * Reconciliation with a peer after a restore (`valise peers reconcile PEER`,
 * and once by itself when a restored gateway runs): the two sides compare
 * what they hold about their exchanges, over the peer API, and the restored
 * side takes back what it lost from the peer's copy.
 *
 * - Envelopes the peer sent that this side lost: the peer still holds their
 *   sealed bytes; they are opened here with every check of a delivery
 *   (signatures, trust, recipient, TLS identity — they come over the peer's
 *   mutual-TLS connection —, document binding and schema; only their age is
 *   not held against them), stored, logged (`envelope.received`, with
 *   `reconciled`) and receipted again in the current epoch. The receipt the
 *   peer held from before the loss is listed in the report.
 * - Envelopes this side sent that it lost: the peer hands back the sealed
 *   bytes and the inner JWS (gateway/reconcile/inner-document.ts); both
 *   must carry this authority's own signatures. The peer's receipt, verified
 *   with its keys and log position, is the evidence that it was delivered;
 *   the envelope is stored as delivered (`envelope.recovered`), never sent
 *   again.
 * - Cases: a case missing here, or behind the peer's copy, is recreated from
 *   the peer's copy of its lifecycle (status, request, head, steps — which
 *   are the same for both sides), each step checked against the lifecycle
 *   table. A case whose envelopes could not all be recovered is left as it
 *   is and named in the report.
 *
 * Everything fetched from the peer is hostile and checked before the one
 * transaction per case that writes it; nothing is fetched inside a
 * transaction. The report is what the operator keeps; a `peers.reconciled`
 * audit entry records its counts and SHA-256.
 */
import { createHash } from "node:crypto";
import type { GatewayIdentity } from "../identity.js";
import type { PeerDirectory, Peer } from "../peers/directory.js";
import type { PeerClient } from "../delivery/peer-client.js";
import type { Store } from "../store/store.js";
import type { DocumentValidator } from "../../schemas/validate.js";
import type { ParsedCertificate } from "../../pki/certificate.js";
import type { CaseRow, StepRow } from "../store/repos/cases.js";
import type { EnvelopeRow } from "../store/repos/envelopes.js";
import { isValiseError } from "../../pki/errors.js";
import { GatewayError } from "../errors.js";
import { appendEntry, type AuditEntry } from "../audit/append.js";
import type { Checkpointer } from "../audit/checkpoints.js";
import { verifyLogPosition } from "../audit/checkpoints.js";
import { canonicalize } from "../envelope/canonical-json.js";
import { openEnvelope, type OpenedEnvelope } from "../envelope/open.js";
import { checkDocumentBinding, checkEnvelopeType } from "../envelope/document-binding.js";
import { signReceipt, verifyReceipt } from "../envelope/receipt.js";
import { storeInboundEnvelope } from "../exchange/store.js";
import { allowedSteps, isCaseStatus, isCaseStep, type CaseStatus } from "../cases/lifecycle.js";
import { exchangeInventory, type ExchangeInventory } from "./inventory.js";
import { verifyOwnEnvelope, type OwnEnvelope } from "./inner-document.js";

/** What reconciling needs (a running gateway's context has all of it; the CLI builds it). */
export interface ReconcileDeps {
  readonly store: Store;
  readonly authority: string;
  readonly identity: GatewayIdentity;
  /** This authority's `sign` certificates, current and previous (to recognise its own envelopes). */
  readonly signCertificates: readonly ParsedCertificate[];
  readonly peers: PeerDirectory;
  readonly client: PeerClient;
  readonly validator: DocumentValidator;
  readonly checkpoints: Checkpointer;
  readonly now: () => Date;
  readonly clockSkewMs: number;
}

/** An envelope the peer sent, taken back. */
export interface ReceivedAgain {
  readonly envelopeId: string;
  readonly caseId: string;
  readonly type: string;
  readonly envelopeDigest: string;
  /** The receipt this side had issued before the loss, as the peer kept it. */
  readonly previousReceipt: string | null;
}

/** An own envelope recovered, with the peer's receipt as evidence of its delivery. */
export interface Recovered {
  readonly envelopeId: string;
  readonly caseId: string;
  readonly type: string;
  readonly envelopeDigest: string;
  readonly receipt: { readonly receivedAt: string; readonly log: { readonly origin: string; readonly index: number; readonly checkpointSize: number } | null; readonly jws: string };
}

/** The reconciliation report (what the operator keeps). */
export interface ReconcileReport {
  readonly "valise-reconciliation": 1;
  readonly authority: string;
  readonly peer: string;
  readonly at: string;
  readonly receivedAgain: readonly ReceivedAgain[];
  readonly recovered: readonly Recovered[];
  readonly casesRecreated: readonly string[];
  readonly casesUpdated: readonly string[];
  /** Evidence packages whose manifests came back: their items must be sent again by the requested side. */
  readonly evidenceToResend: readonly string[];
  /** What could not be taken back, and why. */
  readonly unresolved: ReadonlyArray<{ readonly caseId: string; readonly envelopeId: string | null; readonly code: string; readonly reason: string }>;
  /** Envelopes this side holds that the peer does not (still to be delivered, or lost by the peer). */
  readonly onlyHere: ReadonlyArray<{ readonly envelopeId: string; readonly caseId: string; readonly direction: string; readonly type: string }>;
  /** After reconciling: both sides list the same cases with the same status. */
  readonly casesAgree: boolean;
  readonly differences: ReadonlyArray<{ readonly caseId: string; readonly here: string | null; readonly peer: string | null }>;
}

/** One envelope fetched and checked, ready to store. */
type Material =
  | { readonly kind: "inbound"; readonly row: EnvelopeRow; readonly opened: OpenedEnvelope; readonly wire: string; readonly previousReceipt: string | null }
  | { readonly kind: "own"; readonly row: EnvelopeRow; readonly own: OwnEnvelope; readonly wire: string; readonly receipt: Recovered["receipt"] };

/** Reconciles with `peerAuthority`; returns the report. Throws PEER_UNKNOWN, RECONCILE_REFUSED (the peer's inventory unreachable or malformed). */
export async function reconcileWithPeer(deps: ReconcileDeps, peerAuthority: string): Promise<ReconcileReport> {
  const peer = deps.peers.get(peerAuthority);
  const theirs = await fetchInventory(deps, peer);
  const mine = await deps.store.read((tx) => exchangeInventory(tx, deps.authority, peer.authority));
  const held = new Set(mine.envelopes.map((e) => e.envelope_id));
  const missing = theirs.envelopes.filter((e) => !held.has(e.envelope_id));
  const theirIds = new Set(theirs.envelopes.map((e) => e.envelope_id));

  const receivedAgain: ReceivedAgain[] = [];
  const recovered: Recovered[] = [];
  const casesRecreated: string[] = [];
  const casesUpdated: string[] = [];
  const evidenceToResend: string[] = [];
  const unresolved: Array<ReconcileReport["unresolved"][number]> = [];
  const toReceipt: Array<{ opened: OpenedEnvelope; entry: AuditEntry }> = [];

  const caseIds = [...new Set([...missing.map((e) => e.case_id), ...behindCases(mine, theirs)])];
  for (const caseId of caseIds) {
    const theirCase = theirs.cases.find((c) => c.case_id === caseId);
    if (theirCase === undefined) {
      unresolved.push({ caseId, envelopeId: null, code: "CASE_UNKNOWN", reason: "the peer lists envelopes of a case it does not list" });
      continue;
    }
    const materials: Material[] = [];
    let failure: { envelopeId: string; code: string; reason: string } | undefined;
    for (const row of missing.filter((e) => e.case_id === caseId)) {
      try {
        materials.push(await fetchMaterial(deps, peer, row));
      } catch (error) {
        failure = { envelopeId: row.envelope_id, code: isValiseError(error) ? error.code : "RECONCILE_REFUSED", reason: error instanceof Error ? error.message : String(error) };
        break;
      }
    }
    const steps = theirs.steps.filter((s) => s.case_id === caseId);
    const stepProblem = failure === undefined ? checkSteps(theirCase, steps) : undefined;
    if (failure !== undefined || stepProblem !== undefined) {
      unresolved.push({ caseId, envelopeId: failure?.envelopeId ?? null, code: failure?.code ?? "CASE_TRANSITION_INVALID", reason: failure?.reason ?? stepProblem! });
      continue;
    }
    const now = deps.now();
    let outcome: { created: boolean; entries: Array<{ opened: OpenedEnvelope; entry: AuditEntry }> };
    try {
      outcome = await deps.store.transaction(async (tx) => {
        const created = await tx.reconcile.insertCase(mirror(theirCase, peer.authority));
        const entries: Array<{ opened: OpenedEnvelope; entry: AuditEntry }> = [];
        for (const material of materials) {
          if (material.kind === "inbound") {
            const { opened, row } = material;
            await storeInboundEnvelope(tx, opened, material.wire, canonicalize(opened.document), row.stored_at);
            const entry = await appendEntry(tx, {
              kind: "envelope.received",
              actor: `peer:${peer.authority}`,
              time: now,
              caseId,
              envelopeId: opened.envelopeId,
              envelopeDigest: opened.envelopeDigest,
              details: { type: opened.header.type, from: opened.header.from, signerKid: opened.signer.kid, signer: opened.signer.fingerprint, reconciled: true },
            });
            entries.push({ opened, entry });
          } else {
            const { own, row, receipt } = material;
            await tx.envelopes.insert({
              envelopeId: row.envelope_id,
              caseId,
              direction: "outbound",
              type: own.header.type,
              from: own.header.from,
              to: own.header.to,
              inReplyTo: own.header.inReplyTo ?? null,
              createdAt: own.header.createdAt,
              storedAt: own.header.createdAt,
              digest: own.envelopeDigest,
              signerKid: own.signerKid,
              wire: material.wire,
              document: own.document,
            });
            await tx.envelopes.setReceipt(row.envelope_id, receipt.jws);
            await tx.reconcile.recordDelivered(row.envelope_id, peer.authority, own.header.createdAt, receipt.receivedAt);
            await appendEntry(tx, {
              kind: "envelope.recovered",
              actor: `peer:${peer.authority}`,
              time: now,
              caseId,
              envelopeId: row.envelope_id,
              envelopeDigest: own.envelopeDigest,
              details: { type: own.header.type, to: own.header.to, receivedAt: receipt.receivedAt, peerLog: receipt.log === null ? null : { ...receipt.log } },
            });
          }
        }
        const known = new Set((await tx.cases.steps(caseId)).map((s) => s.envelope_id));
        for (const step of steps) if (!known.has(step.envelope_id)) await tx.cases.insertStep(step);
        await tx.reconcile.setCaseState(mirror(theirCase, peer.authority));
        return { created, entries };
      });
    } catch (error) {
      // The peer's copy does not fit this side's store (a step naming an envelope nobody listed): nothing of the case is written.
      unresolved.push({ caseId, envelopeId: null, code: isValiseError(error) ? error.code : "RECONCILE_REFUSED", reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    toReceipt.push(...outcome.entries);
    (outcome.created ? casesRecreated : casesUpdated).push(caseId);
    for (const material of materials) {
      if (material.kind === "inbound") receivedAgain.push({ envelopeId: material.row.envelope_id, caseId, type: material.row.type, envelopeDigest: material.row.digest, previousReceipt: material.previousReceipt });
      else recovered.push({ envelopeId: material.row.envelope_id, caseId, type: material.row.type, envelopeDigest: material.row.digest, receipt: material.receipt });
      if (material.row.type === "evidence-manifest") evidenceToResend.push(material.row.envelope_id);
    }
  }

  // Receipts of what was received again, in this epoch (after the commit, like any receipt).
  for (const { opened, entry } of toReceipt) {
    const receipt = await signReceipt(
      { envelopeId: opened.envelopeId, envelopeDigest: opened.envelopeDigest, from: opened.header.from, to: deps.authority, receivedAt: entry.time, log: await deps.checkpoints.positionOf(entry) },
      deps.identity.signer,
    );
    await deps.store.transaction((tx) => tx.envelopes.setReceipt(opened.envelopeId, receipt));
  }

  const after = await deps.store.read((tx) => tx.reconcile.casesWith(peer.authority));
  const differences = compareCases(after, theirs.cases);
  const report: ReconcileReport = {
    "valise-reconciliation": 1,
    authority: deps.authority,
    peer: peer.authority,
    at: deps.now().toISOString(),
    receivedAgain,
    recovered,
    casesRecreated,
    casesUpdated,
    evidenceToResend,
    unresolved,
    onlyHere: mine.envelopes.filter((e) => !theirIds.has(e.envelope_id)).map((e) => ({ envelopeId: e.envelope_id, caseId: e.case_id, direction: e.direction, type: e.type })),
    casesAgree: differences.length === 0,
    differences,
  };
  await deps.store.transaction((tx) =>
    appendEntry(tx, {
      kind: "peers.reconciled",
      actor: "operator",
      time: deps.now(),
      details: {
        peer: peer.authority,
        receivedAgain: receivedAgain.length,
        recovered: recovered.length,
        casesRecreated: casesRecreated.length,
        casesUpdated: casesUpdated.length,
        unresolved: unresolved.length,
        onlyHere: report.onlyHere.length,
        casesAgree: report.casesAgree,
        reportSha256: createHash("sha256").update(JSON.stringify(report)).digest("hex"),
      },
    }),
  );
  return report;
}

/** The peer's inventory of its exchanges with us; hostile: every row must be about the two of us. */
async function fetchInventory(deps: ReconcileDeps, peer: Peer): Promise<ExchangeInventory> {
  let answer;
  try {
    answer = await deps.client.request(peer, "GET", "/peer/v1/reconcile/inventory");
  } catch (cause) {
    throw new GatewayError("RECONCILE_REFUSED", `${peer.authority} could not be reached: ${cause instanceof Error ? cause.message : String(cause)}`, { cause, details: { peer: peer.authority } });
  }
  if (answer.status !== 200) throw new GatewayError("RECONCILE_REFUSED", `${peer.authority} answered ${answer.status} to the inventory request`, { details: { peer: peer.authority, status: answer.status } });
  let inventory: ExchangeInventory;
  try {
    inventory = JSON.parse(answer.body.toString("utf8")) as ExchangeInventory;
  } catch {
    throw new GatewayError("RECONCILE_REFUSED", `${peer.authority}'s inventory is not JSON`, { details: { peer: peer.authority } });
  }
  const ours = (a: unknown): boolean => a === peer.authority || a === deps.authority;
  if (
    inventory.authority !== peer.authority ||
    inventory.peer !== deps.authority ||
    !Array.isArray(inventory.cases) ||
    !Array.isArray(inventory.envelopes) ||
    !Array.isArray(inventory.steps) ||
    !inventory.cases.every((c) => c?.peer === deps.authority && typeof c.case_id === "string") ||
    !inventory.envelopes.every((e) => ours(e?.from_authority) && ours(e?.to_authority) && e.from_authority !== e.to_authority && typeof e.envelope_id === "string")
  ) {
    throw new GatewayError("RECONCILE_REFUSED", `${peer.authority}'s inventory is malformed or names other parties`, { details: { peer: peer.authority } });
  }
  return inventory;
}

/** Fetches one missing envelope from the peer and checks it (see the module comment). */
async function fetchMaterial(deps: ReconcileDeps, peer: Peer, row: EnvelopeRow): Promise<Material> {
  const answer = await deps.client.request(peer, "GET", `/peer/v1/reconcile/envelopes/${encodeURIComponent(row.envelope_id)}`);
  if (answer.status !== 200) throw new GatewayError("RECONCILE_REFUSED", `${peer.authority} answered ${answer.status} for envelope ${row.envelope_id}`);
  const body = JSON.parse(answer.body.toString("utf8")) as { wire?: unknown; receipt?: unknown; innerJws?: unknown };
  if (typeof body.wire !== "string") throw new GatewayError("RECONCILE_REFUSED", `${peer.authority} returned no sealed bytes for ${row.envelope_id}`);
  const wire = body.wire;
  if (row.direction === "outbound" && row.from_authority === peer.authority) {
    // Sent to us by the peer: opened as a delivery over its connection would be.
    const opened = await openEnvelope(Buffer.from(wire, "utf8"), {
      self: deps.authority,
      decryptionKeys: deps.identity.decryptionKeys,
      trustFor: (authority) => deps.peers.trustFor(authority),
      now: deps.now(),
      clockSkewMs: deps.clockSkewMs,
      maxAgeMs: Number.MAX_SAFE_INTEGER, // taken back after a loss: its age is not held against it
      tlsClientAuthority: peer.authority,
      checkType: checkEnvelopeType,
      validateDocument: (type, document, header) => {
        checkDocumentBinding(header, document);
        deps.validator.assertDocument(type, document);
      },
    });
    if (opened.envelopeId !== row.envelope_id || opened.envelopeDigest !== row.digest || opened.header.caseId !== row.case_id) {
      throw new GatewayError("RECONCILE_REFUSED", `the envelope ${row.envelope_id} the peer returned is not the one it listed`);
    }
    return { kind: "inbound", row, opened, wire, previousReceipt: typeof body.receipt === "string" ? body.receipt : null };
  }
  if (row.direction === "inbound" && row.from_authority === deps.authority) {
    // Ours, lost: our own signatures, and the peer's receipt as proof of delivery.
    if (typeof body.innerJws !== "string" || typeof body.receipt !== "string") throw new GatewayError("RECONCILE_REFUSED", `${peer.authority} returned no document or receipt for own envelope ${row.envelope_id}`);
    const own = await verifyOwnEnvelope(wire, body.innerJws, { envelopeId: row.envelope_id, authority: deps.authority, signCertificates: deps.signCertificates });
    if (own.envelopeDigest !== row.digest || own.header.caseId !== row.case_id || own.header.to !== peer.authority) {
      throw new GatewayError("RECONCILE_REFUSED", `own envelope ${row.envelope_id} as returned is not the one the peer listed`);
    }
    const verified = await verifyReceipt(body.receipt, {
      expected: { envelopeId: row.envelope_id, envelopeDigest: own.envelopeDigest, from: deps.authority, to: peer.authority },
      trustFor: (authority) => deps.peers.trustFor(authority),
      now: deps.now(),
      revocation: "at-signing-time",
    });
    const position = verified.receipt.log;
    const logged =
      position === undefined
        ? null
        : verifyLogPosition(position, { receiver: peer.authority, envelopeId: row.envelope_id, envelopeDigest: own.envelopeDigest, logKeys: peer.certificates.filter((c) => c.use === "log").map((c) => c.certificate.publicKey) });
    return {
      kind: "own",
      row,
      own,
      wire,
      receipt: { receivedAt: verified.receipt.receivedAt, log: position === undefined || logged === null ? null : { origin: position.origin, index: position.index, checkpointSize: logged.size }, jws: body.receipt },
    };
  }
  throw new GatewayError("RECONCILE_REFUSED", `the peer lists envelope ${row.envelope_id} in a direction that does not fit it`);
}

/** Cases the peer holds at another status or head than this side (with nothing missing, the copy still wins: it has the later steps). */
function behindCases(mine: ExchangeInventory, theirs: ExchangeInventory): string[] {
  const here = new Map(mine.cases.map((c) => [c.case_id, c]));
  return theirs.cases.filter((c) => here.get(c.case_id)?.head_envelope_id !== c.head_envelope_id && mine.envelopes.some((e) => e.envelope_id === c.head_envelope_id)).map((c) => c.case_id);
}

/** Why the peer's copy of a case's lifecycle is not one the table allows (undefined when it is). */
function checkSteps(theirCase: CaseRow, steps: readonly StepRow[]): string | undefined {
  if (!isCaseStatus(theirCase.status)) return `the peer's case has an unknown status ${String(theirCase.status).slice(0, 40)}`;
  const applied = steps.filter((s) => s.state === "applied").sort((a, b) => a.seq - b.seq);
  for (const step of applied) {
    if (!isCaseStep(step.step) || !isCaseStatus(step.from_status) || !isCaseStatus(step.to_status)) return `step ${step.envelope_id} is malformed`;
    if (!allowedSteps(step.from_status as CaseStatus, step.by_side).includes(step.step)) return `step ${step.step} by the ${step.by_side} side is not allowed from ${step.from_status}`;
  }
  const last = applied.at(-1);
  if (last !== undefined && last.to_status !== theirCase.status && theirCase.status !== "executed" && theirCase.status !== "partially-executed") {
    return `the case's status ${theirCase.status} is not where its last step (${last.step}) leads`;
  }
  return undefined;
}

/** The peer's case row as this side holds it: the other direction, the peer as the other party. */
function mirror(c: CaseRow, peer: string): CaseRow {
  return { ...c, direction: c.direction === "inbound" ? "outbound" : "inbound", peer };
}

function compareCases(here: readonly CaseRow[], there: readonly CaseRow[]): Array<{ caseId: string; here: string | null; peer: string | null }> {
  const mine = new Map(here.map((c) => [c.case_id, c.status]));
  const theirs = new Map(there.map((c) => [c.case_id, c.status]));
  const ids = [...new Set([...mine.keys(), ...theirs.keys()])].sort();
  return ids.filter((id) => mine.get(id) !== theirs.get(id)).map((id) => ({ caseId: id, here: mine.get(id) ?? null, peer: theirs.get(id) ?? null }));
}
