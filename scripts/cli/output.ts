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
    stderr.write(`error[${code}]: ${message}\n`);
  }
  if (process.env["VALISE_DEBUG"] === "1" && error instanceof Error && error.stack !== undefined) {
    stderr.write(`${error.stack}\n`);
  }
  return exitCodeFor(code);
}

function ensureNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
