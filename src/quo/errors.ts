/**
 * The one error type of the Quo client, and the parsing of Quo's error bodies.
 *
 * Secrets: axios errors carry the request config, headers included, so an axios error is never kept
 * (not as `cause`, not as a property); only the fields below are copied out of it, through
 * `describeHttpFailure`, and every text is scrubbed of the client's keys in case a server or proxy
 * echoes the `Authorization` header.
 */
import { STATUS_CODES } from "node:http";
import { QuoSyncError } from "../errors.js";
import { decodeBody, describeHttpFailure, excerpt, textExcerpt } from "../net/http-failure.js";
import { redactDeep, redactSecrets } from "../net/redact.js";
import { isTransientStatus } from "../net/retry.js";

/** What `parseQuoErrorBody` extracts from an error response body. */
export interface QuoErrorBody {
  message: string;
  code?: string;
  title?: string;
  trace?: string;
  errors?: unknown[];
}

/** Everything a `QuoApiError` is built from. */
export interface QuoApiErrorInit {
  method: string;
  /** The API path (`/v1/contacts/CT1`), without gateway prefix or query string. */
  path: string;
  /** HTTP status, or null when no response arrived (network error, timeout). */
  status: number | null;
  quoMessage: string;
  code?: string;
  title?: string;
  trace?: string;
  errors?: unknown[];
  /** Node's or axios's error code for a failure without response (`ECONNRESET`, `ECONNABORTED`). */
  networkCode?: string;
  /** Attempts made, retries included. */
  attempts?: number;
  /** What failed underneath, already scrubbed of secrets and of the request (`redactError`). */
  cause?: unknown;
  /** The workspace the client serves, when messages name it (see `QuoClientOptions.workspace`). */
  workspace?: string;
  /** The environment variable holding the client's key, for the hint on a 401; a name, never a value. */
  keyVariable?: string;
}

/**
 * A failed call to the Quo API: an HTTP error status, a network failure or lost response, or a
 * response that is not what the API documents. Its message reads like
 * `PATCH /v1/contacts/CT1 → 400 Invalid Custom Field Item: Request contained invalid custom field item(s) (trace abc123)`,
 * prefixed `workspace 'west': ` when the client names its workspace, and, like every property, never contains an API key or the `Authorization` header. Its `kind`
 * is "quo"; `transient` (from `QuoSyncError`) is true for 429, 5xx and network errors: trying again
 * later may succeed, and for 5xx and network errors on a write, the write may or may not have
 * happened (docs/quo-api.md, "Creating a contact").
 */
export class QuoApiError extends QuoSyncError {
  override readonly name = "QuoApiError";
  readonly kind = "quo";
  /** HTTP status; null for network errors and lost responses. */
  readonly status: number | null;
  /** Quo's error code (`0801400`), or the `key` of the `{"error": {…}}` body shape. */
  declare readonly code?: string;
  declare readonly title?: string;
  /** Quo's own message, without the method/path/status prefix. */
  readonly quoMessage: string;
  /** Quo's trace id: quote it to Quo support (docs/quo-api.md, "Connecting": "`trace` is kept for support"). */
  declare readonly trace?: string;
  declare readonly errors?: unknown[];
  declare readonly networkCode?: string;
  readonly method: string;
  readonly path: string;
  readonly attempts: number;
  /** The workspace whose client failed, when messages name it; the message then starts `workspace 'west': `. */
  declare readonly workspace?: string;
  /** The variable holding that client's key (`WEST_QUO_API_KEY`); never the key. */
  declare readonly keyVariable?: string;
  /** The message without the workspace: `GET /v1/contacts → 401 Unauthorized`. */
  readonly summary: string;

  /** Never throws. */
  constructor(init: QuoApiErrorInit) {
    const summary = formatMessage(init);
    super(init.workspace !== undefined ? `workspace '${init.workspace}': ${summary}` : summary, {
      transient: init.status === null || isTransientStatus(init.status),
      ...(init.cause !== undefined ? { cause: init.cause } : {}),
    });
    this.status = init.status;
    this.quoMessage = init.quoMessage;
    this.method = init.method;
    this.path = init.path;
    this.attempts = init.attempts ?? 1;
    this.summary = summary;
    if (init.workspace !== undefined) this.workspace = init.workspace;
    if (init.keyVariable !== undefined) this.keyVariable = init.keyVariable;
    if (init.code !== undefined) this.code = init.code;
    if (init.title !== undefined) this.title = init.title;
    if (init.trace !== undefined) this.trace = init.trace;
    if (init.errors !== undefined) this.errors = init.errors;
    if (init.networkCode !== undefined) this.networkCode = init.networkCode;
  }
}

function formatMessage(init: QuoApiErrorInit): string {
  const head = `${init.method} ${init.path} →`;
  const tail =
    (init.trace ? ` (trace ${init.trace})` : "") +
    (init.attempts !== undefined && init.attempts > 1 ? ` after ${init.attempts} attempts` : "");
  if (init.status === null) {
    const code = init.networkCode ? ` (${init.networkCode})` : "";
    return `${head} network error: ${init.quoMessage || "no response"}${code}${tail}`;
  }
  const text = init.quoMessage || STATUS_CODES[init.status] || "error";
  const title = init.title && init.title !== text ? ` ${init.title}:` : "";
  return `${head} ${init.status}${title} ${text}${tail}`;
}

/**
 * Reads an error response body of either shape Quo uses: the documented
 * `{message, code, status, docs, title, trace?, errors?}` and the live
 * `{"error": {message, key, trace}}` (docs/quo-api.md, "Connecting"). A JSON text is parsed first; an
 * HTML page or other text is reduced to a short plain-text excerpt; an empty body gives `message: ""`.
 * Never throws.
 */
export function parseQuoErrorBody(body: unknown): QuoErrorBody {
  if (body === null || body === undefined) return { message: "" };
  const decoded = decodeBody(body);
  if ("text" in decoded) return { message: textExcerpt(decoded.text) };
  const json = decoded.json;
  if (typeof json !== "object" || json === null || Array.isArray(json)) return { message: excerpt(JSON.stringify(json) ?? "") };

  const outer = json as Record<string, unknown>;
  const inner = isRecord(outer.error) ? outer.error : outer;
  const parsed: QuoErrorBody = { message: asText(inner.message) ?? asText(outer.message) ?? "" };
  const code = asText(inner.code) ?? asText(inner.key) ?? asText(outer.code);
  const title = asText(inner.title) ?? asText(outer.title);
  const trace = asText(inner.trace) ?? asText(outer.trace);
  const errors = Array.isArray(inner.errors) ? inner.errors : Array.isArray(outer.errors) ? outer.errors : undefined;
  if (code !== undefined) parsed.code = code;
  if (title !== undefined) parsed.title = title;
  if (trace !== undefined) parsed.trace = trace;
  if (errors !== undefined) parsed.errors = errors;
  if (parsed.message === "" && typeof outer.error === "string") parsed.message = excerpt(outer.error);
  if (parsed.message === "" && code === undefined && title === undefined) {
    parsed.message = excerpt(JSON.stringify(json) ?? "");
  }
  return parsed;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asText(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Where a failure happened, for `toQuoApiError`. */
export interface FailureContext {
  method: string;
  path: string;
  /** Keys to scrub from every text taken from the failure. */
  secrets: readonly string[];
  timeoutMs?: number;
  /** Copied to the error: see `QuoApiErrorInit.workspace`. */
  workspace?: string;
  /** Copied to the error: see `QuoApiErrorInit.keyVariable`. */
  keyVariable?: string;
}

/**
 * Turns anything a request threw into a `QuoApiError` that holds no reference to the request config
 * and no secret; its `cause` is a scrubbed copy of what was thrown. A `QuoApiError` passes through unchanged. Never throws.
 */
export function toQuoApiError(error: unknown, ctx: FailureContext): QuoApiError {
  if (error instanceof QuoApiError) return error;
  const scrub = (text: string | undefined): string | undefined =>
    text === undefined ? undefined : redactSecrets(text, ctx.secrets);
  const failure = describeHttpFailure(error, ctx.secrets);
  const init: QuoApiErrorInit = { method: ctx.method, path: ctx.path, status: failure.status, quoMessage: "", attempts: failure.attempts };
  if (ctx.workspace !== undefined) init.workspace = ctx.workspace;
  if (ctx.keyVariable !== undefined) init.keyVariable = ctx.keyVariable;
  if (failure.status !== null) {
    const body = parseQuoErrorBody(failure.data);
    init.quoMessage = scrub(body.message) ?? "";
    const code = scrub(body.code);
    const title = scrub(body.title);
    const trace = scrub(body.trace);
    if (code !== undefined) init.code = code;
    if (title !== undefined) init.title = title;
    if (trace !== undefined) init.trace = trace;
    if (body.errors !== undefined) init.errors = redactDeep(body.errors, ctx.secrets) as unknown[];
  } else {
    init.quoMessage = failure.timedOut && ctx.timeoutMs !== undefined ? `no response within ${ctx.timeoutMs} ms` : failure.message || "no response";
    if (failure.networkCode !== undefined) init.networkCode = failure.networkCode;
  }
  // Every fact worth acting on (status, Quo's code and trace, the network code, attempts) is copied
  // above; the cause, scrubbed of secrets and of the request, is kept for a person debugging.
  if (failure.cause !== undefined) init.cause = failure.cause;
  return new QuoApiError(init);
}
