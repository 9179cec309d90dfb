/**
 * The executor: the only code that writes to Quo and to the sync state. It carries out a plan's
 * actions in batches, each built from Quo's copy read just before it (docs/quo-api.md, "Updating a
 * contact"), and journals every write (`./journal.ts`), so a process killed at any instant leaves
 * at most one journal entry per write in flight, which `recoverJournal` resolves at the next start.
 * The kinds of action live beside it: `./creates.ts`, `./updates.ts`, `./links.ts`, `./deletes.ts`.
 */
import type { Action, ActionOutcome, CreateAction, DeleteAction, Plan, UpdateAction } from "../model.js";
import { externalIdFor } from "../plan/patch.js";
import type { QuoContact } from "../quo/types.js";
import { LockLost } from "../errors.js";
import type { ExecuteContext } from "./context.js";
import { createOne } from "./creates.js";
import { deleteOne } from "./deletes.js";
import { linkAll } from "./links.js";
import { failed, isFatal } from "./outcomes.js";
import { pool } from "./pool.js";
import { byExternalId } from "./reads.js";
import { updateOne } from "./updates.js";

export type { ExecuteContext } from "./context.js";
export { errorInfo, isFatal } from "./outcomes.js";

/**
 * Creates, updates and deletes are prepared in batches of this many: one
 * `GET /v1/contacts?externalIds=…` per batch, the most Quo's filter answers in one page
 * (maxResults 1–50, docs/quo-api.md), read just before the batch's writes.
 */
export const LOOKUP_BATCH = 50;

/**
 * Carries out a plan. Never throws for a single contact: a write Quo refuses, or one that cannot be
 * built safely from Quo's copy, is reported with its reason and the run goes on. Contacts this sync
 * did not create are never touched, except the ones its plan links (every action addresses a quoId
 * from this sync's state, an externalId of this sync, or a link's contact).
 */
export async function execute(plan: Plan, ctx: ExecuteContext): Promise<ActionOutcome[]> {
  const outcomes: ActionOutcome[] = [];
  const total = plan.actions.length;
  let done = 0;
  const record = (o: ActionOutcome): void => {
    outcomes.push(o);
    done++;
    ctx.onProgress?.(done, total);
  };

  const of = <K extends Action["action"]>(kind: K) => plan.actions.filter((a): a is Extract<Action, { action: K }> => a.action === kind);
  let lockLost = false;
  try {
    await inBatches(ctx, of("create"), record, (a, found) => createOne(ctx, a, found));
    await inBatches(ctx, of("update"), record, (a, found) => updateOne(ctx, a, found));
    await linkAll(ctx, of("link"), record);
    await inBatches(ctx, of("delete"), record, (a, found) => deleteOne(ctx, a, found));
    for (const a of of("unlink")) {
      if (ctx.signal?.aborted) break;
      // No request: Quo keeps the contact as it is; the sync only stops managing it.
      await ctx.store.forgetRow(ctx.sync.name, a.key, ctx.now(), ctx.lockOwner);
      record({ action: a, status: "done", quoId: a.quoId });
    }
  } catch (e) {
    // Another process holds the sync now: stop as when the heartbeat finds that out. The writes
    // in flight have finished (the pool waits for them); what they did not record, recovery will.
    if (!(e instanceof LockLost)) throw e;
    lockLost = true;
    ctx.onLockLost?.(e.message);
  }

  if (ctx.signal?.aborted || lockLost) {
    const seen = new Set(outcomes.map((o) => o.action));
    for (const a of plan.actions) if (!seen.has(a)) outcomes.push({ action: a, status: "skipped", note: "run interrupted" });
  }
  return outcomes;
}

/**
 * Runs `one` over `actions` in batches of `LOOKUP_BATCH`, each after one look-up of the batch's
 * externalIds. A batch whose look-up fails is reported failed (nothing of it is written blind);
 * a credential failure ends the run.
 */
async function inBatches<A extends CreateAction | UpdateAction | DeleteAction>(
  ctx: ExecuteContext,
  actions: readonly A[],
  record: (o: ActionOutcome) => void,
  one: (a: A, found: QuoContact[]) => Promise<ActionOutcome>,
): Promise<void> {
  for (let i = 0; i < actions.length && !ctx.signal?.aborted; i += LOOKUP_BATCH) {
    const batch = actions.slice(i, i + LOOKUP_BATCH);
    let existing: ReadonlyMap<string, QuoContact[]>;
    try {
      existing = await byExternalId(ctx.client, batch.map((a) => externalIdFor(ctx.sync.name, a.key)));
    } catch (e) {
      if (isFatal(e)) throw e;
      for (const a of batch) record(failed(ctx, a, e, `${a.action} look-up`));
      continue;
    }
    await pool(batch, ctx.concurrency, async (a) => record(await one(a, existing.get(externalIdFor(ctx.sync.name, a.key)) ?? [])), ctx.signal);
  }
}
