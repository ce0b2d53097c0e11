/**
 * The named rules of a requirements profile: each one a small, pure check a
 * lawyer can read in the profile as data (README, "Requirements profiles").
 *
 * | rule | parameters | fails when |
 * | --- | --- | --- |
 * | `required` | `fields` (pointers, `*` for every item) | a field is missing or empty |
 * | `min-length` | `field`, `characters` | a text at `field` is shorter |
 * | `maximum` | `field`, `value` | a number at `field` is larger |
 * | `max-period-days` | `days`, `dataTypes` | data of those types is sought over more calendar days |
 * | `legal-basis` | `accepted: [{type, name, match?}]` | no legal basis cited is an accepted one |
 * | `languages` | `accepted`, `fields?` (default `/language`) | a language tag is not accepted |
 * | `translation` | `into` | the request is in another language and no attachment is a translation into one of `into` |
 * | `schema` | `schema` (a JSON Schema fragment) | the request does not match the fragment |
 *
 * Each check returns the failing fields with a plain-English statement; the
 * evaluator (evaluate.ts) adds the authority's explanation. Parameters were
 * checked against the profile schema before a rule runs; the request passed
 * its shared schema, but checks still read it defensively.
 */
import type { ValidateFunction } from "ajv/dist/2020.js";
import { calendarDaysCovered } from "../../schemas/date-range.js";
import { fieldLabel, toFieldErrors } from "../../schemas/field-errors.js";
import { isEmpty, missingAt, valuesAt } from "./pointer.js";

/** A failing field, before the explanation is added. */
export interface RuleFailure {
  readonly path: string;
  readonly message: string;
}

/** What a named rule is given. */
export interface RuleInput {
  /** The rule as written in the profile (its parameters). */
  readonly rule: Readonly<Record<string, unknown>>;
  readonly kind: string;
  readonly document: Readonly<Record<string, unknown>>;
  /** The requested authority (for messages). */
  readonly authority: string;
  /** The compiled fragment of a `schema` rule. */
  readonly fragment?: ValidateFunction;
}

/** A named rule's check. */
export type RuleCheck = (input: RuleInput) => RuleFailure[];

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** `en-GB` is accepted by `en`; `pt-BR` only by `pt-BR` or `pt`. */
function languageAccepted(tag: string, accepted: readonly string[]): boolean {
  const lower = tag.toLowerCase();
  return accepted.some((a) => {
    const want = a.toLowerCase();
    return lower === want || (!want.includes("-") && lower.split("-")[0] === want);
  });
}

const required: RuleCheck = ({ rule, document, authority }) =>
  strings(rule["fields"]).flatMap((pointer) =>
    missingAt(document, pointer).map((path) => ({ path, message: `${fieldLabel(path)} is required by ${authority}.` })),
  );

const minLength: RuleCheck = ({ rule, document, authority }) => {
  const limit = Number(rule["characters"]);
  return valuesAt(document, String(rule["field"]))
    .filter(({ value }) => typeof value === "string" && [...value].length < limit)
    .map(({ path, value }) => ({ path, message: `${fieldLabel(path)} has ${[...(value as string)].length} characters; ${authority} needs at least ${limit}.` }));
};

const maximum: RuleCheck = ({ rule, document, authority }) => {
  const limit = Number(rule["value"]);
  return valuesAt(document, String(rule["field"]))
    .filter(({ value }) => typeof value === "number" && value > limit)
    .map(({ path, value }) => ({ path, message: `${fieldLabel(path)} is ${String(value)}; ${authority} accepts at most ${limit}.` }));
};

/** The date ranges of the data a request seeks, with the data types each covers. */
function periodsSought(kind: string, document: Readonly<Record<string, unknown>>): Array<{ path: string; types: string[]; range: unknown }> {
  if (kind === "preservation-request") {
    return document["dateRange"] === undefined ? [] : [{ path: "/dateRange", types: strings(document["dataTypes"]), range: document["dateRange"] }];
  }
  return valuesAt(document, "/assistance/*").flatMap(({ path, value }) => {
    const item = value as { type?: unknown; dateRange?: unknown } | null;
    return typeof item?.type === "string" && item.dateRange !== undefined ? [{ path: `${path}/dateRange`, types: [item.type], range: item.dateRange }] : [];
  });
}

const maxPeriodDays: RuleCheck = ({ rule, kind, document, authority }) => {
  const limit = Number(rule["days"]);
  const types = new Set(strings(rule["dataTypes"]));
  return periodsSought(kind, document).flatMap(({ path, types: sought, range }) => {
    if (!sought.some((t) => types.has(t))) return [];
    const { from, to } = (range ?? {}) as { from?: unknown; to?: unknown };
    const days = calendarDaysCovered(from, to);
    return days !== undefined && days > limit ? [{ path, message: `${fieldLabel(path)} covers ${days} days; ${authority} grants ${sought.filter((t) => types.has(t)).join(", ")} over at most ${limit}.` }] : [];
  });
};

interface AcceptedBasis {
  readonly type: string;
  readonly name: string;
  readonly match?: readonly string[];
}

const legalBasis: RuleCheck = ({ rule, document, authority }) => {
  const accepted = (Array.isArray(rule["accepted"]) ? rule["accepted"] : []) as AcceptedBasis[];
  const cited = document["legalBasis"];
  const bases = (Array.isArray(cited) ? cited : cited === undefined || cited === null ? [] : [cited]) as Array<{ type?: unknown; instrument?: unknown }>;
  const ok = bases.some((basis) =>
    accepted.some((a) => {
      // A preservation request cites an instrument without a type: its text decides.
      if (typeof basis?.type === "string" && basis.type !== a.type) return false;
      if (a.match === undefined) return typeof basis?.type === "string";
      const text = typeof basis?.instrument === "string" ? basis.instrument.toLowerCase() : "";
      return a.match.some((m) => text.includes(m.toLowerCase()));
    }),
  );
  return ok ? [] : [{ path: "/legalBasis", message: `None of the legal bases cited is accepted by ${authority}, which accepts: ${accepted.map((a) => a.name).join("; ")}.` }];
};

const languages: RuleCheck = ({ rule, document, authority }) => {
  const accepted = strings(rule["accepted"]);
  const fields = rule["fields"] === undefined ? ["/language"] : strings(rule["fields"]);
  return fields.flatMap((pointer) =>
    valuesAt(document, pointer)
      .filter(({ value }) => typeof value === "string" && !languageAccepted(value, accepted))
      .map(({ path, value }) => ({ path, message: `${fieldLabel(path)} is ${JSON.stringify(value)}; ${authority} accepts ${accepted.join(", ")}.` })),
  );
};

const translation: RuleCheck = ({ rule, document, authority }) => {
  const into = strings(rule["into"]);
  const language = document["language"];
  if (typeof language !== "string" || languageAccepted(language, into)) return [];
  const translated = valuesAt(document, "/attachments/*/language").some(({ value }) => typeof value === "string" && languageAccepted(value, into));
  return translated ? [] : [{ path: "/attachments", message: `The request is in ${language} and attaches no translation into ${into.join(" or ")}, which ${authority} requires.` }];
};

/** One failure per field; a field inside one that already fails says nothing more (`contains` blames every item too). */
const schema: RuleCheck = ({ document, fragment }) => {
  if (fragment === undefined || fragment(document)) return [];
  const errors = toFieldErrors("requirements-fragment", fragment.errors ?? [], document);
  const paths = new Set(errors.map((e) => e.path));
  const within = (path: string): boolean => [...paths].some((other) => other !== path && path.startsWith(`${other}/`));
  const seen = new Set<string>();
  return errors.filter((e) => !within(e.path) && !seen.has(e.path) && seen.add(e.path) !== undefined).map((e) => ({ path: e.path, message: e.message }));
};

/** Every named rule, by the name a profile uses. */
export const NAMED_RULES: Readonly<Record<string, RuleCheck>> = Object.freeze({
  required,
  "min-length": minLength,
  maximum,
  "max-period-days": maxPeriodDays,
  "legal-basis": legalBasis,
  languages,
  translation,
  schema,
});

/** True when the value at the condition's field is one of its values (a `*` matches if any item does). */
export function conditionHolds(document: unknown, condition: { readonly field: string; readonly in: readonly unknown[] } | undefined): boolean {
  if (condition === undefined) return true;
  return valuesAt(document, condition.field).some(({ value }) => !isEmpty(value) && condition.in.includes(value));
}
