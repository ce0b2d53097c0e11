/**
 * `npm run fuzz -- [--seed N] [--cases N] [--concurrency N]`: the hostile-input
 * generator (scripts/fuzz/). Starts a real gateway process and its peers'
 * keys, throws generated hostile input at the peer API (as a genuine peer,
 * over mutual TLS) and at the local API (every role, no token, bad tokens),
 * prints a summary table, and exits 1 on any 5xx, hang, crash, wrong
 * acceptance or refusal, wrong code, lost or wrongly stored envelope, or
 * error logged by the gateway. The same seed and case count give the same cases.
 */
import { randomInt } from "node:crypto";
import { clean, runFuzz, summaryTable } from "./fuzz/run.js";

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

function integer(name: string, fallback: number): number {
  const text = option(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    process.stderr.write(`error[USAGE]: --${name} must be a non-negative integer\n`);
    process.exit(2);
  }
  return value;
}

const seed = integer("seed", randomInt(2 ** 31));
const cases = integer("cases", 5000);
const concurrency = integer("concurrency", 8);
process.stdout.write(`fuzz: seed ${seed}, ${cases} cases, ${concurrency} at a time (reproduce with --seed ${seed} --cases ${cases})\n`);
const report = await runFuzz({ seed, cases, concurrency, progress: (line) => process.stdout.write(`  ${line}\n`) });
process.stdout.write(`\n${summaryTable(report)}\n`);
if (report.failures.length > 0) {
  process.stdout.write(`\n${report.failures.length} case(s) broke their oracle (first 40):\n`);
  for (const failure of report.failures.slice(0, 40)) process.stdout.write(`  #${failure.index} ${failure.family} — ${failure.kind}: expected ${failure.expected}, got ${failure.got}\n`);
}
for (const line of report.errorLines.slice(0, 10)) process.stdout.write(`  gateway error: ${line.slice(0, 400)}\n`);
process.exit(clean(report) ? 0 : 1);
