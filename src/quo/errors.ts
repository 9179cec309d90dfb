/**
 * The one error type of the Quo client, and the parsing of Quo's error bodies.
 *
 * Secrets: axios errors carry the request config, headers included, so an axios error is never kept
 * (not as `cause`, not as a property); only the fields below are copied out of it, and every text is
 * scrubbed of the client's keys in case a server or proxy echoes the `Authorization` header.
 */
import { redactSecrets } from "../net/redact.js";
import { STATUS_CODES } from "node:http";
import { isAxiosError } from "axios";

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
}

/** Longest piece of a response body quoted in a message: enough for a sentence, not a web page. */
const MAX_QUOTED_BODY_CHARS = 300;

/**
 * A failed call to the Quo API: an HTTP error status, a network failure or lost response, or a
 * response that is not what the API documents. Its message reads like
 * `PATCH /v1/contacts/CT1 → 400 Invalid Custom Field Item: Request contained invalid custom field item(s) (trace abc123)`
 * and, like every property, never contains an API key or the `Authorization` header.
 */
export class QuoApiError extends Error {
  override readonly name = "QuoApiError";
  /** HTTP status; null for network errors and lost responses. */
  readonly status: number | null;
  /** Quo's error code (`0801400`), or the `key` of the `{"error": {…}}` body shape. */
  declare readonly code?: string;
  declare readonly title?: string;
  /** Quo's own message, without the method/path/status prefix. */
  readonly quoMessage: string;
  /** Quo's trace id: quote it to Quo support (api-notes.md, "Error bodies": "Log trace"). */
  declare readonly trace?: string;
  declare readonly errors?: unknown[];
  declare readonly networkCode?: string;
  readonly method: string;
  readonly path: string;
  readonly attempts: number;
  /**
   * True for 429, 5xx and network errors: trying again later may succeed. For 5xx and network
   * errors on a write, the write may or may not have happened (api-notes.md, "Creates are not idempotent").
   */
  readonly transient: boolean;

  constructor(init: QuoApiErrorInit) {
    super(formatMessage(init));
    this.status = init.status;
    this.quoMessage = init.quoMessage;
    this.method = init.method;
    this.path = init.path;
    this.attempts = init.attempts ?? 1;
    this.transient = init.status === null || init.status === 429 || (init.status >= 500 && init.status <= 599);
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
 * `{"error": {message, key, trace}}` (api-notes.md, "Error bodies"). A JSON text is parsed first; an
 * HTML page or other text is reduced to a short plain-text excerpt; an empty body gives `message: ""`.
 * Never throws.
 */
export function parseQuoErrorBody(body: unknown): QuoErrorBody {
  if (body === null || body === undefined) return { message: "" };
  if (Buffer.isBuffer(body)) return parseQuoErrorBody(body.toString("utf8"));
  if (typeof body === "string") return parseTextBody(body);
  if (typeof body !== "object" || Array.isArray(body)) return { message: excerpt(JSON.stringify(body) ?? "") };

  const outer = body as Record<string, unknown>;
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
    parsed.message = excerpt(JSON.stringify(body) ?? "");
  }
  return parsed;
}

function parseTextBody(text: string): QuoErrorBody {
  const trimmed = text.trim();
  if (trimmed === "") return { message: "" };
  if (trimmed.startsWith("{")) {
    try {
      return parseQuoErrorBody(JSON.parse(trimmed) as unknown);
    } catch {
      // Not JSON after all: quoted as text below.
    }
  }
  if (/^<(!doctype|html|\?xml|head|body)/i.test(trimmed)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1];
    const plain = (title ?? trimmed.replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]*>/g, " "))
      .replace(/\s+/g, " ")
      .trim();
    return { message: excerpt(plain) };
  }
  return { message: excerpt(trimmed.replace(/\s+/g, " ")) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asText(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

function excerpt(text: string): string {
  return text.length > MAX_QUOTED_BODY_CHARS ? `${text.slice(0, MAX_QUOTED_BODY_CHARS)}…` : text;
}

function redactDeep(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === "string") return redactSecrets(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redactSecrets(k, secrets), redactDeep(v, secrets)]));
  }
  return value;
}

/** Where a failure happened, for `toQuoApiError`. */
export interface FailureContext {
  method: string;
  path: string;
  /** Keys to scrub from every text taken from the failure. */
  secrets: readonly string[];
  timeoutMs?: number;
}

/**
 * Turns anything a request threw into a `QuoApiError` that holds no reference to the request config
 * and no secret. A `QuoApiError` passes through unchanged.
 */
export function toQuoApiError(error: unknown, ctx: FailureContext): QuoApiError {
  if (error instanceof QuoApiError) return error;
  const scrub = (text: string | undefined): string | undefined =>
    text === undefined ? undefined : redactSecrets(text, ctx.secrets);
  const init: QuoApiErrorInit = { method: ctx.method, path: ctx.path, status: null, quoMessage: "" };

  if (isAxiosError(error)) {
    const retryState = error.config?.["axios-retry"];
    init.attempts = (retryState?.retryCount ?? 0) + 1;
    if (error.response) {
      const body = parseQuoErrorBody(error.response.data);
      init.status = error.response.status;
      init.quoMessage = scrub(body.message) ?? "";
      const code = scrub(body.code);
      const title = scrub(body.title);
      const trace = scrub(body.trace);
      if (code !== undefined) init.code = code;
      if (title !== undefined) init.title = title;
      if (trace !== undefined) init.trace = trace;
      if (body.errors !== undefined) init.errors = redactDeep(body.errors, ctx.secrets) as unknown[];
    } else {
      const timedOut = error.code === "ECONNABORTED" || error.code === "ETIMEDOUT";
      init.quoMessage =
        timedOut && ctx.timeoutMs !== undefined
          ? `no response within ${ctx.timeoutMs} ms`
          : (scrub(error.message) ?? "no response");
      const networkCode = scrub(networkCodeOf(error));
      if (networkCode !== undefined) init.networkCode = networkCode;
    }
    return new QuoApiError(init);
  }

  init.quoMessage = scrub(error instanceof Error ? error.message : String(error)) ?? "";
  if (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string") {
    init.networkCode = scrub((error as NodeJS.ErrnoException).code);
  }
  return new QuoApiError(init);
}

/** Node's own code (`ECONNRESET`) where axios wrapped it, else axios's code. */
function networkCodeOf(error: { code?: string; cause?: unknown }): string | undefined {
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  if (error.code === "ERR_NETWORK" || error.code === undefined) {
    if (cause && typeof cause.code === "string") return cause.code;
  }
  return error.code;
}

export { redactSecrets };
