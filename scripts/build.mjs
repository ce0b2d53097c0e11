#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm install` / `npm ci` on a clone
// builds): compiles the gateway, the PKI, the schemas' code and the CLI with
// tsc (tsconfig.build.json) into a fresh output folder, then copies the files
// the compiled code reads at run time beside itself (JSON Schemas, the
// configuration schema, SQL migrations) to the same relative paths, so the
// output runs without the TypeScript sources or tsx.
// Usage: node scripts/build.mjs [OUTDIR]   (default dist)
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(root, process.argv[2] ?? "dist");

/** [folder, which files of it]: folders are not walked further. */
const ASSETS = [
  ["schemas", (name) => name.endsWith(".json")],
  ["gateway/config", (name) => name.endsWith(".json")],
  ["gateway/store/sqlite/migrations", (name) => name.endsWith(".sql")],
  ["gateway/store/postgres/migrations", (name) => name.endsWith(".sql")],
];

// A fresh folder: a file removed from the sources (a migration, a command) must not survive in the output.
rmSync(out, { recursive: true, force: true });
const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
const compiled = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", out], { stdio: "inherit" });
if (compiled.status !== 0) {
  process.stderr.write(`build: tsc failed (exit ${compiled.status ?? compiled.signal})\n`);
  process.exit(1);
}
// The executable itself (package.json's bin): runnable as ./dist/scripts/valise.js too.
chmodSync(join(out, "scripts", "valise.js"), 0o755);
let copied = 0;
for (const [folder, wanted] of ASSETS) {
  const to = join(out, folder);
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
    if (!entry.isFile() || !wanted(entry.name)) continue;
    cpSync(join(root, folder, entry.name), join(to, entry.name));
    copied += 1;
  }
}
process.stdout.write(`build: compiled into ${relative(process.cwd(), out) || "."} and copied ${copied} run-time files\n`);
