/**
 * What build of Valise is running: the package's name and version, read from
 * the package.json above this module (the same file from the sources and
 * from the compiled `dist/`), and the Node version. Shown by
 * `valise --version`, the health view and the `valise_build_info` gauge, so an
 * operator can tell which release answers.
 */
import { existsSync, readFileSync } from "node:fs";

/** The running build. */
export interface BuildInfo {
  /** The npm package name, e.g. `@valise-mla/gateway`. */
  readonly name: string;
  readonly version: string;
  readonly node: string;
}

/**
 * Reads the nearest package.json that declares the `valise` executable,
 * walking up from this module; `unknown` when none is found (a copied file).
 */
export function buildInfo(): BuildInfo {
  let dir = new URL("./", import.meta.url);
  for (let depth = 0; depth < 5; depth += 1) {
    const file = new URL("package.json", dir);
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: unknown; version?: unknown; bin?: Record<string, unknown> };
      if (typeof pkg.bin === "object" && pkg.bin !== null && "valise" in pkg.bin) {
        return { name: String(pkg.name), version: String(pkg.version), node: process.version };
      }
    }
    dir = new URL("../", dir);
  }
  return { name: "unknown", version: "unknown", node: process.version };
}
