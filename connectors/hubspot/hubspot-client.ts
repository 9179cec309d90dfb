/**
 * A small client of HubSpot's CRM v3 API: the contact listing and the contact property definitions
 * (api-notes.md, "HubSpot CRM v3"). Plain axios with axios-retry and the project's `Throttle`, as
 * the Quo client is built: the official SDK's Node-20 version keeps its retry and limiter settings
 * process-wide and weighs 54 MB (api-notes.md). Every failure surfaces as a `SourceError` that
 * holds no reference to the request (whose headers carry the token) and no secret.
 */
import { createHash } from "node:crypto";
import { STATUS_CODES } from "node:http";
import axios, { type AxiosError, type AxiosInstance } from "axios";
import axiosRetry from "axios-retry";
import { SourceError } from "../../src/errors.js";
import { redactSecrets } from "../../src/net/redact.js";
import { Throttle } from "../../src/net/throttle.js";
import {
  HUBSPOT_DEFAULT_MAX_RETRIES,
  HUBSPOT_DEFAULT_TIMEOUT_MS,
  HUBSPOT_MAX_PAGE_SIZE,
  HUBSPOT_RATE_LIMIT_BASE_DELAY_MS,
  HUBSPOT_RETRY_AFTER_MAX_MS,
  HUBSPOT_RETRY_BASE_DELAY_MS,
  HUBSPOT_RETRY_MAX_DELAY_MS,
  HUBSPOT_THROTTLE_MARGIN_MS,
  HUBSPOT_WINDOW_MS,
} from "./limits.js";

/** One contact as `GET /crm/v3/objects/contacts` returns it (api-notes.md, "List"). */
export interface HubspotContact {
  id: string;
  properties: Record<string, unknown>;
  archived?: boolean;
}

/** One page of the listing; `after` is absent on the last page. */
export interface HubspotContactPage {
  results: HubspotContact[];
  after?: string;
}

/** A property definition from `GET /crm/v3/properties/contacts`. */
export interface HubspotProperty {
  name: string;
  label: string;
}

/** How to build a `HubspotClient`; only `baseUrl`, `token` and `requestsPerWindow` are required. */
export interface HubspotClientOptions {
  /** Origin of the API, already checked, without a trailing slash. */
  baseUrl: string;
  /** The private app's access token, sent as `Authorization: Bearer …` (api-notes.md, "Auth"). */
  token: string;
  /** Requests allowed per `windowMs` (config `requestsPer10Seconds`). */
  requestsPerWindow: number;
  /** Length of HubSpot's rolling window; default `HUBSPOT_WINDOW_MS`. Tests shorten it. */
  windowMs?: number;
  /** Retries per request; default `HUBSPOT_DEFAULT_MAX_RETRIES`. */
  maxRetries?: number;
  /** First backoff ceiling after a 5xx or network error; default `HUBSPOT_RETRY_BASE_DELAY_MS`. */
  retryBaseDelayMs?: number;
  /** First wait after a rate-limit 429; default `HUBSPOT_RATE_LIMIT_BASE_DELAY_MS`. */
  rateLimitBaseDelayMs?: number;
  /** Per-attempt timeout; default `HUBSPOT_DEFAULT_TIMEOUT_MS`. */
  timeoutMs?: number;
}

/** The `policyName` of a HubSpot 429 body (api-notes.md, "Limits"). */
type RatePolicy = "SECONDLY" | "TEN_SECONDLY_ROLLING" | "DAILY" | string;

/** Which request failed, for messages. */
interface RequestContext {
  what: string;
  /** The OAuth scope HubSpot needs for this request, named when it answers 403. */
  scope: string;
}

/**
 * axios error codes without a response that are not network failures: replaying cannot help
 * (the same set the Quo client uses).
 */
const NOT_NETWORK_CODES = new Set(["ERR_CANCELED", "ERR_BAD_OPTION", "ERR_BAD_OPTION_VALUE", "ERR_INVALID_URL", "ERR_NOT_SUPPORT", "ERR_DEPRECATED", "ERR_FR_TOO_MANY_REDIRECTS"]);

/** Longest piece of a response body quoted in a message. */
const MAX_QUOTED_CHARS = 300;

const CONTACTS_PATH = "/crm/v3/objects/contacts";
const PROPERTIES_PATH = "/crm/v3/properties/contacts";
/** Scope of the contact listing; api-notes.md and HubSpot's private-app scopes. */
const CONTACTS_SCOPE = "crm.objects.contacts.read";
/** HubSpot lists this scope for reading contact property definitions. */
const SCHEMAS_SCOPE = "crm.schemas.contacts.read";

/**
 * One throttle per (API origin, token, budget) in this process: HubSpot counts per app
 * (api-notes.md, "100 requests / 10 s per app"), so syncs of one daemon that share a token must
 * share the budget too. The token is kept only as a digest.
 */
const throttles = new Map<string, Throttle>();

function sharedThrottle(baseUrl: string, token: string, perWindow: number, windowMs: number): Throttle {
  const id = `${baseUrl}\0${createHash("sha256").update(token).digest("hex")}\0${perWindow}\0${windowMs}`;
  let throttle = throttles.get(id);
  if (!throttle) {
    // After a 429 the budget grows back by one request per tenth of a window, so a rate lowered from
    // 100 to 70 is whole again within about three windows.
    throttle = new Throttle(perWindow, { windowMs, marginMs: HUBSPOT_THROTTLE_MARGIN_MS, recoveryMs: windowMs / 10 });
    throttles.set(id, throttle);
  }
  return throttle;
}

/**
 * Reads HubSpot contacts and property definitions. Every request waits for the shared throttle;
 * 5xx, network errors and `SECONDLY` / `TEN_SECONDLY_ROLLING` 429s are retried with backoff (or
 * `Retry-After`); a `DAILY` 429 and every other 4xx are not. Methods throw `SourceError`.
 */
export class HubspotClient {
  readonly #http: AxiosInstance;
  readonly #throttle: Throttle;
  readonly #token: string;
  readonly #retryBaseDelayMs: number;
  readonly #rateLimitBaseDelayMs: number;
  readonly #timeoutMs: number;

  constructor(opts: HubspotClientOptions) {
    this.#token = opts.token;
    this.#retryBaseDelayMs = opts.retryBaseDelayMs ?? HUBSPOT_RETRY_BASE_DELAY_MS;
    this.#rateLimitBaseDelayMs = opts.rateLimitBaseDelayMs ?? HUBSPOT_RATE_LIMIT_BASE_DELAY_MS;
    this.#timeoutMs = opts.timeoutMs ?? HUBSPOT_DEFAULT_TIMEOUT_MS;
    this.#throttle = sharedThrottle(opts.baseUrl, opts.token, opts.requestsPerWindow, opts.windowMs ?? HUBSPOT_WINDOW_MS);
    this.#http = axios.create({
      baseURL: opts.baseUrl,
      timeout: this.#timeoutMs,
      headers: { Authorization: `Bearer ${opts.token}`, Accept: "application/json" },
      // The API never redirects a read; following one could carry the token to another host.
      maxRedirects: 0,
    });
    // axios-retry replays through the instance, so every attempt waits for the throttle here.
    this.#http.interceptors.request.use(async (config) => {
      await this.#throttle.acquire();
      return config;
    });
    axiosRetry(this.#http, {
      retries: opts.maxRetries ?? HUBSPOT_DEFAULT_MAX_RETRIES,
      shouldResetTimeout: true,
      retryCondition: isRetryable,
      retryDelay: (retryCount, error) => this.#delayMs(retryCount, error),
    });
  }

  /** `GET /crm/v3/properties/contacts`: every contact property of the account. Throws `SourceError`. */
  async listProperties(): Promise<HubspotProperty[]> {
    const body = await this.#get(PROPERTIES_PATH, "", { what: "reading HubSpot's contact properties", scope: SCHEMAS_SCOPE });
    if (!isRecord(body) || !Array.isArray(body.results)) throw unexpected("reading HubSpot's contact properties", "expected {results: [...]}");
    return body.results.filter(isRecord).flatMap((p) =>
      typeof p.name === "string" ? [{ name: p.name, label: typeof p.label === "string" ? p.label : p.name }] : [],
    );
  }

  /**
   * One page of `GET /crm/v3/objects/contacts` with exactly `properties` (comma-separated, which
   * HubSpot accepts as well as repeated keys: api-notes.md), `limit` ≤ 100, from `after`, archived
   * (`archived=true`: only archived ones) or not. `page` (1-based) only names the page in messages.
   * Throws `SourceError`, and `RangeError` for a limit over 100.
   */
  async listContacts(q: { properties: readonly string[]; limit: number; after?: string; archived: boolean; page: number }): Promise<HubspotContactPage> {
    if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > HUBSPOT_MAX_PAGE_SIZE) {
      throw new RangeError(`limit must be a whole number from 1 to ${HUBSPOT_MAX_PAGE_SIZE}, got ${q.limit}`);
    }
    const params = new URLSearchParams({ limit: String(q.limit), archived: String(q.archived) });
    if (q.properties.length) params.set("properties", q.properties.join(","));
    if (q.after !== undefined) params.set("after", q.after);
    const what = `reading page ${q.page} of HubSpot's ${q.archived ? "archived " : ""}contacts`;
    const body = await this.#get(CONTACTS_PATH, params.toString(), { what, scope: CONTACTS_SCOPE });
    if (!isRecord(body) || !Array.isArray(body.results) || !body.results.every(isContact)) {
      throw unexpected(what, "expected {results: [{id, properties}]}");
    }
    const next = isRecord(body.paging) && isRecord(body.paging.next) ? body.paging.next.after : undefined;
    const after = typeof next === "string" && next !== "" ? next : typeof next === "number" ? String(next) : undefined;
    return after === undefined ? { results: body.results } : { results: body.results, after };
  }

  async #get(path: string, query: string, ctx: RequestContext): Promise<unknown> {
    try {
      const res = await this.#http.get<unknown>(query ? `${path}?${query}` : path);
      return res.data;
    } catch (error) {
      throw this.#toSourceError(error, ctx);
    }
  }

  /** `Retry-After` when sent, else exponential backoff: equal jitter for 429s, full jitter otherwise. */
  #delayMs(retryCount: number, error: AxiosError): number {
    const retryAfter = retryAfterMs(error);
    const step = 2 ** Math.max(0, retryCount - 1);
    if (error.response?.status === 429) {
      const ceiling = Math.min(HUBSPOT_RETRY_MAX_DELAY_MS, this.#rateLimitBaseDelayMs * step);
      const delay = Math.max(retryAfter, ceiling / 2 + (Math.random() * ceiling) / 2);
      // The budget is per app, so other syncs of this process wait too; another process probably
      // shares the token, hence the lower rate for a while.
      this.#throttle.penalize(delay);
      this.#throttle.slowDown();
      return delay;
    }
    const ceiling = Math.min(HUBSPOT_RETRY_MAX_DELAY_MS, this.#retryBaseDelayMs * step);
    return Math.max(retryAfter, Math.random() * ceiling);
  }

  /** A failure as a `SourceError` naming the request, HubSpot's message and correlation id, never the token. */
  #toSourceError(error: unknown, ctx: RequestContext): SourceError {
    const scrub = (text: string): string => redactSecrets(text, [this.#token]);
    if (!axios.isAxiosError(error)) {
      return new SourceError(scrub(`${ctx.what} failed: ${error instanceof Error ? error.message : String(error)}`));
    }
    const attempts = (error.config?.["axios-retry"]?.retryCount ?? 0) + 1;
    const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
    const response = error.response;
    if (!response) {
      const timedOut = error.code === "ECONNABORTED" || error.code === "ETIMEDOUT";
      const reason = timedOut ? `no response within ${this.#timeoutMs} ms` : `network error (${networkCode(error) ?? error.message})`;
      return new SourceError(scrub(`${ctx.what}: ${reason}${tries}; the run stopped before any change`), true);
    }
    const status = response.status;
    const body = parseBody(response.data);
    const detail = scrub(`${body.message || STATUS_CODES[status] || "error"}${body.correlationId ? ` (correlationId ${body.correlationId})` : ""}`);
    if (status === 401) {
      return new SourceError(`${ctx.what}: HubSpot refused HUBSPOT_ACCESS_TOKEN (401): it is invalid, expired or revoked. Copy the current access token of the private app (Settings → Integrations → Private apps) into HUBSPOT_ACCESS_TOKEN. Nothing was changed`);
    }
    if (status === 403) {
      return new SourceError(`${ctx.what}: HubSpot answered 403 ${detail}. The private app behind HUBSPOT_ACCESS_TOKEN needs the scope ${ctx.scope}. Nothing was changed`);
    }
    if (status === 429) {
      const policy = body.policyName;
      if (policy === "DAILY") {
        return new SourceError(`HubSpot's daily API limit is used up (429, policy DAILY) while ${ctx.what}; it resets at midnight in the HubSpot account's time zone. The run stopped and nothing was changed`, true);
      }
      return new SourceError(`${ctx.what}: HubSpot's rate limit${policy ? ` (${policy})` : ""} still refused the request${tries}; another app or process may be using the same budget. Nothing was changed`, true);
    }
    const transient = status >= 500;
    return new SourceError(`${ctx.what}: HubSpot answered ${status} ${detail}${tries}; the run stopped before any change`, transient);
  }
}

/** 5xx, network errors and rate-limit 429s except `DAILY`, which only tomorrow can lift. */
function isRetryable(error: AxiosError): boolean {
  const status = error.response?.status;
  if (status === undefined) return !NOT_NETWORK_CODES.has(error.code ?? "");
  if (status === 429) return parseBody(error.response?.data).policyName !== "DAILY";
  return status >= 500 && status <= 599;
}

/** A `Retry-After` (seconds or an HTTP date) in milliseconds, capped, or 0. */
function retryAfterMs(error: AxiosError): number {
  const header: unknown = error.response?.headers?.["retry-after"];
  if (typeof header !== "string" || header.trim() === "") return 0;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), HUBSPOT_RETRY_AFTER_MAX_MS) : 0;
}

/** The fields of a HubSpot error body (`{status: "error", message, correlationId, category, policyName?}`). */
function parseBody(data: unknown): { message: string; correlationId?: string; policyName?: RatePolicy } {
  let body = data;
  if (Buffer.isBuffer(body)) body = body.toString("utf8");
  if (typeof body === "string") {
    const raw = body;
    try {
      body = JSON.parse(raw) as unknown;
    } catch {
      const text = raw.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
      return { message: excerpt(text) };
    }
  }
  if (!isRecord(body)) return { message: "" };
  const out: { message: string; correlationId?: string; policyName?: RatePolicy } = {
    message: typeof body.message === "string" ? excerpt(body.message) : "",
  };
  if (typeof body.correlationId === "string") out.correlationId = body.correlationId;
  if (typeof body.policyName === "string") out.policyName = body.policyName;
  return out;
}

function networkCode(error: AxiosError): string | undefined {
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  if (cause && typeof cause.code === "string") return cause.code;
  return error.code;
}

function unexpected(what: string, expected: string): SourceError {
  return new SourceError(`${what}: HubSpot sent an unexpected response (${expected}); the run stopped before any change`);
}

function excerpt(text: string): string {
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isContact(value: unknown): value is HubspotContact {
  return isRecord(value) && (typeof value.id === "string" || typeof value.id === "number") && isRecord(value.properties);
}
