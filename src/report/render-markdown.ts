/**
 * The markdown report, for a pull request or a ticket: everything the table shows. Changes,
 * rejected rows, drift and explained rows are never cut; skipped rows stop at TABLE_LIMIT and
 * filtered rows at FILTERED_SHOWN per condition, each saying how many more (JSON lists them all):
 * a filter or a mode can leave out most of a large source. GitHub-flavoured tables, one row per
 * change, fields separated by `<br>` inside the cell.
 */
import type { Rejection } from "../model.js";
import type { SyncReport } from "./report.js";
import { FILTERED_SHOWN, actionLabel, changeFieldLines, changesTitle, describeChange, describeDrift, describeError, describeField, describeMapping, fieldLines, filteredByCondition, headline, mappingLines, modeOf, moreText, rejectedRows, rowsText, runFacts, showValue, shownCountNames } from "./describe.js";
import { TABLE_LIMIT } from "./render-table.js";

/** Any character escapeMarkdown changes. */
const NEEDS_ESCAPE = /[&<>\\`*_[\]|~#\r\n\u2028\u2029]/;

/**
 * Source data is text, never markup: HTML is escaped as entities (GitHub would otherwise render or
 * strip it), markdown punctuation with a backslash, a pipe so it cannot end a cell, and a line
 * break becomes a space so it cannot end a row.
 */
export function escapeMarkdown(s: string): string {
  // Most values need nothing; one test instead of five replaces keeps 100,000 rows fast.
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\`*_[\]|~#]/g, (c) => "\\" + c)
    .replace(/\r\n|[\r\n\u2028\u2029]/g, " ");
}

/** Joins the lines of one cell: `<br>` is the only line break a GFM table cell has. */
const CELL_BREAK = "<br>";

function row(cells: readonly string[]): string {
  return `| ${cells.map((c) => c || " ").join(" | ")} |`;
}

function tableHead(head: readonly string[], align: readonly ("l" | "r")[]): string[] {
  return [row(head), row(align.map((a) => (a === "r" ? "---:" : "---")))];
}

function countsTable(r: SyncReport): string[] {
  const shown = shownCountNames(r.counts);
  const names: string[] = [...shown];
  const values: string[] = shown.map((n) => String(r.counts[n]));
  if (r.drift) {
    names.push("drifted in Quo");
    values.push(String(r.drift.length));
  }
  return [...tableHead(names, names.map(() => "r")), row(values)];
}

function changesTable(r: SyncReport): string[] {
  const out = tableHead(["action", "key", "Quo id", "fields (before → after)"], ["l", "l", "l", "l"]);
  for (const c of r.changes) {
    const lines = changeFieldLines(c).map((l) => `${escapeMarkdown(l.field)}: ${escapeMarkdown(describeField(c.action, l))}`);
    const detail = describeChange(c);
    if (detail) lines.unshift(escapeMarkdown(detail));
    if (c.error) lines.unshift(`**failed:** ${escapeMarkdown(describeError(c.error))}`);
    if (c.note) lines.push(`*${escapeMarkdown(c.note)}*`);
    for (const m of mappingLines(c.mapping, r.rows !== undefined)) lines.push(escapeMarkdown(describeMapping(m)));
    out.push(row([actionLabel(c, r), escapeMarkdown(c.key), escapeMarkdown(c.quoId ?? ""), lines.join(CELL_BREAK)]));
  }
  return out;
}

/** One table row per rejected source row; a row with several fields at fault lists them line by line in each cell. */
function rejectedTable(r: SyncReport): string[] {
  const out = tableHead(["row", "key", "field", "value", "reason"], ["r", "l", "l", "l", "l"]);
  for (const group of rejectedRows(r.rejected)) {
    const lines = (pick: (j: Rejection) => string) => group.map((j) => escapeMarkdown(pick(j))).join(CELL_BREAK);
    out.push(row([String(group[0]!.row), escapeMarkdown(group[0]!.key ?? ""), lines((j) => j.field ?? ""), lines((j) => j.value ?? ""), lines((j) => j.reason)]));
  }
  return out;
}

function driftTable(r: SyncReport): string[] {
  const out = tableHead(["key", "Quo id", "what happened", "fields (last sent → now in Quo)"], ["l", "l", "l", "l"]);
  for (const d of r.drift ?? []) {
    const lines = fieldLines(d.fields).map((l) => `${escapeMarkdown(l.field)}: ${escapeMarkdown(describeField("drift", l))}`);
    out.push(row([escapeMarkdown(d.key), escapeMarkdown(d.quoId), escapeMarkdown(describeDrift(d)), lines.join(CELL_BREAK)]));
  }
  return out;
}

/** The first TABLE_LIMIT skipped rows, one per table row, and how many more there are. */
function skippedTable(r: SyncReport): string[] {
  const out = tableHead(["key", "row", "reason"], ["l", "r", "l"]);
  for (const k of r.skipped.slice(0, TABLE_LIMIT)) out.push(row([escapeMarkdown(k.key), String(k.row), escapeMarkdown(k.reason)]));
  if (r.skipped.length > TABLE_LIMIT) out.push("", escapeMarkdown(moreText(r.skipped.length - TABLE_LIMIT)));
  return out;
}

/** Per `where` condition: how many rows failed it, the first FILTERED_SHOWN of them, and how many more. */
function filteredTables(r: SyncReport): string[] {
  const out: string[] = [];
  for (const g of filteredByCondition(r.filtered)) {
    out.push(`**${escapeMarkdown(g.condition)}**: ${rowsText(g.rows.length)}`, "", ...tableHead(["key", "row", "column", "value"], ["l", "r", "l", "l"]));
    for (const f of g.rows.slice(0, FILTERED_SHOWN)) out.push(row([escapeMarkdown(f.key ?? ""), String(f.row), escapeMarkdown(f.column), escapeMarkdown(showValue(f.value))]));
    if (g.rows.length > FILTERED_SHOWN) out.push("", escapeMarkdown(moreText(g.rows.length - FILTERED_SHOWN)));
    out.push("");
  }
  return out;
}

/** `plan --explain`: every source row, its outcome and why, and each field's value and how it got it. */
function explainedTable(r: SyncReport): string[] {
  const out = tableHead(["key", "row", "outcome", "reason", "mapping"], ["l", "r", "l", "l", "l"]);
  for (const x of r.rows ?? []) {
    const mapping = mappingLines(x.mapping, true).map((m) => escapeMarkdown(describeMapping(m)));
    out.push(row([escapeMarkdown(x.key ?? ""), String(x.row), x.outcome, escapeMarkdown(x.reason ?? ""), mapping.join(CELL_BREAK)]));
  }
  return out;
}

/**
 * Per sync: a heading, the counts table, guards as quotes, run facts, then the changes, rejected,
 * skipped, filtered and explained rows and drifted contacts in a table each (a table is left out
 * when it would be empty).
 */
export function renderMarkdown(reports: readonly SyncReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    out.push(`## ${escapeMarkdown(r.sync)} (${modeOf(r)})`, "", escapeMarkdown(headline(r)), "", ...countsTable(r), "");
    for (const g of r.guards) out.push(`> **${g.refused ? "Refused" : "Note"}:** ${escapeMarkdown(g.message)}`, "");
    const facts = runFacts(r);
    if (facts.length) out.push(...facts.map((f) => `- ${escapeMarkdown(f)}`), "");
    if (r.changes.length) out.push(`### ${changesTitle(r)} (${r.changes.length})`, "", ...changesTable(r), "");
    if (r.rejected.length) out.push(`### Rejected rows, not sent (${rejectedRows(r.rejected).length})`, "", ...rejectedTable(r), "");
    if (r.skipped.length) out.push(`### Skipped rows, left alone by the sync's mode (${r.skipped.length})`, "", ...skippedTable(r), "");
    if (r.filtered.length) out.push(`### Filtered rows, out of the sync by its where (${r.filtered.length})`, "", ...filteredTables(r));
    if (r.rows?.length) out.push(`### Every source row, explained (${r.rows.length})`, "", ...explainedTable(r), "");
    if (r.drift?.length) out.push(`### Changed in the Quo app since the last sync (${r.drift.length})`, "", ...driftTable(r), "");
  }
  return out.join("\n");
}
