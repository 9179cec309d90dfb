/**
 * Resolves writes a previous process left in flight (journal entries) against what Quo holds now,
 * before the next plan is made. Afterwards the state says exactly what Quo has for those keys, so
 * the planner sends only what is still missing: no duplicate contact, no duplicate list item.
 */
import type { JournalEntry, StateStore } from "../state/store.js";
import { fieldsOf, itemIdsOf, type Managed } from "../plan/from-quo.js";
import { hashContact } from "../plan/hash.js";
import type { QuoClient } from "../quo/client.js";
import type { QuoContact } from "../quo/types.js";

export interface RecoveryResult {
  /** Creates that had landed: their contacts are now in the state. */
  adopted: number;
  /** Updates/deletes whose contact was re-read from Quo. */
  refreshed: number;
  /** Writes that never reached Quo (or contacts that are gone): nothing to keep. */
  dropped: number;
  /** Extra contacts with the same externalId, deleted. */
  duplicatesRemoved: number;
}

/**
 * Resolves every pending journal entry of `sync`. Throws (a `QuoApiError`) when Quo cannot be read;
 * the entries then stay for the next attempt and the run must not plan.
 */
export async function recoverJournal(store: StateStore, client: QuoClient, sync: string, managed: Managed, now: () => number): Promise<RecoveryResult> {
  const result: RecoveryResult = { adopted: 0, refreshed: 0, dropped: 0, duplicatesRemoved: 0 };
  const pending = store.pendingJournal(sync);
  if (pending.length === 0) return result;

  // The newest entry of a key decides; older ones of the same key are resolved with it.
  const byKey = new Map<string, JournalEntry[]>();
  for (const e of pending) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e]);
  const state = new Map(store.loadSyncRows(sync).map((r) => [r.key, r]));

  const creates: JournalEntry[] = [];
  for (const entries of byKey.values()) {
    const last = entries[entries.length - 1] as JournalEntry;
    const ids = entries.map((e) => e.id);
    if (last.op === "create") {
      creates.push(last);
      continue;
    }
    const quoId = last.quoId ?? state.get(last.key)?.quoId;
    const contact = quoId ? await client.getContact(quoId) : null;
    if (last.op === "link") {
      // A link landed only if the contact carries this sync's externalId now; otherwise it is
      // still somebody else's contact and the next plan matches it again.
      if (contact && contact.externalId === last.externalId) {
        const fields = fieldsOf(contact, managed);
        store.resolveJournal(ids, sync, { upsert: { key: last.key, quoId: contact.id, hash: hashContact(fields), fields, itemIds: itemIdsOf(contact, managed), linked: true } }, now());
        result.refreshed++;
      } else {
        store.resolveJournal(ids, sync, { none: true }, now());
        result.dropped++;
      }
      continue;
    }
    if (!contact) {
      store.resolveJournal(ids, sync, { remove: last.key }, now());
      result.dropped++;
    } else {
      const known = state.get(last.key)?.itemIds;
      const fields = fieldsOf(contact, managed, known);
      store.resolveJournal(ids, sync, { upsert: { key: last.key, quoId: contact.id, hash: hashContact(fields), fields, itemIds: itemIdsOf(contact, managed, known) } }, now());
      result.refreshed++;
    }
  }

  if (creates.length) {
    const found = await client.findByExternalIds(creates.map((c) => c.externalId));
    const byExt = new Map<string, QuoContact[]>();
    for (const c of found) if (c.externalId) byExt.set(c.externalId, [...(byExt.get(c.externalId) ?? []), c]);
    for (const entry of creates) {
      const ids = (byKey.get(entry.key) ?? []).map((e) => e.id);
      const [keep, ...extra] = byExt.get(entry.externalId) ?? [];
      if (!keep) {
        store.resolveJournal(ids, sync, { none: true }, now());
        result.dropped++;
        continue;
      }
      for (const dup of extra) {
        await client.deleteContact(dup.id);
        result.duplicatesRemoved++;
      }
      // Record what Quo actually holds; the planner then updates whatever still differs, and the
      // executor writes the contact whole from what Quo holds then.
      const known = state.get(entry.key)?.itemIds;
      const fields = fieldsOf(keep, managed, known);
      store.resolveJournal(ids, sync, { upsert: { key: entry.key, quoId: keep.id, hash: hashContact(fields), fields, itemIds: itemIdsOf(keep, managed, known) } }, now());
      result.adopted++;
    }
  }
  return result;
}
