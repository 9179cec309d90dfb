/**
 * The Quo API client: contacts and contact custom fields (docs/quo-api.md). This file is what the
 * requests mean — paths, bodies, which failures a request may be replayed after, and checks that
 * each answer has the documented shape; `./transport.ts` is how they are sent (auth, throttle,
 * retries, counters, logs). Every failure surfaces as a `QuoApiError`.
 */
import { quoConnectionFromEnv, type QuoAuthMode } from "./auth.js";
import { QuoApiError } from "./errors.js";
import { QUO_EXTERNAL_ID_MAX_LENGTH, QUO_EXTERNAL_IDS_PER_QUERY, QUO_FIND_CONCURRENCY, QUO_MAX_PAGE_SIZE } from "./limits.js";
import { QuoTransport, type QuoClientOptions, type QuoClientStats, type QuoResponse } from "./transport.js";
import type { QuoContact, QuoContactPage, QuoContactWrite, QuoCustomFieldDef } from "./types.js";

export { serializeQuery, type QuoClientOptions, type QuoClientStats, type QuoLogger } from "./transport.js";

/**
 * Builds `QuoClientOptions` from `QUO_API_KEY`, `MATON_API_KEY` and `QUO_BASE_URL` (README.md,
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

/** Whether `id` can be a Quo `externalId` at all: 1–75 characters (docs/quo-api.md, "Creating a contact"). Never throws. */
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
  /** Counters for reports, metrics and benchmarks (the transport's, live). */
  readonly stats: QuoClientStats;
  /** Which credentials are used; never the key itself. */
  readonly authMode: QuoAuthMode;
  /** The API root requests go to (`https://api.openphone.com`, or the gateway's `…/quo`). */
  readonly baseUrl: string;
  /** The workspace named in this client's errors (`QuoClientOptions.workspace`), if any. */
  readonly workspace: string | undefined;

  readonly #transport: QuoTransport;
  readonly #signal: AbortSignal | undefined;

  /** Throws `ConfigError` when no key is given or a number or URL option is out of range. */
  constructor(opts: QuoClientOptions);
  constructor(opts: QuoTransport, workspace: string | undefined, signal: AbortSignal);
  constructor(opts: QuoClientOptions | QuoTransport, workspace?: string, signal?: AbortSignal) {
    this.#transport = opts instanceof QuoTransport ? opts : new QuoTransport(opts);
    this.#signal = signal;
    this.stats = this.#transport.stats;
    this.authMode = this.#transport.authMode;
    this.baseUrl = this.#transport.baseUrl;
    this.workspace = opts instanceof QuoTransport ? workspace : opts.workspace;
  }

  /**
   * The same client (transport, throttle, counters) with every request aborted when `signal` fires:
   * a run binds its writes to its lock, so a lock lost mid-request stops the request too.
   */
  withSignal(signal: AbortSignal): QuoClient {
    return new QuoClient(this.#transport, this.workspace, signal);
  }

  #send(req: Parameters<QuoTransport["request"]>[0]): Promise<QuoResponse> {
    return this.#transport.request(this.#signal ? { ...req, signal: this.#signal } : req);
  }

  /**
   * One page of `GET /v1/contacts`. `maxResults` must be 1–50 (docs/quo-api.md, "Reading
   * contacts"), else `RangeError`. `totalItems` is dropped: it is unreliable. Throws `QuoApiError`.
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
    const res = await this.#send({
      method: "GET",
      path,
      query: {
        maxResults: q.maxResults,
        pageToken: q.pageToken,
        externalIds: q.externalIds?.length ? q.externalIds : undefined,
        sources: q.sources?.length ? q.sources : undefined,
      },
    });
    const body = res.data;
    if (!isRecord(body) || !Array.isArray(body.data) || !body.data.every(isContact)) {
      throw unexpectedBody(this.#transport, "GET", path, res.status, "expected {data: contact[]}");
    }
    const token = body.nextPageToken;
    return { data: body.data.map(withDefaults), nextPageToken: typeof token === "string" && token !== "" ? token : null };
  }

  /**
   * All contacts with these external ids: duplicates and ids that cannot be external ids (empty or
   * over 75 characters) are dropped, the rest asked for in chunks of ≤ 50 with `maxResults` 50,
   * each followed through `nextPageToken` to the end (never `totalItems`, docs/quo-api.md). Only
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
      const res = await this.#send({ method: "GET", path });
      return contactOf(this.#transport, res, "GET", path);
    } catch (error) {
      if (error instanceof QuoApiError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * `POST /v1/contacts` → the created contact. A create is not idempotent (docs/quo-api.md,
   * "Creating a contact"), so 5xx and network errors are never replayed: the caller looks the
   * contact up by `externalId` before trying again. 429 is retried: the rate limiter refuses the
   * request instead of passing it on. Throws `QuoApiError`.
   */
  async createContact(body: QuoContactWrite): Promise<QuoContact> {
    const path = "/v1/contacts";
    const res = await this.#send({ method: "POST", path, body, retry: "rate-limit-only" });
    return contactOf(this.#transport, res, "POST", path);
  }

  /**
   * `PATCH /v1/contacts/{id}` → the updated contact. `idempotent` (default true): pass false when
   * the body adds list items without ids, which a replay would add twice (docs/quo-api.md,
   * "Updating a contact"); then only 429 is retried. A 404 throws `QuoApiError` with status 404, as
   * does every other failure.
   */
  async updateContact(id: string, body: QuoContactWrite, opts: { idempotent?: boolean } = {}): Promise<QuoContact> {
    const path = contactPath(id);
    const res = await this.#send({ method: "PATCH", path, body, retry: opts.idempotent === false ? "rate-limit-only" : "transient" });
    return contactOf(this.#transport, res, "PATCH", path);
  }

  /**
   * `DELETE /v1/contacts/{id}`: "deleted" on 2xx, "not-found" on 404 (also Quo's answer for another
   * workspace's id, and for a retry whose first attempt did delete). Throws `QuoApiError` otherwise.
   */
  async deleteContact(id: string): Promise<"deleted" | "not-found"> {
    try {
      await this.#send({ method: "DELETE", path: contactPath(id) });
      return "deleted";
    } catch (error) {
      if (error instanceof QuoApiError && error.status === 404) return "not-found";
      throw error;
    }
  }

  /** `GET /v1/contact-custom-fields`: the workspace's custom field definitions. Throws `QuoApiError`. */
  async listCustomFields(): Promise<QuoCustomFieldDef[]> {
    const path = "/v1/contact-custom-fields";
    const res = await this.#send({ method: "GET", path });
    const body = res.data;
    if (!isRecord(body) || !Array.isArray(body.data) || !body.data.every(isCustomFieldDef)) {
      throw unexpectedBody(this.#transport, "GET", path, res.status, "expected {data: [{name, key, type}]}");
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
        throw unexpectedBody(this.#transport, "GET", "/v1/contacts", 200, "the same nextPageToken came back twice; paging stopped");
      }
      tokens.add(page.nextPageToken);
      pageToken = page.nextPageToken;
    }
  }
}

function contactPath(id: string): string {
  return `/v1/contacts/${encodeURIComponent(id)}`;
}

function contactOf(transport: QuoTransport, res: QuoResponse, method: string, path: string): QuoContact {
  const body = res.data;
  if (!isRecord(body) || !isContact(body.data)) {
    throw unexpectedBody(transport, method, path, res.status, "expected {data: contact}");
  }
  return withDefaults(body.data);
}

/**
 * Fills the scalars Quo may leave out with null. A list Quo left out (or sent as something other
 * than an array) stays absent: it may hold items this answer does not show, so it must never be
 * read as empty (`missingLists` in src/plan/from-quo.ts refuses to write from such a copy).
 */
function withDefaults(contact: QuoContact): QuoContact {
  const { emails, phoneNumbers, ...d } = contact.defaultFields;
  const { customFields, ...rest } = contact;
  return {
    ...rest,
    defaultFields: {
      ...d,
      firstName: d.firstName ?? null,
      lastName: d.lastName ?? null,
      company: d.company ?? null,
      role: d.role ?? null,
      ...(Array.isArray(emails) ? { emails } : {}),
      ...(Array.isArray(phoneNumbers) ? { phoneNumbers } : {}),
    },
    ...(Array.isArray(customFields) ? { customFields } : {}),
  };
}

function unexpectedBody(transport: QuoTransport, method: string, path: string, status: number, what: string): QuoApiError {
  return new QuoApiError({ method, path, status, quoMessage: `unexpected response: ${what}`, ...transport.names });
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
