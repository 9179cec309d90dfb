/**
 * What every command shares: loading config and environment, choosing syncs, writing the report,
 * and turning typed errors into a one-line reason and an exit code (only commands do that:
 * docs/architecture.md).
 */
import { writeFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import type { LoadedConfig, SyncConfig } from "../config.js";
import { loadConfig, loadEnv, workspaceOf } from "../config.js";
import { ConfigError, GuardRefused, QuoSyncError, SourceError, StateError } from "../errors.js";
import { parseHttpAddress } from "../daemon/schedules.js";
import { createLogger, type Logger } from "../log.js";
import { QuoApiError } from "../quo/errors.js";

/** Exit statuses (README "Exit status"). */
export const EXIT = {
  ok: 0,
  /** The run could not complete: config, source, state or Quo error. */
  error: 1,
  /** `plan --detailed-exitcode`: changes are pending. */
  changes: 2,
  /** A safety guard refused the run; nothing was written. */
  refused: 3,
  /**
   * The command line itself is wrong: an unknown command or option, a missing or invalid option
   * value. EX_USAGE of sysexits.h, so a script can tell a typo from a run that failed.
   */
  usage: 64,
  /**
   * Stopped by SIGINT (Ctrl-C) or SIGTERM: the shell's 128 + the signal's number, so a script or a
   * shell loop sees the interruption as it would a process the signal killed.
   */
  interrupted: 130,
  terminated: 143,
} as const;

/**
 * `--wait`, `--shutdown-timeout`: a number of seconds, 0 or more. Throws commander's
 * `InvalidArgumentError`, so a bad value is a usage error (exit 64).
 */
export function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError("Give a number of seconds, 0 or more.");
  return n;
}

/** `--runs`: a whole number, 1 or more. Throws `InvalidArgumentError` (exit 64). */
export function parseCount(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError("Give a whole number, 1 or more.");
  return n;
}

/** `--http`: HOST:PORT, checked as the daemon will read it and kept as given. Throws `InvalidArgumentError` (exit 64). */
export function parseHttp(value: string): string {
  try {
    parseHttpAddress(value);
  } catch {
    throw new InvalidArgumentError("Give HOST:PORT, such as 127.0.0.1:9464, or :9464 for every interface.");
  }
  return value;
}

export interface GlobalOptions {
  config: string;
  format: string;
  out?: string;
  allowDeletes?: boolean;
  sync?: string;
}

export interface CommandContext {
  loaded: LoadedConfig;
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

export function setup(opts: GlobalOptions): CommandContext {
  const env = loadEnv(process.cwd());
  const logger = createLogger(env);
  return { loaded: loadConfig(opts.config), env, logger };
}

/** The indexes of the syncs to run: all, or the one named. Throws `ConfigError` for an unknown name. */
export function selectSyncs(loaded: LoadedConfig, name?: string): number[] {
  const syncs = loaded.config.syncs;
  if (!name) return syncs.map((_, i) => i);
  const i = syncs.findIndex((s: SyncConfig) => s.name === name);
  if (i < 0) throw new ConfigError(`--sync ${name}: no such sync in ${loaded.file} (syncs: ${syncs.map((s) => s.name).join(", ")})`);
  return [i];
}

/** The workspaces the given syncs write to, each once, in the order the syncs first name them. Never throws. */
export function workspacesOf(loaded: LoadedConfig, indexes: readonly number[]): string[] {
  return [...new Set(indexes.map((i) => workspaceOf(loaded.config.syncs[i] as SyncConfig)))];
}

/**
 * Writes a report to `--out` or stdout. When `--out` cannot be written, the report goes to stdout
 * instead — after a real run its writes are done, and what they were must reach someone — and a
 * `ConfigError` naming the file is thrown.
 */
export function emit(text: string, out?: string): void {
  if (!out) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(out, text);
  } catch (e) {
    process.stdout.write(text);
    throw new ConfigError(`--out ${out}: cannot write the report there (${e instanceof Error ? e.message : String(e)}); it was printed to stdout instead`, undefined, { cause: e });
  }
}

/** `LOG_LEVEL` as the command saw it: the environment, or the working directory's `.env`. */
function logLevel(): string | undefined {
  try {
    return loadEnv(process.cwd()).LOG_LEVEL;
  } catch {
    return process.env.LOG_LEVEL;
  }
}

/** The stack of an unexpected error and of each of its causes, for `LOG_LEVEL=debug`. */
function stacks(e: unknown): string {
  const out: string[] = [];
  for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 10; cur = cur.cause, depth++) out.push(`${depth > 0 ? "caused by: " : ""}${cur.stack ?? cur.message}`);
  return out.join("\n");
}

/** A one-line reason (plus any detail lines) for an error, never a stack for expected errors. */
export function describeError(e: unknown): string {
  if (e instanceof ConfigError) return `config error: ${e.message}`;
  if (e instanceof SourceError) return `source error: ${e.message}`;
  if (e instanceof StateError) return `state error: ${e.message}`;
  if (e instanceof GuardRefused) return `refused: ${e.message}`;
  if (e instanceof QuoApiError) {
    // A client that names its workspace names the one variable to check; one that does not is the
    // only workspace there is, whose key is in one of the two.
    const where = e.workspace !== undefined ? ` (workspace '${e.workspace}')` : "";
    const hint =
      e.status !== 401
        ? ""
        : e.workspace !== undefined && e.keyVariable !== undefined
          ? ` (check that ${e.keyVariable} holds a valid key for workspace '${e.workspace}')`
          : " (check that QUO_API_KEY, or MATON_API_KEY, holds a valid key for this workspace)";
    return `Quo API error${where}: ${e.summary}${hint}`;
  }
  if (e instanceof Error) return `unexpected error: ${e.message}`;
  return `unexpected error: ${String(e)}`;
}

/**
 * Prints the one line that says why the command (or, with `what`, the part of it named, such as
 * `sync 'leads'`) could not complete, and returns its exit status. The only place an error is
 * printed: callers neither log it nor print it again.
 */
export function fail(e: unknown, what?: string): number {
  process.stderr.write(`quo-sync: ${what !== undefined ? `${what}: ` : ""}${describeError(e)}\n`);
  if (!(e instanceof QuoSyncError) && e instanceof Error && logLevel() === "debug") process.stderr.write(`${stacks(e)}\n`);
  return e instanceof GuardRefused ? EXIT.refused : EXIT.error;
}
