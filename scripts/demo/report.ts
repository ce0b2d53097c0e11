/**
 * How the demo talks to the person watching: numbered sections, indented
 * facts, a ✓ per verified check. Plain text; colour only on a terminal
 * (and never with NO_COLOR set), so a piped or logged run stays clean.
 */

/** Writes the demo's narrative. */
export interface Report {
  /** A numbered section heading. */
  section(title: string): void;
  /** A sentence of narrative. */
  say(text: string): void;
  /** An aligned `label  value` line. */
  fact(label: string, value: string): void;
  /** A check that passed. */
  ok(text: string): void;
  /** A check that failed (the run will exit 1). */
  fail(text: string): void;
  /** Verbatim lines (a command, a hint), indented. */
  block(lines: readonly string[]): void;
}

/** Options of {@link createReport}. */
export interface ReportOptions {
  readonly stream: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Use ANSI colour (default: the stream is a TTY and NO_COLOR is unset). */
  readonly colour?: boolean;
}

/** A report on `options.stream`. */
export function createReport(options: ReportOptions): Report {
  const { stream } = options;
  const colour = options.colour ?? ((stream as NodeJS.WriteStream).isTTY === true && process.env["NO_COLOR"] === undefined);
  const paint = (code: string, text: string): string => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const write = (text: string): void => {
    stream.write(`${text}\n`);
  };
  let sectionNumber = 0;
  return {
    section(title) {
      sectionNumber += 1;
      const heading = `${sectionNumber}. ${title}`;
      write("");
      write(paint("1", heading));
      write(paint("1", "-".repeat(heading.length)));
    },
    say(text) {
      write(text === "" ? "" : `  ${text}`);
    },
    fact(label, value) {
      write(`    ${label.padEnd(18)} ${value}`);
    },
    ok(text) {
      write(`  ${paint("32", "✓")} ${text}`);
    },
    fail(text) {
      write(`  ${paint("31", "✗")} ${paint("31", text)}`);
    },
    block(lines) {
      for (const line of lines) write(`      ${line}`);
    },
  };
}
