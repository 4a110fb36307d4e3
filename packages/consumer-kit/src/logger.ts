/**
 * pino JSON logs with PII redaction configured once: email, phone and the like never reach a log line.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Paths redacted wherever they appear (top level and one or two levels down). */
export const REDACTED_FIELDS = ['email', 'phone', 'emails', 'phones', 'ip', 'address', 'password', 'token', 'authorization'];
const redactPaths = REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

export interface LoggerOptions {
  name: string;
  level?: LevelWithSilent;
  /** Where to write; defaults to stderr so that stdout stays clean for CLI output. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { service: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (options.destination ?? process.stderr) as pino.DestinationStream,
  );
}
