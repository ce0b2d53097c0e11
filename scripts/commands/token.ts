/**
 * `valise token …`: bearer tokens of the local API. A token is printed once;
 * only its hash is stored.
 */
import { Argument, Option, type Command } from "commander";
import { openHome } from "../../gateway/home.js";
import type { Tx } from "../../gateway/store/store.js";
import { inAuditedTransaction } from "../../gateway/audit/operator-events.js";
import { createToken, listTokens, revokeToken, ROLES, type Role } from "../../gateway/auth/tokens.js";
import { appendEntry } from "../../gateway/audit/append.js";
import { type CliContext, type CommonOptions, homeDir, withCommonOptions } from "../cli/context.js";
import { noteUnsigned, optionalOperatorSigning } from "../cli/log-signing.js";

function withDatabase<T>(options: CommonOptions, context: CliContext, work: (tx: Tx) => Promise<T>): Promise<T> {
  return inAuditedTransaction(openHome(homeDir(options, context)), work);
}

/** Runs `work` (which appends an entry) and signs the log with it when the log key can be unlocked. */
async function withSignedDatabase<T>(options: CommonOptions, context: CliContext, work: (tx: Tx) => Promise<T>): Promise<T> {
  const home = openHome(homeDir(options, context));
  const output = context.output(options.json === true);
  const signing = await optionalOperatorSigning(home, options, context, output);
  const result = await inAuditedTransaction(home, work, signing);
  if (signing === undefined) noteUnsigned(output);
  return result;
}

/** Registers `valise token` and its subcommands. */
export function registerToken(program: Command, context: CliContext): void {
  const token = program.command("token").description("manage bearer tokens of the local API");

  withCommonOptions(
    token
      .command("create")
      .description("create a token for a role; it is printed once and only its hash is kept")
      .addOption(new Option("--role <role>", "caseworker, auditor or operator").choices([...ROLES]).makeOptionMandatory())
      .option("--name <name>", "who or what holds it, e.g. case-management", "unnamed"),
    true,
  ).action(async (options: CommonOptions & { role: Role; name: string }) => {
    const created = await withSignedDatabase(options, context, async (tx) => {
      const result = await createToken(tx, options.role, options.name, context.now());
      await appendEntry(tx, { kind: "token.created", actor: "operator", time: context.now(), details: { tokenId: result.record.tokenId, name: options.name, role: options.role } });
      return result;
    });
    context.output(options.json === true).result({ ...created.record, token: created.token }, () =>
      [`Token for ${created.record.role} "${created.record.name}" (id ${created.record.tokenId}); store it now, it is not shown again:`, created.token].join("\n"),
    );
  });

  withCommonOptions(token.command("list").description("list tokens (never their secrets)"), false).action(async (options: CommonOptions) => {
    const tokens = await withDatabase(options, context, listTokens);
    context.output(options.json === true).result({ tokens }, () =>
      tokens.length === 0
        ? "No tokens: valise token create --role caseworker --name NAME"
        : tokens.map((t) => `${t.tokenId}  ${t.role.padEnd(10)} ${t.name}  created ${t.createdAt}${t.revokedAt === null ? "" : `  REVOKED ${t.revokedAt}`}`).join("\n"),
    );
  });

  withCommonOptions(token.command("revoke").description("revoke a token by id").addArgument(new Argument("<id>", "the token id (valise token list)")), true).action(
    async (id: string, options: CommonOptions) => {
      const revoked = await withSignedDatabase(options, context, async (tx) => {
        const record = await revokeToken(tx, id, context.now());
        await appendEntry(tx, { kind: "token.revoked", actor: "operator", time: context.now(), details: { tokenId: id, name: record.name, role: record.role } });
        return record;
      });
      context.output(options.json === true).result({ revoked }, () => `Revoked token ${revoked.tokenId} (${revoked.role} "${revoked.name}")`);
    },
  );
}
