#!/usr/bin/env node
// The `valise` CLI run from the TypeScript sources through tsx, for development,
// the tests and the demo. The installed `valise` executable is the compiled
// dist/scripts/valise.js (npm run build), which needs no tsx.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./cli.ts");
process.exitCode = await main(process.argv);
