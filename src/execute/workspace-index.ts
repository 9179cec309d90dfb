/**
 * Reading the workspace for `match`: every contact, 50 a page (`GET /v1/contacts` has no filter by
 * phone or email, docs/quo-api.md), indexed by E.164 phone and case-folded email — only for the
 * values the run's creates carry, so the index follows the run, not the workspace. The contacts
 * that hit are kept whole: a link writes them back whole without reading them again.
 */
import { foldEmail, type WorkspaceContact, type WorkspaceIndex } from "../plan/match.js";
import { toE164 } from "../plan/map-row.js";
import type { QuoClient } from "../quo/client.js";
import { QUO_MAX_PAGE_SIZE } from "../quo/limits.js";
import type { QuoContact } from "../quo/types.js";
import type { Plan } from "../model.js";
import { QuoApiError } from "../quo/errors.js";

/** What `readWorkspace` found. */
export interface WorkspaceRead {
  index: WorkspaceIndex;
  /** The contacts the index points at, whole, by Quo id. */
  contacts: Map<string, QuoContact>;
  /** Contacts listed, and the requests it took (one per page of 50). */
  listed: number;
  pages: number;
}

/** The values the creates of a plan carry: E.164 phones and case-folded emails. */
export interface WantedValues {
  phones: ReadonlySet<string>;
  emails: ReadonlySet<string>;
}

/** The phones and case-folded emails of a plan's creates: what the workspace is searched for. */
export function wantedValues(p: Plan): WantedValues {
  const phones = new Set<string>();
  const emails = new Set<string>();
  for (const a of p.actions) {
    if (a.action !== "create") continue;
    for (const ph of a.fields.phoneNumbers) phones.add(ph.value);
    for (const e of a.fields.emails) emails.add(foldEmail(e.value));
  }
  return { phones, emails };
}

/**
 * Lists the whole workspace through the client's throttle and indexes the contacts holding any of
 * `wanted`. Throws `QuoApiError` when a page cannot be read (a partial listing would miss matches
 * and create twins, so the run must not plan on it).
 */
export async function readWorkspace(client: QuoClient, wanted: WantedValues, defaultCountry: string): Promise<WorkspaceRead> {
  const byPhone = new Map<string, WorkspaceContact[]>();
  const byEmail = new Map<string, WorkspaceContact[]>();
  const contacts = new Map<string, QuoContact>();
  const add = (map: Map<string, WorkspaceContact[]>, value: string, c: QuoContact): void => {
    const list = map.get(value) ?? [];
    if (list.some((x) => x.id === c.id)) return;
    list.push({ id: c.id, externalId: c.externalId ?? null, source: c.source ?? null });
    map.set(value, list);
    contacts.set(c.id, c);
  };
  const tokens = new Set<string>();
  let pageToken: string | undefined;
  let listed = 0;
  let pages = 0;
  for (;;) {
    const page = await client.listContacts({ maxResults: QUO_MAX_PAGE_SIZE, ...(pageToken ? { pageToken } : {}) });
    pages++;
    listed += page.data.length;
    for (const c of page.data) {
      for (const p of c.defaultFields.phoneNumbers) {
        const e164 = p.value === null ? undefined : toE164(p.value, defaultCountry);
        if (e164 !== undefined && wanted.phones.has(e164)) add(byPhone, e164, c);
      }
      for (const e of c.defaultFields.emails) {
        const folded = e.value === null ? undefined : foldEmail(e.value);
        if (folded !== undefined && wanted.emails.has(folded)) add(byEmail, folded, c);
      }
    }
    if (page.nextPageToken === null) break;
    if (tokens.has(page.nextPageToken)) {
      throw new QuoApiError({ method: "GET", path: "/v1/contacts", status: 200, quoMessage: "unexpected response: the same nextPageToken came back twice; listing stopped" });
    }
    tokens.add(page.nextPageToken);
    pageToken = page.nextPageToken;
  }
  return { index: { byPhone, byEmail }, contacts, listed, pages };
}
