/**
 * Renderers of sync reports: `json` (the contract in product.md: one object per sync, one per
 * line), `table` (a person at a terminal) and `markdown` (a ticket or a pull request).
 */
import type { FieldChanges } from "../model.js";
import type { ReportChange, SyncReport } from "./report.js";

export type Format = "table" | "json" | "markdown";
export const FORMATS: readonly Format[] = ["table", "json", "markdown"];

/** How many changes and rejections the terminal table lists before pointing to `--out`. */
export const TABLE_LIMIT = 50;

/** One JSON object per sync, one per line, so `| jq` works for one sync and for several. */
export function renderJson(reports: readonly SyncReport[]): string {
  return reports.map((r) => JSON.stringify(r)).join("\n") + "\n";
}

function show(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (Array.isArray(v)) return v.join("; ");
  return String(v);
}

function describeFields(action: ReportChange["action"], f: FieldChanges): string {
  return Object.entries(f)
    .map(([name, c]) => (action === "update" ? `${name}: ${show(c.from)} → ${show(c.to)}` : `${name}: ${show(action === "delete" ? c.from : c.to)}`))
    .join(", ");
}

function countsLine(r: SyncReport): string {
  const c = r.counts;
  const verb = r.dryRun ? "would" : r.outcome === "refused" ? "refused, nothing written:" : "did";
  return `${r.sync}: ${verb} create ${c.create}, update ${c.update}, delete ${c.delete}; unchanged ${c.unchanged}, rejected ${c.rejected}, failed ${c.failed}`;
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length))));
  const clip = (s: string, w: number) => (s.length > w ? s.slice(0, w - 1) + "…" : s);
  return [pad(head, widths), pad(widths.map((w) => "-".repeat(w)), widths), ...rows.map((r) => pad(r.map((c, i) => clip(c, widths[i] ?? 60)), widths))];
}

/** The terminal table: counts, guards, then at most TABLE_LIMIT changes and rejections each. */
export function renderTable(reports: readonly SyncReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    out.push(countsLine(r));
    for (const g of r.guards) out.push(`  ${g.refused ? "REFUSED" : "note"}: ${g.message}`);
    if (r.changes.length) {
      out.push("");
      const rows = r.changes.slice(0, TABLE_LIMIT).map((c) => [
        c.action + (c.status && c.status !== "done" ? ` (${c.status})` : ""),
        c.key,
        c.quoId ?? "",
        c.error ? `${c.error.message}` : describeFields(c.action, c.fields) + (c.note ? ` [${c.note}]` : ""),
      ]);
      out.push(...table(["action", "key", "quo id", "fields"], rows).map((l) => "  " + l));
      if (r.changes.length > TABLE_LIMIT) out.push(`  … and ${r.changes.length - TABLE_LIMIT} more changes (use --format json --out FILE for the full list)`);
    }
    if (r.rejected.length) {
      out.push("", "  rejected rows:");
      const rows = r.rejected.slice(0, TABLE_LIMIT).map((j) => [String(j.row), j.key ?? "", j.reason]);
      out.push(...table(["row", "key", "reason"], rows).map((l) => "  " + l));
      if (r.rejected.length > TABLE_LIMIT) out.push(`  … and ${r.rejected.length - TABLE_LIMIT} more rejected rows (use --format json --out FILE for the full list)`);
    }
    out.push("");
  }
  return out.join("\n");
}

function md(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** Markdown: the same content as the table, every change listed. */
export function renderMarkdown(reports: readonly SyncReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    const c = r.counts;
    out.push(`## ${md(r.sync)}${r.dryRun ? " (dry run)" : ""}`, "");
    out.push("| create | update | delete | unchanged | rejected | failed |", "| ---: | ---: | ---: | ---: | ---: | ---: |");
    out.push(`| ${c.create} | ${c.update} | ${c.delete} | ${c.unchanged} | ${c.rejected} | ${c.failed} |`, "");
    for (const g of r.guards) out.push(`> **${g.refused ? "Refused" : "Note"}:** ${md(g.message)}`, "");
    if (r.changes.length) {
      out.push("| action | key | Quo id | fields |", "| --- | --- | --- | --- |");
      for (const ch of r.changes) {
        const what = ch.error ? `failed: ${ch.error.message}` : describeFields(ch.action, ch.fields);
        out.push(`| ${ch.action}${ch.status && ch.status !== "done" ? ` (${ch.status})` : ""} | ${md(ch.key)} | ${md(ch.quoId ?? "")} | ${md(what)} |`);
      }
      out.push("");
    }
    if (r.rejected.length) {
      out.push("| row | key | reason |", "| ---: | --- | --- |");
      for (const j of r.rejected) out.push(`| ${j.row} | ${md(j.key ?? "")} | ${md(j.reason)} |`);
      out.push("");
    }
  }
  return out.join("\n");
}

export function render(format: Format, reports: readonly SyncReport[]): string {
  switch (format) {
    case "json":
      return renderJson(reports);
    case "markdown":
      return renderMarkdown(reports);
    case "table":
      return renderTable(reports);
  }
}
