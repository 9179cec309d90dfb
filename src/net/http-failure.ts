/**
 * What the HTTP clients (Quo, HubSpot) read out of a failed axios request, in one place: whether it
 * was a network failure and with which code, a timeout, how many attempts were made, and a short,
 * scrubbed excerpt of a response body to quote in a message.
 *
 * An axios error carries the request config, headers included (the API key, the bearer token), so
 * clients never keep one: they build their own error from `describeHttpFailure`, whose `cause` is a
 * scrubbed stand-in (`src/net/redact.ts`).
 */
import { isAxiosError, type AxiosError } from "axios";
import { redactError, redactSecrets, type RedactedError } from "./redact.js";

/** Longest piece of a response body quoted in a message: enough for a sentence, not a web page. */
export const MAX_QUOTED_BODY_CHARS = 300;

/**
 * axios error codes without a response that are not network failures: replaying cannot help
 * (a cancelled request, a bad option or URL, a body axios refuses to send). Everything else without
 * a response (ECONNRESET, "socket hang up", ECONNREFUSED, timeouts, a stream aborted mid-body) is a
 * network failure. Codes: https://axios-http.com/docs/handling_errors
 */
export const NOT_NETWORK_CODES: ReadonlySet<string> = new Set([
  "ERR_CANCELED",
  "ERR_BAD_REQUEST",
  "ERR_FORM_DATA_DEPTH_EXCEEDED",
  "ERR_BAD_OPTION",
  "ERR_BAD_OPTION_VALUE",
  "ERR_INVALID_URL",
  "ERR_NOT_SUPPORT",
  "ERR_DEPRECATED",
  "ERR_FR_TOO_MANY_REDIRECTS",
]);

/** True when the request got no response for a reason a replay may fix (see `NOT_NETWORK_CODES`). */
export function isNetworkFailure(error: AxiosError): boolean {
  return error.response === undefined && !NOT_NETWORK_CODES.has(error.code ?? "");
}

/** True when the attempt ran out of time: axios's own timer (`ECONNABORTED`) or the transport's (`ETIMEDOUT`). */
export function isTimeout(error: { code?: string }): boolean {
  return error.code === "ECONNABORTED" || error.code === "ETIMEDOUT";
}

/** Node's own code (`ECONNRESET`) where axios wrapped it under a generic one, else axios's code. */
export function networkCodeOf(error: { code?: string; cause?: unknown }): string | undefined {
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  if ((error.code === "ERR_NETWORK" || error.code === undefined) && cause && typeof cause.code === "string") return cause.code;
  return error.code;
}

/** Attempts made for the request `error` ends, retries included (axios-retry's count + 1). */
export function attemptsOf(error: AxiosError): number {
  return (error.config?.["axios-retry"]?.retryCount ?? 0) + 1;
}

/** `text` cut to `MAX_QUOTED_BODY_CHARS`, with an ellipsis when cut. */
export function excerpt(text: string, max = MAX_QUOTED_BODY_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * A response body as the clients' parsers want it: a `Buffer` decoded as UTF-8, a string holding a
 * JSON object parsed (`json`), any other string kept as `text`, anything else as `json`. Never throws.
 */
export function decodeBody(data: unknown): { json: unknown } | { text: string } {
  const raw = Buffer.isBuffer(data) ? data.toString("utf8") : data;
  if (typeof raw !== "string") return { json: raw };
  const trimmed = raw.trim();
  if (trimmed.startsWith("{")) {
    try {
      return { json: JSON.parse(trimmed) as unknown };
    } catch {
      // Not JSON after all: kept as text.
    }
  }
  return { text: raw };
}

/**
 * A body that is not JSON as a short plain-text excerpt for a message: an HTML page (a proxy's error
 * page) by its `<title>`, else by its text without tags; whitespace collapsed. Never throws.
 */
export function textExcerpt(text: string): string {
  const trimmed = text.trim();
  if (/^<(!doctype|html|\?xml|head|body)/i.test(trimmed)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1];
    const plain = title ?? trimmed.replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]*>/g, " ");
    return excerpt(plain.replace(/\s+/g, " ").trim());
  }
  return excerpt(trimmed.replace(/\s+/g, " "));
}

/** The facts of one failed request, every text scrubbed; see `describeHttpFailure`. */
export interface HttpFailure {
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  /** The response body as axios left it (parse it with `decodeBody`); undefined without a response. */
  data: unknown;
  /** Without a response: Node's or axios's code (`ECONNREFUSED`, `ETIMEDOUT`), scrubbed. */
  networkCode?: string;
  /** Without a response: true when the attempt ran out of time. */
  timedOut: boolean;
  /** Attempts made, retries included. */
  attempts: number;
  /** The library's message, scrubbed (`connect ECONNREFUSED 127.0.0.1:1`). */
  message: string;
  /** A scrubbed stand-in for the thrown error, fit to be an error's `cause`. */
  cause: RedactedError;
}

/**
 * Reads what a request threw — an axios error, or anything an interceptor threw — into an
 * `HttpFailure` that holds no reference to the request and no occurrence of `secrets` (except in
 * `data`, which the caller must scrub what it quotes of). Never throws.
 */
export function describeHttpFailure(error: unknown, secrets: readonly string[]): HttpFailure {
  const cause = redactError(error, secrets);
  if (!isAxiosError(error)) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    return {
      status: null,
      data: undefined,
      ...(typeof code === "string" ? { networkCode: redactSecrets(code, secrets) } : {}),
      timedOut: false,
      attempts: 1,
      message: cause.message,
      cause,
    };
  }
  const networkCode = error.response ? undefined : networkCodeOf(error);
  return {
    status: error.response?.status ?? null,
    data: error.response?.data,
    ...(networkCode !== undefined ? { networkCode: redactSecrets(networkCode, secrets) } : {}),
    timedOut: !error.response && isTimeout(error),
    attempts: attemptsOf(error),
    message: redactSecrets(error.message, secrets),
    cause,
  };
}
