/**
 * A requirements profile: what one central authority requires of incoming
 * requests beyond the shared schemas (schemas/requirements-profile.schema.json).
 * This module types it and checks a profile before anything uses it: the
 * rule names first (a rule this Valise does not know would be silently
 * skipped — a requirement that is never enforced), then the schema, then
 * what the schema cannot say (unique rule ids, usable JSON Schema fragments).
 *
 * A peer's profile is hostile until this check passes: it arrives over the
 * network, and a peer gone rogue can sign anything.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { GatewayError } from "../errors.js";
import type { DocumentValidator } from "../../schemas/validate.js";
import type { Explanation, UnLanguage } from "./language.js";
import { NAMED_RULES } from "./rules.js";

/** The schema of a profile (`DocumentValidator` name). */
export const PROFILE_SCHEMA = "requirements-profile";

/** The request kinds a profile speaks about. */
export type RequestKind = "mla-request" | "preservation-request";

/** A condition on a field of the request. */
export interface RuleCondition {
  readonly field: string;
  readonly in: ReadonlyArray<string | number | boolean>;
}

/** One rule, as written in the profile (its parameters depend on `rule`). */
export interface ProfileRule {
  readonly id: string;
  readonly rule: string;
  readonly appliesTo?: readonly RequestKind[];
  readonly when?: RuleCondition;
  readonly explanation: Explanation;
  readonly [parameter: string]: unknown;
}

/** A contact point of the authority. */
export interface ContactPoint {
  readonly kind: "central-authority" | "24-7" | "liaison";
  readonly name: string;
  readonly email: string;
  readonly phone: string;
  readonly hours: string;
  readonly languages?: readonly string[];
  readonly explanation?: Explanation;
}

/** Days per urgency level. */
export interface DaysByUrgency {
  readonly normal: number;
  readonly urgent: number;
  readonly emergency: number;
}

/** A requirements profile (the signed payload). */
export interface RequirementsProfile {
  readonly "valise-requirements": 1;
  readonly authority: string;
  readonly version: number;
  readonly issuedAt?: string;
  readonly language: UnLanguage;
  readonly summary?: Explanation;
  readonly contactPoints: readonly ContactPoint[];
  readonly timeLimits: {
    readonly acknowledgeDays?: number;
    readonly completionDays: DaysByUrgency;
    readonly preservationDays?: DaysByUrgency;
    readonly explanation: Explanation;
  };
  readonly preservation?: { readonly grantedDays: number; readonly extensionDays?: number; readonly explanation: Explanation };
  readonly rules: readonly ProfileRule[];
}

/** A checked profile, its `schema` rules compiled. */
export interface CompiledProfile {
  readonly profile: RequirementsProfile;
  /** The compiled fragment of each `schema` rule, by rule id. */
  readonly fragments: ReadonlyMap<string, ValidateFunction>;
}

/**
 * Keywords a fragment may not use. A fragment runs on every request sent to
 * (or received by) the authority: a peer's regular expression could be made
 * to backtrack for minutes (ReDoS), and a reference could name schemas this
 * gateway holds for other purposes. Lengths, enums, formats, `required`,
 * `if`/`then` and the rest of JSON Schema stay available. (The walk does not
 * tell keywords from property names: a property called `pattern` is refused
 * too.)
 */
const FORBIDDEN_KEYWORDS: ReadonlySet<string> = new Set(["pattern", "patternProperties", "$ref", "$dynamicRef", "$id", "$anchor", "$dynamicAnchor"]);

function invalid(message: string, errors: ReadonlyArray<{ path: string; message: string }>): GatewayError {
  return new GatewayError("REQUIREMENTS_INVALID", message, { details: { errors } });
}

function forbiddenKeywordsIn(node: unknown, path: string, out: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => forbiddenKeywordsIn(item, `${path}/${i}`, out));
    return;
  }
  if (typeof node !== "object" || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    if (FORBIDDEN_KEYWORDS.has(key)) out.push(`${path}/${key}`);
    forbiddenKeywordsIn(value, `${path}/${key}`, out);
  }
}

/**
 * A fresh ajv for the fragments of one profile (strict: an unknown keyword
 * is an error, not a rule that never fires). Checking a fragment against the
 * JSON Schema meta-schema costs about 100 ms, so it is done when a profile
 * is accepted (published, fetched), not each time a shelved one is read.
 */
function fragmentCompiler(againstMetaSchema: boolean): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false, strictTuples: false, validateSchema: againstMetaSchema });
  addFormats.default(ajv);
  return ajv;
}

/** Options of {@link checkProfile}. */
export interface CheckProfileOptions {
  /**
   * The profile was fully checked when it was shelved (gateway/requirements/shelf.ts):
   * skip checking its fragments against the meta-schema.
   */
  readonly shelved?: boolean;
}

/**
 * Checks `value` as a requirements profile and compiles its fragments.
 *
 * @throws GatewayError `REQUIREMENTS_RULE_UNKNOWN` (details: rule, index,
 *   known) for a rule name this Valise does not know, `REQUIREMENTS_INVALID`
 *   (details.errors: path, message) for anything else.
 */
export function checkProfile(validator: DocumentValidator, value: unknown, options: CheckProfileOptions = {}): CompiledProfile {
  const rules = (value as { rules?: unknown } | null)?.rules;
  if (Array.isArray(rules)) {
    rules.forEach((rule, index) => {
      const name = (rule as { rule?: unknown } | null)?.rule;
      if (typeof name === "string" && !Object.hasOwn(NAMED_RULES, name)) {
        throw new GatewayError("REQUIREMENTS_RULE_UNKNOWN", `rule ${index} is of an unknown kind ${JSON.stringify(name.slice(0, 40))}`, {
          details: { rule: name.slice(0, 40), index, known: Object.keys(NAMED_RULES) },
        });
      }
    });
  }
  const result = validator.validateDocument(PROFILE_SCHEMA, value);
  if (!result.valid) {
    throw invalid(`the requirements profile does not match its schema: ${result.errors[0]?.message ?? ""}`, result.errors.map((e) => ({ path: e.path, message: e.message })));
  }
  const profile = value as RequirementsProfile;
  const seen = new Set<string>();
  const problems: Array<{ path: string; message: string }> = [];
  const fragments = new Map<string, ValidateFunction>();
  let ajv: Ajv2020 | undefined;
  profile.rules.forEach((rule, index) => {
    if (seen.has(rule.id)) problems.push({ path: `/rules/${index}/id`, message: `rule id ${rule.id} is used twice` });
    seen.add(rule.id);
    if (rule.rule !== "schema") return;
    const forbidden: string[] = [];
    forbiddenKeywordsIn(rule["schema"], `/rules/${index}/schema`, forbidden);
    for (const path of forbidden) problems.push({ path, message: `keyword ${path.slice(path.lastIndexOf("/") + 1)} is not allowed in a requirements fragment` });
    if (forbidden.length > 0) return;
    try {
      ajv ??= fragmentCompiler(options.shelved !== true);
      fragments.set(rule.id, ajv.compile(rule["schema"] as object));
    } catch (error) {
      problems.push({ path: `/rules/${index}/schema`, message: `the fragment is not a usable JSON Schema: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}` });
    }
  });
  if (problems.length > 0) throw invalid(`the requirements profile has ${problems.length} unusable rule(s): ${problems[0]?.message ?? ""}`, problems);
  return { profile, fragments };
}
