/**
 * A backup taken while 200 requests are in flight through a gateway running
 * as its own process (`valise start`): the archive verifies, and restoring
 * it gives a home whose log verifies — entry by entry against its signed
 * checkpoints, and through `audit export` and `audit verify` with the
 * bundles an auditor trusts. On PostgreSQL the database comes back from the
 * dump taken right after the backup, as the README says.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../../gateway/gateway.js";
import { startGatewayProcess, type GatewayProcess } from "../../../scripts/demo/gateway-process.js";
import { openHome } from "../../../gateway/home.js";
import { openHomeStore } from "../../../gateway/store/home-store.js";
import { checkLogIntegrity } from "../../../gateway/audit/integrity.js";
import { forEachEngine } from "../../store/engines.js";
import { createNetwork, example, localRequest, PASSPHRASE, type TestNetwork } from "../fixtures.js";
import { cli, moveToEngine } from "./helpers.js";

const REQUESTS = 200;

forEachEngine("backup under load", (engine) =>
  describe(`${REQUESTS} requests in flight`, function () {
    this.timeout(300_000);
    let network: TestNetwork;
    let gb: GatewayProcess | undefined;
    let us: Gateway | undefined;

    before(async function () {
      network = await createNetwork();
      await moveToEngine(network.gb, engine);
      await moveToEngine(network.us, engine);
      us = network.us.gateway();
      await us.start();
      gb = await startGatewayProcess({ home: network.gb.home, passphrase: PASSPHRASE });
    });

    after(async function () {
      await gb?.stop();
      await us?.stop();
      network?.cleanup();
    });

    it("gives an archive that verifies and restores to a home whose log verifies", async function () {
      const archive = join(network.dir, "gb-under-load.tar");
      let answered = 0;
      let backupStarted!: () => void;
      const halfway = new Promise<void>((resolve) => (backupStarted = resolve));
      const submissions = Array.from({ length: REQUESTS }, async () => {
        const answer = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: example("mla-request", "valid-email-records") });
        answered += 1;
        if (answered === 20) backupStarted();
        return answer.status;
      });
      await halfway;
      const inFlightAtStart = REQUESTS - answered;
      const backup = await cli(["backup", "--home", network.gb.home, "--out", archive, "--json"]);
      const statuses = await Promise.all(submissions);
      expect(backup.exit, backup.stdout + backup.stderr).to.equal(0);
      expect(statuses.every((status) => status === 201), statuses.join(",")).to.equal(true);
      expect(inFlightAtStart, "requests in flight when the backup started").to.be.greaterThan(100);
      const pgUrl = (JSON.parse(readFileSync(join(network.gb.home, "valise.json"), "utf8")) as { store?: { url?: string } }).store?.url;
      const dumpFile = join(network.dir, "gb.pgdump");
      if (pgUrl !== undefined) execFileSync("pg_dump", ["--format=custom", `--file=${dumpFile}`, pgUrl]);

      const verified = await cli(["backup", "verify", archive, "--fingerprint", network.gb.rootFingerprint, "--json"]);
      expect(verified.exit, verified.stdout + verified.stderr).to.equal(0);
      const manifestLog = verified.json<{ log: { size: number; root: string } }>().log;

      // Restore into a new home (on PostgreSQL the gateway is stopped and its database brought back from the dump).
      const target = join(network.dir, "gb-restored");
      if (pgUrl !== undefined) {
        await gb?.stop();
        gb = undefined;
        const name = new URL(pgUrl).pathname.slice(1);
        const admin = new URL(pgUrl);
        admin.pathname = "/postgres";
        execFileSync("psql", [admin.toString(), "-c", `DROP DATABASE ${name} WITH (FORCE)`, "-c", `CREATE DATABASE ${name}`]);
        execFileSync("pg_restore", ["--no-owner", `--dbname=${pgUrl}`, dumpFile]);
      }
      let restored = await cli(["restore", archive, "--home", target, "--fingerprint", network.gb.rootFingerprint, "--json"]);
      if (restored.exit === 5 && pgUrl !== undefined) {
        // The dump was taken while GB ran: it holds GB's instance lease, which the restore waits out (the error says until when).
        const refusal = restored.json<{ error: { code: string; details: { expiresAt: string } } }>().error;
        expect(refusal.code).to.equal("RESTORE_HOME_LIVE");
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(refusal.details.expiresAt) - Date.now()) + 200));
        restored = await cli(["restore", archive, "--home", target, "--fingerprint", network.gb.rootFingerprint, "--json"]);
      }
      expect(restored.exit, restored.stdout + restored.stderr).to.equal(0);
      const home = openHome(target);
      const store = await openHomeStore(home, "apply");
      try {
        const integrity = await store.read((tx) => checkLogIntegrity(tx, "GB-UKCA", network.gb.pki().certificates("log").map((c) => c.certificate.publicKey)));
        expect(integrity.entries).to.be.at.least(manifestLog.size);
      } finally {
        await store.close();
      }
      const out = join(network.dir, "gb-restored.audit.json");
      const gbBundle = join(network.dir, "gb.bundle.json");
      const usBundle = join(network.dir, "us.bundle.json");
      writeFileSync(gbBundle, JSON.stringify(await network.gb.bundle()));
      writeFileSync(usBundle, JSON.stringify(await network.us.bundle()));
      const exported = await cli(["audit", "export", "--home", target, "--out", out, "--json"]);
      expect(exported.exit, exported.stdout + exported.stderr).to.equal(0);
      const audit = await cli(["audit", "verify", out, "--trust", gbBundle, "--trust", usBundle, "--json"]);
      expect(audit.exit, audit.stdout + audit.stderr).to.equal(0);
      expect(audit.json<{ entries: number }>().entries).to.be.at.least(manifestLog.size);
    });
  }),
);
