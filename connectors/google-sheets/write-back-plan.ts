/**
 * Which cells a write-back changes, from a fresh read of the sheet. Pure; no I/O.
 *
 * Rows are found by their key, never by position: people sort, insert and delete rows between the
 * run's read and the write-back (matched by the row's key, never by row index). Only cells
 * whose text differs are written, so a rerun with nothing new writes nothing.
 */
import { SourceError } from "../../src/errors.js";
import type { WriteBackEntry } from "../types.js";
import { cellAddress, columnLetters } from "./a1-range.js";
import { cellText, headerColumns, type SheetLayout } from "./sheet-table.js";
import type { CellUpdate } from "./sheets-api.js";

export interface WriteBackPlanInput {
  /** The range's values as just re-read. */
  values: readonly (readonly unknown[])[];
  layout: SheetLayout;
  /** The sheet's title, for cell addresses. */
  sheet: string;
  /** Last column the configured range allows (1-based), when it bounds one. */
  endColumn?: number;
  keyColumn: string;
  idColumn: string;
  statusColumn?: string;
  entries: readonly WriteBackEntry[];
}

export interface WriteBackPlan {
  /** One single-cell update per changed cell, header cells of new columns included. */
  updates: CellUpdate[];
  /** Entries whose key is in no row any more. */
  missing: string[];
}

/**
 * Plans the write-back. A missing id or status column is added to the header at the first column
 * free in every row read (so no one's data is overwritten). A key found in several rows gets the
 * same cells in each. Throws `SourceError` when the header is gone or broken, the key column is no
 * longer in it, or a new column would fall outside the configured range.
 */
export function planWriteBack(input: WriteBackPlanInput): WriteBackPlan {
  const { layout } = input;
  const text = input.values.map((row) => row.map(cellText));
  const h = layout.headerRow - 1;
  const headerCells = text[h] ?? [];
  if (headerCells.every((c) => c.trim() === "")) throw new SourceError(`${layout.origin}: the header row is empty now; nothing was written back`);
  const header = headerColumns(headerCells, layout);
  const keyIndex = header.indexOf(input.keyColumn);
  if (keyIndex < 0) throw new SourceError(`${layout.origin}: the key column '${input.keyColumn}' is no longer in the header; nothing was written back`);

  const updates: CellUpdate[] = [];
  const headerRow = layout.firstRow + h;
  let nextFree = Math.max(header.length, ...text.map((r) => r.length));
  const columnOf = (name: string, setting: string): number => {
    const found = header.indexOf(name);
    if (found >= 0) return found;
    const index = nextFree++;
    const column = layout.firstColumn + index;
    if (input.endColumn !== undefined && column > input.endColumn) {
      throw new SourceError(
        `${layout.origin}: the header has no column '${name}' (writeBack.${setting}) and the range ends at column ${columnLetters(input.endColumn)}; add the column inside the range or widen it`,
      );
    }
    updates.push({ range: cellAddress(input.sheet, column, headerRow), values: [[name]] });
    return index;
  };
  const idIndex = columnOf(input.idColumn, "idColumn");
  const statusIndex = input.statusColumn === undefined ? undefined : columnOf(input.statusColumn, "statusColumn");

  const rowsByKey = new Map<string, number[]>();
  text.forEach((cells, i) => {
    if (i <= h) return;
    const key = (cells[keyIndex] ?? "").trim();
    if (key === "") return;
    rowsByKey.set(key, [...(rowsByKey.get(key) ?? []), i]);
  });

  const missing: string[] = [];
  const set = (i: number, index: number, value: string) => {
    if ((text[i]![index] ?? "") === value) return;
    updates.push({ range: cellAddress(input.sheet, layout.firstColumn + index, layout.firstRow + i), values: [[value]] });
  };
  for (const entry of input.entries) {
    const rows = rowsByKey.get(entry.key);
    if (!rows) {
      missing.push(entry.key);
      continue;
    }
    for (const i of rows) {
      set(i, idIndex, entry.quoId ?? "");
      if (statusIndex !== undefined) set(i, statusIndex, entry.status);
    }
  }
  return { updates, missing };
}
