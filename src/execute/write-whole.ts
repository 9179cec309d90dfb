/**
 * Whole-contact writes (docs/quo-api.md, "Updating a contact"): Quo's PATCH replaces the contact,
 * so every write is built from Quo's copy read just before it — never from an older one — and
 * carries everything on the contact, the sync's fields set and the rest sent back as held.
 */
import type { ContactFields, FieldChanges, ItemIds } from "../model.js";
import { diffFields } from "../plan/diff.js";
import { fieldsOf, itemIdsOf, missingLists } from "../plan/from-quo.js";
import { keepDrifted, overlayFields } from "../plan/keep-drifted.js";
import { buildContactUpdate, type ContactUpdate } from "../plan/patch.js";
import { QuoApiError } from "../quo/errors.js";
import type { QuoContact } from "../quo/types.js";
import type { ExecuteContext } from "./context.js";
import { ContactGone, UnsafeCopy } from "./outcomes.js";

/** An update or link attempts the PATCH at most this often, reading the contact again between attempts. */
export const MAX_UPDATE_ATTEMPTS = 3;

/** What a write will send to one contact, prepared from the copy read just before it. */
export interface Prepared {
  current: QuoContact;
  update: ContactUpdate;
  /** Field by field, what the write changes on the contact as Quo holds it now. */
  changes: FieldChanges;
  /** Fields kept as a person set them (`onDrift: "skip"`). */
  kept: FieldChanges;
  /**
   * What the state records as sent: the desired fields, with the fields kept under `blanks: "keep"`
   * as Quo holds them (the write leaves them so).
   */
  recorded: ContactFields;
}

/** What to write: the sync's fields, and how to read the contact it goes to. */
export interface WriteSpec {
  /** The fields the source gives the contact. */
  desired: ContactFields;
  /** The ids of the items the state remembers as the sync's. */
  known: ItemIds;
  externalId: string;
  /** What the sync last wrote (an update): fields a person changed since then drifted (`onDrift`). */
  before?: ContactFields;
  /** Taking over a contact (a link): an item already holding a mapped value becomes the sync's. */
  claimByValue?: boolean;
  /** Fields whose cells are blank under `blanks: "keep"`: sent as Quo holds them (named as `diffFields` names fields). */
  keep?: readonly string[];
}

/**
 * The write `spec` makes to `current`, or `UnsafeCopy` (thrown) when no safe write can be built
 * from that copy: a list missing from it, or a held phone number Quo's API would refuse.
 */
export function prepare(ctx: ExecuteContext, current: QuoContact, spec: WriteSpec): Prepared {
  const missing = missingLists(current);
  const held = missing.length ? undefined : fieldsOf(current, ctx.managed, spec.known);
  const resolved = held && spec.before ? keepDrifted(spec.before, spec.desired, held, ctx.sync.onDrift) : { send: spec.desired, kept: {} };
  const { kept } = resolved;
  // A kept blank leaves the field as Quo holds it now, whatever was sent before or set since.
  const keep = held && spec.keep?.length ? spec.keep : [];
  const send = keep.length ? overlayFields(resolved.send, held as ContactFields, keep) : resolved.send;
  const recorded = keep.length ? overlayFields(spec.desired, held as ContactFields, keep) : spec.desired;
  const update = buildContactUpdate(current, send, ctx.managed, spec.known, spec.externalId, { claimByValue: spec.claimByValue ?? false });
  if (!update.ok) throw new UnsafeCopy(update.reason);
  // A link's "before" is what Quo holds under the items it takes over (by value, whatever their label).
  const before = spec.claimByValue ? fieldsOf(current, ctx.managed, update.owned) : (held as ContactFields);
  return { current, update, changes: update.empty ? {} : diffFields(before, send), kept, recorded };
}

/** A contact after a write, with the ids of the items the sync owns on it. */
export interface Written {
  contact: QuoContact;
  itemIds: ItemIds;
  /** False when Quo already held the merged contact and nothing was sent. */
  sent: boolean;
  changes: FieldChanges;
  kept: FieldChanges;
}

/**
 * Sends a prepared write (nothing when Quo already holds it). A body of item ids only is replayed
 * after a 5xx or a lost answer; one that adds items is retried on 429 alone, and after any other
 * transient failure the contact is read again and the body built anew from what Quo then holds
 * (an added item is never added twice), up to `MAX_UPDATE_ATTEMPTS`. Throws `ContactGone` when the
 * contact disappeared, the last `QuoApiError` otherwise; when a rebuilt copy is unsafe the last
 * error is thrown too, since the earlier attempt may have landed and recovery must look.
 */
export async function writePrepared(ctx: ExecuteContext, first: Prepared, spec: WriteSpec): Promise<Written> {
  let p = first;
  let last: unknown;
  for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
    if (p.update.empty) return { contact: p.current, itemIds: itemIdsOf(p.current, ctx.managed, spec.known), sent: attempt > 1, changes: first.changes, kept: first.kept };
    try {
      const contact = await ctx.client.updateContact(p.current.id, p.update.body, { idempotent: p.update.idempotent });
      return { contact, itemIds: itemIdsOf(contact, ctx.managed, p.update.owned), sent: true, changes: first.changes, kept: first.kept };
    } catch (e) {
      if (!(e instanceof QuoApiError) || !e.transient) throw e;
      last = e;
      const again = await ctx.client.getContact(p.current.id);
      if (!again) throw new ContactGone();
      try {
        p = prepare(ctx, again, spec);
      } catch (unsafe) {
        if (unsafe instanceof UnsafeCopy) throw e;
        throw unsafe;
      }
    }
  }
  throw last;
}
