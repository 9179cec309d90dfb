/**
 * The terminal report: a summary of every sync first, then per sync at most TABLE_LIMIT changes,
 * rejected rows and drifted contacts, each change field by field. A long list is cut with a count
 * of what is left and a pointer to `--out`, so a 100,000-row plan stays a screenful.
 */
import type { SyncReport } from "./report.js";
import { actionLabel, changeFieldLines, changesTitle, describeChange, describeDrift, describeError, describeField, fieldLines, headline, kindOf, runFacts } from "./describe.js";
import { clipToWidth, padToWidth, textWidth } from "./text-width.js";

/** How many changes, rejected rows and drifted contacts (each) the table lists per sync. */
export const TABLE_LIMIT = 50;

/** Widest a cell may be before it is cut with "…", by column kind; keeps a line under ~200 columns. */
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

/** Lays out rows under a header, each column as wide as its widest (clipped) cell, in terminal columns. */
function grid(head: readonly string[], maxWidths: readonly number[], rows: readonly (readonly string[])[]): string[] {
  const cells = rows.map((r) => r.map((c, i) => clipToWidth(clean(c), maxWidths[i] ?? WIDTH.value)));
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
    if (lines.length === 0) lines.push(["", ""]);
    lines.forEach(([field, value], i) => rows.push(i === 0 ? [actionLabel(c, r), c.key, c.quoId ?? "", field, value] : ["", "", "", field, value]));
  }
  return rows;
}

function section(r: SyncReport): string[] {
  const out: string[] = [];
  if (r.changes.length) {
    const shown = Math.min(r.changes.length, TABLE_LIMIT);
    out.push("", `${r.sync}: ${changesTitle(r).toLowerCase()} (${shown === r.changes.length ? `all ${shown}` : `${shown} of ${r.changes.length}`})`);
    out.push(...indent(grid(["action", "key", "quo id", "field", "value (before → after)"], [WIDTH.action, WIDTH.key, WIDTH.quoId, WIDTH.field, WIDTH.value], changeRows(r))));
    out.push(...cutNote(shown, r.changes.length, "changes"));
  }
  if (r.rejected.length) {
    const shown = r.rejected.slice(0, TABLE_LIMIT);
    out.push("", `${r.sync}: rejected rows, not sent (${shown.length === r.rejected.length ? `all ${shown.length}` : `${shown.length} of ${r.rejected.length}`})`);
    const rows = shown.map((j) => [String(j.row), j.key ?? "", j.field ?? "", j.value ?? "", j.reason]);
    out.push(...indent(grid(["row", "key", "field", "value", "reason"], [WIDTH.row, WIDTH.key, WIDTH.field, WIDTH.field, WIDTH.reason], rows)));
    out.push(...cutNote(shown.length, r.rejected.length, "rejected rows"));
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
    out.push(...indent(grid(["key", "quo id", "what happened", "field", "last sent → now in Quo"], [WIDTH.key, WIDTH.quoId, WIDTH.reason, WIDTH.field, WIDTH.value], rows)));
    out.push(...cutNote(shown.length, r.drift.length, "drifted contacts"));
  }
  return out;
}

/**
 * The terminal table: one headline per sync with its guards (REFUSED or note) and run facts, then
 * each sync's changes, rejected rows and drift. Plain text, no colours: the output may be a file.
 */
export function renderTable(reports: readonly SyncReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    out.push(clean(headline(r)));
    for (const g of r.guards) out.push(`  ${g.refused ? "REFUSED" : "note"}: ${clean(g.message)}`);
    for (const f of runFacts(r)) out.push(`  ${clean(f)}`);
  }
  for (const r of reports) out.push(...section(r));
  out.push("");
  return out.join("\n");
}

