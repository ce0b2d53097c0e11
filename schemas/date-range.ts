/**
 * Custom ajv keywords for date ranges, which JSON Schema cannot express:
 * `x-date-order` (the range does not end before it starts) and
 * `x-max-range-days` (narrow tailoring: a range of at most N calendar days
 * unless a justification field is present).
 *
 * Both checks parse dates themselves rather than rely on ajv formats, so they
 * hold even where formats are disabled; a malformed date is left to the
 * `format`/`pattern` keywords to report.
 */
import type { ErrorObject, FuncKeywordDefinition } from "ajv/dist/2020.js";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a `YYYY-MM-DD` date, or undefined when it is not a real calendar date. */
export function epochDay(date: unknown): number | undefined {
  if (typeof date !== "string") return undefined;
  const m = DATE.exec(date);
  if (m === null) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  // Date.UTC rolls 2024-02-30 over to March; a real date round-trips.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return ms / DAY_MS;
}

/**
 * Calendar days a range covers, counting both ends: 2024-01-01..2024-01-01 is 1.
 * Undefined when either end is not a valid date.
 *
 * @example calendarDaysCovered("2024-01-01", "2024-06-28") // 180
 */
export function calendarDaysCovered(from: unknown, to: unknown): number | undefined {
  const a = epochDay(from);
  const b = epochDay(to);
  if (a === undefined || b === undefined) return undefined;
  return b - a + 1;
}

interface DataContext {
  instancePath: string;
}

type KeywordErrors = Array<Partial<ErrorObject>>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Keyword `x-date-order: true` on a `{from, to}` object: `to` must not precede `from`. */
export const dateOrderKeyword: FuncKeywordDefinition = {
  keyword: "x-date-order",
  type: "object",
  schemaType: "boolean",
  errors: true,
  validate: function dateOrder(this: unknown, schema: boolean, data: unknown, _parent?: unknown, cxt?: DataContext): boolean {
    const self = dateOrder as unknown as { errors?: KeywordErrors | null };
    self.errors = null;
    if (!schema || !isRecord(data)) return true;
    const days = calendarDaysCovered(data["from"], data["to"]);
    if (days === undefined || days >= 1) return true;
    self.errors = [
      {
        keyword: "x-date-order",
        instancePath: `${cxt?.instancePath ?? ""}/to`,
        params: {},
        message: "must not be before from",
      },
    ];
    return false;
  },
};

/** Keyword `x-max-range-days: {days, unlessPresent?}` on an object with a `dateRange` property. */
export const maxRangeDaysKeyword: FuncKeywordDefinition = {
  keyword: "x-max-range-days",
  type: "object",
  schemaType: "object",
  metaSchema: {
    type: "object",
    properties: {
      days: { type: "integer", minimum: 1 },
      unlessPresent: { type: "string", minLength: 1 },
    },
    required: ["days"],
    additionalProperties: false,
  },
  errors: true,
  validate: function maxRangeDays(
    this: unknown,
    schema: { days: number; unlessPresent?: string },
    data: unknown,
    _parent?: unknown,
    cxt?: DataContext,
  ): boolean {
    const self = maxRangeDays as unknown as { errors?: KeywordErrors | null };
    self.errors = null;
    if (!isRecord(data)) return true;
    if (schema.unlessPresent !== undefined && data[schema.unlessPresent] !== undefined) return true;
    const range = data["dateRange"];
    if (!isRecord(range)) return true;
    const days = calendarDaysCovered(range["from"], range["to"]);
    if (days === undefined || days <= schema.days) return true;
    self.errors = [
      {
        keyword: "x-max-range-days",
        instancePath: `${cxt?.instancePath ?? ""}/dateRange`,
        params: { limit: schema.days, days, unlessPresent: schema.unlessPresent },
        message: `must not cover more than ${schema.days} days`,
      },
    ];
    return false;
  },
};

/** Every custom keyword the Valise schemas use. */
export const DATE_RANGE_KEYWORDS: readonly FuncKeywordDefinition[] = [dateOrderKeyword, maxRangeDaysKeyword];
