/**
 * Custom ajv keywords for the rules of a request that JSON Schema cannot
 * express (document version 2):
 *
 * - `x-substantive: true` on a text: it must read as an account, not filler
 *   ("xxxx…", "lorem ipsum", one phrase pasted again and again). The threat
 *   is a request that passes every length check and says nothing, so that
 *   the requested authority must write back and the case loses a month.
 * - `x-ref: ["/persons/*\/id", …]` on a text: it must equal a value found at
 *   one of those places in the same document (a person, a preservation or
 *   an attachment referred to must exist).
 * - `x-not-before: "/issuedOn"` on a date or time: it must not fall before
 *   the date found at that place (a deadline before the request was issued).
 * - `x-instrument-rules: true` on a request: the rules of its instrument
 *   (schemas/instruments.ts): the legal basis it must cite, who may issue or
 *   must validate a request for each kind of data, the sections required,
 *   the assistance types allowed, the content period and the preservation
 *   period.
 *
 * Each check is pure and reports a field error of its own code; a malformed
 * value is left to the standard keywords to report.
 */
import type { ErrorObject, FuncKeywordDefinition } from "ajv/dist/2020.js";
import { calendarDaysCovered, epochDay } from "./date-range.js";
import { DATA_ITEM_TYPES, instrumentRules, type InstrumentRules } from "./instruments.js";

interface DataContext {
  instancePath: string;
  rootData?: unknown;
}

type KeywordErrors = Array<Partial<ErrorObject>>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Words of two letters or more, lower-cased. */
function wordsOf(text: string): string[] {
  return (text.toLowerCase().match(/\p{L}{2,}/gu) ?? []) as string[];
}

/**
 * True when one character (a code point other than a line terminator) occurs
 * 10 times or more in a row: what `/(.)\1{9,}/u.test(text)` answers, in one
 * pass without the regular expression's backtracking at every position.
 */
function hasLongRun(text: string): boolean {
  let previous = -1;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.codePointAt(i) as number;
    if (code > 0xffff) i++; // the low surrogate of this code point
    // `.` does not match \n, \r, U+2028 or U+2029.
    if (code === 0x0a || code === 0x0d || code === 0x2028 || code === 0x2029) {
      previous = -1;
      run = 0;
      continue;
    }
    run = code === previous ? run + 1 : 1;
    previous = code;
    if (run >= 10) return true;
  }
  return false;
}

/** Words that only ever stand in for text to be written. */
const PLACEHOLDERS = new Set(["lorem", "ipsum", "placeholder", "tbd", "tbc", "asdf", "qwerty", "blah", "xxx", "xxxx"]);

/**
 * Why `text` reads as filler, or undefined when it reads as an account:
 * placeholder words, a character repeated more than 9 times in a row, fewer
 * than 5 different words, or (over 30 words) fewer than one word in five
 * different — a phrase pasted again and again.
 *
 * @example fillerReason("x".repeat(200)) // "a character repeated"
 */
export function fillerReason(text: string): string | undefined {
  if (hasLongRun(text)) return "a character repeated";
  const words = wordsOf(text);
  if (words.some((w) => PLACEHOLDERS.has(w))) return "placeholder words";
  const distinct = new Set(words).size;
  if (distinct < 5) return "too few different words";
  if (words.length > 30 && distinct / words.length < 0.2) return "the same words repeated";
  return undefined;
}

/** Keyword `x-substantive: true` on a text. */
export const substantiveKeyword: FuncKeywordDefinition = {
  keyword: "x-substantive",
  type: "string",
  schemaType: "boolean",
  errors: true,
  validate: function substantive(this: unknown, schema: boolean, data: unknown, _parent?: unknown, cxt?: DataContext): boolean {
    const self = substantive as unknown as { errors?: KeywordErrors | null };
    self.errors = null;
    if (!schema || typeof data !== "string") return true;
    const reason = fillerReason(data);
    if (reason === undefined) return true;
    self.errors = [{ keyword: "x-substantive", instancePath: cxt?.instancePath ?? "", params: { reason }, message: "must be substantive" }];
    return false;
  },
};

/** Values at a path pattern (`*` for every array item) of `root`. */
export function valuesAt(root: unknown, pattern: string): unknown[] {
  let nodes: unknown[] = [root];
  for (const segment of pattern.split("/").slice(1)) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (segment === "*") {
        if (Array.isArray(node)) next.push(...node);
      } else if (isRecord(node) && node[segment] !== undefined) next.push(node[segment]);
    }
    nodes = next;
  }
  return nodes;
}

/** Keyword `x-ref: [pattern, …]` on a text: it names something the document holds. */
export const refKeyword: FuncKeywordDefinition = {
  keyword: "x-ref",
  type: "string",
  schemaType: "array",
  metaSchema: { type: "array", minItems: 1, items: { type: "string", pattern: "^/" } },
  errors: true,
  validate: function ref(this: unknown, schema: string[], data: unknown, _parent?: unknown, cxt?: DataContext): boolean {
    const self = ref as unknown as { errors?: KeywordErrors | null };
    self.errors = null;
    if (typeof data !== "string") return true;
    if (schema.some((pattern) => valuesAt(cxt?.rootData, pattern).includes(data))) return true;
    self.errors = [{ keyword: "x-ref", instancePath: cxt?.instancePath ?? "", params: { refs: schema }, message: "must name an entry of the document" }];
    return false;
  },
};

/** The calendar day (days since 1970-01-01) a date or a time is written on, as written. */
function writtenDay(value: unknown): number | undefined {
  return typeof value === "string" ? epochDay(value.slice(0, 10)) : undefined;
}

/** Keyword `x-not-before: pointer` on a date or time. */
export const notBeforeKeyword: FuncKeywordDefinition = {
  keyword: "x-not-before",
  type: "string",
  schemaType: "string",
  errors: true,
  validate: function notBefore(this: unknown, schema: string, data: unknown, _parent?: unknown, cxt?: DataContext): boolean {
    const self = notBefore as unknown as { errors?: KeywordErrors | null };
    self.errors = null;
    const day = writtenDay(data);
    const limit = writtenDay(valuesAt(cxt?.rootData, schema)[0]);
    if (day === undefined || limit === undefined || day >= limit) return true;
    self.errors = [{ keyword: "x-not-before", instancePath: cxt?.instancePath ?? "", params: { limit: schema }, message: `must not be before ${schema}` }];
    return false;
  },
};

/** One breach of an instrument's rules, as ajv errors carry it. */
function breach(instancePath: string, code: string, params: Record<string, unknown>): Partial<ErrorObject> {
  return { keyword: "x-instrument-rules", instancePath, params: { code, ...params }, message: code };
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * The breaches of `rules` by `request` (a request document of version 2; a
 * part of the wrong shape is skipped, the schema reports it).
 */
export function instrumentBreaches(request: Record<string, unknown>, instrument: string, rules: InstrumentRules): Array<Partial<ErrorObject>> {
  const found: Array<Partial<ErrorObject>> = [];
  const kind = text(request["kind"]);
  if (kind !== undefined && !(rules.kinds as readonly string[]).includes(kind)) found.push(breach("/instrument", "instrument-mismatch", { instrument, kind }));

  // The legal basis must cite the instrument named: an EIO cannot rest on a treaty.
  const bases = Array.isArray(request["legalBasis"]) ? request["legalBasis"] : isRecord(request["legalBasis"]) ? [request["legalBasis"]] : [];
  const cited = bases.some(
    (b) => isRecord(b) && b["type"] === rules.legalBasis.type && (rules.legalBasis.codes === undefined || rules.legalBasis.codes.includes(text(b["instrumentCode"]) ?? "")),
  );
  if (!cited) found.push(breach("/legalBasis", "instrument-mismatch", { instrument, type: rules.legalBasis.type, codes: rules.legalBasis.codes ?? [] }));

  for (const pointer of rules.requires) {
    if (valuesAt(request, pointer).length === 0) found.push(breach(pointer, "required-by-instrument", { instrument }));
  }

  const items = Array.isArray(request["assistance"]) ? request["assistance"] : [];
  const issuer = isRecord(request["issuingAuthority"]) ? text(request["issuingAuthority"]["type"]) : undefined;
  const validator = isRecord(request["validatingAuthority"]) ? text(request["validatingAuthority"]["type"]) : undefined;
  items.forEach((item, i) => {
    if (!isRecord(item)) return;
    const type = text(item["type"]) ?? "";
    const at = `/assistance/${i}`;
    if (rules.assistanceTypes !== undefined && !rules.assistanceTypes.includes(type)) found.push(breach(`${at}/type`, "not-allowed-for-instrument", { instrument, allowed: rules.assistanceTypes }));
    // A request for content or traffic data issued by the police alone is not a judicial order under any instrument.
    for (const rule of rules.judicial) {
      if (!rule.types.includes(type)) continue;
      if ((issuer !== undefined && rule.issuers.includes(issuer)) || (validator !== undefined && rule.validators.includes(validator))) continue;
      const path = validator === undefined ? "/validatingAuthority" : "/validatingAuthority/type";
      found.push(breach(path, "judicial-validation-required", { instrument, item: i, type, issuers: rule.issuers, validators: rule.validators }));
    }
    if (DATA_ITEM_TYPES.includes(type)) {
      for (const field of rules.dataItemRequires) {
        if (item[field] === undefined) found.push(breach(`${at}/${field}`, "required-by-instrument", { instrument, type }));
      }
    }
    if (type === "content-data" && rules.maxContentRangeDays !== undefined && item["dateRangeJustification"] === undefined && isRecord(item["dateRange"])) {
      const days = calendarDaysCovered(item["dateRange"]["from"], item["dateRange"]["to"]);
      if (days !== undefined && days > rules.maxContentRangeDays) {
        found.push({ keyword: "x-max-range-days", instancePath: `${at}/dateRange`, params: { limit: rules.maxContentRangeDays, days, unlessPresent: "dateRangeJustification" } });
      }
    }
  });

  const days = request["preservationDays"];
  if (rules.preservationDays !== undefined && typeof days === "number") {
    if (days < rules.preservationDays.min || days > rules.preservationDays.max) {
      found.push(breach("/preservationDays", "outside-instrument-limits", { instrument, min: rules.preservationDays.min, max: rules.preservationDays.max }));
    }
  }
  // One breach per field and kind: several items may need the same validation.
  const seen = new Set<string>();
  return found.filter((e) => {
    const key = `${e.instancePath}\u0000${e.keyword}\u0000${String((e.params as Record<string, unknown>)["code"])}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Keyword `x-instrument-rules: true` on a request document. */
export const instrumentRulesKeyword: FuncKeywordDefinition = {
  keyword: "x-instrument-rules",
  type: "object",
  schemaType: "boolean",
  errors: true,
  validate: function instrumentRulesCheck(this: unknown, schema: boolean, data: unknown): boolean {
    const self = instrumentRulesCheck as unknown as { errors?: KeywordErrors | null };
    self.errors = null;
    if (!schema || !isRecord(data)) return true;
    const instrument = text(data["instrument"]);
    const rules = instrumentRules(instrument);
    if (instrument === undefined || rules === undefined) return true; // the enum reports it
    const found = instrumentBreaches(data, instrument, rules);
    if (found.length === 0) return true;
    self.errors = found;
    return false;
  },
};

/** Every request-rule keyword. */
export const REQUEST_RULE_KEYWORDS: readonly FuncKeywordDefinition[] = [substantiveKeyword, refKeyword, notBeforeKeyword, instrumentRulesKeyword];
