/**
 * Reads a contact as Quo returns it back into quo-sync's shapes, limited to what the sync manages
 * (its mapped scalars, phone and email labels and custom fields), so it can be compared with what
 * was last sent. Which of a contact's items belong to the sync is decided here, once, by
 * `ownedItems`: the executor's whole-contact updates and the read-backs use the same answer.
 */
import type { ContactFields, CustomFieldValue, ItemIds, LabelledValue } from "../model.js";
import { toE164 } from "./map-row.js";

/** One phone number or email as Quo returns it. */
export interface QuoItemLike {
  id?: string;
  name: string;
  value: string | null;
}

/** The parts of a Quo contact this module reads (structural, so any client's type fits). */
export interface QuoContactLike {
  id: string;
  externalId?: string | null;
  source?: string | null;
  sourceUrl?: string | null;
  defaultFields: {
    firstName?: string | null;
    lastName?: string | null;
    company?: string | null;
    role?: string | null;
    emails?: QuoItemLike[];
    phoneNumbers?: QuoItemLike[];
  };
  customFields?: { key?: string; id?: string; value: unknown }[];
}

/** The optional scalars a sync may map; `firstName` is always mapped (Quo requires it). */
export type OptionalScalar = "lastName" | "company" | "role";
export const OPTIONAL_SCALARS: readonly OptionalScalar[] = ["lastName", "company", "role"];

/** What a sync manages on a contact: everything else on it belongs to people or other tools. */
export interface Managed {
  scalars: ReadonlySet<OptionalScalar>;
  phoneLabels: ReadonlySet<string>;
  emailLabels: ReadonlySet<string>;
  customKeys: ReadonlySet<string>;
  /**
   * The sync's `defaultCountry`: how a number Quo holds as a person typed it in the app
   * (`(617) 555-0145`) is read as E.164, the only form numbers are compared and sent back in.
   */
  defaultCountry: string;
}

/** The lists a whole-contact write must have seen; Quo's PATCH deletes what its body leaves out. */
export type ContactList = ItemList | "customFields";

/**
 * The lists `contact` came without (`phoneNumbers`, `emails`, `customFields`): an absent list is
 * not an empty one, so no whole-contact write may be built from such a copy. Empty when complete.
 */
export function missingLists(contact: QuoContactLike): ContactList[] {
  const out: ContactList[] = [];
  if (!Array.isArray(contact.defaultFields.phoneNumbers)) out.push("phoneNumbers");
  if (!Array.isArray(contact.defaultFields.emails)) out.push("emails");
  if (!Array.isArray(contact.customFields)) out.push("customFields");
  return out;
}

/**
 * A held value in the form the sync compares and sends: a phone number in E.164 when it parses
 * (people type numbers in the app in any form, the API takes E.164 only), else as held; an email
 * as held. Undefined for a phone number that does not parse.
 */
export function canonicalValue(list: ItemList, value: string, managed: Pick<Managed, "defaultCountry">): string | undefined {
  return list === "phoneNumbers" ? toE164(value, managed.defaultCountry) : value;
}

/** Whether a held item's value is the value the sync maps: phones by E.164, emails ignoring case. */
function sameItemValue(list: ItemList, held: string, wanted: string, managed: Pick<Managed, "defaultCountry">): boolean {
  if (list === "emails") return held.toLowerCase() === wanted.toLowerCase();
  return (canonicalValue(list, held, managed) ?? held) === wanted;
}

export type ItemList = "phoneNumbers" | "emails";

const NO_IDS: ItemIds = { phoneNumbers: {}, emails: {} };

function labelsOf(managed: Managed, list: ItemList): ReadonlySet<string> {
  return list === "phoneNumbers" ? managed.phoneLabels : managed.emailLabels;
}

/**
 * Which item of `items` is the sync's for each managed label of `list`. First the id the state
 * remembers (`known`), wherever the item now stands and whatever its label became; then, when
 * `byValue` (label → the value the sync maps) is given, an item holding that value (a phone
 * compared by its E.164 form, an email ignoring case); when that id is gone (a person deleted the
 * number and added it again), the first item carrying the label that no other label already owns.
 * A second item with a managed label, added in the app, is not the sync's and is left alone. Items
 * without a value are never owned.
 */
export function ownedItems(
  items: readonly QuoItemLike[] | undefined,
  list: ItemList,
  managed: Managed,
  known: Record<string, string>,
  byValue?: ReadonlyMap<string, string>,
): Map<string, QuoItemLike> {
  const labels = labelsOf(managed, list);
  const owned = new Map<string, QuoItemLike>();
  const claimed = new Set<QuoItemLike>();
  const present = (items ?? []).filter((i) => i.value !== null);
  for (const label of labels) {
    const id = known[label];
    const byId = id === undefined ? undefined : present.find((i) => i.id === id);
    if (byId && !claimed.has(byId)) {
      owned.set(label, byId);
      claimed.add(byId);
    }
  }
  // Taking over a contact (a link), an item that already holds the value the sync maps to a label
  // becomes the sync's item for it, whatever its label: the contact must not get the number twice.
  for (const [label, value] of byValue ?? []) {
    if (owned.has(label) || !labels.has(label)) continue;
    const same = present.find((i) => !claimed.has(i) && sameItemValue(list, i.value as string, value, managed));
    if (same) {
      owned.set(label, same);
      claimed.add(same);
    }
  }
  for (const label of labels) {
    if (owned.has(label)) continue;
    const byLabel = present.find((i) => i.name === label && !claimed.has(i));
    if (byLabel) {
      owned.set(label, byLabel);
      claimed.add(byLabel);
    }
  }
  return owned;
}

/** The Quo item ids of a contact's managed phone and email labels (see `ownedItems`). */
export function itemIdsOf(contact: QuoContactLike, managed: Managed, known: ItemIds = NO_IDS): ItemIds {
  const ids = (list: ItemList): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [label, item] of ownedItems(contact.defaultFields[list], list, managed, known[list])) if (item.id) out[label] = item.id;
    return out;
  };
  return { phoneNumbers: ids("phoneNumbers"), emails: ids("emails") };
}

function values(contact: QuoContactLike, managed: Managed, list: ItemList, known: Record<string, string>): LabelledValue[] {
  const out: LabelledValue[] = [];
  for (const [label, item] of ownedItems(contact.defaultFields[list], list, managed, known)) {
    const held = item.value as string;
    out.push({ name: label, value: canonicalValue(list, held, managed) ?? held });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * What Quo holds for the fields the sync manages, in the normalised shape the planner hashes (phone
 * numbers in E.164 where they parse). `known`: the item ids the state remembers, so the sync's own
 * item is read when a label is taken twice. A list absent from `contact` reads as empty here: check
 * `missingLists` first wherever that matters.
 */
export function fieldsOf(contact: QuoContactLike, managed: Managed, known: ItemIds = NO_IDS): ContactFields {
  const d = contact.defaultFields;
  const out: ContactFields = {
    firstName: d.firstName ?? "",
    phoneNumbers: values(contact, managed, "phoneNumbers", known.phoneNumbers),
    emails: values(contact, managed, "emails", known.emails),
    customFields: {},
  };
  for (const f of OPTIONAL_SCALARS) {
    const v = d[f];
    if (managed.scalars.has(f) && v) out[f] = v;
  }
  for (const c of contact.customFields ?? []) {
    if (c.key && managed.customKeys.has(c.key) && c.value !== null && c.value !== undefined) {
      out.customFields[c.key] = c.value as CustomFieldValue;
    }
  }
  return out;
}
