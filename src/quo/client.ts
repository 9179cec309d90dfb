/**
 * The Quo API client: contacts and contact custom fields (api-notes.md, "Quo (OpenPhone) public API v1").
 * All network I/O to Quo goes through `QuoClient`; every request passes the shared `Throttle`, and
 * every failure surfaces as a `QuoApiError`.
 */
import http from "node:http";
import https from "node:https";
import axios, { type AxiosError, type AxiosInstance, type AxiosResponse, type InternalAxiosRequestConfig } from "axios";
import axiosRetry from "axios-retry";
import { ConfigError } from "../errors.js";
import {
  authHeaders,
  checkBaseUrl,
  MATON_DEFAULT_BASE_URL,
  QUO_DEFAULT_BASE_URL,
  quoConnectionFromEnv,
  type QuoAuthMode,
} from "./auth.js";
import { QuoApiError, toQuoApiError } from "./errors.js";
import {
  QUO_DEFAULT_MAX_RETRIES,
  QUO_DEFAULT_TIMEOUT_MS,
  QUO_EXTERNAL_ID_MAX_LENGTH,
  QUO_EXTERNAL_IDS_PER_QUERY,
  QUO_FIND_CONCURRENCY,
  QUO_MAX_PAGE_SIZE,
  QUO_RATE_LIMIT_PENALTY_MS,
  QUO_REQUESTS_PER_SECOND,
  QUO_RETRY_AFTER_MAX_MS,
  QUO_RETRY_BASE_DELAY_MS,
  QUO_RETRY_MAX_DELAY_MS,
} from "./limits.js";
import { Throttle, type ThrottleSlot } from "../net/throttle.js";
import type { QuoContact, QuoContactPage, QuoContactWrite, QuoCustomFieldDef } from "./types.js";

/** The logger the client reports to; pino's logger fits. Nothing logged contains a key or header. */
export interface QuoLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** How to construct a `QuoClient`; `quoClientOptionsFromEnv` builds one from the environment. */
export interface QuoClientOptions {
  /** Origin of the API, and for Maton the `/quo` prefix; defaults per auth mode (product.md, "Environment"). */
  baseUrl?: string;
  /** A Quo API key, sent raw as `Authorization: KEY` (api-notes.md, "Auth"). Wins over `matonApiKey`. */
  apiKey?: string;
  /** A Maton key: `Authorization: Bearer KEY`, paths under `/quo` (quo-maton-skill.txt). */
  matonApiKey?: string;
  /** Default `QUO_REQUESTS_PER_SECOND` (10, api-notes.md "Rate limit"); ignored when `throttle` is given. */
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

/** Which failures a request may be replayed after. */
type RetryPolicy = "transient" | "rate-limit-only";

type QueryValue = string | number | readonly string[] | undefined;

const NO_LOG: QuoLogger = { debug: () => {}, warn: () => {} };

/**
 * axios error codes without a response that are not network failures: replaying cannot help.
 * Everything else without a response (ECONNRESET, "socket hang up", ECONNREFUSED, timeouts,
 * a stream aborted mid-body) is treated as a network error.
 */
const NOT_NETWORK_CODES = new Set([
  "ERR_CANCELED",
  "ERR_BAD_OPTION",
  "ERR_BAD_OPTION_VALUE",
  "ERR_INVALID_URL",
  "ERR_NOT_SUPPORT",
  "ERR_DEPRECATED",
  "ERR_FR_TOO_MANY_REDIRECTS",
]);

/**
 * Builds `QuoClientOptions` from `QUO_API_KEY`, `MATON_API_KEY` and `QUO_BASE_URL` (product.md,
 * "Environment"). `QUO_API_KEY` wins when both are set. Defaults: `https://api.openphone.com`, with
 * Maton `https://gateway.maton.ai/quo`; with Maton, `/quo` is appended to `QUO_BASE_URL` unless it
 * already ends with it.
 * Throws `ConfigError` when neither key is set or `QUO_BASE_URL` is not an http(s) URL; no message
 * contains a key.
 */
export function quoClientOptionsFromEnv(env: NodeJS.ProcessEnv, requestsPerSecond?: number): QuoClientOptions {
  const connection = quoConnectionFromEnv(env);
  const opts: QuoClientOptions = { baseUrl: connection.baseUrl };
  if (connection.apiKey !== undefined) opts.apiKey = connection.apiKey;
  if (connection.matonApiKey !== undefined) opts.matonApiKey = connection.matonApiKey;
  if (requestsPerSecond !== undefined) opts.requestsPerSecond = requestsPerSecond;
  return opts;
}

/**
 * Serialises a query string: arrays as repeated keys (`externalIds=a&externalIds=b`), every value
 * percent-encoded, so `+` in an E.164 number becomes `%2B` (api-notes.md, "Phone numbers"). Keys
 * whose value is undefined or an empty array are left out.
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

/** Whether `id` can be a Quo `externalId` at all: 1–75 characters (api-notes.md, "POST /v1/contacts"). */
export function isValidExternalId(id: string): boolean {
  return id.length >= 1 && id.length <= QUO_EXTERNAL_ID_MAX_LENGTH;
}

/**
 * A client of Quo's contacts API. Requests from all concurrent callers share one `Throttle`
 * (10/s per key by default); 429 is retried for every method, 5xx and network errors only where a
 * replay cannot duplicate a write; other 4xx are never retried. Every method throws `QuoApiError`
 * on failure, except where it documents a 404 as a result.
 */
export class QuoClient {
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
  readonly #startedAt = new WeakMap<InternalAxiosRequestConfig, number>();
  readonly #slots = new WeakMap<object, ThrottleSlot>();
  readonly #plannedDelay = new WeakMap<object, number>();

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
        ? checkBaseUrl(opts.baseUrl, "the Quo base URL")
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

    this.#http = axios.create({
      baseURL: this.baseUrl,
      timeout: this.#timeoutMs,
      headers: { ...authHeaders({ mode: this.authMode, key }), Accept: "application/json" },
      // The API never redirects; following one could carry the key to another host.
      maxRedirects: 0,
    });
    this.#installInterceptors(maxRetries);
    this.#logger.debug({ authMode: this.authMode, baseUrl: this.baseUrl, requestsPerSecond }, "Quo client ready");
  }

  /**
   * One page of `GET /v1/contacts`. `maxResults` must be 1–50 (api-notes.md), else `RangeError`.
   * `totalItems` is dropped: it is unreliable. Throws `QuoApiError`.
   */
  async listContacts(q: {
    maxResults: number;
    pageToken?: string;
    externalIds?: string[];
    sources?: string[];
  }): Promise<QuoContactPage> {
    if (!Number.isInteger(q.maxResults) || q.maxResults < 1 || q.maxResults > QUO_MAX_PAGE_SIZE) {
      throw new RangeError(`maxResults must be a whole number from 1 to ${QUO_MAX_PAGE_SIZE}, got ${q.maxResults}`);
    }
    const path = "/v1/contacts";
    const res = await this.#request<unknown>("GET", path, {
      query: {
        maxResults: q.maxResults,
        pageToken: q.pageToken,
        externalIds: q.externalIds?.length ? q.externalIds : undefined,
        sources: q.sources?.length ? q.sources : undefined,
      },
    });
    const body = res.data;
    if (!isRecord(body) || !Array.isArray(body.data) || !body.data.every(isContact)) {
      throw unexpectedBody("GET", path, res.status, "expected {data: contact[]}");
    }
    const token = body.nextPageToken;
    return { data: body.data.map(withDefaults), nextPageToken: typeof token === "string" && token !== "" ? token : null };
  }

  /**
   * All contacts with these external ids: duplicates and ids that cannot be external ids (empty or
   * over 75 characters) are dropped, the rest asked for in chunks of ≤ 50 with `maxResults` 50,
   * each followed through `nextPageToken` to the end (never `totalItems`, api-notes.md). Only
   * contacts whose `externalId` was asked for are returned, each once. Throws `QuoApiError`.
   */
  async findByExternalIds(ids: readonly string[]): Promise<QuoContact[]> {
    const wanted = [...new Set(ids)].filter(isValidExternalId);
    const chunks: string[][] = [];
    for (let i = 0; i < wanted.length; i += QUO_EXTERNAL_IDS_PER_QUERY) {
      chunks.push(wanted.slice(i, i + QUO_EXTERNAL_IDS_PER_QUERY));
    }
    const results: QuoContact[][] = [];
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < chunks.length) {
        const index = next++;
        try {
          results[index] = await this.#allPages(chunks[index] as string[]);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(QUO_FIND_CONCURRENCY, chunks.length) }, worker));

    const asked = new Set(wanted);
    const seen = new Set<string>();
    const found: QuoContact[] = [];
    for (const contact of results.flat()) {
      if (seen.has(contact.id) || typeof contact.externalId !== "string" || !asked.has(contact.externalId)) continue;
      seen.add(contact.id);
      found.push(contact);
    }
    return found;
  }

  /** `GET /v1/contacts/{id}`; null when Quo answers 404. Throws `QuoApiError` otherwise. */
  async getContact(id: string): Promise<QuoContact | null> {
    const path = contactPath(id);
    try {
      const res = await this.#request<unknown>("GET", path, {});
      return contactOf(res, "GET", path);
    } catch (error) {
      if (error instanceof QuoApiError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * `POST /v1/contacts` → the created contact. A create is not idempotent (api-notes.md, "Creates
   * are not idempotent"), so 5xx and network errors are never replayed: the caller looks the contact
   * up by `externalId` before trying again. 429 is retried: Quo's gateway (Kong rate-limiting,
   * quo-openapi-v1.json) refuses before the backend sees the request. Throws `QuoApiError`.
   */
  async createContact(body: QuoContactWrite): Promise<QuoContact> {
    const path = "/v1/contacts";
    const res = await this.#request<unknown>("POST", path, { body, retry: "rate-limit-only" });
    return contactOf(res, "POST", path);
  }

  /**
   * `PATCH /v1/contacts/{id}` → the updated contact. `idempotent` (default true): pass false when
   * the body adds list items without ids, which a replay would add twice (api-notes.md, "PATCH");
   * then only 429 is retried. A 404 throws `QuoApiError` with status 404, as does every other failure.
   */
  async updateContact(id: string, body: QuoContactWrite, opts: { idempotent?: boolean } = {}): Promise<QuoContact> {
    const path = contactPath(id);
    const retry: RetryPolicy = opts.idempotent === false ? "rate-limit-only" : "transient";
    const res = await this.#request<unknown>("PATCH", path, { body, retry });
    return contactOf(res, "PATCH", path);
  }

  /**
   * `DELETE /v1/contacts/{id}`: "deleted" on 2xx, "not-found" on 404 (also Quo's answer for another
   * workspace's id, and for a retry whose first attempt did delete). Throws `QuoApiError` otherwise.
   */
  async deleteContact(id: string): Promise<"deleted" | "not-found"> {
    try {
      await this.#request<unknown>("DELETE", contactPath(id), {});
      return "deleted";
    } catch (error) {
      if (error instanceof QuoApiError && error.status === 404) return "not-found";
      throw error;
    }
  }

  /** `GET /v1/contact-custom-fields`: the workspace's custom field definitions. Throws `QuoApiError`. */
  async listCustomFields(): Promise<QuoCustomFieldDef[]> {
    const path = "/v1/contact-custom-fields";
    const res = await this.#request<unknown>("GET", path, {});
    const body = res.data;
    if (!isRecord(body) || !Array.isArray(body.data) || !body.data.every(isCustomFieldDef)) {
      throw unexpectedBody("GET", path, res.status, "expected {data: [{name, key, type}]}");
    }
    return body.data;
  }

  async #allPages(externalIds: string[]): Promise<QuoContact[]> {
    const contacts: QuoContact[] = [];
    const tokens = new Set<string>();
    let pageToken: string | undefined;
    for (;;) {
      const page = await this.listContacts({ maxResults: QUO_MAX_PAGE_SIZE, externalIds, ...(pageToken ? { pageToken } : {}) });
      contacts.push(...page.data);
      if (page.nextPageToken === null) return contacts;
      if (tokens.has(page.nextPageToken)) {
        throw unexpectedBody("GET", "/v1/contacts", 200, "the same nextPageToken came back twice; paging stopped");
      }
      tokens.add(page.nextPageToken);
      pageToken = page.nextPageToken;
    }
  }

  async #request<T>(
    method: "GET" | "POST" | "PATCH" | "DELETE",
    path: string,
    opts: { query?: Record<string, QueryValue>; body?: unknown; retry?: RetryPolicy },
  ): Promise<AxiosResponse<T>> {
    const query = opts.query ? serializeQuery(opts.query) : "";
    const retryCondition = opts.retry === "rate-limit-only" ? isRateLimited : isTransientFailure;
    try {
      return await this.#http.request<T>({
        method,
        url: query ? `${path}?${query}` : path,
        data: opts.body,
        "axios-retry": { retryCondition },
      });
    } catch (error) {
      throw toQuoApiError(error, { method, path, secrets: this.#secrets, timeoutMs: this.#timeoutMs });
    }
  }

  #installInterceptors(maxRetries: number): void {
    // axios-retry replays a request by calling the instance again, which runs the request
    // interceptors again: every attempt, retries included, waits for the throttle here.
    this.#http.interceptors.request.use(async (config) => {
      const slot = await this.#throttle.acquireSlot();
      this.stats.requests += 1;
      this.#startedAt.set(config, Date.now());
      this.#slots.set(config, slot);
      config.transport = this.#transportFor(slot);
      return config;
    });
    // Registered before axios-retry, so it sees each attempt's outcome once.
    this.#http.interceptors.response.use(
      (res) => {
        this.#slots.get(res.config)?.started();
        this.#logger.debug(this.#logFields(res.config, res.status), "Quo request");
        return res;
      },
      (error: unknown) => {
        if (axios.isAxiosError(error)) {
          if (error.config) this.#slots.get(error.config)?.started();
          this.#countFailure(error);
        }
        return Promise.reject(error);
      },
    );
    axiosRetry(this.#http, {
      retries: maxRetries,
      // Each attempt gets the full timeout; the wait in the throttle happens before the timer starts.
      shouldResetTimeout: true,
      retryCondition: isTransientFailure,
      retryDelay: (retryCount, error) => {
        const delay = this.#backoffMs(retryCount, error);
        this.#plannedDelay.set(error, delay);
        return delay;
      },
      onRetry: (retryCount, error, config) => {
        this.stats.retries += 1;
        this.#logger.warn(
          {
            ...this.#logFields(config, error.response?.status ?? null),
            attempt: retryCount + 1,
            delayMs: Math.round(this.#plannedDelay.get(error) ?? 0),
            ...(error.response ? {} : { networkCode: error.code }),
            ...traceOf(error),
          },
          "retrying Quo request",
        );
      },
    });
  }

  /**
   * The node:http(s) transport of one attempt. It tells the throttle when the request has actually
   * been written ("finish"), so a request that waited for a new connection counts from when it left,
   * not from when it was granted. Because axios only arms its wall-clock connect timer for its own
   * transport, this one keeps the same per-attempt limit itself (until the response begins; a stalled
   * body is caught by axios's socket timeout).
   */
  #transportFor(slot: ThrottleSlot): { request(options: http.RequestOptions, callback: (res: http.IncomingMessage) => void): http.ClientRequest } {
    const timeoutMs = this.#timeoutMs;
    return {
      request(options, callback) {
        const req = (options.protocol === "https:" ? https : http).request(options, callback);
        const timer = setTimeout(() => {
          const error: NodeJS.ErrnoException = new Error(`timeout of ${timeoutMs}ms exceeded`);
          error.code = "ETIMEDOUT";
          req.destroy(error);
        }, timeoutMs);
        req.once("finish", () => slot.started());
        req.once("response", () => clearTimeout(timer));
        req.once("close", () => {
          clearTimeout(timer);
          slot.started();
        });
        return req;
      },
    };
  }

  #countFailure(error: AxiosError): void {
    const status = error.response?.status;
    if (status === 429) {
      this.stats.rateLimited += 1;
      this.#onRateLimited(retryAfterMs(error));
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
   * (api-notes.md, "Rate limit … shared by every process using that key").
   */
  #onRateLimited(retryAfter: number): void {
    if (this.#penaltyMs === 0 && retryAfter === 0) return;
    this.#throttle.penalize(Math.max(this.#penaltyMs, retryAfter));
    this.#throttle.slowDown();
  }

  /** Full jitter: uniform in [0, min(cap, base × 2^(retry−1))], but never shorter than a `Retry-After`. */
  #backoffMs(retryCount: number, error: AxiosError): number {
    const ceiling = Math.min(QUO_RETRY_MAX_DELAY_MS, this.#retryBaseDelayMs * 2 ** Math.max(0, retryCount - 1));
    return Math.max(Math.random() * ceiling, retryAfterMs(error));
  }

  #logFields(config: InternalAxiosRequestConfig | { method?: string; url?: string }, status: number | null): object {
    const started = this.#startedAt.get(config as InternalAxiosRequestConfig);
    return {
      method: config.method?.toUpperCase(),
      url: config.url,
      status,
      ...(started !== undefined ? { ms: Date.now() - started } : {}),
    };
  }
}

function isTransientFailure(error: AxiosError): boolean {
  const status = error.response?.status;
  if (status === undefined) return !NOT_NETWORK_CODES.has(error.code ?? "");
  return status === 429 || (status >= 500 && status <= 599);
}

function isRateLimited(error: AxiosError): boolean {
  return error.response?.status === 429;
}

/**
 * A `Retry-After` in milliseconds (seconds or an HTTP date), capped, or 0. Quo sends none
 * (api-notes.md, "Rate limit"); a proxy in between might.
 */
function retryAfterMs(error: AxiosError): number {
  const header: unknown = error.response?.headers?.["retry-after"];
  if (typeof header !== "string" || header.trim() === "") return 0;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), QUO_RETRY_AFTER_MAX_MS) : 0;
}

function traceOf(error: AxiosError): { trace?: string } {
  const data: unknown = error.response?.data;
  if (!isRecord(data)) return {};
  const inner = isRecord(data.error) ? data.error : data;
  return typeof inner.trace === "string" ? { trace: inner.trace } : {};
}

function contactPath(id: string): string {
  return `/v1/contacts/${encodeURIComponent(id)}`;
}

function contactOf(res: AxiosResponse<unknown>, method: string, path: string): QuoContact {
  const body = res.data;
  if (!isRecord(body) || !isContact(body.data)) {
    throw unexpectedBody(method, path, res.status, "expected {data: contact}");
  }
  return withDefaults(body.data);
}

/** Fills lists Quo may leave out, so callers can iterate them without checks. */
function withDefaults(contact: QuoContact): QuoContact {
  const d = contact.defaultFields;
  return {
    ...contact,
    defaultFields: {
      ...d,
      firstName: d.firstName ?? null,
      lastName: d.lastName ?? null,
      company: d.company ?? null,
      role: d.role ?? null,
      emails: Array.isArray(d.emails) ? d.emails : [],
      phoneNumbers: Array.isArray(d.phoneNumbers) ? d.phoneNumbers : [],
    },
    customFields: Array.isArray(contact.customFields) ? contact.customFields : [],
  };
}

function unexpectedBody(method: string, path: string, status: number, what: string): QuoApiError {
  return new QuoApiError({ method, path, status, quoMessage: `unexpected response: ${what}` });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isContact(value: unknown): value is QuoContact {
  return isRecord(value) && typeof value.id === "string" && isRecord(value.defaultFields);
}

function isCustomFieldDef(value: unknown): value is QuoCustomFieldDef {
  return isRecord(value) && typeof value.key === "string" && typeof value.name === "string" && typeof value.type === "string";
}

function nonBlank(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}
