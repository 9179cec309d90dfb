/**
 * What an update sends when a person changed some of the sync's fields in the Quo app since the
 * sync last wrote them: with `onDrift: "overwrite"` the source's values, with `"skip"` the person's
 * values for exactly those fields and the source's for the rest. Decided per field at write time,
 * from the copy read just before the write, so it holds with or without `--verify`. Pure.
 */
import type { ContactFields, CustomFieldValue, FieldChanges, LabelledValue } from "../model.js";
import { diffFields } from "./diff.js";

/** What to send, and the fields kept as a person set them (`from`: the sync's value, `to`: Quo's). */
export interface DriftResolution {
  send: ContactFields;
  kept: FieldChanges;
}

const SCALARS = ["firstName", "lastName", "company", "role"] as const;
type Scalar = (typeof SCALARS)[number];

function isScalar(field: string): field is Scalar {
  return (SCALARS as readonly string[]).includes(field);
}

/** `items` with the item under `label` set to `value` (removed when null), in label order. */
function withItem(items: readonly LabelledValue[], label: string, value: unknown): LabelledValue[] {
  const out = items.filter((i) => i.name !== label);
  if (typeof value === "string") out.push({ name: label, value });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** One field's value, named as `diffFields` names it; null when absent. */
export function fieldValue(fields: ContactFields, field: string): unknown {
  if (isScalar(field)) return field === "firstName" ? fields.firstName : (fields[field] ?? null);
  const dot = field.indexOf(".");
  const list = field.slice(0, dot);
  const name = field.slice(dot + 1);
  if (list === "phoneNumbers" || list === "emails") return fields[list].find((i) => i.name === name)?.value ?? null;
  return fields.customFields[name] ?? null;
}

/**
 * `target` with each of `names` (as `diffFields` names fields) taken from `source` instead: what
 * a blank cell under `blanks: "keep"` leaves, Quo's (or the last sent) value. Returns `target`
 * itself when `names` is empty.
 */
export function overlayFields(target: ContactFields, source: ContactFields, names: readonly string[]): ContactFields {
  let out = target;
  for (const name of names) out = withField(out, name, fieldValue(source, name));
  return out;
}

/** `fields` with one field, named as `diffFields` names it, set to `value` (absent when null). */
export function withField(fields: ContactFields, field: string, value: unknown): ContactFields {
  const out: ContactFields = { ...fields, customFields: { ...fields.customFields } };
  if (isScalar(field)) {
    if (field === "firstName") out.firstName = typeof value === "string" ? value : "";
    else if (typeof value === "string") out[field] = value;
    else delete out[field];
    return out;
  }
  const dot = field.indexOf(".");
  const list = field.slice(0, dot);
  const name = field.slice(dot + 1);
  if (list === "phoneNumbers" || list === "emails") out[list] = withItem(fields[list], name, value);
  else if (value === null || value === undefined) delete out.customFields[name];
  else out.customFields[name] = value as CustomFieldValue;
  return out;
}

/**
 * `before`: what the sync last wrote (the state); `desired`: what the source says now; `held`: the
 * sync's fields as Quo holds them now. A field whose held value differs from `before` drifted: with
 * `onDrift: "skip"` it is sent as held and listed in `kept`; otherwise everything follows `desired`.
 */
export function keepDrifted(before: ContactFields, desired: ContactFields, held: ContactFields, onDrift: "overwrite" | "skip"): DriftResolution {
  if (onDrift !== "skip") return { send: desired, kept: {} };
  const drifted = diffFields(before, held);
  let send = desired;
  const kept: FieldChanges = {};
  const wanted = diffFields(held, desired);
  for (const [field, change] of Object.entries(drifted)) {
    send = withField(send, field, change.to);
    // Listed only where keeping it makes a difference: where the source would have set another value.
    const source = wanted[field];
    if (source) kept[field] = { from: source.to, to: change.to };
  }
  return { send, kept };
}
