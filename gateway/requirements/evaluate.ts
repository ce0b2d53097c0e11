/**
 * The one evaluator of requirements profiles: a pure function of (profile,
 * request, the reader's languages). The requesting gateway runs it before it
 * seals a request, so the officer fixes the request on the spot; the
 * requested gateway runs it again on receipt, against the version the
 * request names, to decide whether the completion clock starts.
 *
 * @example
 * const failures = evaluateRequirements(compiled, "mla-request", request, { languages: acceptedLanguages("fr") });
 * // [{ path: "/assistance/2/dateRange", code: "requirement", rule: "us-content-period", language: "fr", message, hint }]
 */
import type { FieldError } from "../../schemas/field-errors.js";
import { chooseText, type UnLanguage } from "./language.js";
import type { CompiledProfile } from "./profile.js";
import { conditionHolds, NAMED_RULES } from "./rules.js";

/** One failing field of a request, under one rule of the requested authority's profile. */
export interface RequirementError extends FieldError {
  readonly code: "requirement";
  /** The id of the rule in the profile. */
  readonly rule: string;
  /** The language of `hint`, the authority's explanation of the rule. */
  readonly language: UnLanguage;
}

/** Who reads the errors. */
export interface EvaluationOptions {
  /** Primary language subtags the reader accepts, most wanted first (language.ts `acceptedLanguages`). */
  readonly languages?: readonly string[];
}

/**
 * Every failing field of `document` (a request of `kind`, valid against its
 * shared schema) under the rules of `compiled` that apply to it, in the
 * profile's rule order; empty when the request complies.
 */
export function evaluateRequirements(compiled: CompiledProfile, kind: string, document: Readonly<Record<string, unknown>>, options: EvaluationOptions = {}): RequirementError[] {
  const { profile } = compiled;
  const errors: RequirementError[] = [];
  for (const rule of profile.rules) {
    if (rule.appliesTo !== undefined && !(rule.appliesTo as readonly string[]).includes(kind)) continue;
    if (!conditionHolds(document, rule.when)) continue;
    const check = NAMED_RULES[rule.rule];
    // checkProfile refused unknown rules; a profile that skipped it still fails closed, never open.
    if (check === undefined) throw new Error(`unchecked requirements profile: unknown rule ${rule.rule}`);
    const failures = check({ rule, kind, document, authority: profile.authority, ...(compiled.fragments.has(rule.id) ? { fragment: compiled.fragments.get(rule.id) } : {}) });
    if (failures.length === 0) continue;
    const chosen = chooseText(rule.explanation, options.languages ?? [], profile.language) ?? { language: profile.language, text: rule.id };
    for (const failure of failures) {
      errors.push({ path: failure.path, code: "requirement", message: failure.message, hint: chosen.text, rule: rule.id, language: chosen.language });
    }
  }
  return errors;
}
