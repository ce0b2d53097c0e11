/**
 * `valise outbox …`: what waits for delivery, what the gateway gave up on,
 * and the operator's two actions on it, retry and cancel. The commands work
 * on the home's store, with the gateway running or stopped (a running
 * gateway picks a retried envelope up within a second); retry and cancel
 * are audited, and sign the log when a passphrase is at hand.
 */
import type { Command } from "commander";
import { openHome } from "../../gateway/home.js";
import { withHomeStore } from "../../gateway/store/home-store.js";
import { inAuditedTransaction } from "../../gateway/audit/operator-events.js";
import { cancelDelivery, listOutbox, retryDelivery, showOutbox, type OutboxEntry } from "../../gateway/delivery/outbox-admin.js";
import { type CliContext, type CommonOptions, homeDir, withCommonOptions } from "../cli/context.js";
import { noteUnsigned, optionalOperatorSigning } from "../cli/log-signing.js";

/** One outbox row as a line of text. */
export function formatOutboxLine(entry: OutboxEntry): string {
  const error = entry.lastError === null ? "" : `  last error: ${entry.lastError}`;
  return `${entry.state.toUpperCase().padEnd(10)} ${entry.envelopeId}  ${entry.type.padEnd(20)} to ${entry.peer.padEnd(12)} case ${entry.caseId}  ${entry.attempts} attempt(s)${error}`;
}

/** One outbox row in full, as text. */
export function formatOutboxEntry(entry: OutboxEntry): string {
  return [
    `Envelope ${entry.envelopeId} (${entry.type}) to ${entry.peer}, case ${entry.caseId}`,
    `  state:        ${entry.state}${entry.inFlightOn === null ? "" : ` (being delivered by ${entry.inFlightOn})`}`,
    `  attempts:     ${entry.attempts}`,
    `  last error:   ${entry.lastError ?? "none"}`,
    `  queued:       ${entry.createdAt}`,
    ...(entry.retriedAt === null ? [] : [`  retried:      ${entry.retriedAt} (the give-up clock restarted then)`]),
    ...(entry.nextAttemptAt === null ? [] : [`  next attempt: ${entry.nextAttemptAt}`]),
    ...(entry.finishedAt === null ? [] : [`  finished:     ${entry.finishedAt}`]),
  ].join("\n");
}

type ActionOptions = CommonOptions & { reason?: string };

/** Registers `valise outbox` and its subcommands. */
export function registerOutbox(program: Command, context: CliContext): void {
  const outbox = program.command("outbox").description("see and act on envelopes waiting for delivery, or failed: list, show, retry, cancel");

  withCommonOptions(
    outbox
      .command("list")
      .description("envelopes waiting or failed (default), or of one state, newest first (reads the database)")
      .option("--state <state>", "open (pending and failed, the default), pending, failed, delivered or cancelled")
      .option("--peer <id>", "only envelopes to this peer authority")
      .option("--limit <n>", "at most this many (1 to 1000, default 100)"),
    false,
  ).action(async (options: CommonOptions & { state?: string; peer?: string; limit?: string }) => {
    const now = context.now();
    const entries = await withHomeStore(openHome(homeDir(options, context)), "refuse", (store) =>
      store.read((tx) => listOutbox(tx, { state: options.state, peer: options.peer, limit: options.limit }, now)),
    );
    context.output(options.json === true).result({ outbox: entries }, () => (entries.length === 0 ? "Nothing in the outbox to show." : entries.map(formatOutboxLine).join("\n")));
  });

  withCommonOptions(outbox.command("show").description("one envelope's delivery: state, attempts, last error, next attempt").argument("<envelopeId>", "the envelope id"), false).action(
    async (envelopeId: string, options: CommonOptions) => {
      const now = context.now();
      const entry = await withHomeStore(openHome(homeDir(options, context)), "refuse", (store) => store.read((tx) => showOutbox(tx, envelopeId, now)));
      context.output(options.json === true).result(entry, () => formatOutboxEntry(entry));
    },
  );

  const act = (verb: "retry" | "cancel", description: string): void => {
    withCommonOptions(outbox.command(verb).description(description).argument("<envelopeId>", "the envelope id (valise outbox list)").option("--reason <text>", "why, for the audit log"), true).action(
      async (envelopeId: string, options: ActionOptions) => {
        const home = openHome(homeDir(options, context));
        const output = context.output(options.json === true);
        const signing = await optionalOperatorSigning(home, options, context, output);
        const action = { envelopeId, actor: "operator", now: context.now(), reason: options.reason };
        const entry = await inAuditedTransaction(home, (tx) => (verb === "retry" ? retryDelivery(tx, action) : cancelDelivery(tx, action)), signing);
        if (signing === undefined) noteUnsigned(output);
        output.result(entry, () =>
          verb === "retry"
            ? `Envelope ${entry.envelopeId} to ${entry.peer} is due now (same id and bytes); a running gateway delivers it within a second.`
            : `Envelope ${entry.envelopeId} to ${entry.peer} is cancelled: the gateway will not deliver it (the case step it carries is not undone).`,
        );
      },
    );
  };
  act("retry", "deliver a pending or failed envelope now, restarting its give-up clock (audited)");
  act("cancel", "stop delivering a pending or failed envelope (audited)");
}
