/**
 * A1 notation as the Sheets API reads it ("A1 notation" in the Sheets API v4 guide, "Cells"):
 * `Sheet1!A1:Z`, `'My Sheet'!A:ZZ`, a bare sheet name, or cells alone (the first sheet).
 * Pure functions; no I/O.
 */

/** A range as configured: the sheet (absent: the first sheet) and where the cells start and end. */
export interface A1Range {
  sheet?: string;
  /** 1-based; 1 when the range leaves it open (`A:Z`). */
  startRow: number;
  /** 1-based; 1 when the range leaves it open (`5:10`). */
  startColumn: number;
  /** 1-based last column, when the range bounds it; beyond it a write is refused. */
  endColumn?: number;
  /** The cells part as written (`A5:Z`), or absent for a whole sheet. */
  cells?: string;
}

/** One side of a cell range: column letters, row digits, or both. */
const CELL_SIDE = /^([A-Za-z]{1,3})?([0-9]+)?$/;
/** Cells alone, without a sheet: `A1`, `A1:Z`, `A:ZZ`, `5:10`. A single side needs both parts. */
const CELLS_ONLY = /^(?:[A-Za-z]{1,3}[0-9]+|[A-Za-z]{0,3}[0-9]*:[A-Za-z]{0,3}[0-9]*)$/;

/** 1 → A, 27 → AA. */
export function columnLetters(index: number): string {
  let s = "";
  for (let n = index; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** A → 1, AA → 27. */
export function columnNumber(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

/**
 * A sheet name as A1 notation needs it: always quoted, quotes doubled. Quoting is valid for every
 * name, and required for names with spaces or characters other than letters, digits and `_`.
 */
export function quoteSheetName(name: string): string {
  return `'${name.replaceAll("'", "''")}'`;
}

/** `'Sheet'!C7`. */
export function cellAddress(sheet: string, column: number, row: number): string {
  return `${quoteSheetName(sheet)}!${columnLetters(column)}${row}`;
}

/** Splits `'It''s'!A1:B` or `Sheet1!A1:B` into the sheet name and the rest; undefined when unquoted and no `!`. */
function splitSheet(text: string): { sheet: string; cells?: string } | undefined {
  if (text.startsWith("'")) {
    let name = "";
    let i = 1;
    for (;;) {
      if (i >= text.length) return undefined;
      if (text[i] === "'") {
        if (text[i + 1] !== "'") break;
        name += "'";
        i += 2;
      } else {
        name += text[i];
        i += 1;
      }
    }
    const rest = text.slice(i + 1);
    if (rest === "") return { sheet: name };
    return rest.startsWith("!") ? { sheet: name, cells: rest.slice(1) } : undefined;
  }
  const bang = text.lastIndexOf("!");
  return bang < 0 ? undefined : { sheet: text.slice(0, bang), cells: text.slice(bang + 1) };
}

/**
 * Parses a configured range. A text with neither quotes nor `!` is a sheet name unless it reads as
 * cells (`A1:Z`); a sheet named like a cell (`Q1`) must be quoted (`'Q1'`). Returns undefined when
 * the text is not a range the API would accept.
 */
export function parseA1Range(text: string): A1Range | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  let sheet: string | undefined;
  let cells: string | undefined;
  const split = splitSheet(trimmed);
  if (split) {
    sheet = split.sheet;
    cells = split.cells;
    if (sheet === "") return undefined;
  } else if (trimmed.startsWith("'")) {
    return undefined;
  } else if (CELLS_ONLY.test(trimmed)) {
    cells = trimmed;
  } else {
    sheet = trimmed;
  }
  if (cells === undefined) return { ...(sheet !== undefined ? { sheet } : {}), startRow: 1, startColumn: 1 };
  const [from = "", to, extra] = cells.split(":");
  const a = CELL_SIDE.exec(from);
  const b = to === undefined ? undefined : CELL_SIDE.exec(to);
  if (extra !== undefined || !a || (!a[1] && !a[2]) || (to !== undefined && (!b || (!b[1] && !b[2])))) return undefined;
  const startRow = a[2] ? Number(a[2]) : 1;
  if (startRow < 1) return undefined;
  const endColumn = to === undefined ? (a[1] ? columnNumber(a[1]) : undefined) : b?.[1] ? columnNumber(b[1]) : undefined;
  return {
    ...(sheet !== undefined ? { sheet } : {}),
    startRow,
    startColumn: a[1] ? columnNumber(a[1]) : 1,
    ...(endColumn !== undefined ? { endColumn } : {}),
    cells: cells.toUpperCase(),
  };
}

/** The range to request: the sheet always quoted, the cells as configured. */
export function requestRange(range: A1Range): string {
  if (range.sheet === undefined) return range.cells ?? "A:ZZZ";
  return range.cells === undefined ? quoteSheetName(range.sheet) : `${quoteSheetName(range.sheet)}!${range.cells}`;
}

/** The sheet named by a range the API returned (`Sheet1!A1:Z1000`, `'My Sheet'!A1:B2`). */
export function sheetOfResponseRange(text: string): string | undefined {
  return splitSheet(text)?.sheet;
}
