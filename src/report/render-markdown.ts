/**
 * The markdown report, for a pull request or a ticket: everything the table shows, never cut.
 * GitHub-flavoured tables, one row per change, fields separated by `<br>` inside the cell.
 */
import type { Rejection } from "../model.js";
import type { SyncReport } from "./report.js";
import { COUNT_NAMES, actionLabel, changeFieldLines, changesTitle, describeChange, describeDrift, describeError, describeField, fieldLines, headline, modeOf, rejectedRows, runFacts } from "./describe.js";

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
  const names: string[] = [...COUNT_NAMES];
  const values: string[] = COUNT_NAMES.map((n) => String(r.counts[n]));
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

/**
 * Per sync: a heading, the counts table, guards as quotes, run facts, then every change, rejected
 * row and drifted contact in a table each (a table is left out when it would be empty).
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
    if (r.drift?.length) out.push(`### Changed in the Quo app since the last sync (${r.drift.length})`, "", ...driftTable(r), "");
  }
  return out.join("\n");
}
