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
/** The page is the JSON plus markup; this bounds it well above what 100,000 small changes need. */
const MAX_HTML_BYTES = 60 * 1024 * 1024;

describe(`a ${N.toLocaleString("en-US")}-change report`, () => {
  const report = largeReport(N);

  it("the table summarises: TABLE_LIMIT changes and rejections, then how many more and how to get them", () => {
    const t = renderTable([report]);
    const lines = t.split("\n");
    expect(lines[0]).toBe(`big: would create ${Math.ceil(N / 3)}, update ${Math.ceil((N - 1) / 3)}, delete ${Math.floor(N / 3)}; unchanged 0, rejected ${REJECTED}, failed 0`);
    // Each listed change takes one line per field (a create has four), plus headers and notes.
    expect(lines.length).toBeLessThan(TABLE_LIMIT * 4 + TABLE_LIMIT + 20);
    expect(t).toContain(`  … and ${N - TABLE_LIMIT} more changes not shown; for the full list: --format markdown|json|html --out FILE`);
    expect(t).toContain(`  … and ${REJECTED - TABLE_LIMIT} more rejected rows not shown`);
  });

  it("markdown lists every change and every rejected row", () => {
    const md = renderMarkdown([report]);
    const rows = md.split("\n").filter((l) => /^\| (create|update|delete) \| K\d+ \|/.test(l));
    expect(rows).toHaveLength(N);
    expect(md.split("\n").filter((l) => /^\| \d+ \| B\d+ \|/.test(l))).toHaveLength(REJECTED);
  });

  it("json holds every change in one line", () => {
    const lines = renderJson([report]).trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).changes).toHaveLength(N);
  });

  it("html embeds every entry and leaves drawing (capped at ROW_CAP) to its script", () => {
    const html = renderHtml([report]);
    expect(html.length).toBeLessThan(MAX_HTML_BYTES);
    expect(htmlData(html).entries).toHaveLength(N + REJECTED);
    expect(html).toContain('<tbody id="entries-body"></tbody>');
    expect(html).toContain(`var CAP = ${ROW_CAP};`);
  });
});
