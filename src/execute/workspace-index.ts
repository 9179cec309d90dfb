/**
 * Reading the workspace for `match`: every contact, 50 a page (`GET /v1/contacts` has no filter by
 * phone or email, docs/quo-api.md), indexed by E.164 phone and case-folded email — only for the
 * values the run's creates carry, so the index follows the run, not the workspace. The plan decides
 * links from it; the links themselves are written from copies read again just before (`./links.ts`).
 */
import { foldEmail, type WorkspaceContact, type WorkspaceIndex } from "../plan/match.js";
import { canonicalValue } from "../plan/from-quo.js";
import type { QuoClient } from "../quo/client.js";
import { QuoApiError } from "../quo/errors.js";
import type { QuoContact } from "../quo/types.js";
import type { Plan } from "../model.js";
import { workspacePages } from "./reads.js";

/** What `readWorkspace` found. */
export interface WorkspaceRead {
  index: WorkspaceIndex;
  /** Contacts listed, the pages of 50 that took, and the requests in all (pages, and contacts read again by id). */
  listed: number;
  pages: number;
  requests: number;
}

/** The values the creates of a plan carry: E.164 phones and case-folded emails. */
export interface WantedValues {
  phones: ReadonlySet<string>;
  emails: ReadonlySet<string>;
}

/** The phones and case-folded emails of a plan's creates (and, under update-only, of its unbound rows): what the workspace is searched for. */
export function wantedValues(p: Plan): WantedValues {
  const phones = new Set<string>();
  const emails = new Set<string>();
  const candidates = [...p.actions.flatMap((a) => (a.action === "create" ? [a.fields] : [])), ...(p.unbound ?? [])];
  for (const fields of candidates) {
    for (const ph of fields.phoneNumbers) phones.add(ph.value);
    for (const e of fields.emails) emails.add(foldEmail(e.value));
  }
  return { phones, emails };
}

/**
 * Lists the whole workspace through the client's throttle and indexes the contacts holding any of
 * `wanted`, phone numbers compared in E.164 whatever form a person typed them in. A contact listed
 * without its phone or email list is read again by id. Throws `QuoApiError` when a page cannot be
 * read or a contact stays incomplete: a partial listing would miss matches and create twins, so
 * the run must not plan on it.
 */
export async function readWorkspace(client: QuoClient, wanted: WantedValues, defaultCountry: string): Promise<WorkspaceRead> {
  const byPhone = new Map<string, WorkspaceContact[]>();
  const byEmail = new Map<string, WorkspaceContact[]>();
  const add = (map: Map<string, WorkspaceContact[]>, value: string, c: QuoContact): void => {
    const list = map.get(value) ?? [];
    if (list.some((x) => x.id === c.id)) return;
    list.push({ id: c.id, externalId: c.externalId ?? null, source: c.source ?? null });
    map.set(value, list);
  };
  const index = (c: QuoContact): void => {
    for (const p of c.defaultFields.phoneNumbers ?? []) {
      const e164 = p.value === null ? undefined : canonicalValue("phoneNumbers", p.value, { defaultCountry });
      if (e164 !== undefined && wanted.phones.has(e164)) add(byPhone, e164, c);
    }
    for (const e of c.defaultFields.emails ?? []) {
      const folded = e.value === null ? undefined : foldEmail(e.value);
      if (folded !== undefined && wanted.emails.has(folded)) add(byEmail, folded, c);
    }
  };
  const incomplete = (c: QuoContact): boolean => !Array.isArray(c.defaultFields.phoneNumbers) || !Array.isArray(c.defaultFields.emails);
  const again: string[] = [];
  let listed = 0;
  let pages = 0;
  for await (const page of workspacePages(client)) {
    pages++;
    listed += page.length;
    for (const c of page) {
      if (incomplete(c)) again.push(c.id);
      else index(c);
    }
  }
  for (const id of again) {
    const c = await client.getContact(id);
    if (c === null) continue;
    if (incomplete(c)) {
      throw new QuoApiError({ method: "GET", path: `/v1/contacts/${id}`, status: 200, quoMessage: `unexpected response: contact ${id} came without its phone or email list, so rows cannot be matched against it safely; this run plans nothing` });
    }
    index(c);
  }
  return { index: { byPhone, byEmail }, listed, pages, requests: pages + again.length };
}
