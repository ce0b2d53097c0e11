/**
 * Two real gateways (GB-UKCA requesting, US-DOJ-OIA requested) on one
 * injected clock, for lifecycle tests: the clock is real time plus an offset
 * the test moves, so nothing sleeps for a deadline while retries and
 * timeouts still see time pass. Log lines are captured.
 */
import { PassThrough } from "node:stream";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { createGateway, type Gateway } from "../../../gateway/gateway.js";
import { createLogger } from "../../../gateway/log.js";
import type { DeliveryOptions } from "../../../gateway/delivery/worker.js";
import { sealEnvelope } from "../../../gateway/envelope/seal.js";
import { example, FAST_DELIVERY, localRequest, PASSPHRASE, waitFor, type HttpAnswer, type TestAuthority } from "../fixtures.js";

/** Real time plus an offset. */
export class TestClock {
  offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** A gateway under test and the JSON log lines it wrote. */
export interface RunningGateway {
  readonly gateway: Gateway;
  readonly authority: TestAuthority;
  readonly logs: Array<Record<string, unknown>>;
}

/** Starts a gateway over `authority`'s home on `clock`, capturing its log. */
export async function startOn(authority: TestAuthority, clock: TestClock, delivery: Partial<DeliveryOptions> = FAST_DELIVERY): Promise<RunningGateway> {
  const stream = new PassThrough();
  const logs: Array<Record<string, unknown>> = [];
  let partial = "";
  stream.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line !== "") logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const gateway = createGateway({
    home: authority.home,
    passphrase: PASSPHRASE,
    now: clock.now,
    logger: createLogger({ authority: authority.authority, stream, level: "info" }),
    delivery,
    trustRefreshMs: 0,
    witness: { activityPollMs: 3_600_000, periodMs: 3_600_000 },
  });
  await gateway.start();
  return { gateway, authority, logs };
}

/** Merges `clocks` into the home's valise.json (before a gateway starts). */
export function configureClocks(authority: TestAuthority, clocks: Record<string, unknown>): void {
  const path = join(authority.home, "valise.json");
  const config = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  writeFileSync(path, `${JSON.stringify({ ...config, clocks }, null, 2)}\n`);
}

/**
 * The demo's example request, at a priority, without its own deadline (which
 * would cap the clocks these tests follow; the deadline cap has its own tests).
 */
export function mlaRequest(level: "normal" | "urgent" | "emergency" = "normal"): Record<string, unknown> {
  const { deadline: _deadline, ...request } = example("mla-request", "valid-email-records");
  const grounds = level === "emergency" ? ["threat-to-life-or-safety"] : ["imminent-hearing"];
  return {
    ...request,
    urgency:
      level === "normal"
        ? { level }
        : { level, grounds, reason: "The suspect is due to leave the jurisdiction on a date that cannot be moved; the data is needed before then." },
  };
}

/**
 * A request of document version 1 (no instrument), at a priority: its clocks
 * are the settings per peer in days, which version 2 requests replace with
 * their instrument's.
 */
export function mlaRequestV1(level: "normal" | "urgent" | "emergency" = "normal"): Record<string, unknown> {
  const { deadline: _deadline, ...request } = example("mla-request-v1", "valid-email-records");
  return {
    ...request,
    urgency: level === "normal" ? { level } : { level, reason: "The suspect is due to leave the jurisdiction on a date that cannot be moved; the data is needed before then." },
  };
}

/** POST /api/v1/requests as the caseworker; returns the case id once the peer holds it. */
export async function submit(from: TestAuthority, to: TestAuthority, document: Record<string, unknown> = mlaRequest()): Promise<string> {
  const answer = await localRequest(from.localPort, "POST", "/api/v1/requests", { token: from.tokens.caseworker, body: document });
  expect(answer.status, answer.text).to.equal(201);
  const caseId = answer.json.caseId as string;
  await waitFor(`case ${caseId} at ${to.authority}`, async () => ((await caseAt(to, caseId)).status === 200 ? true : undefined));
  await waitFor(`the receipt of case ${caseId}`, async () => ((await caseAt(from, caseId)).json.receivedAt !== null ? true : undefined));
  return caseId;
}

/** POST /api/v1/cases/:caseId/status as the caseworker. */
export function postStep(authority: TestAuthority, caseId: string, body: Record<string, unknown>): Promise<HttpAnswer> {
  return localRequest(authority.localPort, "POST", `/api/v1/cases/${caseId}/status`, { token: authority.tokens.caseworker, body });
}

/** Takes a step and expects 201. */
export async function step(authority: TestAuthority, caseId: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const answer = await postStep(authority, caseId, body);
  expect(answer.status, `${String(body["step"])} by ${authority.authority}: ${answer.text}`).to.equal(201);
  return answer.json as Record<string, unknown>;
}

/** GET /api/v1/cases/:caseId as the caseworker. */
export function caseAt(authority: TestAuthority, caseId: string): Promise<HttpAnswer> {
  return localRequest(authority.localPort, "GET", `/api/v1/cases/${caseId}`, { token: authority.tokens.caseworker });
}

/** Waits until the case at `authority` has `status`; returns its detail. */
export function waitForStatus(authority: TestAuthority, caseId: string, status: string): Promise<any> {
  return waitFor(`case ${caseId} to be ${status} at ${authority.authority}`, async () => {
    const answer = await caseAt(authority, caseId);
    return answer.json?.status === status ? answer.json : undefined;
  });
}

/**
 * Waits until every envelope `authority` sent in the case holds the peer's
 * receipt. The peer applies a step before it answers, so the step shows at
 * the peer before the sender has recorded the receipt (a `receipt.received`
 * audit entry, the outbox row delivered): read the sender's state after this.
 */
export function waitForDelivered(authority: TestAuthority, caseId: string): Promise<any> {
  return waitFor(`the receipts of case ${caseId}'s envelopes at ${authority.authority}`, async () => {
    const detail = (await caseAt(authority, caseId)).json;
    const sent = (detail?.envelopes ?? []) as Array<{ direction: string; receipt: string | null; delivery?: { state: string } }>;
    return sent.every((e) => e.direction !== "outbound" || (e.receipt !== null && e.delivery?.state === "delivered")) ? detail : undefined;
  });
}

/** The history as both sides must agree on it (everything but local ids of nothing). */
export function historyOf(detail: any): Array<Record<string, unknown>> {
  return (detail.steps as Array<Record<string, unknown>>).map(({ seq, envelopeId, step: s, side, by, from, to, at, grounds, state, supersededBy }) => ({
    seq,
    envelopeId,
    step: s,
    side,
    by,
    from,
    to,
    at,
    grounds,
    state,
    supersededBy,
  }));
}

/**
 * Waits until both sides are in `status` with the same history of `steps`
 * steps, and returns that history.
 */
export async function agreedHistory(gb: TestAuthority, us: TestAuthority, caseId: string, status: string, steps: number): Promise<Array<Record<string, unknown>>> {
  return waitFor(`both sides to agree on case ${caseId} (${status}, ${steps} steps)`, async () => {
    const [a, b] = await Promise.all([caseAt(gb, caseId), caseAt(us, caseId)]);
    if (a.json.status !== status || b.json.status !== status) return undefined;
    const [ha, hb] = [historyOf(a.json), historyOf(b.json)];
    if (ha.length !== steps || hb.length !== steps) return undefined;
    expect(ha).to.deep.equal(hb);
    return ha;
  });
}

/** One day in ms. */
export const DAY = 24 * 3600 * 1000;

/** A status update sealed by `sender`'s real keys, as a (possibly misbehaving) peer gateway would send it. */
export async function sealStatus(sender: TestAuthority, recipient: TestAuthority, caseId: string, inReplyTo: string | undefined, document: Record<string, unknown>, createdAt: Date): Promise<string> {
  const pki = sender.pki();
  const sealed = await sealEnvelope({
    document,
    type: "status-update",
    from: sender.authority,
    to: recipient.authority,
    caseId,
    ...(inReplyTo === undefined ? {} : { inReplyTo }),
    priority: "normal",
    createdAt: createdAt.toISOString(),
    signer: { privateKey: pki.loadPrivateKey("sign", PASSPHRASE), certificates: [pki.currentCertificate("sign"), pki.rootCertificate()] },
    recipient: { publicKey: recipient.pki().currentCertificate("encrypt").publicKey },
  });
  return JSON.stringify(sealed.envelope);
}
