/**
 * The executor: the only code that writes to Quo and to the sync state. Each write is journaled
 * (committed) before it is sent and its outcome recorded in its own transaction right after, so a
 * process killed at any instant leaves at most one journal entry per write in flight, which
 * `recoverJournal` resolves against Quo at the next start.
 */
import type { SyncConfig } from "../config.js";
import type { Action, ContactFields, CreateAction, DeleteAction, Plan, UpdateAction } from "../model.js";
import { fieldsOf, itemIdsOf, type Managed } from "../plan/from-quo.js";
import { buildCreateBody, buildPatchBody, externalIdFor } from "../plan/patch.js";
import type { QuoClient } from "../quo/client.js";
import { QuoApiError } from "../quo/errors.js";
import type { QuoContact } from "../quo/types.js";
import type { StateStore } from "../state/store.js";

/** A create whose response was lost is looked up and, if absent, tried again at most this often. */
export const MAX_CREATE_ATTEMPTS = 3;
/** An update that failed transiently is re-read and re-sent at most this often. */
export const MAX_UPDATE_ATTEMPTS = 3;
/** Quo's `externalIds` filter takes up to 50 ids a page (api-notes.md: maxResults 1–50). */
export const LOOKUP_BATCH = 50;

export interface ErrorInfo {
  message: string;
  status: number | null;
  code?: string;
  trace?: string;
}

/** What happened to one planned action. */
export interface ActionOutcome {
  action: Action;
  status: "done" | "failed" | "skipped";
  quoId?: string;
  /** How it was done when not the plain way: "adopted" (found by externalId), "recreated" (was deleted in Quo), "already gone". */
  note?: string;
  error?: ErrorInfo;
}

export interface ExecuteContext {
  sync: SyncConfig;
  client: QuoClient;
  store: StateStore;
  runId: number;
  managed: Managed;
  /** How many writes may be in flight; the client's throttle holds the rate. */
  concurrency: number;
  now: () => number;
  logger: { info(o: object, m?: string): void; warn(o: object, m?: string): void; debug(o: object, m?: string): void };
  onProgress?: (done: number, total: number) => void;
  /** When aborted, no new action starts; actions in flight finish. */
  signal?: AbortSignal;
}

export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof QuoApiError) {
    return {
      message: e.message,
      status: e.status,
      ...(e.code ? { code: e.code } : {}),
      ...(e.trace ? { trace: e.trace } : {}),
    };
  }
  return { message: e instanceof Error ? e.message : String(e), status: null };
}

/** True when Quo answered and the write certainly did not happen (a 4xx other than 429). */
function definitelyRefused(e: unknown): boolean {
  return e instanceof QuoApiError && !e.transient && e.status !== null;
}

/**
 * A credential problem (401/403) is not about one contact: every further write would fail the same
 * way, so it ends the run instead of being reported contact by contact.
 */
export function isFatal(e: unknown): boolean {
  return e instanceof QuoApiError && (e.status === 401 || e.status === 403);
}

function isNotFound(e: unknown): boolean {
  return e instanceof QuoApiError && e.status === 404;
}

/**
 * Runs `run` over `items` with at most `limit` in flight; stops starting new ones when `signal`
 * aborts or one of them throws (the first error is rethrown once the others in flight finish).
 */
async function pool<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal?.aborted && !stopped) {
      const item = items[next++] as T;
      try {
        await run(item);
      } catch (e) {
        stopped = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * Carries out a plan. Never throws for a single contact: a write Quo refuses is reported with
 * Quo's message and trace and the run goes on. Contacts this sync did not create are never touched
 * (every action addresses a quoId from this sync's state or an externalId of this sync).
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

  const creates = plan.actions.filter((a): a is CreateAction => a.action === "create");
  const updates = plan.actions.filter((a): a is UpdateAction => a.action === "update");
  const deletes = plan.actions.filter((a): a is DeleteAction => a.action === "delete");

  // Creates go in batches: one look-up by externalId per 50 creates first, so a contact that exists
  // already (a lost response, a lost state file) is adopted instead of duplicated.
  for (let i = 0; i < creates.length && !ctx.signal?.aborted; i += LOOKUP_BATCH) {
    const batch = creates.slice(i, i + LOOKUP_BATCH);
    let existing: Map<string, QuoContact[]>;
    try {
      existing = await lookup(ctx, batch.map((a) => externalIdFor(ctx.sync.name, a.key)));
    } catch (e) {
      if (isFatal(e)) throw e;
      // Without the look-up a create could duplicate a contact: skip the batch, report it failed.
      for (const a of batch) record({ action: a, status: "failed", error: errorInfo(e) });
      continue;
    }
    await pool(batch, ctx.concurrency, async (a) => record(await createOne(ctx, a, existing.get(externalIdFor(ctx.sync.name, a.key)))), ctx.signal);
  }
  await pool(updates, ctx.concurrency, async (a) => record(await updateOne(ctx, a)), ctx.signal);
  await pool(deletes, ctx.concurrency, async (a) => record(await deleteOne(ctx, a)), ctx.signal);

  if (ctx.signal?.aborted) {
    const seen = new Set(outcomes.map((o) => o.action));
    for (const a of plan.actions) if (!seen.has(a)) outcomes.push({ action: a, status: "skipped", note: "run interrupted" });
  }
  return outcomes;
}

async function lookup(ctx: ExecuteContext, externalIds: string[]): Promise<Map<string, QuoContact[]>> {
  const found = await ctx.client.findByExternalIds(externalIds);
  const map = new Map<string, QuoContact[]>();
  for (const c of found) {
    if (!c.externalId) continue;
    const list = map.get(c.externalId) ?? [];
    list.push(c);
    map.set(c.externalId, list);
  }
  return map;
}

/**
 * Takes over contacts that already carry this row's externalId: keeps the first, deletes any
 * further ones (they can only be duplicates this sync made), and PATCHes the kept one to `fields`.
 */
async function adopt(ctx: ExecuteContext, found: QuoContact[], fields: ContactFields): Promise<QuoContact> {
  const [keep, ...extra] = found as [QuoContact, ...QuoContact[]];
  for (const dup of extra) {
    await ctx.client.deleteContact(dup.id);
    ctx.logger.warn({ quoId: dup.id, externalId: dup.externalId }, "deleted a duplicate contact carrying this sync's externalId");
  }
  const patch = buildPatchBody(fieldsOf(keep, ctx.managed), fields, itemIdsOf(keep, ctx.managed));
  if (patch.empty) return keep;
  return ctx.client.updateContact(keep.id, patch.body, { idempotent: patch.idempotent });
}

async function postOrAdopt(ctx: ExecuteContext, a: CreateAction, externalId: string): Promise<{ contact: QuoContact; adopted: boolean }> {
  let last: unknown;
  for (let attempt = 1; attempt <= MAX_CREATE_ATTEMPTS; attempt++) {
    try {
      return { contact: await ctx.client.createContact(buildCreateBody(a.fields, externalId)), adopted: false };
    } catch (e) {
      if (!(e instanceof QuoApiError) || !e.transient) throw e;
      last = e;
      // The create may have happened: never POST again before looking.
      const found = (await lookup(ctx, [externalId])).get(externalId);
      if (found?.length) return { contact: await adopt(ctx, found, a.fields), adopted: true };
      ctx.logger.debug({ key: a.key, attempt }, "create failed and did not land; trying again");
    }
  }
  throw last;
}

async function createOne(ctx: ExecuteContext, a: CreateAction, existing: QuoContact[] | undefined, note?: string): Promise<ActionOutcome> {
  const externalId = externalIdFor(ctx.sync.name, a.key);
  const jid = ctx.store.journalBegin({
    sync: ctx.sync.name,
    key: a.key,
    op: "create",
    quoId: null,
    externalId,
    fields: a.fields,
    runId: ctx.runId,
    startedAt: ctx.now(),
  });
  try {
    const { contact, adopted } = existing?.length
      ? { contact: await adopt(ctx, existing, a.fields), adopted: true }
      : await postOrAdopt(ctx, a, externalId);
    ctx.store.journalCommit(
      jid,
      ctx.sync.name,
      { upsert: { key: a.key, quoId: contact.id, hash: a.hash, fields: a.fields, itemIds: itemIdsOf(contact, ctx.managed), sourceHash: a.sourceHash } },
      ctx.now(),
    );
    const how = note ?? (adopted ? "adopted" : undefined);
    return { action: a, status: "done", quoId: contact.id, ...(how ? { note: how } : {}) };
  } catch (e) {
    if (definitelyRefused(e)) ctx.store.journalAbort(jid);
    if (isFatal(e)) throw e;
    ctx.logger.warn({ key: a.key, error: errorInfo(e) }, "create failed");
    return { action: a, status: "failed", error: errorInfo(e) };
  }
}

async function updateOne(ctx: ExecuteContext, a: UpdateAction): Promise<ActionOutcome> {
  const jid = ctx.store.journalBegin({
    sync: ctx.sync.name,
    key: a.key,
    op: "update",
    quoId: a.quoId,
    externalId: externalIdFor(ctx.sync.name, a.key),
    fields: a.fields,
    runId: ctx.runId,
    startedAt: ctx.now(),
  });
  let before = a.before;
  let ids = a.itemIds;
  let last: unknown;
  for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
    const patch = buildPatchBody(before, a.fields, ids);
    try {
      const contact = patch.empty ? null : await ctx.client.updateContact(a.quoId, patch.body, { idempotent: patch.idempotent });
      ctx.store.journalCommit(
        jid,
        ctx.sync.name,
        { upsert: { key: a.key, quoId: a.quoId, hash: a.hash, fields: a.fields, itemIds: contact ? itemIdsOf(contact, ctx.managed) : ids, sourceHash: a.sourceHash } },
        ctx.now(),
      );
      return { action: a, status: "done", quoId: a.quoId };
    } catch (e) {
      last = e;
      if (isNotFound(e)) {
        // Deleted in the Quo app: the source still has the record, so it is created again.
        ctx.store.journalAbort(jid);
        const create: CreateAction = { action: "create", key: a.key, row: a.row, fields: a.fields, hash: a.hash, sourceHash: a.sourceHash };
        const found = await lookup(ctx, [externalIdFor(ctx.sync.name, a.key)]).catch(() => new Map<string, QuoContact[]>());
        const outcome = await createOne(ctx, create, found.get(externalIdFor(ctx.sync.name, a.key)), "recreated");
        return { ...outcome, action: a };
      }
      if (!(e instanceof QuoApiError) || !e.transient) break;
      // The PATCH may or may not have landed: read what Quo holds and send what is still missing,
      // so an added item is never added twice.
      try {
        const current = await ctx.client.getContact(a.quoId);
        if (!current) continue;
        before = fieldsOf(current, ctx.managed);
        ids = itemIdsOf(current, ctx.managed);
      } catch (readError) {
        last = readError;
        break;
      }
    }
  }
  if (definitelyRefused(last)) ctx.store.journalAbort(jid);
  if (isFatal(last)) throw last;
  ctx.logger.warn({ key: a.key, error: errorInfo(last) }, "update failed");
  return { action: a, status: "failed", quoId: a.quoId, error: errorInfo(last) };
}

async function deleteOne(ctx: ExecuteContext, a: DeleteAction): Promise<ActionOutcome> {
  const jid = ctx.store.journalBegin({
    sync: ctx.sync.name,
    key: a.key,
    op: "delete",
    quoId: a.quoId,
    externalId: externalIdFor(ctx.sync.name, a.key),
    fields: null,
    runId: ctx.runId,
    startedAt: ctx.now(),
  });
  try {
    const r = await ctx.client.deleteContact(a.quoId);
    ctx.store.journalCommit(jid, ctx.sync.name, { remove: a.key }, ctx.now());
    return { action: a, status: "done", quoId: a.quoId, ...(r === "not-found" ? { note: "already gone" } : {}) };
  } catch (e) {
    if (definitelyRefused(e)) ctx.store.journalAbort(jid);
    if (isFatal(e)) throw e;
    ctx.logger.warn({ key: a.key, error: errorInfo(e) }, "delete failed");
    return { action: a, status: "failed", quoId: a.quoId, error: errorInfo(e) };
  }
}
