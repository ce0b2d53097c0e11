/**
 * valise.json against the PKI: a typo in `authority` stops the gateway before
 * it signs anything (and never turns into a false AUDIT_LOG_TAMPERED), an
 * endpoint edited in one copy only is refused, and `setEndpoint` moves every
 * copy — valise.json, the PKI index the bundle carries, the tls
 * certificate's SANs — so a peer reaches the gateway at its new address.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { createNetwork, freePort, PASSPHRASE, count, type TestAuthority, type TestNetwork } from "../fixtures.js";
import { openStore } from "../../../gateway/store/store.js";
import { setEndpoint } from "../../../gateway/config/set-endpoint.js";
import { openHome } from "../../../gateway/home.js";
import { updatePeer } from "../../../pki/peers.js";
import { decodeTrustBundle } from "../../../pki/bundle.js";
import { step, submit, waitForStatus } from "../cases/helpers.js";

function editConfig(authority: TestAuthority, edit: (config: Record<string, any>) => void): void {
  const file = join(authority.home, "valise.json");
  const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, any>;
  edit(config);
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
}

async function signed(authority: TestAuthority): Promise<{ entries: number; checkpoints: number }> {
  const store = await openStore({ kind: "sqlite", path: join(authority.home, "valise.db") }, "refuse");
  try {
    return { entries: await count(store, "audit_entries"), checkpoints: (await store.inspect<{ n: number }>("SELECT COUNT(*) AS n FROM audit_checkpoints"))[0]!.n };
  } finally {
    await store.close();
  }
}

async function startFails(authority: TestAuthority): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  const gateway = authority.gateway();
  try {
    await gateway.start();
  } catch (error) {
    return error as { code: string; message: string; details: Record<string, unknown> };
  }
  await gateway.stop();
  throw new Error(`the gateway of ${authority.authority} started`);
}

describe("valise.json agrees with the PKI", function () {
  let network: TestNetwork;

  beforeEach(async function () {
    network = await createNetwork();
  });

  afterEach(function () {
    network?.cleanup();
  });

  it("a typo in authority stops a new home's start with CONFIG_IDENTITY_MISMATCH before anything is signed; fixed, it starts", async function () {
    const before = await signed(network.gb);
    expect(before.checkpoints).to.equal(0);
    editConfig(network.gb, (config) => (config["authority"] = "GB-UKCX"));
    const refused = await startFails(network.gb);
    expect(refused.code, refused.message).to.equal("CONFIG_IDENTITY_MISMATCH");
    expect(refused.details).to.include({ configured: "GB-UKCX", pki: "GB-UKCA" });
    expect(await signed(network.gb)).to.deep.equal(before);

    editConfig(network.gb, (config) => (config["authority"] = "GB-UKCA"));
    const gateway = network.gb.gateway();
    await gateway.start();
    await gateway.stop();
    expect((await signed(network.gb)).checkpoints).to.be.greaterThan(0);
  });

  it("a typo in authority on a home that has run is CONFIG_IDENTITY_MISMATCH, not AUDIT_LOG_TAMPERED", async function () {
    const gateway = network.us.gateway();
    await gateway.start();
    await gateway.stop();
    const before = await signed(network.us);
    editConfig(network.us, (config) => (config["authority"] = "US-DOJ-OIB"));
    expect((await startFails(network.us)).code).to.equal("CONFIG_IDENTITY_MISMATCH");
    expect(await signed(network.us)).to.deep.equal(before);
  });

  it("an endpoint or TLS name edited in valise.json alone is CONFIG_ENDPOINT_MISMATCH", async function () {
    const original = JSON.parse(readFileSync(join(network.gb.home, "valise.json"), "utf8")) as Record<string, any>;
    editConfig(network.gb, (config) => (config["endpoint"] = "https://127.0.0.1:1"));
    const moved = await startFails(network.gb);
    expect(moved.code, moved.message).to.equal("CONFIG_ENDPOINT_MISMATCH");
    expect(moved.details).to.include({ field: "endpoint", configured: "https://127.0.0.1:1", pki: network.gb.endpoint });

    editConfig(network.gb, (config) => {
      Object.assign(config, original);
      config["tls"] = { dns: ["valise.ukca.example"], ips: ["127.0.0.1"] };
    });
    expect((await startFails(network.gb)).code).to.equal("CONFIG_ENDPOINT_MISMATCH");
    // The one command that repairs it still opens the home; the others do not.
    expect(() => openHome(network.gb.home)).to.throw().with.property("code", "CONFIG_ENDPOINT_MISMATCH");
    expect(openHome(network.gb.home, { endpoint: false }).config.authority).to.equal("GB-UKCA");
  });

  it("setEndpoint moves valise.json, the bundle's endpoint and the tls certificate together; the peer reaches the new address", async function () {
    const port = await freePort();
    const change = await setEndpoint(network.gb.home, { endpoint: `https://127.0.0.1:${port}/`, dns: ["valise.ukca.example"], passphrase: PASSPHRASE });
    expect(change).to.deep.include({ previous: network.gb.endpoint, endpoint: `https://127.0.0.1:${port}`, peerApi: { host: "127.0.0.1", port } });

    const home = openHome(network.gb.home); // agrees again
    expect(home.config.endpoint).to.equal(`https://127.0.0.1:${port}`);
    expect(home.config.tls).to.deep.equal({ dns: ["valise.ukca.example"], ips: ["127.0.0.1"] });
    const pki = network.gb.pki();
    const tls = pki.currentCertificate("tls");
    expect(tls.serial).to.equal(change.certificate.serial);
    expect(tls.san.dns).to.deep.equal(["valise.ukca.example"]);
    expect(pki.certificates("tls").map((c) => c.status)).to.deep.equal(["current", "previous"]);
    const bundle = await network.gb.bundle();
    expect(decodeTrustBundle(bundle).payload.endpoint).to.equal(`https://127.0.0.1:${port}`);

    // US takes the new bundle; its status update reaches GB at the new address, checked against the new certificate.
    await updatePeer(join(network.us.home, "peers"), bundle);
    const gb = network.gb.gateway();
    const us = network.us.gateway();
    const started = await gb.start();
    await us.start();
    try {
      expect(started.peerPort).to.equal(port);
      const caseId = await submit(network.gb, network.us);
      await step(network.us, caseId, { step: "acknowledge" });
      await waitForStatus(network.gb, caseId, "acknowledged");
    } finally {
      await gb.stop();
      await us.stop();
    }
  });

  it("setEndpoint refuses a URL that is not https and a wrong passphrase, changing nothing", async function () {
    const before = readFileSync(join(network.gb.home, "valise.json"), "utf8");
    const index = readFileSync(join(network.gb.home, "pki", "index.json"), "utf8");
    for (const [endpoint, passphrase, code] of [
      ["http://127.0.0.1:9000", PASSPHRASE, "CONFIG_INVALID"],
      ["https://127.0.0.1:9000", "not the passphrase", "PKI_BAD_PASSPHRASE"],
    ] as const) {
      let caught: { code?: string } | undefined;
      try {
        await setEndpoint(network.gb.home, { endpoint, passphrase });
      } catch (error) {
        caught = error as { code?: string };
      }
      expect(caught?.code, endpoint).to.equal(code);
    }
    expect(readFileSync(join(network.gb.home, "valise.json"), "utf8")).to.equal(before);
    expect(readFileSync(join(network.gb.home, "pki", "index.json"), "utf8")).to.equal(index);
  });
});
