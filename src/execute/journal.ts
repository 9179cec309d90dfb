/**
 * The journal around each write (docs/architecture.md, "Journal"): an entry committed before the
 * request leaves, resolved together with the write's effect on the state right after, so a process
 * killed at any instant leaves at most one entry per write in flight for `recoverJournal`.
 */
import type { ContactFields } from "../model.js";
import { LockLost } from "../errors.js";
import { externalIdFor } from "../plan/patch.js";
import type { JournalOp, StateEffect } from "../state/store.js";
import type { ExecuteContext } from "./context.js";
import { definitelyRefused } from "./outcomes.js";

/** What a journaled write records: the write itself and the state it leaves. */
export interface JournalWrite {
  op: JournalOp;
  key: string;
  quoId: string | null;
  fields: ContactFields | null;
}

/**
 * Runs one write under the journal: the entry is committed before `write` starts, and the state
 * effect `write` returns is committed together with the entry's resolution right after. When the
 * write certainly did not happen (Quo refused it, or nothing was sent) the entry is dropped; any
 * other failure leaves it for `recoverJournal`, since the write may have landed. A write never
 * starts once the run has lost its lock, and neither the entry nor the effect is committed unless
 * the state still names this run's lock owner. Throws what `write` throws, and `LockLost`.
 */
export async function journaled<T>(ctx: ExecuteContext, w: JournalWrite, write: () => Promise<{ effect: StateEffect; result: T }>): Promise<T> {
  if (ctx.lockLost?.()) throw new LockLost(`sync '${ctx.sync.name}' lost its run lock; no further write is sent`);
  const jid = await ctx.store.journalBegin({ sync: ctx.sync.name, key: w.key, op: w.op, quoId: w.quoId, externalId: externalIdFor(ctx.sync.name, w.key), fields: w.fields, runId: ctx.runId, startedAt: ctx.now() }, ctx.lockOwner);
  let done: { effect: StateEffect; result: T };
  try {
    done = await write();
  } catch (e) {
    if (definitelyRefused(e)) await ctx.store.journalAbort(jid);
    throw e;
  }
  // Checked in the commit's own transaction: a process that lost its lock records nothing, and the
  // entry stays for the new holder's recovery.
  await ctx.store.journalCommit(jid, ctx.sync.name, done.effect, ctx.now(), ctx.lockOwner);
  return done.result;
}
