/**
 * Renderers of sync reports, one per `--format`: `table` (a person at a terminal), `json` (the
 * contract in README.md), `markdown` (a ticket or a pull request) and `html` (one self-contained
 * page that opens offline). Dry runs and real runs go through the same renderers.
 */
import type { SyncReport } from "./report.js";
import { renderHtml } from "./render-html.js";
import { renderJson } from "./render-json.js";
import { renderMarkdown } from "./render-markdown.js";
import { renderTable } from "./render-table.js";

export { renderHtml } from "./render-html.js";
export { renderJson } from "./render-json.js";
export { renderMarkdown } from "./render-markdown.js";
export { TABLE_LIMIT, renderTable, type TableOptions } from "./render-table.js";

/** A `--format` value. */
export type Format = "table" | "json" | "markdown" | "html";

/** Every `--format` value, in the order help text lists them. */
export const FORMATS: readonly Format[] = ["table", "json", "markdown", "html"];

/** Where a report goes, as far as its layout cares. */
export interface RenderOptions {
  /**
   * Stdout is a terminal (and no `--out`): the table cuts long cells to fit a screen. Anything
   * else gets every cell in full. The other formats never cut.
   */
  terminal?: boolean;
}

/** The report of every sync in one format; the text ends with a newline. */
export function render(format: Format, reports: readonly SyncReport[], opts: RenderOptions = {}): string {
  switch (format) {
    case "json":
      return renderJson(reports);
    case "markdown":
      return renderMarkdown(reports);
    case "table":
      return renderTable(reports, { terminal: opts.terminal === true });
    case "html":
      return renderHtml(reports);
  }
}
