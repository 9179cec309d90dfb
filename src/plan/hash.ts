/**
 * Content hashes of contact fields: the state store keeps one per key so that an unchanged record
 * costs no request (as vdirsyncer's status database keeps a hash per item). Pure: no I/O.
 * Speed matters: the planner hashes every source row on every run, so `hashContact` writes the
 * known shape of ContactFields directly (about half the cost of walking it generically) and the
 * tests hold it to `canonicalJson`'s output.
 */

import * as crypto from "node:crypto";
import type { ContactFields, CustomFieldValue, LabelledValue } from "../model.js";

/** Hex digits kept from the SHA-256 digest: 128 bits, far beyond any chance collision. */
const HASH_HEX_LENGTH = 32;
/** Deeper nesting than any contact has; beyond it a value is taken to be cyclic. */
const MAX_DEPTH = 1000;
/** Strings that `JSON.stringify` would escape; the rest are quoted directly, which is faster. */
const NEEDS_ESCAPE_RE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** One-shot `crypto.hash` (Node ≥ 20.12) skips a Hash object per call; older Node 20 falls back. */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha256", text, "hex")
    : (text) => crypto.createHash("sha256").update(text).digest("hex");

/**
 * JSON with object keys sorted (by code unit, recursively) and no whitespace, so equal data gives
 * equal text whatever order its keys were built in. Arrays keep their order. As in
 * `JSON.stringify`: `undefined`, functions and symbols are dropped from objects and become `null`
 * in arrays, non-finite numbers become `null`, `toJSON` is honoured. Throws `TypeError` on a
 * bigint, or on nesting deeper than 1000 levels (a cycle).
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0) ?? "null";
}

function write(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case "string":
      return quote(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      throw new TypeError("canonicalJson: a bigint has no JSON form");
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return "null";
  const obj = value as object & { toJSON?: () => unknown };
  if (typeof obj.toJSON === "function") return write(obj.toJSON(), depth);
  if (depth >= MAX_DEPTH) throw new TypeError(`canonicalJson: nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
  if (Array.isArray(obj)) {
    let out = "[";
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out += ",";
      out += write(obj[i], depth + 1) ?? "null";
    }
    return out + "]";
  }
  const record = obj as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  let out = "{";
  for (const k of keys) {
    const v = write(record[k], depth + 1);
    if (v === undefined) continue;
    if (out.length > 1) out += ",";
    out += quote(k) + ":" + v;
  }
  return out + "}";
}

function quote(s: string): string {
  return NEEDS_ESCAPE_RE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/**
 * The hash the state store keeps for a contact's fields (`SyncRow.hash`): the first 32 hex digits
 * of the SHA-256 of their `canonicalJson`. Only the members of ContactFields count. `phoneNumbers`
 * and `emails` are hashed in label order even if given otherwise (fields read back from Quo need
 * not come sorted), so only a real difference changes the hash. Does not modify `fields`.
 */
export function hashContact(fields: ContactFields): string {
  return sha256Hex(contactJson(fields)).slice(0, HASH_HEX_LENGTH);
}

/** `canonicalJson(fields)` for the known shape, keys written in their sorted order. */
function contactJson(f: ContactFields): string {
  let out = "{";
  if (f.company !== undefined) out += `"company":${quote(f.company)},`;
  out += `"customFields":${customFieldsJson(f.customFields)}`;
  out += `,"emails":${labelledJson(f.emails)}`;
  out += `,"firstName":${quote(f.firstName)}`;
  if (f.lastName !== undefined) out += `,"lastName":${quote(f.lastName)}`;
  out += `,"phoneNumbers":${labelledJson(f.phoneNumbers)}`;
  if (f.role !== undefined) out += `,"role":${quote(f.role)}`;
  return out + "}";
}

function customFieldsJson(values: Record<string, CustomFieldValue>): string {
  const keys = Object.keys(values);
  if (keys.length > 1) keys.sort();
  let out = "{";
  for (const k of keys) {
    const v = values[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ",";
    out += quote(k) + ":" + (typeof v === "string" ? quote(v) : canonicalJson(v));
  }
  return out + "}";
}

function labelledJson(items: readonly LabelledValue[]): string {
  const sorted = isSorted(items) ? items : [...items].sort(compareLabelled);
  let out = "[";
  for (let i = 0; i < sorted.length; i++) {
    const item = sorted[i] as LabelledValue;
    if (i > 0) out += ",";
    out += `{"name":${quote(item.name)},"value":${quote(item.value)}}`;
  }
  return out + "]";
}

function compareLabelled(a: LabelledValue, b: LabelledValue): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

function isSorted(items: readonly LabelledValue[]): boolean {
  for (let i = 1; i < items.length; i++) {
    if (compareLabelled(items[i - 1] as LabelledValue, items[i] as LabelledValue) > 0) return false;
  }
  return true;
}
