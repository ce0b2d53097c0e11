/**
 * Steps run by the two authorities' operators with the real `valise` CLI:
 * create each home and PKI, exchange trust bundles with the root fingerprint
 * checked out of band (and a wrong fingerprint refused), create API tokens.
 */
import { join } from "node:path";
import { expectThat } from "../check.js";
import { freePortPair } from "../ports.js";
import type { Report } from "../report.js";
import type { DemoAuthority, DemoState, DemoStep } from "../scenario.js";
import { runValise, type CliRun } from "../valise-cli.js";

/** `AB12…` → `AB:12:…`, as operators read it out. */
export function groupHex(hex: string): string {
  return (hex.toUpperCase().match(/.{2}/g) ?? []).join(":");
}

/** Runs `valise …args --json`, shows the command, and requires exit 0. */
export async function operator(state: DemoState, report: Report, args: readonly string[]): Promise<Record<string, unknown>> {
  const run = await runValise([...args, "--json"], { VALISE_PASSPHRASE: state.passphrase });
  report.block([`$ ${run.command}`]);
  expectOk(run);
  return run.json as Record<string, unknown>;
}

function expectOk(run: CliRun): void {
  expectThat(run.exitCode === 0 && typeof run.json === "object" && run.json !== null, `${run.command} failed (exit ${run.exitCode})`, [
    run.stdout.trim(),
    run.stderr.trim(),
  ]);
}

/** `valise init` for both authorities, each on free loopback ports. */
export const createHomes: DemoStep = {
  title: "Each central authority creates its gateway and its own PKI (valise init)",
  async run(state, report) {
    report.say("Each operator creates a home: configuration, a root CA and four certificates (tls, sign, encrypt, log).");
    report.say("Keys are stored encrypted; the passphrase comes from VALISE_PASSPHRASE and is never printed.");
    for (const authority of [state.gb, state.us]) {
      authority.peerPort = await freePortPair();
      authority.endpoint = `https://127.0.0.1:${authority.peerPort}`;
      report.say("");
      report.say(`${authority.name} (${authority.id}), peer API ${authority.endpoint}, local API 127.0.0.1:${authority.peerPort + 1}:`);
      const store = state.stores === undefined ? [] : ["--store", authority === state.gb ? state.stores.gb : state.stores.us];
      const created = await operator(state, report, ["init", "--home", authority.home, "--authority", authority.id, "--endpoint", authority.endpoint, ...store]);
      expectThat(created["authority"] === authority.id, `valise init created ${String(created["authority"])}, not ${authority.id}`);
      authority.rootFingerprint = String(created["rootFingerprint"]);
      report.ok(`home created; root certificate SHA-256 ${groupHex(authority.rootFingerprint)}`);
    }
  },
};

/** Bundles exchanged, fingerprints compared out of band, a wrong one refused. */
export const exchangeTrust: DemoStep = {
  title: "The authorities exchange trust bundles and check fingerprints out of band",
  async run(state, report) {
    const { gb, us } = state;
    const bundleOf = (authority: DemoAuthority): string => join(state.workdir, `${authority.id}.bundle.json`);
    for (const authority of [gb, us]) {
      report.say(`${authority.id} exports its signed trust bundle and sends it to the other authority:`);
      const exported = await operator(state, report, ["pki", "export-bundle", "--home", authority.home, "--out", bundleOf(authority)]);
      expectThat(exported["rootFingerprint"] === authority.rootFingerprint, "the bundle's root is not the root valise init created");
    }

    report.say("");
    report.say("Each operator reads its root fingerprint out to the other over a separate channel (phone, signed letter):");
    const spoken = new Map<string, string>();
    for (const authority of [gb, us]) {
      const answer = await operator(state, report, ["pki", "fingerprint", "--home", authority.home]);
      spoken.set(authority.id, String(answer["fingerprint"]));
      report.fact(authority.id, String(answer["grouped"]));
    }

    report.say("");
    report.say("First, US enters a fingerprint that does not match GB's bundle (a misheard digit, or a substituted bundle):");
    const heard = spoken.get(gb.id) ?? "";
    const wrong = `${heard.slice(0, 63)}${heard.endsWith("0") ? "1" : "0"}`;
    const refused = await runValise(["peers", "add", bundleOf(gb), "--home", us.home, "--fingerprint", wrong, "--json"], {});
    report.block([`$ ${refused.command}`]);
    const refusal = (refused.json as { error?: { code?: string; message?: string } } | undefined)?.error;
    expectThat(refused.exitCode !== 0 && refusal?.code === "PKI_FINGERPRINT_MISMATCH", "a wrong fingerprint was not refused with PKI_FINGERPRINT_MISMATCH", [
      refused.stdout.trim(),
    ]);
    report.ok(`refused, exit ${refused.exitCode}: ${refusal.code} — ${refusal.message ?? ""}`);
    const listed = await operator(state, report, ["peers", "list", "--home", us.home]);
    expectThat(Array.isArray(listed["peers"]) && listed["peers"].length === 0, "the refused bundle was stored anyway");
    report.ok("US still trusts no one: nothing was stored");

    report.say("");
    report.say("Now each adds the other's bundle with the fingerprint it was told:");
    for (const [self, peer] of [
      [us, gb],
      [gb, us],
    ] as const) {
      const added = await operator(state, report, ["peers", "add", bundleOf(peer), "--home", self.home, "--fingerprint", spoken.get(peer.id) ?? ""]);
      const summary = added["added"] as { authority?: string; endpoint?: string; rootFingerprint?: string } | undefined;
      expectThat(summary?.authority === peer.id && summary.rootFingerprint === peer.rootFingerprint, `${self.id} did not pin ${peer.id}'s root`);
      report.ok(`${self.id} trusts ${peer.id} at ${summary.endpoint ?? "?"}, pinned to root ${groupHex(peer.rootFingerprint).slice(0, 23)}…`);
    }
  },
};

/** `valise token create` for a caseworker and an auditor on both sides. */
export const createTokens: DemoStep = {
  title: "Operators create bearer tokens for the case-management system and an auditor",
  async run(state, report) {
    report.say("A token is printed once; the gateway keeps only its SHA-256. (The secrets are not shown here.)");
    for (const authority of [state.gb, state.us]) {
      for (const [role, name] of [
        ["caseworker", "case-management"],
        ["auditor", "internal-audit"],
      ] as const) {
        const created = await operator(state, report, ["token", "create", "--home", authority.home, "--role", role, "--name", name]);
        expectThat(typeof created["token"] === "string" && created["role"] === role, `no ${role} token was created for ${authority.id}`);
        authority.tokens[role] = created["token"];
        report.ok(`${authority.id}: ${role} token "${name}" (id ${String(created["tokenId"])})`);
      }
    }
  },
};
