/**
 * Reading the contacts modified since a time with HubSpot's CRM search, whatever their number
 * (docs/hubspot.md, "Incremental reads"). Two limits shape it: a search query pages through at
 * most 10,000 results, and many contacts can share one `lastmodifieddate` (a bulk import, a
 * workflow run at month end), more than 10,000 of them at times.
 *
 * So every page is a query of its own, resumed from where the previous page ended (keyset paging):
 *  - by time: `lastmodifieddate GTE t`, sorted by `lastmodifieddate` ascending, `t` the last
 *    timestamp of the page before (the contacts at `t` are read again, and deduplicated by id);
 *  - by id, when a whole page shares one timestamp `t` (the window cannot advance by time):
 *    `lastmodifieddate EQ t AND hs_object_id GT lastId`, sorted by `hs_object_id` ascending,
 *    until that timestamp is exhausted; then by time again from just after `t`.
 * No query ever pages with `after`, so none comes near the 10,000-result cap. Paging by offset
 * (`after`) would also skip a contact whenever one read earlier is edited while the read goes on
 * (it moves to the end of the results, and everything after it shifts one place back); resuming
 * from the last key read cannot skip anyone that way.
 */
import type { HubspotContact, HubspotSearchPage, HubspotSearchRequest } from "./hubspot-client.js";
import { HUBSPOT_MAX_SEARCH_PAGE_SIZE } from "./limits.js";

/** HubSpot's property holding when a contact last changed (an ISO 8601 datetime in results). */
export const MODIFIED_PROPERTY = "lastmodifieddate";
/** HubSpot's record id property, which search can filter and sort on as a number. */
export const ID_PROPERTY = "hs_object_id";

/** Fetches one page of a search; `what` names the request in messages. */
export type SearchPageFn = (request: HubspotSearchRequest, what: string) => Promise<HubspotSearchPage>;

/** What `searchModifiedSince` reads. */
export interface ModifiedSinceOptions {
  /** Epoch milliseconds: contacts whose `lastmodifieddate` is at or after it are read. */
  since: number;
  /** Properties to return (the request's `properties`). */
  properties: readonly string[];
  /** Page size; default (and at most) `HUBSPOT_MAX_SEARCH_PAGE_SIZE`. Tests use small pages. */
  pageSize?: number;
}

/** The contacts read, each once, and what the read cost. */
export interface ModifiedSince {
  /** Each contact once, in the order first seen, in its newest version read. */
  contacts: HubspotContact[];
  /** Search requests made. */
  requests: number;
  /** The greatest `lastmodifieddate` read (epoch ms), or null when nothing was read. */
  newest: number | null;
}

/**
 * When a contact was last modified, in epoch milliseconds: its `lastmodifieddate` (an ISO datetime,
 * or epoch ms as a string), else its `updatedAt`; NaN when it has neither.
 */
export function modifiedAt(contact: HubspotContact): number {
  const raw = contact.properties[MODIFIED_PROPERTY] ?? (contact as { updatedAt?: unknown }).updatedAt;
  if (typeof raw === "number") return raw;
  if (typeof raw !== "string" || raw === "") return Number.NaN;
  return /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
}

/**
 * Reads every active contact modified at or after `opts.since` (see the file comment for how), each
 * once. Throws what `search` throws (`SourceError`) when a page cannot be read. Never loops: every
 * query starts past the previous one's start (by time) or last id (by id), or the read ends.
 */
export async function searchModifiedSince(search: SearchPageFn, opts: ModifiedSinceOptions): Promise<ModifiedSince> {
  const limit = opts.pageSize ?? HUBSPOT_MAX_SEARCH_PAGE_SIZE;
  const properties = [...new Set([...opts.properties, MODIFIED_PROPERTY])];
  const byId = new Map<string, HubspotContact>();
  let newest: number | null = null;
  let requests = 0;

  const take = (c: HubspotContact): void => {
    const id = String(c.id);
    const t = modifiedAt(c);
    const prev = byId.get(id);
    // Seen twice (re-read at a window's edge, or edited while the read went on): keep the newer.
    if (!prev || !(modifiedAt(prev) > t)) byId.set(id, c);
    if (Number.isFinite(t) && (newest === null || t > newest)) newest = t;
  };

  let from = opts.since;
  for (;;) {
    requests++;
    const page = await search(
      {
        filterGroups: [{ filters: [{ propertyName: MODIFIED_PROPERTY, operator: "GTE", value: String(from) }] }],
        sorts: [{ propertyName: MODIFIED_PROPERTY, direction: "ASCENDING" }],
        properties,
        limit,
      },
      `searching HubSpot's contacts modified since ${new Date(from).toISOString()}`,
    );
    page.results.forEach(take);
    if (page.after === undefined || page.results.length === 0) break;
    const last = page.results[page.results.length - 1] as HubspotContact;
    const lastT = modifiedAt(last);
    if (Number.isFinite(lastT) && lastT > from) {
      from = lastT;
      continue;
    }
    // The whole page shares the timestamp `from`: read that timestamp by id ranges, then move past it.
    requests += await readTimestamp(search, from, properties, limit, take);
    from += 1;
  }
  return { contacts: [...byId.values()], requests, newest };
}

/** Reads every contact whose `lastmodifieddate` is exactly `t`, by ascending id ranges; returns the requests made. */
async function readTimestamp(search: SearchPageFn, t: number, properties: string[], limit: number, take: (c: HubspotContact) => void): Promise<number> {
  let lastId = 0;
  let requests = 0;
  for (;;) {
    requests++;
    const page = await search(
      {
        filterGroups: [
          {
            filters: [
              { propertyName: MODIFIED_PROPERTY, operator: "EQ", value: String(t) },
              { propertyName: ID_PROPERTY, operator: "GT", value: String(lastId) },
            ],
          },
        ],
        sorts: [{ propertyName: ID_PROPERTY, direction: "ASCENDING" }],
        properties,
        limit,
      },
      `searching HubSpot's contacts modified at ${new Date(t).toISOString()} with ids above ${lastId}`,
    );
    page.results.forEach(take);
    if (page.after === undefined || page.results.length === 0) return requests;
    const next = Number((page.results[page.results.length - 1] as HubspotContact).id);
    // Ids are numbers in HubSpot; one that is not (or goes back) would page forever.
    if (!Number.isFinite(next) || next <= lastId) return requests;
    lastId = next;
  }
}
