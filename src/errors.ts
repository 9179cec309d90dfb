/**
 * The errors quo-sync throws on purpose: every one is a `QuoSyncError`, thrown deep and turned into
 * messages and exit codes only in `src/commands/` (and into `/healthz` kinds in `src/daemon/`).
 *
 * Two facts travel with each error so that callers decide from data, not from class names:
 * - `kind` — which part of the world is wrong (the config, the source, the state, Quo, a guard);
 * - `transient` — whether the same call may succeed later (network, 429, 5xx after retries ran out).
 *   The executor reads it to decide whether to re-read and re-send a write, the daemon to report a
 *   failed run as "temporary".
 *
 * What caused an error is kept as the standard `cause` (ES2022 `new Error(message, { cause })`),
 * but only once scrubbed: a cause taken from an HTTP client passes through `src/net/redact.ts`
 * first, since axios errors carry the request's headers. Every message is written for a person and
 * never contains a secret.
 */

/** Which part of the world an error is about. */
export type QuoSyncErrorKind =
  /** The configuration (file, environment or a mapping to the source) is wrong. */
  | "config"
  /** The source could not be read completely. */
  | "source"
  /** The state store is locked or unusable. */
  | "state"
  /** A call to Quo's API failed. */
  | "quo"
  /** A safety guard refused the run. */
  | "guard";

/** What every `QuoSyncError` constructor accepts besides its message. */
export interface QuoSyncErrorOptions {
  /** True when trying the same thing again later may succeed; default false. */
  transient?: boolean;
  /** The error this one explains, already free of secrets (see `src/net/redact.ts`). */
  cause?: unknown;
}

/**
 * The base of every error quo-sync throws on purpose. `kind` and `transient` are fixed at
 * construction; `cause` is set only when one is given, so `err.cause` stays undefined otherwise.
 */
export abstract class QuoSyncError extends Error {
  abstract readonly kind: QuoSyncErrorKind;
  /** True when trying again later may succeed (network, quota, 5xx); read by retry/stop decisions. */
  readonly transient: boolean;

  constructor(message: string, opts: QuoSyncErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.transient = opts.transient ?? false;
  }
}

/** The configuration (file, environment or a mapping to the source) is wrong; fix it and rerun. */
export class ConfigError extends QuoSyncError {
  override readonly name = "ConfigError";
  readonly kind = "config";
  constructor(
    message: string,
    /** Where, as a config path such as `syncs[0].fields.phoneNumbers.mobile`, when known. */
    readonly path?: string,
    opts: Omit<QuoSyncErrorOptions, "transient"> = {},
  ) {
    super(path ? `${path}: ${message}` : message, opts);
  }
}

/**
 * The source could not be read completely (unparseable file, unreachable API). Nothing was written.
 * The second argument is `transient` (the historical signature) or the full options.
 */
export class SourceError extends QuoSyncError {
  override readonly name = "SourceError";
  readonly kind = "source";
  constructor(message: string, opts: boolean | QuoSyncErrorOptions = {}) {
    super(message, typeof opts === "boolean" ? { transient: opts } : opts);
  }
}

/** A safety guard refused the run before anything was written. */
export class GuardRefused extends QuoSyncError {
  override readonly name = "GuardRefused";
  readonly kind = "guard";
  constructor(message: string, opts: Omit<QuoSyncErrorOptions, "transient"> = {}) {
    super(message, opts);
  }
}

/** The state store is locked by another run of the same sync, or unusable. */
export class StateError extends QuoSyncError {
  override readonly name: string = "StateError";
  readonly kind = "state";
  constructor(message: string, opts: QuoSyncErrorOptions = {}) {
    super(message, opts);
  }
}

/**
 * A run lost its lock (taken over as stale, its heartbeat failed, or a journal write found another
 * owner): no further write may start, and nothing it learns may be recorded (docs/architecture.md, "Locks").
 */
export class LockLost extends StateError {
  override readonly name = "LockLost";
}
