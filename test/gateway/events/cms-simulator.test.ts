/**
 * A case-management system (CMS) simulator follows the event feed of both
 * gateways through a full lifecycle — request, acknowledge, request and
 * provide more information, accept, progress, executed, close — with real
 * processes: US runs as `valise start` in a child process and is killed
 * with SIGKILL right after a step commits, then started again. Each CMS
 * keeps its cursor (as a CMS stores it) and must see every event exactly
 * once by id, in order. US also posts its events to two webhooks: a
 * receiver that checks each HMAC signature must see every event at least
 * once; one that never answers is cut at its timeout and retried, and holds
 * nothing else up.
 */
import http from "node:http";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import type { Gateway } from "../../../gateway/gateway.js";
import { createNetwork, example, localRequest, PASSPHRASE, REPO_ROOT, waitFor, type TestAuthority, type TestNetwork } from "../fixtures.js";

interface SeenEvent {
  eventId: string;
  kind: string;
  caseId?: string;
  data: Record<string, unknown>;
}

/** A CMS that long-polls a gateway's feed, keeping its cursor; survives the gateway going away. */
class CmsSimulator {
  readonly events: SeenEvent[] = [];
  readonly failures: string[] = [];
  #cursor: string | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(
    readonly port: number,
    readonly token: string,
  ) {}

  start(): void {
    this.#loop = (async () => {
      while (!this.#stopped) {
        try {
          const answer = await localRequest(this.port, "GET", `/api/v1/events?wait=2${this.#cursor === undefined ? "" : `&after=${this.#cursor}`}`, { token: this.token });
          if (answer.status !== 200) {
            this.failures.push(`${answer.status} ${answer.text.slice(0, 200)}`);
            await new Promise((resolve) => setTimeout(resolve, 100));
            continue;
          }
          // What a CMS does: apply the events and store the cursor together.
          this.events.push(...(answer.json.events as SeenEvent[]));
          this.#cursor = answer.json.next;
        } catch {
          // The gateway is down (killed): try again shortly.
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  steps(): string[] {
    return this.events.map((e) => (e.kind === "status.changed" ? `${String(e.data["from"])}>${String(e.data["to"])}` : e.kind));
  }
}

interface ChildGateway {
  readonly process: ChildProcessWithoutNullStreams;
  readonly exited: Promise<unknown>;
}

async function startChild(authority: TestAuthority): Promise<ChildGateway> {
  const child = spawn(process.execPath, [join(REPO_ROOT, "scripts/valise.mjs"), "start", "--home", authority.home], {
    cwd: REPO_ROOT,
    env: { ...process.env, VALISE_PASSPHRASE: PASSPHRASE, VALISE_LOG_LEVEL: "info" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stderr: string[] = [];
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${authority.authority} did not start: ${stderr.join("")}`)), 30_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      try {
        if ((JSON.parse(line) as { message?: string }).message === "gateway started") {
          clearTimeout(timer);
          resolve();
        }
      } catch {
        // not a log line
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${authority.authority} exited before it started: ${stderr.join("")}`));
    });
  });
  return { process: child, exited };
}

async function kill9(child: ChildGateway | undefined): Promise<void> {
  if (child === undefined || child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill("SIGKILL");
  await child.exited;
}

describe("CMS simulator on the event feed, across a kill -9, with webhooks", function () {
  this.timeout(180_000);
  let network: TestNetwork;
  let gb: Gateway;
  let us: ChildGateway | undefined;
  let receiver: http.Server;
  let silent: http.Server;
  const secret = randomBytes(32).toString("hex");
  const hooked: Array<{ id: string; kind: string; valid: boolean }> = [];

  before(async function () {
    network = await createNetwork();
    // The webhook receiver checks every signature.
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers["valise-signature"]));
        const expected = match === null ? Buffer.alloc(32) : createHmac("sha256", secret).update(`${match[1]}.${body}`).digest();
        const valid = match !== null && timingSafeEqual(Buffer.from(match[2]!, "hex"), expected);
        const event = JSON.parse(body) as SeenEvent;
        hooked.push({ id: event.eventId, kind: event.kind, valid: valid && req.headers["valise-event-id"] === event.eventId });
        res.writeHead(204).end();
      });
    });
    // A receiver that accepts the connection and never answers.
    silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const secretFile = join(network.dir, "webhook-secret");
    writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
    const configPath = join(network.us.home, "valise.json");
    const config = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
    config["webhooks"] = [
      { name: "cms", url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/valise-events`, secretFile },
      { name: "stuck", url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/never`, secretFile, timeoutSeconds: 1 },
    ];
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
    gb = network.gb.gateway();
    await gb.start();
    us = await startChild(network.us);
  });

  after(async function () {
    await kill9(us);
    await gb?.stop();
    receiver?.closeAllConnections();
    silent?.closeAllConnections();
    receiver?.close();
    silent?.close();
    network?.cleanup();
  });

  it("each CMS sees every event of the lifecycle exactly once and in order; the webhook receiver sees each at least once, signed", async function () {
    const usCms = new CmsSimulator(network.us.localPort, network.us.tokens.caseworker);
    const gbCms = new CmsSimulator(network.gb.localPort, network.gb.tokens.caseworker);
    usCms.start();
    gbCms.start();
    const gbToken = network.gb.tokens.caseworker;
    const submitted = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: gbToken, body: example("mla-request", "valid-email-records") });
    expect(submitted.status, submitted.text).to.equal(201);
    const caseId: string = submitted.json.caseId;
    const atStatus = async (port: number, token: string, status: string): Promise<void> => {
      await waitFor(`status ${status} on ${port}`, async () => {
        const detail = await localRequest(port, "GET", `/api/v1/cases/${caseId}`, { token }).catch(() => undefined);
        return detail?.json?.status === status ? true : undefined;
      }, 60_000, 50);
    };
    const step = async (port: number, token: string, body: Record<string, unknown>): Promise<void> => {
      const answer = await localRequest(port, "POST", `/api/v1/cases/${caseId}/status`, { token, body });
      expect(answer.status, answer.text).to.equal(201);
    };
    const usPort = network.us.localPort;
    const usToken = network.us.tokens.caseworker;
    await atStatus(usPort, usToken, "received");
    await step(usPort, usToken, { step: "acknowledge" });
    await step(usPort, usToken, { step: "request-more-info", questions: ["Which account is meant by the second identifier?"] });
    await atStatus(network.gb.localPort, gbToken, "more-info-requested");
    await step(network.gb.localPort, gbToken, { step: "provide-more-info", answers: ["The second identifier is the recovery address."] });
    await atStatus(usPort, usToken, "under-review");
    await step(usPort, usToken, { step: "accept" });
    // The step is committed (201): kill -9 now, while the CMS may be waiting on a long-poll.
    await kill9(us);
    us = await startChild(network.us);
    await step(usPort, usToken, { step: "report-progress", note: "The provider has been served." });
    await step(usPort, usToken, { step: "executed" });
    await atStatus(network.gb.localPort, gbToken, "executed");
    await step(network.gb.localPort, gbToken, { step: "close" });
    await atStatus(usPort, usToken, "closed");

    const lifecycle = [
      "received>acknowledged",
      "acknowledged>more-info-requested",
      "more-info-requested>under-review",
      "under-review>accepted",
      "accepted>in-execution",
      "in-execution>executed",
      "executed>closed",
    ];
    await waitFor("US's CMS to see the close", () => (usCms.steps().includes("executed>closed") ? true : undefined), 30_000);
    await waitFor("GB's CMS to see the close", () => (gbCms.steps().includes("executed>closed") ? true : undefined), 30_000);
    await usCms.stop();
    await gbCms.stop();
    expect(usCms.steps()).to.deep.equal(["request.received", ...lifecycle]);
    expect(gbCms.steps()).to.deep.equal(["submitted>received", ...lifecycle]);
    for (const cms of [usCms, gbCms]) {
      expect(new Set(cms.events.map((e) => e.eventId)).size, "no event twice").to.equal(cms.events.length);
      expect(cms.events.every((e) => e.caseId === caseId)).to.equal(true);
    }

    // The webhook receiver: every event at least once, each signed.
    await waitFor("the webhook receiver to have every event", () => (usCms.events.every((e) => hooked.some((h) => h.id === e.eventId)) ? true : undefined), 60_000, 100);
    expect(hooked.every((h) => h.valid), "every POST signed with the shared secret").to.equal(true);
    expect(new Set(hooked.map((h) => h.id))).to.deep.equal(new Set(usCms.events.map((e) => e.eventId)));

    // The operator sees both endpoints in the health view.
    type Hook = { name: string; behind: number; attempts: number; lastError: string | null };
    // The cursor moves just after the receiver's 2xx: wait for it rather than race it.
    const hooks = await waitFor("the cms endpoint's cursor to catch up", async () => {
      const health = await localRequest(network.us.localPort, "GET", "/api/v1/health", { token: network.us.tokens.operator });
      const all = health.json.webhooks as Hook[];
      return all.find((w) => w.name === "cms")?.behind === 0 ? all : undefined;
    });
    expect(hooks.find((w) => w.name === "cms")).to.deep.include({ behind: 0, lastError: null });
    // The endpoint that never answers is cut at its timeout and retried with backoff; it held nothing up.
    const stuck = await waitFor("the stuck endpoint's failures", async () => {
      const health = await localRequest(network.us.localPort, "GET", "/api/v1/health", { token: network.us.tokens.operator });
      const hook = (health.json.webhooks as Hook[]).find((w) => w.name === "stuck");
      return hook !== undefined && hook.attempts > 0 && hook.lastError !== null ? hook : undefined;
    });
    expect(stuck.behind).to.be.greaterThan(0);
    expect(stuck.lastError).to.match(/^WEBHOOK_DELIVERY_FAILED: no complete answer within 1000 ms/);
  });
});
