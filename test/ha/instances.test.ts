/**
 * Gateways that share the work: two instances of GB on one PostgreSQL store
 * behind a TCP load balancer (the peer API) and one US gateway, all real
 * `valise start` processes. 500 requests are submitted alternately through
 * both instances' local APIs (with Idempotency-Keys, retried on the other
 * instance when one fails, as a case-management system would); the leader
 * instance is killed with SIGKILL in the middle. Afterwards every request is
 * delivered exactly once with one receipt, both sides hold the same cases,
 * GB's log is dense and verifies offline, US saw no inconsistent checkpoint
 * of GB's log, and the survivor took the leader lease over within the lease
 * time. Then a lone PostgreSQL-backed gateway is killed mid-load: nothing it
 * acknowledged is lost.
 */
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import http from "node:http";
import { expect } from "chai";
import { openHome } from "../../gateway/home.js";
import { openHomeStore } from "../../gateway/store/home-store.js";
import type { Store } from "../../gateway/store/store.js";
import { startGatewayProcess, type GatewayProcess } from "../../scripts/demo/gateway-process.js";
import { createNetwork, example, freePort, PASSPHRASE, waitFor, type TestNetwork } from "../gateway/fixtures.js";
import { valise } from "../scripts/cli-helpers.js";
import { requirePostgres } from "../store/engines.js";
import { startTcpBalancer, type TcpBalancer } from "./tcp-balancer.js";

const REQUESTS = 500;
const LEASE_SECONDS = 5;

/** POSTs a request to a local API; resolves with the status and JSON, or rejects when the connection fails. */
function submit(port: number, token: string, key: string, body: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(
      { host: "127.0.0.1", port, method: "POST", path: "/api/v1/requests", headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": data.length, "idempotency-key": key }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(data);
  });
}

function setLeaseSeconds(home: string, seconds: number): void {
  const file = join(home, "valise.json");
  const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  writeFileSync(file, `${JSON.stringify({ ...config, instances: { leaseSeconds: seconds } }, null, 2)}\n`);
}

describe("several instances on one PostgreSQL store", function () {
  this.timeout(600_000);
  let network: TestNetwork;
  let gbStore: Store;
  let usStore: Store;
  const processes: GatewayProcess[] = [];
  let balancer: TcpBalancer | undefined;
  const document = example("mla-request", "valid-email-records");

  before(async function () {
    await requirePostgres(this);
    network = await createNetwork({ store: "postgres" });
    setLeaseSeconds(network.gb.home, LEASE_SECONDS);
    gbStore = await openHomeStore(openHome(network.gb.home), "apply");
    usStore = await openHomeStore(openHome(network.us.home), "apply");
  });

  after(async function () {
    for (const gateway of processes) gateway.kill();
    await balancer?.close();
    await gbStore?.close();
    await usStore?.close();
    await network?.cleanup();
  });

  const one = async <T>(store: Store, sql: string, params: Array<string | number> = []): Promise<T> => (await store.inspect<T>(sql, params))[0]!;

  it("two GB instances deliver 500 requests exactly once while the leader is killed, and the survivor takes over within the lease time", async function () {
    const peerPorts = [await freePort(), await freePort()];
    const localPorts = [await freePort(), await freePort()];
    // The endpoint in GB's certificate and bundle is the balancer's address.
    balancer = await startTcpBalancer(network.gb.peerPort, peerPorts);
    const startGb = (i: number) =>
      startGatewayProcess({
        home: network.gb.home,
        passphrase: PASSPHRASE,
        logFile: join(network.dir, `gb-${i}.log`),
        args: ["--instance", `gb-${i}`, "--peer-port", String(peerPorts[i]), "--local-port", String(localPorts[i])],
      });
    const gbs = [await startGb(0), await startGb(1)];
    processes.push(...gbs);
    processes.push(await startGatewayProcess({ home: network.us.home, passphrase: PASSPHRASE, logFile: join(network.dir, "us.log") }));

    const leaderNow = (): Promise<string | undefined> => gbStore.inspect<{ owner: string }>("SELECT owner FROM leases WHERE name = 'leader'").then((rows) => rows[0]?.owner);
    await waitFor("a leader", leaderNow);
    let victim = 0;
    let killedAt = 0;
    const alive = [true, true];

    // 500 submissions, alternately through both instances, 16 at a time; each retried (same key) on the other instance when one fails.
    const caseIds = new Array<string | undefined>(REQUESTS);
    let acknowledged = 0;
    let next = 0;
    let retries = 0;
    const worker = async (): Promise<void> => {
      while (next < REQUESTS) {
        const i = next++;
        for (let attempt = 0; ; attempt += 1) {
          const target = attempt === 0 ? i % 2 : (i + attempt) % 2;
          if (!alive[target] && attempt < 20) {
            continue;
          }
          try {
            const answer = await submit(localPorts[target]!, network.gb.tokens.caseworker, `ha-${i}`, document);
            if (answer.status === 201) {
              caseIds[i] = answer.json.caseId as string;
              acknowledged += 1;
              if (acknowledged === 200 && killedAt === 0) {
                killedAt = -1;
                victim = (await leaderNow()) === "gb-1" ? 1 : 0; // the instance leading now
                gbs[victim]!.kill(); // SIGKILL, mid-load
                alive[victim] = false;
                killedAt = Date.now();
              }
              break;
            }
            // 409 IDEMPOTENCY_KEY_IN_USE: the dead instance held the key; it frees when that instance's lease expires.
            expect([409, 503], JSON.stringify(answer.json)).to.include(answer.status);
          } catch {
            // the connection failed: the instance is gone
          }
          retries += 1;
          if (attempt > 400) throw new Error(`request ${i} was never acknowledged`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(killedAt, "the leader was killed mid-load").to.be.greaterThan(0);
    const survivor = 1 - victim;
    expect(new Set(caseIds).size).to.equal(REQUESTS);

    // Everything acknowledged is delivered: by the survivor, including what the dead instance had claimed.
    await waitFor(
      "every request delivered",
      async () => ((await one<{ n: number }>(gbStore, "SELECT COUNT(*) AS n FROM outbox WHERE state = 'delivered'")).n >= REQUESTS ? true : undefined),
      180_000,
      200,
    );
    const newLeader = await one<{ owner: string; acquired_at: number }>(gbStore, "SELECT owner, acquired_at FROM leases WHERE name = 'leader'");
    expect(newLeader.owner).to.equal(`gb-${survivor}`);
    const takeoverMs = newLeader.acquired_at - killedAt;
    // Within the lease time, plus the third of it between two renewals.
    expect(takeoverMs).to.be.at.most(LEASE_SECONDS * 1000 + (LEASE_SECONDS * 1000) / 3 + 1000);

    // Exactly once: one case per request on both sides, one receipt each.
    const gbCases = (await gbStore.inspect<{ case_id: string }>("SELECT case_id FROM cases WHERE direction = 'outbound'")).map((r) => r.case_id).sort();
    const usCases = (await usStore.inspect<{ case_id: string }>("SELECT case_id FROM cases WHERE direction = 'inbound'")).map((r) => r.case_id).sort();
    expect(gbCases).to.deep.equal([...(caseIds as string[])].sort());
    expect(usCases).to.deep.equal(gbCases);
    const usRequests = await one<{ n: number; distinct: number }>(usStore, "SELECT COUNT(*) AS n, COUNT(DISTINCT envelope_id) AS distinct FROM envelopes WHERE direction = 'inbound' AND type = 'mla-request'");
    expect(usRequests).to.deep.equal({ n: REQUESTS, distinct: REQUESTS });
    const receipts = await one<{ n: number; distinct: number }>(gbStore, "SELECT COUNT(*) AS n, COUNT(DISTINCT envelope_id) AS distinct FROM audit_entries WHERE kind = 'receipt.received'");
    expect(receipts).to.deep.equal({ n: REQUESTS, distinct: REQUESTS });
    const usReceived = await one<{ n: number }>(usStore, "SELECT COUNT(*) AS n FROM audit_entries WHERE kind = 'envelope.received'");
    expect(usReceived.n).to.equal(REQUESTS);

    // GB's log: dense, one checkpoint per size, never contradicted at its witness, and it verifies offline.
    const log = await one<{ n: number; top: number }>(gbStore, "SELECT COUNT(*) AS n, MAX(idx) AS top FROM audit_entries");
    expect(log.top + 1).to.equal(log.n);
    expect(await usStore.inspect("SELECT id FROM log_alarms")).to.deep.equal([]);
    const env = { VALISE_PASSPHRASE: PASSPHRASE };
    const files = { gbBundle: join(network.dir, "gb.bundle.json"), usBundle: join(network.dir, "us.bundle.json"), audit: join(network.dir, "gb.audit.json") };
    expect((await valise(["pki", "export-bundle", "--home", network.gb.home, "--out", files.gbBundle], env)).exit).to.equal(0);
    expect((await valise(["pki", "export-bundle", "--home", network.us.home, "--out", files.usBundle], env)).exit).to.equal(0);
    const exported = await valise(["audit", "export", "--home", network.gb.home, "--out", files.audit, "--json"], env);
    expect(exported.exit, exported.stdout + exported.stderr).to.equal(0);
    const verified = await valise(["audit", "verify", files.audit, "--trust", files.gbBundle, "--trust", files.usBundle, "--json"], {});
    expect(verified.exit, verified.stdout).to.equal(0);

    // Nothing is left leased to the dead instance.
    expect(await gbStore.inspect("SELECT envelope_id FROM outbox WHERE lease_owner = ? AND state = 'pending'", [`gb-${victim}`])).to.deep.equal([]);
    console.log(
      `      HA figures: ${REQUESTS} acknowledged, ${usRequests.n} delivered, ${usRequests.n - usRequests.distinct} duplicates, leader taken over ${takeoverMs} ms after the kill (lease ${LEASE_SECONDS} s), ${retries} client retries, balancer relayed ${[...balancer.relayed.values()].join("/")}`,
    );
    await gbs[survivor]!.stop();
    await balancer.close();
    balancer = undefined;
  });

  it("a lone PostgreSQL-backed gateway killed mid-load loses nothing it acknowledged", async function () {
    const gb = await startGatewayProcess({ home: network.gb.home, passphrase: PASSPHRASE, logFile: join(network.dir, "gb-lone.log"), args: ["--instance", "gb-lone"] });
    processes.push(gb);
    const port = Number(new URL(gb.started.localUrl).port);
    const acked: string[] = [];
    let killed = false;
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        try {
          const answer = await submit(port, network.gb.tokens.caseworker, `lone-${i}`, document);
          if (answer.status === 201) acked.push(answer.json.caseId as string);
          if (acked.length >= 80 && !killed) {
            killed = true;
            gb.kill();
          }
        } catch {
          // cut by the kill
        }
      }),
    );
    expect(killed).to.equal(true);
    const restarted = await startGatewayProcess({ home: network.gb.home, passphrase: PASSPHRASE, logFile: join(network.dir, "gb-lone.log"), args: ["--instance", "gb-lone"] });
    processes.push(restarted);
    for (const caseId of acked) {
      expect((await gbStore.inspect("SELECT case_id FROM cases WHERE case_id = ?", [caseId])).length, caseId).to.equal(1);
    }
    await waitFor(
      "every acknowledged request at US",
      async () => {
        const held = new Set((await usStore.inspect<{ case_id: string }>("SELECT case_id FROM cases WHERE direction = 'inbound'")).map((r) => r.case_id));
        return acked.every((id) => held.has(id)) ? true : undefined;
      },
      120_000,
      200,
    );
    console.log(`      lone instance killed after ${acked.length} acknowledgements: all ${acked.length} present and delivered after the restart`);
    await restarted.stop();
  });
});
