/**
 * Start-up time of the installed `valise` (the compiled dist/, as an
 * operator runs it), beside bare `node -e 0` measured in the same rounds so
 * that the machine's noise falls on both alike.
 *
 *   npm run build && npm run bench:startup [-- --rounds 15]
 *
 * Each round runs every command once, in turn; the table gives the median
 * and the fastest of the rounds, and whether the median meets its target
 * (the product issue's: --version and --help under 0.25 s, pki list and
 * case list under 0.4 s). Commands run on a home made for the run with the
 * same CLI.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "dist", "scripts", "valise.js");

interface Measured {
  readonly label: string;
  readonly args: readonly string[];
  readonly targetSeconds: number | null;
  readonly seconds: number[];
}

function run(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return seconds;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function main(): void {
  const roundsArg = process.argv.indexOf("--rounds");
  const rounds = roundsArg === -1 ? 11 : Number(process.argv[roundsArg + 1]);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds is a whole number, at least 1");
  if (!existsSync(BIN)) {
    process.stderr.write(`no compiled CLI at ${BIN}: run npm run build first\n`);
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), "valise-bench-startup-"));
  const home = join(dir, "home");
  const env = { ...process.env, VALISE_PASSPHRASE: randomBytes(18).toString("base64url") };
  try {
    run([BIN, "init", "--home", home, "--authority", "GB-UKCA", "--endpoint", "https://127.0.0.1:18443", "--json"], env);
    run([BIN, "case", "list", "--home", home], env); // the first read creates nothing, but warms the disk cache like the others
    const measured: Measured[] = [
      { label: "node -e 0 (bare Node, same rounds)", args: ["-e", "0"], targetSeconds: null, seconds: [] },
      { label: "valise --version", args: [BIN, "--version"], targetSeconds: 0.25, seconds: [] },
      { label: "valise --help", args: [BIN, "--help"], targetSeconds: 0.25, seconds: [] },
      { label: "valise pki list", args: [BIN, "pki", "list", "--home", home], targetSeconds: 0.4, seconds: [] },
      { label: "valise case list", args: [BIN, "case", "list", "--home", home], targetSeconds: 0.4, seconds: [] },
    ];
    for (let round = 0; round < rounds; round += 1) {
      for (const m of measured) m.seconds.push(run(m.args, env));
    }
    const lines = [
      `start-up, ${rounds} rounds, Node ${process.version} (seconds, wall clock of the whole process)`,
      "",
      "| command | median | fastest | target |",
      "| --- | ---: | ---: | --- |",
      ...measured.map((m) => {
        const med = median(m.seconds);
        const target = m.targetSeconds === null ? "" : `< ${m.targetSeconds} s: ${med < m.targetSeconds ? "met" : "NOT met"}`;
        return `| ${m.label} | ${med.toFixed(3)} | ${Math.min(...m.seconds).toFixed(3)} | ${target} |`;
      }),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
