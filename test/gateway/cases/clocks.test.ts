/**
 * Case clocks as pure functions of the case, its steps, the settings and
 * `now` — every expected deadline written out by hand.
 */
import { expect } from "chai";
import { caseClocks, clockSettingsFor, DEFAULT_CLOCKS, runningClocks, type ClockInput } from "../../../gateway/cases/clocks.js";
import { validateConfig } from "../../../gateway/config/config.js";
import { isValiseError } from "../../../pki/errors.js";

const RECEIVED = "2026-03-02T09:00:00.000Z";

function input(overrides: Partial<ClockInput>): ClockInput {
  return { kind: "mla-request", priority: "normal", status: "received", receivedAt: RECEIVED, facts: {}, headEnvelopeId: "req", steps: [], ...overrides };
}

describe("case clocks", function () {
  it("starts a 5-day hop for the requested side and a 30-day completion clock at receipt", function () {
    const clocks = caseClocks(input({}), DEFAULT_CLOCKS, new Date("2026-03-03T00:00:00Z"));
    expect(clocks.hop).to.deep.equal({ clock: "hop", holder: "requested", dueAt: "2026-03-07T09:00:00.000Z", key: "req" });
    expect(clocks.completion).to.deep.equal({ days: 30, state: "running", dueAt: "2026-04-01T09:00:00.000Z", pausedMs: 0, completedAt: null });
    expect(clocks.preservationExpiry).to.equal(null);
  });

  it("runs no clock before the request is received", function () {
    expect(caseClocks(input({ receivedAt: null, status: "submitted" }), DEFAULT_CLOCKS, new Date())).to.deep.equal({ receivedAt: null, hop: null, completion: null, preservationExpiry: null });
  });

  it("gives urgent requests 10 days, emergencies 1, and quick freezes 3, 1 and 1", function () {
    const at = new Date("2026-03-02T10:00:00Z");
    expect(caseClocks(input({ priority: "urgent" }), DEFAULT_CLOCKS, at).completion?.dueAt).to.equal("2026-03-12T09:00:00.000Z");
    expect(caseClocks(input({ priority: "emergency" }), DEFAULT_CLOCKS, at).completion?.dueAt).to.equal("2026-03-03T09:00:00.000Z");
    expect(caseClocks(input({ kind: "preservation-request" }), DEFAULT_CLOCKS, at).completion?.dueAt).to.equal("2026-03-05T09:00:00.000Z");
    expect(caseClocks(input({ kind: "preservation-request", priority: "urgent" }), DEFAULT_CLOCKS, at).completion?.dueAt).to.equal("2026-03-03T09:00:00.000Z");
  });

  it("pauses the completion clock while more information is awaited, and adds the pause to the deadline", function () {
    const asked = { step: "request-more-info", from: "acknowledged" as const, to: "more-info-requested" as const, at: "2026-03-04T09:00:00.000Z" };
    const ack = { step: "acknowledge", from: "received" as const, to: "acknowledged" as const, at: "2026-03-03T09:00:00.000Z" };
    // Still awaited two days later: paused, the deadline moves with the pause, the hop is the requester's.
    const waiting = caseClocks(input({ status: "more-info-requested", steps: [ack, asked], headEnvelopeId: "ask" }), DEFAULT_CLOCKS, new Date("2026-03-06T09:00:00.000Z"));
    expect(waiting.completion).to.deep.include({ state: "paused", pausedMs: 2 * 86_400_000, dueAt: "2026-04-03T09:00:00.000Z" });
    expect(waiting.hop).to.deep.equal({ clock: "hop", holder: "requesting", dueAt: "2026-03-09T09:00:00.000Z", key: "ask" });
    expect(runningClocks(waiting).map((c) => c.clock)).to.deep.equal(["hop"]);
    // Answered after 3 days and 6 hours: 30 days + 3.25 days from receipt.
    const answered = { step: "provide-more-info", from: "more-info-requested" as const, to: "under-review" as const, at: "2026-03-07T15:00:00.000Z" };
    const resumed = caseClocks(input({ status: "under-review", steps: [ack, asked, answered] }), DEFAULT_CLOCKS, new Date("2026-03-20T00:00:00.000Z"));
    expect(resumed.completion).to.deep.include({ state: "running", pausedMs: 3.25 * 86_400_000, dueAt: "2026-04-04T15:00:00.000Z" });
    expect(resumed.hop?.dueAt).to.equal("2026-03-12T15:00:00.000Z");
  });

  it("records whether the answer came in time, and stops on withdrawal", function () {
    const accept = { step: "accept", from: "received" as const, to: "accepted" as const, at: "2026-03-10T09:00:00.000Z" };
    const late = { step: "executed", from: "accepted" as const, to: "executed" as const, at: "2026-04-01T09:00:01.000Z" };
    expect(caseClocks(input({ status: "executed", steps: [accept, late] }), DEFAULT_CLOCKS, new Date("2026-05-01T00:00:00Z")).completion).to.deep.include({
      state: "missed",
      completedAt: "2026-04-01T09:00:01.000Z",
    });
    const onTime = { ...late, at: "2026-04-01T09:00:00.000Z" };
    expect(caseClocks(input({ status: "executed", steps: [accept, onTime] }), DEFAULT_CLOCKS, new Date("2026-05-01T00:00:00Z")).completion?.state).to.equal("met");
    const withdraw = { step: "withdraw", from: "accepted" as const, to: "withdrawn" as const, at: "2026-03-11T09:00:00.000Z" };
    const stopped = caseClocks(input({ status: "withdrawn", steps: [accept, withdraw] }), DEFAULT_CLOCKS, new Date("2026-05-01T00:00:00Z"));
    expect(stopped.completion?.state).to.equal("stopped");
    expect(stopped.hop).to.equal(null);
    expect(runningClocks(stopped)).to.deep.equal([]);
  });

  it("counts a quick freeze's preservation period from its execution, until the case is closed", function () {
    const preserved = { step: "executed", from: "accepted" as const, to: "executed" as const, at: "2026-03-02T21:00:00.000Z" };
    const accept = { step: "accept", from: "received" as const, to: "accepted" as const, at: "2026-03-02T10:00:00.000Z" };
    const open = caseClocks(input({ kind: "preservation-request", status: "executed", facts: { preservationDays: 90 }, steps: [accept, preserved] }), DEFAULT_CLOCKS, new Date("2026-03-03T00:00:00Z"));
    expect(open.preservationExpiry).to.deep.equal({
      clock: "preservation-expiry",
      holder: "requesting",
      key: "",
      preservedAt: "2026-03-02T21:00:00.000Z",
      days: 90,
      dueAt: "2026-05-31T21:00:00.000Z",
      stopped: false,
    });
    expect(runningClocks(open).map((c) => c.clock)).to.deep.equal(["preservation-expiry"]);
    const close = { step: "close", from: "executed" as const, to: "closed" as const, at: "2026-04-02T10:00:00.000Z" };
    const closed = caseClocks(input({ kind: "preservation-request", status: "closed", facts: { preservationDays: 90 }, steps: [accept, preserved, close] }), DEFAULT_CLOCKS, new Date());
    expect(closed.preservationExpiry?.stopped).to.equal(true);
    expect(runningClocks(closed)).to.deep.equal([]);
  });

  it("takes valise.json's clocks, a peer's entry over them, and defaults for the rest", function () {
    const config = validateConfig({
      valise: 1,
      authority: "US-DOJ-OIA",
      profile: "ed25519",
      endpoint: "https://127.0.0.1:8443",
      peerApi: { host: "127.0.0.1", port: 8443 },
      localApi: { host: "127.0.0.1", port: 8444 },
      tls: { dns: [], ips: [] },
      clocks: { hopDays: 7, completionDays: { normal: 45 }, peers: { "GB-UKCA": { hopDays: 3, completionDays: { urgent: 7 } } } },
    });
    const { instruments, ...perPeer } = clockSettingsFor(config.clocks, "GB-UKCA");
    expect(perPeer).to.deep.equal({
      hopDays: 3,
      completionDays: { normal: 45, urgent: 7, emergency: 1 },
      preservationCompletionDays: { normal: 3, urgent: 1, emergency: 1 },
      dueSoonDays: 2,
    });
    expect(instruments).to.deep.equal(DEFAULT_CLOCKS.instruments);
    expect(clockSettingsFor(config.clocks, "FR-MJ").hopDays).to.equal(7);
    expect(clockSettingsFor(undefined, "FR-MJ")).to.deep.equal(DEFAULT_CLOCKS);
  });

  it("refuses a malformed clocks section with CONFIG_INVALID", function () {
    for (const clocks of [{ hopDays: 0 }, { completionDays: { slow: 3 } }, { peers: { "not an id": { hopDays: 1 } } }, { checkIntervalSeconds: 0.5 }]) {
      try {
        validateConfig({
          valise: 1,
          authority: "US-DOJ-OIA",
          profile: "ed25519",
          endpoint: "https://127.0.0.1:8443",
          peerApi: { host: "127.0.0.1", port: 8443 },
          localApi: { host: "127.0.0.1", port: 8444 },
          tls: { dns: [], ips: [] },
          clocks,
        });
        expect.fail(`accepted ${JSON.stringify(clocks)}`);
      } catch (error) {
        expect(isValiseError(error) && error.code, JSON.stringify(clocks)).to.equal("CONFIG_INVALID");
      }
    }
  });
});
