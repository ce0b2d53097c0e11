/**
 * The auditor's proof: each gateway's checkpoint cosigned by the other, both
 * logs exported with `valise audit export`, each verified offline with
 * `valise audit verify` from the bundles the other side received out of
 * band — and an edited export caught, naming the entry that was changed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectThat } from "../check.js";
import { apiOf, tokenOf, type DemoAuthority, type DemoState, type DemoStep } from "../scenario.js";
import { runValise } from "../valise-cli.js";
import { operator } from "./authorities.js";

const bundleOf = (state: DemoState, authority: DemoAuthority): string => join(state.workdir, `${authority.id}.bundle.json`);
const exportOf = (state: DemoState, authority: DemoAuthority): string => join(state.workdir, `${authority.id}.audit.json`);

/** Waits (up to 15 s) until `self`'s latest checkpoint carries `witness`'s cosignature; returns its size. */
async function cosignedCheckpoint(self: DemoAuthority, witness: DemoAuthority): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answer = await apiOf(self).get("/api/v1/audit/checkpoint", tokenOf(self, "auditor"));
    const body = answer.body as { size?: number; cosignatures?: Array<{ witness: string }> };
    if (answer.status === 200 && body.cosignatures?.some((c) => c.witness === `valise-witness/${witness.id}`) === true) return body.size ?? 0;
    expectThat(Date.now() < deadline, `${witness.id} did not cosign ${self.id}'s checkpoint within 15 s`, [JSON.stringify(answer.body)]);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Witnessing, export and offline verification of both logs. */
export const verifyAuditLogs: DemoStep = {
  title: "Each log is witnessed by the other gateway, exported, and verified offline by the other side",
  async run(state, report) {
    const { gb, us } = state;
    report.say("Each gateway submits its signed checkpoint to the other, which cosigns it after checking it extends");
    report.say("what it cosigned before: neither authority can now rewrite its history without the other noticing.");
    for (const [self, witness] of [
      [gb, us],
      [us, gb],
    ] as const) {
      const size = await cosignedCheckpoint(self, witness);
      report.ok(`${self.id}'s checkpoint of ${size} entries is cosigned by ${witness.id}`);
    }

    report.say("");
    report.say("Each operator exports the log for the auditors (entries, checkpoints, cosignatures, receipts):");
    for (const authority of [gb, us]) {
      const exported = await operator(state, report, ["audit", "export", "--home", authority.home, "--out", exportOf(state, authority)]);
      report.fact(`  ${authority.id}`, `${String(exported["entries"])} entries, ${String(exported["checkpoints"])} checkpoints, latest cosigned by ${JSON.stringify(exported["cosignatures"])}`);
    }

    report.say("");
    report.say("Each side's auditor verifies the other's export offline, with only the bundles exchanged out of band:");
    for (const [auditor, log] of [
      [gb, us],
      [us, gb],
    ] as const) {
      const verified = await operator(state, report, ["audit", "verify", exportOf(state, log), "--trust", bundleOf(state, log), "--trust", bundleOf(state, auditor)]);
      const cosignatures = verified["cosignatures"] as { verified: number; witnesses: string[] };
      const receipts = verified["receipts"] as { issued: number; heldVerified: number };
      expectThat(verified["verified"] === true, `${log.id}'s log did not verify`);
      expectThat(cosignatures.witnesses.includes(`valise-witness/${auditor.id}`), `${log.id}'s export carries no verified cosignature of ${auditor.id}`);
      expectThat(receipts.issued + receipts.heldVerified > 0, `${log.id}'s export has no verified receipt`);
      report.ok(
        `${auditor.id} verified ${log.id}'s log: ${String(verified["entries"])} entries, root ${String(verified["rootHash"]).slice(0, 16)}…, ` +
          `${cosignatures.verified} cosignature(s), ${receipts.issued} receipt(s) issued and ${receipts.heldVerified} held, all matching`,
      );
    }

    report.say("");
    report.say("Finally, someone edits GB's export to change who sent the request; verification catches it:");
    const tampered = JSON.parse(readFileSync(exportOf(state, gb), "utf8")) as { entries: Array<{ index: number; kind: string; actor: string }> };
    const sent = tampered.entries.find((entry) => entry.kind === "envelope.sent");
    expectThat(sent !== undefined, "GB's export has no envelope.sent entry");
    sent.actor = "token:someone-else";
    const tamperedFile = join(state.workdir, `${gb.id}.audit.tampered.json`);
    writeFileSync(tamperedFile, JSON.stringify(tampered));
    const refused = await runValise(["audit", "verify", tamperedFile, "--trust", bundleOf(state, gb), "--trust", bundleOf(state, us), "--json"], {});
    report.block([`$ ${refused.command}`]);
    const error = (refused.json as { error?: { code?: string; message?: string; details?: { index?: number } } } | undefined)?.error;
    expectThat(refused.exitCode === 6 && error?.code === "AUDIT_VERIFY_FAILED", `the edited export was not refused (exit ${refused.exitCode})`, [refused.stdout, refused.stderr]);
    expectThat(error.details?.index === sent.index, `verification named index ${String(error.details?.index)}, not the edited entry ${sent.index}`);
    report.block([`error[${error.code}]: ${error.message ?? ""}`]);
    report.ok(`the edited export is refused (exit 6), naming entry #${sent.index}`);
  },
};
