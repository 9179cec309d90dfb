/**
 * Request bodies for Quo's contact writes, built purely from what was last sent, what should be
 * there now, and the item ids Quo returned.
 */
import { createHash } from "node:crypto";
import type { ContactFields, ItemIds, LabelledValue } from "../model.js";

/** Quo's `source` tag for contacts this tool creates; Quo refuses `openphone*`, `csv*` and a few others (api-notes.md). */
export const QUO_SOURCE_TAG = "quo-sync";
/** Quo allows an externalId of 1–75 characters (api-notes.md). */
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
  customFields?: { key: string; value: unknown }[];
  externalId?: string;
  source?: string;
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

export interface PatchPlan {
  body: ContactBody;
  /** Nothing to send: the contact already holds `after`. */
  empty: boolean;
  /**
   * False when the body adds an item without an id: Quo would add it again if the same request were
   * replayed, so a lost response must not be retried blind.
   */
  idempotent: boolean;
}

/**
 * When any item of a list changes, the whole list is sent: unchanged items with their ids, changed
 * ones with their ids and new values, removed ones with `value: null`, new ones without id. Quo's
 * docs do not say whether PATCH merges or replaces a list (api-notes.md); this body means the same
 * under both readings.
 */
function listPatch(before: readonly LabelledValue[], after: readonly LabelledValue[], ids: Record<string, string>): { items: PatchItem[]; changed: boolean; adds: boolean } | null {
  const a = new Map(before.map((i) => [i.name, i.value]));
  const b = new Map(after.map((i) => [i.name, i.value]));
  let changed = false;
  for (const label of new Set([...a.keys(), ...b.keys()])) if (a.get(label) !== b.get(label)) changed = true;
  if (!changed) return null;
  const items: PatchItem[] = [];
  let adds = false;
  for (const label of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const id = ids[label];
    const to = b.get(label);
    if (to !== undefined) {
      if (id !== undefined) items.push({ id, name: label, value: to });
      else {
        items.push({ name: label, value: to });
        adds = true;
      }
    } else if (id !== undefined) {
      items.push({ id, name: label, value: null });
    }
    // A removed item whose id was never learnt cannot be addressed; recovery refreshes ids from
    // Quo before planning, so this only happens when Quo itself no longer has the item.
  }
  return { items, changed, adds };
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** The PATCH /v1/contacts/{id} body that turns `before` into `after`. */
export function buildPatchBody(before: ContactFields, after: ContactFields, itemIds: ItemIds): PatchPlan {
  const d: NonNullable<ContactBody["defaultFields"]> = {};
  let idempotent = true;
  for (const f of ["firstName", "lastName", "company", "role"] as const) {
    const from = before[f] ?? null;
    const to = after[f] ?? null;
    if (from !== to) d[f] = to;
  }
  for (const list of ["phoneNumbers", "emails"] as const) {
    const p = listPatch(before[list], after[list], itemIds[list]);
    if (p) {
      d[list] = p.items;
      if (p.adds) idempotent = false;
    }
  }
  const custom: { key: string; value: unknown }[] = [];
  for (const key of [...new Set([...Object.keys(before.customFields), ...Object.keys(after.customFields)])].sort()) {
    const from = before.customFields[key] ?? null;
    const to = after.customFields[key] ?? null;
    if (!sameValue(from, to)) custom.push({ key, value: to });
  }
  const body: ContactBody = {};
  if (Object.keys(d).length) body.defaultFields = d;
  if (custom.length) body.customFields = custom;
  return { body, empty: Object.keys(body).length === 0, idempotent };
}
