/**
 * `valise requirements validate|set|show|fetch`: an authored profile is
 * checked (and refused with its code and exit status, publishing nothing),
 * published as a signed version with an audit entry, refused when not newer,
 * fetched by the peer's running gateway and shown readably, in French when
 * asked.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import { homePaths } from "../../gateway/home.js";
import { ownShelf, shelvedVersions } from "../../gateway/requirements/shelf.js";
import { count, createNetwork, example, PASSPHRASE, type TestNetwork } from "../gateway/fixtures.js";
import { openHomeStore } from "../../gateway/store/home-store.js";
import { openHome } from "../../gateway/home.js";
import { valise, type CliRun } from "./cli-helpers.js";

function codeOf(run: CliRun): string {
  return run.json<{ error: { code: string } }>().error.code;
}

describe("valise requirements", function () {
  let network: TestNetwork;
  let dir: string;
  let us: Gateway | undefined;
  let gb: Gateway | undefined;
  const profileFile = (name: string, change: (p: any) => void = () => {}): string => {
    const profile = example("requirements-profile", "valid-us-doj-oia") as any;
    change(profile);
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  };
  const env = (): NodeJS.ProcessEnv => ({ VALISE_HOME: network.us.home, VALISE_PASSPHRASE: PASSPHRASE });

  before(async function () {
    network = await createNetwork();
    dir = mkdtempSync(join(tmpdir(), "valise-requirements-cli-"));
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("validates an authored profile, and refuses a broken one with its code and exit 2", async function () {
    const ok = await valise(["requirements", "validate", profileFile("ok"), "--json"], { VALISE_HOME: network.us.home });
    expect(ok.exit).to.equal(0);
    expect(ok.json()).to.deep.equal({ valid: true, authority: "US-DOJ-OIA", version: 1, rules: 10 });
    const broken = await valise(["requirements", "validate", profileFile("broken", (p) => delete p.timeLimits), "--json"], {});
    expect([broken.exit, codeOf(broken)]).to.deep.equal([2, "REQUIREMENTS_INVALID"]);
    const unknown = await valise(["requirements", "validate", profileFile("unknown", (p) => (p.rules[0].rule = "whatever")), "--json"], {});
    expect([unknown.exit, codeOf(unknown)]).to.deep.equal([2, "REQUIREMENTS_RULE_UNKNOWN"]);
    const other = await valise(["requirements", "validate", profileFile("ok"), "--json"], { VALISE_HOME: network.gb.home });
    expect([other.exit, codeOf(other)]).to.deep.equal([2, "REQUIREMENTS_INVALID"]);
    const missing = await valise(["requirements", "validate", join(dir, "nope.json"), "--json"], {});
    expect([missing.exit, codeOf(missing)]).to.deep.equal([4, "FILE_UNREADABLE"]);
  });

  it("publishes version 1 signed, with an audit entry; an invalid or older profile publishes nothing", async function () {
    const invalid = await valise(["requirements", "set", profileFile("invalid", (p) => (p.contactPoints = [])), "--json"], env());
    expect(codeOf(invalid)).to.equal("REQUIREMENTS_INVALID");
    expect(shelvedVersions(ownShelf(homePaths(network.us.home)))).to.deep.equal([]);
    const set = await valise(["requirements", "set", profileFile("v1"), "--json"], env());
    expect(set.exit, set.stdout + set.stderr).to.equal(0);
    expect(set.json<{ published: { version: number; previous: null } }>().published).to.include({ version: 1, previous: null });
    const again = await valise(["requirements", "set", profileFile("v1-again"), "--json"], env());
    expect([again.exit, codeOf(again)]).to.deep.equal([5, "REQUIREMENTS_STALE"]);
    expect(shelvedVersions(ownShelf(homePaths(network.us.home)))).to.deep.equal([1]);
    const store = await openHomeStore(openHome(network.us.home), "apply");
    try {
      expect(await count(store, "audit_entries", "kind = ?", "requirements.published")).to.equal(1);
    } finally {
      await store.close();
    }
    const noPassphrase = await valise(["requirements", "set", profileFile("v2", (p) => (p.version = 2)), "--json"], { VALISE_HOME: network.us.home });
    expect([noPassphrase.exit, codeOf(noPassphrase)]).to.deep.equal([3, "PKI_PASSPHRASE_MISSING"]);
  });

  it("shows this authority's profile readably", async function () {
    const shown = await valise(["requirements", "show", "--lang", "es"], { VALISE_HOME: network.us.home });
    expect(shown.exit).to.equal(0);
    expect(shown.stdout).to.contain("Requirements of US-DOJ-OIA, version 1");
    expect(shown.stdout).to.contain("24/7: Computer Crime and Intellectual Property Section");
    expect(shown.stdout).to.contain("[es] El contenido almacenado");
    expect(shown.stdout).to.contain("[en] Quote the text of each provision"); // no Spanish: the profile's language
  });

  it("fetches a peer's profile through the running gateway and shows it in French", async function () {
    const none = await valise(["requirements", "show", "US-DOJ-OIA", "--json"], { VALISE_HOME: network.gb.home });
    expect([none.exit, codeOf(none)]).to.deep.equal([4, "REQUIREMENTS_NOT_FOUND"]);
    us = network.us.gateway();
    gb = network.gb.gateway();
    await us.start();
    await gb.start();
    const caseworker = await valise(["requirements", "fetch", "US-DOJ-OIA", "--json"], { VALISE_HOME: network.gb.home, VALISE_TOKEN: network.gb.tokens.caseworker });
    expect([caseworker.exit, codeOf(caseworker)]).to.deep.equal([6, "FORBIDDEN"]);
    const fetched = await valise(["requirements", "fetch", "US-DOJ-OIA", "--json"], { VALISE_HOME: network.gb.home, VALISE_TOKEN: network.gb.tokens.operator });
    // GB's trust refresh may have fetched it already at start: updated or unchanged, version 1 either way.
    expect(fetched.json<{ version: number }>().version).to.equal(1);
    expect(fetched.json<{ outcome: string }>().outcome).to.be.oneOf(["updated", "unchanged"]);
    const shown = await valise(["requirements", "show", "US-DOJ-OIA", "--lang", "fr"], { VALISE_HOME: network.gb.home });
    expect(shown.exit).to.equal(0);
    expect(shown.stdout).to.contain("Requirements of US-DOJ-OIA, version 1");
    expect(shown.stdout).to.contain("[fr] Le contenu stocké n'est communiqué qu'en vertu d'un mandat");
    expect(shown.stdout).to.contain("content-data: a period of at most 90 days");
  });
});
