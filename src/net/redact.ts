/**
 * Secret scrubbing shared by every HTTP client (Quo, HubSpot): text that may echo a request (an
 * error body, a message, a third-party error kept as `cause`) passes through here before it is kept
 * or shown.
 */

/** What replaces a secret. */
export const REDACTED = "[redacted]";

/** How deep `redactError` follows a `cause` chain; deeper causes are dropped. */
const MAX_CAUSE_DEPTH = 5;

/** Replaces every occurrence of any of `secrets` in `text`. Empty secrets are ignored. Never throws. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== "") out = out.split(secret).join(REDACTED);
  }
  return out;
}

/**
 * A copy of JSON-like `value` with every string (keys included) scrubbed by `redactSecrets`;
 * arrays and plain objects are copied, other values returned as they are. Never throws.
 */
export function redactDeep(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === "string") return redactSecrets(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redactSecrets(k, secrets), redactDeep(v, secrets)]));
  }
  return value;
}

/** The fields `redactError` keeps of an error: the ones that say what happened, none that hold a request. */
export interface RedactedErrorFields {
  /** Node's or a library's error code (`ECONNRESET`, `ERR_BAD_RESPONSE`). */
  code?: string;
  /** The system call that failed (`connect`), for Node's network errors. */
  syscall?: string;
}

/**
 * A stand-in for a third-party error, safe to keep as `cause`: same `name`, scrubbed `message` and
 * `stack`, the `code` and `syscall` when they are strings, and its own `cause` scrubbed the same
 * way. Everything else of the original (an axios error's `config`, `request` and `response`, whose
 * headers hold the API key) is left behind.
 */
export class RedactedError extends Error implements RedactedErrorFields {
  declare code?: string;
  declare syscall?: string;

  constructor(name: string, message: string, fields: RedactedErrorFields & { stack?: string; cause?: unknown }) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    // An own property, so that `String(err)` and `inspect(err)` show the original class.
    Object.defineProperty(this, "name", { value: name, enumerable: false, writable: true, configurable: true });
    if (fields.code !== undefined) this.code = fields.code;
    if (fields.syscall !== undefined) this.syscall = fields.syscall;
    Object.defineProperty(this, "stack", { value: fields.stack ?? `${name}: ${message}`, enumerable: false, writable: true, configurable: true });
  }
}

/**
 * `error` as a `RedactedError` (see there), its `cause` chain followed up to five levels. Anything
 * thrown that is not an `Error` becomes one holding its scrubbed text. Never throws.
 */
export function redactError(error: unknown, secrets: readonly string[], depth = 0): RedactedError {
  const scrub = (text: string): string => redactSecrets(text, secrets);
  if (!(error instanceof Error)) return new RedactedError("Error", scrub(String(error)), {});
  const source = error as Error & { code?: unknown; syscall?: unknown };
  const fields: RedactedErrorFields & { stack?: string; cause?: unknown } = {};
  if (typeof source.code === "string") fields.code = scrub(source.code);
  if (typeof source.syscall === "string") fields.syscall = source.syscall;
  if (typeof source.stack === "string") fields.stack = scrub(source.stack);
  if (source.cause !== undefined && depth + 1 < MAX_CAUSE_DEPTH) fields.cause = redactError(source.cause, secrets, depth + 1);
  return new RedactedError(scrub(source.name), scrub(source.message), fields);
}
