/**
 * Reading a sync's contacts back from Quo (`--verify`): what Quo holds for each key, to find drift.
 * Only for drift: every write reads its contact again just before it is sent.
 */
import type { SyncRow } from "../model.js";
import { fieldsOf, itemIdsOf, missingLists, type Managed } from "../plan/from-quo.js";
import { externalIdFor } from "../plan/patch.js";
import type { Observed } from "../plan/planner.js";
import type { QuoClient } from "../quo/client.js";
import type { QuoContact } from "../quo/types.js";
import { pool } from "./pool.js";
import { byExternalId, readById } from "./reads.js";

/** Reads by id in flight at once; the client's throttle, not this, holds the rate. */
const READ_CONCURRENCY = 5;

/**
 * What Quo holds now for every contact of this sync, by key: its fields; null when it is gone
 * (deleted in the Quo app: a contact not found by externalId is read by id, and only a 404 counts);
 * `rekeyedTo` when another externalId names it now. A copy that came without one of its lists is
 * left out (nothing is known of it). One `GET /v1/contacts?externalIds=…` per 50 contacts, and one
 * read by id per contact the first did not find. Throws `QuoApiError`.
 */
export async function readBack(client: QuoClient, sync: string, state: readonly SyncRow[], managed: Managed): Promise<Map<string, Observed>> {
  const found = await byExternalId(client, state.map((r) => externalIdFor(sync, r.key)));
  const observed = new Map<string, Observed>();
  const see = (row: SyncRow, contact: QuoContact): void => {
    if (missingLists(contact).length === 0) observed.set(row.key, { fields: fieldsOf(contact, managed, row.itemIds), itemIds: itemIdsOf(contact, managed, row.itemIds) });
  };
  const missing: SyncRow[] = [];
  for (const row of state) {
    // The contact this sync knows by id; another one with the same externalId is a twin that the
    // executor's adoption would clean up, not what the state points at.
    const contact = found.get(externalIdFor(sync, row.key))?.find((c) => c.id === row.quoId);
    if (contact) see(row, contact);
    else missing.push(row);
  }
  await pool(missing, READ_CONCURRENCY, async (row) => {
    const byId = await readById(client, row.quoId, externalIdFor(sync, row.key));
    if (byId.kind === "gone") observed.set(row.key, null);
    else if (byId.kind === "rekeyed") observed.set(row.key, { rekeyedTo: byId.contact.externalId ?? null });
    else see(row, byId.contact);
  });
  return observed;
}
