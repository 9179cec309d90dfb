/**
 * The mapping stage of the planner: one source row → the normalised Quo contact fields, or the
 * reasons it cannot be sent: each field's text read or computed (src/plan/field-source.ts: a cell,
 * a default, a map, a constant, a template, a part of a split name), names trimmed; phone numbers to E.164 with libphonenumber-js and
 * `defaultCountry`; emails validated; blank optional fields left out. A row that cannot be sent as
 * it is — no first name (Quo requires it), an invalid phone or email, a cell past `MAX_CELL_LENGTH`
 * — is rejected, never silently trimmed: the report names key, row number, and for every field at
 * fault its value and reason, so that one pass over the sheet fixes them all.
 * Pure (docs/architecture.md, "Planning is pure"): no I/O, no clock.
 */

import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";
import type { FieldSource, SyncConfig } from "../config.js";
import type { ContactFields, Rejection, RowMapping, SourceRow } from "../model.js";
import { convertCustomValue, type CustomFieldType } from "./custom-values.js";
import { compileSource, describeSource, type CompiledSource } from "./field-source.js";
import type { SplitName } from "./split-name.js";

/**
 * A custom field mapping resolved against the workspace's definitions (resolution itself is done
 * elsewhere). `configName` is the name or key the config used, `column` the source column a plain
 * or `column` entry reads (for any other form, how it is computed, e.g. `template '{{A}} {{B}}'`),
 * `key`, `name` and `type` the Quo definition. What the field reads is taken from the sync's
 * `fields.customFields[configName]` (`column` when the config has no such entry). Keys are
 * expected to be unique across one sync's list.
 */
export interface ResolvedCustomField {
  configName: string;
  column: string;
  key: string;
  name: string;
  type: CustomFieldType;
}

/** What `mapRow` needs besides the row: the sync's config and its resolved custom fields. */
export interface MapOptions {
  sync: SyncConfig;
  customFields: ResolvedCustomField[];
  /** Splits multi-select cells; when absent, `;` if the cell has one, else `,`. */
  multiSelectSeparator?: string;
  /** Also say, field by field, what each got and why (`plan --explain`, a dry run's report). */
  explain?: boolean;
}

/**
 * The mapped fields, or every reason the row cannot be sent: one rejection per field at fault, in
 * the order fields are mapped (first name, last name, company, role, phones, emails, custom fields),
 * or the connector's one `problem` for a row it could not read as a whole. `keep` names the fields
 * (as src/plan/diff.ts names them: `company`, `phoneNumbers.mobile`, `customFields.<Quo key>`)
 * whose value is blank under `blanks: "keep"`: they are not in `fields`, and Quo's value stays.
 * `mapping` only with `explain` (and never for a row rejected as a whole by its `problem`).
 */
export type MapResult =
  | { ok: true; fields: ContactFields; keep: string[]; mapping?: RowMapping }
  | { ok: false; rejections: Rejection[]; mapping?: RowMapping };

/**
 * The longest cell mapping sends, in characters (UTF-16 code units). Quo documents no limit on a
 * name, company, role or custom value (docs/quo-api.md); 10,000 is far past any real one (Excel
 * holds 32,767 in a cell) and keeps a pasted document in a mapped column from becoming a contact.
 */
export const MAX_CELL_LENGTH = 10_000;

/** How much of an oversized cell a rejection keeps as its `value`: enough to find the cell. */
const OVERSIZED_VALUE_SHOWN = 100;

/** Quo's phone number pattern (docs/quo-api.md: phone numbers are E.164). */
const E164_RE = /^\+[1-9]\d{1,14}$/;
/**
 * Invisible format characters (bidi marks, zero-width spaces) that spreadsheets and web pages wrap
 * around pasted phone numbers. They are not part of the number and `trim()` keeps them.
 */
const FORMAT_CHARS_RE = /\p{Cf}/gu;
const WHITESPACE_RUN_RE = /\s+/g;
/** The longest address SMTP can carry (RFC 5321's 256-octet path minus the angle brackets). */
const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;
const MAX_LABEL_LENGTH = 63;
/** Characters that only appear in a local part inside quotes, or that separate several addresses. */
const LOCAL_PART_FORBIDDEN_RE = /[\s\p{Cc}<>()[\]\\,;:"@]/u;
const DOMAIN_LABEL_RE = /^[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}-]*[\p{L}\p{N}\p{M}])?$/u;

/** What a field kept blank says in the mapping. */
const KEPT = "blank, kept: Quo's value stays (blanks: keep)";

/** A sync's fields compiled once: each source with its field's names, in mapping order. */
interface CompiledSync {
  firstName: CompiledSource;
  /** lastName, company, role: those mapped. */
  scalars: { name: "lastName" | "company" | "role"; source: CompiledSource }[];
  phones: { label: string; source: CompiledSource }[];
  emails: { label: string; source: CompiledSource }[];
  /** By config name; filled as `mapRow` meets each resolved custom field. */
  custom: Map<string, CompiledSource>;
  /** Whether any field's blanks are kept (else `keptBlanks` has nothing to look at). */
  keeps: boolean;
}

/** Compiled syncs, by their config object: a planner maps every row of a sync with the same one. */
const compiledSyncs = new WeakMap<SyncConfig, CompiledSync>();

function compiledFor(sync: SyncConfig): CompiledSync {
  let c = compiledSyncs.get(sync);
  if (c !== undefined) return c;
  const blanks = sync.blanks ?? "clear";
  const f = sync.fields;
  const scalars = (["lastName", "company", "role"] as const).flatMap((name) => {
    const source = f[name];
    return source === undefined ? [] : [{ name, source: compileSource(source, blanks) }];
  });
  const labelled = (map: Record<string, FieldSource>) => sortedKeys(map).map((label) => ({ label, source: compileSource(map[label] as FieldSource, blanks) }));
  const custom = new Map(Object.entries(f.customFields).map(([name, source]) => [name, compileSource(source, blanks)]));
  c = { firstName: compileSource(f.firstName, blanks), scalars, phones: labelled(f.phoneNumbers), emails: labelled(f.emails), custom, keeps: false };
  c.keeps = [...c.scalars, ...c.phones, ...c.emails, ...c.custom.values()].some((x) => ("source" in x ? x.source : x).blanks === "keep");
  compiledSyncs.set(sync, c);
  return c;
}

function customSource(c: CompiledSync, sync: SyncConfig, cf: ResolvedCustomField): CompiledSource {
  let source = c.custom.get(cf.configName);
  if (source === undefined) c.custom.set(cf.configName, (source = compileSource(cf.column, sync.blanks ?? "clear")));
  return source;
}

/** The trimmed cell of `column`: own cells only, as a missing column named like an object member (`constructor`) is a blank cell. */
function cellOf(row: SourceRow, column: string): string {
  return (Object.hasOwn(row.values, column) ? (row.values[column] ?? "") : "").trim();
}

/**
 * Maps one keyed source row to Quo contact fields with `opts.sync.fields` and `defaultCountry`.
 * Each field's text comes from its source (src/plan/field-source.ts: a trimmed cell, a default, a
 * map, a constant, a template, a part of a split name) and is then normalised as a cell is: first
 * name, last name, company and role have inner runs of whitespace collapsed to one space; phones
 * become E.164 and emails get a lower-case domain; `phoneNumbers` and `emails` are ordered by
 * label, custom fields converted to their Quo type. A blank value leaves its field out; under
 * `blanks: "keep"` (the field's, else the sync's) it is also listed in `keep`. A row the connector
 * flagged with `problem` is rejected with that reason alone (its cells may not be where the header
 * says). Otherwise every mapped field is judged — a blank first name (whatever `blanks` says), a
 * cell longer than `MAX_CELL_LENGTH`, a value not in a strict map, a value that cannot be sent as
 * written — and each one at fault gives a rejection naming key, row, field, value and column; the
 * row is rejected if any is. The result does not depend on the order of keys in the config.
 * Never throws.
 */
export function mapRow(row: SourceRow, key: string, opts: MapOptions): MapResult {
  if (row.problem) return { ok: false, rejections: [{ key, row: row.row, reason: row.problem }] };
  const c = compiledFor(opts.sync);
  const rejections: Rejection[] = [];
  const keep: string[] = [];
  const mapping: RowMapping | undefined = opts.explain ? {} : undefined;
  const reject = (field: string, value: string, reason: string): void => {
    rejections.push({ key, row: row.row, field, value, reason: `${field}: ${reason}` });
    if (mapping) mapping[field] = { value, via: `rejected: ${reason}` };
  };
  const cell = (column: string): string => cellOf(row, column);
  const splits = new Map<string, SplitName>();
  let via = "";
  /** The field's text, or undefined after rejecting it (an oversized cell, a value a strict map lacks, an oversized result). */
  const text = (field: string, source: CompiledSource): string | undefined => {
    if (source.plain !== undefined) {
      // A plain column (most fields): its cell is its text, trimmed once.
      const value = cell(source.plain);
      if (value.length <= MAX_CELL_LENGTH) {
        via = source.via;
        return value;
      }
    }
    for (const column of source.columns) {
      const value = cell(column);
      if (value.length > MAX_CELL_LENGTH) {
        reject(field, clipValue(value), `${value.length.toLocaleString("en-US")} characters, more than the ${MAX_CELL_LENGTH.toLocaleString("en-US")} a cell may hold (column '${column}')`);
        return undefined;
      }
    }
    const r = source.read(cell, splits);
    if (!r.ok) {
      reject(field, r.value, r.reason);
      return undefined;
    }
    if (r.text.length > MAX_CELL_LENGTH) {
      reject(field, clipValue(r.text), `${r.text.length.toLocaleString("en-US")} characters, more than the ${MAX_CELL_LENGTH.toLocaleString("en-US")} a value may hold (${r.via})`);
      return undefined;
    }
    via = r.via;
    return r.text;
  };
  /** Notes a blank value: kept (listed in `keep` as `keepName`) or cleared. */
  const blank = (field: string, keepName: string, source: CompiledSource): void => {
    if (source.blanks === "keep") keep.push(keepName);
    if (mapping) mapping[field] = { value: null, via: source.blanks === "keep" ? `${via}; ${KEPT}` : via };
  };
  const sent = (field: string, value: unknown): void => {
    if (mapping) mapping[field] = { value, via };
  };

  const f = opts.sync.fields;
  const fields: ContactFields = { firstName: "", phoneNumbers: [], emails: [], customFields: {} };
  const first = text("firstName", c.firstName);
  if (first !== undefined) {
    fields.firstName = collapseSpaces(first);
    if (fields.firstName === "") reject("firstName", "", `first name is empty (${describeFirstName(f.firstName)}); Quo requires one`);
    else sent("firstName", fields.firstName);
  }
  for (const { name, source } of c.scalars) {
    const value = text(name, source);
    if (value === undefined) continue;
    if (value === "") blank(name, name, source);
    else sent(name, (fields[name] = collapseSpaces(value)));
  }

  const country = opts.sync.defaultCountry;
  for (const { label, source } of c.phones) {
    const field = `phoneNumbers.${label}`;
    const value = text(field, source);
    if (value === undefined) continue;
    if (value === "") {
      blank(field, field, source);
      continue;
    }
    const phone = normalisePhone(value, country);
    if (!phone.ok) reject(field, value, `'${value}' ${phone.reason} (${via})`);
    else {
      fields.phoneNumbers.push({ name: label, value: phone.value });
      sent(field, phone.value);
    }
  }

  for (const { label, source } of c.emails) {
    const field = `emails.${label}`;
    const value = text(field, source);
    if (value === undefined) continue;
    if (value === "") {
      blank(field, field, source);
      continue;
    }
    const email = normaliseEmail(value);
    if (!email.ok) reject(field, value, `'${value}' is not a valid email address (${email.reason}) (${via})`);
    else {
      fields.emails.push({ name: label, value: email.value });
      sent(field, email.value);
    }
  }

  for (const cf of [...opts.customFields].sort((a, b) => compareCodeUnits(a.configName, b.configName))) {
    const field = `customFields.${cf.configName}`;
    const source = customSource(c, opts.sync, cf);
    const value = text(field, source);
    if (value === undefined) continue;
    if (value === "") {
      blank(field, `customFields.${cf.key}`, source);
      continue;
    }
    const converted = convertCustomValue(value, cf.type, {
      defaultCountry: country,
      multiSelectSeparator: opts.multiSelectSeparator,
    });
    if (!converted.ok) reject(field, value, `'${value}' is not a ${cf.type} (${converted.reason}) (${via})`);
    else {
      fields.customFields[cf.key] = converted.value;
      sent(field, converted.value);
    }
  }
  const explained = mapping ? { mapping } : {};
  return rejections.length ? { ok: false, rejections, ...explained } : { ok: true, fields, keep, ...explained };
}

/**
 * The `keep` list `mapRow` would give the row — the fields blank under `blanks: "keep"`, named as
 * src/plan/diff.ts names them — without normalising anything: the planner's drift check asks it for
 * rows it does not map afresh. Empty for a row with a `problem`, and at once for a sync that keeps
 * no blanks. Never throws.
 */
export function keptBlanks(row: SourceRow, opts: MapOptions): string[] {
  const c = compiledFor(opts.sync);
  if (!c.keeps || row.problem) return [];
  const cell = (column: string): string => cellOf(row, column);
  const splits = new Map<string, SplitName>();
  const isKept = (source: CompiledSource): boolean => {
    if (source.blanks !== "keep") return false;
    const r = source.read(cell, splits);
    return r.ok && r.text === "";
  };
  const out: string[] = [];
  for (const { name, source } of c.scalars) if (isKept(source)) out.push(name);
  for (const { label, source } of c.phones) if (isKept(source)) out.push(`phoneNumbers.${label}`);
  for (const { label, source } of c.emails) if (isKept(source)) out.push(`emails.${label}`);
  for (const cf of [...opts.customFields].sort((a, b) => compareCodeUnits(a.configName, b.configName))) {
    if (isKept(customSource(c, opts.sync, cf))) out.push(`customFields.${cf.key}`);
  }
  return out;
}

/** Where a first name comes from, as the rejection of a blank one names it. */
function describeFirstName(source: FieldSource): string {
  if (typeof source === "object" && "split" in source) return `the ${source.part} part of the split column '${source.split}'`;
  return describeSource(source);
}

/** The start of an oversized cell, as a rejection keeps it: never half of a surrogate pair. */
function clipValue(value: string): string {
  let end = OVERSIZED_VALUE_SHOWN;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${value.slice(0, end)}…`;
}

type Normalised = { ok: true; value: string } | { ok: false; reason: string };

/**
 * Phone metadata: `libphonenumber-js/max`. With `min` metadata `isValid()` checks little more than
 * length and leading digits, and accepts numbers in unallocated ranges (about one in five random
 * German national numbers that `max` refuses); Quo can never reach those. Measured on Node 20:
 * 10–35 µs per number with either (GB slowest, US ~13 µs, DE ~10 µs; `max` about 10 % more than
 * `min`), and `max` adds ~75 KB of metadata loaded once, so the stricter check is kept. Phones are
 * ~90 % of `mapRow`'s cost.
 * `extract: false` makes the whole cell the number: `Call 212 555 0100` or `tel:…` is rejected
 * rather than silently cut down to the digits inside it.
 */
function normalisePhone(value: string, defaultCountry: string): Normalised {
  const text = value.replace(FORMAT_CHARS_RE, "");
  const country = defaultCountry as CountryCode;
  let phone = parsePhoneNumberFromString(text, { defaultCountry: country, extract: false });
  // isValid() is a third of the cost of a number: ask once per reading.
  let valid = phone !== undefined && phone.isValid();
  // `00` is the international prefix in most of the world, so contacts abroad are often written
  // `0049 …` even in sheets of countries that dial out with another prefix (011 in the US). No
  // national number starts with 00, so the retry only runs where the first reading failed.
  if (!valid && /^00\s*[1-9]/.test(text)) {
    phone = parsePhoneNumberFromString(`+${text.slice(2).trimStart()}`, { defaultCountry: country, extract: false });
    valid = phone !== undefined && phone.isValid();
  }
  if (phone === undefined || !valid || !E164_RE.test(phone.number)) {
    return { ok: false, reason: `is not a valid phone number for ${defaultCountry}` };
  }
  if (phone.ext !== undefined) {
    // E.164 has no room for an extension; dropping it would dial the switchboard instead.
    return { ok: false, reason: `has an extension (${phone.ext}), which a Quo phone number (E.164) cannot hold` };
  }
  return { ok: true, value: phone.number };
}

/**
 * A phone number as Quo holds it, in the E.164 form the sync maps to, or undefined when it is not a
 * number of `defaultCountry`'s plan. Quo keeps E.164 already; a number typed in the app another way
 * is read as the sync would read it from a cell.
 */
export function toE164(value: string, defaultCountry: string): string | undefined {
  if (E164_RE.test(value)) return value;
  const n = normalisePhone(value, defaultCountry);
  return n.ok ? n.value : undefined;
}

/**
 * A pragmatic check rather than RFC 5322's full grammar: one `@`; a local part of 1–64 characters
 * with no spaces, quotes or separators; a domain of at least two dot-separated labels of letters,
 * digits and inner hyphens (Unicode letters allowed for IDNs) with a non-numeric top level; 254
 * characters at most. Only the domain is lower-cased: domains are case-insensitive, local parts
 * are not (RFC 5321, section 2.4).
 */
function normaliseEmail(value: string): Normalised {
  if (value.length > MAX_EMAIL_LENGTH) return { ok: false, reason: `longer than ${MAX_EMAIL_LENGTH} characters` };
  const at = value.indexOf("@");
  if (at === -1) return { ok: false, reason: "no '@'" };
  if (value.indexOf("@", at + 1) !== -1) return { ok: false, reason: "more than one '@'" };
  const local = value.slice(0, at);
  const domain = value.slice(at + 1).toLowerCase();
  if (local === "") return { ok: false, reason: "nothing before the '@'" };
  if (local.length > MAX_LOCAL_PART_LENGTH) {
    return { ok: false, reason: `more than ${MAX_LOCAL_PART_LENGTH} characters before the '@'` };
  }
  if (LOCAL_PART_FORBIDDEN_RE.test(local)) return { ok: false, reason: "spaces or special characters before the '@'" };
  if (local.startsWith(".") || local.endsWith(".") || local.includes("..")) {
    return { ok: false, reason: "a misplaced '.' before the '@'" };
  }
  if (domain === "") return { ok: false, reason: "nothing after the '@'" };
  const labels = domain.split(".");
  if (labels.length < 2) return { ok: false, reason: `the domain '${domain}' has no '.'` };
  for (const label of labels) {
    if (label.length === 0 || label.length > MAX_LABEL_LENGTH || !DOMAIN_LABEL_RE.test(label)) {
      return { ok: false, reason: `the domain '${domain}' is not a valid host name` };
    }
  }
  if (/^\d+$/.test(labels[labels.length - 1] as string)) {
    return { ok: false, reason: `the domain '${domain}' is not a valid host name` };
  }
  return { ok: true, value: `${local}@${domain}` };
}

function collapseSpaces(value: string): string {
  return value.replace(WHITESPACE_RUN_RE, " ");
}

/** Labels in code-unit order (plain `<`, not locale-aware) so equal contacts hash equally anywhere. */
function sortedKeys(map: Record<string, unknown>): string[] {
  return Object.keys(map).sort(compareCodeUnits);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
