/**
 * The gateway home: the one folder a gateway owns (`--home DIR` or
 * `VALISE_HOME`). Layout:
 *
 * ```
 * valise.json   configuration (gateway/config/config.schema.json)
 * pki/          this authority's PKI (pki/store.ts)
 * peers/        pinned trust bundles of peer authorities (pki/peers.ts);
 *               peers/requirements/<ID>/<version>.json their requirements profiles
 * requirements/ this authority's published requirements profiles, <version>.json
 * valise.db     the SQLite store (gateway issue)
 * evidence/     content-addressed sealed evidence chunks (or `evidence.dir`)
 * ```
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { GatewayError } from "./errors.js";
import { loadConfigFile, newConfig, type GatewayConfig, type NewConfigOptions } from "./config/config.js";
import { initAuthorityPki, openAuthorityPki } from "../pki/store.js";
import { assertConfigMatchesPki, type AgreementOptions } from "./config/pki-agreement.js";

/** Absolute paths of everything inside a home. */
export interface HomePaths {
  readonly root: string;
  readonly config: string;
  readonly pki: string;
  readonly peers: string;
  readonly database: string;
  readonly evidence: string;
}

/** The paths of the home at `root`. */
export function homePaths(root: string): HomePaths {
  const abs = resolve(root);
  return {
    root: abs,
    config: join(abs, "valise.json"),
    pki: join(abs, "pki"),
    peers: join(abs, "peers"),
    database: join(abs, "valise.db"),
    evidence: join(abs, "evidence"),
  };
}

/**
 * Picks the home from the `--home` option, else `VALISE_HOME`.
 * Throws `USAGE` when neither is given.
 */
export function resolveHomeDir(option: string | undefined, env: NodeJS.ProcessEnv): string {
  const dir = option ?? env["VALISE_HOME"];
  if (dir === undefined || dir === "") {
    throw new GatewayError("USAGE", "no gateway home given: pass --home DIR or set VALISE_HOME");
  }
  return resolve(dir);
}

/** An existing home: its paths and validated configuration. */
export interface Home {
  readonly paths: HomePaths;
  readonly config: GatewayConfig;
}

/**
 * Opens an existing home; `HOME_NOT_FOUND` when there is none at `root`.
 * The configuration must agree with the PKI (gateway/config/pki-agreement.ts):
 * `CONFIG_IDENTITY_MISMATCH` or `CONFIG_ENDPOINT_MISMATCH` otherwise, before
 * any command reads a key. `agreement.endpoint: false` is for the one command
 * that repairs an endpoint disagreement.
 */
export function openHome(root: string, agreement: AgreementOptions = {}): Home {
  const paths = homePaths(root);
  if (!existsSync(paths.config)) {
    throw new GatewayError("HOME_NOT_FOUND", `no Valise home at ${paths.root} (valise.json missing); create one with valise init`);
  }
  const config = loadConfigFile(paths.config);
  assertConfigMatchesPki(config, openAuthorityPki(paths.pki), agreement);
  // Instances sharing a PostgreSQL store share one evidence folder (`evidence.dir`).
  return { paths: config.evidence?.dir === undefined ? paths : { ...paths, evidence: config.evidence.dir }, config };
}

/** Options of {@link initHome}. */
export interface InitHomeOptions extends NewConfigOptions {
  passphrase: string;
  /** Replace an existing home; the old one is kept beside it, renamed. */
  force?: boolean;
  now?: Date;
}

/** What {@link initHome} created. */
export interface InitHomeResult {
  readonly home: Home;
  readonly rootFingerprint: string;
  /** Where the replaced home was moved, when `force` replaced one. */
  readonly replacedHomeMovedTo?: string;
}

/**
 * Creates a home: configuration and PKI. The home is built in a temporary
 * sibling folder and renamed into place at the end, so a failure half-way
 * leaves nothing behind. Refuses an existing home unless `force`; a replaced
 * home is renamed, never deleted (it holds private keys).
 */
export async function initHome(root: string, options: InitHomeOptions): Promise<InitHomeResult> {
  const target = homePaths(root);
  const config = newConfig(options);
  // A non-empty folder is never deleted: it may be an old home holding private keys.
  const occupied = existsSync(target.root) && readdirSync(target.root).length > 0;
  if (occupied && options.force !== true) {
    throw new GatewayError("HOME_EXISTS", `${target.root} already exists and is not empty; pass --force to replace it (the old folder is kept, renamed)`);
  }
  mkdirSync(dirname(target.root), { recursive: true });
  const staging = homePaths(join(dirname(target.root), `.${basename(target.root)}.init-${randomBytes(4).toString("hex")}`));
  mkdirSync(staging.root, { mode: 0o700 });
  let rootFingerprint: string;
  try {
    const pki = await initAuthorityPki(staging.pki, {
      authority: config.authority,
      profile: config.profile,
      endpoint: config.endpoint,
      dns: config.tls.dns,
      ips: config.tls.ips,
      passphrase: options.passphrase,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    rootFingerprint = pki.rootFingerprint();
    mkdirSync(staging.peers, { mode: 0o700 });
    writeFileSync(staging.config, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  } catch (error) {
    rmSync(staging.root, { recursive: true, force: true });
    throw error;
  }
  let replacedHomeMovedTo: string | undefined;
  if (existsSync(target.root)) {
    if (occupied) {
      replacedHomeMovedTo = `${target.root}.replaced-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      renameSync(target.root, replacedHomeMovedTo);
    } else {
      rmdirSync(target.root); // empty: nothing to keep
    }
  }
  renameSync(staging.root, target.root);
  return {
    home: { paths: target, config },
    rootFingerprint,
    ...(replacedHomeMovedTo === undefined ? {} : { replacedHomeMovedTo }),
  };
}
