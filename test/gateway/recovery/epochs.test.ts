/**
 * Log epochs beyond the recovery scenario: epoch origins; a gateway that was
 * not restored but is behind its peer never starts silently; a forced epoch
 * is visible to the peer as forced; a witness refuses checkpoints of a frozen
 * epoch and of one it was not told of, and the log's witness job then sends
 * the statement itself.
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../../gateway/gateway.js";
import { createGateway } from "../../../gateway/gateway.js";
import { createLogger } from "../../../gateway/log.js";
import { epochOrigin, parseLogOrigin } from "../../../gateway/audit/epoch-origin.js";
import { withStoredTree } from "../../../gateway/audit/stored-tree.js";
import { consistencyProof } from "../../../gateway/audit/merkle.js";
import { formatAddCheckpointRequest } from "../../../gateway/audit/witness-request.js";
import { createNetwork, localRequest, PASSPHRASE, peerRequest, type TestNetwork } from "../fixtures.js";
import { exchangeRequest, manualWitnessGateway, rows } from "../witness/helpers.js";
import { cli, errorCode } from "./helpers.js";

const GB = "GB-UKCA";
const US = "US-DOJ-OIA";

describe("log epochs: origins", function () {
  it("names epoch 1 as the log always was, and later epochs with a suffix, parsing only what it names", function () {
    expect(epochOrigin(GB, 1)).to.equal("valise/GB-UKCA");
    expect(epochOrigin(GB, 2)).to.equal("valise/GB-UKCA/epoch-2");
    expect(parseLogOrigin("valise/GB-UKCA/epoch-12")).to.deep.equal({ authority: GB, epoch: 12 });
    expect(parseLogOrigin("valise/GB-UKCA")).to.deep.equal({ authority: GB, epoch: 1 });
    for (const bad of ["valise/GB-UKCA/epoch-1", "valise/GB-UKCA/epoch-0", "valise/GB-UKCA/epoch-02", "valise/gb-ukca", "other/GB-UKCA", "valise/GB-UKCA/epoch-2/x"]) {
      expect(parseLogOrigin(bad), bad).to.equal(undefined);
    }
  });
});

describe("log epochs: behind, forced, frozen and unannounced", function () {
  this.timeout(120_000);
  let network: TestNetwork;
  let gb: Gateway | undefined;
  let us: Gateway | undefined;

  before(async function () {
    network = await createNetwork();
    us = manualWitnessGateway(network.us);
    gb = manualWitnessGateway(network.gb);
    await us.start();
    await gb.start();
    await exchangeRequest(network.gb);
    expect((await gb.witness.runNow({ sign: true })).find((s) => s.peer === US)?.outcome).to.equal("cosigned");
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  it("refuses to start a copy of the home that is behind what the peer cosigned (not restored), saying what to run", async function () {
    await gb!.stop();
    const copy = join(network.dir, "GB-UKCA-copy");
    cpSync(network.gb.home, copy, { recursive: true });
    gb = manualWitnessGateway(network.gb);
    await gb.start();
    await exchangeRequest(network.gb);
    expect((await gb.witness.runNow({ sign: true })).find((s) => s.peer === US)?.outcome).to.equal("cosigned");
    await gb.stop();
    gb = undefined;
    const stale = createGateway({ home: copy, passphrase: PASSPHRASE, logger: createLogger({ authority: GB, silent: true }) });
    const error = await stale.start().then(
      () => undefined,
      (e: unknown) => e as { code?: string; message?: string },
    );
    await stale.stop();
    expect(error?.code).to.equal("AUDIT_LOG_BEHIND_PEERS");
    expect(error?.message).to.match(/cosigned \d+ entries of valise\/GB-UKCA; the log holds \d+/);
    expect(error?.message).to.include(`valise audit new-epoch --home ${copy}`);
  });

  it("starts a forced epoch only when asked, and the peer sees it as forced", async function () {
    expect(errorCode(await cli(["audit", "new-epoch", "--home", network.gb.home, "--json"]))).to.equal("AUDIT_EPOCH_NOT_NEEDED");
    const forced = await cli(["audit", "new-epoch", "--home", network.gb.home, "--force", "--reason", "drill", "--json"]);
    expect(forced.exit, forced.stdout + forced.stderr).to.equal(0);
    expect(forced.json<{ statement: { forced: boolean; lost: unknown }; peers: Array<{ outcome: string }> }>()).to.deep.include({ peers: [{ peer: US, outcome: "accepted", alarmsResolved: [] }] });
    expect(forced.json<{ statement: { forced: boolean; lost: unknown } }>().statement).to.deep.include({ forced: true, lost: null });
    const accepted = await rows<{ entry: string }>(us!.context.store, "audit_entries", "kind = 'log.epoch.accepted'");
    expect(JSON.parse(accepted[0]!.entry).details).to.deep.include({ peer: GB, epoch: 2, forced: true, lost: null });
    const health = await localRequest(network.us.localPort, "GET", "/api/v1/health", { token: network.us.tokens.operator });
    expect(health.json.peers.find((p: { authority: string }) => p.authority === GB)).to.deep.include({ logConsistent: true, logEpoch: 2 });
  });

  it("refuses a checkpoint of the frozen epoch (410 WITNESS_EPOCH_CLOSED)", async function () {
    // GB's last checkpoint of epoch 1, signed again onto a bigger tree would be a fork: the witness does not even look.
    const epoch1 = (await rows<{ size: number; note: string }>(us!.context.store, "witnessed_logs", "origin = ?", `valise/${GB}`))[0]!;
    const answer = await peerRequest(network.us.peerPort, "POST", "/peer/v1/witness/add-checkpoint", {
      ca: network.us.rootPem(),
      credentials: network.gb.tlsCredentials(),
      body: formatAddCheckpointRequest({ oldSize: epoch1.size, proof: [], checkpoint: epoch1.note }),
      headers: { "content-type": "text/plain" },
    });
    expect(answer.status, answer.text).to.equal(410);
    expect(answer.json.error.code).to.equal("WITNESS_EPOCH_CLOSED");
  });

  it("answers an epoch it was not told of with 404 WITNESS_EPOCH_UNKNOWN, and the log's witness job sends the statement", async function () {
    await us!.stop();
    us = undefined;
    const third = await cli(["audit", "new-epoch", "--home", network.gb.home, "--force", "--json"]);
    expect(third.exit, third.stdout + third.stderr).to.equal(0);
    expect(third.json()).to.deep.include({ epoch: 3, peers: [{ peer: US, outcome: "unreachable" }] });
    us = manualWitnessGateway(network.us);
    await us.start();
    gb = manualWitnessGateway(network.gb);
    await gb.start();
    // What the witness says to the checkpoint alone.
    const note = (await gb.context.checkpoints.latest())!;
    const direct = await peerRequest(network.us.peerPort, "POST", "/peer/v1/witness/add-checkpoint", {
      ca: network.us.rootPem(),
      credentials: network.gb.tlsCredentials(),
      body: formatAddCheckpointRequest({ oldSize: 0, proof: await gb.context.store.read((tx) => withStoredTree(tx, note.size, (reader) => consistencyProof(reader, 0, note.size))), checkpoint: note.note }),
      headers: { "content-type": "text/plain" },
    });
    expect(direct.status, direct.text).to.equal(404);
    expect(direct.json.error.code).to.equal("WITNESS_EPOCH_UNKNOWN");
    // The witness job: statement first, then the checkpoint.
    const submitted = (await gb.witness.runNow({ sign: true })).find((s) => s.peer === US);
    expect(submitted?.outcome, JSON.stringify(submitted)).to.equal("cosigned");
    expect((await rows<{ origin: string }>(us.context.store, "witnessed_logs", "origin = ?", epochOrigin(GB, 3))).length).to.equal(1);
  });
});
