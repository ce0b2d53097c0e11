/**
 * Which of a rule's explanations a reader gets. A profile explains its rules
 * in one or more of the six UN languages; the reader asks with an HTTP
 * `Accept-Language` header (or `--lang` at the terminal). The first language
 * the reader accepts that the explanation has wins; failing that, the
 * profile's own language, then English, then the first the explanation has
 * in the UN order (ar, zh, en, fr, ru, es).
 *
 * Pure: the header and the explanation are arguments.
 */

/** The six official languages of the United Nations, in the UN's order. */
export const UN_LANGUAGES = ["ar", "zh", "en", "fr", "ru", "es"] as const;
/** One of {@link UN_LANGUAGES}. */
export type UnLanguage = (typeof UN_LANGUAGES)[number];

/** A text in one or more UN languages. */
export type Explanation = Readonly<Partial<Record<UnLanguage, string>>>;

/** An explanation picked for a reader. */
export interface ChosenText {
  readonly language: UnLanguage;
  readonly text: string;
}

// The header is the caller's: bounded before it is split, and only so many ranges are read.
const MAX_HEADER = 1024;
const MAX_RANGES = 32;
const RANGE = /^([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*$/;

/**
 * The primary language subtags an `Accept-Language` header asks for, most
 * wanted first (RFC 9110 §12.5.4: `q` weights, `q=0` means "not this one";
 * equal weights keep their order). `fr-CA` asks for `fr`, `zh-Hans` for
 * `zh`; `*` and malformed ranges are skipped.
 *
 * @example acceptedLanguages("fr-CH, fr;q=0.9, en;q=0.8") // ["fr", "en"]
 */
export function acceptedLanguages(header: string | readonly string[] | undefined): string[] {
  const text = (Array.isArray(header) ? header.join(",") : (header as string | undefined) ?? "").slice(0, MAX_HEADER);
  const ranges: Array<{ tag: string; q: number; order: number }> = [];
  for (const [order, part] of text.split(",").slice(0, MAX_RANGES).entries()) {
    const [range = "", ...params] = part.trim().split(";");
    const match = RANGE.exec(range.trim());
    if (match === null) continue;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.trim().split("=");
      if (name?.trim().toLowerCase() === "q") q = Number(value);
    }
    if (!Number.isFinite(q) || q <= 0 || q > 1) continue;
    ranges.push({ tag: (match[1] as string).toLowerCase(), q, order });
  }
  ranges.sort((a, b) => b.q - a.q || a.order - b.order);
  return [...new Set(ranges.map((r) => r.tag))];
}

/** True when `language` is one of the six UN languages. */
export function isUnLanguage(language: unknown): language is UnLanguage {
  return typeof language === "string" && (UN_LANGUAGES as readonly string[]).includes(language);
}

/**
 * Picks the text of `explanation` for a reader who accepts `preferred`
 * (from {@link acceptedLanguages}), falling back to `profileLanguage`, then
 * English, then the first language present. Undefined only for an empty
 * explanation (which the profile schema does not allow).
 */
export function chooseText(explanation: Explanation, preferred: readonly string[], profileLanguage: string): ChosenText | undefined {
  const order = [...preferred, profileLanguage, "en", ...UN_LANGUAGES];
  for (const language of order) {
    if (!isUnLanguage(language)) continue;
    const text = explanation[language];
    if (typeof text === "string" && text !== "") return { language, text };
  }
  return undefined;
}
