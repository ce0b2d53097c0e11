/**
 * `Content-Disposition: attachment` for a file name that comes from a
 * peer's manifest (RFC 6266, with RFC 8187 for the extended parameter).
 *
 * The name is hostile: any Unicode, quotes, backslashes, control characters,
 * lone surrogates. A header value must stay printable ASCII (Node refuses
 * others, or a client reads them as Latin-1), and a quoted string must not
 * be closed early. So the value carries two parameters:
 *
 * - `filename="…"`: an ASCII fallback for clients without RFC 8187 —
 *   accents dropped (NFKD), every other non-ASCII or control character, `"`,
 *   `\`, `%` (some clients percent-decode it) and `/` replaced by `_`;
 * - `filename*=UTF-8''…`: the name itself, percent-encoded as RFC 8187
 *   `attr-char` requires (control characters replaced by `_` there too;
 *   a lone surrogate becomes U+FFFD).
 *
 * Clients that know `filename*` prefer it (RFC 6266 §4.3).
 */

/** RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~". */
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;

/** C0 controls, DEL and C1 controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** The ASCII fallback of `name` for the plain `filename` parameter. */
export function asciiFileName(name: string): string {
  const ascii = name
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[^\u0020-\u007e]|["\\%/]/gu, "_");
  return ascii === "" ? "evidence" : ascii;
}

/** `name` as an RFC 8187 ext-value in UTF-8. */
export function extendedFileName(name: string): string {
  let encoded = "";
  for (const byte of Buffer.from(name.replace(CONTROL, "_"), "utf8")) {
    const char = String.fromCharCode(byte);
    encoded += byte < 0x80 && ATTR_CHAR.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return `UTF-8''${encoded}`;
}

/**
 * The `Content-Disposition` value of a download of a file named `name`.
 *
 * @example
 * attachmentDisposition('Kontoauszüge "2025".csv')
 * // attachment; filename="Kontoauszuge _2025_.csv"; filename*=UTF-8''Kontoausz%C3%BCge%20%222025%22.csv
 */
export function attachmentDisposition(name: string): string {
  return `attachment; filename="${asciiFileName(name)}"; filename*=${extendedFileName(name)}`;
}
