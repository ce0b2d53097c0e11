/**
 * Idempotency-Key on the local API: a case-management system retrying a
 * submission whose answer it lost gets the first answer, not a second case;
 * the same key on another request is refused; keys belong to a token; the
 * record survives a restart of the gateway.
 */
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import { count, createNetwork, example, localRequest, type HttpAnswer, type TestNetwork } from "./fixtures.js";
import http from "node:http";

/** POST /api/v1/requests with an Idempotency-Key. */
function submit(port: number, token: string, key: string | undefined, body: unknown): Promise<HttpAnswer> {
  const bytes = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/api/v1/requests",
        agent: false,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": String(bytes.length), ...(key === undefined ? {} : { "idempotency-key": key }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) as unknown });
        });
      },
    );
    req.on("error", reject);
    req.end(bytes);
  });
}

describe("gateway local API: Idempotency-Key", function () {
  let network: TestNetwork;
  let gb: Gateway;
  const request = example("mla-request", "valid-email-records");
  const cases = () => count(gb.context.store, "cases");

  before(async function () {
    network = await createNetwork();
    gb = network.gb.gateway();
    await gb.start();
  });

  after(async function () {
    await gb?.stop();
    network?.cleanup();
  });

  it("answers a retried submission with the first answer, opening one case", async function () {
    const before = (await cases());
    const first = await submit(network.gb.localPort, network.gb.tokens.caseworker, "retry-1", request);
    expect(first.status, first.text).to.equal(201);
    const again = await submit(network.gb.localPort, network.gb.tokens.caseworker, "retry-1", request);
    expect(again.status, again.text).to.equal(201);
    expect(again.json).to.deep.equal(first.json);
    expect(again.headers["idempotent-replayed"]).to.equal("true");
    expect((await cases())).to.equal(before + 1);
  });

  it("opens a case per submission without a key (unchanged)", async function () {
    const before = (await cases());
    await submit(network.gb.localPort, network.gb.tokens.caseworker, undefined, request);
    await submit(network.gb.localPort, network.gb.tokens.caseworker, undefined, request);
    expect((await cases())).to.equal(before + 2);
  });

  it("refuses the same key with another body (422 IDEMPOTENCY_KEY_REUSED), storing nothing", async function () {
    await submit(network.gb.localPort, network.gb.tokens.caseworker, "retry-2", request);
    const before = (await cases());
    const other = await submit(network.gb.localPort, network.gb.tokens.caseworker, "retry-2", { ...request, reference: "ANOTHER/REF/1" });
    expect(`${other.status} ${String(other.json?.error?.code)}`).to.equal("422 IDEMPOTENCY_KEY_REUSED");
    expect((await cases())).to.equal(before);
  });

  it("scopes keys per token", async function () {
    const second = (await network.gb.createToken("caseworker", "second-system")).token;
    const mine = await submit(network.gb.localPort, network.gb.tokens.caseworker, "shared-key", request);
    const theirs = await submit(network.gb.localPort, second, "shared-key", request);
    expect(mine.status).to.equal(201);
    expect(theirs.status).to.equal(201);
    expect(theirs.json.caseId).to.not.equal(mine.json.caseId);
  });

  it("refuses a malformed key (400 IDEMPOTENCY_KEY_INVALID)", async function () {
    const before = (await cases());
    for (const key of ["", "x".repeat(256), "tab\there", "é"]) {
      const answer = await submit(network.gb.localPort, network.gb.tokens.caseworker, key, request);
      expect(`${answer.status} ${String(answer.json?.error?.code)}`, JSON.stringify(key)).to.equal("400 IDEMPOTENCY_KEY_INVALID");
    }
    expect((await cases())).to.equal(before);
  });

  it("frees the key of a refused submission", async function () {
    const invalid = await submit(network.gb.localPort, network.gb.tokens.caseworker, "fixed-later", { ...request, facts: "short" });
    expect(invalid.status).to.equal(422);
    const valid = await submit(network.gb.localPort, network.gb.tokens.caseworker, "fixed-later", request);
    expect(valid.status, valid.text).to.equal(201);
  });

  it("answers concurrent submissions with one key with one case", async function () {
    const before = (await cases());
    const answers = await Promise.all(Array.from({ length: 6 }, () => submit(network.gb.localPort, network.gb.tokens.caseworker, "at-once", request)));
    const created = answers.filter((a) => a.status === 201);
    expect(created.length).to.be.at.least(1);
    for (const answer of answers) {
      if (answer.status === 201) expect(answer.json.caseId).to.equal(created[0]!.json.caseId);
      else expect(`${answer.status} ${String(answer.json?.error?.code)}`).to.equal("409 IDEMPOTENCY_KEY_IN_USE");
    }
    expect((await cases())).to.equal(before + 1);
  });

  it("keeps the answer across a restart of the gateway", async function () {
    const first = await submit(network.gb.localPort, network.gb.tokens.caseworker, "durable", request);
    await gb.stop();
    gb = network.gb.gateway();
    await gb.start();
    const before = (await cases());
    const again = await submit(network.gb.localPort, network.gb.tokens.caseworker, "durable", request);
    expect(again.status).to.equal(201);
    expect(again.json).to.deep.equal(first.json);
    expect((await cases())).to.equal(before);
  });

  it("replays a lifecycle step taken with a key", async function () {
    const opened = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: request });
    const step = (key: string) =>
      new Promise<HttpAnswer>((resolve, reject) => {
        const bytes = Buffer.from(JSON.stringify({ step: "withdraw", note: "The suspect was identified by other means." }));
        const req = http.request(
          {
            host: "127.0.0.1",
            port: network.gb.localPort,
            method: "POST",
            path: `/api/v1/cases/${opened.json.caseId}/status`,
            agent: false,
            headers: { authorization: `Bearer ${network.gb.tokens.caseworker}`, "content-type": "application/json", "content-length": String(bytes.length), "idempotency-key": key },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8"), json: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
          },
        );
        req.on("error", reject);
        req.end(bytes);
      });
    const first = await step("withdraw-1");
    expect(first.status, first.text).to.equal(201);
    const again = await step("withdraw-1");
    expect(again.status, again.text).to.equal(201);
    expect(again.json).to.deep.equal(first.json);
  });
});
