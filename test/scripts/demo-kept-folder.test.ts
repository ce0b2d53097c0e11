/**
 * `npm run demo -- --keep` keeps the passphrase of the homes' keys beside
 * them, readable by the user only, in the form `--passphrase-file` reads:
 * the kept homes can be opened again (a command that decrypts a key works).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { initHome } from "../../gateway/home.js";
import { keepPassphrase, keptFolderHelp } from "../../scripts/demo/kept-folder.js";
import { valise } from "./cli-helpers.js";

describe("demo --keep: the passphrase kept beside the homes", function () {
  let workdir: string;

  beforeEach(function () {
    workdir = mkdtempSync(join(tmpdir(), "valise-demo-kept-"));
  });

  afterEach(function () {
    rmSync(workdir, { recursive: true, force: true });
  });

  it("writes it 0600 where --passphrase-file opens the kept home's keys, and says where", async function () {
    const passphrase = randomBytes(24).toString("base64url"); // as the demo makes it
    const home = join(workdir, "GB-UKCA");
    await initHome(home, { authority: "GB-UKCA", endpoint: "https://127.0.0.1:18443", profile: "ed25519", dns: [], ips: [], passphrase });
    const previous = process.umask(0o022);
    let file: string;
    try {
      file = keepPassphrase(workdir, passphrase);
    } finally {
      process.umask(previous);
    }
    expect(file).to.equal(join(workdir, "passphrase"));
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(readFileSync(file, "utf8").trim()).to.equal(passphrase);

    const bundle = await valise(["pki", "export-bundle", "--home", home, "--out", join(workdir, "bundle.json"), "--passphrase-file", file, "--json"]);
    expect(bundle.exit, bundle.stdout).to.equal(0);
    const listed = await valise(["pki", "list", "--home", home, "--json"]);
    expect(listed.exit, listed.stdout).to.equal(0);

    const help = keptFolderHelp(workdir, file, [home]);
    expect(help).to.contain(file).and.contain(`--home ${home} --passphrase-file ${file}`);
    expect(help).to.not.contain(passphrase);
    expect(() => keepPassphrase(workdir, "another")).to.throw(); // never overwritten
  });
});
