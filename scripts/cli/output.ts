/**
 * How every `valise` command reports: human text by default, one JSON
 * document with `--json`; errors as `error[CODE]: message` or
 * `{"error":{"code","message"}}`.
 */
import { isValiseError } from "../../pki/errors.js";
import { exitCodeFor } from "../../gateway/errors.js";

/** Writes a command's result. */
export interface Output {
  readonly json: boolean;
  /** Prints `data` as JSON with --json, else the text `render` returns. */
  result(data: unknown, render: () => string): void;
  /** Informational text for humans (suppressed with --json). */
  note(text: string): void;
}

/** An Output writing to the given streams. */
export function createOutput(json: boolean, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Output {
  return {
    json,
    result(data, render) {
      stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : ensureNewline(render()));
    },
    note(text) {
      if (!json) stderr.write(ensureNewline(text));
    },
  };
}

/**
 * Reports `error` and returns the exit code. Unknown errors are reported as
 * `INTERNAL` without their stack (set VALISE_DEBUG=1 to see it).
 */
export function reportError(error: unknown, json: boolean, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): number {
  const code = isValiseError(error) ? error.code : "INTERNAL";
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    const details = isValiseError(error) && error.details !== undefined ? { details: error.details } : {};
    stdout.write(`${JSON.stringify({ error: { code, message, ...details } })}\n`);
  } else {
    const details = isValiseError(error) ? error.details : undefined;
    const lines = details === undefined ? [] : detailLines(details);
    // The details are the useful part of many refusals (every failing field of a document): text mode prints them too.
    stderr.write(`error[${code}]: ${lines.length > 0 ? message.replace(/; see details\.errors$/, ":") : message}\n${lines.map((line) => `${line}\n`).join("")}`);
  }
  if (process.env["VALISE_DEBUG"] === "1" && error instanceof Error && error.stack !== undefined) {
    stderr.write(`${error.stack}\n`);
  }
  return exitCodeFor(code);
}

/** The most lines of details text mode prints (the rest are counted). */
const MAX_DETAIL_LINES = 50;

/**
 * An error's details as indented lines: a list of problems (`errors`, as a
 * DOCUMENT_INVALID or CONFIG_INVALID carries) one per line with its path,
 * message and hint; any other field as `name: value`.
 */
export function detailLines(details: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(details)) {
    if (name === "errors" && Array.isArray(value)) {
      for (const item of value) lines.push(`  - ${problemText(item)}`);
    } else if (name.endsWith("Omitted") && typeof value === "number") {
      lines.push(`  (${value} more not shown)`);
    } else {
      lines.push(`  ${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
    }
  }
  return lines.length <= MAX_DETAIL_LINES ? lines : [...lines.slice(0, MAX_DETAIL_LINES), `  (${lines.length - MAX_DETAIL_LINES} more lines: use --json)`];
}

function problemText(item: unknown): string {
  if (typeof item !== "object" || item === null) return String(item);
  const { path, message, problem, hint, property } = item as Record<string, unknown>;
  const where = typeof path === "string" ? `${path}: ` : "";
  const what = typeof message === "string" ? message : typeof problem === "string" ? `${problem}${typeof property === "string" ? ` (${property})` : ""}` : JSON.stringify(item);
  return `${where}${what}${typeof hint === "string" && hint !== "" ? ` (${hint})` : ""}`;
}

function ensureNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
