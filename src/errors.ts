/**
 * Typed errors, thrown deep and turned into messages and exit codes only in `src/commands/`.
 * Every message is written for a person and never contains a secret.
 */

/** The configuration (file, environment or a mapping to the source) is wrong; fix it and rerun. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    message: string,
    /** Where, as a config path such as `syncs[0].fields.phoneNumbers.mobile`, when known. */
    readonly path?: string,
  ) {
    super(path ? `${path}: ${message}` : message);
  }
}

/** The source could not be read completely (unparseable file, unreachable API). Nothing was written. */
export class SourceError extends Error {
  override readonly name = "SourceError";
  constructor(
    message: string,
    /** True when trying again later may succeed (network, quota). */
    readonly transient = false,
  ) {
    super(message);
  }
}

/** A remote call failed in a way that may succeed later (network, 429, 5xx) and retries ran out. */
export class TransientError extends Error {
  override readonly name = "TransientError";
}

/** A safety guard refused the run before anything was written. */
export class GuardRefused extends Error {
  override readonly name = "GuardRefused";
}

/** The state store is locked by another run of the same sync, or unusable. */
export class StateError extends Error {
  override readonly name = "StateError";
}
