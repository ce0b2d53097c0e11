/**
 * `valise migrate [--dry-run]`: brings the home's store (SQLite or
 * PostgreSQL) to this Valise's schema, or says what it would apply.
 */
import type { Command } from "commander";
import { openHome } from "../../gateway/home.js";
import { migrateStore } from "../../gateway/store/migrate.js";
import { storeLocationOf } from "../../gateway/store/home-store.js";
import { type CliContext, type CommonOptions, homeDir, withCommonOptions } from "../cli/context.js";

/** Registers `valise migrate`. */
export function registerMigrate(program: Command, context: CliContext): void {
  withCommonOptions(
    program
      .command("migrate")
      .description("bring the database's schema up to this Valise's version (valise start does it too; read-only commands never do)")
      .option("--dry-run", "say which migrations would be applied, change nothing"),
    false,
  ).action(async (options: CommonOptions & { dryRun?: boolean }) => {
    const home = openHome(homeDir(options, context));
    const report = await migrateStore(storeLocationOf(home), { dryRun: options.dryRun === true });
    context.output(options.json === true).result(report, () => {
      const where = `${report.engine} ${report.location}`;
      if (report.migrations.length === 0) return `The ${where} schema is current (version ${report.fromVersion}).`;
      const list = report.migrations.map((name) => `  ${name}`).join("\n");
      return report.dryRun
        ? `Would migrate ${where} from version ${report.fromVersion}:\n${list}`
        : `Migrated ${where} from version ${report.fromVersion} to ${report.toVersion}:\n${list}`;
    });
  });
}
