/**
 * Placing status updates in a case's history: the rules one by one, then a
 * simulation of two sides acting concurrently with every delivery order,
 * which must always end with both sides holding the same history.
 */
import { expect } from "chai";
import { placeStep, type CaseHistory, type IncomingStep, type PlacedStep } from "../../../gateway/cases/placement.js";
import { nextStatus, type CaseStatus, type CaseStep, type Side, type StepPayload } from "../../../gateway/cases/lifecycle.js";
import { isValiseError } from "../../../pki/errors.js";

const REQUEST = "req";

function step(envelopeId: string, seq: number, predecessor: string, by: Side, from: CaseStatus, to: CaseStatus, state: PlacedStep["state"] = "applied", supersededBy: string | null = null): PlacedStep {
  return { envelopeId, seq, predecessor, by, from, to, state, supersededBy };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return isValiseError(error) ? error.code : String(error);
  }
}

describe("case history placement", function () {
  const acknowledged: CaseHistory = { requestEnvelopeId: REQUEST, steps: [step("ack", 1, REQUEST, "requested", "received", "acknowledged")] };

  it("applies a step that follows the head", function () {
    expect(placeStep(acknowledged, { envelopeId: "acc", predecessor: "ack", step: "accept", by: "requested", status: "accepted", payload: {} })).to.deep.equal({
      outcome: "applied",
      seq: 2,
      from: "acknowledged",
      to: "accepted",
      supersedes: [],
    });
  });

  it("refuses a step the lifecycle does not allow from the state it follows, and a status other than the lifecycle's", function () {
    expect(codeOf(() => placeStep(acknowledged, { envelopeId: "x", predecessor: "ack", step: "executed", by: "requested", status: "executed", payload: {} }))).to.equal(
      "CASE_TRANSITION_INVALID",
    );
    expect(codeOf(() => placeStep(acknowledged, { envelopeId: "x", predecessor: "ack", step: "accept", by: "requested", status: "executed", payload: {} }))).to.equal(
      "CASE_TRANSITION_INVALID",
    );
  });

  it("answers CASE_STEP_EARLY when the step it follows has not arrived yet", function () {
    expect(codeOf(() => placeStep(acknowledged, { envelopeId: "x", predecessor: "not-yet", step: "accept", by: "requested", status: "accepted", payload: {} }))).to.equal(
      "CASE_STEP_EARLY",
    );
  });

  it("lets the requesting side's concurrent step stand: its arrival rolls back the requested side's", function () {
    // At the requested side: it accepted after ack; the requester withdrew after ack.
    const history: CaseHistory = { requestEnvelopeId: REQUEST, steps: [...acknowledged.steps, step("acc", 2, "ack", "requested", "acknowledged", "accepted")] };
    expect(placeStep(history, { envelopeId: "wd", predecessor: "ack", step: "withdraw", by: "requesting", status: "withdrawn", payload: {} })).to.deep.equal({
      outcome: "applied",
      seq: 2,
      from: "acknowledged",
      to: "withdrawn",
      supersedes: ["acc"],
    });
  });

  it("keeps the requested side's concurrent step, superseded, at the requesting side", function () {
    const history: CaseHistory = { requestEnvelopeId: REQUEST, steps: [...acknowledged.steps, step("wd", 2, "ack", "requesting", "acknowledged", "withdrawn")] };
    expect(placeStep(history, { envelopeId: "acc", predecessor: "ack", step: "accept", by: "requested", status: "accepted", payload: {} })).to.deep.equal({
      outcome: "superseded",
      seq: 2,
      from: "acknowledged",
      to: "accepted",
      supersededBy: "wd",
    });
  });

  it("keeps a step built on a superseded one, superseded by the same winner", function () {
    const history: CaseHistory = {
      requestEnvelopeId: REQUEST,
      steps: [...acknowledged.steps, step("wd", 2, "ack", "requesting", "acknowledged", "withdrawn"), step("acc", 2, "ack", "requested", "acknowledged", "accepted", "superseded", "wd")],
    };
    expect(placeStep(history, { envelopeId: "prog", predecessor: "acc", step: "report-progress", by: "requested", status: "in-execution", payload: {} })).to.deep.equal({
      outcome: "superseded",
      seq: 3,
      from: "accepted",
      to: "in-execution",
      supersededBy: "wd",
    });
  });

  it("refuses a side forking its own history", function () {
    const history: CaseHistory = { requestEnvelopeId: REQUEST, steps: [...acknowledged.steps, step("acc", 2, "ack", "requested", "acknowledged", "accepted")] };
    expect(codeOf(() => placeStep(history, { envelopeId: "ref", predecessor: "ack", step: "refuse", by: "requested", status: "refused", payload: {} }))).to.equal(
      "CASE_TRANSITION_INVALID",
    );
  });

  describe("two sides acting concurrently, every delivery order", function () {
    interface Side_ {
      readonly side: Side;
      steps: PlacedStep[];
    }
    const head = (s: Side_): string => s.steps.filter((x) => x.state === "applied").sort((a, b) => a.seq - b.seq).at(-1)?.envelopeId ?? REQUEST;
    const status = (s: Side_): CaseStatus => s.steps.filter((x) => x.state === "applied").sort((a, b) => a.seq - b.seq).at(-1)?.to ?? "received";
    const history = (s: Side_): CaseHistory => ({ requestEnvelopeId: REQUEST, steps: s.steps });

    function take(s: Side_, id: string, what: CaseStep, payload: StepPayload = {}): IncomingStep {
      const incoming: IncomingStep = { envelopeId: id, predecessor: head(s), step: what, by: s.side, status: nextStatus(status(s), what, s.side, payload), payload };
      const placed = placeStep(history(s), incoming);
      expect(placed.outcome).to.equal("applied");
      s.steps.push(step(id, placed.seq, incoming.predecessor, s.side, placed.from, placed.to));
      return incoming;
    }

    function receive(s: Side_, incoming: IncomingStep): void {
      const placed = placeStep(history(s), incoming);
      if (placed.outcome === "applied") {
        s.steps = s.steps.map((x) => (placed.supersedes.includes(x.envelopeId) ? { ...x, state: "superseded" as const, supersededBy: incoming.envelopeId } : x));
      }
      s.steps.push(
        step(incoming.envelopeId, placed.seq, incoming.predecessor, incoming.by, placed.from, placed.to, placed.outcome, placed.outcome === "superseded" ? placed.supersededBy : null),
      );
    }

    function permutations<T>(items: readonly T[]): T[][] {
      if (items.length <= 1) return [[...items]];
      return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
    }

    function deliverAll(messages: Array<{ to: Side_; step: IncomingStep }>): void {
      const queue = [...messages];
      for (let guard = 0; queue.length > 0; guard += 1) {
        expect(guard).to.be.below(100);
        const next = queue.shift()!;
        try {
          receive(next.to, next.step);
        } catch (error) {
          // Overtook its predecessor: the sender's outbox retries it later.
          expect(isValiseError(error) && error.code).to.equal("CASE_STEP_EARLY");
          queue.push(next);
        }
      }
    }

    const sorted = (s: Side_): PlacedStep[] => [...s.steps].sort((a, b) => a.envelopeId.localeCompare(b.envelopeId));

    const scenarios: Array<{
      name: string;
      before: (a: Side_, b: Side_) => void;
      act: (a: Side_, b: Side_) => IncomingStep[][];
      status: CaseStatus;
      superseded: string[];
    }> = [
      {
        name: "the requester withdraws while the requested side accepts and reports progress",
        before: () => {},
        act: (a, b) => [[take(a, "a-withdraw", "withdraw")], [take(b, "b-accept", "accept"), take(b, "b-progress", "report-progress")]],
        status: "withdrawn",
        superseded: ["b-accept", "b-progress"],
      },
      {
        name: "the requester answers questions while the requested side refuses",
        before: (a, b) => {
          const asked = take(b, "b-ask", "request-more-info");
          receive(a, asked);
        },
        act: (a, b) => [[take(a, "a-answer", "provide-more-info")], [take(b, "b-refuse", "refuse")]],
        status: "under-review",
        superseded: ["b-refuse"],
      },
      {
        name: "the requester closes a partial execution while the requested side reports it executed",
        before: (a, b) => {
          for (const [id, what, payload] of [
            ["b-accept", "accept", {}],
            ["b-part", "report-progress", { delivered: { text: "part" } }],
          ] as const) receive(a, take(b, id, what, payload));
        },
        act: (a, b) => [[take(a, "a-close", "close")], [take(b, "b-executed", "executed")]],
        status: "closed",
        superseded: ["b-executed"],
      },
      {
        name: "the requested side takes two steps in a row, delivered in any order",
        before: () => {},
        act: (_a, b) => [[], [take(b, "b-ack", "acknowledge"), take(b, "b-accept", "accept")]],
        status: "accepted",
        superseded: [],
      },
    ];

    for (const scenario of scenarios) {
      it(`${scenario.name}: both sides end with the same history`, function () {
        const fresh = (): [Side_, Side_] => [
          { side: "requesting", steps: [] },
          { side: "requested", steps: [] },
        ];
        const [probeA, probeB] = fresh();
        scenario.before(probeA, probeB);
        const count = scenario.act(probeA, probeB).flat().length;
        let orders = 0;
        for (const order of permutations([...Array(count).keys()])) {
          const [a, b] = fresh();
          scenario.before(a, b);
          const [fromA, fromB] = scenario.act(a, b);
          const messages = [...fromA!.map((s) => ({ to: b, step: s })), ...fromB!.map((s) => ({ to: a, step: s }))];
          deliverAll(order.map((i) => messages[i]!));
          expect(sorted(a), `order ${order.join(",")}`).to.deep.equal(sorted(b));
          expect(status(a)).to.equal(scenario.status);
          expect(
            a.steps
              .filter((x) => x.state === "superseded")
              .map((x) => x.envelopeId)
              .sort(),
          ).to.deep.equal([...scenario.superseded].sort());
          orders += 1;
        }
        expect(orders).to.be.at.least(1);
      });
    }
  });
});
