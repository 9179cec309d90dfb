/**
 * The executor's reads of Quo's current copies: by externalId, 50 per request (the most Quo's
 * filter answers in one page, docs/quo-api.md "Reading contacts"); the whole workspace page by
 * page; and the look-up that waits for a create whose answer was lost to land.
 */
import { QuoApiError } from "../quo/errors.js";
import type { QuoClient } from "../quo/client.js";
import { QUO_MAX_PAGE_SIZE } from "../quo/limits.js";
import type { QuoContact } from "../quo/types.js";

/**
 * A create whose answer was lost, or that failed with a 5xx or a timeout, may still be applied by
 * Quo a moment later: the request reached a server that finishes it without us. So a create that
 * is not found is taken to have never landed only this long after it failed (or, after a crash,
 * after its journal entry was written); until then the look-up is repeated every
 * `CREATE_SETTLE_POLL_MS`. Sending it again any sooner could make a twin.
 */
export const CREATE_SETTLE_MS = 5_000;
const CREATE_SETTLE_POLL_MS = 500;

/** The contacts carrying these externalIds, by externalId (one request per 50). Throws `QuoApiError`. */
export async function byExternalId(client: QuoClient, externalIds: readonly string[]): Promise<Map<string, QuoContact[]>> {
  const map = new Map<string, QuoContact[]>();
  if (externalIds.length === 0) return map;
  for (const c of await client.findByExternalIds(externalIds)) {
    if (!c.externalId) continue;
    const list = map.get(c.externalId) ?? [];
    if (!list.some((x) => x.id === c.id)) list.push(c);
    map.set(c.externalId, list);
  }
  return map;
}

/**
 * Every contact of the workspace, one page of 50 at a time (`GET /v1/contacts` has no filter by id,
 * phone or email). Throws `QuoApiError` when a page cannot be read, or when Quo hands back a page
 * token it gave before (the listing would never end).
 */
export async function* workspacePages(client: QuoClient): AsyncGenerator<QuoContact[]> {
  const tokens = new Set<string>();
  let pageToken: string | undefined;
  for (;;) {
    const page = await client.listContacts({ maxResults: QUO_MAX_PAGE_SIZE, ...(pageToken ? { pageToken } : {}) });
    yield page.data;
    if (page.nextPageToken === null) return;
    if (tokens.has(page.nextPageToken)) {
      throw new QuoApiError({ method: "GET", path: "/v1/contacts", status: 200, quoMessage: "unexpected response: the same nextPageToken came back twice; listing stopped" });
    }
    tokens.add(page.nextPageToken);
    pageToken = page.nextPageToken;
  }
}

/** A create that may have landed: its externalId, and since when it may have (ms, the run's clock). */
export interface PendingCreate {
  externalId: string;
  since: number;
}

/**
 * The contacts carrying the externalIds of `creates`, looked up until every create is found or the
 * newest missing one is `CREATE_SETTLE_MS` past its `since`. One request per 50 per look. Bounded
 * by the number of looks too, so an injected clock that stands still cannot hold a run forever.
 * Throws `QuoApiError` when a look-up fails.
 */
export async function lookUpUntilSettled(client: QuoClient, creates: readonly PendingCreate[], now: () => number): Promise<Map<string, QuoContact[]>> {
  const found = new Map<string, QuoContact[]>();
  let wanted = creates;
  for (let look = 0; ; look++) {
    for (const [ext, list] of await byExternalId(client, wanted.map((c) => c.externalId))) {
      const known = found.get(ext) ?? [];
      for (const c of list) if (!known.some((x) => x.id === c.id)) known.push(c);
      found.set(ext, known);
    }
    wanted = wanted.filter((c) => !found.has(c.externalId));
    if (wanted.length === 0) return found;
    const settleAt = Math.max(...wanted.map((c) => c.since + CREATE_SETTLE_MS));
    if (now() >= settleAt || look >= CREATE_SETTLE_MS / CREATE_SETTLE_POLL_MS) return found;
    await new Promise((r) => setTimeout(r, Math.min(CREATE_SETTLE_POLL_MS, settleAt - now())));
  }
}

/** What became of a contact the state knows by id, when its externalId no longer finds it. */
export type ById = { kind: "gone" } | { kind: "rekeyed"; contact: QuoContact } | { kind: "found"; contact: QuoContact };

/**
 * Reads a contact by the id the state holds for it, after a look-up by externalId did not find it:
 * gone only on a 404; re-keyed when it carries another externalId (changed by another tool or a
 * person); found when it still carries this one (the filter's answer lagged). Throws `QuoApiError`.
 */
export async function readById(client: QuoClient, quoId: string, externalId: string): Promise<ById> {
  const contact = await client.getContact(quoId);
  if (!contact) return { kind: "gone" };
  return contact.externalId === externalId ? { kind: "found", contact } : { kind: "rekeyed", contact };
}

/** Why a contact is left alone: another externalId now names it, so it is not this sync's to write or delete. */
export function rekeyedMessage(quoId: string, externalId: string, contact: QuoContact): string {
  const now = contact.externalId ? `externalId '${contact.externalId}'` : "no externalId";
  return `Quo contact ${quoId} now carries ${now} instead of '${externalId}' (changed by another tool or in Quo); left alone, neither written nor created again — restore its externalId, or remove the row`;
}
