/**
 * How requests reach Quo: the shared HTTP layer (`src/net/`) set up for Quo — its base URL and auth
 * headers, the 10/s throttle, retries with backoff, counters and logs — and every failure turned
 * into a `QuoApiError`. What the requests mean (paths, bodies, response shapes) is `./client.ts`.
 */
import type { AxiosError, AxiosInstance, InternalAxiosRequestConfig } from "axios";
import { ConfigError } from "../errors.js";
import { checkBaseUrl } from "../net/base-url.js";
import { redactSecrets } from "../net/redact.js";
import { createHttpClient, requestRetry } from "../net/http-client.js";
import { backoffCeilingMs, fullJitterMs, retryAfterMs, type RetryPolicy } from "../net/retry.js";
import { Throttle } from "../net/throttle.js";
import { authHeaders, MATON_DEFAULT_BASE_URL, QUO_DEFAULT_BASE_URL, type QuoAuthMode } from "./auth.js";
import { parseQuoErrorBody, toQuoApiError } from "./errors.js";
import {
  QUO_DEFAULT_MAX_RETRIES,
  QUO_DEFAULT_TIMEOUT_MS,
  QUO_RATE_LIMIT_PENALTY_MS,
  QUO_REQUESTS_PER_SECOND,
  QUO_RETRY_AFTER_MAX_MS,
  QUO_RETRY_BASE_DELAY_MS,
  QUO_RETRY_MAX_DELAY_MS,
} from "./limits.js";

/** The logger the client reports to; pino's logger fits. Nothing logged contains a key or header. */
export interface QuoLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** How to construct a `QuoClient`; `quoClientOptionsFromEnv` builds one from the environment. */
export interface QuoClientOptions {
  /** Origin of the API, and for Maton the `/quo` prefix; defaults per auth mode (README.md, "Environment"). */
  baseUrl?: string;
  /** A Quo API key, sent raw as `Authorization: KEY` (docs/quo-api.md, "Connecting"). Wins over `matonApiKey`. */
  apiKey?: string;
  /** A Maton key: `Authorization: Bearer KEY`, paths under `/quo` (docs/quo-api.md, "Connecting"). */
  matonApiKey?: string;
  /** Default `QUO_REQUESTS_PER_SECOND` (10, docs/quo-api.md "Connecting"); ignored when `throttle` is given. */
  requestsPerSecond?: number;
  /** Retries per request; default `QUO_DEFAULT_MAX_RETRIES`. */
  maxRetries?: number;
  /** Per-attempt timeout; default `QUO_DEFAULT_TIMEOUT_MS`. */
  timeoutMs?: number;
  logger?: QuoLogger;
  /** First backoff ceiling; default `QUO_RETRY_BASE_DELAY_MS`. */
  retryBaseDelayMs?: number;
  /** Throttle pause after a 429; default `QUO_RATE_LIMIT_PENALTY_MS`; 0 turns the pause and the slow-down off. */
  rateLimitPenaltyMs?: number;
  /** A throttle shared with other clients that use the same key in this process. */
  throttle?: Throttle;
  /**
   * The workspace this client serves, named in every `QuoApiError` it throws (`workspace 'west': …`)
   * and in its logs; leave it out to keep messages as they read with a single workspace.
   */
  workspace?: string;
  /** The environment variable the key came from, for the hint on a 401; a name, never a value. */
  keyVariable?: string;
}

/** Counters for reports, metrics and benchmarks. */
export interface QuoClientStats {
  /** HTTP requests started, retries included. */
  requests: number;
  retries: number;
  /** 429 responses seen. */
  rateLimited: number;
  /** 5xx responses seen. */
  serverErrors: number;
  /** Attempts that got no response (reset, refused, timed out). */
  networkErrors: number;
}

/** A value of a query parameter; arrays become repeated keys. */
export type QueryValue = string | number | readonly string[] | undefined;

/** One request as the API layer describes it. */
export interface QuoRequest {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** The API path (`/v1/contacts/CT1`), already percent-encoded where needed. */
  path: string;
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  /** Which failures may be replayed; default "transient" (429, 5xx, network errors). */
  retry?: RetryPolicy;
  /**
   * Aborts the request (and its retries) when it fires: a write aborted in flight may or may not
   * have landed, as after a lost answer.
   */
  signal?: AbortSignal;
}

/** What a successful request returns: the status and the parsed body, unchecked. */
export interface QuoResponse {
  status: number;
  data: unknown;
}

const NO_LOG: QuoLogger = { debug: () => {}, warn: () => {} };

/**
 * Serialises a query string: arrays as repeated keys (`externalIds=a&externalIds=b`), every value
 * percent-encoded, so `+` in an E.164 number becomes `%2B` (docs/quo-api.md, "Reading contacts").
 * Keys whose value is undefined or an empty array are left out. Never throws.
 */
export function serializeQuery(params: Record<string, QueryValue>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const values = typeof value === "string" || typeof value === "number" ? [String(value)] : value;
    for (const v of values) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(v)}`);
  }
  return parts.join("&");
}

/**
 * Sends requests to Quo. Every attempt of every caller passes one `Throttle` (10/s per key by
 * default); what is replayed follows each request's `RetryPolicy`, with full-jitter backoff that
 * never undercuts a `Retry-After`; a 429 also pauses and slows the throttle, since another process
 * probably shares the key (docs/quo-api.md, "Connecting").
 */
export class QuoTransport {
  /** Counters for reports, metrics and benchmarks. */
  readonly stats: QuoClientStats = { requests: 0, retries: 0, rateLimited: 0, serverErrors: 0, networkErrors: 0 };
  /** Which credentials are used; never the key itself. */
  readonly authMode: QuoAuthMode;
  /** The API root requests go to (`https://api.openphone.com`, or the gateway's `…/quo`). */
  readonly baseUrl: string;

  readonly #http: AxiosInstance;
  readonly #throttle: Throttle;
  readonly #logger: QuoLogger;
  readonly #secrets: readonly string[];
  readonly #timeoutMs: number;
  readonly #retryBaseDelayMs: number;
  readonly #penaltyMs: number;
  readonly #names: { workspace?: string; keyVariable?: string };
  readonly #startedAt = new WeakMap<InternalAxiosRequestConfig, number>();

  /** Throws `ConfigError` when no key is given or a number or URL option is out of range. */
  constructor(opts: QuoClientOptions) {
    const apiKey = nonBlank(opts.apiKey);
    const matonApiKey = nonBlank(opts.matonApiKey);
    if (apiKey === undefined && matonApiKey === undefined) {
      throw new ConfigError("the Quo client needs an API key: set QUO_API_KEY or MATON_API_KEY");
    }
    this.authMode = apiKey !== undefined ? "quo-api-key" : "maton";
    const key = (apiKey ?? matonApiKey) as string;
    this.#secrets = [apiKey, matonApiKey].filter((s): s is string => s !== undefined);
    this.baseUrl =
      opts.baseUrl !== undefined
        ? checkBaseUrl(opts.baseUrl, { variable: "the Quo base URL", example: QUO_DEFAULT_BASE_URL })
        : this.authMode === "maton"
          ? MATON_DEFAULT_BASE_URL
          : QUO_DEFAULT_BASE_URL;

    const maxRetries = opts.maxRetries ?? QUO_DEFAULT_MAX_RETRIES;
    this.#timeoutMs = opts.timeoutMs ?? QUO_DEFAULT_TIMEOUT_MS;
    this.#retryBaseDelayMs = opts.retryBaseDelayMs ?? QUO_RETRY_BASE_DELAY_MS;
    this.#penaltyMs = opts.rateLimitPenaltyMs ?? QUO_RATE_LIMIT_PENALTY_MS;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new ConfigError("maxRetries must be a whole number ≥ 0");
    if (!(this.#timeoutMs > 0)) throw new ConfigError("timeoutMs must be > 0");
    if (!(this.#retryBaseDelayMs >= 0)) throw new ConfigError("retryBaseDelayMs must be ≥ 0");
    if (!(this.#penaltyMs >= 0)) throw new ConfigError("rateLimitPenaltyMs must be ≥ 0");
    const requestsPerSecond = opts.requestsPerSecond ?? QUO_REQUESTS_PER_SECOND;
    if (!(requestsPerSecond > 0) || !Number.isFinite(requestsPerSecond)) {
      throw new ConfigError("requestsPerSecond must be a positive number");
    }
    this.#throttle = opts.throttle ?? new Throttle(requestsPerSecond);
    this.#logger = opts.logger ?? NO_LOG;
    this.#names = {
      ...(opts.workspace !== undefined ? { workspace: opts.workspace } : {}),
      ...(opts.keyVariable !== undefined ? { keyVariable: opts.keyVariable } : {}),
    };

    this.#http = createHttpClient({
      baseUrl: this.baseUrl,
      headers: authHeaders({ mode: this.authMode, key }),
      timeoutMs: this.#timeoutMs,
      throttle: this.#throttle,
      maxRetries,
      retry: "transient",
      retryDelayMs: (retryCount, error) => this.#backoffMs(retryCount, error),
      hooks: {
        onAttempt: (config) => {
          this.stats.requests += 1;
          this.#startedAt.set(config, Date.now());
        },
        onResponse: (res) => this.#logger.debug(this.#logFields(res.config, res.status), "Quo request"),
        onFailure: (error) => this.#countFailure(error),
        onRetry: (retryCount, error, config, delayMs) => {
          this.stats.retries += 1;
          this.#logger.warn(
            {
              ...this.#logFields(config, error.response?.status ?? null),
              attempt: retryCount + 1,
              delayMs: Math.round(delayMs),
              ...(error.response ? {} : { networkCode: error.code }),
              ...this.#traceOf(error),
            },
            "retrying Quo request",
          );
        },
      },
    });
    this.#logger.debug({ authMode: this.authMode, baseUrl: this.baseUrl, requestsPerSecond }, "Quo client ready");
  }

  /**
   * Sends one request (retries included) and returns its 2xx answer. Throws `QuoApiError` for
   * anything else: an error status, no response, or a failure before sending; the error holds
   * nothing of the request and no key.
   */
  async request(req: QuoRequest): Promise<QuoResponse> {
    const query = req.query ? serializeQuery(req.query) : "";
    try {
      const res = await this.#http.request<unknown>({
        method: req.method,
        url: query ? `${req.path}?${query}` : req.path,
        data: req.body,
        ...(req.signal ? { signal: req.signal } : {}),
        ...requestRetry(req.retry ?? "transient"),
      });
      return { status: res.status, data: res.data };
    } catch (error) {
      throw toQuoApiError(error, { method: req.method, path: req.path, secrets: this.#secrets, timeoutMs: this.#timeoutMs, ...this.#names });
    }
  }

  /** What every `QuoApiError` of this transport carries besides the failure: the workspace's names. */
  get names(): { workspace?: string; keyVariable?: string } {
    return { ...this.#names };
  }

  #countFailure(error: AxiosError): void {
    const status = error.response?.status;
    if (status === 429) {
      this.stats.rateLimited += 1;
      this.#onRateLimited(retryAfterMs(error, QUO_RETRY_AFTER_MAX_MS));
    } else if (status !== undefined && status >= 500) {
      this.stats.serverErrors += 1;
    } else if (status === undefined && error.config) {
      this.stats.networkErrors += 1;
    }
    if (error.config) {
      this.#logger.debug(
        { ...this.#logFields(error.config, status ?? null), ...(status === undefined ? { networkCode: error.code } : {}) },
        "Quo request failed",
      );
    }
  }

  /**
   * Slows every caller of the throttle after a 429: another process probably shares the key
   * (docs/quo-api.md, "Connecting": the limit is "shared by every process using it").
   */
  #onRateLimited(retryAfter: number): void {
    if (this.#penaltyMs === 0 && retryAfter === 0) return;
    this.#throttle.penalize(Math.max(this.#penaltyMs, retryAfter));
    this.#throttle.slowDown();
  }

  /** Full jitter below the doubling ceiling, but never shorter than a `Retry-After`. */
  #backoffMs(retryCount: number, error: AxiosError): number {
    const ceiling = backoffCeilingMs(retryCount, this.#retryBaseDelayMs, QUO_RETRY_MAX_DELAY_MS);
    return Math.max(fullJitterMs(ceiling), retryAfterMs(error, QUO_RETRY_AFTER_MAX_MS));
  }

  /** Quo's trace id from an error body of either shape, scrubbed, for the retry log. */
  #traceOf(error: AxiosError): { trace?: string } {
    if (!error.response) return {};
    const trace = parseQuoErrorBody(error.response.data).trace;
    return trace === undefined ? {} : { trace: redactSecrets(trace, this.#secrets) };
  }

  #logFields(config: { method?: string; url?: string }, status: number | null): object {
    const started = this.#startedAt.get(config as InternalAxiosRequestConfig);
    return {
      method: config.method?.toUpperCase(),
      url: config.url,
      status,
      ...(started !== undefined ? { ms: Date.now() - started } : {}),
    };
  }
}

function nonBlank(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}
