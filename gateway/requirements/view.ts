/**
 * A profile as an officer reads it: every text in the reader's language
 * where the profile has it (language.ts), rules in plain words. The local
 * API serves {@link profileView} (the portal shows it beside the request
 * form); `valise requirements show` prints {@link profileText}.
 */
import { chooseText, type ChosenText } from "./language.js";
import type { ProfileRule, RequirementsProfile } from "./profile.js";

/** One rule, readable. */
export interface RuleView {
  readonly id: string;
  readonly rule: string;
  /** What the rule checks, in English words built from its parameters. */
  readonly checks: string;
  readonly appliesTo: readonly string[];
  readonly explanation: ChosenText | null;
}

/** A profile, readable. */
export interface ProfileView {
  readonly authority: string;
  readonly version: number;
  readonly issuedAt: string | null;
  readonly summary: ChosenText | null;
  readonly contactPoints: ReadonlyArray<RequirementsProfile["contactPoints"][number] & { readonly note: ChosenText | null }>;
  readonly timeLimits: { readonly acknowledgeDays: number | null; readonly completionDays: RequirementsProfile["timeLimits"]["completionDays"]; readonly preservationDays: NonNullable<RequirementsProfile["timeLimits"]["preservationDays"]> | null; readonly explanation: ChosenText | null };
  readonly preservation: { readonly grantedDays: number; readonly extensionDays: number | null; readonly explanation: ChosenText | null } | null;
  readonly rules: readonly RuleView[];
}

const list = (value: unknown): string => (Array.isArray(value) ? value.map(String).join(", ") : String(value));

/** What a rule checks, from its parameters. */
export function ruleChecks(rule: ProfileRule): string {
  const when = rule.when === undefined ? "" : ` (when ${rule.when.field} is ${list(rule.when.in)})`;
  const what = ((): string => {
    switch (rule.rule) {
      case "required":
        return `required: ${list(rule["fields"])}`;
      case "min-length":
        return `${String(rule["field"])}: at least ${String(rule["characters"])} characters`;
      case "maximum":
        return `${String(rule["field"])}: at most ${String(rule["value"])}`;
      case "max-period-days":
        return `${list(rule["dataTypes"])}: a period of at most ${String(rule["days"])} days`;
      case "legal-basis":
        return `legal basis accepted: ${((rule["accepted"] ?? []) as Array<{ name?: unknown }>).map((a) => String(a.name)).join("; ")}`;
      case "languages":
        return `languages accepted: ${list(rule["accepted"])}${rule["fields"] === undefined ? "" : ` (${list(rule["fields"])})`}`;
      case "translation":
        return `a translation into ${list(rule["into"])} when written in another language`;
      case "schema":
        return "the request matches the authority's JSON Schema fragment";
      default:
        return rule.rule;
    }
  })();
  return `${what}${when}`;
}

/** The profile with every text chosen for a reader of `languages`. */
export function profileView(profile: RequirementsProfile, languages: readonly string[]): ProfileView {
  const pick = (text: Parameters<typeof chooseText>[0] | undefined): ChosenText | null => (text === undefined ? null : chooseText(text, languages, profile.language) ?? null);
  return {
    authority: profile.authority,
    version: profile.version,
    issuedAt: profile.issuedAt ?? null,
    summary: pick(profile.summary),
    contactPoints: profile.contactPoints.map((c) => ({ ...c, note: pick(c.explanation) })),
    timeLimits: {
      acknowledgeDays: profile.timeLimits.acknowledgeDays ?? null,
      completionDays: profile.timeLimits.completionDays,
      preservationDays: profile.timeLimits.preservationDays ?? null,
      explanation: pick(profile.timeLimits.explanation),
    },
    preservation:
      profile.preservation === undefined
        ? null
        : { grantedDays: profile.preservation.grantedDays, extensionDays: profile.preservation.extensionDays ?? null, explanation: pick(profile.preservation.explanation) },
    rules: profile.rules.map((rule) => ({
      id: rule.id,
      rule: rule.rule,
      checks: ruleChecks(rule),
      appliesTo: rule.appliesTo ?? ["mla-request", "preservation-request"],
      explanation: pick(rule.explanation),
    })),
  };
}

function wrap(text: string, indent: string, width = 78): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(indent + line);
  return lines;
}

const tagged = (text: ChosenText | null): string => (text === null ? "" : `[${text.language}] ${text.text}`);

/** The view as text for a terminal. */
export function profileText(view: ProfileView): string {
  const days = (d: { normal: number; urgent: number; emergency: number }): string => `${d.normal} days (urgent ${d.urgent}, emergency ${d.emergency})`;
  const out: string[] = [`Requirements of ${view.authority}, version ${view.version}${view.issuedAt === null ? "" : `, issued ${view.issuedAt}`}`];
  if (view.summary !== null) out.push("", ...wrap(tagged(view.summary), "  "));
  out.push("", "Contact points");
  for (const c of view.contactPoints) {
    out.push(`  ${c.kind === "24-7" ? "24/7" : c.kind}: ${c.name}`, `    ${c.phone}  ${c.email}  ${c.hours}${c.languages === undefined ? "" : `  (${c.languages.join(", ")})`}`);
    if (c.note !== null) out.push(...wrap(tagged(c.note), "    "));
  }
  out.push("", "Time limits, from receipt of a request that meets these requirements");
  if (view.timeLimits.acknowledgeDays !== null) out.push(`  acknowledgement  ${view.timeLimits.acknowledgeDays} days`);
  out.push(`  completion       ${days(view.timeLimits.completionDays)}`);
  if (view.timeLimits.preservationDays !== null) out.push(`  preservation     ${days(view.timeLimits.preservationDays)}`);
  if (view.timeLimits.explanation !== null) out.push(...wrap(tagged(view.timeLimits.explanation), "  "));
  if (view.preservation !== null) {
    out.push("", `Preservation: ${view.preservation.grantedDays} days${view.preservation.extensionDays === null ? "" : `, extendable by ${view.preservation.extensionDays}`}`);
    if (view.preservation.explanation !== null) out.push(...wrap(tagged(view.preservation.explanation), "  "));
  }
  out.push("", `Rules (${view.rules.length})`);
  for (const rule of view.rules) {
    out.push(`  ${rule.id}  [${rule.appliesTo.join(", ")}]`, ...wrap(rule.checks, "    "));
    if (rule.explanation !== null) out.push(...wrap(tagged(rule.explanation), "    "));
  }
  return out.join("\n");
}
