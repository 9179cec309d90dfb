/**
 * A small client of HubSpot's CRM v3 API: the contact listing and the contact property definitions
 * (docs/hubspot.md, "What a run reads"). It is built on the project's HTTP layer (`src/net/`), as
 * the Quo client is, rather than on the official SDK, whose Node-20 version keeps its retry and
 * limiter settings process-wide and weighs 54 MB. Every failure surfaces as a `SourceError` whose
 * `cause` is a scrubbed stand-in for the HTTP error: nothing holds the request (whose headers carry
 * the token) or the token itself.
 */
import { createHash } from "node:crypto";
import { STATUS_CODES } from "node:http";
import { isAxiosError, type AxiosError, type AxiosInstance } from "axios";
import { SourceError } from "../../src/errors.js";
import { checkBaseUrl } from "../../src/net/base-url.js";
import { createHttpClient } from "../../src/net/http-client.js";
import { decodeBody, describeHttpFailure, excerpt, isNetworkFailure, textExcerpt } from "../../src/net/http-failure.js";
import { redactSecrets } from "../../src/net/redact.js";
import { backoffCeilingMs, equalJitterMs, fullJitterMs, isTransientStatus, retryAfterMs } from "../../src/net/retry.js";
import { Throttle } from "../../src/net/throttle.js";
import {
  HUBSPOT_DEFAULT_API_URL,
  HUBSPOT_DEFAULT_MAX_RETRIES,
  HUBSPOT_DEFAULT_TIMEOUT_MS,
  HUBSPOT_MAX_BATCH_READ_INPUTS,
  HUBSPOT_MAX_PAGE_SIZE,
  HUBSPOT_RATE_LIMIT_BASE_DELAY_MS,
  HUBSPOT_RETRY_AFTER_MAX_MS,
  HUBSPOT_RETRY_BASE_DELAY_MS,
  HUBSPOT_RETRY_MAX_DELAY_MS,
  HUBSPOT_MAX_SEARCH_PAGE_SIZE,
  HUBSPOT_SEARCH_REQUESTS_PER_SECOND,
  HUBSPOT_THROTTLE_MARGIN_MS,
  HUBSPOT_WINDOW_MS,
} from "./limits.js";

/** One contact as `GET /crm/v3/objects/contacts` returns it (https://developers.hubspot.com/docs/api/crm/contacts). */
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

/** One filter of a search (https://developers.hubspot.com/docs/api/crm/search, "Filter search results"). */
export interface HubspotSearchFilter {
  propertyName: string;
  operator: "EQ" | "NEQ" | "LT" | "LTE" | "GT" | "GTE";
  value: string;
}

/** The body of `POST /crm/v3/objects/contacts/search`: filters AND-ed within a group, groups OR-ed. */
export interface HubspotSearchRequest {
  filterGroups: { filters: HubspotSearchFilter[] }[];
  sorts: { propertyName: string; direction: "ASCENDING" | "DESCENDING" }[];
  properties: string[];
  /** At most `HUBSPOT_MAX_SEARCH_PAGE_SIZE`. */
  limit: number;
  after?: string;
}

/** One page of a search: `total` counts every match (beyond the 10,000 a query may page through). */
export interface HubspotSearchPage {
  total: number;
  results: HubspotContact[];
  after?: string;
}

/** What a batch read found: the contacts returned, and the ids HubSpot does not have (in that archived state). */
export interface HubspotBatchRead {
  results: HubspotContact[];
  /** Ids asked for and not returned: named in an `OBJECT_NOT_FOUND` error, or simply left out. */
  missing: string[];
}

/** A property definition from `GET /crm/v3/properties/contacts`. */
export interface HubspotProperty {
  name: string;
  label: string;
}

/** How to build a `HubspotClient`; only `baseUrl`, `token` and `requestsPerWindow` are required. */
export interface HubspotClientOptions {
  /** Origin of the API (`HUBSPOT_API_URL`); checked again with `checkBaseUrl`. */
  baseUrl: string;
  /** The private app's access token, sent as `Authorization: Bearer …` (docs/hubspot.md, "Environment"). */
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

/** The `policyName` of a HubSpot 429 body (https://developers.hubspot.com/docs/api/usage-details). */
type RatePolicy = "SECONDLY" | "TEN_SECONDLY_ROLLING" | "DAILY" | string;

/** Which request failed, for messages. */
interface RequestContext {
  what: string;
  /** The OAuth scope HubSpot needs for this request, named when it answers 403. */
  scope: string;
}

const CONTACTS_PATH = "/crm/v3/objects/contacts";
const PROPERTIES_PATH = "/crm/v3/properties/contacts";
const SEARCH_PATH = "/crm/v3/objects/contacts/search";
const BATCH_READ_PATH = "/crm/v3/objects/contacts/batch/read";
/** Scope of the contact listing (docs/hubspot.md, "Set up a private app"). */
const CONTACTS_SCOPE = "crm.objects.contacts.read";
/** HubSpot lists this scope for reading contact property definitions (docs/hubspot.md, "Set up a private app"). */
const SCHEMAS_SCOPE = "crm.schemas.contacts.read";

/**
 * One throttle per (API origin, token, budget) in this process: HubSpot counts per app
 * (docs/hubspot.md, "Rate limits"), so syncs of one daemon that share a token must share the
 * budget too. The token is kept only as a digest.
 */
const throttles = new Map<string, Throttle>();
/** Search's own budget per (API origin, token): HubSpot allows 5 search requests a second per account. */
const searchThrottles = new Map<string, Throttle>();

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

/** The search throttle of (origin, token): each start also takes one of the app's budget (`app`). */
function sharedSearchThrottle(baseUrl: string, token: string, app: Throttle): Throttle {
  const id = `${baseUrl}\0${createHash("sha256").update(token).digest("hex")}`;
  let throttle = searchThrottles.get(id);
  if (!throttle) {
    throttle = new Throttle(HUBSPOT_SEARCH_REQUESTS_PER_SECOND, { windowMs: 1000, marginMs: HUBSPOT_THROTTLE_MARGIN_MS, gate: () => app.acquire() });
    searchThrottles.set(id, throttle);
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
  /** Search requests only: its own 5-a-second budget on top of the app's. */
  readonly #searchHttp: AxiosInstance;
  readonly #throttle: Throttle;
  readonly #token: string;
  readonly #retryBaseDelayMs: number;
  readonly #rateLimitBaseDelayMs: number;
  readonly #timeoutMs: number;

  /** Throws `ConfigError` when `opts.baseUrl` is not a plain http(s) URL (naming `HUBSPOT_API_URL`, never the value). */
  constructor(opts: HubspotClientOptions) {
    const baseUrl = checkBaseUrl(opts.baseUrl, { variable: "HUBSPOT_API_URL", example: HUBSPOT_DEFAULT_API_URL });
    this.#token = opts.token;
    this.#retryBaseDelayMs = opts.retryBaseDelayMs ?? HUBSPOT_RETRY_BASE_DELAY_MS;
    this.#rateLimitBaseDelayMs = opts.rateLimitBaseDelayMs ?? HUBSPOT_RATE_LIMIT_BASE_DELAY_MS;
    this.#timeoutMs = opts.timeoutMs ?? HUBSPOT_DEFAULT_TIMEOUT_MS;
    this.#throttle = sharedThrottle(baseUrl, opts.token, opts.requestsPerWindow, opts.windowMs ?? HUBSPOT_WINDOW_MS);
    const http = {
      baseUrl,
      headers: { Authorization: `Bearer ${opts.token}` },
      timeoutMs: this.#timeoutMs,
      maxRetries: opts.maxRetries ?? HUBSPOT_DEFAULT_MAX_RETRIES,
      retry: isRetryable,
      retryDelayMs: (retryCount: number, error: AxiosError) => this.#delayMs(retryCount, error),
    };
    this.#http = createHttpClient({ ...http, throttle: this.#throttle });
    this.#searchHttp = createHttpClient({ ...http, throttle: sharedSearchThrottle(baseUrl, opts.token, this.#throttle) });
  }

  /**
   * One page of `POST /crm/v3/objects/contacts/search` (https://developers.hubspot.com/docs/api/crm/search).
   * A search only reads, so a failed one is replayed like a GET. `what` names the request in
   * messages. Throws `SourceError`, and `RangeError` for a limit over 200.
   */
  async searchContacts(request: HubspotSearchRequest, what: string): Promise<HubspotSearchPage> {
    if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > HUBSPOT_MAX_SEARCH_PAGE_SIZE) {
      throw new RangeError(`limit must be a whole number from 1 to ${HUBSPOT_MAX_SEARCH_PAGE_SIZE}, got ${request.limit}`);
    }
    let body: unknown;
    try {
      body = (await this.#searchHttp.post<unknown>(SEARCH_PATH, request)).data;
    } catch (error) {
      throw this.#toSourceError(error, { what, scope: CONTACTS_SCOPE });
    }
    if (!isRecord(body) || !Array.isArray(body.results) || !body.results.every(isContact)) {
      throw unexpected(what, "expected {total, results: [{id, properties}]}");
    }
    const total = typeof body.total === "number" ? body.total : body.results.length;
    const next = isRecord(body.paging) && isRecord(body.paging.next) ? body.paging.next.after : undefined;
    const after = typeof next === "string" && next !== "" ? next : typeof next === "number" ? String(next) : undefined;
    return after === undefined ? { total, results: body.results } : { total, results: body.results, after };
  }

  /**
   * `POST /crm/v3/objects/contacts/batch/read` (https://developers.hubspot.com/docs/api/crm/contacts):
   * the contacts with these ids (at most `HUBSPOT_MAX_BATCH_READ_INPUTS`), with exactly `properties`;
   * `archived` asks for archived ones instead of live ones. HubSpot answers 200, or 207 when some
   * ids are not found (listed in `errors[].context.ids`); a 404 `OBJECT_NOT_FOUND` is read as every
   * id missing. A read changes nothing, so a failed one is replayed like a GET. Throws `SourceError`
   * (also for any other per-id error), and `RangeError` for no ids or more than 100.
   */
  async batchReadContacts(q: { properties: readonly string[]; ids: readonly string[]; archived: boolean }): Promise<HubspotBatchRead> {
    if (q.ids.length < 1 || q.ids.length > HUBSPOT_MAX_BATCH_READ_INPUTS) throw new RangeError(`a batch read takes 1 to ${HUBSPOT_MAX_BATCH_READ_INPUTS} ids, got ${q.ids.length}`);
    const what = `reading ${q.ids.length} ${q.archived ? "archived " : ""}HubSpot contacts by id`;
    let body: unknown;
    try {
      body = (await this.#http.post<unknown>(`${BATCH_READ_PATH}?archived=${String(q.archived)}`, { properties: [...q.properties], inputs: q.ids.map((id) => ({ id })) })).data;
    } catch (error) {
      const data = isAxiosError(error) && error.response?.status === 404 ? decodeBody(error.response.data) : undefined;
      if (data && "json" in data && isRecord(data.json) && data.json.category === "OBJECT_NOT_FOUND") return { results: [], missing: [...q.ids] };
      throw this.#toSourceError(error, { what, scope: CONTACTS_SCOPE });
    }
    if (!isRecord(body) || !Array.isArray(body.results) || !body.results.every(isContact)) throw unexpected(what, "expected {status, results: [{id, properties}]}");
    const errors = Array.isArray(body.errors) ? body.errors.filter(isRecord) : [];
    for (const e of errors) {
      if (e.category !== "OBJECT_NOT_FOUND") {
        const message = typeof e.message === "string" ? excerpt(redactSecrets(e.message, [this.#token])) : "no message";
        throw new SourceError(`${what}: HubSpot answered an error for some ids (${typeof e.category === "string" ? e.category : "unknown category"}: ${message}); the run stopped before any change`);
      }
    }
    const returned = new Set(body.results.map((c) => String(c.id)));
    const wanted = new Set(q.ids);
    const results = body.results.filter((c) => wanted.has(String(c.id)));
    return { results, missing: q.ids.filter((id) => !returned.has(id)) };
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
   * One page of `GET /crm/v3/objects/contacts` with exactly `properties` (comma-separated, as
   * HubSpot documents the parameter), `limit` ≤ 100, from `after`, archived
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
    const retryAfter = retryAfterMs(error, HUBSPOT_RETRY_AFTER_MAX_MS);
    if (error.response?.status === 429) {
      const delay = Math.max(retryAfter, equalJitterMs(backoffCeilingMs(retryCount, this.#rateLimitBaseDelayMs, HUBSPOT_RETRY_MAX_DELAY_MS)));
      // The budget is per app, so other syncs of this process wait too; another process probably
      // shares the token, hence the lower rate for a while.
      this.#throttle.penalize(delay);
      this.#throttle.slowDown();
      return delay;
    }
    return Math.max(retryAfter, fullJitterMs(backoffCeilingMs(retryCount, this.#retryBaseDelayMs, HUBSPOT_RETRY_MAX_DELAY_MS)));
  }

  /**
   * A failure as a `SourceError` naming the request, HubSpot's message and correlation id, never
   * the token; `transient` when a later run may succeed, `cause` the scrubbed HTTP failure.
   */
  #toSourceError(error: unknown, ctx: RequestContext): SourceError {
    const scrub = (text: string): string => redactSecrets(text, [this.#token]);
    const failure = describeHttpFailure(error, [this.#token]);
    const fail = (message: string, transient: boolean): SourceError => new SourceError(message, { transient, cause: failure.cause });
    const tries = failure.attempts > 1 ? ` after ${failure.attempts} attempts` : "";
    if (failure.status === null) {
      // Not from axios: something in this process failed, which a later run would meet again.
      if (!isAxiosError(error)) return fail(`${ctx.what} failed: ${failure.message}`, false);
      const reason = failure.timedOut ? `no response within ${this.#timeoutMs} ms` : `network error (${failure.networkCode ?? failure.message})`;
      return fail(`${ctx.what}: ${reason}${tries}; the run stopped before any change`, true);
    }
    const status = failure.status;
    const body = parseBody(failure.data);
    const detail = scrub(`${body.message || STATUS_CODES[status] || "error"}${body.correlationId ? ` (correlationId ${body.correlationId})` : ""}`);
    if (status === 401) {
      return fail(`${ctx.what}: HubSpot refused HUBSPOT_ACCESS_TOKEN (401): it is invalid, expired or revoked. Copy the current access token of the private app (Settings → Integrations → Private apps) into HUBSPOT_ACCESS_TOKEN. Nothing was changed`, false);
    }
    if (status === 403) {
      return fail(`${ctx.what}: HubSpot answered 403 ${detail}. The private app behind HUBSPOT_ACCESS_TOKEN needs the scope ${ctx.scope}. Nothing was changed`, false);
    }
    if (status === 429) {
      const policy = body.policyName;
      if (policy === "DAILY") {
        return fail(`HubSpot's daily API limit is used up (429, policy DAILY) while ${ctx.what}; it resets at midnight in the HubSpot account's time zone. The run stopped and nothing was changed`, true);
      }
      return fail(`${ctx.what}: HubSpot's rate limit${policy ? ` (${policy})` : ""} still refused the request${tries}; another app or process may be using the same budget. Nothing was changed`, true);
    }
    return fail(`${ctx.what}: HubSpot answered ${status} ${detail}${tries}; the run stopped before any change`, isTransientStatus(status));
  }
}

/** 5xx, network errors and rate-limit 429s except `DAILY`, which only tomorrow can lift. */
function isRetryable(error: AxiosError): boolean {
  const status = error.response?.status;
  if (status === undefined) return isNetworkFailure(error);
  if (status === 429) return parseBody(error.response?.data).policyName !== "DAILY";
  return isTransientStatus(status);
}

/** The fields of a HubSpot error body (`{status: "error", message, correlationId, category, policyName?}`). */
function parseBody(data: unknown): { message: string; correlationId?: string; policyName?: RatePolicy } {
  const decoded = decodeBody(data);
  if ("text" in decoded) return { message: textExcerpt(decoded.text) };
  const body = decoded.json;
  if (!isRecord(body)) return { message: "" };
  const out: { message: string; correlationId?: string; policyName?: RatePolicy } = {
    message: typeof body.message === "string" ? excerpt(body.message) : "",
  };
  if (typeof body.correlationId === "string") out.correlationId = body.correlationId;
  if (typeof body.policyName === "string") out.policyName = body.policyName;
  return out;
}

function unexpected(what: string, expected: string): SourceError {
  return new SourceError(`${what}: HubSpot sent an unexpected response (${expected}); the run stopped before any change`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isContact(value: unknown): value is HubspotContact {
  return isRecord(value) && (typeof value.id === "string" || typeof value.id === "number") && isRecord(value.properties);
}
