/**
 * Field-by-field comparison of two contacts, in the flat names reports use:
 * `firstName`, `phoneNumbers.mobile`, `emails.work`, `customFields.<key>`.
 */
import type { ContactFields, FieldChanges, LabelledValue } from "../model.js";

const SCALARS = ["firstName", "lastName", "company", "role"] as const;

function byLabel(items: readonly LabelledValue[]): Map<string, string> {
  return new Map(items.map((i) => [i.name, i.value]));
}

function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/**
 * The fields that differ between `before` (null for a create) and `after` (null for a delete),
 * each as `{from, to}` with null standing for "absent".
 */
export function diffFields(before: ContactFields | null, after: ContactFields | null): FieldChanges {
  const out: FieldChanges = {};
  for (const f of SCALARS) {
    const from = before?.[f] ?? null;
    const to = after?.[f] ?? null;
    if (from !== to) out[f] = { from, to };
  }
  for (const list of ["phoneNumbers", "emails"] as const) {
    const a = byLabel(before?.[list] ?? []);
    const b = byLabel(after?.[list] ?? []);
    for (const label of [...new Set([...a.keys(), ...b.keys()])].sort()) {
      const from = a.get(label) ?? null;
      const to = b.get(label) ?? null;
      if (from !== to) out[`${list}.${label}`] = { from, to };
    }
  }
  const ca = before?.customFields ?? {};
  const cb = after?.customFields ?? {};
  for (const key of [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort()) {
    const from = ca[key] ?? null;
    const to = cb[key] ?? null;
    if (!same(from, to)) out[`customFields.${key}`] = { from, to };
  }
  return out;
}
