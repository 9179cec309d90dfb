/**
 * An in-process emulator of the Quo (formerly OpenPhone) public API v1, contacts part, for tests,
 * the demo and benchmarks. It speaks real HTTP/1.1 on 127.0.0.1 so the real client code runs against it.
 *
 * What it follows, in order of authority:
 *  - Quo's current description of `PATCH /v1/contacts/{id}`
 *    (https://www.quo.com/docs/mdx/api-reference/contacts/update-a-contact-by-id): a PATCH REPLACES the
 *    contact, and callers must send the complete set of emails, phone numbers and custom fields the
 *    contact is to keep; what the body leaves out is deleted. The emulator takes the strictest reading
 *    of that (see `applyContactPatch`): omitted scalars are cleared too, and `defaultFields.firstName`
 *    is required in every PATCH as on create. The older merge reading is kept as `patchMode: "merge"`
 *    for tests that show a client is right under both readings;
 *  - Quo's OpenAPI document v1 (https://www.quo.com/docs/mdx/api-reference/introduction): request and
 *    response schemas, error bodies and codes, the Kong plugins `x-kong-plugin-key-auth` and
 *    `x-kong-plugin-rate-limiting`;
 *  - Quo's API docs (https://www.quo.com/docs/mdx/api-reference/authentication, `/rate-limits`,
 *    `/changelog`): auth without Bearer, 10 requests/s per key, changelog 1.2.0 for
 *    `GET /v1/contacts`, `externalId`, `source` and the "Invalid Custom Field Item" 400;
 *  - the Maton gateway's Quo skill (the `/quo` prefix, Bearer key, User-Agent, list response and page
 *    token shape);
 *  - docs/quo-api.md for the readings it calls safe where the vendor is silent.
 * Every choice made where all of them are silent is marked "Undocumented:" below. Where a choice was
 * open, the stricter one is taken: a client that passes here should pass against Quo.
 *
 * Besides Quo's behaviour, it has switches for the seams a sync has to survive, each off by default so
 * the emulator behaves as above until a test asks: a create answered 504 (or not at all) that lands
 * later (`setLateCreates`), a 409 for an `externalId` already in use (`duplicateExternalIds`), contacts
 * returned with lists left out (`setPartialCopies`), and a hook that runs before each request so a test
 * can change the workspace at an exact moment (`onRequest`). Each says whether Quo is known to do it.
 *
 * The HTTP server, body reading, stats, random faults and the shared `/__emulator/...` admin routes
 * come from `./kit/`; what is here is Quo's.
 */
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { adminError, createAdminHandler, isAdminPath, type AdminReply, type AdminRequest } from "./kit/admin.js";
import { RandomFaults, parseRandomFaults, type RandomFaultOptions } from "./kit/faults.js";
import { BodyError, isObject, readJsonBody, sendJson } from "./kit/http.js";
import { startEmulatorServer } from "./kit/server.js";
import { bump, StatsBook } from "./kit/stats.js";

/** The PRNG random faults draw from, for tests and the soak that replay a fault run from its seed. */
export { mulberry32 } from "./kit/faults.js";

/** The custom field types `GET /v1/contact-custom-fields` can report (OpenAPI enum). */
export type CustomFieldType = "address" | "boolean" | "date" | "multi-select" | "number" | "string" | "url";

/** A workspace custom field definition, as listed by `GET /v1/contact-custom-fields`. */
export interface CustomFieldDef {
  name: string;
  key: string;
  type: CustomFieldType;
}

/** One email or phone number of a contact; `id` is assigned by Quo and is needed to update or remove it. */
export interface QuoItem {
  id: string;
  name: string;
  value: string | null;
}

/** A contact exactly as the API returns it in `data`. */
export interface EmulatedContact {
  id: string;
  externalId: string | null;
  source: string | null;
  /** A link to the contact in the system it came from; settable on create and PATCH. */
  sourceUrl: string | null;
  defaultFields: {
    firstName: string | null;
    lastName: string | null;
    company: string | null;
    role: string | null;
    emails: QuoItem[];
    phoneNumbers: QuoItem[];
  };
  customFields: { key: string; name: string; id: string; type: CustomFieldType; value: unknown }[];
  createdAt: string;
  updatedAt: string;
  createdByUserId: string;
}

/**
 * How `PATCH /v1/contacts/{id}` applies its body (see `applyContactPatch`):
 *  - "replace": Quo's documented behaviour; the body is the whole contact, what it leaves out is deleted;
 *  - "merge": only the keys present change (the reading quo-sync used to rely on).
 * Both require `defaultFields.firstName`.
 */
export type PatchMode = "replace" | "merge";

/** The HTTP methods the contacts API uses; faults can be limited to some of them. */
export type EmulatedMethod = "GET" | "POST" | "PATCH" | "DELETE";

/**
 * Injected failures. Faults are drawn from a seeded PRNG only for requests that passed auth and the
 * rate limit, so a given seed and request sequence always fails the same requests. A 500 carries the
 * spec error body; a lost response applies to writes (POST/PATCH/DELETE) only, and is lost whatever
 * it would have been (a 400 as well as a 201). `methods` defaults to all four.
 */
export type FaultOptions = RandomFaultOptions<EmulatedMethod>;

/**
 * What a create whose answer never reached the client looks like to it:
 *  - "gateway-timeout": a 504 at once, as a gateway answers when the backend is slow;
 *  - "no-answer": the connection is destroyed unanswered, as a client's own timeout sees it.
 */
export type LateCreateKind = "gateway-timeout" | "no-answer";

/** Settings of late-applied creates; see `QuoEmulator.setLateCreates`. */
export interface LateCreates {
  /** How many of the next `POST /v1/contacts` are held back (a non-negative integer; 0 holds none). */
  count: number;
  /**
   * How long after its answer each held create is applied (ms, >= 0). Left out: only when
   * `applyLateCreates()` is called, for tests that choose the moment themselves.
   */
  delayMs?: number;
  /** Default "gateway-timeout". */
  kind?: LateCreateKind;
}

/**
 * What Quo does with a second contact whose `externalId` another contact already holds:
 *  - "allow": stores it (Quo's reference neither forbids nor refuses it);
 *  - "conflict": refuses it with 409 `0800409`, as other integrations reported one environment doing.
 */
export type DuplicateExternalIds = "allow" | "conflict";

/** A list that a partial copy leaves out of a contact; see `QuoEmulator.setPartialCopies`. */
export type PartialCopyList = "phoneNumbers" | "emails" | "customFields";

/** Which contacts the API returns with lists left out, and which lists. */
export interface PartialCopies {
  /** The contacts concerned, by id; left out: every contact, those created later included. */
  ids?: string[];
  /** The lists left out of the JSON: absent, not empty. */
  omit: PartialCopyList[];
}

/** One API request as the request hook sees it (copies: changing them changes nothing). */
export interface ApiRequestInfo {
  method: EmulatedMethod;
  /** The route's name as in `EmulatorStats.byRoute`, e.g. "GET /v1/contacts", "PATCH /v1/contacts/:id". */
  route: string;
  /** The path without the Maton `/quo` prefix, e.g. "/v1/contacts/CT123" (percent-encoded as sent). */
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body of a POST or PATCH; undefined for other methods and for an empty or unreadable body. */
  body: unknown;
  /** The decoded `:id` of the routes that have one. */
  id?: string;
}

/**
 * Runs before an API request is processed; see `QuoEmulator.onRequest`. It may change the workspace
 * (`appEdit`, `appDelete`, `seedContact`, ...) and may return a promise, which is awaited.
 */
export type RequestHook = (req: ApiRequestInfo) => void | Promise<void>;

/** One write as the write listener sees it (see `QuoEmulator.onWrite`). */
export interface AppliedWrite {
  /** `performance.now()` in the emulator's process when the write changed the workspace. */
  at: number;
  kind: "create" | "update" | "delete";
  /** A copy of the contact as the write left it; a deleted contact as it was just before. */
  contact: EmulatedContact;
}

/** Told of each write right after it is applied; see `QuoEmulator.onWrite`. */
export type WriteListener = (write: AppliedWrite) => void;

/** How to start an emulator. Every field is optional. */
export interface QuoEmulatorOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (random free port). */
  port?: number;
  /** Raw Quo keys accepted as `Authorization: KEY` under `/v1`; default `["test-quo-key"]`. */
  apiKeys?: string[];
  /** Keys accepted under the `/quo` prefix as `Authorization: Bearer KEY` with a non-empty User-Agent; default []. */
  matonKeys?: string[];
  /** Allowed requests per wall-clock second per key; default 10; 0 disables limiting. */
  requestsPerSecond?: number;
  /** Delay before processing each request that passed auth and the rate limit; default 0. */
  latencyMs?: number;
  /** The workspace's custom field definitions; default []. */
  customFields?: CustomFieldDef[];
  /** "spec": `{message, code, status, docs, title, trace, errors?}`; "live": `{"error": {message, key, trace}}`; default "spec". */
  errorShape?: "spec" | "live";
  /** Injected failures; default none. */
  faults?: FaultOptions;
  /** How PATCH applies its body; default "replace" (Quo's documented behaviour). */
  patchMode?: PatchMode;
  /** Whether a write may give a contact an `externalId` another one holds; default "allow". */
  duplicateExternalIds?: DuplicateExternalIds;
}

/** Counters since start or the last `resetStats()`. Admin routes are never counted. */
export interface EmulatorStats {
  /** Every HTTP request received, including rejected ones. */
  requests: number;
  /** Per route, e.g. "POST /v1/contacts", "PATCH /v1/contacts/:id", "GET /v1/contacts"; "unmatched" for unknown routes. */
  byRoute: Record<string, number>;
  /** Per status: "200", "201", "429", ...; "lost" for responses destroyed by the lost-response fault. */
  byStatus: Record<string, number>;
  /** Writes that changed the store (including those whose response was then lost). */
  writesApplied: { create: number; update: number; delete: number };
  /** Count of 429s. */
  rateLimited: number;
  /**
   * Per accepted key, as given in `apiKeys` or `matonKeys`: the requests that passed auth with it,
   * and how many of those were answered 429. A key appears once it has been used.
   */
  byKey: Record<string, KeyCounts>;
  /**
   * Creates held back by `setLateCreates`: `held` were answered 504 or cut off, `applied` have since
   * landed (each also counts in `writesApplied.create`), `refused` were refused when their turn came
   * (an invalid body, a duplicate `externalId` under "conflict") and changed nothing.
   */
  lateCreates: { held: number; applied: number; refused: number };
}

/** One key's share of the counters. */
export interface KeyCounts {
  requests: number;
  rateLimited: number;
}

/**
 * A contact to seed: any field may be left out and gets a default (new ids, no source, no sourceUrl, the
 * app user, now). Values are stored as given, unchecked: a phone number may be raw text as a person
 * typed it in the app (`(617) 555-0145`), and an `externalId` may be one another contact holds, whatever
 * `duplicateExternalIds` says. `defaultFields` is `Omit`ted before the intersection because
 * `Partial<EmulatedContact> & {defaultFields: Partial<...>}` would intersect back to every default field
 * being required.
 */
export type SeedContactInput = Partial<Omit<EmulatedContact, "defaultFields">> & {
  defaultFields: Partial<EmulatedContact["defaultFields"]>;
  /**
   * A contact of one of Quo's native CRM integrations: read-only in Quo, so the API refuses to
   * change or delete it (403). Not part of the contact the API returns.
   */
  readOnly?: boolean;
};

/**
 * A phone number or email typed in the Quo app. A phone number is kept as typed, any non-blank text
 * (`(617) 555-0145`, `415.555.0104`); an email needs an "@".
 */
export interface AppItemInput {
  name: string;
  value: string;
}

/**
 * What a person (or another tool) changes on a contact in the Quo app; every part is optional. Applied
 * in this order: the scalars and `externalId`, `setItems`, `removeItemIds`, `addPhoneNumbers` and
 * `addEmails`, `customFields`.
 */
export interface AppEdit {
  firstName?: string | null;
  lastName?: string | null;
  company?: string | null;
  role?: string | null;
  /**
   * Re-keys the contact (1–75 characters) or, with null, clears its external id; `GET /v1/contacts?externalIds=`
   * finds it by the new one at once. Never refused as a duplicate, whatever `duplicateExternalIds` says.
   */
  externalId?: string | null;
  /** New phone numbers, kept as typed (see `AppItemInput`); each gets a fresh id. */
  addPhoneNumbers?: AppItemInput[];
  /** New emails (must contain "@"); each gets a fresh id. */
  addEmails?: AppItemInput[];
  /** Phone or email items to delete, by id. */
  removeItemIds?: string[];
  /** Change the label and/or value of existing phone or email items, by id; values checked as in `AppItemInput`. */
  setItems?: { id: string; name?: string; value?: string }[];
  /** Custom values by key, for any key defined in the workspace, typed as the field's type; null removes. */
  customFields?: Record<string, unknown>;
}

/** A running emulator. All methods act on the in-memory workspace synchronously. */
export interface QuoEmulator {
  /** Origin to use as the API base URL, e.g. `http://127.0.0.1:43210` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Deep copies of all contacts, in creation order. */
  contacts(): EmulatedContact[];
  /** A copy of the counters. */
  stats(): EmulatorStats;
  /** Zero the counters (the rate-limit windows are kept). */
  resetStats(): void;
  /** Replace the fault settings (and restart the PRNG from their seed); `undefined` turns faults off. */
  setFaults(f: FaultOptions | undefined): void;
  /** Change the processing delay. */
  setLatency(ms: number): void;
  /**
   * Make Quo refuse some requests as a real workspace can for reasons the docs do not list (a
   * conflict, a policy): `rule` sees each authenticated request and returns the error to answer
   * with (not applied), or undefined to process it normally. `undefined` removes the rule.
   */
  setRefusal(rule: RefusalRule | undefined): void;
  /** Replace the workspace's custom field definitions (in Quo only the app can do this). */
  setCustomFields(defs: CustomFieldDef[]): void;
  /** Switch how later PATCHes apply their body. */
  setPatchMode(mode: PatchMode): void;
  /**
   * Simulate a person editing a contact in the Quo app (no rate limit, not counted). Returns a deep
   * copy of the contact after the edit. Throws for an unknown contact or item id, an undefined custom
   * field key, a value of the wrong type for its custom field, a blank phone number, an email without
   * "@" or an `externalId` outside 1–75 characters; a refused edit changes nothing. Phone numbers are
   * kept as typed, E.164 or not, and the API returns them so (while it refuses them in writes).
   */
  appEdit(id: string, edit: AppEdit): EmulatedContact;
  /** Simulate a person deleting a contact in the Quo app. Throws for an unknown id. */
  appDelete(id: string): void;
  /** Seed a contact that quo-sync did not create (e.g. created in the app). Returns a copy of it. Throws on a duplicate id. */
  seedContact(c: SeedContactInput): EmulatedContact;
  /**
   * Hold back the next `count` creates (`POST /v1/contacts` that would otherwise be processed, so not
   * one answered 429, an injected 500 or a refusal): each is answered as `kind` says with no more wait
   * than the emulated latency, WITHOUT being applied, and is applied `delayMs` after its answer as
   * if the backend finished it then: it gets its id, counts in `writesApplied.create` and every read
   * sees it. A held create is judged when it is applied, so an invalid body or, under "conflict", an
   * `externalId` taken meanwhile is refused then and changes nothing. Replaces the previous settings;
   * `undefined` holds no more creates but lets those already held land. Throws for a negative or
   * fractional `count`, a negative or infinite `delayMs` or an unknown `kind`.
   */
  setLateCreates(late: LateCreates | undefined): void;
  /**
   * Apply every held create now, in the order they arrived, without waiting for their delay. Returns
   * copies of the contacts they created (a refused one creates none).
   */
  applyLateCreates(): EmulatedContact[];
  /** Switch the duplicate `externalId` policy for later writes. */
  setDuplicateExternalIds(policy: DuplicateExternalIds): void;
  /**
   * Make the API return contacts with some lists absent from the JSON, on every route that returns a
   * contact (GET by id, list pages, POST and PATCH answers); the stored contacts do not change.
   * `undefined` returns whole contacts again.
   */
  setPartialCopies(partial: PartialCopies | undefined): void;
  /**
   * Call `hook` for every API request that passed auth and the rate limit, after the emulated latency
   * and before anything else happens to it (an injected 500, a refusal, a held create, processing);
   * a returned promise is awaited. What the hook changes is what the request then sees. If the hook
   * throws or rejects, the request is answered 500 in the configured error shape with the hook's message
   * and is not processed, and the error is kept for `takeHookErrors()`. A hook that sends requests to
   * the emulator is called for those too. `undefined` removes it.
   */
  onRequest(hook: RequestHook | undefined): void;
  /** The errors the request hook threw since the last call, oldest first; the list is emptied. */
  takeHookErrors(): unknown[];
  /**
   * Call `listener` synchronously for every API write the moment it changes the workspace (before
   * the answer is sent; a held create when it lands), so a benchmark can time a change's arrival.
   * Writes that change nothing (refused, 429, injected 500) are not told. A listener that throws is
   * ignored. `undefined` removes it.
   */
  onWrite(listener: WriteListener | undefined): void;
  /** Stop listening, destroy open sockets, and drop the held creates that have not landed. */
  close(): Promise<void>;
}

/** Kong `rate-limiting` config in the OpenAPI document: `{"second": 10, "policy": "local"}`; docs: "10 requests per second". */
const DEFAULT_REQUESTS_PER_SECOND = 10;
/** `maxResults` bounds of `GET /v1/contacts` (Maton skill: "Results per page (1-50)"). */
const MAX_RESULTS_MIN = 1;
const MAX_RESULTS_MAX = 50;
/** `externalId` length, changelog 1.2.0 / docs/quo-api.md: 1–75 characters. */
const EXTERNAL_ID_MAX_CHARS = 75;
/**
 * E.164, as docs/quo-api.md and Quo's docs' "Always validate phone numbers are in E.164 format"; API
 * writes only, since the app keeps numbers as typed (see `checkAppItemValue`).
 */
const E164_PATTERN = /^\+[1-9]\d{1,14}$/;
const E164_PATTERN_TEXT = "^\\+[1-9]\\d{1,14}$";
/** Sources Quo reserves for itself (docs/quo-api.md, "Creating a contact"). */
const RESERVED_SOURCES = new Set(["openphone", "device", "csv", "zapier", "google-people", "other"]);
const RESERVED_SOURCE_PREFIXES = ["openphone", "csv"];
/** The `source` an API-created contact gets (OpenAPI example of the contact `source`). */
const DEFAULT_API_SOURCE = "public-api";
/** Contacts made in the Quo app have no `source` (docs/quo-api.md, "Other facts"). */
const DEFAULT_APP_SOURCE = null;
const API_USER_ID = "USpublicApi01";
const APP_USER_ID = "USappUser0001";
/** Rebuild the creation-order array once deleted entries outnumber live ones and exceed this count. */
const COMPACT_MIN_TOMBSTONES = 1024;
const SPEC_DOCS_URL = "https://openphone.com/docs";
/** Kong's own bodies: the rate-limiting plugin's 429 and the router's 404 for an unknown path. */
const RATE_LIMIT_BODY = { message: "API rate limit exceeded" };
const NO_ROUTE_BODY = { message: "no Route matched with those values" };
const MATON_PREFIX = "/quo";
const ALL_METHODS: readonly EmulatedMethod[] = ["GET", "POST", "PATCH", "DELETE"];
/** A lost response is a write's: the case where a client cannot know whether its change happened. */
const LOST_RESPONSE_METHODS: readonly EmulatedMethod[] = ["POST", "PATCH", "DELETE"];
const CUSTOM_FIELD_TYPES: readonly CustomFieldType[] = ["address", "boolean", "date", "multi-select", "number", "string", "url"];
const PATCH_MODES: readonly PatchMode[] = ["replace", "merge"];
/** The scalars of `defaultFields` besides the required `firstName`. */
const OPTIONAL_SCALARS = ["lastName", "company", "role"] as const;
/** Undocumented: what a `sourceUrl` may be; the docs only show https links, so only http(s) URLs are taken. */
const SOURCE_URL_PROTOCOLS = new Set(["http:", "https:"]);
/** The OpenAPI example code of "Invalid Custom Field Item". */
const INVALID_CUSTOM_FIELD_CODE = "0801400";
/** Admin routes that act on one contact: `/__emulator/contacts/:id/app-edit` and `/app-delete`. */
const ADMIN_CONTACT_ACTION = /^\/contacts\/([^/]+)\/(app-edit|app-delete)$/;
/** The keys an `AppEdit` may hold. */
const APP_EDIT_KEYS = new Set(["firstName", ...OPTIONAL_SCALARS, "externalId", "addPhoneNumbers", "addEmails", "removeItemIds", "setItems", "customFields"]);
const DUPLICATE_EXTERNAL_ID_POLICIES: readonly DuplicateExternalIds[] = ["allow", "conflict"];
const LATE_CREATE_KINDS: readonly LateCreateKind[] = ["gateway-timeout", "no-answer"];
const PARTIAL_COPY_LISTS: readonly PartialCopyList[] = ["phoneNumbers", "emails", "customFields"];

/** True for "replace" and "merge", the values of `PatchMode`. */
export function isPatchMode(v: unknown): v is PatchMode {
  return PATCH_MODES.includes(v as PatchMode);
}

/** True for "allow" and "conflict", the values of `DuplicateExternalIds`. */
export function isDuplicateExternalIds(v: unknown): v is DuplicateExternalIds {
  return DUPLICATE_EXTERNAL_ID_POLICIES.includes(v as DuplicateExternalIds);
}

/** One error of a spec-shaped body, in the style the OpenAPI document shows (TypeBox: path, message, schema). */
interface SchemaIssue {
  path: string;
  message: string;
  schema: Record<string, unknown>;
}

/** One rejected custom field item, as in the `0801400` example. */
interface CustomFieldIssue {
  key: string;
  reason: string;
}

/** The error a refusal rule answers with; see `QuoEmulator.setRefusal`. */
export interface Refusal {
  status: number;
  code: string;
  title: string;
  message: string;
}

/**
 * Sees each authenticated request that was not rate-limited, given an injected 500 or sent an
 * unreadable body (its method, route name as in `EmulatorStats.byRoute` and parsed body), and returns
 * the refusal to answer with instead of processing it, or undefined to process it.
 */
export type RefusalRule = (req: { method: string; route: string; body: unknown }) => Refusal | undefined;

/** A Quo error before it is shaped; codes, titles and messages are the OpenAPI examples. */
interface QuoError {
  status: number;
  code: string;
  title: string;
  message: string;
  /** Undocumented: the live shape's `key`; a snake_case name of the error. */
  key: string;
  errors?: (SchemaIssue | CustomFieldIssue)[];
  description?: string;
}

type Resource = "contacts" | "customFields";

const ERR = {
  unauthorized: (r: Resource): QuoError =>
    r === "contacts"
      ? { status: 401, code: "0800401", title: "Unauthorized", message: "You are unauthorized to access the contact", key: "unauthorized" }
      : {
          status: 401,
          code: "0700401",
          title: "Unauthorized",
          message: "You are unauthorized to access the contact custom fields",
          key: "unauthorized",
        },
  notFound: (): QuoError => ({ status: 404, code: "0800404", title: "Not Found", message: "Contact not found", key: "not_found" }),
  /**
   * Undocumented: the body of the refusal to change a native integration's contact. Quo documents
   * such contacts as read-only; the code follows the `<resource>00403`-style codes of the others.
   */
  readOnly: (): QuoError => ({
    status: 403,
    code: "0800403",
    title: "Forbidden",
    message: "This contact is managed by an integration and cannot be changed through the API",
    key: "forbidden",
  }),
  /**
   * Undocumented: the OpenAPI document lists no generic 400 for contacts; every other resource uses `<resource>00400`
   * "Bad Request" / "The input was invalid." (0100400, 0400400, 0700400...), so contacts get 0800400.
   */
  badRequest: (r: Resource, errors: SchemaIssue[]): QuoError => ({
    status: 400,
    code: r === "contacts" ? "0800400" : "0700400",
    title: "Bad Request",
    message: "The input was invalid.",
    key: "bad_request",
    errors,
  }),
  /** Changelog 1.2.0: an invalid custom field is a 400 "Invalid Custom Field Item" (example body in the OpenAPI). */
  invalidCustomField: (errors: CustomFieldIssue[]): QuoError => ({
    status: 400,
    code: INVALID_CUSTOM_FIELD_CODE,
    title: "Invalid Custom Field Item",
    message: "Request contained invalid custom field item(s)",
    key: "invalid_custom_field_item",
    description: "Invalid Custom Field Item",
    errors,
  }),
  unknown: (r: Resource): QuoError => ({
    status: 500,
    code: r === "contacts" ? "0801500" : "0701500",
    title: "Unknown Error",
    message: "An unknown error occurred",
    key: "unknown_error",
  }),
  /**
   * Not Quo's: a request whose test hook failed. Quo's 500 with the hook's message, so a client
   * handles it as any 500 and the test's output says what went wrong.
   */
  hookFailed: (r: Resource, e: unknown): QuoError => ({
    ...ERR.unknown(r),
    message: `The emulator's request hook failed: ${e instanceof Error ? e.message : String(e)}`,
  }),
  /**
   * Undocumented: the body of the 409 other integrations reported for a second contact with an
   * `externalId` already in use. The code is the contacts' Conflict code, `0800409`; the message is ours.
   */
  duplicateExternalId: (): QuoError => ({
    status: 409,
    code: "0800409",
    title: "Conflict",
    message: "A contact with this externalId already exists",
    key: "conflict",
  }),
  /**
   * Undocumented: a 504 in the error shape, for a create held back by `setLateCreates`. The message
   * is the one Kong gives when the upstream times out; the code is the contacts' 500 code with 504 in
   * place of 500.
   */
  gatewayTimeout: (): QuoError => ({
    status: 504,
    code: "0801504",
    title: "Gateway Timeout",
    message: "The upstream server is timing out",
    key: "gateway_timeout",
  }),
};

/** What a route handler answers; `applied` names the write that changed the store, if any. */
interface RouteResult {
  status: number;
  body?: unknown;
  applied?: "create" | "update" | "delete";
  /** The stored contact the write left (a deleted one: as it was), for the write listener. */
  contact?: EmulatedContact;
}

/** A create answered before it was applied (see `QuoEmulator.setLateCreates`); no `timer` when only `applyLateCreates` lands it. */
interface HeldCreate {
  body: unknown;
  timer?: ReturnType<typeof setTimeout>;
}

/** A stored contact with its creation sequence, which orders listings and page tokens. */
interface ContactRecord {
  seq: number;
  deleted: boolean;
  contact: EmulatedContact;
}

/** A validated email or phone item of a write. */
interface ItemInput {
  id?: string;
  name: string;
  value: string | null;
}

/** A validated custom field value of a write. */
interface CustomValueInput {
  def: CustomFieldDef;
  value: unknown;
}

/** A validated create or update body: only the keys present in the request are set. */
interface WriteInput {
  firstName?: string;
  lastName?: string | null;
  company?: string | null;
  role?: string | null;
  emails?: ItemInput[];
  phoneNumbers?: ItemInput[];
  customFields?: CustomValueInput[];
  externalId?: string | null;
  source?: string;
  sourceUrl?: string | null;
  createdByUserId?: string;
}

/** What `applyContactPatch` needs besides the contact and the body. */
export interface ContactPatchOptions {
  /** The workspace's custom field definitions (`GET /v1/contact-custom-fields`). */
  customFields: readonly CustomFieldDef[];
  mode: PatchMode;
  /** Makes the id of a new email ("EM") or phone ("PH") item; called only for a PATCH that is accepted. */
  newId: (prefix: "EM" | "PH") => string;
  /** The contact's new `updatedAt`; default the current time. */
  now?: string;
}

/** A PATCH Quo refuses: the status, code, message and `errors` of its spec error body. */
export interface ContactPatchRefusal {
  ok: false;
  status: number;
  code: string;
  message: string;
  errors?: unknown[];
}

/** The outcome of `applyContactPatch`: the contact as Quo holds it afterwards, or the refusal. */
export type ContactPatchResult = { ok: true; contact: EmulatedContact } | ContactPatchRefusal;

type Route =
  | { name: "GET /v1/contacts"; resource: "contacts" }
  | { name: "POST /v1/contacts"; resource: "contacts" }
  | { name: "GET /v1/contacts/:id"; resource: "contacts"; id: string }
  | { name: "PATCH /v1/contacts/:id"; resource: "contacts"; id: string }
  | { name: "DELETE /v1/contacts/:id"; resource: "contacts"; id: string }
  | { name: "GET /v1/contact-custom-fields"; resource: "customFields" };

function has(o: Record<string, unknown>, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

function deepCopy<T>(v: T): T {
  return structuredClone(v);
}

function matchRoute(method: string, path: string): Route | undefined {
  if (path === "/v1/contacts") {
    if (method === "GET") return { name: "GET /v1/contacts", resource: "contacts" };
    if (method === "POST") return { name: "POST /v1/contacts", resource: "contacts" };
    return undefined;
  }
  if (path === "/v1/contact-custom-fields") {
    return method === "GET" ? { name: "GET /v1/contact-custom-fields", resource: "customFields" } : undefined;
  }
  const m = /^\/v1\/contacts\/([^/]+)$/.exec(path);
  if (!m || m[1] === undefined) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
  if (method === "GET") return { name: "GET /v1/contacts/:id", resource: "contacts", id };
  if (method === "PATCH") return { name: "PATCH /v1/contacts/:id", resource: "contacts", id };
  if (method === "DELETE") return { name: "DELETE /v1/contacts/:id", resource: "contacts", id };
  return undefined;
}

/** ISO 8601 date-time with a zone, as the OpenAPI `format: date-time` of date custom fields. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Checks a custom field value against its type (docs/quo-api.md: boolean → JSON boolean, number → JSON
 * number, date → ISO 8601 date-time, multi-select → array of strings, others → string). Returns the
 * value to store, or a reason. Undocumented: dates are stored as `toISOString()`, the form of the OpenAPI example
 * ("2024-09-11T04:00:00.000Z"), so what a client reads back may differ in form from what it sent.
 */
function checkCustomValue(def: CustomFieldDef, value: unknown): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (value === null) return { ok: true, value: null };
  switch (def.type) {
    case "boolean":
      return typeof value === "boolean" ? { ok: true, value } : { ok: false, reason: "Expected a boolean for a boolean field" };
    case "number":
      return typeof value === "number" && Number.isFinite(value)
        ? { ok: true, value }
        : { ok: false, reason: "Expected a finite number for a number field" };
    case "date": {
      if (typeof value !== "string" || !ISO_DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
        return { ok: false, reason: "Expected an ISO 8601 date-time string for a date field" };
      }
      return { ok: true, value: new Date(value).toISOString() };
    }
    case "multi-select":
      return Array.isArray(value) && value.every((x) => typeof x === "string")
        ? { ok: true, value: [...value] }
        : { ok: false, reason: "Expected an array of strings for a multi-select field" };
    case "address":
    case "string":
    case "url":
      return typeof value === "string" ? { ok: true, value } : { ok: false, reason: `Expected a string for a ${def.type} field` };
  }
}

/** Validates a create or update body. Collects every problem, so one 400 names them all. */
function parseWrite(
  body: unknown,
  mode: "create" | "update",
  defs: ReadonlyMap<string, CustomFieldDef>,
): { input: WriteInput; issues: SchemaIssue[]; cfIssues: CustomFieldIssue[] } {
  const issues: SchemaIssue[] = [];
  const cfIssues: CustomFieldIssue[] = [];
  const input: WriteInput = {};
  if (!isObject(body)) {
    issues.push({ path: "", message: "Expected object", schema: { type: "object" } });
    return { input, issues, cfIssues };
  }

  const df = body["defaultFields"];
  const firstNameSchema = { type: "string", minLength: 1 };
  if (df === undefined && mode === "create") {
    issues.push({ path: "/defaultFields", message: "Expected required property", schema: { type: "object" } });
  } else if (df === undefined) {
    // A PATCH replaces the contact, so one without defaultFields would leave it without a first name.
    issues.push({ path: "/defaultFields/firstName", message: "Expected required property", schema: firstNameSchema });
  } else if (!isObject(df)) {
    issues.push({ path: "/defaultFields", message: "Expected object", schema: { type: "object" } });
  } else {
    // firstName is required on create. Undocumented: the PATCH schema neither requires it nor refuses
    // null, but a PATCH replaces the contact and a contact without a first name is what the create
    // refuses, so every PATCH must carry one too (in both patch modes).
    const fn = df["firstName"];
    if (typeof fn !== "string" || fn.trim() === "") {
      issues.push({
        path: "/defaultFields/firstName",
        message: fn === undefined ? "Expected required property" : "Expected non-empty string",
        schema: firstNameSchema,
      });
    } else {
      input.firstName = fn;
    }
    for (const k of OPTIONAL_SCALARS) {
      if (!has(df, k)) continue;
      const v = df[k];
      if (v === null || typeof v === "string") input[k] = v;
      else issues.push({ path: `/defaultFields/${k}`, message: "Expected string or null", schema: { type: ["string", "null"] } });
    }
    for (const k of ["emails", "phoneNumbers"] as const) {
      if (!has(df, k)) continue;
      const items = parseItems(df[k], k, mode, issues);
      if (items) input[k] = items;
    }
  }

  if (has(body, "customFields")) {
    const cf = body["customFields"];
    if (!Array.isArray(cf)) {
      issues.push({ path: "/customFields", message: "Expected array", schema: { type: "array" } });
    } else {
      const out: CustomValueInput[] = [];
      cf.forEach((item: unknown, i) => {
        if (!isObject(item) || typeof item["key"] !== "string") {
          issues.push({ path: `/customFields/${i}/key`, message: "Expected string", schema: { type: "string" } });
          return;
        }
        if (!has(item, "value")) {
          issues.push({ path: `/customFields/${i}/value`, message: "Expected required property", schema: {} });
          return;
        }
        const key = item["key"];
        const def = defs.get(key);
        if (!def) {
          cfIssues.push({ key, reason: "Did not match any known contact custom field" });
          return;
        }
        const checked = checkCustomValue(def, item["value"]);
        if (checked.ok) out.push({ def, value: checked.value });
        else cfIssues.push({ key, reason: checked.reason });
      });
      input.customFields = out;
    }
  }

  if (has(body, "externalId")) {
    const v = body["externalId"];
    // Undocumented: null means "no external id" on create and clears it on update.
    if (v === null) input.externalId = null;
    else if (isExternalId(v)) input.externalId = v;
    else {
      issues.push({
        path: "/externalId",
        message: `Expected string length between 1 and ${EXTERNAL_ID_MAX_CHARS}`,
        schema: { type: "string", minLength: 1, maxLength: EXTERNAL_ID_MAX_CHARS },
      });
    }
  }

  if (has(body, "source")) {
    const v = body["source"];
    if (typeof v !== "string" || v === "") {
      issues.push({ path: "/source", message: "Expected non-empty string", schema: { type: "string", minLength: 1 } });
    } else if (isReservedSource(v)) {
      issues.push({
        path: "/source",
        message: "Source may not be openphone, device, csv, zapier, google-people or other, nor start with openphone or csv",
        schema: { type: "string" },
      });
    } else {
      input.source = v;
    }
  }

  if (has(body, "sourceUrl")) {
    const v = body["sourceUrl"];
    // Undocumented: like externalId, null means "none" on create and clears it on update.
    if (v === null) input.sourceUrl = null;
    else if (typeof v === "string" && isHttpUrl(v)) input.sourceUrl = v;
    else issues.push({ path: "/sourceUrl", message: "Expected string to match 'uri' format (http or https)", schema: { type: "string", format: "uri" } });
  }

  if (has(body, "createdByUserId") && mode === "create") {
    const v = body["createdByUserId"];
    if (typeof v === "string" && /^US/.test(v)) input.createdByUserId = v;
    else {
      issues.push({ path: "/createdByUserId", message: "Expected string to match '^US(.*)$'", schema: { type: "string", pattern: "^US(.*)$" } });
    }
  }

  return { input, issues, cfIssues };
}

/** True for an absolute http(s) URL, the only `sourceUrl` taken (see `SOURCE_URL_PROTOCOLS`). */
function isHttpUrl(s: string): boolean {
  try {
    return SOURCE_URL_PROTOCOLS.has(new URL(s).protocol);
  } catch {
    return false;
  }
}

/** Undocumented: the reserved-source check ignores case, the stricter reading (a client passing here passes Quo). */
function isReservedSource(s: string): boolean {
  const lower = s.toLowerCase();
  return RESERVED_SOURCES.has(lower) || RESERVED_SOURCE_PREFIXES.some((p) => lower.startsWith(p));
}

function parseItems(
  raw: unknown,
  field: "emails" | "phoneNumbers",
  mode: "create" | "update",
  issues: SchemaIssue[],
): ItemInput[] | undefined {
  const base = `/defaultFields/${field}`;
  if (!Array.isArray(raw)) {
    issues.push({ path: base, message: "Expected array", schema: { type: "array" } });
    return undefined;
  }
  const out: ItemInput[] = [];
  raw.forEach((item: unknown, i) => {
    const path = `${base}/${i}`;
    if (!isObject(item)) {
      issues.push({ path, message: "Expected object", schema: { type: "object" } });
      return;
    }
    const name = item["name"];
    const value = item["value"];
    if (typeof name !== "string") {
      issues.push({ path: `${path}/name`, message: "Expected string", schema: { type: "string" } });
      return;
    }
    if (value === null) {
      // OpenAPI: "If set to null during a patch operation, it will remove the ... item from the
      // contact". Undocumented: without an id there is nothing to remove, so that is refused; on
      // create a null value (allowed by the schema) simply stores no item.
      if (mode === "create") return;
      if (typeof item["id"] !== "string") {
        issues.push({ path: `${path}/id`, message: "Expected required property when value is null", schema: { type: "string" } });
        return;
      }
    } else if (typeof value !== "string") {
      issues.push({ path: `${path}/value`, message: "Expected string or null", schema: { type: ["string", "null"] } });
      return;
    } else if (field === "phoneNumbers" && !E164_PATTERN.test(value)) {
      // Undocumented: whether a raw number the app holds may be sent back unchanged with its id. The
      // strict reading refuses it like any other, so a client must normalise what it writes back.
      issues.push({
        path: `${path}/value`,
        message: `Expected string to match '${E164_PATTERN_TEXT}'`,
        schema: { type: "string", pattern: E164_PATTERN_TEXT },
      });
      return;
    } else if (field === "emails" && !/^[^@]+@[^@]+$/.test(value)) {
      issues.push({
        path: `${path}/value`,
        message: "Expected string to match 'email' format",
        schema: { type: "string", format: "email" },
      });
      return;
    }
    const parsed: ItemInput = { name, value };
    if (mode === "update" && has(item, "id")) {
      if (typeof item["id"] !== "string") {
        issues.push({ path: `${path}/id`, message: "Expected string", schema: { type: "string" } });
        return;
      }
      parsed.id = item["id"];
    }
    out.push(parsed);
  });
  return out;
}

/** A custom field's id, stable per key (the OpenAPI's ids are 24 hex digits). */
function customFieldId(key: string): string {
  return createHash("sha1").update(key).digest("hex").slice(0, 24);
}

/**
 * Sets custom values on `list` in place, by key. Undocumented: a contact lists only the custom fields
 * that hold a value (the Maton example shows `customFields: []`), so null removes the key's entry.
 */
function setCustomValues(list: EmulatedContact["customFields"], items: readonly CustomValueInput[]): void {
  for (const { def, value } of items) {
    const at = list.findIndex((f) => f.key === def.key);
    if (value === null) {
      if (at >= 0) list.splice(at, 1);
      continue;
    }
    const entry = { key: def.key, name: def.name, id: customFieldId(def.key), type: def.type, value };
    if (at >= 0) list[at] = entry;
    else list.push(entry);
  }
}

/**
 * The item-id problems of one list of a PATCH: an id the contact does not have, or the same id listed
 * twice. Undocumented: what Quo does with a repeated id; refusing it is the strict choice, and it makes
 * "each id is kept, changed or removed once" hold in both patch modes.
 */
function checkItemIds(stored: readonly QuoItem[], items: readonly ItemInput[] | undefined, field: "emails" | "phoneNumbers"): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const known = new Set(stored.map((x) => x.id));
  const seen = new Set<string>();
  (items ?? []).forEach((item, i) => {
    if (item.id === undefined) return;
    const path = `/defaultFields/${field}/${i}/id`;
    if (!known.has(item.id)) issues.push({ path, message: "No item with this id on the contact", schema: { type: "string" } });
    else if (seen.has(item.id)) issues.push({ path, message: "Item id listed more than once", schema: { type: "string" } });
    seen.add(item.id);
  });
  return issues;
}

/**
 * Replace mode: the list becomes the items sent, in the order sent. An item with an id keeps that id
 * (its name and value are the ones sent), `{id, value: null}` removes it, an item without id is added;
 * every stored item the body does not list is deleted, and an omitted list deletes them all.
 */
function replaceItems(items: readonly ItemInput[] | undefined, prefix: "EM" | "PH", newId: ContactPatchOptions["newId"]): QuoItem[] {
  const out: QuoItem[] = [];
  for (const item of items ?? []) {
    if (item.value !== null) out.push({ id: item.id ?? newId(prefix), name: item.name, value: item.value });
  }
  return out;
}

/**
 * Merge mode: an item with an id is updated in place (or removed by `value: null`), an item without id
 * is appended, unlisted items stay. So a blind retry of a PATCH adding an item duplicates it.
 * `checkItemIds` has already made sure every id is on the contact and listed once.
 */
function mergeItems(stored: readonly QuoItem[], items: readonly ItemInput[] | undefined, prefix: "EM" | "PH", newId: ContactPatchOptions["newId"]): QuoItem[] {
  const out = stored.map((x) => ({ ...x }));
  for (const item of items ?? []) {
    if (item.id === undefined) {
      out.push({ id: newId(prefix), name: item.name, value: item.value });
      continue;
    }
    const at = out.findIndex((x) => x.id === item.id);
    if (item.value === null) out.splice(at, 1);
    else out[at] = { id: item.id, name: item.name, value: item.value };
  }
  return out;
}

function refusalOf(e: QuoError): ContactPatchRefusal {
  const out: ContactPatchRefusal = { ok: false, status: e.status, code: e.code, message: e.message };
  if (e.errors !== undefined) out.errors = deepCopy(e.errors);
  return out;
}

/** The server's error for a refusal of `applyContactPatch`, which refuses only with these two errors. */
function quoErrorOf(r: ContactPatchRefusal): QuoError {
  return r.code === INVALID_CUSTOM_FIELD_CODE
    ? ERR.invalidCustomField((r.errors ?? []) as CustomFieldIssue[])
    : ERR.badRequest("contacts", (r.errors ?? []) as SchemaIssue[]);
}

/**
 * Applies a `PATCH /v1/contacts/{id}` body to `contact` as Quo does, without HTTP, and returns the
 * contact as Quo would hold it afterwards, or the 400 Quo would answer (then nothing changes). Pure:
 * neither `contact` nor `body` is mutated; `opts.newId` is called only for an accepted PATCH.
 *
 * In both modes `defaultFields.firstName` is required (non-blank), items and custom values are
 * validated as on create, an item id the contact does not have is refused, and `externalId`,
 * `source` and `sourceUrl` change only when sent (Quo documents them as settable, not as replaced).
 *
 * "replace" (https://www.quo.com/docs/mdx/api-reference/contacts/update-a-contact-by-id: the PATCH
 * replaces the contact, callers send the complete set of emails, phone numbers and custom fields):
 *  - `lastName`, `company`, `role`: the value sent; omitted → null. Undocumented: the docs name only
 *    the lists; clearing omitted scalars too is the strictest reading;
 *  - `emails`, `phoneNumbers`: see `replaceItems`;
 *  - `customFields`: exactly the non-null values sent; omitted → none.
 * "merge": only the keys present change; lists as `mergeItems`; custom values are set or (null)
 * removed by key and the others kept.
 */
export function applyContactPatch(contact: EmulatedContact, body: unknown, opts: ContactPatchOptions): ContactPatchResult {
  const defs = new Map(opts.customFields.map((d) => [d.key, d]));
  const { input, issues, cfIssues } = parseWrite(body, "update", defs);
  if (issues.length > 0) return refusalOf(ERR.badRequest("contacts", issues));
  if (cfIssues.length > 0) return refusalOf(ERR.invalidCustomField(cfIssues));
  const itemIssues = [
    ...checkItemIds(contact.defaultFields.emails, input.emails, "emails"),
    ...checkItemIds(contact.defaultFields.phoneNumbers, input.phoneNumbers, "phoneNumbers"),
  ];
  if (itemIssues.length > 0) return refusalOf(ERR.badRequest("contacts", itemIssues));

  const replace = opts.mode === "replace";
  const next = deepCopy(contact);
  const df = next.defaultFields;
  if (input.firstName !== undefined) df.firstName = input.firstName;
  for (const k of OPTIONAL_SCALARS) {
    const v = input[k];
    if (v !== undefined) df[k] = v;
    else if (replace) df[k] = null;
  }
  if (replace) {
    df.emails = replaceItems(input.emails, "EM", opts.newId);
    df.phoneNumbers = replaceItems(input.phoneNumbers, "PH", opts.newId);
    next.customFields = [];
  } else {
    df.emails = mergeItems(df.emails, input.emails, "EM", opts.newId);
    df.phoneNumbers = mergeItems(df.phoneNumbers, input.phoneNumbers, "PH", opts.newId);
  }
  setCustomValues(next.customFields, input.customFields ?? []);
  if (input.externalId !== undefined) next.externalId = input.externalId;
  if (input.source !== undefined) next.source = input.source;
  if (input.sourceUrl !== undefined) next.sourceUrl = input.sourceUrl;
  next.updatedAt = opts.now ?? new Date().toISOString();
  return { ok: true, contact: next };
}

function encodePageToken(rec: ContactRecord): string {
  // Base64 JSON with a `lastId`, like the tokens in the Maton skill ("eyJsYXN0SWQiOi..."): a cursor
  // after the last item returned. Undocumented: that Quo's cursor survives deletes between pages;
  // here deletes neither skip nor repeat contacts.
  return Buffer.from(JSON.stringify({ lastId: rec.contact.id, seq: rec.seq })).toString("base64");
}

function decodePageToken(token: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
    if (isObject(parsed) && typeof parsed["lastId"] === "string" && Number.isSafeInteger(parsed["seq"]) && (parsed["seq"] as number) >= 0) {
      return parsed["seq"] as number;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Reads an array query parameter in every form clients send: `a=x&a=y`, `a[]=x`, `a[0]=x`. Never splits on commas. */
function queryArray(params: URLSearchParams, name: string): string[] | undefined {
  const pattern = new RegExp(`^${name}(\\[\\d*\\])?$`);
  const out: string[] = [];
  let seen = false;
  for (const [k, v] of params) {
    if (pattern.test(k)) {
      seen = true;
      out.push(v);
    }
  }
  return seen ? out : undefined;
}

/**
 * Starts an emulator and resolves once it listens. Rejects if the port cannot be bound.
 * Routes: `/v1/...` for raw Quo keys, `/quo/v1/...` for Maton keys, `/__emulator/...` for admin.
 */
export async function startQuoEmulator(opts: QuoEmulatorOptions = {}): Promise<QuoEmulator> {
  const apiKeys = new Set(opts.apiKeys ?? ["test-quo-key"]);
  const matonKeys = new Set(opts.matonKeys ?? []);
  const rps = opts.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND;
  const errorShape = opts.errorShape ?? "spec";
  let latencyMs = opts.latencyMs ?? 0;
  let patchMode: PatchMode = opts.patchMode ?? "replace";
  let duplicateExternalIds: DuplicateExternalIds = opts.duplicateExternalIds ?? "allow";
  let customDefs = new Map<string, CustomFieldDef>();
  const faults = new RandomFaults<EmulatedMethod>({ all: ALL_METHODS, lostResponse: LOST_RESPONSE_METHODS });

  const byId = new Map<string, ContactRecord>();
  const byExternalId = new Map<string, Set<ContactRecord>>();
  let ordered: ContactRecord[] = [];
  let tombstones = 0;
  let nextSeq = 0;
  let idCounter = 0;
  const instanceTag = randomBytes(3).toString("hex");
  const windows = new Map<string, { second: number; count: number }>();
  const stats = new StatsBook<EmulatorStats>(() => ({
    requests: 0,
    byRoute: {},
    byStatus: {},
    writesApplied: { create: 0, update: 0, delete: 0 },
    rateLimited: 0,
    byKey: {},
    lateCreates: { held: 0, applied: 0, refused: 0 },
  }));

  function setCustomFields(defs: CustomFieldDef[]): void {
    customDefs = new Map(defs.map((d) => [d.key, { ...d }]));
  }
  setCustomFields(opts.customFields ?? []);

  const setFaults = (f: FaultOptions | undefined): void => faults.set(f);
  setFaults(opts.faults);
  let refusalRule: RefusalRule | undefined;
  let requestHook: RequestHook | undefined;
  let writeListener: WriteListener | undefined;
  let hookErrors: unknown[] = [];
  let partialCopies: { ids: Set<string> | undefined; omit: Set<PartialCopyList> } | undefined;
  /** What is left of `setLateCreates`: how many creates to hold yet, and how. */
  let lateCreates: { left: number; delayMs: number | undefined; kind: LateCreateKind } = { left: 0, delayMs: undefined, kind: "gateway-timeout" };
  /** Held creates not applied yet, in arrival order (a Set keeps insertion order). */
  const heldCreates = new Set<HeldCreate>();

  /** ObjectId-like 24 hex digits (the OpenAPI's contact ids are 24 hex): seconds, instance tag, counter. */
  function newId(prefix: string): string {
    idCounter += 1;
    const secs = Math.floor(Date.now() / 1000).toString(16).padStart(8, "0").slice(-8);
    return prefix + secs + instanceTag + idCounter.toString(16).padStart(10, "0");
  }

  function indexExternalId(rec: ContactRecord, add: boolean): void {
    const ext = rec.contact.externalId;
    if (ext === null) return;
    let set = byExternalId.get(ext);
    if (add) {
      if (!set) byExternalId.set(ext, (set = new Set()));
      set.add(rec);
    } else if (set) {
      set.delete(rec);
      if (set.size === 0) byExternalId.delete(ext);
    }
  }

  function insert(contact: EmulatedContact): ContactRecord {
    const rec: ContactRecord = { seq: nextSeq++, deleted: false, contact };
    byId.set(contact.id, rec);
    ordered.push(rec);
    indexExternalId(rec, true);
    return rec;
  }

  function remove(rec: ContactRecord): void {
    byId.delete(rec.contact.id);
    indexExternalId(rec, false);
    rec.deleted = true;
    tombstones += 1;
    if (tombstones >= COMPACT_MIN_TOMBSTONES && tombstones * 2 > ordered.length) {
      ordered = ordered.filter((r) => !r.deleted);
      tombstones = 0;
    }
  }

  /** First index in `ordered` whose seq is greater than `seq` (the array is sorted by seq). */
  function firstAfter(seq: number): number {
    let lo = 0;
    let hi = ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ordered[mid] as ContactRecord).seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function listContacts(params: URLSearchParams): RouteResult | QuoError {
    const issues: SchemaIssue[] = [];
    const rawMax = params.getAll("maxResults");
    let maxResults = 0;
    const maxSchema = { type: "integer", minimum: MAX_RESULTS_MIN, maximum: MAX_RESULTS_MAX };
    const only = rawMax[0];
    if (rawMax.length === 0 || only === undefined) {
      issues.push({ path: "/maxResults", message: "Expected required property", schema: maxSchema });
    } else if (rawMax.length > 1 || !/^\d+$/.test(only)) {
      issues.push({ path: "/maxResults", message: "Expected integer", schema: maxSchema });
    } else {
      maxResults = Number(only);
      if (maxResults < MAX_RESULTS_MIN) {
        issues.push({ path: "/maxResults", message: `Expected integer to be greater or equal to ${MAX_RESULTS_MIN}`, schema: maxSchema });
      } else if (maxResults > MAX_RESULTS_MAX) {
        issues.push({ path: "/maxResults", message: `Expected integer to be less or equal to ${MAX_RESULTS_MAX}`, schema: maxSchema });
      }
    }
    let after = -1;
    const token = params.get("pageToken");
    if (token !== null) {
      const seq = decodePageToken(token);
      if (seq === undefined) issues.push({ path: "/pageToken", message: "Invalid page token", schema: { type: "string" } });
      else after = seq;
    }
    if (issues.length > 0) return ERR.badRequest("contacts", issues);

    const externalIds = queryArray(params, "externalIds");
    const sources = queryArray(params, "sources");
    const sourceSet = sources ? new Set(sources) : undefined;
    const matches = (r: ContactRecord): boolean => !sourceSet || (r.contact.source !== null && sourceSet.has(r.contact.source));
    // One extra item tells whether another page exists, so the last page carries `nextPageToken: null`
    // (changelog 1.1.2) and no empty trailing page is ever needed.
    const page: ContactRecord[] = [];
    if (externalIds) {
      const found = new Set<ContactRecord>();
      for (const ext of externalIds) for (const r of byExternalId.get(ext) ?? []) if (r.seq > after && matches(r)) found.add(r);
      page.push(...[...found].sort((a, b) => a.seq - b.seq).slice(0, maxResults + 1));
    } else {
      for (let i = firstAfter(after); i < ordered.length && page.length <= maxResults; i++) {
        const r = ordered[i] as ContactRecord;
        if (!r.deleted && matches(r)) page.push(r);
      }
    }
    const more = page.length > maxResults;
    const data = page.slice(0, maxResults);
    const last = data[data.length - 1];
    return {
      status: 200,
      body: {
        data: data.map((r) => present(r.contact)),
        // Changelog 1.1.2: `totalItems` "is not returning the true total items count". It is the
        // whole workspace here, ignoring filters, so a client that trusts it goes wrong in tests too.
        totalItems: byId.size,
        nextPageToken: more && last ? encodePageToken(last) : null,
      },
    };
  }

  /** See `QuoEmulator.appEdit`. Works on a copy, so an edit that throws changes nothing. */
  function appEdit(id: string, raw: AppEdit): EmulatedContact {
    const rec = byId.get(id);
    if (!rec) throw new Error(`appEdit: no contact ${id}`);
    const edit = parseAppEdit(raw);
    const next = deepCopy(rec.contact);
    const df = next.defaultFields;
    for (const k of ["firstName", ...OPTIONAL_SCALARS] as const) {
      const v = edit[k];
      if (v !== undefined) df[k] = v;
    }
    if (edit.externalId !== undefined) next.externalId = edit.externalId;
    const find = (itemId: string): { list: QuoItem[]; at: number; phone: boolean } => {
      for (const [list, phone] of [[df.phoneNumbers, true], [df.emails, false]] as const) {
        const at = list.findIndex((x) => x.id === itemId);
        if (at >= 0) return { list, at, phone };
      }
      throw new Error(`appEdit: contact ${id} has no phone or email item ${itemId}`);
    };
    for (const set of edit.setItems ?? []) {
      const { list, at, phone } = find(set.id);
      const item = list[at] as QuoItem;
      if (set.name !== undefined) item.name = set.name;
      if (set.value !== undefined) item.value = checkAppItemValue(set.value, phone);
    }
    for (const itemId of edit.removeItemIds ?? []) {
      const { list, at } = find(itemId);
      list.splice(at, 1);
    }
    for (const p of edit.addPhoneNumbers ?? []) df.phoneNumbers.push({ id: newId("PH"), name: p.name, value: p.value });
    for (const e of edit.addEmails ?? []) df.emails.push({ id: newId("EM"), name: e.name, value: e.value });
    const values: CustomValueInput[] = [];
    for (const [key, value] of Object.entries(edit.customFields ?? {})) {
      const def = customDefs.get(key);
      if (!def) throw new Error(`appEdit: no custom field with key ${key} in the workspace`);
      const checked = checkCustomValue(def, value);
      if (!checked.ok) throw new Error(`appEdit: custom field ${key}: ${checked.reason}`);
      values.push({ def, value: checked.value });
    }
    setCustomValues(next.customFields, values);
    next.updatedAt = new Date().toISOString();
    indexExternalId(rec, false);
    rec.contact = next;
    indexExternalId(rec, true);
    return deepCopy(next);
  }

  /** True when a contact other than `self` holds `externalId`. */
  function heldByAnother(externalId: string | null, self?: ContactRecord): boolean {
    if (externalId === null) return false;
    for (const r of byExternalId.get(externalId) ?? []) if (r !== self) return true;
    return false;
  }

  /**
   * A contact as the API returns it: the stored one, or under `setPartialCopies` a copy without the
   * chosen lists. Undocumented: whether Quo ever leaves these lists out; the switch exists so a client
   * can be shown to take an absent list as "not known", never as "empty".
   */
  function present(contact: EmulatedContact): unknown {
    if (!partialCopies || (partialCopies.ids && !partialCopies.ids.has(contact.id))) return contact;
    const { omit } = partialCopies;
    const defaultFields: Partial<EmulatedContact["defaultFields"]> = { ...contact.defaultFields };
    if (omit.has("phoneNumbers")) delete defaultFields.phoneNumbers;
    if (omit.has("emails")) delete defaultFields.emails;
    const out: Partial<EmulatedContact> = { ...contact, defaultFields: defaultFields as EmulatedContact["defaultFields"] };
    if (omit.has("customFields")) delete out.customFields;
    return out;
  }

  /** Validates and stores a create; returns the stored contact or the error that refused it (nothing stored). */
  function createContact(body: unknown): EmulatedContact | QuoError {
    const { input, issues, cfIssues } = parseWrite(body, "create", customDefs);
    if (issues.length > 0) return ERR.badRequest("contacts", issues);
    if (cfIssues.length > 0) return ERR.invalidCustomField(cfIssues);
    if (duplicateExternalIds === "conflict" && heldByAnother(input.externalId ?? null)) return ERR.duplicateExternalId();
    const now = new Date().toISOString();
    const contact: EmulatedContact = {
      id: newId("CT"),
      externalId: input.externalId ?? null,
      source: input.source ?? DEFAULT_API_SOURCE,
      sourceUrl: input.sourceUrl ?? null,
      defaultFields: {
        firstName: input.firstName ?? null,
        lastName: input.lastName ?? null,
        company: input.company ?? null,
        role: input.role ?? null,
        emails: (input.emails ?? []).map((e) => ({ id: newId("EM"), name: e.name, value: e.value })),
        phoneNumbers: (input.phoneNumbers ?? []).map((p) => ({ id: newId("PH"), name: p.name, value: p.value })),
      },
      customFields: [],
      createdAt: now,
      updatedAt: now,
      createdByUserId: input.createdByUserId ?? API_USER_ID,
    };
    setCustomValues(contact.customFields, input.customFields ?? []);
    insert(contact);
    return contact;
  }

  /** Contacts of native integrations, which the API may read but not change (`SeedContactInput.readOnly`). */
  const readOnlyIds = new Set<string>();

  function updateContact(id: string, body: unknown): RouteResult | QuoError {
    const rec = byId.get(id);
    if (!rec) return ERR.notFound();
    if (readOnlyIds.has(id)) return ERR.readOnly();
    const result = applyContactPatch(rec.contact, body, { customFields: [...customDefs.values()], mode: patchMode, newId });
    if (!result.ok) return quoErrorOf(result);
    // Undocumented: only a change of externalId can conflict. A PATCH carrying the contact's own
    // externalId (every whole-contact update does) passes even where twins already share it.
    const ext = result.contact.externalId;
    if (duplicateExternalIds === "conflict" && ext !== rec.contact.externalId && heldByAnother(ext, rec)) return ERR.duplicateExternalId();
    indexExternalId(rec, false);
    rec.contact = result.contact;
    indexExternalId(rec, true);
    return { status: 200, body: { data: present(result.contact) }, applied: "update", contact: result.contact };
  }

  function handleRoute(route: Route, params: URLSearchParams, body: unknown): RouteResult | QuoError {
    switch (route.name) {
      case "GET /v1/contacts":
        return listContacts(params);
      case "POST /v1/contacts": {
        const created = createContact(body);
        return "code" in created ? created : { status: 201, body: { data: present(created) }, applied: "create", contact: created };
      }
      case "GET /v1/contacts/:id": {
        const rec = byId.get(route.id);
        return rec ? { status: 200, body: { data: present(rec.contact) } } : ERR.notFound();
      }
      case "PATCH /v1/contacts/:id":
        return updateContact(route.id, body);
      case "DELETE /v1/contacts/:id": {
        const rec = byId.get(route.id);
        if (!rec) return ERR.notFound();
        if (readOnlyIds.has(route.id)) return ERR.readOnly();
        remove(rec);
        return { status: 204, applied: "delete", contact: rec.contact };
      }
      case "GET /v1/contact-custom-fields":
        return { status: 200, body: { data: [...customDefs.values()].map((d) => ({ name: d.name, key: d.key, type: d.type })) } };
    }
  }

  function shapeError(e: QuoError): unknown {
    const trace = randomBytes(16).toString("hex");
    if (errorShape === "live") {
      // The live shape has no `errors`, so the details go into the message a person reads.
      const details = (e.errors ?? []).map((x) => ("key" in x ? `${x.key}: ${x.reason}` : `${x.path || "/"}: ${x.message}`));
      const message = details.length > 0 ? `${e.message} ${details.join("; ")}` : e.message;
      return { error: { message, key: e.key, trace } };
    }
    const body: Record<string, unknown> = {
      message: e.message,
      code: e.code,
      status: e.status,
      docs: SPEC_DOCS_URL,
      title: e.title,
      trace,
    };
    if (e.description !== undefined) body["description"] = e.description;
    if (e.errors !== undefined) body["errors"] = e.errors;
    return body;
  }

  /** Answers an API request, counting its status (admin answers go through the kit, uncounted). */
  function send(res: ServerResponse, status: number, body?: unknown): void {
    stats.status(status);
    sendJson(res, status, body);
  }

  /** Decides the credential, or the error that stops the request before the rate limit. */
  function authenticate(req: IncomingMessage, maton: boolean, resource: Resource): { key: string } | { status: number; body: unknown } {
    const auth = req.headers.authorization;
    if (maton) {
      // Maton skill: "Requests without this header will be blocked." The gateway, not Quo, answers;
      // undocumented: its body, so this one just says what is missing.
      const ua = req.headers["user-agent"];
      if (typeof ua !== "string" || ua.trim() === "") {
        const message = "The Maton gateway requires a User-Agent header";
        const trace = randomBytes(16).toString("hex");
        return {
          status: 403,
          body:
            errorShape === "live"
              ? { error: { message, key: "user_agent_required", trace } }
              : { message, status: 403, title: "Forbidden", trace },
        };
      }
      const m = /^Bearer (.+)$/.exec(auth ?? "");
      if (!m || m[1] === undefined || !matonKeys.has(m[1])) return { status: 401, body: shapeError(ERR.unauthorized(resource)) };
      return { key: `maton:${m[1]}` };
    }
    // Docs: "The Quo API does not use a Bearer token"; Kong key-auth compares the header to the key.
    if (auth === undefined || !apiKeys.has(auth)) return { status: 401, body: shapeError(ERR.unauthorized(resource)) };
    return { key: `quo:${auth}` };
  }

  /**
   * Kong rate-limiting (`second: 10`, `policy: local`): a counter per credential per wall-clock
   * second; a refused request does not consume the allowance.
   */
  function allow(key: string): boolean {
    if (rps <= 0) return true;
    const second = Math.floor(Date.now() / 1000);
    const w = windows.get(key);
    if (!w || w.second !== second) {
      windows.set(key, { second, count: 1 });
      return true;
    }
    if (w.count >= rps) return false;
    w.count += 1;
    return true;
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    stats.request();
    const method = req.method ?? "GET";
    let path = url.pathname;
    const maton = path === MATON_PREFIX || path.startsWith(`${MATON_PREFIX}/`);
    if (maton) path = path.slice(MATON_PREFIX.length);
    const route = matchRoute(method, path);
    if (!route) {
      // Kong answers unknown paths itself, before any plugin, so no auth or rate limit applies.
      bump(stats.current.byRoute, "unmatched");
      send(res, 404, NO_ROUTE_BODY);
      return;
    }
    bump(stats.current.byRoute, route.name);

    const auth = authenticate(req, maton, route.resource);
    if ("status" in auth) {
      send(res, auth.status, auth.body);
      return;
    }
    // `auth.key` is "quo:KEY" or "maton:KEY"; tests know their keys by the key alone.
    const perKey = (stats.current.byKey[auth.key.slice(auth.key.indexOf(":") + 1)] ??= { requests: 0, rateLimited: 0 });
    perKey.requests += 1;
    if (!allow(auth.key)) {
      // Docs promise no Retry-After or rate-limit headers, so none are sent; the 429 is immediate.
      stats.current.rateLimited += 1;
      perKey.rateLimited += 1;
      send(res, 429, RATE_LIMIT_BODY);
      return;
    }
    const fault = faults.decide(method);

    let body: unknown;
    let bodyError: BodyError | undefined;
    try {
      body = method === "POST" || method === "PATCH" ? await readJsonBody(req) : undefined;
    } catch (e) {
      bodyError = e instanceof BodyError ? e : new BodyError("Request body could not be read");
    }
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    if (server.closed) return;
    if (requestHook) {
      const info: ApiRequestInfo = { method: method as EmulatedMethod, route: route.name, path, query: url.searchParams, body };
      if ("id" in route) info.id = route.id;
      const failure = await runHook(requestHook, info);
      if (server.closed) return;
      if (failure) {
        send(res, 500, shapeError(ERR.hookFailed(route.resource, failure.error)));
        return;
      }
    }

    if (fault === "error") {
      send(res, 500, shapeError(ERR.unknown(route.resource)));
      return;
    }
    const refusal = !bodyError ? refusalRule?.({ method, route: route.name, body }) : undefined;
    if (refusal) {
      send(res, refusal.status, shapeError({ ...refusal, key: refusal.title.toLowerCase().replace(/\W+/g, "_") }));
      return;
    }
    let result: RouteResult | QuoError;
    if (bodyError) {
      result =
        bodyError.status === 400
          ? ERR.badRequest(route.resource, [{ path: "", message: bodyError.message, schema: { type: "object" } }])
          : { status: bodyError.status, body: { message: bodyError.message } };
    } else if (route.name === "POST /v1/contacts" && lateCreates.left > 0) {
      // A held create takes the place of any lost-response fault drawn for it: it is lost already.
      lateCreates.left -= 1;
      holdCreate(req, res, body);
      return;
    } else {
      result = handleRoute(route, url.searchParams, body);
    }
    if ("applied" in result && result.applied) {
      stats.current.writesApplied[result.applied] += 1;
      if (result.contact) tellWrite(result.applied, result.contact);
    }
    if (fault === "lost") {
      // The request was processed (a write is applied) but the client never hears back: the case
      // docs/quo-api.md warns about ("a create whose answer was lost may have happened").
      stats.status("lost");
      req.socket.destroy();
      return;
    }
    if ("code" in result) send(res, result.status, shapeError(result));
    else send(res, result.status, result.body);
  }

  /**
   * Runs the request hook on copies of the request, so it can change the workspace but not the
   * request. Returns the error it threw, kept for `takeHookErrors()`, or undefined.
   */
  async function runHook(hook: RequestHook, info: ApiRequestInfo): Promise<{ error: unknown } | undefined> {
    try {
      await hook({ ...info, query: new URLSearchParams(info.query), body: deepCopy(info.body) });
      return undefined;
    } catch (error) {
      hookErrors.push(error);
      return { error };
    }
  }

  /** Tells the write listener, if any, of a write just applied; what the listener throws is dropped. */
  function tellWrite(kind: AppliedWrite["kind"], contact: EmulatedContact): void {
    if (!writeListener) return;
    const at = performance.now();
    try {
      writeListener({ at, kind, contact: deepCopy(contact) });
    } catch {
      // A listener only observes; its failure must not change what the client is answered.
    }
  }

  /** Answers a create held by `setLateCreates` without applying it, and schedules it to land. */
  function holdCreate(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    const held: HeldCreate = { body };
    heldCreates.add(held);
    stats.current.lateCreates.held += 1;
    if (lateCreates.delayMs !== undefined) {
      held.timer = setTimeout(() => landCreate(held), lateCreates.delayMs);
      // A held create never keeps a process alive on its own; close() cancels it anyway.
      held.timer.unref();
    }
    if (lateCreates.kind === "no-answer") {
      stats.status("lost");
      req.socket.destroy();
    } else {
      send(res, 504, shapeError(ERR.gatewayTimeout()));
    }
  }

  /** Applies a held create as the backend finishing it would, once; returns the contact it made, if any. */
  function landCreate(held: HeldCreate): EmulatedContact | undefined {
    if (!heldCreates.delete(held)) return undefined;
    clearTimeout(held.timer);
    const created = createContact(held.body);
    if ("code" in created) {
      stats.current.lateCreates.refused += 1;
      return undefined;
    }
    stats.current.writesApplied.create += 1;
    stats.current.lateCreates.applied += 1;
    tellWrite("create", created);
    return deepCopy(created);
  }

  function setLateCreates(late: LateCreates | undefined): void {
    if (late === undefined) {
      lateCreates = { left: 0, delayMs: undefined, kind: "gateway-timeout" };
      return;
    }
    const reason = checkLateCreates(late);
    if (reason) throw new Error(`setLateCreates: ${reason}`);
    lateCreates = { left: late.count, delayMs: late.delayMs, kind: late.kind ?? "gateway-timeout" };
  }

  function setPartialCopies(partial: PartialCopies | undefined): void {
    partialCopies = partial ? { ids: partial.ids ? new Set(partial.ids) : undefined, omit: new Set(partial.omit) } : undefined;
  }

  /**
   * Quo's own admin routes (the kit adds stats, reset-stats, faults and latency), each the HTTP form of
   * an in-process method, for an emulator in another process:
   *  - `GET /contacts` (`contacts()`); `POST /contacts` (`seedContact`; 409 for an id already taken);
   *  - `POST /contacts/:id/app-edit` (`appEdit`; 200 with the contact) and `POST /contacts/:id/app-delete` (204);
   *  - `POST /patch-mode` `{"mode"}`, `POST /custom-fields` `[{name, key, type}]`,
   *    `POST /duplicate-external-ids` `{"policy"}` (204);
   *  - `POST /late-creates` with `LateCreates` or null (204); `POST /late-creates/apply` → 200 `{data: [contacts]}`;
   *  - `POST /partial-copies` with `PartialCopies` or null (204).
   * A refused body is a 400 `{message}`, an unknown contact a 404. The request hook has no route: a
   * function cannot be sent to another process.
   */
  function adminRoute({ method, path, body }: AdminRequest): AdminReply | undefined {
    const contactAction = method === "POST" ? ADMIN_CONTACT_ACTION.exec(path) : null;
    if (contactAction && contactAction[1] !== undefined) {
      let id: string;
      try {
        id = decodeURIComponent(contactAction[1]);
      } catch {
        return adminError(400, "Bad contact id in the path");
      }
      if (!byId.has(id)) return adminError(404, `No contact ${id}`);
      if (contactAction[2] === "app-delete") {
        api.appDelete(id);
        return { status: 204 };
      }
      try {
        return { status: 200, body: { data: api.appEdit(id, parseAppEdit(body)) } };
      } catch (e) {
        return adminError(400, e instanceof Error ? e.message : String(e));
      }
    }
    switch (`${method} ${path}`) {
      case "GET /contacts":
        return { status: 200, body: { data: api.contacts() } };
      case "POST /contacts": {
        const seed = parseSeedContact(body);
        if (typeof seed === "string") return adminError(400, seed);
        if (seed.id !== undefined && byId.has(seed.id)) return adminError(409, `Contact ${seed.id} already exists`);
        return { status: 201, body: { data: api.seedContact(seed) } };
      }
      case "POST /patch-mode": {
        const mode = isObject(body) ? body["mode"] : undefined;
        if (!isPatchMode(mode)) return adminError(400, `Expected {"mode": ${PATCH_MODES.map((m) => `"${m}"`).join(" | ")}}`);
        patchMode = mode;
        return { status: 204 };
      }
      case "POST /custom-fields": {
        const defs = parseCustomFieldDefs(body);
        if (typeof defs === "string") return adminError(400, defs);
        setCustomFields(defs);
        return { status: 204 };
      }
      case "POST /duplicate-external-ids": {
        const policy = isObject(body) ? body["policy"] : undefined;
        if (!isDuplicateExternalIds(policy)) return adminError(400, 'Expected {"policy": "allow" | "conflict"}');
        duplicateExternalIds = policy;
        return { status: 204 };
      }
      case "POST /late-creates": {
        const late = parseLateCreates(body);
        if (typeof late === "string") return adminError(400, late);
        setLateCreates(late);
        return { status: 204 };
      }
      case "POST /late-creates/apply":
        return { status: 200, body: { data: api.applyLateCreates() } };
      case "POST /partial-copies": {
        const partial = parsePartialCopies(body);
        if (typeof partial === "string") return adminError(400, partial);
        setPartialCopies(partial);
        return { status: 204 };
      }
      default:
        return undefined;
    }
  }

  const handleAdmin = createAdminHandler<FaultOptions>({
    stats: () => api.stats(),
    resetStats: () => api.resetStats(),
    parseFaults: (body) => parseRandomFaults(body, ALL_METHODS),
    setFaults,
    setLatency: (ms) => {
      latencyMs = ms;
    },
    routes: adminRoute,
  });

  const server = await startEmulatorServer({
    host: opts.host,
    port: opts.port,
    handle: (req, res, url) => (isAdminPath(url.pathname) ? handleAdmin(req, res, url) : handleApi(req, res, url)),
  });

  const api: QuoEmulator = {
    url: server.origin,
    port: server.port,
    contacts: () => ordered.filter((r) => !r.deleted).map((r) => deepCopy(r.contact)),
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    setFaults,
    setRefusal(rule: RefusalRule | undefined) {
      refusalRule = rule;
    },
    setLatency: (ms: number) => {
      latencyMs = ms;
    },
    setCustomFields,
    setPatchMode: (mode: PatchMode) => {
      patchMode = mode;
    },
    setLateCreates,
    applyLateCreates: () => {
      const out: EmulatedContact[] = [];
      for (const held of [...heldCreates]) {
        const c = landCreate(held);
        if (c) out.push(c);
      }
      return out;
    },
    setDuplicateExternalIds: (policy: DuplicateExternalIds) => {
      duplicateExternalIds = policy;
    },
    setPartialCopies,
    onRequest: (hook: RequestHook | undefined) => {
      requestHook = hook;
    },
    onWrite: (listener: WriteListener | undefined) => {
      writeListener = listener;
    },
    takeHookErrors: () => {
      const out = hookErrors;
      hookErrors = [];
      return out;
    },
    appEdit,
    appDelete: (id) => {
      const rec = byId.get(id);
      if (!rec) throw new Error(`appDelete: no contact ${id}`);
      remove(rec);
    },
    seedContact: (c) => {
      const id = c.id ?? newId("CT");
      if (byId.has(id)) throw new Error(`seedContact: contact ${id} already exists`);
      const now = new Date().toISOString();
      const df = c.defaultFields;
      const contact: EmulatedContact = {
        id,
        externalId: c.externalId ?? null,
        source: c.source !== undefined ? c.source : DEFAULT_APP_SOURCE,
        sourceUrl: c.sourceUrl ?? null,
        defaultFields: {
          firstName: df.firstName ?? null,
          lastName: df.lastName ?? null,
          company: df.company ?? null,
          role: df.role ?? null,
          emails: (df.emails ?? []).map((e) => ({ id: e.id || newId("EM"), name: e.name, value: e.value })),
          phoneNumbers: (df.phoneNumbers ?? []).map((p) => ({ id: p.id || newId("PH"), name: p.name, value: p.value })),
        },
        customFields: deepCopy(c.customFields ?? []),
        createdAt: c.createdAt ?? now,
        updatedAt: c.updatedAt ?? c.createdAt ?? now,
        createdByUserId: c.createdByUserId ?? APP_USER_ID,
      };
      insert(contact);
      if (c.readOnly) readOnlyIds.add(id);
      return deepCopy(contact);
    },
    close: () => {
      for (const held of heldCreates) clearTimeout(held.timer);
      heldCreates.clear();
      return server.close();
    },
  };
  return api;
}

function parseCustomFieldDefs(body: unknown): CustomFieldDef[] | string {
  if (!Array.isArray(body)) return "Expected an array of {name, key, type}";
  const out: CustomFieldDef[] = [];
  for (const d of body) {
    const typeOk = isObject(d) && CUSTOM_FIELD_TYPES.includes(d["type"] as CustomFieldType);
    if (!isObject(d) || typeof d["name"] !== "string" || typeof d["key"] !== "string" || !typeOk) {
      return `Each definition needs string name and key and a type among ${CUSTOM_FIELD_TYPES.join(", ")}`;
    }
    out.push({ name: d["name"], key: d["key"], type: d["type"] as CustomFieldType });
  }
  return out;
}

/**
 * The app's own checks on a phone or email typed in: a phone is any non-blank text, an email has an
 * "@". Throws otherwise. Undocumented: that the app keeps a number as typed. Quo's docs only require
 * E.164 of API writes, and integrations report reading app-typed numbers back raw (`(617) 555-0145`);
 * holding them raw is the reading that makes a client normalise before it writes one back.
 */
function checkAppItemValue(value: string, phone: boolean): string {
  if (phone && value.trim() === "") throw new Error(`appEdit: phone number ${JSON.stringify(value)} is blank`);
  if (!phone && !value.includes("@")) throw new Error(`appEdit: email ${JSON.stringify(value)} has no "@"`);
  return value;
}

/** True for an `externalId` Quo takes: a string of 1–75 characters (counted as code points). */
function isExternalId(v: unknown): v is string {
  return typeof v === "string" && Array.from(v).length >= 1 && Array.from(v).length <= EXTERNAL_ID_MAX_CHARS;
}

/** Why `late` cannot be used as `LateCreates`, or undefined when it can. */
function checkLateCreates(late: LateCreates): string | undefined {
  if (!Number.isSafeInteger(late.count) || late.count < 0) return "count must be a non-negative integer";
  if (late.delayMs !== undefined && (typeof late.delayMs !== "number" || !Number.isFinite(late.delayMs) || late.delayMs < 0)) {
    return "delayMs must be a number >= 0";
  }
  if (late.kind !== undefined && !LATE_CREATE_KINDS.includes(late.kind)) return `kind must be one of ${LATE_CREATE_KINDS.join(", ")}`;
  return undefined;
}

/** Checks a `POST /__emulator/late-creates` body: the settings, undefined for null (hold no more), or a reason. */
function parseLateCreates(body: unknown): LateCreates | undefined | string {
  if (body === undefined || body === null) return undefined;
  if (!isObject(body)) return 'Expected {"count": n, "delayMs"?: ms, "kind"?: "gateway-timeout" | "no-answer"} or null';
  const late = { count: body["count"], delayMs: body["delayMs"], kind: body["kind"] } as LateCreates;
  return checkLateCreates(late) ?? late;
}

/** Checks a `POST /__emulator/partial-copies` body: the settings, undefined for null (whole copies), or a reason. */
function parsePartialCopies(body: unknown): PartialCopies | undefined | string {
  if (body === undefined || body === null) return undefined;
  const omit = isObject(body) ? body["omit"] : undefined;
  if (!isObject(body) || !Array.isArray(omit) || !omit.every((x) => PARTIAL_COPY_LISTS.includes(x as PartialCopyList))) {
    return `Expected {"ids"?: string[], "omit": (${PARTIAL_COPY_LISTS.map((l) => `"${l}"`).join(" | ")})[]} or null`;
  }
  const ids = body["ids"];
  if (ids !== undefined && !(Array.isArray(ids) && ids.every((x) => typeof x === "string"))) return "ids must be an array of strings";
  const out: PartialCopies = { omit: omit as PartialCopyList[] };
  if (ids !== undefined) out.ids = ids as string[];
  return out;
}

/**
 * Checks the shape of an app edit, whoever sends it (in-process callers or the admin route), and the
 * phones and emails it adds. Throws on an unknown key, so a misspelt edit is not silently a no-op.
 */
function parseAppEdit(raw: unknown): AppEdit {
  if (!isObject(raw)) throw new Error("appEdit: the edit must be an object");
  for (const k of Object.keys(raw)) if (!APP_EDIT_KEYS.has(k)) throw new Error(`appEdit: unknown edit key ${k}`);
  const out: AppEdit = {};
  for (const k of ["firstName", ...OPTIONAL_SCALARS] as const) {
    const v = raw[k];
    if (v === undefined) continue;
    if (v !== null && typeof v !== "string") throw new Error(`appEdit: ${k} must be a string or null`);
    out[k] = v;
  }
  const ext = raw["externalId"];
  if (ext !== undefined) {
    if (ext !== null && !isExternalId(ext)) throw new Error(`appEdit: externalId must be null or a string of 1 to ${EXTERNAL_ID_MAX_CHARS} characters`);
    out.externalId = ext;
  }
  const arrayOf = (k: string): unknown[] | undefined => {
    const v = raw[k];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw new Error(`appEdit: ${k} must be an array`);
    return v;
  };
  for (const [k, phone] of [["addPhoneNumbers", true], ["addEmails", false]] as const) {
    const items = arrayOf(k);
    if (!items) continue;
    out[k] = items.map((x) => {
      if (!isObject(x) || typeof x["name"] !== "string" || typeof x["value"] !== "string") {
        throw new Error(`appEdit: each of ${k} must be {name: string, value: string}`);
      }
      return { name: x["name"], value: checkAppItemValue(x["value"], phone) };
    });
  }
  const removes = arrayOf("removeItemIds");
  if (removes) {
    if (!removes.every((x): x is string => typeof x === "string")) throw new Error("appEdit: removeItemIds must be strings");
    out.removeItemIds = [...removes];
  }
  const sets = arrayOf("setItems");
  if (sets) {
    out.setItems = sets.map((x) => {
      const ok =
        isObject(x) &&
        typeof x["id"] === "string" &&
        (x["name"] === undefined || typeof x["name"] === "string") &&
        (x["value"] === undefined || typeof x["value"] === "string");
      if (!ok) throw new Error("appEdit: each of setItems must be {id: string, name?: string, value?: string}");
      const set: { id: string; name?: string; value?: string } = { id: x["id"] as string };
      if (x["name"] !== undefined) set.name = x["name"] as string;
      if (x["value"] !== undefined) set.value = x["value"] as string;
      return set;
    });
  }
  if (raw["customFields"] !== undefined) {
    if (!isObject(raw["customFields"])) throw new Error("appEdit: customFields must be an object of values by key");
    out.customFields = deepCopy(raw["customFields"]);
  }
  return out;
}

/** Checks a seed body of `POST /__emulator/contacts` against `SeedContactInput`; returns it or a reason. */
function parseSeedContact(body: unknown): SeedContactInput | string {
  if (!isObject(body) || !isObject(body["defaultFields"])) return "Expected a contact with a defaultFields object";
  const df = body["defaultFields"];
  const stringOrNull = (v: unknown): boolean => v === undefined || v === null || typeof v === "string";
  for (const k of ["externalId", "source", "sourceUrl"]) if (!stringOrNull(body[k])) return `${k} must be a string or null`;
  for (const k of ["id", "createdAt", "updatedAt", "createdByUserId"]) {
    if (body[k] !== undefined && typeof body[k] !== "string") return `${k} must be a string`;
  }
  for (const k of ["firstName", ...OPTIONAL_SCALARS]) if (!stringOrNull(df[k])) return `defaultFields.${k} must be a string or null`;
  if (body["readOnly"] !== undefined && typeof body["readOnly"] !== "boolean") return "readOnly must be a boolean";
  const seed = deepCopy(body) as SeedContactInput;
  for (const k of ["emails", "phoneNumbers"] as const) {
    const items = df[k];
    if (items === undefined) continue;
    const ok =
      Array.isArray(items) &&
      items.every((x) => isObject(x) && (x["id"] === undefined || typeof x["id"] === "string") && typeof x["name"] === "string" && stringOrNull(x["value"]));
    if (!ok) return `defaultFields.${k} must be an array of {id?: string, name: string, value: string | null}`;
    // An item without id gets one from seedContact, as an empty id does in-process.
    seed.defaultFields[k] = items.map((x: Record<string, unknown>) => ({ id: (x["id"] as string | undefined) ?? "", name: x["name"] as string, value: x["value"] as string | null }));
  }
  const cf = body["customFields"];
  if (cf !== undefined) {
    const ok =
      Array.isArray(cf) &&
      cf.every(
        (x) =>
          isObject(x) &&
          typeof x["key"] === "string" &&
          typeof x["name"] === "string" &&
          typeof x["id"] === "string" &&
          CUSTOM_FIELD_TYPES.includes(x["type"] as CustomFieldType) &&
          has(x, "value"),
      );
    if (!ok) return "customFields must be an array of {key, name, id, type, value}";
  }
  return seed;
}
