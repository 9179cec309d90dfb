/**
 * The HubSpot source connector. A full snapshot: `GET /crm/v3/objects/contacts` with `limit=100`, `after` paging and
 * exactly the properties the mapping uses. Contacts archived or purged in HubSpot drop out of the
 * snapshot and so are deleted in `mirror` mode (under the same guards). Why a full listing and not
 * search (docs/hubspot.md): search never returns archived records, archiving does not change
 * `lastmodifieddate`, and purged contacts simply vanish, so only a full listing of ids sees deletes.
 * With `incremental` and the cursor of an earlier read, only the contacts modified since are read,
 * by search (`./search-window.ts`); such a read is partial, and deletes wait for the next full one.
 * With `ctx.targets` (a webhook's contact ids), only those contacts are read, by batch read: a
 * partial read that also names the contacts found gone, which are all it can delete.
 */
import type { HubspotSourceConfig } from "../../src/config.js";
import { HUBSPOT_DEFAULT_REQUESTS_PER_10S } from "../../src/config.js";
import { ConfigError, SourceError } from "../../src/errors.js";
import { checkBaseUrl } from "../../src/net/base-url.js";
import type { SourceRow } from "../../src/model.js";
import type { CheckResult, ConnectorContext, SourceConnector, SourceItem } from "../types.js";
import { checkProperties } from "./check-properties.js";
import { HubspotClient, type HubspotContact } from "./hubspot-client.js";
import { createHash } from "node:crypto";
import { HUBSPOT_DEFAULT_API_URL, HUBSPOT_MAX_BATCH_READ_INPUTS, HUBSPOT_MAX_PAGE_SIZE, HUBSPOT_SEARCH_OVERLAP_MS } from "./limits.js";
import { modifiedAt, MODIFIED_PROPERTY, searchModifiedSince } from "./search-window.js";

/** HubSpot's record id property; when a listing leaves it out, the record's `id` is the same value. */
const OBJECT_ID_PROPERTY = "hs_object_id";

/** Knobs of the client that tests turn down; production uses the defaults of ./limits.ts. */
export interface HubspotConnectorOptions {
  /** Length of the rolling window `requestsPer10Seconds` counts in; default 10 s. */
  windowMs?: number;
  maxRetries?: number;
  retryBaseDelayMs?: number;
  rateLimitBaseDelayMs?: number;
  timeoutMs?: number;
}

/** What a read needs from the environment, checked before any request. */
interface HubspotSettings {
  baseUrl: string;
  token: string;
}

/**
 * `HUBSPOT_ACCESS_TOKEN` and `HUBSPOT_API_URL` (README.md, "Environment"). Throws `ConfigError`
 * naming the variable, never echoing a value (a mistyped URL may be a pasted secret).
 */
function resolveSettings(env: NodeJS.ProcessEnv): HubspotSettings {
  const token = env.HUBSPOT_ACCESS_TOKEN?.trim();
  if (!token) {
    throw new ConfigError(
      "HUBSPOT_ACCESS_TOKEN is not set: create a private app in HubSpot (Settings → Integrations → Private apps) with the scopes crm.objects.contacts.read and crm.schemas.contacts.read, and set its access token",
    );
  }
  const baseUrl = checkBaseUrl(env.HUBSPOT_API_URL?.trim() || HUBSPOT_DEFAULT_API_URL, { variable: "HUBSPOT_API_URL", example: HUBSPOT_DEFAULT_API_URL });
  return { baseUrl, token };
}

/** The properties a read asks for: the mapping's (key first), then the config's extra ones, once each. */
export function requestedProperties(config: HubspotSourceConfig, ctx: ConnectorContext): string[] {
  return [...new Set([...ctx.wanted, ...(config.properties ?? [])])];
}

/** Sets `values[name]` as an own property even for the name "__proto__", which `=` would swallow. */
function setValue(values: Record<string, string>, name: string, value: string): void {
  if (name === "__proto__") Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true });
  else values[name] = value;
}

/** One contact as a row: HubSpot sends values as strings or null; null and absent read as "". */
function toRow(contact: HubspotContact, ordinal: number, columns: readonly string[]): SourceRow {
  const values: Record<string, string> = {};
  for (const name of columns) {
    let value = contact.properties[name];
    if ((value === undefined || value === null) && name === OBJECT_ID_PROPERTY) value = contact.id;
    setValue(values, name, value === undefined || value === null ? "" : String(value));
  }
  return { row: ordinal, values };
}

function newClient(settings: HubspotSettings, config: HubspotSourceConfig, opts: HubspotConnectorOptions): HubspotClient {
  return new HubspotClient({
    baseUrl: settings.baseUrl,
    token: settings.token,
    requestsPerWindow: config.requestsPer10Seconds ?? HUBSPOT_DEFAULT_REQUESTS_PER_10S,
    ...opts,
  });
}

/**
 * Where an incremental read resumes: the newest `lastmodifieddate` applied (epoch ms), and what the
 * reads it continues asked for. Contacts not modified since were read with those properties and that
 * `archived` choice only, so when either changes, the next read is a full one.
 */
export interface HubspotCursor {
  watermark: number;
  properties: string[];
  archived: "drop" | "keep";
}

/** `raw` as a cursor this read can continue from, or null (none, malformed, or for other properties). */
export function usableCursor(raw: unknown, columns: readonly string[], archived: "drop" | "keep"): HubspotCursor | null {
  if (typeof raw !== "object" || raw === null) return null;
  const c = raw as Partial<HubspotCursor>;
  if (typeof c.watermark !== "number" || !Number.isFinite(c.watermark) || !Array.isArray(c.properties) || c.archived !== archived) return null;
  const same = c.properties.length === columns.length && [...c.properties].sort().join("\0") === [...columns].sort().join("\0");
  return same ? { watermark: c.watermark, properties: [...c.properties], archived } : null;
}

/**
 * The next watermark after a read that started at `started` (this host's clock) and read contacts
 * up to `newest`: the newest `lastmodifieddate` read, but not past the read's start (a contact edited
 * while the read ran may have been read before its edit); and at least the read's start minus the
 * overlap, since anything older the search did not show would have had to lag by more than the
 * overlap. Without that floor, the contacts of one bulk timestamp would be read again on every run.
 * Never moves back.
 */
export function nextWatermark(previous: number | null, newest: number | null, started: number): number {
  const read = newest === null ? Number.NEGATIVE_INFINITY : Math.min(newest, started);
  return Math.max(previous ?? Number.NEGATIVE_INFINITY, read, started - HUBSPOT_SEARCH_OVERLAP_MS);
}

/**
 * The contacts modified since `cursor.watermark` minus `HUBSPOT_SEARCH_OVERLAP_MS`, as rows
 * numbered in the order read, then the next cursor (partial; see `nextWatermark`). The property
 * names were checked by the full read the cursor descends from, so this costs no request but the
 * searches: one when nothing changed.
 */
async function* readModified(client: HubspotClient, cursor: HubspotCursor, columns: string[], ctx: ConnectorContext): AsyncGenerator<SourceItem> {
  const started = Date.now();
  const since = cursor.watermark - HUBSPOT_SEARCH_OVERLAP_MS;
  const found = await searchModifiedSince((request, what) => client.searchContacts(request, what), { since, properties: columns });
  ctx.log?.(`read ${found.contacts.length} HubSpot contacts modified since ${new Date(since).toISOString()} (incremental, ${found.requests} search requests)`);
  yield { type: "header", columns };
  let ordinal = 0;
  for (const contact of found.contacts) yield { type: "row", row: toRow(contact, ++ordinal, columns) };
  if (found.newest !== null) ctx.sourceChanged?.(found.newest);
  yield { type: "cursor", cursor: { ...cursor, watermark: nextWatermark(cursor.watermark, found.newest, started) } satisfies HubspotCursor, partial: true };
}

/**
 * Property lists this process has checked against the account, per (origin, token digest): a
 * targeted read reuses the check of an earlier read instead of paying a request for it each time.
 */
const checkedProperties = new Set<string>();

function checkedId(settings: HubspotSettings, columns: readonly string[]): string {
  return `${settings.baseUrl}\0${createHash("sha256").update(settings.token).digest("hex")}\0${[...columns].sort().join(",")}`;
}

/** Checks the property names once per process and list (HubSpot silently leaves out unknown ones). */
async function ensureProperties(client: HubspotClient, settings: HubspotSettings, columns: readonly string[]): Promise<void> {
  const id = checkedId(settings, columns);
  if (checkedProperties.has(id)) return;
  checkProperties(columns, await client.listProperties());
  checkedProperties.add(id);
}

/** Batch reads `ids` in chunks of `HUBSPOT_MAX_BATCH_READ_INPUTS`: the contacts found and the ids missing. */
async function readByIds(client: HubspotClient, ids: readonly string[], properties: readonly string[], archived: boolean): Promise<{ found: HubspotContact[]; missing: string[]; requests: number }> {
  const found: HubspotContact[] = [];
  const missing: string[] = [];
  let requests = 0;
  for (let i = 0; i < ids.length; i += HUBSPOT_MAX_BATCH_READ_INPUTS) {
    const r = await client.batchReadContacts({ properties, ids: ids.slice(i, i + HUBSPOT_MAX_BATCH_READ_INPUTS), archived });
    requests++;
    found.push(...r.results);
    missing.push(...r.missing);
  }
  return { found, missing, requests };
}

/**
 * A targeted read (a webhook's contact ids): the live contacts among `ids` by batch read, one
 * request per 100 ids; then, only when it matters, the missing ones again among archived contacts
 * (with `archived: "keep"` they are still rows; else they are gone, and reading them tells their key
 * when the key is another property). Ids in `gone` (merged away) are not read: HubSpot answers a
 * merged-away id with the contact it was merged into. Yields no cursor: the incremental watermark
 * stays where it was.
 */
async function* readTargeted(client: HubspotClient, settings: HubspotSettings, config: HubspotSourceConfig, ctx: ConnectorContext, targets: NonNullable<ConnectorContext["targets"]>): AsyncGenerator<SourceItem> {
  const columns = requestedProperties(config, ctx);
  await ensureProperties(client, settings, columns);
  yield { type: "header", columns };
  const byId = targets.key === OBJECT_ID_PROPERTY;
  const goneIds = new Set(targets.gone);
  const ids = [...new Set(targets.ids)].filter((id) => !goneIds.has(id));
  const live = ids.length ? await readByIds(client, ids, columns, false) : { found: [], missing: [], requests: 0 };
  let ordinal = 0;
  for (const contact of live.found) yield { type: "row", row: toRow(contact, ++ordinal, columns) };
  const gone: string[] = [];
  const unmapped: string[] = [];
  let requests = live.requests;
  let missing = live.missing;
  if (missing.length && (config.archived === "keep" || !byId)) {
    const archived = await readByIds(client, missing, columns, true);
    requests += archived.requests;
    for (const contact of archived.found) {
      if (config.archived === "keep") yield { type: "row", row: toRow(contact, ++ordinal, columns) };
      else gone.push(toRow(contact, 0, [targets.key]).values[targets.key] ?? "");
    }
    missing = archived.missing;
  }
  for (const id of [...missing, ...goneIds]) {
    if (byId) gone.push(id);
    else unmapped.push(id);
  }
  ctx.log?.(`read ${ordinal} HubSpot contacts by id (targeted, ${requests} batch read requests); ${gone.length + unmapped.length} gone`);
  yield { type: "targeted", gone: [...new Set(gone.filter(Boolean))], unmapped };
}

/**
 * The snapshot: the header (the requested properties), then every contact, in HubSpot's listing
 * order, `row` being its 1-based ordinal in the listing (model.ts: "for a CRM, the record's ordinal
 * in the listing"); with `archived: "keep"` the archived listing follows the active one and its
 * ordinals continue. A contact seen twice (archived while the listings ran) is yielded once.
 *
 * Rows are streamed page by page; a page that fails after retries throws `SourceError`, and the run
 * collects the whole snapshot before planning, so a partial listing never reaches the planner
 * (either the snapshot is complete or the run stops).
 */
async function* readHubspot(config: HubspotSourceConfig, ctx: ConnectorContext, opts: HubspotConnectorOptions): AsyncGenerator<SourceItem> {
  const settings = resolveSettings(ctx.env);
  const columns = requestedProperties(config, ctx);
  const client = newClient(settings, config, opts);
  if (ctx.targets) {
    yield* readTargeted(client, settings, config, ctx, ctx.targets);
    return;
  }
  const incremental = config.incremental !== undefined;
  const cursor = incremental ? usableCursor(ctx.cursor, columns, config.archived) : null;
  if (cursor) {
    yield* readModified(client, cursor, columns, ctx);
    return;
  }
  if (incremental && ctx.cursor !== undefined && ctx.cursor !== null) ctx.log?.("the properties read (or archived) changed since the last HubSpot read: reading every contact");
  checkProperties(columns, await client.listProperties());
  checkedProperties.add(checkedId(settings, columns));
  yield { type: "header", columns };

  const started = Date.now();
  // An incremental source also needs each contact's `lastmodifieddate`, for the watermark.
  const asked = incremental ? [...new Set([...columns, MODIFIED_PROPERTY])] : columns;
  let newest: number | null = null;
  const listings = config.archived === "keep" ? [false, true] : [false];
  const seen = new Set<string>();
  let ordinal = 0;
  for (const archived of listings) {
    const cursors = new Set<string>();
    let after: string | undefined;
    for (let page = 1; ; page++) {
      const result = await client.listContacts({ properties: asked, limit: HUBSPOT_MAX_PAGE_SIZE, archived, page, ...(after !== undefined ? { after } : {}) });
      for (const contact of result.results) {
        const id = String(contact.id);
        if (seen.has(id)) continue;
        seen.add(id);
        ordinal += 1;
        const t = modifiedAt(contact);
        if (Number.isFinite(t) && (newest === null || t > newest)) newest = t;
        yield { type: "row", row: toRow(contact, ordinal, columns) };
      }
      if (result.after === undefined) break;
      // A cursor that comes back would page forever and never complete the snapshot.
      if (cursors.has(result.after)) {
        throw new SourceError(`reading page ${page} of HubSpot's contacts: the paging cursor '${result.after}' came back a second time; the run stopped before any change`);
      }
      cursors.add(result.after);
      after = result.after;
    }
  }
  // The newest `lastmodifieddate` (else `updatedAt`, which the listing always sends) read.
  if (newest !== null) ctx.sourceChanged?.(newest);
  if (incremental) yield { type: "cursor", cursor: { watermark: nextWatermark(null, newest, started), properties: columns, archived: config.archived } satisfies HubspotCursor, partial: false };
}

/**
 * Builds a HubSpot connector. `read` throws `ConfigError` when `HUBSPOT_ACCESS_TOKEN` is missing,
 * `HUBSPOT_API_URL` is not an http(s) URL or a requested property does not exist (naming the
 * closest ones), and `SourceError` when HubSpot cannot be read completely: 401 (bad token), 403
 * (missing scope), a `DAILY` 429, or a page still failing after retries. Nothing is yielded past a
 * failure, and no message contains the token. `check` reports the same through its result, and
 * reads the property list and one contact.
 */
export function createHubspotConnector(opts: HubspotConnectorOptions = {}): SourceConnector<HubspotSourceConfig> {
  return {
    type: "hubspot",

    async check(config: HubspotSourceConfig, ctx: ConnectorContext): Promise<CheckResult> {
      try {
        const settings = resolveSettings(ctx.env);
        const columns = requestedProperties(config, ctx);
        const client = newClient(settings, config, opts);
        checkProperties(columns, await client.listProperties());
        await client.listContacts({ properties: columns, limit: 1, archived: false, page: 1 });
        return { ok: true };
      } catch (err) {
        // `check` reports whatever went wrong, even a failure this code did not foresee.
        return { ok: false, message: err instanceof Error ? err.message : String(err) };
      }
    },

    read(config: HubspotSourceConfig, ctx: ConnectorContext): AsyncIterable<SourceItem> {
      return readHubspot(config, ctx, opts);
    },
  };
}

/** The HubSpot connector with production limits (see `createHubspotConnector` for what it throws). */
export const hubspotConnector: SourceConnector<HubspotSourceConfig> = createHubspotConnector();
