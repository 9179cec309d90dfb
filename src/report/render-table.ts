/**
 * The terminal report: a summary of every sync first, then per sync at most TABLE_LIMIT changes,
 * rejected rows, drifted contacts, skipped rows and (`plan --explain`) source rows, each change
 * field by field, and the filtered rows grouped by the condition they failed (the first
 * FILTERED_SHOWN of each). A long list is cut with a count
 * of what is left and a pointer to `--out`, so a 100,000-row plan stays a screenful. On a terminal,
 * a long cell is cut too, to keep lines within a screen; anywhere else (a pipe, a file, `--out`)
 * every cell is printed whole and a line is as long as its longest cell, since a reason cut short
 * cannot be read anywhere else and a file has no screen width to keep to.
 */
import type { SyncReport } from "./report.js";
import { FILTERED_SHOWN, actionLabel, changeFieldLines, changesTitle, describeChange, describeDrift, describeError, describeField, describeMapping, fieldLines, filteredByCondition, headline, kindOf, mappingLines, moreText, rejectedRows, rowsText, runFacts, showValue } from "./describe.js";
import { clipToWidth, padToWidth, textWidth } from "./text-width.js";

/** How many changes, rejected rows and drifted contacts (each) the table lists per sync. */
export const TABLE_LIMIT = 50;

/**
 * Widest a cell may be on a terminal before it is cut with "…", by column kind; keeps a line under
 * ~200 columns.
 */
const WIDTH = { action: 18, key: 24, quoId: 26, field: 28, value: 60, row: 7, reason: 80 } as const;

/** Between columns. */
const GAP = "  ";

/** What to run for the whole list, said wherever the table cuts one. */
const FULL_LIST_HINT = "for the full list: --format markdown|json|html --out FILE";

/**
 * Control characters (and bidi overrides) in source data would let a contact's name move the
 * cursor, recolour or reorder the terminal; they are shown as a space instead.
 */
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function clean(s: string): string {
  return s.replace(UNSAFE_CHARS, " ");
}

/** How the table is laid out. */
export interface TableOptions {
  /** The table is for a terminal: long cells are cut to `WIDTH`. Otherwise nothing is cut. */
  terminal?: boolean;
}

/**
 * Lays out rows under a header, each column as wide as its widest cell in terminal columns; on a
 * terminal, cells are clipped to `maxWidths` first.
 */
function grid(head: readonly string[], maxWidths: readonly number[], rows: readonly (readonly string[])[], opts: TableOptions): string[] {
  const cells = rows.map((r) => r.map((c, i) => (opts.terminal ? clipToWidth(clean(c), maxWidths[i] ?? WIDTH.value) : clean(c))));
  const widths = head.map((h, i) => Math.max(textWidth(h), ...cells.map((r) => textWidth(r[i] ?? ""))));
  const line = (r: readonly string[]) => r.map((c, i) => padToWidth(c, widths[i] ?? 0)).join(GAP).trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)];
}

function indent(lines: readonly string[]): string[] {
  return lines.map((l) => "  " + l);
}

function cutNote(shown: number, total: number, what: string): string[] {
  return total > shown ? [`  … and ${total - shown} more ${what} not shown; ${FULL_LIST_HINT}`] : [];
}

/** Failed changes first: a person must see what Quo refused even when the list is cut. */
function changeRows(r: SyncReport): string[][] {
  const ordered = [...r.changes.filter((c) => kindOf(c) === "failed"), ...r.changes.filter((c) => kindOf(c) !== "failed")];
  const rows: string[][] = [];
  for (const c of ordered.slice(0, TABLE_LIMIT)) {
    const lines: [string, string][] = changeFieldLines(c).map((l) => [l.field, describeField(c.action, l)]);
    // How a link was matched (or what an unlink leaves) reads before the fields, under any error.
    const detail = describeChange(c);
    if (detail) lines.unshift(["", detail]);
    if (c.error) lines.unshift(["error", describeError(c.error)]);
    if (c.note) lines.push(["note", c.note]);
    // How the row's fields got their values: only the ones a plain column does not explain, unless --explain asked for all.
    for (const m of mappingLines(c.mapping, r.rows !== undefined)) lines.push(["", describeMapping(m)]);
    if (lines.length === 0) lines.push(["", ""]);
    lines.forEach(([field, value], i) => rows.push(i === 0 ? [actionLabel(c, r), c.key, c.quoId ?? "", field, value] : ["", "", "", field, value]));
  }
  return rows;
}

function section(r: SyncReport, opts: TableOptions): string[] {
  const out: string[] = [];
  if (r.changes.length) {
    const shown = Math.min(r.changes.length, TABLE_LIMIT);
    out.push("", `${r.sync}: ${changesTitle(r).toLowerCase()} (${shown === r.changes.length ? `all ${shown}` : `${shown} of ${r.changes.length}`})`);
    out.push(...indent(grid(["action", "key", "quo id", "field", "value (before → after)"], [WIDTH.action, WIDTH.key, WIDTH.quoId, WIDTH.field, WIDTH.value], changeRows(r), opts)));
    out.push(...cutNote(shown, r.changes.length, "changes"));
  }
  if (r.rejected.length) {
    const all = rejectedRows(r.rejected);
    const shown = all.slice(0, TABLE_LIMIT);
    out.push("", `${r.sync}: rejected rows, not sent (${shown.length === all.length ? `all ${shown.length}` : `${shown.length} of ${all.length}`})`);
    // A row with several fields at fault: one line per field, the row and key on the first.
    const rows = shown.flatMap((group) => group.map((j, i) => [i === 0 ? String(j.row) : "", i === 0 ? (j.key ?? "") : "", j.field ?? "", j.value ?? "", j.reason]));
    out.push(...indent(grid(["row", "key", "field", "value", "reason"], [WIDTH.row, WIDTH.key, WIDTH.field, WIDTH.field, WIDTH.reason], rows, opts)));
    out.push(...cutNote(shown.length, all.length, "rejected rows"));
  }
  if (r.skipped.length) {
    const shown = r.skipped.slice(0, TABLE_LIMIT);
    out.push("", `${r.sync}: skipped rows, left alone by the sync's mode (${shown.length === r.skipped.length ? `all ${shown.length}` : `${shown.length} of ${r.skipped.length}`})`);
    out.push(...indent(grid(["key", "row", "reason"], [WIDTH.key, WIDTH.row, WIDTH.reason], shown.map((k) => [k.key, String(k.row), k.reason]), opts)));
    if (r.skipped.length > shown.length) out.push(`  ${moreText(r.skipped.length - shown.length)}`);
  }
  if (r.filtered.length) {
    const groups = filteredByCondition(r.filtered);
    out.push("", `${r.sync}: filtered rows, out of the sync by its where (${rowsText(r.filtered.length)})`);
    for (const g of groups) {
      const shown = g.rows.slice(0, FILTERED_SHOWN);
      out.push(`  ${clean(g.condition)}: ${rowsText(g.rows.length)}`);
      out.push(...indent(indent(grid(["key", "row", "column", "value"], [WIDTH.key, WIDTH.row, WIDTH.field, WIDTH.value], shown.map((f) => [f.key ?? "", String(f.row), f.column, showValue(f.value)]), opts))));
      if (g.rows.length > shown.length) out.push(`    ${moreText(g.rows.length - shown.length)}`);
    }
  }
  if (r.rows?.length) {
    const shown = r.rows.slice(0, TABLE_LIMIT);
    out.push("", `${r.sync}: every source row, explained (${shown.length === r.rows.length ? `all ${shown.length}` : `${shown.length} of ${r.rows.length}`})`);
    const rows: string[][] = [];
    for (const x of shown) {
      rows.push([x.key ?? "", String(x.row), x.outcome, x.reason ?? ""]);
      for (const m of mappingLines(x.mapping, true)) rows.push(["", "", "", describeMapping(m)]);
    }
    out.push(...indent(grid(["key", "row", "outcome", "reason / field = value  (how)"], [WIDTH.key, WIDTH.row, WIDTH.action, WIDTH.reason], rows, opts)));
    if (r.rows.length > shown.length) out.push(`  ${moreText(r.rows.length - shown.length)}`);
  }
  if (r.drift?.length) {
    const shown = r.drift.slice(0, TABLE_LIMIT);
    out.push("", `${r.sync}: changed in the Quo app since the last sync (${shown.length === r.drift.length ? `all ${shown.length}` : `${shown.length} of ${r.drift.length}`})`);
    const rows: string[][] = [];
    for (const d of shown) {
      const lines = fieldLines(d.fields).map((l): [string, string] => [l.field, describeField("drift", l)]);
      rows.push([d.key, d.quoId, describeDrift(d), ...(lines[0] ?? ["", ""])]);
      for (const [field, value] of lines.slice(1)) rows.push(["", "", "", field, value]);
    }
    out.push(...indent(grid(["key", "quo id", "what happened", "field", "last sent → now in Quo"], [WIDTH.key, WIDTH.quoId, WIDTH.reason, WIDTH.field, WIDTH.value], rows, opts)));
    out.push(...cutNote(shown.length, r.drift.length, "drifted contacts"));
  }
  return out;
}

/**
 * The table: one headline per sync with its guards (REFUSED or note) and run facts, then each
 * sync's changes, rejected, skipped and filtered rows, explained rows (`--explain`) and drift. Plain text, no colours: the output may be a file. Cells
 * are cut to fit a screen only with `opts.terminal`.
 */
export function renderTable(reports: readonly SyncReport[], opts: TableOptions = {}): string {
  const out: string[] = [];
  for (const r of reports) {
    out.push(clean(headline(r)));
    for (const g of r.guards) out.push(`  ${g.refused ? "REFUSED" : "note"}: ${clean(g.message)}`);
    for (const f of runFacts(r)) out.push(`  ${clean(f)}`);
  }
  for (const r of reports) out.push(...section(r, opts));
  out.push("");
  return out.join("\n");
}

