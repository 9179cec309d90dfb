/**
 * The executor: the only code that writes to Quo and to the sync state. Each write is journaled
 * (committed) before it is sent and its outcome recorded in its own transaction right after, so a
 * process killed at any instant leaves at most one journal entry per write in flight, which
 * `recoverJournal` resolves against Quo at the next start.
 */
import type { SyncConfig } from "../config.js";
import { LockLost, StateError } from "../errors.js";
import type { Action, ActionOutcome, ContactFields, ErrorInfo, CreateAction, DeleteAction, ItemIds, LinkAction, Plan, SyncRow, UnlinkAction, UpdateAction } from "../model.js";
import { itemIdsOf, type Managed } from "../plan/from-quo.js";
import { buildContactUpdate, buildCreateBody, externalIdFor } from "../plan/patch.js";
import type { QuoClient } from "../quo/client.js";
import { QuoApiError } from "../quo/errors.js";
import type { QuoContact } from "../quo/types.js";
import type { JournalOp, StateEffect, StateStore } from "../state/store.js";

/** A create whose response was lost is looked up and, if absent, tried again at most this often. */
export const MAX_CREATE_ATTEMPTS = 3;
/** An update that failed transiently is re-read and re-sent at most this often. */
export const MAX_UPDATE_ATTEMPTS = 3;
/**
 * Creates and updates are prepared in batches of this many: one `GET /v1/contacts?externalIds=…`
 * per batch, the most Quo's filter answers in one page (maxResults 1–50, docs/quo-api.md).
 */
export const LOOKUP_BATCH = 50;

export interface ExecuteContext {
  sync: SyncConfig;
  client: QuoClient;
  store: StateStore;
  runId: number;
  managed: Managed;
  /**
   * Contacts read from Quo earlier in this run (`--verify`), by externalId, with an empty list for an
   * externalId Quo does not have: actions whose contacts are here are not looked up again.
   */
  prefetched?: ReadonlyMap<string, QuoContact[]>;
  /** With `match`: the workspace contacts the plan's links point at, read by this run, by Quo id. */
  workspace?: ReadonlyMap<string, QuoContact>;
  /** How many writes may be in flight; the client's throttle holds the rate. */
  concurrency: number;
  now: () => number;
  logger: { info(o: object, m?: string): void; warn(o: object, m?: string): void; debug(o: object, m?: string): void };
  onProgress?: (done: number, total: number) => void;
  /** When aborted, no new action starts; actions in flight finish. */
  signal?: AbortSignal;
  /** True once the run has lost its lock: no further write may start (`LockLost`). */
  lockLost?: () => boolean;
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
  return (e instanceof QuoApiError && (e.status === 401 || e.status === 403)) || isStateFailure(e) || e instanceof LockLost;
}

/**
 * The state database failed (a full disk, a lost file): no further write can be recorded, so none
 * may be sent.
 */
function isStateFailure(e: unknown): boolean {
  return e instanceof StateError || (e instanceof Error && e.name === "SqliteError");
}

/** Quo no longer has the contact an update was for (read back as 404 after a failed PATCH). */
class ContactGone extends Error {}

function isNotFound(e: unknown): boolean {
  return e instanceof QuoApiError && e.status === 404;
}

/**
 * Runs `run` over `items` with at most `limit` in flight; stops starting new ones when `signal`
 * aborts or one of them throws. The first error is rethrown only once every run in flight has
 * finished and recorded its outcome, so nothing in flight is abandoned when the state database
 * is closed after a fatal error.
 */
async function pool<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal?.aborted && !failure) {
      const item = items[next++] as T;
      try {
        await run(item);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
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
  const links = plan.actions.filter((a): a is LinkAction => a.action === "link");
  const unlinks = plan.actions.filter((a): a is UnlinkAction => a.action === "unlink");

  // Creates and updates go in batches, each prepared by one look-up by externalId per 50 contacts:
  // a contact that exists already is adopted instead of duplicated, and every update is built on
  // the contact as Quo holds it now, because Quo's PATCH replaces the contact (docs/quo-api.md).
  await inBatches(ctx, creates, record, (a, found) => createOne(ctx, a, found));
  await inBatches(ctx, updates, record, (a, found) => updateOne(ctx, a, found));
  await pool(links, ctx.concurrency, async (a) => record(await linkOne(ctx, a)), ctx.signal);
  await pool(deletes, ctx.concurrency, async (a) => record(await deleteOne(ctx, a)), ctx.signal);
  for (const a of unlinks) {
    if (ctx.signal?.aborted) break;
    // No request: Quo keeps the contact as it is; the sync only stops managing it.
    await ctx.store.forgetRow(ctx.sync.name, a.key, ctx.now());
    record({ action: a, status: "done", quoId: a.quoId });
  }

  if (ctx.signal?.aborted) {
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
async function inBatches<A extends CreateAction | UpdateAction>(
  ctx: ExecuteContext,
  actions: readonly A[],
  record: (o: ActionOutcome) => void,
  one: (a: A, found: QuoContact[]) => Promise<ActionOutcome>,
): Promise<void> {
  for (let i = 0; i < actions.length && !ctx.signal?.aborted; i += LOOKUP_BATCH) {
    const batch = actions.slice(i, i + LOOKUP_BATCH);
    const wanted = batch.map((a) => externalIdFor(ctx.sync.name, a.key)).filter((ext) => !ctx.prefetched?.has(ext));
    let existing: ReadonlyMap<string, QuoContact[]>;
    try {
      existing = wanted.length ? await lookup(ctx, wanted) : new Map();
    } catch (e) {
      if (isFatal(e)) throw e;
      for (const a of batch) record({ action: a, status: "failed", ...(a.action === "update" ? { quoId: a.quoId } : {}), error: errorInfo(e) });
      continue;
    }
    const found = (a: A): QuoContact[] => {
      const ext = externalIdFor(ctx.sync.name, a.key);
      return existing.get(ext) ?? ctx.prefetched?.get(ext) ?? [];
    };
    await pool(batch, ctx.concurrency, async (a) => record(await one(a, found(a))), ctx.signal);
  }
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
 * further ones (they can only be duplicates this sync made), and writes the kept one whole with
 * `fields`. Returns the contact as Quo holds it afterwards and the sync's item ids on it.
 */
async function adopt(ctx: ExecuteContext, found: QuoContact[], fields: ContactFields, externalId: string): Promise<Written> {
  const [keep, ...extra] = found as [QuoContact, ...QuoContact[]];
  for (const dup of extra) {
    await ctx.client.deleteContact(dup.id);
    ctx.logger.warn({ quoId: dup.id, externalId: dup.externalId }, "deleted a duplicate contact carrying this sync's externalId");
  }
  return writeWhole(ctx, keep, fields, { phoneNumbers: {}, emails: {} }, externalId);
}

/** A contact after a write, with the ids of the items the sync owns on it. */
interface Written {
  contact: QuoContact;
  itemIds: ItemIds;
  /** False when Quo already held the merged contact and nothing was sent. */
  sent: boolean;
}

/**
 * Gives `current` the sync's `fields` with one whole-contact PATCH (nothing when Quo already holds
 * them). Only a body of item ids is replayed after a 5xx or a lost response; one that adds items
 * is retried on 429 alone, and its failure reaches the caller, which re-reads before trying again.
 */
async function writeWhole(ctx: ExecuteContext, current: QuoContact, fields: ContactFields, known: ItemIds, externalId: string, opts: { claimByValue?: boolean } = {}): Promise<Written> {
  const update = buildContactUpdate(current, fields, ctx.managed, known, externalId, opts);
  if (update.empty) return { contact: current, itemIds: itemIdsOf(current, ctx.managed, known), sent: false };
  const contact = await ctx.client.updateContact(current.id, update.body, { idempotent: update.idempotent });
  return { contact, itemIds: itemIdsOf(contact, ctx.managed, update.owned), sent: true };
}

/** What a journaled write records: the write itself and the state it leaves. */
interface JournalWrite {
  op: JournalOp;
  key: string;
  quoId: string | null;
  fields: ContactFields | null;
}

/**
 * Runs one write under the journal (docs/architecture.md, "Journal"): the entry is committed
 * before `write` starts, and the state effect `write` returns is committed together with the
 * entry's resolution right after. When Quo certainly refused the write the entry is dropped;
 * any other failure leaves it for `recoverJournal`, since the write may have landed. A write never
 * starts once the run has lost its lock. Throws what `write` throws, and `LockLost`.
 */
async function journaled<T>(ctx: ExecuteContext, w: JournalWrite, write: () => Promise<{ effect: StateEffect; result: T }>): Promise<T> {
  if (ctx.lockLost?.()) throw new LockLost(`sync '${ctx.sync.name}' lost its run lock; no further write is sent`);
  const jid = await ctx.store.journalBegin({ sync: ctx.sync.name, key: w.key, op: w.op, quoId: w.quoId, externalId: externalIdFor(ctx.sync.name, w.key), fields: w.fields, runId: ctx.runId, startedAt: ctx.now() });
  let done: { effect: StateEffect; result: T };
  try {
    done = await write();
  } catch (e) {
    if (definitelyRefused(e) || e instanceof ContactGone) await ctx.store.journalAbort(jid);
    throw e;
  }
  await ctx.store.journalCommit(jid, ctx.sync.name, done.effect, ctx.now());
  return done.result;
}

/** A failed action: fatal errors end the run, any other is reported with Quo's message. */
function failed(ctx: ExecuteContext, a: Action, e: unknown, what: string): ActionOutcome {
  if (isFatal(e)) throw e;
  ctx.logger.warn({ key: a.key, error: errorInfo(e) }, `${what} failed`);
  return { action: a, status: "failed", ...(a.action === "create" ? {} : { quoId: a.quoId }), error: errorInfo(e) };
}

async function postOrAdopt(ctx: ExecuteContext, a: CreateAction, externalId: string): Promise<Written & { adopted: boolean }> {
  let last: unknown;
  for (let attempt = 1; attempt <= MAX_CREATE_ATTEMPTS; attempt++) {
    try {
      const contact = await ctx.client.createContact(buildCreateBody(a.fields, externalId));
      return { contact, itemIds: itemIdsOf(contact, ctx.managed), sent: true, adopted: false };
    } catch (e) {
      if (!(e instanceof QuoApiError) || !e.transient) throw e;
      last = e;
      // The create may have happened: never POST again before looking.
      const found = (await lookup(ctx, [externalId])).get(externalId);
      if (found?.length) return { ...(await adopt(ctx, found, a.fields, externalId)), adopted: true };
      ctx.logger.debug({ key: a.key, attempt }, "create failed and did not land; trying again");
    }
  }
  throw last;
}

async function createOne(ctx: ExecuteContext, a: CreateAction, existing: readonly QuoContact[], note?: string): Promise<ActionOutcome> {
  const externalId = externalIdFor(ctx.sync.name, a.key);
  try {
    const { contact, adopted } = await journaled(ctx, { op: "create", key: a.key, quoId: null, fields: a.fields }, async () => {
      const w = existing.length ? { ...(await adopt(ctx, [...existing], a.fields, externalId)), adopted: true } : await postOrAdopt(ctx, a, externalId);
      return { effect: { upsert: { key: a.key, quoId: w.contact.id, hash: a.hash, fields: a.fields, itemIds: w.itemIds, sourceHash: a.sourceHash } }, result: w };
    });
    const how = note ?? (adopted ? "adopted" : undefined);
    return { action: a, status: "done", quoId: contact.id, ...(how ? { note: how } : {}) };
  } catch (e) {
    return failed(ctx, a, e, "create");
  }
}

/**
 * An update whose contact is gone from Quo (deleted in the app): the source still has the record,
 * so it is created again — or, when another contact carries its externalId (a duplicate left by a
 * lost create), that one is adopted.
 */
async function recreate(ctx: ExecuteContext, a: UpdateAction, found?: readonly QuoContact[]): Promise<ActionOutcome> {
  const externalId = externalIdFor(ctx.sync.name, a.key);
  let others: QuoContact[];
  try {
    others = (found ?? (await lookup(ctx, [externalId])).get(externalId) ?? []).filter((c) => c.id !== a.quoId);
  } catch (e) {
    // Without the look-up a create could duplicate a contact: reported, and the next run tries again.
    if (isFatal(e)) throw e;
    return { action: a, status: "failed", quoId: a.quoId, error: errorInfo(e) };
  }
  const create: CreateAction = { action: "create", key: a.key, row: a.row, fields: a.fields, hash: a.hash, sourceHash: a.sourceHash };
  const outcome = await createOne(ctx, create, others, others.length ? "adopted" : "recreated");
  return { ...outcome, action: a };
}

/**
 * Updates one contact from `found`, what Quo holds under its externalId now (read in the batch's
 * look-up). The PATCH carries the whole contact, so what people added in the Quo app survives.
 */
async function updateOne(ctx: ExecuteContext, a: UpdateAction, found: readonly QuoContact[]): Promise<ActionOutcome> {
  const externalId = externalIdFor(ctx.sync.name, a.key);
  const current = found.find((c) => c.id === a.quoId);
  if (!current) return recreate(ctx, a, found);
  const row = (itemIds: ItemIds): SyncRow => ({ key: a.key, quoId: a.quoId, hash: a.hash, fields: a.fields, itemIds, sourceHash: a.sourceHash });
  if (buildContactUpdate(current, a.fields, ctx.managed, a.itemIds, externalId).empty) {
    // Quo holds the merged contact already (set in the app, or by a write whose answer was lost):
    // nothing to send, and no write to journal.
    await ctx.store.putRows(ctx.sync.name, [row(itemIdsOf(current, ctx.managed, a.itemIds))], ctx.now());
    return { action: a, status: "done", quoId: a.quoId, note: "already in Quo" };
  }
  try {
    await journaled(ctx, { op: "update", key: a.key, quoId: a.quoId, fields: a.fields }, async () => ({
      effect: { upsert: row((await writeRetrying(ctx, current, a.fields, a.itemIds, externalId)).itemIds) },
      result: undefined,
    }));
    return { action: a, status: "done", quoId: a.quoId };
  } catch (e) {
    if (isNotFound(e) || e instanceof ContactGone) return recreate(ctx, a);
    return failed(ctx, a, e, "update");
  }
}

/**
 * `writeWhole` with the retries a whole-contact write allows: after a transient failure the PATCH
 * may or may not have landed, so the contact is read again and the body built anew from what Quo
 * holds — an added item is never added twice. Throws `ContactGone` when the contact disappeared.
 */
async function writeRetrying(ctx: ExecuteContext, current: QuoContact, fields: ContactFields, known: ItemIds, externalId: string, opts: { claimByValue?: boolean } = {}): Promise<Written> {
  let contact = current;
  let last: unknown;
  for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
    try {
      return await writeWhole(ctx, contact, fields, known, externalId, opts);
    } catch (e) {
      if (!(e instanceof QuoApiError) || !e.transient) throw e;
      last = e;
      const again = await ctx.client.getContact(contact.id);
      if (!again) throw new ContactGone();
      contact = again;
    }
  }
  throw last;
}

/**
 * Takes over a contact that was already in Quo (`match`): written whole from the copy this run
 * listed, with the sync's fields and externalId, an item already holding a mapped value becoming
 * the sync's item for its label. Recorded as linked: never deleted, only forgotten.
 */
async function linkOne(ctx: ExecuteContext, a: LinkAction): Promise<ActionOutcome> {
  const current = ctx.workspace?.get(a.quoId);
  if (!current) return { action: a, status: "failed", quoId: a.quoId, error: { message: `Quo contact ${a.quoId} was not read in this run`, status: null } };
  try {
    await journaled(ctx, { op: "link", key: a.key, quoId: a.quoId, fields: a.fields }, async () => {
      const w = await writeRetrying(ctx, current, a.fields, { phoneNumbers: {}, emails: {} }, externalIdFor(ctx.sync.name, a.key), { claimByValue: true });
      return { effect: { upsert: { key: a.key, quoId: a.quoId, hash: a.hash, fields: a.fields, itemIds: w.itemIds, sourceHash: a.sourceHash, linked: true } }, result: undefined };
    });
    return { action: a, status: "done", quoId: a.quoId };
  } catch (e) {
    // A contact Quo will not let this key change (a native integration's, read-only) is about that
    // contact, not the credentials: reported, and the run goes on.
    if (e instanceof QuoApiError && e.status === 403) {
      ctx.logger.warn({ key: a.key, quoId: a.quoId, error: errorInfo(e) }, "link refused");
      return { action: a, status: "failed", quoId: a.quoId, error: { ...errorInfo(e), message: `${e.message}; contacts of Quo's native integrations are read-only: remove their source from match.sources` } };
    }
    if (e instanceof ContactGone || isNotFound(e)) return { action: a, status: "failed", quoId: a.quoId, error: { message: `Quo contact ${a.quoId} was deleted before it could be linked; the next run plans the row again`, status: 404 } };
    return failed(ctx, a, e, "link");
  }
}

async function deleteOne(ctx: ExecuteContext, a: DeleteAction): Promise<ActionOutcome> {
  try {
    const r = await journaled(ctx, { op: "delete", key: a.key, quoId: a.quoId, fields: null }, async () => ({ effect: { remove: a.key }, result: await ctx.client.deleteContact(a.quoId) }));
    return { action: a, status: "done", quoId: a.quoId, ...(r === "not-found" ? { note: "already gone" } : {}) };
  } catch (e) {
    return failed(ctx, a, e, "delete");
  }
}
