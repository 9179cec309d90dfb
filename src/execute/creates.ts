/**
 * Creates, and taking over contacts that already carry a row's externalId. A create is not
 * idempotent and Quo has no idempotency key (docs/quo-api.md, "Creating a contact"): a create that
 * may have happened is looked up by externalId until it has had time to land, and is sent again
 * only when it is certainly not there.
 */
import type { ActionOutcome, CreateAction, ItemIds } from "../model.js";
import { itemIdsOf } from "../plan/from-quo.js";
import { buildCreateBody, externalIdFor, QUO_SOURCE_TAG } from "../plan/patch.js";
import { QuoApiError } from "../quo/errors.js";
import type { QuoContact } from "../quo/types.js";
import type { ExecuteContext } from "./context.js";
import { journaled } from "./journal.js";
import { failed } from "./outcomes.js";
import { lookUpUntilSettled } from "./reads.js";
import { prepare, writePrepared, type Written } from "./write-whole.js";

/** A create is sent at most this often; before each resend the earlier attempt is looked up until settled. */
export const MAX_CREATE_ATTEMPTS = 3;

/** A contact the sync now holds for a row, and how it came to. */
interface Held extends Written {
  adopted: boolean;
  /** The contact was not made by this tool (a person's, taken over earlier): it is never deleted. */
  linked: boolean;
}

const NO_IDS: ItemIds = { phoneNumbers: {}, emails: {} };

/** Whether a contact was made by this tool (the `source` it writes on every create). */
export function madeBySync(c: QuoContact): boolean {
  return c.source === QUO_SOURCE_TAG;
}

/**
 * Takes over the contacts that carry this row's externalId: keeps one (the one `preferId` names,
 * else one this tool made, else the first), deletes the further ones this tool made (they can only
 * be twins of a lost create) and leaves any other alone, and writes the kept one whole with the
 * row's fields from the copy just read. A kept contact this tool did not make stays `linked`.
 */
export async function adopt(ctx: ExecuteContext, found: readonly QuoContact[], a: { key: string; fields: CreateAction["fields"] }, preferId?: string): Promise<Held> {
  const externalId = externalIdFor(ctx.sync.name, a.key);
  const keep = found.find((c) => c.id === preferId) ?? found.find(madeBySync) ?? (found[0] as QuoContact);
  for (const dup of found) {
    if (dup === keep) continue;
    if (!madeBySync(dup)) {
      ctx.logger.warn({ key: a.key, quoId: dup.id, source: dup.source ?? null, externalId }, "another contact carries this sync's externalId but was not made by quo-sync; left alone");
      continue;
    }
    await ctx.client.deleteContact(dup.id);
    ctx.logger.warn({ key: a.key, quoId: dup.id, externalId }, "deleted a duplicate contact carrying this sync's externalId");
  }
  const spec = { desired: a.fields, known: NO_IDS, externalId };
  const w = await writePrepared(ctx, prepare(ctx, keep, spec), spec);
  return { ...w, adopted: true, linked: !madeBySync(keep) };
}

/**
 * POSTs the create; after a failure that may have written (a 5xx, a timeout, a lost answer) or a
 * 409 (Quo says it may exist), looks the externalId up until settled and adopts what it finds.
 * Only a create certainly not in Quo is sent again; a 409 never is.
 */
async function postOrAdopt(ctx: ExecuteContext, a: CreateAction, externalId: string): Promise<Held> {
  let last: unknown;
  for (let attempt = 1; attempt <= MAX_CREATE_ATTEMPTS; attempt++) {
    try {
      const contact = await ctx.client.createContact(buildCreateBody(a.fields, externalId));
      return { contact, itemIds: itemIdsOf(contact, ctx.managed), sent: true, changes: {}, kept: {}, adopted: false, linked: false };
    } catch (e) {
      const conflict = e instanceof QuoApiError && e.status === 409;
      if (!(e instanceof QuoApiError) || !(e.transient || conflict)) throw e;
      last = e;
      const found = (await lookUpUntilSettled(ctx.client, [{ externalId, since: ctx.now() }], ctx.now)).get(externalId);
      if (found?.length) return adopt(ctx, found, a);
      if (conflict) throw e;
      ctx.logger.debug({ key: a.key, attempt }, "create failed and did not land; trying again");
    }
  }
  throw last;
}

/**
 * Makes the contact of a new row: adopts what already carries its externalId (`existing`, read just
 * before), else creates it. The state records it as the sync's own unless it was adopted from a
 * contact this tool did not make. `note` overrides how the outcome says it was done.
 */
export async function createOne(ctx: ExecuteContext, a: CreateAction, existing: readonly QuoContact[], note?: string): Promise<ActionOutcome> {
  const externalId = externalIdFor(ctx.sync.name, a.key);
  try {
    const held = await journaled(ctx, { op: "create", key: a.key, quoId: null, fields: a.fields }, async () => {
      const w = existing.length ? await adopt(ctx, existing, a) : await postOrAdopt(ctx, a, externalId);
      // Said either way: a contact the sync makes anew is its own, even where a link was recorded before.
      return { effect: { upsert: { key: a.key, quoId: w.contact.id, hash: a.hash, fields: a.fields, itemIds: w.itemIds, sourceHash: a.sourceHash, linked: w.linked } }, result: w };
    });
    const how = note ?? (held.adopted ? "adopted" : undefined);
    return { action: a, status: "done", quoId: held.contact.id, ...(how ? { note: how } : {}), ...(held.adopted ? { changes: held.changes } : {}) };
  } catch (e) {
    if (e instanceof QuoApiError && e.status === 409) {
      const quoMessage = `${e.quoMessage}; no contact carries externalId '${externalId}', so it was not created again (the next run looks again)`;
      const again = new QuoApiError({ method: e.method, path: e.path, status: 409, quoMessage, ...(e.code ? { code: e.code } : {}), ...(e.trace ? { trace: e.trace } : {}), ...(e.workspace !== undefined ? { workspace: e.workspace } : {}) });
      return failed(ctx, a, again, "create");
    }
    return failed(ctx, a, e, "create");
  }
}
