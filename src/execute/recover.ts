/**
 * Resolves writes a previous process left in flight (journal entries) against what Quo holds now,
 * before the next plan is made. Afterwards the state says what Quo has for those keys, so the
 * planner sends only what is still missing: no twin contact, no duplicate list item.
 */
import type { ContactFields, ItemIds, RecoveryResult, SyncRow } from "../model.js";
import { fieldsOf, itemIdsOf, missingLists, type Managed } from "../plan/from-quo.js";
import { hashContact } from "../plan/hash.js";
import type { QuoClient } from "../quo/client.js";
import type { QuoContact } from "../quo/types.js";
import type { JournalEntry, StateEffect, StateStore } from "../state/store.js";
import { madeBySync } from "./creates.js";
import { lookUpUntilSettled } from "./reads.js";

const NO_IDS: ItemIds = { phoneNumbers: {}, emails: {} };
const NO_FIELDS: ContactFields = { firstName: "", phoneNumbers: [], emails: [], customFields: {} };

/**
 * The state row for `contact` as Quo holds it now; `linked` as the caller knows it, or undefined to
 * keep what the state recorded. From a copy that came without one of its lists
 * nothing can be read: the row keeps what the state (or the journal) knew, with a hash no mapped
 * row has, so the planner sends an update, whose write reads the contact again first.
 */
function recorded(key: string, contact: QuoContact, managed: Managed, known: SyncRow | undefined, sent: ContactFields | null, linked: boolean | undefined): StateEffect {
  const ids = known?.itemIds ?? NO_IDS;
  // Undefined keeps what the state recorded (an update); a create or a link says what the contact is.
  const flag = linked === undefined ? {} : { linked };
  if (missingLists(contact).length) {
    return { upsert: { key, quoId: contact.id, hash: "", fields: known?.fields ?? sent ?? NO_FIELDS, itemIds: ids, ...flag } };
  }
  const fields = fieldsOf(contact, managed, ids);
  return { upsert: { key, quoId: contact.id, hash: hashContact(fields), fields, itemIds: itemIdsOf(contact, managed, ids), ...flag } };
}

/**
 * Resolves every pending journal entry of `sync`. `owner`: the run lock's owner, checked in each
 * resolution's transaction (`LockLost` when another process holds the sync now). Throws (a
 * `QuoApiError`) when Quo cannot be read; the entries then stay for the next attempt and the run
 * must not plan.
 */
export async function recoverJournal(store: StateStore, client: QuoClient, sync: string, managed: Managed, now: () => number, owner?: string): Promise<RecoveryResult> {
  const result: RecoveryResult = { adopted: 0, refreshed: 0, dropped: 0, duplicatesRemoved: 0 };
  const pending = await store.pendingJournal(sync);
  if (pending.length === 0) return result;

  // The newest entry of a key decides; older ones of the same key are resolved with it.
  const byKey = new Map<string, JournalEntry[]>();
  for (const e of pending) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e]);
  const state = new Map((await store.loadSyncRows(sync)).map((r) => [r.key, r]));

  const creates: JournalEntry[] = [];
  for (const entries of byKey.values()) {
    const last = entries[entries.length - 1] as JournalEntry;
    const ids = entries.map((e) => e.id);
    if (last.op === "create") {
      creates.push(last);
      continue;
    }
    const known = state.get(last.key);
    const quoId = last.quoId ?? known?.quoId;
    const contact = quoId ? await client.getContact(quoId) : null;
    if (last.op === "link") {
      // A link landed only if the contact carries this sync's externalId now; otherwise it is
      // still somebody else's contact and the next plan matches it again.
      if (contact && contact.externalId === last.externalId) {
        await store.resolveJournal(ids, sync, recorded(last.key, contact, managed, undefined, last.fields, true), now(), owner);
        result.refreshed++;
      } else {
        await store.resolveJournal(ids, sync, { none: true }, now(), owner);
        result.dropped++;
      }
      continue;
    }
    if (!contact) {
      await store.resolveJournal(ids, sync, { remove: last.key }, now(), owner);
      result.dropped++;
    } else if (contact.externalId !== last.externalId) {
      // Re-keyed by another tool meanwhile: not this sync's to record; the next write reports it.
      await store.resolveJournal(ids, sync, { none: true }, now(), owner);
      result.dropped++;
    } else {
      await store.resolveJournal(ids, sync, recorded(last.key, contact, managed, known, last.fields, undefined), now(), owner);
      result.refreshed++;
    }
  }

  if (creates.length) {
    const byExt = await lookUpUntilSettled(client, creates.map((e) => ({ externalId: e.externalId, since: e.startedAt })), now);
    for (const entry of creates) {
      const ids = (byKey.get(entry.key) ?? []).map((e) => e.id);
      const found = byExt.get(entry.externalId) ?? [];
      const keep = found.find(madeBySync) ?? found[0];
      if (!keep) {
        await store.resolveJournal(ids, sync, { none: true }, now(), owner);
        result.dropped++;
        continue;
      }
      // Twins of a lost create are this tool's; a contact carrying the externalId that this tool
      // did not make (a person's, linked before) is never deleted.
      for (const dup of found) {
        if (dup === keep || !madeBySync(dup)) continue;
        await client.deleteContact(dup.id);
        result.duplicatesRemoved++;
      }
      // Record what Quo actually holds; the planner then updates whatever still differs, and the
      // executor writes the contact whole from what Quo holds then.
      await store.resolveJournal(ids, sync, recorded(entry.key, keep, managed, state.get(entry.key), entry.fields, !madeBySync(keep)), now(), owner);
      result.adopted++;
    }
  }
  return result;
}
