/**
 * A sync's `where`, compiled once per sync into a test of each source row (README, "Filtering
 * rows"; the config's rules are in src/config-where.ts). Pure: no I/O, no clock, no locale or time
 * zone of the process.
 *
 * How cells are read:
 * - Every operator reads the trimmed cell; a column the row lacks is blank.
 * - `equals`, `in`, `notIn` compare the cell with the config's values (trimmed; a number as its
 *   text) in Unicode NFC, ignoring case (`toLowerCase`) unless `caseSensitive`. `"equals": ""`
 *   is met by a blank cell; `notIn` is exactly the opposite of `in`, so a blank cell is not in
 *   any list that lacks "".
 * - `matches` searches the trimmed cell (NFC) with the pattern, flags `u`, plus `i` unless
 *   `caseSensitive`.
 * - `gt`/`gte`/`lt`/`lte` read the cell as the kind of the config's value: a number
 *   (src/plan/read-cell.ts `readNumber`: `1,234.5`, `$5`, `50%` as 50) or a date (`readDate`:
 *   ISO 8601, epoch milliseconds, slash dates by `slashDateOrder(defaultCountry)` when their order
 *   is ambiguous). A blank cell, or one not of that kind, fails the comparison.
 * - Dates compare at the granularity the config gives: a date alone (`"lt": "2026-02-01"`)
 *   compares the cell's calendar date as written in the cell, whatever its time and offset
 *   (`2026-01-31T23:00:00-05:00` is the 31st: it is < 2026-02-01); a date-time with its offset
 *   compares instants, a cell without an offset read at the config value's offset.
 */
import type { SyncConfig } from "../config.js";
import type { WhereCondition } from "../config-where.js";
import { ConfigError } from "../errors.js";
import type { SourceRow } from "../model.js";
import { compareDate, parseDateBound, readDate, readNumber, slashDateOrder, type DateBound, type SlashDateOrder } from "./read-cell.js";

/**
 * Why a row is out of the sync: the condition it failed as text, e.g. `where[0]: 'Status' in
 * ["Customer", "Lead"]` or `where[2]: any of ('Score' ≥ 50 ('n/a' is not a number); 'Owner' =
 * "Ann")`, and the column that condition (or an `any`'s first alternative) read, with the row's
 * trimmed cell in it ('' when blank or missing).
 */
export interface WhereFailure {
  condition: string;
  column: string;
  value: string;
}

/** A sync's `where`, compiled: `test` says why a row is out of the sync, or null when it is in. */
export interface RowFilter {
  /** The first condition (in config order) the row fails, or null when it meets them all. Never throws. */
  test(row: SourceRow): WhereFailure | null;
}

/** One compiled condition: its text, and the failure it finds in a row (null when met). */
interface Compiled {
  text: string;
  fail(row: SourceRow): { text: string; column: string; value: string } | null;
}

type Comparison = "gt" | "gte" | "lt" | "lte";

const SIGNS: Record<Comparison, string> = { gt: ">", gte: "≥", lt: "<", lte: "≤" };

/**
 * Compiles a sync's `where` (validated by `whereSchema`) once; `defaultCountry` orders ambiguous
 * slash dates. An absent or empty `where` lets every row through. Throws `ConfigError` naming
 * `syncs[syncIndex].where[…]` only for a condition the schema would have refused.
 */
export function compileWhere(where: readonly WhereCondition[] | undefined, syncIndex: number, defaultCountry: string): RowFilter {
  const order = slashDateOrder(defaultCountry);
  const compiled = (where ?? []).map((c, i) => compileCondition(c, `syncs[${syncIndex}].where[${i}]`, order));
  return {
    test(row) {
      for (const [i, c] of compiled.entries()) {
        const failure = c.fail(row);
        if (failure) return { condition: `where[${i}]: ${failure.text}`, column: failure.column, value: failure.value };
      }
      return null;
    },
  };
}

/**
 * Every column a sync's `where` reads, with the config path naming it (`syncs[0].where[2].any[0].column`),
 * in config order. Never throws.
 */
export function whereColumns(sync: SyncConfig, index: number): { path: string; column: string }[] {
  const out: { path: string; column: string }[] = [];
  const walk = (conditions: readonly WhereCondition[], base: string): void => {
    conditions.forEach((c, i) => {
      if (c.any !== undefined) walk(c.any, `${base}[${i}].any`);
      else if (c.column !== undefined) out.push({ path: `${base}[${i}].column`, column: c.column });
    });
  };
  walk(sync.where ?? [], `syncs[${index}].where`);
  return out;
}

/** The trimmed cell of `column` in `row`; '' when the row lacks the column. */
function cellOf(row: SourceRow, column: string): string {
  return (Object.hasOwn(row.values, column) ? (row.values[column] ?? "") : "").trim();
}

function compileCondition(c: WhereCondition, path: string, order: SlashDateOrder): Compiled {
  if (c.any !== undefined) return compileAny(c.any, path, order);
  const column = c.column;
  if (column === undefined) throw new ConfigError(`${path}: give a 'column' and its condition, or 'any'`);
  const name = `'${column}'`;
  const fold = c.caseSensitive === true ? (s: string) => s.normalize("NFC") : (s: string) => s.normalize("NFC").toLowerCase();
  const suffix = c.caseSensitive === true ? " (case-sensitive)" : "";
  const leaf = (text: string, met: (cell: string) => boolean | string): Compiled => ({
    text,
    fail(row) {
      const cell = cellOf(row, column);
      const verdict = met(cell);
      if (verdict === true) return null;
      return { text: verdict === false ? text : `${text} (${verdict})`, column, value: cell };
    },
  });
  const texts = (values: readonly (string | number)[]) => values.map((v) => String(v).trim());
  if (c.equals !== undefined) {
    const [want] = texts([c.equals]) as [string];
    const folded = fold(want);
    return leaf(`${name} = ${JSON.stringify(want)}${suffix}`, (cell) => fold(cell) === folded);
  }
  if (c.in !== undefined || c.notIn !== undefined) {
    const negate = c.in === undefined;
    const values = texts(c.in ?? c.notIn ?? []);
    const set = new Set(values.map(fold));
    const list = `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;
    return leaf(`${name} ${negate ? "not in" : "in"} ${list}${suffix}`, (cell) => set.has(fold(cell)) !== negate);
  }
  if (c.notBlank !== undefined) return leaf(`${name} not blank`, (cell) => cell !== "");
  if (c.matches !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(c.matches, c.caseSensitive === true ? "u" : "iu");
    } catch (e) {
      throw new ConfigError(`${path}.matches: not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`);
    }
    return leaf(`${name} matches /${c.matches}/${suffix}`, (cell) => re.test(cell.normalize("NFC")));
  }
  const bounds = (["gt", "gte", "lt", "lte"] as const).filter((k) => c[k] !== undefined).map((k) => ({ op: k, value: c[k] as number | string }));
  if (bounds.length === 0) throw new ConfigError(`${path}: give one of equals, in, notIn, notBlank, matches, gt, gte, lt, lte for column '${column}'`);
  const text = `${name} ${bounds.map((b) => `${SIGNS[b.op]} ${String(b.value)}`).join(" and ")}`;
  if (bounds.every((b) => typeof b.value === "number")) {
    return leaf(text, (cell) => {
      const n = readNumber(cell);
      if (!n.ok) return n.reason;
      return bounds.every((b) => holds(b.op, Math.sign(n.value - (b.value as number))));
    });
  }
  const dates = bounds.map((b) => ({ op: b.op, bound: typeof b.value === "string" ? parseDateBound(b.value) : undefined }));
  if (dates.some((d) => d.bound === undefined)) throw new ConfigError(`${path}: a range's bounds are both numbers or both dates`);
  return leaf(text, (cell) => {
    const d = readDate(cell, order);
    if (!d.ok) return d.reason;
    return dates.every((b) => holds(b.op, compareDate(d.value, b.bound as DateBound)));
  });
}

function compileAny(conditions: readonly WhereCondition[], path: string, order: SlashDateOrder): Compiled {
  if (conditions.length === 0) throw new ConfigError(`${path}.any: list at least one condition`);
  const parts = conditions.map((c, i) => compileCondition(c, `${path}.any[${i}]`, order));
  return {
    text: `any of (${parts.map((p) => p.text).join("; ")})`,
    fail(row) {
      const failures = [];
      for (const p of parts) {
        const f = p.fail(row);
        if (f === null) return null;
        failures.push(f);
      }
      const first = failures[0] as { column: string; value: string };
      return { text: `any of (${failures.map((f) => f.text).join("; ")})`, column: first.column, value: first.value };
    },
  };
}

/** Whether `op` holds of a cell that stands `sign` (-1, 0, 1) against its bound. */
function holds(op: Comparison, sign: number): boolean {
  if (op === "gt") return sign > 0;
  if (op === "gte") return sign >= 0;
  if (op === "lt") return sign < 0;
  return sign <= 0;
}
