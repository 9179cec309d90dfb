/**
 * Logging: pino to stderr (reports own stdout). JSON lines for machines; readable lines when stderr
 * is a terminal. `LOG_LEVEL` sets the level (default info). Auth headers are redacted as a second
 * line of defence: no code path is meant to log them in the first place.
 */
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

const REDACT = ["authorization", "Authorization", "*.authorization", "*.Authorization", "headers.authorization", "*.headers.authorization", "apiKey", "*.apiKey", "token", "*.token"];

export function createLogger(env: NodeJS.ProcessEnv = process.env, opts: { pretty?: boolean } = {}): Logger {
  const level = env.LOG_LEVEL ?? "info";
  const usePretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  const base = { level, base: undefined, redact: { paths: REDACT, censor: "[redacted]" } };
  if (usePretty) {
    return pino(base, pretty({ destination: 2, colorize: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname", sync: true }));
  }
  return pino(base, pino.destination({ fd: 2, sync: true }));
}
