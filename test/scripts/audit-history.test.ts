/**
 * An auditor's verification judges each signature at the time it was made:
 * revoking a rotated-out `sign` key (superseded, or keyCompromise with an
 * invalidity date after its last honest signature) leaves both gateways'
 * honest exports verifying with the new bundles; a receipt signed after a
 * key became untrusted still fails; and an export verifies 30 days later
 * (injected clock), long after every CRL in the bundles passed its
 * nextUpdate.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import Database from "better-sqlite3";
import { valise, type CliRun } from "./cli-helpers.js";
import { createNetwork, PASSPHRASE, type TestAuthority, type TestNetwork } from "../gateway/fixtures.js";
import { exchangeRequest, manualWitnessGateway } from "../gateway/witness/helpers.js";

const env = { VALISE_PASSPHRASE: PASSPHRASE };
const DAY = 24 * 60 * 60 * 1000;

/** `receivedAt` of the newest receipt `authority` issued. */
function lastReceiptTime(authority: TestAuthority): Date {
  const db = new Database(join(authority.home, "valise.db"), { readonly: true });
  try {
    const { receipt } = db.prepare("SELECT receipt FROM envelopes WHERE direction = 'inbound' AND receipt IS NOT NULL ORDER BY stored_at DESC LIMIT 1").get() as { receipt: string };
    return new Date((JSON.parse(Buffer.from(receipt.split(".")[1]!, "base64url").toString("utf8")) as { receivedAt: string }).receivedAt);
  } finally {
    db.close();
  }
}

function signSerials(home: string): { current: string; previous: string[] } {
  const db = JSON.parse(readFileSync(join(home, "pki", "index.json"), "utf8")) as { certificates: Array<{ use: string; serial: string; status: string }> };
  const sign = db.certificates.filter((c) => c.use === "sign");
  return { current: sign.find((c) => c.status === "current")!.serial, previous: sign.filter((c) => c.status === "previous").map((c) => c.serial) };
}

async function ok(run: Promise<CliRun>): Promise<CliRun> {
  const result = await run;
  expect(result.exit, result.stdout + result.stderr).to.equal(0);
  return result;
}

describe("valise audit verify judges signatures at the time they were made", function () {
  this.timeout(120_000);
  let network: TestNetwork;
  let dir: string;
  const files: Record<string, string> = {};

  /** Two gateways exchange one request (US signs the receipt with its current sign key), then stop. */
  async function exchangeOnce(): Promise<void> {
    const gb = manualWitnessGateway(network.gb);
    const us = manualWitnessGateway(network.us);
    await gb.start();
    await us.start();
    try {
      await exchangeRequest(network.gb);
      await us.witness.runNow({ sign: true });
      await gb.witness.runNow({ sign: true });
    } finally {
      await gb.stop();
      await us.stop();
    }
  }

  before(async function () {
    network = await createNetwork();
    dir = mkdtempSync(join(network.dir, "audit-history-"));
    for (const name of ["gb.bundle", "us.bundle", "us-before.bundle", "us-early.bundle", "gb.audit", "us.audit"]) files[name] = join(dir, `${name}.json`);

    // Receipt 1 by US's first sign key K1; the bundle an auditor kept from then.
    await exchangeOnce();
    await ok(valise(["pki", "export-bundle", "--home", network.us.home, "--out", files["us-before.bundle"]!, "--json"], env));
    const k1 = signSerials(network.us.home).current;

    // K1 rotated out and revoked (superseded); receipt 2 by K2.
    await ok(valise(["pki", "rotate", "sign", "--home", network.us.home, "--json"], env));
    await ok(valise(["pki", "revoke", k1, "--reason", "superseded", "--home", network.us.home, "--json"], env));
    await exchangeOnce();
    const k2 = signSerials(network.us.home).current;
    const receipt2 = lastReceiptTime(network.us);

    // A copy where K2 was compromised before receipt 2 was signed.
    const early = join(dir, "us-early-home");
    cpSync(network.us.home, early, { recursive: true });
    const revokeLater = () => new Date(Date.now() + 60_000); // the revocation comes after the invalidity date, on any clock
    for (const [home, invalidSince] of [
      [network.us.home, new Date(receipt2.getTime() + 1000)],
      [early, new Date(receipt2.getTime() - 2000)],
    ] as const) {
      await ok(valise(["pki", "rotate", "sign", "--home", home, "--json"], env));
      const revoked = await ok(
        valise(["pki", "revoke", k2, "--reason", "keyCompromise", "--invalid-since", invalidSince.toISOString(), "--home", home, "--json"], env, revokeLater),
      );
      expect(revoked.json<{ revoked: { invalidSince: string } }>().revoked.invalidSince).to.equal(new Date(Math.floor(invalidSince.getTime() / 1000) * 1000).toISOString());
    }

    await ok(valise(["pki", "export-bundle", "--home", network.us.home, "--out", files["us.bundle"]!, "--json"], env));
    await ok(valise(["pki", "export-bundle", "--home", early, "--out", files["us-early.bundle"]!, "--json"], env));
    await ok(valise(["pki", "export-bundle", "--home", network.gb.home, "--out", files["gb.bundle"]!, "--json"], env));
    await ok(valise(["audit", "export", "--home", network.us.home, "--out", files["us.audit"]!, "--json"], env));
    await ok(valise(["audit", "export", "--home", network.gb.home, "--out", files["gb.audit"]!, "--json"], env));
  });

  after(function () {
    network?.cleanup();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const verify = (file: string, bundles: string[], now?: () => Date): Promise<CliRun> =>
    valise(["audit", "verify", files[file]!, ...bundles.flatMap((b) => ["--trust", files[b]!]), "--json"], {}, now);

  it("both honest exports verify with the bundles issued after revoking K1 (superseded) and K2 (keyCompromise, invalid since after its last receipt)", async function () {
    const us = await verify("us.audit", ["us.bundle", "gb.bundle"]);
    expect(us.exit, us.stdout).to.equal(0);
    expect(us.json<{ receipts: { issued: number } }>().receipts.issued).to.equal(2);
    const gb = await verify("gb.audit", ["gb.bundle", "us.bundle"]);
    expect(gb.exit, gb.stdout).to.equal(0);
    expect(gb.json<{ receipts: { heldVerified: number } }>().receipts.heldVerified).to.equal(2);
    // The bundle from before the revocations agrees.
    expect((await verify("gb.audit", ["gb.bundle", "us-before.bundle"])).exit).to.equal(0);
  });

  it("a receipt signed after its key became untrusted (invalidity date before it) still fails", async function () {
    for (const [file, trust] of [
      ["us.audit", ["us-early.bundle", "gb.bundle"]],
      ["gb.audit", ["gb.bundle", "us-early.bundle"]],
    ] as const) {
      const run = await verify(file, [...trust]);
      expect(run.exit, run.stdout).to.equal(6);
      const error = run.json<{ error: { code: string; details: { reason: string } } }>().error;
      expect(error.code).to.equal("AUDIT_VERIFY_FAILED");
      expect(error.details.reason).to.contain("RECEIPT_SIGNER_UNTRUSTED");
    }
  });

  it("30 days later (injected clock), with every CRL past its nextUpdate, the same exports verify with the same bundles, old and new", async function () {
    const later = () => new Date(Date.now() + 30 * DAY);
    for (const [file, trust] of [
      ["us.audit", ["us.bundle", "gb.bundle"]],
      ["gb.audit", ["gb.bundle", "us.bundle"]],
      ["gb.audit", ["gb.bundle", "us-before.bundle"]],
    ] as const) {
      const run = await verify(file, [...trust], later);
      expect(run.exit, `${file} ${trust.join(" ")}: ${run.stdout}`).to.equal(0);
    }
    // Still judged: the early compromise fails 30 days later too.
    expect((await verify("gb.audit", ["gb.bundle", "us-early.bundle"], later)).exit).to.equal(6);
  });

  it("pki revoke --invalid-since: refused with another reason or an unreadable time, and nothing is revoked", async function () {
    const tls = JSON.parse(readFileSync(join(network.gb.home, "pki", "index.json"), "utf8")).certificates.find((c: { use: string; status: string }) => c.use === "tls" && c.status === "current").serial as string;
    const crl = readFileSync(join(network.gb.home, "pki", "crl.pem"), "utf8");
    const superseded = await valise(["pki", "revoke", tls, "--reason", "superseded", "--invalid-since", "2026-01-01T00:00:00Z", "--home", network.gb.home, "--json"], env);
    expect([superseded.exit, superseded.json<{ error: { code: string } }>().error.code]).to.deep.equal([2, "PKI_INVALID_ARGUMENT"]);
    const unreadable = await valise(["pki", "revoke", tls, "--reason", "keyCompromise", "--invalid-since", "yesterday", "--home", network.gb.home, "--json"], env);
    expect([unreadable.exit, unreadable.json<{ error: { code: string } }>().error.code]).to.deep.equal([2, "USAGE"]);
    expect(readFileSync(join(network.gb.home, "pki", "crl.pem"), "utf8")).to.equal(crl);
  });
});
