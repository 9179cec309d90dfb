/**
 * An in-process emulator of the parts of HubSpot's CRM v3 API that quo-sync reads, for tests and
 * demos: `GET /crm/v3/objects/contacts`, `POST /crm/v3/objects/contacts/search`,
 * `POST /crm/v3/objects/contacts/batch/read` and `GET /crm/v3/properties/contacts`, with Bearer auth, the per-token rate limits, injected failures,
 * and search results that lag writes (`searchLagMs`), as HubSpot's search index does. It speaks real HTTP/1.1 on 127.0.0.1 so the real
 * connector runs against it. Behaviour follows HubSpot's reference
 * (https://developers.hubspot.com/docs/api/crm/contacts, https://developers.hubspot.com/docs/api/crm/properties,
 * https://developers.hubspot.com/docs/api/crm/search, https://developers.hubspot.com/docs/api/usage-details) and docs/hubspot.md; choices they leave open
 * are marked "Undocumented:". The HTTP server, stats and counted faults come from `./kit/`.
 *
 * Test-side API (all synchronous, none of it counted or rate-limited):
 *  - `addContacts(list)` creates contacts in order (ids 1, 2, 3… ascending, as HubSpot lists them);
 *  - `update(id, props)`, `archive(ids)`, `restore(ids)`, `purge(ids)` (GDPR delete: gone entirely);
 *  - `merge(ids, into)`: the contacts `ids` are merged into `into` (gone; a batch read of their id answers `into`);
 *  - `setModified(ids, at)` stamps contacts with one `lastmodifieddate` (a bulk import's);
 *  - `setSearchLag(ms)`: how long later writes stay invisible to search;
 *  - `setProperties(defs)` replaces the account's property definitions (the read-only
 *    `hs_object_id`, `createdate` and `lastmodifieddate` always stay);
 *  - `setLimits(…)` changes the budgets, `setFault(…)` injects a failure;
 *  - `stats()` / `resetStats()` count requests, and `log()` lists each request's path, query and status.
 */
import { randomBytes } from "node:crypto";
import { CountedFaults } from "./kit/faults.js";
import { BodyError, discardBody, isObject, readJsonBody, sendJson } from "./kit/http.js";
import { SlidingWindowLog } from "./kit/limits.js";
import { startEmulatorServer } from "./kit/server.js";
import { bump, StatsBook } from "./kit/stats.js";

/** A property definition as `GET /crm/v3/properties/contacts` lists it (https://developers.hubspot.com/docs/api/crm/properties). */
export interface HubspotPropertyDef {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  options: { label: string; value: string }[];
}

/** A contact as the emulator stores it: every property value a string (HubSpot's wire format). */
export interface EmulatedHubspotContact {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/** The budgets the emulator enforces per token; 0 turns one off. */
export interface HubspotLimits {
  /** Requests per rolling `windowMs` (policy `TEN_SECONDLY_ROLLING`); default 100 (docs/hubspot.md, "Rate limits"). */
  requestsPerWindow?: number;
  /** Length of the rolling window; default 10 000 ms. Tests shorten it. */
  windowMs?: number;
  /** Requests per rolling second (policy `SECONDLY`); default 0 (off). */
  requestsPerSecond?: number;
  /** Requests allowed in total until `setLimits` is called again (policy `DAILY`); default 0 (off). */
  dailyLimit?: number;
  /** Search requests per rolling second (policy `SECONDLY`): HubSpot allows 5; default 5 (0: off). */
  searchRequestsPerSecond?: number;
}

/**
 * An injected failure. It applies to requests that passed auth and the rate limits, on the route
 * named, optionally only on one page of the listing, for `times` requests (default: every one).
 */
export interface HubspotFault {
  route?: "contacts" | "properties" | "search";
  /** 1-based page of the listing (counted in pages of the request's `limit`); default every page. */
  page?: number;
  /** Only the archived listing (true) or only the active one (false); default both. */
  archived?: boolean;
  status: number;
  /** For a 429: the body's `policyName`; default `TEN_SECONDLY_ROLLING`. */
  policyName?: "SECONDLY" | "TEN_SECONDLY_ROLLING" | "DAILY";
  /** Sent as a `Retry-After` header when set. */
  retryAfterSeconds?: number;
  times?: number;
}

/** How to start an emulator: the budgets of `HubspotLimits` and these; every field is optional. */
export interface HubspotEmulatorOptions extends HubspotLimits {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (a free one). */
  port?: number;
  /** Tokens accepted as `Authorization: Bearer …`; default `["test-hubspot-token"]`. */
  tokens?: string[];
  /** Property definitions besides the read-only ones; default `STANDARD_CONTACT_PROPERTIES`. */
  properties?: HubspotPropertyDef[];
  /**
   * How long a write stays invisible to search (a new contact is not found, an edited one is found
   * as it was); default 0. HubSpot's index lags writes by a few seconds.
   */
  searchLagMs?: number;
}

/** Counters since start or the last `resetStats()`. */
export interface HubspotEmulatorStats {
  /** Every HTTP request received, rejected ones included. */
  requests: number;
  /** "GET /crm/v3/objects/contacts", "POST /crm/v3/objects/contacts/search", "GET /crm/v3/properties/contacts" or "unmatched". */
  byRoute: Record<string, number>;
  byStatus: Record<string, number>;
  /** 429s by policy name. */
  rateLimited: Record<string, number>;
}

/** One request as `log()` reports it: no headers, so never a token. */
export interface HubspotRequestLogEntry {
  path: string;
  /** Each query parameter's values, repeated keys in order. */
  query: Record<string, string[]>;
  /** A search's JSON body as sent. */
  body?: unknown;
  status: number;
}

/** A running emulator. */
export interface HubspotEmulator {
  /** Origin to use as `HUBSPOT_API_URL`, e.g. `http://127.0.0.1:43210`. */
  readonly url: string;
  /** Creates contacts in order; returns their ids. Throws for a property the account does not define. */
  addContacts(list: readonly Record<string, string | null | undefined>[]): string[];
  /** Sets (or, with null, clears) properties of a contact; moves `lastmodifieddate`. Throws for an unknown id. */
  update(id: string, properties: Record<string, string | null>): void;
  /** Sets the `lastmodifieddate` (and `updatedAt`) of contacts to `at`, as one bulk write would. Throws for an unknown id. */
  setModified(ids: readonly string[], at: Date): void;
  /** Changes `searchLagMs` for the writes that follow (earlier ones keep the lag they were made with). */
  setSearchLag(ms: number): void;
  /** Archives (soft-deletes) contacts, as the HubSpot app's "Delete" does. Throws for an unknown id. */
  archive(ids: readonly string[]): void;
  /** Restores archived contacts. Throws for an unknown id. */
  restore(ids: readonly string[]): void;
  /** GDPR-deletes contacts: they vanish from both listings. Throws for an unknown id. */
  purge(ids: readonly string[]): void;
  /** Merges contacts into `into`: they leave both listings, and a batch read of their ids returns `into`. Throws for an unknown id. */
  merge(ids: readonly string[], into: string): void;
  /** Replaces the account's property definitions (the read-only ones always stay). */
  setProperties(defs: readonly (HubspotPropertyDef | string)[]): void;
  /** Changes the budgets (fields left out keep their value) and restarts the counts. */
  setLimits(limits: HubspotLimits): void;
  /** Sets the one injected failure; `undefined` removes it. */
  setFault(fault: HubspotFault | undefined): void;
  /** Copies of the stored contacts (archived ones too), in id order. */
  contacts(): EmulatedHubspotContact[];
  stats(): HubspotEmulatorStats;
  /** The requests since start or `resetStats()` (at most the last `MAX_LOG_ENTRIES`); a search's entry carries its body. */
  log(): HubspotRequestLogEntry[];
  resetStats(): void;
  close(): Promise<void>;
}

/** HubSpot's default budget: 100 requests per 10 s per app (docs/hubspot.md, "Rate limits"). */
const DEFAULT_REQUESTS_PER_WINDOW = 100;
const DEFAULT_WINDOW_MS = 10_000;
const SECOND_MS = 1_000;
/** Max page size of the listing (HubSpot's `limit` goes up to 100); larger asks get a 400. */
const MAX_LIMIT = 100;
/** Undocumented: HubSpot's listing default page size when `limit` is left out. */
const DEFAULT_LIMIT = 10;
const MAX_LOG_ENTRIES = 10_000;
const CONTACTS_PATH = "/crm/v3/objects/contacts";
const SEARCH_PATH = "/crm/v3/objects/contacts/search";
const BATCH_READ_PATH = "/crm/v3/objects/contacts/batch/read";
/** HubSpot's batch limit: more inputs in one batch request → 400. */
const MAX_BATCH_INPUTS = 100;
/** Search's page size: `limit` up to 200 (https://developers.hubspot.com/docs/api/crm/search, "Limitations"). */
const MAX_SEARCH_LIMIT = 200;
/** Search's page size when `limit` is left out. */
const DEFAULT_SEARCH_LIMIT = 10;
/** Search returns at most 10,000 results per query; paging past them answers 400 (same page). */
const SEARCH_RESULT_CAP = 10_000;
/** Filter groups per search, and filters per group (same page, "Limitations"). */
const MAX_FILTER_GROUPS = 5;
const MAX_FILTERS_PER_GROUP = 6;
/** Search's own budget: 5 requests per second per account (same page). */
const DEFAULT_SEARCH_REQUESTS_PER_SECOND = 5;
/** Largest search body accepted. */
const MAX_SEARCH_BODY_BYTES = 64 * 1024;
/** Properties a search returns when its body names none (same page, "Searchable CRM objects"). */
const SEARCH_DEFAULT_PROPERTIES = ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"] as const;
const OPERATORS = ["EQ", "NEQ", "LT", "LTE", "GT", "GTE"] as const;
type Operator = (typeof OPERATORS)[number];
interface SearchFilter {
  propertyName: string;
  operator: Operator;
  value: string;
}
const PROPERTIES_PATH = "/crm/v3/properties/contacts";
/** HubSpot's spelling of the JSON content type, without a space. */
const CONTENT_TYPE = "application/json;charset=utf-8";

/** Properties every contact has and HubSpot returns whatever is asked for. */
const DEFAULT_RETURNED = ["createdate", "hs_object_id", "lastmodifieddate"] as const;

function def(name: string, label: string, type = "string", fieldType = "text"): HubspotPropertyDef {
  return { name, label, type, fieldType, options: [] };
}

const READ_ONLY_PROPERTIES: readonly HubspotPropertyDef[] = [
  def("hs_object_id", "Record ID", "number", "number"),
  def("createdate", "Create Date", "datetime", "date"),
  def("lastmodifieddate", "Last Modified Date", "datetime", "date"),
];

/** A few of HubSpot's standard contact properties, enough for realistic mappings and typos. */
export const STANDARD_CONTACT_PROPERTIES: readonly HubspotPropertyDef[] = [
  def("firstname", "First Name"),
  def("lastname", "Last Name"),
  def("email", "Email"),
  def("phone", "Phone Number", "string", "phonenumber"),
  def("mobilephone", "Mobile Phone Number", "string", "phonenumber"),
  def("fax", "Fax Number", "string", "phonenumber"),
  def("company", "Company Name"),
  def("jobtitle", "Job Title"),
  def("website", "Website URL"),
  def("address", "Street Address"),
  def("city", "City"),
  def("state", "State/Region"),
  def("zip", "Postal Code"),
  def("country", "Country/Region"),
  def("lifecyclestage", "Lifecycle Stage", "enumeration", "radio"),
  def("hs_lead_status", "Lead Status", "enumeration", "radio"),
];

const POLICY_MESSAGES: Record<string, string> = {
  SECONDLY: "You have reached your secondly limit.",
  TEN_SECONDLY_ROLLING: "You have reached your ten_secondly_rolling limit.",
  DAILY: "You have reached your daily limit.",
};

interface StoredContact extends EmulatedHubspotContact {
  seq: number;
  /**
   * What search sees of the contact, oldest first: each write's copy of the properties and when
   * the index shows it. The newest version visible now is the one search matches and returns.
   */
  indexed: { properties: Record<string, string>; updatedAt: string; visibleAt: number }[];
}

function correlationId(): string {
  const h = randomBytes(16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function errorBody(message: string, category: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: "error", message, correlationId: correlationId(), category, ...extra };
}

/** Starts an emulator on a free port (or `opts.port`). */
export async function startHubspotEmulator(opts: HubspotEmulatorOptions = {}): Promise<HubspotEmulator> {
  const tokens = new Set(opts.tokens ?? ["test-hubspot-token"]);
  let properties = new Map<string, HubspotPropertyDef>();
  const setProps = (defs: readonly (HubspotPropertyDef | string)[]): void => {
    properties = new Map([...READ_ONLY_PROPERTIES, ...defs.map((d) => (typeof d === "string" ? def(d, d) : d))].map((d) => [d.name, structuredClone(d)]));
  };
  setProps(opts.properties ?? STANDARD_CONTACT_PROPERTIES);

  let limits: Required<HubspotLimits> = {
    requestsPerWindow: opts.requestsPerWindow ?? DEFAULT_REQUESTS_PER_WINDOW,
    windowMs: opts.windowMs ?? DEFAULT_WINDOW_MS,
    requestsPerSecond: opts.requestsPerSecond ?? 0,
    dailyLimit: opts.dailyLimit ?? 0,
    searchRequestsPerSecond: opts.searchRequestsPerSecond ?? DEFAULT_SEARCH_REQUESTS_PER_SECOND,
  };
  let searchLagMs = opts.searchLagMs ?? 0;
  /** Per token: arrival times of counted requests (all, and searches alone), and the day's count. */
  const usage = new Map<string, { log: SlidingWindowLog; searches: SlidingWindowLog; daily: number }>();
  const faults = new CountedFaults<HubspotFault>();

  const store: StoredContact[] = [];
  const byId = new Map<string, StoredContact>();
  let nextId = 1;
  const stats = new StatsBook<HubspotEmulatorStats>(() => ({ requests: 0, byRoute: {}, byStatus: {}, rateLimited: {} }));
  let requestLog: HubspotRequestLogEntry[] = [];

  const find = (id: string): StoredContact => {
    const c = byId.get(id);
    if (!c) throw new Error(`hubspot emulator: no contact ${id}`);
    return c;
  };
  const now = (): string => new Date().toISOString();

  /** The rate-limit policy a request breaks, if any; a refused request is not counted. */
  const overLimit = (token: string, isSearch: boolean): string | undefined => {
    const u = usage.get(token) ?? { log: new SlidingWindowLog(), searches: new SlidingWindowLog(), daily: 0 };
    usage.set(token, u);
    const t = Date.now();
    u.log.forget(Math.max(limits.windowMs, SECOND_MS), t);
    u.searches.forget(SECOND_MS, t);
    if (limits.dailyLimit > 0 && u.daily >= limits.dailyLimit) return "DAILY";
    if (limits.requestsPerSecond > 0 && u.log.within(SECOND_MS, t) >= limits.requestsPerSecond) return "SECONDLY";
    if (isSearch && limits.searchRequestsPerSecond > 0 && u.searches.within(SECOND_MS, t) >= limits.searchRequestsPerSecond) return "SECONDLY";
    if (limits.requestsPerWindow > 0 && u.log.within(limits.windowMs, t) >= limits.requestsPerWindow) return "TEN_SECONDLY_ROLLING";
    u.log.record(t);
    if (isSearch) u.searches.record(t);
    u.daily += 1;
    return undefined;
  };

  const rateLimited = (policy: string): { status: number; body: unknown } => {
    bump(stats.current.rateLimited, policy);
    return {
      status: 429,
      body: { status: "error", message: POLICY_MESSAGES[policy] ?? "You have reached your limit.", errorType: "RATE_LIMIT", correlationId: correlationId(), policyName: policy, groupName: "publicapi" },
    };
  };

  /** The injected fault for this request, if it applies; counts down its `times`. */
  const faultFor = (route: "contacts" | "properties" | "search", page: number, archived: boolean): { status: number; body: unknown; headers: Record<string, string> } | undefined => {
    const f = faults.take(
      (x) =>
        (x.route ?? "contacts") === route &&
        (route === "properties" || ((x.page === undefined || x.page === page) && (route === "search" || x.archived === undefined || x.archived === archived))),
    );
    if (!f) return undefined;
    const headers: Record<string, string> = f.retryAfterSeconds !== undefined ? { "retry-after": String(f.retryAfterSeconds) } : {};
    if (f.status === 429) return { ...rateLimited(f.policyName ?? "TEN_SECONDLY_ROLLING"), headers };
    if (f.status === 401) return { status: 401, body: unauthorized(), headers };
    const category = f.status >= 500 ? "INTERNAL_ERROR" : "VALIDATION_ERROR";
    return { status: f.status, body: errorBody(f.status >= 500 ? "internal error" : "injected failure", category), headers };
  };

  const unauthorized = (): unknown =>
    errorBody("Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview", "INVALID_AUTHENTICATION");

  const toWire = (c: StoredContact, wanted: readonly string[]): Record<string, unknown> => {
    const props: Record<string, string | null> = {};
    for (const name of DEFAULT_RETURNED) props[name] = c.properties[name] ?? null;
    // HubSpot returns a requested property that the account defines (null when unset) and silently
    // leaves out names it does not know (docs/hubspot.md, "What a run reads": the reason quo-sync
    // checks names first).
    for (const name of wanted) if (properties.has(name)) props[name] = c.properties[name] ?? null;
    return { id: c.id, properties: props, createdAt: c.createdAt, updatedAt: c.updatedAt, archived: c.archived, ...(c.archivedAt ? { archivedAt: c.archivedAt } : {}) };
  };

  const listContacts = (query: URLSearchParams): { status: number; body: unknown; headers?: Record<string, string> } => {
    const limitText = query.get("limit");
    const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      return { status: 400, body: errorBody(`limit must be between 1 and ${MAX_LIMIT}, got ${limitText}`, "VALIDATION_ERROR") };
    }
    const archivedText = query.get("archived") ?? "false";
    if (archivedText !== "true" && archivedText !== "false") return { status: 400, body: errorBody(`archived must be true or false`, "VALIDATION_ERROR") };
    const archived = archivedText === "true";
    // HubSpot takes both repeated keys and comma-separated values.
    const wanted = query.getAll("properties").flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
    const afterText = query.get("after");
    // Undocumented: the cursor is opaque in HubSpot; here it is the last id of the previous page.
    const after = afterText === null ? 0 : Number(afterText);
    if (!Number.isInteger(after) || after < 0) return { status: 400, body: errorBody(`after is not a valid paging cursor`, "VALIDATION_ERROR") };
    const listing = store.filter((c) => c.archived === archived);
    const start = listing.findIndex((c) => c.seq > after);
    const from = start < 0 ? listing.length : start;
    const page = Math.floor(from / limit) + 1;
    const injected = faultFor("contacts", page, archived);
    if (injected) return injected;
    const slice = listing.slice(from, from + limit);
    const more = from + limit < listing.length;
    const last = slice[slice.length - 1];
    return {
      status: 200,
      body: { results: slice.map((c) => toWire(c, wanted)), ...(more && last ? { paging: { next: { after: String(last.seq), link: `${CONTACTS_PATH}?after=${last.seq}` } } } : {}) },
    };
  };

  /** A write as search will see it, `searchLagMs` from now. */
  const index = (c: StoredContact): void => {
    c.indexed.push({ properties: { ...c.properties }, updatedAt: c.updatedAt, visibleAt: Date.now() + searchLagMs });
  };

  /** The newest version of `c` the search index shows at `t`, or undefined while its first write is not indexed. */
  const visibleVersion = (c: StoredContact, t: number): StoredContact["indexed"][number] | undefined => {
    for (let i = c.indexed.length - 1; i >= 0; i--) {
      const v = c.indexed[i];
      if (v && v.visibleAt <= t) {
        // Older versions can never be shown again: drop them.
        if (i > 0) c.indexed.splice(0, i);
        return v;
      }
    }
    return undefined;
  };

  const invalid = (message: string): { status: number; body: unknown } => ({ status: 400, body: errorBody(message, "VALIDATION_ERROR") });

  /** A property's value as search compares it: datetimes and numbers as numbers, the rest as text. */
  const comparable = (name: string, value: string): number | string => {
    const type = properties.get(name)?.type;
    if (type === "datetime" || type === "date") return /^-?\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (type === "number") return Number(value);
    return value;
  };

  const matches = (props: Record<string, string>, f: SearchFilter): boolean => {
    const raw = props[f.propertyName];
    // Undocumented: a filter on a property the contact does not have matches only NEQ.
    if (raw === undefined) return f.operator === "NEQ";
    const a = comparable(f.propertyName, raw);
    const b = comparable(f.propertyName, f.value);
    switch (f.operator) {
      case "EQ":
        return a === b;
      case "NEQ":
        return a !== b;
      case "LT":
        return a < b;
      case "LTE":
        return a <= b;
      case "GT":
        return a > b;
      case "GTE":
        return a >= b;
    }
  };

  /** Parses a search body as HubSpot documents it; a message for the 400 when it is not valid. */
  const parseSearch = (
    body: unknown,
  ): { limit: number; after: number; groups: SearchFilter[][]; sort?: { name: string; descending: boolean }; wanted?: string[] } | string => {
    if (body === undefined) body = {};
    if (!isObject(body)) return "the request body must be a JSON object";
    const limit = body.limit ?? DEFAULT_SEARCH_LIMIT;
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) return `limit must be between 1 and ${MAX_SEARCH_LIMIT}, got ${JSON.stringify(limit)}`;
    const afterRaw = body.after ?? "0";
    // Undocumented: the cursor is opaque in HubSpot; here it is the offset of the next result.
    const after = typeof afterRaw === "string" && /^\d+$/.test(afterRaw) ? Number(afterRaw) : typeof afterRaw === "number" && Number.isInteger(afterRaw) && afterRaw >= 0 ? afterRaw : NaN;
    if (Number.isNaN(after)) return "after is not a valid paging cursor";
    if (body.query !== undefined) return "query is not emulated: use filterGroups";
    const groupsRaw = body.filterGroups ?? [];
    if (!Array.isArray(groupsRaw) || groupsRaw.length > MAX_FILTER_GROUPS) return `filterGroups must be an array of at most ${MAX_FILTER_GROUPS} groups`;
    const groups: SearchFilter[][] = [];
    for (const g of groupsRaw) {
      if (!isObject(g) || !Array.isArray(g.filters) || g.filters.length > MAX_FILTERS_PER_GROUP) return `each filter group must be {filters: [...]} with at most ${MAX_FILTERS_PER_GROUP} filters`;
      const filters: SearchFilter[] = [];
      for (const f of g.filters as unknown[]) {
        if (!isObject(f) || typeof f.propertyName !== "string" || typeof f.operator !== "string") return "a filter needs propertyName and operator";
        if (!(OPERATORS as readonly string[]).includes(f.operator)) return `operator ${f.operator} is not emulated (use ${OPERATORS.join(", ")})`;
        if (!properties.has(f.propertyName)) return `Property '${f.propertyName}' does not exist`;
        if (typeof f.value !== "string" && typeof f.value !== "number") return `filter on ${f.propertyName}: value must be a string`;
        filters.push({ propertyName: f.propertyName, operator: f.operator as Operator, value: String(f.value) });
      }
      groups.push(filters);
    }
    const sortsRaw = body.sorts ?? [];
    if (!Array.isArray(sortsRaw) || sortsRaw.length > 1) return "sorts: at most one sort rule";
    let sort: { name: string; descending: boolean } | undefined;
    const s0: unknown = sortsRaw[0];
    if (typeof s0 === "string") sort = { name: s0.replace(/^-/, ""), descending: s0.startsWith("-") };
    else if (isObject(s0)) {
      if (typeof s0.propertyName !== "string") return "a sort needs propertyName";
      const direction = s0.direction ?? "ASCENDING";
      if (direction !== "ASCENDING" && direction !== "DESCENDING") return "sort direction must be ASCENDING or DESCENDING";
      sort = { name: s0.propertyName, descending: direction === "DESCENDING" };
    } else if (s0 !== undefined) return "a sort must be an object or a property name";
    if (sort && !properties.has(sort.name)) return `Property '${sort.name}' does not exist`;
    const wantedRaw = body.properties;
    if (wantedRaw !== undefined && (!Array.isArray(wantedRaw) || !wantedRaw.every((w) => typeof w === "string"))) return "properties must be an array of names";
    return { limit, after, groups, ...(sort ? { sort } : {}), ...(wantedRaw ? { wanted: wantedRaw as string[] } : {}) };
  };

  /**
   * `POST /crm/v3/objects/contacts/search`: active contacts as the index shows them now, filtered
   * (groups OR-ed, filters AND-ed), sorted by at most one property, paged by offset; never past the
   * first 10,000 results of a query.
   */
  const searchContacts = (body: unknown): { status: number; body: unknown; headers?: Record<string, string> } => {
    const q = parseSearch(body);
    if (typeof q === "string") return invalid(q);
    const injected = faultFor("search", Math.floor(q.after / q.limit) + 1, false);
    if (injected) return injected;
    if (q.after >= SEARCH_RESULT_CAP) return invalid(`The search API returns at most ${SEARCH_RESULT_CAP} results per query; narrow the query (after=${q.after})`);
    const t = Date.now();
    const hits: { c: StoredContact; v: StoredContact["indexed"][number] }[] = [];
    for (const c of store) {
      if (c.archived) continue;
      const v = visibleVersion(c, t);
      if (!v) continue;
      if (q.groups.length > 0 && !q.groups.some((g) => g.every((f) => matches(v.properties, f)))) continue;
      hits.push({ c, v });
    }
    const sort = q.sort;
    if (sort) {
      const dir = sort.descending ? -1 : 1;
      const key = (h: (typeof hits)[number]): number | string => {
        const raw = h.v.properties[sort.name];
        return raw === undefined ? "" : comparable(sort.name, raw);
      };
      // Undocumented: HubSpot's order of ties; here by id.
      hits.sort((a, b) => {
        const ka = key(a);
        const kb = key(b);
        return (ka < kb ? -dir : ka > kb ? dir : 0) || a.c.seq - b.c.seq;
      });
    }
    const end = Math.min(q.after + q.limit, SEARCH_RESULT_CAP, hits.length);
    const page = hits.slice(q.after, end);
    const names = q.wanted ?? [...SEARCH_DEFAULT_PROPERTIES];
    const results = page.map(({ c, v }) => {
      const props: Record<string, string | null> = {};
      for (const name of DEFAULT_RETURNED) props[name] = v.properties[name] ?? null;
      for (const name of names) if (properties.has(name)) props[name] = v.properties[name] ?? null;
      return { id: c.id, properties: props, createdAt: c.createdAt, updatedAt: v.updatedAt, archived: false };
    });
    const next = q.after + q.limit;
    return {
      status: 200,
      body: { total: hits.length, results, ...(next < hits.length ? { paging: { next: { after: String(next), link: `?after=${next}` } } } : {}) },
    };
  };

  /** Merged-away ids → the id they were merged into (HubSpot resolves them on a read by id). */
  const mergedInto = new Map<string, string>();

  /**
   * `POST /crm/v3/objects/contacts/batch/read?archived=…`: 200 when every id is found, else 207 with
   * an `OBJECT_NOT_FOUND` error naming the missing ids in `context.ids`. `archived=true` returns only
   * archived contacts (Undocumented: whether it also returns live ones; here it does not).
   */
  const batchRead = (query: URLSearchParams, body: unknown): { status: number; body: unknown } => {
    const archivedText = query.get("archived") ?? "false";
    if (archivedText !== "true" && archivedText !== "false") return { status: 400, body: errorBody(`archived must be true or false`, "VALIDATION_ERROR") };
    const archived = archivedText === "true";
    if (!isObject(body) || !Array.isArray(body.inputs) || !body.inputs.every((i) => isObject(i) && typeof i.id === "string")) return { status: 400, body: errorBody("inputs must be a list of {id} with string ids", "VALIDATION_ERROR") };
    if (body.inputs.length > MAX_BATCH_INPUTS) return { status: 400, body: errorBody(`Batch input contains ${body.inputs.length} inputs, more than the limit of ${MAX_BATCH_INPUTS}`, "VALIDATION_ERROR") };
    if (body.properties !== undefined && (!Array.isArray(body.properties) || !body.properties.every((x) => typeof x === "string"))) return { status: 400, body: errorBody("properties must be a list of strings", "VALIDATION_ERROR") };
    if (body.idProperty !== undefined && body.idProperty !== "hs_object_id") return { status: 400, body: errorBody(`idProperty ${String(body.idProperty)} is not a unique property`, "VALIDATION_ERROR") };
    const wanted = (body.properties ?? []) as string[];
    const results: Record<string, unknown>[] = [];
    const missing: string[] = [];
    const seen = new Set<string>();
    for (const input of body.inputs as { id: string }[]) {
      const id = mergedInto.get(input.id) ?? input.id;
      const c = byId.get(id);
      if (!c || c.archived !== archived) {
        missing.push(input.id);
        continue;
      }
      if (seen.has(id)) continue;
      seen.add(id);
      results.push(toWire(c, wanted));
    }
    const at = now();
    const base = { status: "COMPLETE", results, startedAt: at, completedAt: at };
    if (!missing.length) return { status: 200, body: base };
    const error = { status: "error", category: "OBJECT_NOT_FOUND", message: "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.", context: { ids: missing } };
    return { status: 207, body: { ...base, numErrors: 1, errors: [error] } };
  };

  const answer = (method: string | undefined, url: URL, authorization: string | undefined, body: unknown): { status: number; body: unknown; headers?: Record<string, string> } => {
    const route =
      method === "GET" && url.pathname === CONTACTS_PATH
        ? "contacts"
        : method === "GET" && url.pathname === PROPERTIES_PATH
          ? "properties"
          : method === "POST" && url.pathname === SEARCH_PATH
            ? "search"
            : method === "POST" && url.pathname === BATCH_READ_PATH
              ? "batch"
              : undefined;
    bump(stats.current.byRoute, route ? `${method} ${url.pathname}` : "unmatched");
    const auth = authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : "";
    if (!tokens.has(token)) return { status: 401, body: unauthorized() };
    if (!route) return { status: 404, body: errorBody(`Unable to route ${method} ${url.pathname}`, "OBJECT_NOT_FOUND") };
    const policy = overLimit(token, route === "search");
    if (policy) return rateLimited(policy);
    if (body instanceof BodyError) return { status: body.status, body: errorBody(body.message, "VALIDATION_ERROR") };
    if (route === "properties") {
      const injected = faultFor("properties", 1, false);
      if (injected) return injected;
      return { status: 200, body: { results: [...properties.values()].map((d) => structuredClone(d)) } };
    }
    if (route === "search") return searchContacts(body);
    if (route === "batch") return batchRead(url.searchParams, body);
    return listContacts(url.searchParams);
  };

  const server = await startEmulatorServer({
    host: opts.host,
    port: opts.port,
    handle: async (req, res, url) => {
      // Only search takes a body; the others' is read to its end so the connection can be reused.
      let body: unknown;
      if (req.method === "POST") body = await readJsonBody(req, MAX_SEARCH_BODY_BYTES).catch((e: unknown) => (e instanceof BodyError ? e : new BodyError("Request body cannot be read")));
      else await discardBody(req);
      stats.request();
      const result = answer(req.method, url, req.headers.authorization, body);
      stats.status(result.status);
      const query: Record<string, string[]> = {};
      for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
      requestLog.push({ path: url.pathname, query, ...(body !== undefined && !(body instanceof BodyError) ? { body } : {}), status: result.status });
      if (requestLog.length > MAX_LOG_ENTRIES) requestLog.shift();
      sendJson(res, result.status, result.body, { contentType: CONTENT_TYPE, headers: result.headers });
    },
  });

  return {
    url: server.origin,
    addContacts(list) {
      const ids: string[] = [];
      for (const input of list) {
        for (const name of Object.keys(input)) {
          if (!properties.has(name)) throw new Error(`hubspot emulator: property '${name}' does not exist (setProperties first)`);
        }
        const id = String(nextId++);
        const t = now();
        const props: Record<string, string> = { hs_object_id: id, createdate: t, lastmodifieddate: t };
        for (const [k, v] of Object.entries(input)) if (v !== null && v !== undefined && !(DEFAULT_RETURNED as readonly string[]).includes(k)) props[k] = v;
        const c: StoredContact = { seq: Number(id), id, properties: props, createdAt: t, updatedAt: t, archived: false, indexed: [] };
        index(c);
        store.push(c);
        byId.set(id, c);
        ids.push(id);
      }
      return ids;
    },
    update(id, props) {
      const c = find(id);
      for (const [k, v] of Object.entries(props)) {
        if (!properties.has(k)) throw new Error(`hubspot emulator: property '${k}' does not exist`);
        if (v === null) delete c.properties[k];
        else c.properties[k] = v;
      }
      c.updatedAt = now();
      c.properties.lastmodifieddate = c.updatedAt;
      index(c);
    },
    setModified(ids, at) {
      const t = at.toISOString();
      for (const id of ids) {
        const c = find(id);
        c.updatedAt = t;
        c.properties.lastmodifieddate = t;
        index(c);
      }
    },
    setSearchLag(ms) {
      searchLagMs = ms;
    },
    archive(ids) {
      // Archiving leaves `lastmodifieddate` alone in HubSpot, which is why search cannot see it.
      for (const id of ids) {
        const c = find(id);
        c.archived = true;
        c.archivedAt = now();
      }
    },
    restore(ids) {
      for (const id of ids) {
        const c = find(id);
        c.archived = false;
        delete c.archivedAt;
      }
    },
    purge(ids) {
      for (const id of ids) {
        find(id);
        byId.delete(id);
        const i = store.findIndex((c) => c.id === id);
        store.splice(i, 1);
      }
    },
    merge(ids, into) {
      find(into);
      for (const id of ids) {
        find(id);
        byId.delete(id);
        store.splice(store.findIndex((c) => c.id === id), 1);
        mergedInto.set(id, into);
      }
    },
    setProperties: setProps,
    setLimits(l) {
      limits = { ...limits, ...Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)) };
      usage.clear();
    },
    setFault(f) {
      faults.replace(f ? { ...f } : undefined, f?.times ?? Number.POSITIVE_INFINITY);
    },
    contacts() {
      return store.map(({ seq: _seq, indexed: _indexed, ...c }) => structuredClone(c));
    },
    stats() {
      return stats.snapshot();
    },
    log() {
      return structuredClone(requestLog);
    },
    resetStats() {
      stats.reset();
      requestLog = [];
    },
    close: () => server.close(),
  };
}
