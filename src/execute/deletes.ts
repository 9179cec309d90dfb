/**
 * Deletes (`deletes: "mirror"`): only a contact that still carries the sync's externalId is deleted.
 * The contacts of a batch are looked up by externalId first (one request per 50); one not found is
 * read by its id: a 404 means it is gone already, another externalId means another tool or a
 * person re-keyed it, and it is left alone.
 */
import type { ActionOutcome, DeleteAction } from "../model.js";
import { externalIdFor } from "../plan/patch.js";
import type { QuoContact } from "../quo/types.js";
import type { ExecuteContext } from "./context.js";
import { journaled } from "./journal.js";
import { declined, failed } from "./outcomes.js";
import { readById, rekeyedMessage } from "./reads.js";

/** Deletes one contact; `found`: the contacts carrying its externalId, read just before. */
export async function deleteOne(ctx: ExecuteContext, a: DeleteAction, found: readonly QuoContact[]): Promise<ActionOutcome> {
  const externalId = externalIdFor(ctx.sync.name, a.key);
  try {
    if (!found.some((c) => c.id === a.quoId)) {
      const byId = await readById(ctx.client, a.quoId, externalId);
      if (byId.kind === "rekeyed") return declined(ctx, a, a.quoId, rekeyedMessage(a.quoId, externalId, byId.contact));
      if (byId.kind === "gone") {
        // Nothing to send: the state forgets it, as a delete whose answer said 404 would.
        await ctx.store.forgetRow(ctx.sync.name, a.key, ctx.now(), ctx.lockOwner);
        return { action: a, status: "done", quoId: a.quoId, note: "already gone" };
      }
    }
    const r = await journaled(ctx, { op: "delete", key: a.key, quoId: a.quoId, fields: null }, async () => ({ effect: { remove: a.key }, result: await ctx.client.deleteContact(a.quoId) }));
    return { action: a, status: "done", quoId: a.quoId, ...(r === "not-found" ? { note: "already gone" } : {}) };
  } catch (e) {
    return failed(ctx, a, e, "delete");
  }
}
