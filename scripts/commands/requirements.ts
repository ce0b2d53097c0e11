/**
 * `valise requirements …`: this authority's requirements profile and the
 * profiles of its peers (gateway/requirements/).
 *
 * - `validate FILE` checks an authored profile (schema, rules, fragments,
 *   and with a home that it is this authority's); nothing changes.
 * - `set FILE` publishes it as the next version, signed with the `sign` key,
 *   with a `requirements.published` audit entry; peers fetch it from the
 *   running gateway.
 * - `show [PEER]` prints the profile in force (own, or a peer's) for an
 *   officer at a terminal, in `--lang` where the profile has it.
 * - `fetch PEER` asks the running gateway to fetch a peer's profile now
 *   (local API, operator token).
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { openHome, type Home } from "../../gateway/home.js";
import { GatewayError } from "../../gateway/errors.js";
import { documentValidator } from "../../schemas/validate.js";
import { openAuthorityPki } from "../../pki/store.js";
import { inAuditedTransaction } from "../../gateway/audit/operator-events.js";
import { acceptedLanguages } from "../../gateway/requirements/language.js";
import { checkAuthoredProfile, homeSigner, prepareProfile } from "../../gateway/requirements/publish.js";
import { latestVersion, ownShelf, peerShelf, readShelved, shelve, shelvedVersions } from "../../gateway/requirements/shelf.js";
import { appendEntry } from "../../gateway/audit/append.js";
import { profileText, profileView } from "../../gateway/requirements/view.js";
import { createHash } from "node:crypto";
import { type CliContext, type CommonOptions, homeDir, passphrase, withCommonOptions } from "../cli/context.js";
import { operatorSigning } from "../cli/log-signing.js";
import { localApiOf, withApiOptions, type ApiOptions } from "../cli/local-api.js";

/** Reads an authored profile (`FILE_UNREADABLE`; `REQUIREMENTS_INVALID` when it is not JSON). */
function readProfileFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new GatewayError("FILE_UNREADABLE", `cannot read the profile ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause, details: { file } });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new GatewayError("REQUIREMENTS_INVALID", `the profile ${file} is not JSON`, { cause, details: { errors: [{ path: "", message: "not JSON" }] } });
  }
}

/** The home, when one is named (validate works without one). */
function optionalHome(options: CommonOptions, context: CliContext): Home | undefined {
  if (options.home === undefined && (context.env["VALISE_HOME"] ?? "") === "") return undefined;
  return openHome(homeDir(options, context));
}

function problems(error: unknown): string {
  const errors = (error as { details?: { errors?: Array<{ path: string; message: string }> } }).details?.errors ?? [];
  return errors.map((e) => `  ${e.path === "" ? "(profile)" : e.path}: ${e.message}`).join("\n");
}

/** Registers `valise requirements` and its subcommands. */
export function registerRequirements(program: Command, context: CliContext): void {
  const requirements = program.command("requirements").description("this authority's requirements profile, and the profiles of its peers");

  withCommonOptions(requirements.command("validate").description("check an authored requirements profile without publishing it").argument("<file>", "the profile (JSON)"), false).action(
    (file: string, options: CommonOptions) => {
      const home = optionalHome(options, context);
      const authored = readProfileFile(file);
      const profile = ((authored ?? {}) as { authority?: unknown }).authority;
      let compiled;
      try {
        compiled = checkAuthoredProfile(documentValidator(), home?.config.authority ?? String(profile), authored, context.now());
      } catch (error) {
        if (!(options.json ?? false)) context.stderr.write(`${problems(error)}\n`);
        throw error;
      }
      const { profile: checked } = compiled;
      context
        .output(options.json === true)
        .result({ valid: true, authority: checked.authority, version: checked.version, rules: checked.rules.length }, () => `${file} is a valid requirements profile of ${checked.authority}, version ${checked.version}, ${checked.rules.length} rules.`);
    },
  );

  withCommonOptions(requirements.command("set").description("publish a requirements profile as the next version, signed with the sign key").argument("<file>", "the profile (JSON); its version must exceed the one in force"), true).action(
    async (file: string, options: CommonOptions) => {
      const home = openHome(homeDir(options, context));
      const output = context.output(options.json === true);
      const authored = readProfileFile(file);
      const secret = await passphrase(options, context);
      const signing = operatorSigning(home, secret, context, output);
      const published = await prepareProfile(
        { paths: home.paths, validator: documentValidator(), authority: home.config.authority, signer: await homeSigner(openAuthorityPki(home.paths.pki), secret), now: context.now() },
        authored,
      );
      const digest = createHash("sha256").update(Buffer.from(published.file.jws.split(".")[1] ?? "", "base64url")).digest("hex");
      // The entry first, the file last, in one transaction: a file that cannot be written rolls the entry back.
      await inAuditedTransaction(
        home,
        async (tx) => {
          await appendEntry(tx, { kind: "requirements.published", actor: "operator", time: context.now(), details: { version: published.version, previous: published.previous, digest, rules: published.compiled.profile.rules.length } });
          shelve(ownShelf(home.paths), published.version, published.file);
        },
        signing,
      );
      output.result(
        { published: { authority: home.config.authority, version: published.version, previous: published.previous, digest } },
        () => `Published version ${published.version} of ${home.config.authority}'s requirements${published.previous === null ? "" : ` (replaces version ${published.previous})`}; peers fetch it from the running gateway.\n  sha256 ${digest}`,
      );
    },
  );

  withCommonOptions(
    requirements
      .command("show")
      .description("print the requirements in force (this authority's, or a peer's) for an officer")
      .argument("[peer]", "a peer's authority id (default: this authority)")
      .option("--lang <languages>", "languages to read the explanations in, most wanted first (e.g. fr or \"fr, en\")")
      .option("--version <n>", "a version held rather than the one in force"),
    false,
  ).action((peer: string | undefined, options: CommonOptions & { lang?: string; version?: string }) => {
    const home = openHome(homeDir(options, context));
    const authority = peer ?? home.config.authority;
    const dir = peer === undefined ? ownShelf(home.paths) : peerShelf(home.paths, peer);
    if (options.version !== undefined && !/^[1-9][0-9]{0,9}$/.test(options.version)) throw new GatewayError("USAGE", "--version must be a positive whole number");
    const version = options.version === undefined ? latestVersion(dir) : Number(options.version);
    const held = version === undefined ? undefined : readShelved(dir, version, documentValidator());
    if (held === undefined) {
      throw new GatewayError(
        "REQUIREMENTS_NOT_FOUND",
        peer === undefined ? "this authority publishes no requirements profile yet (valise requirements set FILE)" : `no requirements profile of ${peer}${options.version === undefined ? "" : ` version ${options.version}`} is held (valise requirements fetch ${peer})`,
        { details: { authority, versions: shelvedVersions(dir) } },
      );
    }
    const view = profileView(held.compiled.profile, acceptedLanguages(options.lang ?? context.env["LANG"]?.split(/[._]/)[0] ?? ""));
    context.output(options.json === true).result({ authority, version: held.compiled.profile.version, versions: shelvedVersions(dir), view, profile: held.compiled.profile }, () => profileText(view));
  });

  withApiOptions(
    withCommonOptions(requirements.command("fetch").description("have the running gateway fetch a peer's requirements profile now (operator token)").argument("<peer>", "the peer's authority id"), false),
  ).action(async (peer: string, options: ApiOptions) => {
    const fetched = await localApiOf(options, context).json<{ authority: string; outcome: string; version: number | null }>("POST", `/api/v1/requirements/peers/${encodeURIComponent(peer)}/fetch`);
    context
      .output(options.json === true)
      .result(fetched, () => (fetched.outcome === "none" ? `${peer} publishes no requirements profile.` : `${peer}'s requirements: version ${String(fetched.version)} (${fetched.outcome}).`));
  });
}
