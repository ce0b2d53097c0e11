/**
 * Structured JSON logs through winston. One logger per gateway (no global
 * logger), every line tagged with the authority. Never pass keys,
 * passphrases, tokens or document content: log ids, digests and codes.
 */
import winston from "winston";

/** A gateway's logger. */
export type Logger = winston.Logger;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The authority this gateway runs for; added to every line. */
  authority: string;
  /** winston level (default `info`; `VALISE_LOG_LEVEL` in the CLI). */
  level?: string;
  /** Where lines go (default stdout). */
  stream?: NodeJS.WritableStream;
  /** No output at all (tests). */
  silent?: boolean;
}

// Field names that must never reach a log line, whatever a caller passes.
const SECRET_FIELDS = /^(passphrase|password|token|secret|privateKey|key|authorization|document|content)$/i;

const redact = winston.format((info) => {
  for (const field of Object.keys(info)) {
    if (SECRET_FIELDS.test(field)) info[field] = "[redacted]";
  }
  return info;
});

/** A JSON-lines logger: `{"level","message","timestamp","authority",…}`. */
export function createLogger(options: LoggerOptions): Logger {
  return winston.createLogger({
    level: options.level ?? "info",
    silent: options.silent === true,
    defaultMeta: { authority: options.authority },
    format: winston.format.combine(redact(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stdout })],
  });
}
