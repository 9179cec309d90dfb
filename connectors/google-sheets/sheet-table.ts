/**
 * A `values.get` answer as a table: the header row and the records below it, each at its sheet row.
 * Pure; no I/O. The API drops trailing empty cells and rows and leaves `values` out of an empty
 * range (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/get), so rows arrive ragged and are padded here.
 */
import { SourceError } from "../../src/errors.js";
import type { SourceRow } from "../../src/model.js";
import { columnLetters } from "./a1-range.js";

/** Where the values sit in the sheet, and how messages name the sheet. */
export interface SheetLayout {
  /** "spreadsheet <id>, sheet 'Name'": the start of every message. */
  origin: string;
  /** Sheet row of `values[0]`. */
  firstRow: number;
  /** Sheet column (1-based) of each row's first cell. */
  firstColumn: number;
  /** 1-based row of the header within the values. */
  headerRow: number;
}

/** The header's column names and the records under it. */
export interface SheetTable {
  columns: string[];
  rows: SourceRow[];
}

/** A cell as text: UNFORMATTED_VALUE gives numbers and booleans, which the sheet shows as below. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  return String(value);
}

function isBlank(cells: readonly string[]): boolean {
  return cells.every((c) => c.trim() === "");
}

/** Sets `values[name]` as an own property even for the name "__proto__", which `=` would swallow. */
function setValue(values: Record<string, string>, name: string, value: string): void {
  if (name === "__proto__") Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true });
  else values[name] = value;
}

/**
 * The header's names, trimmed. Throws `SourceError` naming the sheet row, the column letter and the
 * name for an empty or repeated name, either of which would make a row's `values` ambiguous.
 */
export function headerColumns(cells: readonly string[], layout: SheetLayout): string[] {
  const sheetRow = layout.firstRow + layout.headerRow - 1;
  const columns = cells.map((c) => c.trim());
  const seen = new Map<string, number>();
  columns.forEach((name, i) => {
    const letter = columnLetters(layout.firstColumn + i);
    const where = `${layout.origin}, row ${sheetRow}: column ${letter} of the header`;
    if (name === "") throw new SourceError(`${where} is empty; every column needs a name (or narrow the range)`);
    const first = seen.get(name);
    if (first !== undefined) throw new SourceError(`${where}, '${name}', repeats column ${columnLetters(layout.firstColumn + first)}`);
    seen.set(name, i);
  });
  return columns;
}

/**
 * The table in `values`. Rows above the header row are ignored; blank rows are skipped but keep
 * their number; a record's missing trailing cells read as "". Values beyond the header's last
 * column make the row's `problem` (the planner rejects it rather than drop data). A range with no
 * header row, or a blank one with nothing under it, is an empty table (`columns` []): whether that
 * is an error is the run's to decide. Throws `SourceError` for a bad header, or a blank header row
 * with records under it.
 */
export function sheetTable(values: readonly (readonly unknown[])[], layout: SheetLayout): SheetTable {
  const text = values.map((row) => row.map(cellText));
  const h = layout.headerRow - 1;
  const headerCells = text[h] ?? [];
  const below = text.slice(h + 1);
  if (isBlank(headerCells)) {
    if (below.every(isBlank)) return { columns: [], rows: [] };
    throw new SourceError(`${layout.origin}: row ${layout.firstRow + h}, the header row, is empty but rows below it are not (set headerRow or the range)`);
  }
  const columns = headerColumns(headerCells, layout);
  const rows: SourceRow[] = [];
  below.forEach((cells, i) => {
    if (isBlank(cells)) return;
    const values: Record<string, string> = {};
    columns.forEach((name, c) => setValue(values, name, cells[c] ?? ""));
    const row: SourceRow = { row: layout.firstRow + h + 1 + i, values };
    let used = cells.length;
    while (used > columns.length && cells[used - 1]!.trim() === "") used--;
    if (used > columns.length) {
      row.problem = `has a value in column ${columnLetters(layout.firstColumn + used - 1)}, beyond the header's last column ${columnLetters(layout.firstColumn + columns.length - 1)}`;
    }
    rows.push(row);
  });
  return { columns, rows };
}
