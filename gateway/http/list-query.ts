/**
 * The query string of a paged list of the local API: its filters, `limit`
 * and `cursor`. The query string is hostile: only the names a list declares
 * pass (anything else is refused, so a misspelt filter never silently lists
 * everything), each value checked by its rule, and at most one value per name.
 */
import { GatewayError } from "../errors.js";
import type { ListFilters } from "./cursor.js";

/** A filter's rule: returns the value as the list uses it, or a reason it is refused. */
export type FilterRule = (value: string) => { ok: true } | { ok: false; reason: string };

/** What a list accepts besides `limit` and `cursor`. */
export type FilterRules = Readonly<Record<string, FilterRule>>;

/** A paged list's request. */
export interface ListQuery {
  readonly filters: ListFilters;
  readonly limit: number;
  readonly cursor: string | undefined;
}

/** Default and largest page. */
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 500;

/** One of `values`. */
export function oneOf(values: readonly string[]): FilterRule {
  return (value) => (values.includes(value) ? { ok: true } : { ok: false, reason: `must be one of ${values.join(", ")}` });
}

/** Matches `pattern`. */
export function matching(pattern: RegExp, what: string): FilterRule {
  return (value) => (pattern.test(value) ? { ok: true } : { ok: false, reason: `must be ${what}` });
}

/** An RFC 3339 time in UTC (as the gateway writes them). */
export const timestampRule: FilterRule = (value) =>
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$/.test(value) && !Number.isNaN(Date.parse(value))
    ? { ok: true }
    : { ok: false, reason: "must be an RFC 3339 time in UTC, e.g. 2025-01-31T09:00:00Z" };

/** Free text of 1 to `max` characters. */
export function textRule(max: number): FilterRule {
  return (value) => (value.length >= 1 && value.length <= max ? { ok: true } : { ok: false, reason: `must be 1 to ${max} characters` });
}

/** `true` or `false`. */
export const booleanRule: FilterRule = oneOf(["true", "false"]);

function usage(message: string, details: Record<string, unknown>): GatewayError {
  return new GatewayError("USAGE", message, { details });
}

/**
 * Parses a list's query string against its `rules` (plus `limit`, the
 * cursor — named `cursor`, or `after` for the event feed — and any `extra`
 * names the route reads itself).
 */
export function parseListQuery(query: Record<string, unknown>, rules: FilterRules, extra: readonly string[] = [], cursorName: "cursor" | "after" = "cursor"): ListQuery {
  const filters: Record<string, string> = {};
  let limit = DEFAULT_PAGE;
  let cursor: string | undefined;
  for (const [name, raw] of Object.entries(query)) {
    if (typeof raw !== "string") throw usage(`${name.slice(0, 64)} must be given once`, { parameter: name.slice(0, 64) });
    if (name === "limit") {
      if (!/^[1-9][0-9]{0,3}$/.test(raw) || Number(raw) > MAX_PAGE) throw usage(`limit must be an integer from 1 to ${MAX_PAGE}`, { limit: raw.slice(0, 32) });
      limit = Number(raw);
    } else if (name === cursorName) {
      cursor = raw;
    } else if (Object.hasOwn(rules, name)) {
      const checked = rules[name]!(raw);
      if (!checked.ok) throw usage(`${name} ${checked.reason}`, { [name]: raw.slice(0, 64) });
      filters[name] = raw;
    } else if (!extra.includes(name)) {
      throw usage(`unknown query parameter ${name.slice(0, 64)}`, { parameter: name.slice(0, 64), allowed: [...Object.keys(rules), ...extra, "limit", cursorName] });
    }
  }
  return { filters, limit, cursor };
}
