/**
 * Reading a sync's contacts back from Quo (`--verify`): what Quo holds for each key, to find drift,
 * and the contacts themselves, so the updates that follow need not read them again.
 */
import type { SyncRow } from "../model.js";
import { fieldsOf, itemIdsOf, type Managed } from "../plan/from-quo.js";
import { externalIdFor } from "../plan/patch.js";
import type { Observed } from "../plan/planner.js";
import type { QuoClient } from "../quo/client.js";
import type { QuoContact } from "../quo/types.js";

/** What `readBack` found: per key what Quo holds (null: gone), and the contacts by externalId. */
export interface ReadBack {
  observed: Map<string, Observed>;
  /** Every externalId asked for, with the contacts carrying it (none: an empty list). */
  contacts: Map<string, QuoContact[]>;
}

/**
 * What Quo holds now for every contact of this sync, by key (null: not found, deleted in the Quo
 * app). One `GET /v1/contacts?externalIds=…` per 50 contacts. Throws `QuoApiError`.
 */
export async function readBack(client: QuoClient, sync: string, state: readonly SyncRow[], managed: Managed): Promise<ReadBack> {
  const byExternal = new Map(state.map((r) => [externalIdFor(sync, r.key), r]));
  const found = await client.findByExternalIds([...byExternal.keys()]);
  const observed = new Map<string, Observed>(state.map((r) => [r.key, null]));
  const contacts = new Map<string, QuoContact[]>([...byExternal.keys()].map((ext) => [ext, []]));
  for (const c of found) {
    const row = c.externalId ? byExternal.get(c.externalId) : undefined;
    if (!row) continue;
    contacts.get(c.externalId as string)?.push(c);
    // The contact this sync knows by id; another one with the same externalId is a duplicate that
    // the executor's adoption would clean up, not what the state points at.
    if (c.id === row.quoId) observed.set(row.key, { fields: fieldsOf(c, managed, row.itemIds), itemIds: itemIdsOf(c, managed, row.itemIds) });
  }
  return { observed, contacts };
}
