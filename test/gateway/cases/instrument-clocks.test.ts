/**
 * Clocks by instrument (clocks.ts with schemas/instruments.ts profiles), on an
 * injected clock, every deadline written out by hand: the EIO's week to
 * acknowledge, 30 days (+30) to recognise and 90 days after recognition to
 * execute; the EPOC's 10 days and 8 hours in an emergency; the treaty's 30
 * days with 5-day hops; the request's own deadline capping them; a
 * postponement pausing execution; an EPOC-PR's 60 days and its extension.
 */
import { expect } from "chai";
import { caseClocks, clockSettingsFor, DEFAULT_CLOCKS, runningClocks, type ClockInput } from "../../../gateway/cases/clocks.js";
import type { CaseStatus } from "../../../gateway/cases/lifecycle.js";

const RECEIVED = "2026-03-02T09:00:00.000Z";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (ms: number): string => new Date(Date.parse(RECEIVED) + ms).toISOString();

function input(overrides: Partial<ClockInput>): ClockInput {
  return { kind: "mla-request", priority: "normal", status: "received", receivedAt: RECEIVED, facts: {}, headEnvelopeId: "req", steps: [], ...overrides };
}
function step(name: string, from: CaseStatus, to: CaseStatus, afterMs: number, grounds?: string[]): ClockInput["steps"][number] {
  return { step: name, from, to, at: at(afterMs), ...(grounds === undefined ? {} : { grounds }) };
}

describe("clocks by instrument", function () {
  it("EIO: acknowledge within 7 days, recognise within 30, no hop; execution waits for recognition", function () {
    const clocks = caseClocks(input({ facts: { instrument: "eio" } }), DEFAULT_CLOCKS, new Date(at(DAY)));
    expect(clocks.instrument).to.equal("eio");
    expect(clocks.acknowledgement).to.deep.equal({ hours: 168, state: "running", dueAt: at(7 * DAY), metAt: null });
    expect(clocks.recognition).to.deep.equal({ hours: 720, state: "running", dueAt: at(30 * DAY), metAt: null });
    expect(clocks.completion).to.equal(null);
    expect(clocks.hop).to.equal(null);
    expect(runningClocks(clocks).map((c) => c.clock)).to.deep.equal(["acknowledgement", "recognition"]);
  });

  it("EIO: a lawful case is not overdue at day 30 when recognised in time: 90 days run from recognition", function () {
    const steps = [step("acknowledge", "received", "acknowledged", 2 * DAY), step("accept", "acknowledged", "accepted", 28 * DAY)];
    const clocks = caseClocks(input({ facts: { instrument: "eio" }, status: "accepted", steps }), DEFAULT_CLOCKS, new Date(at(31 * DAY)));
    expect(clocks.acknowledgement).to.deep.include({ state: "met", metAt: at(2 * DAY) });
    expect(clocks.recognition).to.deep.include({ state: "met", metAt: at(28 * DAY) });
    expect(clocks.completion).to.deep.include({ state: "running", from: "recognition", dueAt: at(118 * DAY), days: 90 });
    expect(runningClocks(clocks).filter((c) => Date.parse(c.dueAt) <= Date.parse(at(31 * DAY)))).to.deep.equal([]);
  });

  it("EIO: a notice of delay before the decision extends recognition once by 30 days; a late decision is missed", function () {
    const notice = step("notify-delay", "acknowledged", "acknowledged", 25 * DAY);
    const steps = [step("acknowledge", "received", "acknowledged", 9 * DAY), notice, step("accept", "acknowledged", "accepted", 50 * DAY)];
    const clocks = caseClocks(input({ facts: { instrument: "eio" }, status: "accepted", steps }), DEFAULT_CLOCKS, new Date(at(51 * DAY)));
    expect(clocks.acknowledgement).to.deep.include({ state: "missed" });
    expect(clocks.recognition).to.deep.include({ hours: 1440, state: "met", dueAt: at(60 * DAY) });
    const noNotice = caseClocks(input({ facts: { instrument: "eio" }, status: "accepted", steps: [steps[0]!, steps[2]!] }), DEFAULT_CLOCKS, new Date(at(51 * DAY)));
    expect(noNotice.recognition).to.deep.include({ hours: 720, state: "missed", dueAt: at(30 * DAY) });
  });

  it("EPOC: 10 days from receipt; 8 hours in an emergency", function () {
    const normal = caseClocks(input({ facts: { instrument: "epoc" } }), DEFAULT_CLOCKS, new Date(at(HOUR)));
    expect(normal.completion).to.deep.include({ state: "running", from: "receipt", dueAt: at(10 * DAY) });
    expect(normal.acknowledgement).to.equal(null);
    expect(normal.recognition).to.equal(null);
    const emergency = caseClocks(input({ priority: "emergency", facts: { instrument: "epoc" } }), DEFAULT_CLOCKS, new Date(at(HOUR)));
    expect(emergency.completion?.dueAt).to.equal(at(8 * HOUR));
    // Seven hours later it is still running; at eight hours and a second it is overdue.
    expect(runningClocks(caseClocks(input({ priority: "emergency", facts: { instrument: "epoc" } }), DEFAULT_CLOCKS, new Date(at(7 * HOUR)))).map((c) => c.dueAt)).to.deep.equal([at(8 * HOUR)]);
    const answered = [step("accept", "received", "accepted", HOUR), step("executed", "accepted", "executed", 8 * HOUR + 1000)];
    expect(caseClocks(input({ priority: "emergency", status: "executed", facts: { instrument: "epoc" }, steps: answered }), DEFAULT_CLOCKS, new Date(at(DAY))).completion).to.deep.include({
      state: "missed",
    });
  });

  it("treaty: 30 days from receipt with 5-day hops; the request's own deadline caps the answer", function () {
    const treaty = caseClocks(input({ facts: { instrument: "mla-treaty" } }), DEFAULT_CLOCKS, new Date(at(HOUR)));
    expect(treaty.hop).to.deep.include({ holder: "requested", dueAt: at(5 * DAY) });
    expect(treaty.completion).to.deep.include({ dueAt: at(30 * DAY), cappedByDeadline: false });
    const capped = caseClocks(input({ facts: { instrument: "mla-treaty", deadlineAt: at(12 * DAY) } }), DEFAULT_CLOCKS, new Date(at(HOUR)));
    expect(capped.completion).to.deep.include({ dueAt: at(12 * DAY), cappedByDeadline: true });
    // A deadline after the clock changes nothing.
    expect(caseClocks(input({ facts: { instrument: "mla-treaty", deadlineAt: at(40 * DAY) } }), DEFAULT_CLOCKS, new Date(at(HOUR))).completion?.dueAt).to.equal(at(30 * DAY));
  });

  it("pauses execution while postponed, and while the requesting side is consulted", function () {
    const steps = [
      step("accept", "received", "accepted", DAY),
      step("postpone", "accepted", "postponed", 10 * DAY),
      step("resume", "postponed", "in-execution", 40 * DAY),
      step("consult", "in-execution", "in-consultation", 50 * DAY),
    ];
    const clocks = caseClocks(input({ facts: { instrument: "eio" }, status: "in-consultation", steps }), DEFAULT_CLOCKS, new Date(at(55 * DAY)));
    // 90 days from recognition (day 1) + 30 days postponed + 5 days (so far) in consultation.
    expect(clocks.completion).to.deep.include({ state: "paused", pausedMs: 35 * DAY, dueAt: at(126 * DAY) });
  });

  it("EPOC-PR: 60 days preserved from execution, 30 more per extension; a confirmed follow-up stops the expiry", function () {
    const preserved = [step("accept", "received", "accepted", HOUR), step("executed", "accepted", "executed", 2 * HOUR)];
    const freeze = { kind: "preservation-request", status: "executed" as const, facts: { instrument: "epoc-pr", preservationDays: 60 } };
    expect(caseClocks(input({ ...freeze, steps: preserved }), DEFAULT_CLOCKS, new Date(at(DAY))).preservationExpiry).to.deep.include({ days: 60, dueAt: at(2 * HOUR + 60 * DAY), stopped: false });
    const extended = [...preserved, step("extend-preservation", "executed", "executed", 50 * DAY, ["days:30"])];
    expect(caseClocks(input({ ...freeze, steps: extended }), DEFAULT_CLOCKS, new Date(at(51 * DAY))).preservationExpiry).to.deep.include({ days: 90, dueAt: at(2 * HOUR + 90 * DAY) });
    const followed = [...extended, step("confirm-follow-up", "executed", "executed", 70 * DAY)];
    const stopped = caseClocks(input({ ...freeze, steps: followed }), DEFAULT_CLOCKS, new Date(at(100 * DAY)));
    expect(stopped.preservationExpiry?.stopped).to.equal(true);
    expect(runningClocks(stopped)).to.deep.equal([]);
  });

  it("takes valise.json's clocks.instruments, in hours, over the instrument's defaults", function () {
    const settings = clockSettingsFor({ instruments: { epoc: { completionHours: { emergency: 6 } }, eio: { acknowledgeHours: 72 } } }, "FR-DACG");
    expect(settings.instruments["epoc"]?.completionHours).to.deep.equal({ normal: 240, urgent: 240, emergency: 6 });
    expect(settings.instruments["eio"]).to.deep.include({ acknowledgeHours: 72, recognitionHours: 720 });
    expect(caseClocks(input({ priority: "emergency", facts: { instrument: "epoc" } }), settings, new Date(at(HOUR))).completion?.dueAt).to.equal(at(6 * HOUR));
  });

  it("keeps the settings per peer, in days, for a request without an instrument (document version 1)", function () {
    const clocks = caseClocks(input({}), DEFAULT_CLOCKS, new Date(at(HOUR)));
    expect(clocks.instrument).to.equal(undefined);
    expect(clocks.completion).to.deep.equal({ days: 30, state: "running", dueAt: at(30 * DAY), pausedMs: 0, completedAt: null });
  });
});
