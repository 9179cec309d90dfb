/**
 * Conversion of one source cell to the value a Quo custom field of a given type accepts.
 * Value types follow Quo's (docs/quo-api.md, "Creating a contact"): boolean → JSON boolean, number → JSON number,
 * date → ISO 8601 date-time string, multi-select → array of strings, the others → string.
 * The accepted spellings are the README's ("Custom fields"), restated beside each converter.
 * Pure: no I/O and no clock; the same input always gives the same output.
 */

import type { CustomFieldValue } from "../model.js";

/** The custom field types Quo defines (docs/quo-api.md, `GET /v1/contact-custom-fields`). */
export const customFieldTypes = ["address", "boolean", "date", "multi-select", "number", "string", "url"] as const;

/** One of Quo's custom field types. */
export type CustomFieldType = (typeof customFieldTypes)[number];

/** How a cell is read: the sync's `defaultCountry` decides the order of slashed dates. */
export interface ConvertOptions {
  defaultCountry: string;
  /** Splits multi-select cells; when absent, `;` if the cell has one, else `,`. */
  multiSelectSeparator?: string;
}

/** A converted value, or why the text is not a value of that type (without the value itself). */
export type ConvertResult = { ok: true; value: CustomFieldValue } | { ok: false; reason: string };

/** Google Sheets' serial day 0 is 1899-12-30 (the Lotus/Excel convention Sheets follows). */
const SHEETS_EPOCH_MS = Date.UTC(1899, 11, 30);
const MS_PER_DAY = 86_400_000;
/** The largest serial Sheets shows as a date: 9999-12-31. */
const MAX_SHEETS_SERIAL = 2_958_465;

/**
 * Countries where a slashed date is month first. Source: CLDR, as shipped in Node 20's ICU — the
 * regions whose short date format is M/d/y (`new Intl.DateTimeFormat("en-US").format(…)` gives
 * `1/31/2024`): the United States and its territories, the Marshall Islands, the Philippines and
 * Panama. CLDR writes Micronesia (FM) and Palau (PW) day first, so they read DD/MM/YYYY here.
 */
const MONTH_FIRST_COUNTRIES: ReadonlySet<string> = new Set(["AS", "GU", "MH", "MP", "PA", "PH", "PR", "UM", "US", "VI"]);

/**
 * Countries where a slashed date cannot be read safely either way. CLDR's en-CA and fr-CA short
 * dates are ISO (`2024-01-31`), and Canadian sheets carry both US-style and British-style slashed
 * dates, so a slashed date is accepted only when one reading is impossible (`31/01/2024`) or both
 * agree (`05/05/2024`); anything else is rejected rather than guessed.
 */
const AMBIGUOUS_DATE_COUNTRIES: ReadonlySet<string> = new Set(["CA"]);

const TRUE_WORDS: ReadonlySet<string> = new Set(["true", "yes", "y", "1", "checked", "x"]);
const FALSE_WORDS: ReadonlySet<string> = new Set(["false", "no", "n", "0", "unchecked"]);

/**
 * Digits with optional `,` thousands groups (each group exactly three digits), an optional `.`
 * fraction and an optional exponent: `1234`, `1,234.50`, `-3`, `1e3`. A `.` is always the decimal
 * point, as US-style spreadsheets write it; European `1.234,50` is rejected, not misread.
 */
const NUMBER_RE = /^[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

const ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;
/** `1/31/2024`, `31.01.2024`, `31-01-2024`, optionally followed by a 24-hour time. */
const SLASHED_DATE_RE = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[Tt ](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;
const SERIAL_RE = /^\d+(?:\.\d+)?$/;

/**
 * Converts a trimmed, non-empty cell to a value for a custom field of `type`.
 * Never throws. On failure `reason` says what was expected (the caller names the value, field and
 * column). Conversions (README.md, "Custom fields"):
 * - boolean: true/false, yes/no, y/n, 1/0, checked/unchecked, and `x` for true (case-insensitive);
 * - number: `1234`, `1,234.50`, `-3`, `1e3`, finite only;
 * - date: ISO dates and date-times, slashed dates in the order `defaultCountry` writes them, and
 *   Google Sheets serial numbers, all sent as an ISO 8601 date-time in UTC;
 * - multi-select: split, trimmed, empty items dropped, duplicates removed (first one kept);
 * - url: an absolute http(s) URL, sent as written;
 * - address and string: the text as is.
 */
export function convertCustomValue(raw: string, type: CustomFieldType, opts: ConvertOptions): ConvertResult {
  switch (type) {
    case "boolean":
      return convertBoolean(raw);
    case "number":
      return convertNumber(raw);
    case "date":
      return convertDate(raw, opts.defaultCountry);
    case "multi-select":
      return convertMultiSelect(raw, opts.multiSelectSeparator);
    case "url":
      return convertUrl(raw);
    case "address":
    case "string":
      return { ok: true, value: raw };
  }
}

function convertBoolean(raw: string): ConvertResult {
  const word = raw.toLowerCase();
  if (TRUE_WORDS.has(word)) return { ok: true, value: true };
  if (FALSE_WORDS.has(word)) return { ok: true, value: false };
  return { ok: false, reason: "expected true/false, yes/no, y/n, 1/0, checked/unchecked or x" };
}

function convertNumber(raw: string): ConvertResult {
  if (!NUMBER_RE.test(raw)) {
    return { ok: false, reason: "expected digits with optional ',' thousands groups, a '.' fraction and an exponent" };
  }
  const n = Number(raw.replaceAll(",", ""));
  if (!Number.isFinite(n)) return { ok: false, reason: "it is too large for a number" };
  // -0 would serialise as 0 anyway; normalising keeps hashes and comparisons trivially equal.
  return { ok: true, value: n === 0 ? 0 : n };
}

function convertDate(raw: string, defaultCountry: string): ConvertResult {
  let m = ISO_DATE_RE.exec(raw);
  if (m) return dateResult(num(m[1]), num(m[2]), num(m[3]), 0, 0, 0, 0, 0);

  m = ISO_DATE_TIME_RE.exec(raw);
  if (m) {
    // A date-time without a zone is read as UTC: the planner has no clock or time zone of its own,
    // and the machine's local zone would make the same sheet sync differently on different hosts.
    let offsetMinutes = 0;
    if (m[9] !== undefined) {
      const oh = num(m[10]);
      const om = num(m[11]);
      if (oh > 23 || om > 59) return { ok: false, reason: "the UTC offset is out of range" };
      offsetMinutes = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
    }
    // Fractions beyond milliseconds are cut off: an ISO 8601 date-time from Date carries milliseconds.
    const ms = m[7] === undefined ? 0 : num(m[7].slice(0, 3).padEnd(3, "0"));
    return dateResult(num(m[1]), num(m[2]), num(m[3]), num(m[4]), num(m[5]), m[6] === undefined ? 0 : num(m[6]), ms, offsetMinutes);
  }

  m = SLASHED_DATE_RE.exec(raw);
  if (m) return slashedDate(m, defaultCountry);

  if (SERIAL_RE.test(raw)) return serialDate(raw);

  return {
    ok: false,
    reason: `expected YYYY-MM-DD, an ISO 8601 date-time, ${slashedPattern(defaultCountry)} or a Google Sheets serial number`,
  };
}

function slashedPattern(defaultCountry: string): string {
  if (MONTH_FIRST_COUNTRIES.has(defaultCountry)) return "MM/DD/YYYY";
  if (AMBIGUOUS_DATE_COUNTRIES.has(defaultCountry)) return "an unambiguous DD/MM/YYYY or MM/DD/YYYY";
  return "DD/MM/YYYY";
}

function slashedDate(m: RegExpExecArray, defaultCountry: string): ConvertResult {
  const a = num(m[1]);
  const b = num(m[3]);
  const year = num(m[4]);
  const hour = m[5] === undefined ? 0 : num(m[5]);
  const minute = m[6] === undefined ? 0 : num(m[6]);
  const second = m[7] === undefined ? 0 : num(m[7]);
  if (MONTH_FIRST_COUNTRIES.has(defaultCountry)) return dateResult(year, a, b, hour, minute, second, 0, 0);
  if (!AMBIGUOUS_DATE_COUNTRIES.has(defaultCountry)) return dateResult(year, b, a, hour, minute, second, 0, 0);
  const dayFirst = dateResult(year, b, a, hour, minute, second, 0, 0);
  const monthFirst = dateResult(year, a, b, hour, minute, second, 0, 0);
  if (dayFirst.ok && monthFirst.ok && dayFirst.value !== monthFirst.value) {
    return { ok: false, reason: `in ${defaultCountry} it could be day/month or month/day; write it as YYYY-MM-DD` };
  }
  return dayFirst.ok ? dayFirst : monthFirst;
}

/**
 * Google Sheets serial numbers: days since 1899-12-30, the fraction being the time of day.
 * Any bare number from 1 to 2958465 is a serial, except a four-digit whole number: `2024` in a date
 * column is far more likely a year than 1905-07-16, and guessing a day of that year would be
 * silently wrong, so it is rejected. Serials of 1902–1927 must carry a fraction or be written as
 * dates; for contact data that is a price worth paying.
 */
function serialDate(raw: string): ConvertResult {
  if (/^\d{4}$/.test(raw)) {
    return { ok: false, reason: "a bare four-digit number looks like a year; write a full date such as YYYY-MM-DD" };
  }
  const serial = Number(raw);
  if (!(serial >= 1 && serial <= MAX_SHEETS_SERIAL)) {
    return { ok: false, reason: `a Google Sheets serial number must be between 1 and ${MAX_SHEETS_SERIAL}` };
  }
  // Rounded to the millisecond: time-of-day fractions are binary approximations (13:45 is 0.5729166…).
  return { ok: true, value: new Date(SHEETS_EPOCH_MS + Math.round(serial * MS_PER_DAY)).toISOString() };
}

/** Checks every component against the real calendar (no 02/30) and returns the UTC date-time. */
function dateResult(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offsetMinutes: number,
): ConvertResult {
  if (month < 1 || month > 12) return { ok: false, reason: `there is no month ${month}` };
  if (day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, reason: `${monthNames[month - 1]} ${year} has no day ${day}` };
  }
  if (hour > 23 || minute > 59 || second > 59) return { ok: false, reason: "the time of day is out of range" };
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute - offsetMinutes, second, ms);
  // A UTC offset can move 0000-01-01 or 9999-12-31 out of the four-digit years, which toISOString
  // then writes as a signed six-digit year (-000001, +010000) instead of a plain ISO 8601 date-time.
  const utcYear = d.getUTCFullYear();
  if (utcYear < 0 || utcYear > 9999) return { ok: false, reason: "in UTC it falls outside the years 0000 to 9999" };
  return { ok: true, value: d.toISOString() };
}

const monthNames = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
] as const;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function num(digits: string | undefined): number {
  return Number(digits);
}

/**
 * Multi-select from `a; b` or `a, b` (or the configured separator), trimmed, duplicates removed.
 * Without a configured separator a `;` wins over `,` so that options containing commas
 * (`Sales, EMEA; Support`) survive when the cell uses semicolons. A configured separator is used
 * without its surrounding spaces (`"; "` splits on `;`): cells arrive trimmed, so a trailing
 * `"a; b; "` is `"a; b;"` by now, and the items are trimmed anyway.
 */
function convertMultiSelect(raw: string, separator: string | undefined): ConvertResult {
  const configured = separator !== undefined && separator !== "" ? separator.trim() || separator : undefined;
  const sep = configured ?? (raw.includes(";") ? ";" : ",");
  const seen = new Set<string>();
  const items: string[] = [];
  for (const part of raw.split(sep)) {
    const item = part.trim();
    if (item === "" || seen.has(item)) continue;
    seen.add(item);
    items.push(item);
  }
  if (items.length === 0) return { ok: false, reason: `it has no options between the '${separator || sep}' separators` };
  return { ok: true, value: items };
}

/** URLs: http(s) only. The trimmed text is sent as written, not as URL re-serialises it. */
function convertUrl(raw: string): ConvertResult {
  if (/\s/.test(raw)) return { ok: false, reason: "a URL cannot contain spaces" };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "expected an absolute URL such as https://example.com" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, reason: `only http and https URLs are accepted, not ${url.protocol.slice(0, -1)}` };
  }
  if (url.hostname === "") return { ok: false, reason: "it has no host name" };
  return { ok: true, value: raw };
}
