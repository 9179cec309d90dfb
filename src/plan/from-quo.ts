/**
 * Reads a contact as Quo returns it back into quo-sync's shapes, limited to what the sync manages
 * (its configured labels and custom fields), so it can be compared with what was last sent.
 */
import type { ContactFields, CustomFieldValue, ItemIds, LabelledValue } from "../model.js";

/** The parts of a Quo contact this module reads (structural, so any client's type fits). */
export interface QuoContactLike {
  id: string;
  defaultFields: {
    firstName?: string | null;
    lastName?: string | null;
    company?: string | null;
    role?: string | null;
    emails?: { id?: string; name: string; value: string | null }[];
    phoneNumbers?: { id?: string; name: string; value: string | null }[];
  };
  customFields?: { key?: string; value: unknown }[];
}

/** Which labels and custom-field keys a sync manages. */
export interface Managed {
  phoneLabels: ReadonlySet<string>;
  emailLabels: ReadonlySet<string>;
  customKeys: ReadonlySet<string>;
}

function items(list: QuoContactLike["defaultFields"]["emails"], labels: ReadonlySet<string>): { values: LabelledValue[]; ids: Record<string, string> } {
  const values: LabelledValue[] = [];
  const ids: Record<string, string> = {};
  for (const i of list ?? []) {
    // The first item with a managed label is the sync's; a second one with the same label was
    // added by someone else and is left alone.
    if (!labels.has(i.name) || i.value === null || i.name in ids || values.some((v) => v.name === i.name)) continue;
    values.push({ name: i.name, value: i.value });
    if (i.id) ids[i.name] = i.id;
  }
  values.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { values, ids };
}

/** The Quo item ids of a contact's managed phone and email labels. */
export function itemIdsOf(contact: QuoContactLike, managed: Managed): ItemIds {
  return {
    phoneNumbers: items(contact.defaultFields.phoneNumbers, managed.phoneLabels).ids,
    emails: items(contact.defaultFields.emails, managed.emailLabels).ids,
  };
}

/** What Quo holds for the fields the sync manages, in the normalised shape the planner hashes. */
export function fieldsOf(contact: QuoContactLike, managed: Managed): ContactFields {
  const d = contact.defaultFields;
  const out: ContactFields = {
    firstName: d.firstName ?? "",
    phoneNumbers: items(d.phoneNumbers, managed.phoneLabels).values,
    emails: items(d.emails, managed.emailLabels).values,
    customFields: {},
  };
  if (d.lastName) out.lastName = d.lastName;
  if (d.company) out.company = d.company;
  if (d.role) out.role = d.role;
  for (const c of contact.customFields ?? []) {
    if (c.key && managed.customKeys.has(c.key) && c.value !== null && c.value !== undefined) {
      out.customFields[c.key] = c.value as CustomFieldValue;
    }
  }
  return out;
}
