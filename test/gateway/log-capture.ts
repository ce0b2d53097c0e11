/**
 * A gateway logger whose JSON lines a test can read (the fixtures' gateways
 * are silent).
 */
import { PassThrough } from "node:stream";
import { createLogger, type Logger } from "../../gateway/log.js";

/** One parsed log line. */
export type LogLine = { readonly level: string; readonly message: string } & Record<string, unknown>;

/** A logger for `authority` and the lines it wrote so far. */
export function captureLogger(authority: string): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new PassThrough();
  let partial = "";
  stream.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    for (const part of parts) if (part.trim() !== "") lines.push(JSON.parse(part) as LogLine);
  });
  return { logger: createLogger({ authority, stream, level: "debug" }), lines };
}
