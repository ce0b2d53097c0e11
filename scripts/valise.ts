#!/usr/bin/env node
/**
 * The `valise` executable, compiled to dist/scripts/valise.js by
 * `npm run build` (package.json's `bin`): plain JavaScript at run time, no
 * TypeScript compiled on start. scripts/valise.mjs runs the same CLI from the
 * TypeScript sources (tests, the demo).
 */
import { main } from "./cli.js";

process.exitCode = await main(process.argv);
