/**
 * The JSON body of an error answer, bounded. Details are built from hostile
 * input (a document's failing fields, echoed ids and values): a 1 MB request
 * with thousands of failing fields would otherwise be answered with a
 * response many times its size — an amplifier, and a log and memory burden
 * for whoever reads it. So lists keep their first {@link MAX_LIST_ITEMS}
 * entries and say how many were left out (`<name>Omitted` beside the list),
 * strings are cut at {@link MAX_STRING_CHARS}, and nesting stops at
 * {@link MAX_DEPTH}.
 */

/** Entries kept of any list in an error's details (e.g. `details.errors`). */
export const MAX_LIST_ITEMS = 50;
/** Characters kept of any string in an error's message or details. */
export const MAX_STRING_CHARS = 256;
/** Levels of nesting kept in an error's details. */
const MAX_DEPTH = 6;

function boundString(text: string, max = MAX_STRING_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

function boundValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") return boundString(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "…";
  if (Array.isArray(value)) return value.slice(0, MAX_LIST_ITEMS).map((item) => boundValue(item, depth + 1));
  const bounded: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    bounded[key] = boundValue(item, depth + 1);
    if (Array.isArray(item) && item.length > MAX_LIST_ITEMS) bounded[`${key}Omitted`] = item.length - MAX_LIST_ITEMS;
  }
  return bounded;
}

/**
 * `{error: {code, message, details?}}` with the message and details bounded
 * (see the module comment).
 *
 * @example
 * errorBody("DOCUMENT_INVALID", "…", { errors: tenThousandErrors })
 * // → details.errors has 50 entries and details.errorsOmitted is 9950
 */
export function errorBody(code: string, message: string, details?: Readonly<Record<string, unknown>>): { error: { code: string; message: string; details?: unknown } } {
  return { error: { code, message: boundString(message, 4 * MAX_STRING_CHARS), ...(details === undefined ? {} : { details: boundValue(details, 0) }) } };
}
