/**
 * Updates: each contact is written whole from the copy read just before (a batch's look-up by
 * externalId), with the fields a person changed in the app since the last write handled as
 * `onDrift` says. A contact not found by its externalId is read by its id before anything else:
 * only a 404 means it is gone (and is created again); one another tool re-keyed is left alone.
 */
import type { ActionOutcome, CreateAction, SyncRow, UpdateAction } from "../model.js";
import { hashContact } from "../plan/hash.js";
import { externalIdFor } from "../plan/patch.js";
import type { QuoContact } from "../quo/types.js";
import type { ExecuteContext } from "./context.js";
import { createOne } from "./creates.js";
import { journaled } from "./journal.js";
import { ContactGone, declined, failed, isNotFound, UnsafeCopy } from "./outcomes.js";
import { readById, rekeyedMessage } from "./reads.js";
import { prepare, writePrepared, type Prepared, type WriteSpec } from "./write-whole.js";

/**
 * An update whose contact is gone from Quo (deleted in the app): the source still has the record,
 * so it is created again — or, when another contact carries its externalId (a twin left by a lost
 * create), that one is adopted. A contact the sync makes anew is its own, never `linked`. Under
 * `update-only` nothing is created: the state forgets the key and the update is reported as not written.
 */
async function recreate(ctx: ExecuteContext, a: UpdateAction, others: readonly QuoContact[]): Promise<ActionOutcome> {
  // A twin carrying the externalId is adopted whatever the mode; only a new contact is refused.
  if (ctx.sync.mode === "update-only" && others.length === 0) {
    // No longer bound to a contact: the state forgets it, and later runs report the row as skipped.
    await ctx.store.forgetRow(ctx.sync.name, a.key, ctx.now(), ctx.lockOwner);
    return declined(ctx, a, a.quoId, `contact ${a.quoId} is gone from Quo (deleted in the app): update-only never creates one, and the row is no longer bound to a contact`);
  }
  const create: CreateAction = { action: "create", key: a.key, row: a.row, fields: a.fields, hash: a.hash, sourceHash: a.sourceHash };
  const outcome = await createOne(ctx, create, others, others.length ? "adopted" : "recreated");
  return { ...outcome, action: a };
}

/**
 * Updates one contact. `found`: the contacts carrying its externalId, read just before in the
 * batch's look-up. The PATCH carries the whole contact, so what people added in the Quo app survives.
 */
export async function updateOne(ctx: ExecuteContext, a: UpdateAction, found: readonly QuoContact[]): Promise<ActionOutcome> {
  const externalId = externalIdFor(ctx.sync.name, a.key);
  let current = found.find((c) => c.id === a.quoId);
  const spec: WriteSpec = { desired: a.fields, known: a.itemIds, externalId, before: a.before, ...(a.keep ? { keep: a.keep } : {}) };
  let prepared: Prepared;
  try {
    if (!current) {
      const byId = await readById(ctx.client, a.quoId, externalId);
      if (byId.kind === "gone") return await recreate(ctx, a, found);
      if (byId.kind === "rekeyed") return declined(ctx, a, a.quoId, rekeyedMessage(a.quoId, externalId, byId.contact));
      current = byId.contact;
    }
    prepared = prepare(ctx, current, spec);
  } catch (e) {
    if (e instanceof UnsafeCopy) return declined(ctx, a, a.quoId, e.message);
    return failed(ctx, a, e, "update");
  }
  const recorded = prepared.recorded;
  const row = (itemIds: SyncRow["itemIds"]): SyncRow => ({ key: a.key, quoId: a.quoId, hash: recorded === a.fields ? a.hash : hashContact(recorded), fields: recorded, itemIds, sourceHash: a.sourceHash });
  const told = { changes: prepared.changes, ...(Object.keys(prepared.kept).length ? { kept: prepared.kept } : {}) };
  if (prepared.update.empty) {
    // Quo holds the merged contact already (set in the app, or by a write whose answer was lost):
    // nothing to send, and no write to journal.
    await ctx.store.putRows(ctx.sync.name, [row(prepared.update.owned)], ctx.now(), ctx.lockOwner);
    return { action: a, status: "done", quoId: a.quoId, note: "already in Quo", ...told };
  }
  try {
    await journaled(ctx, { op: "update", key: a.key, quoId: a.quoId, fields: a.fields }, async () => ({
      effect: { upsert: row((await writePrepared(ctx, prepared, spec)).itemIds) },
      result: undefined,
    }));
    return { action: a, status: "done", quoId: a.quoId, ...told };
  } catch (e) {
    if (isNotFound(e) || e instanceof ContactGone) return recreate(ctx, a, found.filter((c) => c.id !== a.quoId));
    if (e instanceof UnsafeCopy) return declined(ctx, a, a.quoId, e.message);
    return failed(ctx, a, e, "update");
  }
}
