/**
 * Trust refresh between running gateways: a peer's rotation and revocation
 * reach the other side through the peer API, verified against the pinned
 * root; an expiring own CRL is re-signed.
 */
import { expect } from "chai";
import { createNetwork, example, localRequest, waitFor, PASSPHRASE, type TestNetwork } from "../fixtures.js";
import type { Gateway } from "../../../gateway/gateway.js";
import { PeerClient } from "../../../gateway/delivery/peer-client.js";
import { refreshOwnCrl, refreshPeer } from "../../../gateway/peers/refresh.js";
import { loadPeerTrust } from "../../../pki/peers.js";
import { join } from "node:path";
import { createGateway } from "../../../gateway/gateway.js";
import { createLogger } from "../../../gateway/log.js";

/** A gateway that refreshes trust only when the test says so. */
function withoutAutomaticRefresh(home: string): Gateway {
  return createGateway({ home, passphrase: PASSPHRASE, logger: createLogger({ authority: "test", silent: true }), trustRefreshMs: 0 });
}

describe("gateway/peers/refresh", function () {
  let net: TestNetwork;
  let gb: Gateway;
  let us: Gateway;

  before(async function () {
    net = await createNetwork();
  });

  afterEach(async function () {
    await gb?.stop();
    await us?.stop();
  });

  after(function () {
    net.cleanup();
  });

  it("brings a peer's rotated key and new CRL over the peer API, then envelopes signed with the new key open", async function () {
    // GB rotates its sign key and revokes the previous one while both run; GB restarts to sign with the new key.
    const previous = net.gb.pki().currentCertificate("sign").serial;
    await net.gb.pki().rotate("sign", PASSPHRASE);
    await net.gb.pki().revoke(previous, "superseded", PASSPHRASE);
    gb = net.gb.gateway();
    us = withoutAutomaticRefresh(net.us.home);
    await Promise.all([gb.start(), us.start()]);

    const client = new PeerClient(us.context.identity, us.context.peers, () => new Date());
    try {
      const peer = us.context.peers.get("GB-UKCA");
      expect(await refreshPeer(us.context, client, peer)).to.equal("updated");
      const held = loadPeerTrust(join(net.us.home, "peers"), "GB-UKCA");
      expect(held.crl.entries.map((entry) => entry.serial)).to.include(previous);
      expect(held.certificates.find((c) => c.use === "sign" && c.status === "current")?.certificate.serial).to.equal(net.gb.pki().currentCertificate("sign").serial);
      // Nothing new the second time.
      expect(await refreshPeer(us.context, client, us.context.peers.get("GB-UKCA"))).to.equal("unchanged");
    } finally {
      client.close();
    }

    const submitted = await localRequest(net.gb.localPort, "POST", "/api/v1/requests", { token: net.gb.tokens.caseworker, body: example("mla-request", "valid-email-records") });
    expect(submitted.status, submitted.text).to.equal(201);
    await waitFor("the request to reach US", async () => {
      const answer = await localRequest(net.us.localPort, "GET", `/api/v1/cases/${submitted.json.caseId as string}`, { token: net.us.tokens.caseworker });
      return answer.status === 200 ? answer : undefined;
    });
  });

  it("re-signs the gateway's own CRL before it expires, and only then", async function () {
    us = withoutAutomaticRefresh(net.us.home);
    await us.start();
    const before = us.context.pki.crl().crlNumber ?? 0;
    expect(await refreshOwnCrl(us.context)).to.equal(false); // 7 days left, margin 3 days
    expect(await refreshOwnCrl(us.context, 8 * 24 * 3600 * 1000)).to.equal(true);
    expect(us.context.pki.crl().crlNumber).to.equal(before + 1);
  });
});
