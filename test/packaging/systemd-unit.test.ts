/**
 * packaging/valise.service: systemd itself accepts it (systemd-analyze
 * verify, no warning), and it keeps the hardening the README promises.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { requireTool, SYSTEMD_ANALYZE } from "../required-tools.js";

const UNIT = readFileSync(new URL("../../packaging/valise.service", import.meta.url), "utf8");

describe("packaging: the systemd unit", function () {
  it("passes systemd-analyze verify without a warning", function () {
    const analyze = requireTool(this, SYSTEMD_ANALYZE);
    const dir = mkdtempSync(join(tmpdir(), "valise-unit-"));
    try {
      // verify checks that ExecStart's program exists: point it at this machine's node, wherever it is installed.
      writeFileSync(join(dir, "valise.service"), UNIT.replace("ExecStart=/usr/bin/node ", `ExecStart=${process.execPath} `));
      const result = spawnSync(analyze, ["verify", join(dir, "valise.service")], { encoding: "utf8", timeout: 60_000 });
      expect(result.status, result.stderr).to.equal(0);
      // Unknown or misspelt settings are only warnings to systemd: they must not pass silently here.
      expect(result.stderr.trim(), "systemd-analyze's warnings").to.equal("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs as a dedicated user, read-only but for its home, with the passphrase as a credential", function () {
    const settings = UNIT.split("\n").filter((line) => /^[A-Za-z]+=/.test(line));
    for (const wanted of [
      "User=valise",
      "ProtectSystem=strict",
      "NoNewPrivileges=yes",
      "PrivateTmp=yes",
      "ProtectHome=yes",
      "ReadWritePaths=/var/lib/valise",
      "StateDirectory=valise",
      "LoadCredential=passphrase:/etc/valise/passphrase",
      "CapabilityBoundingSet=",
    ]) {
      expect(settings, wanted).to.include(wanted);
    }
    const exec = settings.find((line) => line.startsWith("ExecStart="));
    expect(exec).to.contain("dist/scripts/valise.js start");
    expect(exec).to.contain("--passphrase-file %d/passphrase");
    expect(UNIT).to.not.match(/VALISE_PASSPHRASE/);
  });
});
