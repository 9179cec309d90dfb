/**
 * Links (`match`): taking over a contact that was already in Quo. The plan chose the contact from a
 * listing of the workspace; the write is built from a copy read just before it. Quo has no read of
 * several contacts by id (docs/quo-api.md, "Reading contacts"), so the copies come either one
 * `GET /v1/contacts/{id}` per link, or — when the run links more contacts than the workspace has
 * pages — from listing the workspace again and writing each page's links as soon as that page is
 * read. Either way no link is written from a copy older than its page.
 */
import type { ActionOutcome, LinkAction } from "../model.js";
import { canonicalValue } from "../plan/from-quo.js";
import { foldEmail, mayTakeOver } from "../plan/match.js";
import { hashContact } from "../plan/hash.js";
import { externalIdFor } from "../plan/patch.js";
import { QuoApiError } from "../quo/errors.js";
import type { QuoContact } from "../quo/types.js";
import type { ExecuteContext } from "./context.js";
import { journaled } from "./journal.js";
import { ContactGone, declined, failed, isNotFound, UnsafeCopy } from "./outcomes.js";
import { pool } from "./pool.js";
import { workspacePages } from "./reads.js";
import { prepare, writePrepared, type WriteSpec } from "./write-whole.js";

/** Whether `c` still holds the value the plan matched it by (a phone compared in E.164, an email folded). */
function stillMatches(ctx: ExecuteContext, c: QuoContact, match: LinkAction["match"]): boolean {
  if (match.by === "phone") return (c.defaultFields.phoneNumbers ?? []).some((p) => p.value !== null && canonicalValue("phoneNumbers", p.value, ctx.managed) === match.value);
  return (c.defaultFields.emails ?? []).some((e) => e.value !== null && foldEmail(e.value) === match.value);
}

/**
 * Why `current` may no longer be taken over for `a`, or undefined when it may: it was deleted, now
 * carries another externalId or a source the sync may not take over, or no longer holds the
 * matched value. A contact already carrying this row's externalId (an earlier attempt landed) may.
 */
function noLongerLinkable(ctx: ExecuteContext, a: LinkAction, current: QuoContact | null, externalId: string): string | undefined {
  const again = "the next run plans the row again";
  if (!current) return `Quo contact ${a.quoId} was deleted before it could be linked; ${again}`;
  if (current.externalId === externalId) return undefined;
  const match = ctx.sync.match ?? { by: [], sources: [] };
  if (!mayTakeOver({ id: current.id, externalId: current.externalId ?? null, source: current.source ?? null }, match)) {
    const now = current.externalId ? `externalId '${current.externalId}'` : `source '${current.source ?? ""}'`;
    return `Quo contact ${a.quoId} now carries ${now} and may no longer be taken over; ${again}`;
  }
  if (!stillMatches(ctx, current, a.match)) return `Quo contact ${a.quoId} no longer holds ${a.match.by} ${a.match.value}; ${again}`;
  return undefined;
}

/**
 * Takes over one contact from `current`, its copy read just before: written whole with the sync's
 * fields and externalId, an item already holding a mapped value becoming the sync's item for its
 * label. Recorded as linked: never deleted, only forgotten.
 */
async function linkOne(ctx: ExecuteContext, a: LinkAction, current: QuoContact | null): Promise<ActionOutcome> {
  const externalId = externalIdFor(ctx.sync.name, a.key);
  const why = noLongerLinkable(ctx, a, current, externalId);
  if (why || !current) return declined(ctx, a, a.quoId, why ?? "");
  const spec: WriteSpec = { desired: a.fields, known: { phoneNumbers: {}, emails: {} }, externalId, claimByValue: true, ...(a.keep ? { keep: a.keep } : {}) };
  try {
    const prepared = prepare(ctx, current, spec);
    await journaled(ctx, { op: "link", key: a.key, quoId: a.quoId, fields: a.fields }, async () => {
      const w = await writePrepared(ctx, prepared, spec);
      const fields = prepared.recorded;
      return { effect: { upsert: { key: a.key, quoId: a.quoId, hash: fields === a.fields ? a.hash : hashContact(fields), fields, itemIds: w.itemIds, sourceHash: a.sourceHash, linked: true } }, result: undefined };
    });
    return { action: a, status: "done", quoId: a.quoId, changes: prepared.changes };
  } catch (e) {
    if (e instanceof UnsafeCopy) return declined(ctx, a, a.quoId, e.message);
    // A contact Quo will not let this key change (a native integration's, read-only) is about that
    // contact, not the credentials: reported, and the run goes on.
    if (e instanceof QuoApiError && e.status === 403) {
      ctx.logger.warn({ key: a.key, quoId: a.quoId, status: 403 }, "link refused");
      return { action: a, status: "failed", quoId: a.quoId, error: { message: `${e.message}; contacts of Quo's native integrations are read-only: remove their source from match.sources`, status: 403, ...(e.code ? { code: e.code } : {}), ...(e.trace ? { trace: e.trace } : {}) } };
    }
    if (e instanceof ContactGone || isNotFound(e)) return declined(ctx, a, a.quoId, `Quo contact ${a.quoId} was deleted before it could be linked; the next run plans the row again`);
    return failed(ctx, a, e, "link");
  }
}

/**
 * Carries out the plan's links, each from a copy read just before it (see the file comment), and
 * hands each outcome to `record`. A read that fails reports the links it was for as failed; a
 * credential failure ends the run.
 */
export async function linkAll(ctx: ExecuteContext, links: readonly LinkAction[], record: (o: ActionOutcome) => void): Promise<void> {
  if (links.length === 0) return;
  const relist = ctx.workspacePages !== undefined && links.length > ctx.workspacePages;
  if (!relist) {
    await pool(links, ctx.concurrency, async (a) => {
      let current: QuoContact | null;
      try {
        current = await ctx.client.getContact(a.quoId);
      } catch (e) {
        record(failed(ctx, a, e, "link"));
        return;
      }
      record(await linkOne(ctx, a, current));
    }, ctx.signal);
    return;
  }
  const waiting = new Map(links.map((a) => [a.quoId, a]));
  try {
    for await (const page of workspacePages(ctx.client)) {
      const here = page.filter((c) => waiting.has(c.id));
      await pool(here, ctx.concurrency, async (c) => {
        const a = waiting.get(c.id) as LinkAction;
        waiting.delete(c.id);
        record(await linkOne(ctx, a, c));
      }, ctx.signal);
      if (ctx.signal?.aborted || waiting.size === 0) return;
    }
  } catch (e) {
    for (const a of waiting.values()) record(failed(ctx, a, e, "link"));
    return;
  }
  // Listed to the end and not seen: deleted since the plan listed them.
  for (const a of waiting.values()) record(await linkOne(ctx, a, null));
}
