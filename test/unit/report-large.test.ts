/**
 * A 100,000-change plan renders to every format, and each stays usable: the table is a screenful
 * that points to --out, markdown and json hold everything, the html page embeds everything but
 * draws rows only from its script (at most ROW_CAP). Timings are in bench/render.ts, not here.
 */
import { describe, expect, it } from "vitest";
import { ROW_CAP, renderHtml } from "../../src/report/render-html.js";
import { TABLE_LIMIT, renderJson, renderMarkdown, renderTable } from "../../src/report/render.js";
import { largeReport } from "../fixtures/reports/sample-reports.js";
import { htmlData } from "../fixtures/reports/parse-reports.js";

const N = 100_000;
const REJECTED = N / 100;
/** largeReport rotates creates, updates, deletes, links and unlinks: N/5 of each. */
const EACH = N / 5;
/** The page is the JSON plus markup; this bounds it well above what 100,000 small changes need. */
const MAX_HTML_BYTES = 60 * 1024 * 1024;

describe(`a ${N.toLocaleString("en-US")}-change report`, () => {
  const report = largeReport(N);

  it("the table summarises: TABLE_LIMIT changes and rejections, then how many more and how to get them", () => {
    const t = renderTable([report]);
    const lines = t.split("\n");
    expect(lines[0]).toBe(`big: would create ${EACH}, update ${EACH}, delete ${EACH}, link ${EACH}, unlink ${EACH}; unchanged 0, rejected ${REJECTED}, failed 0`);
    expect(t).toMatch(/\n {2}link +K3 +QK3 +matched by phone \+14152000003\n/);
    expect(t).toMatch(/\n {2}unlink +K4 +QK4 +no longer synced; the contact stays in Quo as it is\n/);
    // Each listed change takes one line per field (a create has four, a link one more), plus headers and notes.
    expect(lines.length).toBeLessThan(TABLE_LIMIT * 4 + TABLE_LIMIT + 20);
    expect(t).toContain(`  … and ${N - TABLE_LIMIT} more changes not shown; for the full list: --format markdown|json|html --out FILE`);
    expect(t).toContain(`  … and ${REJECTED - TABLE_LIMIT} more rejected rows not shown`);
  });

  it("markdown counts and lists every change and every rejected row", () => {
    const md = renderMarkdown([report]);
    expect(md).toContain(`| ${EACH} | ${EACH} | ${EACH} | ${EACH} | ${EACH} | 0 | ${REJECTED} | 0 |`);
    const rows = md.split("\n").filter((l) => /^\| (create|update|delete|link|unlink) \| K\d+ \|/.test(l));
    expect(rows).toHaveLength(N);
    expect(rows.filter((l) => /^\| link \| K\d+ \| QK\d+ \| matched by phone \+1415\d{7}<br>/.test(l))).toHaveLength(EACH);
    expect(md.split("\n").filter((l) => /^\| \d+ \| B\d+ \|/.test(l))).toHaveLength(REJECTED);
  });

  it("json holds every change in one line", () => {
    const lines = renderJson([report]).trim().split("\n");
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0]!);
    expect(json.changes).toHaveLength(N);
    expect(json.counts).toEqual({ create: EACH, update: EACH, delete: EACH, link: EACH, unlink: EACH, unchanged: 0, rejected: REJECTED, failed: 0, skipped: 0, filtered: 0 });
  });

  it("html embeds every entry and leaves drawing (capped at ROW_CAP) to its script", () => {
    const html = renderHtml([report]);
    expect(html.length).toBeLessThan(MAX_HTML_BYTES);
    const entries = htmlData(html).entries;
    expect(entries).toHaveLength(N + REJECTED);
    expect(entries.filter((e) => e.kind === "link")).toHaveLength(EACH);
    expect(entries.filter((e) => e.kind === "unlink")).toHaveLength(EACH);
    expect(html).toContain(`<option value="link">link (${EACH})</option><option value="unlink">unlink (${EACH})</option>`);
    expect(html).toContain('<tbody id="entries-body"></tbody>');
    expect(html).toContain(`var CAP = ${ROW_CAP};`);
  });
});
