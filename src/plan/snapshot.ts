/**
 * Keying a source snapshot: each record's identity is the cell of the sync's `key` column
 * (README.md, "Config": `key`, "the column holding a stable unique id"). Pure: no I/O.
 */

import type { Rejection, Snapshot, SourceRow } from "../model.js";

/** A source row with the key it is known by in the state store and in Quo's `externalId`. */
export interface KeyedRow {
  key: string;
  row: SourceRow;
}

/** The rows that carry a usable key, in source order, and the rows rejected for their key. */
export interface KeyedRows {
  rows: KeyedRow[];
  rejected: Rejection[];
}

/**
 * Keys every row of `snapshot` by the trimmed cell of `keyColumn`. A row whose key is blank is
 * rejected; when a key repeats, its first row wins and every later one is rejected, naming the
 * row that holds the key (a record cannot be synced from two rows at once). Keys are compared
 * exactly after trimming, case included: ids in sheets and CRMs are case-sensitive (`ab12` and
 * `AB12` are different HubSpot or database ids), so folding case could merge two records.
 * Rows flagged with `problem` are keyed like any other; the mapping stage rejects them. Never throws.
 */
export function keyRows(snapshot: Snapshot, keyColumn: string): KeyedRows {
  const rows: KeyedRow[] = [];
  const rejected: Rejection[] = [];
  const firstRowOfKey = new Map<string, number>();
  for (const row of snapshot.rows) {
    const key = (row.values[keyColumn] ?? "").trim();
    if (key === "") {
      rejected.push({ row: row.row, field: "key", value: "", reason: `key: the key column '${keyColumn}' is empty` });
      continue;
    }
    const first = firstRowOfKey.get(key);
    if (first !== undefined) {
      rejected.push({ key, row: row.row, field: "key", value: key, reason: `key: '${key}' repeats the key of row ${first}` });
      continue;
    }
    firstRowOfKey.set(key, row.row);
    rows.push({ key, row });
  }
  return { rows, rejected };
}
