/**
 * Resolves writes a previous process left in flight (journal entries) against what Quo holds now,
 * before the next plan is made. Afterwards the state says exactly what Quo has for those keys, so
 * the planner sends only what is still missing: no duplicate contact, no duplicate list item.
 */
import type { RecoveryResult } from "../model.js";
import type { JournalEntry, StateStore } from "../state/store.js";
import { fieldsOf, itemIdsOf, type Managed } from "../plan/from-quo.js";
import { hashContact } from "../plan/hash.js";
import type { QuoClient } from "../quo/client.js";
import type { QuoContact } from "../quo/types.js";

/**
 * A create sent just before the process died may still be applied by Quo a moment later: the
 * request was on its way, and the server finishes it without us. So a create that is not found is
 * taken to have never landed only once its journal entry is this old; until then the look-up is
 * repeated (every `CREATE_SETTLE_POLL_MS`). Creating it again any sooner could make a twin.
 */
export const CREATE_SETTLE_MS = 5_000;
const CREATE_SETTLE_POLL_MS = 500;

/**
 * Resolves every pending journal entry of `sync`. Throws (a `QuoApiError`) when Quo cannot be read;
 * the entries then stay for the next attempt and the run must not plan.
 */
export async function recoverJournal(store: StateStore, client: QuoClient, sync: string, managed: Managed, now: () => number): Promise<RecoveryResult> {
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
    const quoId = last.quoId ?? state.get(last.key)?.quoId;
    const contact = quoId ? await client.getContact(quoId) : null;
    if (last.op === "link") {
      // A link landed only if the contact carries this sync's externalId now; otherwise it is
      // still somebody else's contact and the next plan matches it again.
      if (contact && contact.externalId === last.externalId) {
        const fields = fieldsOf(contact, managed);
        await store.resolveJournal(ids, sync, { upsert: { key: last.key, quoId: contact.id, hash: hashContact(fields), fields, itemIds: itemIdsOf(contact, managed), linked: true } }, now());
        result.refreshed++;
      } else {
        await store.resolveJournal(ids, sync, { none: true }, now());
        result.dropped++;
      }
      continue;
    }
    if (!contact) {
      await store.resolveJournal(ids, sync, { remove: last.key }, now());
      result.dropped++;
    } else {
      const known = state.get(last.key)?.itemIds;
      const fields = fieldsOf(contact, managed, known);
      await store.resolveJournal(ids, sync, { upsert: { key: last.key, quoId: contact.id, hash: hashContact(fields), fields, itemIds: itemIdsOf(contact, managed, known) } }, now());
      result.refreshed++;
    }
  }

  if (creates.length) {
    const byExt = await settledCreates(client, creates, now);
    for (const entry of creates) {
      const ids = (byKey.get(entry.key) ?? []).map((e) => e.id);
      const [keep, ...extra] = byExt.get(entry.externalId) ?? [];
      if (!keep) {
        await store.resolveJournal(ids, sync, { none: true }, now());
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
      await store.resolveJournal(ids, sync, { upsert: { key: entry.key, quoId: keep.id, hash: hashContact(fields), fields, itemIds: itemIdsOf(keep, managed, known) } }, now());
      result.adopted++;
    }
  }
  return result;
}

/**
 * The contacts carrying the externalIds of `creates`, looked up until every create is found or the
 * newest missing one is `CREATE_SETTLE_MS` old. One `GET /v1/contacts?externalIds=…` per 50 per look.
 */
async function settledCreates(client: QuoClient, creates: readonly JournalEntry[], now: () => number): Promise<Map<string, QuoContact[]>> {
  const byExt = new Map<string, QuoContact[]>();
  let wanted = creates;
  // Bounded by the poll count too, so an injected clock that stands still cannot hold a run forever.
  for (let look = 0; ; look++) {
    for (const c of await client.findByExternalIds(wanted.map((e) => e.externalId))) {
      if (c.externalId && !(byExt.get(c.externalId) ?? []).some((x) => x.id === c.id)) byExt.set(c.externalId, [...(byExt.get(c.externalId) ?? []), c]);
    }
    wanted = wanted.filter((e) => !byExt.has(e.externalId));
    const settleAt = Math.max(...wanted.map((e) => e.startedAt + CREATE_SETTLE_MS));
    if (wanted.length === 0 || now() >= settleAt || look >= CREATE_SETTLE_MS / CREATE_SETTLE_POLL_MS) return byExt;
    await new Promise((r) => setTimeout(r, Math.min(CREATE_SETTLE_POLL_MS, settleAt - now())));
  }
}
