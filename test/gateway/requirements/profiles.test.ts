/**
 * Forged, stale and invalid profiles are refused with their code, and the
 * version in force stays: GB checks what it is offered as US's profile
 * against US's pinned trust bundle (acceptPeerProfile, the function the
 * fetch over the peer API calls).
 */
import { expect } from "chai";
import { join } from "node:path";
import { CompactSign } from "jose";
import { homePaths } from "../../../gateway/home.js";
import { documentValidator } from "../../../schemas/validate.js";
import { PeerDirectory, type Peer } from "../../../gateway/peers/directory.js";
import { acceptPeerProfile } from "../../../gateway/requirements/fetch.js";
import { homeSigner } from "../../../gateway/requirements/publish.js";
import { signProfile, PROFILE_TYP } from "../../../gateway/requirements/signed-profile.js";
import { latestVersion, peerShelf, readLatest } from "../../../gateway/requirements/shelf.js";
import { canonicalBytes } from "../../../gateway/envelope/canonical-json.js";
import { isValiseError } from "../../../pki/errors.js";
import { createNetwork, example, PASSPHRASE, type TestNetwork } from "../fixtures.js";

function usProfile(version: number, change: (p: any) => void = () => {}): Record<string, unknown> {
  const profile = example("requirements-profile", "valid-us-doj-oia") as any;
  profile.version = version;
  profile.issuedAt = new Date().toISOString();
  change(profile);
  return profile;
}

describe("requirements profiles refused", function () {
  let network: TestNetwork;
  let us: Peer;

  before(async function () {
    network = await createNetwork();
    us = new PeerDirectory(join(network.gb.home, "peers")).get("US-DOJ-OIA");
  });

  after(() => network?.cleanup());

  const paths = () => homePaths(network.gb.home);
  const signedByUs = async (profile: object) => signProfile(profile, await homeSigner(network.us.pki(), PASSPHRASE));
  const accept = (file: unknown) => acceptPeerProfile(paths(), documentValidator(), us, file, new Date());
  async function refusal(file: unknown): Promise<string> {
    try {
      await accept(file);
    } catch (error) {
      return isValiseError(error) ? error.code : String(error);
    }
    return "accepted";
  }
  const inForce = () => readLatest(peerShelf(paths(), "US-DOJ-OIA"), documentValidator())?.compiled.profile.version;

  it("accepts US's version 2, signed by its current sign key", async function () {
    expect((await accept(await signedByUs(usProfile(2)))).outcome).to.equal("updated");
    expect(inForce()).to.equal(2);
  });

  it("refuses a profile signed by another authority's key (REQUIREMENTS_SIGNATURE)", async function () {
    const forged = await signProfile(usProfile(3), await homeSigner(network.gb.pki(), PASSPHRASE));
    expect(await refusal(forged)).to.equal("REQUIREMENTS_SIGNATURE");
    expect(inForce()).to.equal(2);
  });

  it("refuses a profile changed after signing (REQUIREMENTS_SIGNATURE)", async function () {
    const signed = await signedByUs(usProfile(3));
    const [header, , signature] = signed.jws.split(".");
    const payload = Buffer.from(canonicalBytes(usProfile(3, (p) => (p.rules = [])) as never)).toString("base64url");
    expect(await refusal({ "valise-requirements": 1, jws: `${header}.${payload}.${signature}` })).to.equal("REQUIREMENTS_SIGNATURE");
    expect(inForce()).to.equal(2);
  });

  it("refuses alg none and a JWS of another typ (REQUIREMENTS_SIGNATURE)", async function () {
    const payload = Buffer.from(canonicalBytes(usProfile(3) as never)).toString("base64url");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: PROFILE_TYP })).toString("base64url")}.${payload}.`;
    expect(await refusal({ "valise-requirements": 1, jws: none })).to.equal("REQUIREMENTS_SIGNATURE");
    const signer = await homeSigner(network.us.pki(), PASSPHRASE);
    const otherTyp = await new CompactSign(canonicalBytes(usProfile(3) as never)).setProtectedHeader({ alg: "EdDSA", typ: "valise-trust-bundle+jws", kid: signer.kid }).sign(signer.privateKey);
    expect(await refusal({ "valise-requirements": 1, jws: otherTyp })).to.equal("REQUIREMENTS_SIGNATURE");
    expect(inForce()).to.equal(2);
  });

  it("refuses an older version, and the same version with other content (REQUIREMENTS_STALE)", async function () {
    expect(await refusal(await signedByUs(usProfile(1)))).to.equal("REQUIREMENTS_STALE");
    expect(await refusal(await signedByUs(usProfile(2, (p) => (p.rules = []))))).to.equal("REQUIREMENTS_STALE");
    expect(inForce()).to.equal(2);
    expect(readLatest(peerShelf(paths(), "US-DOJ-OIA"), documentValidator())?.compiled.profile.rules.length).to.equal(10);
  });

  it("takes the same version with the same content again as unchanged", async function () {
    const held = readLatest(peerShelf(paths(), "US-DOJ-OIA"), documentValidator())!;
    expect(readLatest(peerShelf(paths(), "US-DOJ-OIA"), documentValidator()), "an unchanged profile is read once").to.equal(held);
    expect((await accept(held.file)).outcome).to.equal("unchanged");
  });

  it("refuses a profile invalid against its schema, or about another authority (REQUIREMENTS_INVALID)", async function () {
    expect(await refusal(await signedByUs(usProfile(3, (p) => (p.contactPoints = p.contactPoints.filter((c: { kind: string }) => c.kind !== "24-7")))))).to.equal("REQUIREMENTS_INVALID");
    expect(await refusal(await signedByUs(usProfile(3, (p) => (p.authority = "GB-UKCA"))))).to.equal("REQUIREMENTS_INVALID");
    expect(await refusal({ "valise-requirements": 1 })).to.equal("REQUIREMENTS_INVALID");
    expect(await refusal("not a profile")).to.equal("REQUIREMENTS_INVALID");
    expect(inForce()).to.equal(2);
  });

  it("refuses a profile with a rule this Valise does not know (REQUIREMENTS_RULE_UNKNOWN)", async function () {
    const unknown = usProfile(3, (p) => p.rules.push({ id: "us-vibes", rule: "good-faith", explanation: { en: "Be nice." } }));
    expect(await refusal(await signedByUs(unknown))).to.equal("REQUIREMENTS_RULE_UNKNOWN");
    expect(inForce()).to.equal(2);
    expect(latestVersion(peerShelf(paths(), "US-DOJ-OIA"))).to.equal(2);
  });
});
