/**
 * The witness endpoint as a standard C2SP tlog-witness client sees it
 * (https://c2sp.org/tlog-witness): `POST <submission prefix>/add-checkpoint`
 * with the prefix `/peer/v1/witness`. Requests are built by hand from the
 * spec's grammar (no Valise request formatter), sent with bare headers, and
 * the 200 body is checked line by line and its cosignature verified by an
 * implementation of C2SP tlog-cosignature written here from the spec, not
 * by Valise's own verifier.
 */
import { createHash, generateKeyPairSync, verify, type KeyObject } from "node:crypto";
import https from "node:https";
import { expect } from "chai";
import type { Gateway } from "../../../gateway/gateway.js";
import { withStoredTree } from "../../../gateway/audit/stored-tree.js";
import { checkpointOrigin, formatCheckpoint, signCheckpoint } from "../../../gateway/audit/checkpoint.js";
import { consistencyProof } from "../../../gateway/audit/merkle.js";
import { createNetwork, peerTlsOptions, PASSPHRASE, type HttpAnswer, type TestNetwork } from "../fixtures.js";
import { exchangeRequest, logPublicKey, manualWitnessGateway, rows } from "./helpers.js";

const GB = "GB-UKCA";
const US = "US-DOJ-OIA";

/** The checkpoint body of a note: everything before the blank line. */
function bodyOf(note: string): string {
  return note.slice(0, note.indexOf("\n\n") + 1);
}

/**
 * C2SP tlog-cosignature v1, from the spec: the signature line is
 * `— <name> base64(key id ‖ timestamp ‖ signature)`, key id =
 * SHA-256(name ‖ 0x0A ‖ 0x04 ‖ Ed25519 public key)[:4], timestamp 8 bytes
 * big-endian, signed message `cosignature/v1\ntime <timestamp>\n<body>`.
 * Returns the timestamp of the line by `name` that verifies, or throws.
 */
function verifyCosignatureFromSpec(line: string, name: string, publicKey: KeyObject, checkpointBody: string): number {
  const match = /^— (\S+) ([A-Za-z0-9+/]+=*)\n$/.exec(line);
  if (match === null || match[1] !== name) throw new Error(`not a signature line by ${name}: ${JSON.stringify(line)}`);
  const blob = Buffer.from(match[2]!, "base64");
  expect(blob.length).to.equal(4 + 8 + 64);
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const keyId = createHash("sha256").update(Buffer.concat([Buffer.from(name, "utf8"), Buffer.from([0x0a, 0x04]), raw])).digest().subarray(0, 4);
  expect(blob.subarray(0, 4).equals(keyId), "key id").to.equal(true);
  const timestamp = Number(blob.readBigUInt64BE(4));
  const message = Buffer.from(`cosignature/v1\ntime ${timestamp}\n${checkpointBody}`, "utf8");
  expect(verify(null, message, publicKey, blob.subarray(12)), "Ed25519 signature").to.equal(true);
  return timestamp;
}

describe("witnessing: the endpoint a standard tlog-witness client uses", function () {
  this.timeout(60_000);
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;

  /** POSTs `body` as a plain HTTP client would: no content type, only the length. */
  const submit = (path: string, body: string): Promise<HttpAnswer> =>
    new Promise((resolve, reject) => {
      const bytes = Buffer.from(body, "utf8");
      const req = https.request(
        {
          host: "127.0.0.1",
          port: network.us.peerPort,
          method: "POST",
          path,
          ...peerTlsOptions({ ca: network.us.rootPem(), credentials: network.gb.tlsCredentials() }),
          headers: { "content-length": String(bytes.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
        },
      );
      req.on("error", reject);
      req.end(bytes);
    });
  /** The request body of the spec: `old N`, one base64 hash per line, a blank line, the checkpoint. */
  const requestBody = (oldSize: number, proof: readonly Buffer[], note: string): string => `old ${oldSize}\n${proof.map((hash) => `${hash.toString("base64")}\n`).join("")}\n${note}`;
  const witnessedSize = async (): Promise<number> => (await rows<{ size: number }>(us.context.store, "witnessed_logs", "origin = ?", checkpointOrigin(GB)))[0]?.size ?? 0;
  const ADD_CHECKPOINT = "/peer/v1/witness/add-checkpoint";
  const proofFrom = (oldSize: number, newSize: number) => gb.context.store.read((tx) => withStoredTree(tx, newSize, (tree) => consistencyProof(tree, oldSize, newSize)));

  before(async function () {
    network = await createNetwork();
    gb = manualWitnessGateway(network.gb);
    us = manualWitnessGateway(network.us);
    await gb.start();
    await us.start();
    await exchangeRequest(network.gb);
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  it("cosigns a first checkpoint (old 0, no proof): 200 with signature lines that verify under the spec's cosignature/v1", async function () {
    expect(await witnessedSize()).to.equal(0);
    const checkpoint = (await gb.context.checkpoints.sign());
    const answer = await submit(ADD_CHECKPOINT, requestBody(0, [], checkpoint.note));
    expect(answer.status, answer.text).to.equal(200);
    // One or more lines, each starting with U+2014 and ending in a newline.
    expect(answer.text).to.match(/^(— [^\n]+\n)+$/);
    const lines = answer.text.match(/[^\n]*\n/g)!;
    const time = verifyCosignatureFromSpec(lines[0]!, `valise-witness/${US}`, logPublicKey(network.us), bodyOf(checkpoint.note));
    expect(Math.abs(time - Date.now() / 1000)).to.be.lessThan(300);
    expect(await witnessedSize()).to.equal(checkpoint.size);
  });

  it("answers an old size that is not the one last cosigned with 409, text/x.tlog.size and that size", async function () {
    await exchangeRequest(network.gb);
    const checkpoint = (await gb.context.checkpoints.sign());
    const known = await witnessedSize();
    const answer = await submit(ADD_CHECKPOINT, requestBody(0, [], checkpoint.note));
    expect(answer.status).to.equal(409);
    expect(answer.headers["content-type"]).to.equal("text/x.tlog.size");
    expect(answer.text).to.equal(`${known}\n`);
  });

  it("cosigns the next checkpoint from the size the 409 named, with the consistency proof", async function () {
    const checkpoint = (await gb.context.checkpoints.sign());
    const known = await witnessedSize();
    expect(checkpoint.size).to.be.greaterThan(known);
    const proof = await proofFrom(known, checkpoint.size);
    const answer = await submit(ADD_CHECKPOINT, requestBody(known, proof, checkpoint.note));
    expect(answer.status, answer.text).to.equal(200);
    verifyCosignatureFromSpec(answer.text.match(/[^\n]*\n/g)![0]!, `valise-witness/${US}`, logPublicKey(network.us), bodyOf(checkpoint.note));
    expect(await witnessedSize()).to.equal(checkpoint.size);
  });

  it("answers old beyond the size 400, an unknown origin 404, no trusted signature 403, a bad proof 422", async function () {
    await exchangeRequest(network.gb);
    const checkpoint = (await gb.context.checkpoints.sign());
    const known = await witnessedSize();
    expect((await submit(ADD_CHECKPOINT, requestBody(checkpoint.size + 1, [], checkpoint.note))).status).to.equal(400);

    const stranger = generateKeyPairSync("ed25519").privateKey;
    const foreign = signCheckpoint(formatCheckpoint({ origin: "example.com/behind-the-sofa", size: 1, rootHash: Buffer.alloc(32, 1), extensions: [] }), {
      name: "example.com/behind-the-sofa",
      privateKey: stranger,
    });
    expect((await submit(ADD_CHECKPOINT, requestBody(0, [], foreign))).status).to.equal(404);

    const origin = checkpointOrigin(GB);
    const forged = signCheckpoint(formatCheckpoint({ origin, size: checkpoint.size, rootHash: checkpoint.root, extensions: [] }), { name: origin, privateKey: stranger });
    expect((await submit(ADD_CHECKPOINT, requestBody(known, await proofFrom(known, checkpoint.size), forged))).status).to.equal(403);

    const proof = await proofFrom(known, checkpoint.size);
    proof[proof.length - 1] = Buffer.alloc(32, 0x5a);
    expect((await submit(ADD_CHECKPOINT, requestBody(known, proof, checkpoint.note))).status).to.equal(422);
    expect(await witnessedSize()).to.equal(known);
  });

  it("answers the cosigned size with another root 409 (text/x.tlog.size); the old path is gone", async function () {
    const known = await witnessedSize();
    const origin = checkpointOrigin(GB);
    const logKey = network.gb.pki().loadPrivateKey("log", PASSPHRASE);
    const fork = signCheckpoint(formatCheckpoint({ origin, size: known, rootHash: Buffer.alloc(32, 0x42), extensions: [] }), { name: origin, privateKey: logKey });
    const answer = await submit(ADD_CHECKPOINT, requestBody(known, [], fork));
    expect(answer.status).to.equal(409);
    expect(answer.headers["content-type"]).to.equal("text/x.tlog.size");
    expect(answer.text).to.equal(`${known}\n`);

    const old = await submit("/peer/v1/log/witness", requestBody(known, [], (await gb.context.checkpoints.latest())!.note));
    expect(old.status).to.equal(404);
  });
});
