/**
 * Shelf listings are remembered between requests (every request sent or
 * received reads its profile's shelf), but a version added — by this
 * process or by a CLI process beside it — is seen at once, even when it
 * lands within the file system's timestamp granularity of the listing.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync, statSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { shelvedVersions, latestVersion } from "../../../gateway/requirements/shelf.js";

describe("requirements shelf listings", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "valise-shelf-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("sees a version added after the listing was remembered", () => {
    writeFileSync(join(dir, "1.json"), "{}");
    const past = new Date(Date.now() - 60_000);
    utimesSync(dir, past, past);
    expect(shelvedVersions(dir)).to.deep.equal([1]); // remembered: the folder's mtime is old
    writeFileSync(join(dir, "2.json"), "{}");
    expect(latestVersion(dir)).to.equal(2);
    writeFileSync(join(dir, "10.json.tmp"), "{}");
    renameSync(join(dir, "10.json.tmp"), join(dir, "10.json"));
    expect(shelvedVersions(dir)).to.deep.equal([1, 2, 10]);
  });

  it("never remembers a listing of a folder changed moments ago (a coarse mtime would hide the next version)", () => {
    writeFileSync(join(dir, "1.json"), "{}");
    const recent = statSync(dir).mtime;
    expect(shelvedVersions(dir)).to.deep.equal([1]);
    writeFileSync(join(dir, "2.json"), "{}");
    utimesSync(dir, recent, recent); // as if both changes fell in one timestamp tick
    expect(shelvedVersions(dir)).to.deep.equal([1, 2]);
  });

  it("a remembered listing is a copy: callers cannot change it", () => {
    writeFileSync(join(dir, "3.json"), "{}");
    const past = new Date(Date.now() - 60_000);
    utimesSync(dir, past, past);
    shelvedVersions(dir).push(99);
    expect(shelvedVersions(dir)).to.deep.equal([3]);
  });
});
