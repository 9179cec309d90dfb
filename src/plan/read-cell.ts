/**
 * Numbers and dates read from cells as people keep them, for the comparisons of a sync's `where`
 * (`gt`, `gte`, `lt`, `lte`), and the date bounds a config may give them. Pure: no clock, no
 * time zone of the machine, no locale of the process.
 *
 * Plain code rather than a date library: the forms read here are three patterns, and the common
 * libraries (date-fns `parseISO`, `new Date(text)`) read a time without an offset in the process's
 * own time zone, which would make a plan depend on the machine it runs on.
 */

/** The order of a slash date's first two numbers: `M/D/YYYY` or `D/M/YYYY`. */
export type SlashDateOrder = "month-first" | "day-first";

/**
 * Countries whose people write a date as month/day/year. Canada writes both; month first is the
 * more common in the spreadsheets of its businesses. Everywhere else writes day/month/year.
 */
export const MONTH_FIRST_COUNTRIES: ReadonlySet<string> = new Set(["US", "CA", "PH", "PR", "GU", "VI", "AS", "MP", "UM", "FM", "MH", "PW"]);

/**
 * A date read from a cell: its calendar date as written, the time of day when written (ms since
 * midnight) and the offset from UTC when written (minutes east). Epoch milliseconds read as their
 * UTC date and time, offset 0.
 */
export interface CellDate {
  year: number;
  month: number;
  day: number;
  time?: number;
  offset?: number;
}

/**
 * A date bound from the config: a calendar day (`2026-01-31`, compared with a cell's own calendar
 * date) or an instant (`2026-01-31T09:00:00-05:00`, compared with a cell's instant; a cell without
 * an offset of its own is read at the bound's offset).
 */
export type DateBound = { kind: "day"; day: number; text: string } | { kind: "instant"; ms: number; offset: number; text: string };

/** A cell read as a number or a date, or why it cannot be. */
export type Read<T> = { ok: true; value: T } | { ok: false; reason: string };

const DAY_MS = 86_400_000;

/** A date bound's form, as config messages give it. */
export const DATE_BOUND_FORMAT = "YYYY-MM-DD, or a date-time with its offset such as 2026-01-31T09:00:00Z or 2026-01-31T09:00:00-05:00";

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const SLASH_RE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:(?:\s+|\s*,\s*|T)(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$/;
const EPOCH_MS_RE = /^\d{12,13}$/;
/**
 * A number as a sheet shows it: a sign, a currency sign before or after, thousands grouped by ','
 * or a space (the same one throughout), a '.' decimal point, an exponent (ungrouped numbers only),
 * a trailing '%'. A decimal comma is not read: "1,234" could be either, and is never guessed at.
 */
const NUMBER_RE =
  /^([+\-\u2212])?\s*(\p{Sc})?\s*([+\-\u2212])?\s*(\d{1,3}([,\u0020\u00a0\u2009\u202f])\d{3}(?:\5\d{3})*(?:\.\d+)?|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\s*(%|\p{Sc})?$/u;

/**
 * How a slash date of a sync is read when both its first numbers could be the month: by the
 * sync's `defaultCountry` (month first in the US, Canada, the Philippines and the US territories,
 * day first elsewhere). Never throws.
 */
export function slashDateOrder(country: string): SlashDateOrder {
  return MONTH_FIRST_COUNTRIES.has(country.toUpperCase()) ? "month-first" : "day-first";
}

/**
 * A trimmed cell as a number: `1,234.5`, `$1,234`, `-€5`, `12 €`, `50%` (read as 50), `1 234`,
 * `1.5e3`. Blank or anything else is not a number, with the reason quoting the cell. Never throws.
 */
export function readNumber(cell: string): Read<number> {
  if (cell === "") return { ok: false, reason: "blank" };
  const m = NUMBER_RE.exec(cell);
  if (!m || (m[1] !== undefined && m[3] !== undefined)) return { ok: false, reason: `${quote(cell)} is not a number` };
  const digits = (m[4] as string).replace(/[,\u0020\u00a0\u2009\u202f]/g, "");
  const n = Number(digits);
  if (!Number.isFinite(n)) return { ok: false, reason: `${quote(cell)} is not a number` };
  const negative = (m[1] ?? m[3]) === "-" || (m[1] ?? m[3]) === "\u2212";
  return { ok: true, value: negative ? -n : n };
}

/**
 * A trimmed cell as a date: ISO 8601 (`2026-01-31`, `2026-01-31T09:00:00-05:00`, `2026-01-31
 * 09:00`), epoch milliseconds as HubSpot gives dates (12 or 13 digits), or a slash date `M/D/YYYY`
 * / `D/M/YYYY` with an optional time (`1/31/2026 2:30 PM`): the order is whichever reading is a
 * date, and `order` when both are. Never throws.
 */
export function readDate(cell: string, order: SlashDateOrder): Read<CellDate> {
  if (cell === "") return { ok: false, reason: "blank" };
  const fail = { ok: false as const, reason: `${quote(cell)} is not a date` };
  if (EPOCH_MS_RE.test(cell)) {
    const d = new Date(Number(cell));
    return { ok: true, value: { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), time: Number(cell) - Math.floor(Number(cell) / DAY_MS) * DAY_MS, offset: 0 } };
  }
  const iso = ISO_RE.exec(cell);
  if (iso) {
    const [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    if (!isDate(year, month, day)) return fail;
    if (iso[4] === undefined) return { ok: true, value: { year, month, day } };
    const time = timeOfDay(Number(iso[4]), Number(iso[5]), Number(iso[6] ?? 0), iso[7]);
    const offset = iso[8] === undefined ? undefined : offsetMinutes(iso[8]);
    if (time === undefined || offset === null) return fail;
    return { ok: true, value: offset === undefined ? { year, month, day, time } : { year, month, day, time, offset } };
  }
  const slash = SLASH_RE.exec(cell);
  if (slash) {
    const [a, b, year] = [Number(slash[1]), Number(slash[2]), Number(slash[3])];
    const monthFirst = isDate(year, a, b);
    const dayFirst = isDate(year, b, a);
    if (!monthFirst && !dayFirst) return fail;
    const [month, day] = monthFirst && (!dayFirst || order === "month-first") ? [a, b] : [b, a];
    if (slash[4] === undefined) return { ok: true, value: { year, month, day } };
    let hour = Number(slash[4]);
    const half = slash[7]?.toLowerCase();
    if (half !== undefined) {
      if (hour < 1 || hour > 12) return fail;
      hour = (hour % 12) + (half === "pm" ? 12 : 0);
    }
    const time = timeOfDay(hour, Number(slash[5]), Number(slash[6] ?? 0), undefined);
    return time === undefined ? fail : { ok: true, value: { year, month, day, time } };
  }
  return fail;
}

/**
 * A config value of `gt`/`gte`/`lt`/`lte` that is text, as a date bound: `YYYY-MM-DD` (a calendar
 * day) or a date-time with its offset (an instant). Undefined for anything else, a date-time
 * without an offset included (whose local time would it be?). Never throws.
 */
export function parseDateBound(text: string): DateBound | undefined {
  const iso = ISO_RE.exec(text);
  if (!iso) return undefined;
  const [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  if (!isDate(year, month, day)) return undefined;
  if (iso[4] === undefined) return { kind: "day", day: dayNumber(year, month, day), text };
  const time = timeOfDay(Number(iso[4]), Number(iso[5]), Number(iso[6] ?? 0), iso[7]);
  const offset = iso[8] === undefined ? null : offsetMinutes(iso[8]);
  if (time === undefined || offset === null) return undefined;
  return { kind: "instant", ms: dayNumber(year, month, day) * DAY_MS + time - offset * 60_000, offset, text };
}

/**
 * Where a cell date stands against a bound: negative before, 0 at, positive after. Against a day,
 * the cell's calendar date as written (its own offset's date); against an instant, the cell's
 * instant, a cell without an offset read at the bound's offset and a date alone at its midnight.
 */
export function compareDate(cell: CellDate, bound: DateBound): number {
  const day = dayNumber(cell.year, cell.month, cell.day);
  if (bound.kind === "day") return Math.sign(day - bound.day);
  const ms = day * DAY_MS + (cell.time ?? 0) - (cell.offset ?? bound.offset) * 60_000;
  return Math.sign(ms - bound.ms);
}

/** Days since 1970-01-01 of a (valid) proleptic Gregorian date, any year 0–9999. */
function dayNumber(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return Math.round(d.getTime() / DAY_MS);
}

function isDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** Milliseconds since midnight, or undefined when out of range (24:00 and leap seconds are not read). */
function timeOfDay(hour: number, minute: number, second: number, fraction: string | undefined): number | undefined {
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  return ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

/** `Z`, `+05:30`, `-0500`, `+05` as minutes east of UTC; null when out of range. */
function offsetMinutes(text: string): number | null {
  if (text === "Z" || text === "z") return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(text);
  if (!m) return null;
  const [hours, minutes] = [Number(m[2]), Number(m[3] ?? 0)];
  if (hours > 18 || minutes > 59) return null;
  return (m[1] === "-" ? -1 : 1) * (hours * 60 + minutes);
}

/** A cell quoted for a reason, cut short when long. */
function quote(cell: string): string {
  return `'${cell.length > 40 ? `${cell.slice(0, 40)}…` : cell}'`;
}
