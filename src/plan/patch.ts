/**
 * Request bodies for Quo's contact writes, built purely from what should be there and, for an
 * update, from the contact as Quo holds it now. Quo's PATCH replaces the contact (docs/quo-api.md,
 * "Updating a contact"), so an update body is always the whole contact.
 */
import { createHash } from "node:crypto";
import type { ContactFields, CustomFieldValue, ItemIds } from "../model.js";
import { canonicalValue, missingLists, OPTIONAL_SCALARS, ownedItems, type ItemList, type Managed, type QuoContactLike, type QuoItemLike } from "./from-quo.js";

/** Quo's `source` tag for contacts this tool creates; Quo refuses `openphone*`, `csv*` and a few others (docs/quo-api.md, "Creating a contact"). */
export const QUO_SOURCE_TAG = "quo-sync";
/** Quo allows an externalId of 1–75 characters (docs/quo-api.md, "Creating a contact"). */
export const EXTERNAL_ID_MAX = 75;

/** A list item as Quo's PATCH takes it: with `id` it updates (or with value null removes) that item. */
export interface PatchItem {
  id?: string;
  name: string;
  value: string | null;
}

export interface ContactBody {
  defaultFields?: {
    firstName?: string | null;
    lastName?: string | null;
    company?: string | null;
    role?: string | null;
    phoneNumbers?: PatchItem[];
    emails?: PatchItem[];
  };
  /** By `key`; a value Quo returned without a key is sent back by its `id`. */
  customFields?: ({ key: string; value: unknown } | { id: string; value: unknown })[];
  externalId?: string;
  source?: string;
  sourceUrl?: string;
}

/**
 * The contact's externalId: `<sync>:<key>`, so two syncs never claim each other's contacts. A key too
 * long for Quo's 75 characters is replaced by a stable digest (`<sync>:#<40 hex>`), which stays unique.
 */
export function externalIdFor(sync: string, key: string): string {
  const plain = `${sync}:${key}`;
  if (plain.length <= EXTERNAL_ID_MAX) return plain;
  return `${sync}:#${createHash("sha256").update(key).digest("hex").slice(0, 40)}`;
}

/** The POST /v1/contacts body: only present fields, blank ones left out. */
export function buildCreateBody(fields: ContactFields, externalId: string): ContactBody {
  const d: NonNullable<ContactBody["defaultFields"]> = { firstName: fields.firstName };
  if (fields.lastName !== undefined) d.lastName = fields.lastName;
  if (fields.company !== undefined) d.company = fields.company;
  if (fields.role !== undefined) d.role = fields.role;
  if (fields.phoneNumbers.length) d.phoneNumbers = fields.phoneNumbers.map((p) => ({ name: p.name, value: p.value }));
  if (fields.emails.length) d.emails = fields.emails.map((e) => ({ name: e.name, value: e.value }));
  const body: ContactBody = { defaultFields: d, externalId, source: QUO_SOURCE_TAG };
  const custom = Object.entries(fields.customFields);
  if (custom.length) body.customFields = custom.map(([key, value]) => ({ key, value }));
  return body;
}


/** Sources Quo reserves for its own origins and refuses in a write (docs/quo-api.md, "Creating a contact"). */
const RESERVED_SOURCES = new Set(["openphone", "device", "csv", "zapier", "google-people", "other"]);
const RESERVED_SOURCE_PREFIXES = ["openphone", "csv"];

/** Whether Quo accepts `source` in a write: a non-empty string that is not one of its own origins. */
export function isWritableSource(source: string | null | undefined): source is string {
  if (!source) return false;
  const lower = source.toLowerCase();
  return !RESERVED_SOURCES.has(lower) && !RESERVED_SOURCE_PREFIXES.some((p) => lower.startsWith(p));
}

/** A whole-contact PATCH, and what the executor needs to know about it. */
export interface ContactUpdate {
  ok: true;
  body: ContactBody;
  /** Quo already holds the merged contact: nothing is sent. */
  empty: boolean;
  /**
   * False when the body adds an item without an id: Quo would add it again if the same request were
   * replayed, so a lost response must not be retried blind. A body of ids only is idempotent.
   */
  idempotent: boolean;
  /** The ids of the items the sync owns and sends with their id; added items get theirs from Quo's answer. */
  owned: ItemIds;
}

/** Why no whole-contact write can be built from a copy: sending one could lose what people set. */
export interface UnsafeUpdate {
  ok: false;
  reason: string;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/**
 * One list of the whole-contact body: every item Quo holds is sent back with its id — the sync's own
 * items (see `ownedItems`) with the source's value under the sync's label, or `value: null` when the
 * source has none (which removes it whether Quo replaces or merges lists); everyone else's items as
 * they are, phone numbers in E.164 (the API refuses any other form, while the app stores what a
 * person typed). Labels the source fills and the contact lacks are added without an id. Held
 * phone numbers that do not parse are returned in `unsendable`: the body cannot carry them.
 */
function wholeList(current: readonly QuoItemLike[], list: ItemList, managed: Managed, known: Record<string, string>, desired: readonly { name: string; value: string }[], claimByValue: boolean) {
  const want = new Map(desired.map((i) => [i.name, i.value]));
  const owned = ownedItems(current, list, managed, known, claimByValue ? want : undefined);
  const ownerOf = new Map([...owned].map(([label, item]) => [item, label]));
  const items: { id?: string; name: string; value: string | null }[] = [];
  const ids: Record<string, string> = {};
  const unsendable: QuoItemLike[] = [];
  let changed = false;
  let adds = false;
  for (const item of current) {
    if (item.value === null) continue;
    const held = canonicalValue(list, item.value, managed);
    const label = ownerOf.get(item);
    if (label === undefined) {
      // Not the sync's: sent back untouched. An item without an id cannot be addressed; sending
      // it as it is keeps it under Quo's replacing PATCH.
      if (held === undefined) unsendable.push(item);
      const value = held ?? item.value;
      items.push(item.id ? { id: item.id, name: item.name, value } : { name: item.name, value });
      if (!item.id) adds = true;
      continue;
    }
    const to = want.get(label);
    if (!item.id) {
      // An owned item Quo gave no id: it can only be dropped (it is re-added below if still wanted).
      changed = true;
      continue;
    }
    if (to === undefined) {
      items.push({ id: item.id, name: item.name, value: null });
      changed = true;
    } else {
      items.push({ id: item.id, name: label, value: to });
      ids[label] = item.id;
      if (to !== held || label !== item.name) changed = true;
    }
  }
  for (const [label, value] of [...want].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (ids[label] !== undefined) continue;
    items.push({ name: label, value });
    changed = true;
    adds = true;
  }
  return { items, ids, changed, adds, unsendable };
}

/**
 * The PATCH /v1/contacts/{id} body that gives `current` (the contact as Quo holds it now) the sync's
 * `desired` fields and keeps everything else: all four scalars (the unmapped ones as Quo holds
 * them), every phone and email item with its id, every custom value (the unmapped ones as Quo holds
 * them; a mapped one the source blanked is cleared with `null`), the sync's `externalId`, and
 * `source`/`sourceUrl` as Quo holds them. Correct whether Quo replaces the contact or merges the
 * body into it. `known`: the item ids the state remembers for the sync's labels. `claimByValue`
 * (taking over a contact that was already in Quo): an item that already holds a value the sync maps
 * becomes the sync's item for that label instead of the value being added a second time.
 *
 * Refuses (`ok: false`, with a reason a person can act on) when `current` came without one of its
 * lists, or holds a phone number that is not valid E.164 and does not parse: a PATCH built from it
 * would delete what the copy does not show, or be refused whole by the API.
 */
export function buildContactUpdate(current: QuoContactLike, desired: ContactFields, managed: Managed, known: ItemIds, externalId: string, opts: { claimByValue?: boolean } = {}): ContactUpdate | UnsafeUpdate {
  const missing = missingLists(current);
  if (missing.length) {
    return { ok: false, reason: `Quo's copy of contact ${current.id} came without its ${missing.join(", ")} list${missing.length > 1 ? "s" : ""}; it was not written, because Quo's PATCH replaces the contact and would delete what that copy does not show (the next run reads it again)` };
  }
  const held = current.defaultFields;
  const d: NonNullable<ContactBody["defaultFields"]> = { firstName: desired.firstName };
  let changed = (held.firstName ?? null) !== desired.firstName;
  for (const f of OPTIONAL_SCALARS) {
    const to = managed.scalars.has(f) ? (desired[f] ?? null) : (held[f] ?? null);
    d[f] = to;
    if ((held[f] ?? null) !== to) changed = true;
  }
  let idempotent = true;
  const owned: ItemIds = { phoneNumbers: {}, emails: {} };
  const unsendable: string[] = [];
  for (const list of ["phoneNumbers", "emails"] as const satisfies readonly ItemList[]) {
    const w = wholeList(held[list] ?? [], list, managed, known[list], desired[list], opts.claimByValue ?? false);
    d[list] = w.items;
    owned[list] = w.ids;
    if (w.changed) changed = true;
    if (w.adds) idempotent = false;
    for (const item of w.unsendable) unsendable.push(`'${item.value ?? ""}' (label '${item.name}')`);
  }

  const custom: NonNullable<ContactBody["customFields"]> = [];
  const heldCustom = new Map<string, unknown>();
  for (const c of current.customFields ?? []) {
    if (c.value === null || c.value === undefined) continue;
    if (c.key === undefined) {
      if (c.id !== undefined) custom.push({ id: c.id, value: c.value });
      continue;
    }
    heldCustom.set(c.key, c.value);
    if (!managed.customKeys.has(c.key)) custom.push({ key: c.key, value: c.value });
  }
  for (const key of [...managed.customKeys].sort()) {
    const to: CustomFieldValue | undefined = desired.customFields[key];
    const from = heldCustom.get(key);
    if (to !== undefined && to !== null) {
      custom.push({ key, value: to });
      if (!sameValue(from, to)) changed = true;
    } else if (from !== undefined) {
      custom.push({ key, value: null });
      changed = true;
    }
  }

  const body: ContactBody = { defaultFields: d, customFields: custom, externalId };
  if (current.externalId !== externalId) changed = true;
  if (isWritableSource(current.source)) body.source = current.source;
  if (current.sourceUrl) body.sourceUrl = current.sourceUrl;
  if (changed && unsendable.length) {
    return {
      ok: false,
      reason: `contact ${current.id} holds the phone number${unsendable.length > 1 ? "s" : ""} ${unsendable.join(", ")}, not a valid number for ${managed.defaultCountry}; Quo's API refuses a write that carries it, so the contact was not written: correct or remove it in the Quo app`,
    };
  }
  return { ok: true, body, empty: !changed, idempotent, owned };
}
