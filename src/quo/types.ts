/**
 * Wire types of Quo's public API v1, contacts part (docs/quo-api.md and the reference pages it links).
 * Types only: they describe JSON as Quo sends and receives it, not quo-sync's own model.
 */

/** The type of a workspace custom field (`GET /v1/contact-custom-fields`). */
export type CustomFieldType = "address" | "boolean" | "date" | "multi-select" | "number" | "string" | "url";

/** One custom field definition; definitions can only be changed in the Quo app. */
export interface QuoCustomFieldDef {
  name: string;
  key: string;
  type: CustomFieldType;
}

/**
 * One labelled email or phone number. On PATCH an item with `id` updates that item and
 * `value: null` removes it; an item without `id` is taken to be added (docs/quo-api.md, "Updating a contact").
 */
export interface QuoItem {
  id?: string;
  name: string;
  value: string | null;
}

/**
 * A contact's standard fields, as Quo returns them (null where unset). A list Quo left out of its
 * answer stays absent: an absent list is not an empty one, and a whole-contact PATCH built from it
 * would delete every item of that list (docs/quo-api.md, "Updating a contact").
 */
export interface QuoDefaultFields {
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  role: string | null;
  emails?: QuoItem[];
  phoneNumbers?: QuoItem[];
}

/** A contact as Quo returns it; `customFields` is absent when Quo left it out (see `QuoDefaultFields`). */
export interface QuoContact {
  id: string;
  externalId?: string | null;
  source?: string | null;
  sourceUrl?: string | null;
  defaultFields: QuoDefaultFields;
  customFields?: { key?: string; name?: string; id?: string; type?: string; value: unknown }[];
  createdAt?: string;
  updatedAt?: string;
}

/** The body of `POST /v1/contacts` (needs `defaultFields.firstName`) or `PATCH /v1/contacts/{id}`. */
export interface QuoContactWrite {
  defaultFields?: Partial<QuoDefaultFields>;
  /** A custom value by the field's `key`, or by its `id` as Quo returned it. */
  customFields?: ({ key: string; value: unknown } | { id: string; value: unknown })[];
  externalId?: string;
  source?: string;
  sourceUrl?: string;
}

/** One page of `GET /v1/contacts`; `totalItems` is left out on purpose: it is unreliable (docs/quo-api.md, "Reading contacts"). */
export interface QuoContactPage {
  data: QuoContact[];
  nextPageToken: string | null;
}
