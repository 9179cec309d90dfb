import { describe, expect, it } from "vitest";
import type { FilteredRow, SkippedRow } from "../../src/model.js";
import { FILTERED_SHOWN, countsLine, describeMapping, filteredByCondition, headline, mappingLines, shownCountNames } from "../../src/report/describe.js";
import { htmlEntries } from "../../src/report/render-html.js";
import { TABLE_LIMIT, render, renderHtml, renderMarkdown, renderTable } from "../../src/report/render.js";
import { STORED_REPORT_CAP, reportFromPlan, storedReport, upgradeStoredReport, type SyncReport } from "../../src/report/report.js";
import { htmlData, markdownCells, unescapeMarkdown, unevenTableRows } from "../fixtures/reports/parse-reports.js";
import { HOSTILE_CELL, HOSTILE_NAME, PHONE_CONDITION, SKIP_REASON, STATUS_CONDITION, dryRunReports, explainedReports, leadsPlan, realRunReports } from "../fixtures/reports/sample-reports.js";

/** A dry run of "leads" with `n` rows filtered by one condition and `n` skipped. */
function manyLeftOut(n: number): SyncReport {
  const p = leadsPlan();
  p.filtered = Array.from({ length: n }, (_, i): FilteredRow => ({ key: `F${i}`, row: 100 + i, condition: STATUS_CONDITION, column: "Status", value: `S${i}` }));
  p.skipped = Array.from({ length: n }, (_, i): SkippedRow => ({ key: `S${i}`, row: 100 + n + i, reason: SKIP_REASON }));
  p.counts = { ...p.counts, filtered: n, skipped: n };
  return reportFromPlan(p, true);
}

/** A report as a run stored it before filters and modes existed: no filtered, skipped or their counts. */
function oldStoredReport(): SyncReport {
  const { filtered: _f, skipped: _s, rows: _r, ...rest } = realRunReports()[0]!;
  const { skipped: _cs, filtered: _cf, ...counts } = rest.counts;
  return JSON.parse(JSON.stringify({ ...rest, counts })) as SyncReport;
}

describe("the JSON report", () => {
  it("carries filtered and skipped rows always, and every row only with --explain", () => {
    const [leads, partners] = render("json", dryRunReports())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(leads!.filtered).toEqual([
      { key: "K60", row: 50, condition: STATUS_CONDITION, column: "Status", value: HOSTILE_CELL },
      { row: 51, condition: STATUS_CONDITION, column: "Status", value: "Prospect" },
      { key: "K62", row: 52, condition: PHONE_CONDITION, column: "Phone", value: "" },
    ]);
    expect(leads!.skipped).toEqual([{ key: "K70", row: 60, reason: SKIP_REASON }]);
    expect(leads).not.toHaveProperty("rows");
    expect(partners!.filtered).toEqual([]);
    expect(partners!.skipped).toEqual([]);
    expect(partners!.counts).toMatchObject({ skipped: 0, filtered: 0 });

    const explained = JSON.parse(render("json", explainedReports()).trim()) as SyncReport;
    expect(explained.rows!.map((x) => `${x.row} ${x.outcome}`)).toEqual(["6 update", "10 unchanged", "32 create", "40 rejected", "41 link", "50 filtered", "60 skipped"]);
    expect(explained.rows![1]).toEqual({ key: "K9", row: 10, outcome: "unchanged", mapping: { firstName: { value: "Nine", via: "column 'Name'" }, company: { value: null, via: "blank cell kept: Quo's value stays (blanks: keep)" } } });
    expect(explained.rows![5]).toEqual({ key: "K60", row: 50, outcome: "filtered", reason: STATUS_CONDITION });
  });

  it("gives a change its mapping only when the plan has one for its key, and never to a delete or an unlink", () => {
    const r = dryRunReports()[0]!;
    expect(r.changes.filter((c) => c.mapping).map((c) => c.key)).toEqual(["K31", "K5", "K40"]);
    expect(r.changes.find((c) => c.key === "K31")!.mapping!.company).toEqual({ value: "Pipe | and `tick` *star*", via: "default (column 'Company' is blank)" });
    // A real run keeps the mapping beside the outcome.
    const run = realRunReports()[0]!;
    expect(run.changes.find((c) => c.key === "K40")).toMatchObject({ status: "done", mapping: { "customFields.Stage": { value: "Customer" } } });
    const p = leadsPlan();
    p.mappings!.set("K20", { firstName: { value: "x", via: "column 'Name'" } });
    p.mappings!.set("K50", { firstName: { value: "x", via: "column 'Name'" } });
    const again = reportFromPlan(p, true);
    expect(again.changes.find((c) => c.key === "K20")).not.toHaveProperty("mapping");
    expect(again.changes.find((c) => c.key === "K50")).not.toHaveProperty("mapping");
  });

  it("a refused run keeps its skipped and filtered counts: those rows were never going to be written", () => {
    const p = leadsPlan();
    p.guards = [{ guard: "max-delete-percent", refused: true, message: "would delete too many" }];
    const r = reportFromPlan(p, false);
    expect(r.counts).toEqual({ create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 14, rejected: 2, failed: 0, skipped: 1, filtered: 3 });
    expect(r.filtered).toHaveLength(3);
  });
});

describe("describe", () => {
  it("names skipped and filtered counts only when not zero", () => {
    expect(shownCountNames({ create: 1, skipped: 0, filtered: 2 })).toEqual(["create", "update", "delete", "link", "unlink", "unchanged", "rejected", "failed", "filtered"]);
    expect(shownCountNames({})).toEqual(["create", "update", "delete", "link", "unlink", "unchanged", "rejected", "failed"]);
    expect(countsLine({ create: 1, update: 2, delete: 0, unchanged: 3, rejected: 0, failed: 0, skipped: 4, filtered: 0 })).toBe("create 1, update 2, delete 0, unchanged 3, rejected 0, failed 0, skipped 4");
    expect(countsLine({ create: 1, link: 1, filtered: 5 })).toBe("create 1, update 0, delete 0, link 1, unchanged 0, rejected 0, failed 0, filtered 5");
  });

  it("leaves a plain column out of a mapping unless every field is asked for", () => {
    const mapping = {
      firstName: { value: "Ann", via: "column 'Name'" },
      company: { value: "Independent", via: "default (column 'Company' is blank)" },
      role: { value: null, via: "blank cell kept: Quo's value stays (blanks: keep)" },
      "customFields.Tags": { value: ["a", "b"], via: "template" },
    };
    expect(mappingLines(mapping, false).map(describeMapping)).toEqual([
      "company = Independent  (default (column 'Company' is blank))",
      "role = —  (blank cell kept: Quo's value stays (blanks: keep))",
      "customFields.Tags = a; b  (template)",
    ]);
    expect(mappingLines(mapping, true).map(describeMapping)[0]).toBe("firstName = Ann  (column 'Name')");
    expect(mappingLines(undefined, true)).toEqual([]);
  });

  it("groups filtered rows by condition, in order of each condition's first row", () => {
    const rows: FilteredRow[] = [
      { row: 2, condition: "b", column: "X", value: "1" },
      { row: 3, condition: "a", column: "Y", value: "2" },
      { row: 4, condition: "b", column: "X", value: "3" },
    ];
    expect(filteredByCondition(rows).map((g) => [g.condition, g.rows.map((r) => r.row)])).toEqual([
      ["b", [2, 4]],
      ["a", [3]],
    ]);
  });
});

describe("the table", () => {
  it("lists skipped rows, and filtered rows under their condition with a count", () => {
    const t = renderTable(dryRunReports());
    expect(t).toContain("\nleads: skipped rows, left alone by the sync's mode (all 1)\n  key  row  reason\n");
    expect(t).toMatch(new RegExp(`\\n {2}K70 +60 +${SKIP_REASON}\\n`));
    expect(t).toContain("\nleads: filtered rows, out of the sync by its where (3 rows)\n");
    expect(t).toContain(`\n  ${STATUS_CONDITION}: 2 rows\n    key  row  column  value\n`);
    // A line break in a cell would end the row: it reads as a space.
    expect(t).toMatch(/\n {4}K60 +50 +Status +<b>Churned<\/b> \| gone next\n {9}51 +Status +Prospect\n/);
    expect(t).toContain(`\n  ${PHONE_CONDITION}: 1 row\n    key  row  column  value\n    ---  ---  ------  -----\n    K62  52   Phone   ""\n`);
    expect(renderTable(realRunReports())).toContain("leads: filtered rows, out of the sync by its where (3 rows)");
    expect(renderTable([dryRunReports()[1]!])).not.toMatch(/skipped rows|filtered rows/);
  });

  it("cuts filtered rows at FILTERED_SHOWN per condition and skipped rows at TABLE_LIMIT, saying how many more", () => {
    const t = renderTable([manyLeftOut(TABLE_LIMIT + 7)]);
    expect(t).toContain(`leads: skipped rows, left alone by the sync's mode (${TABLE_LIMIT} of ${TABLE_LIMIT + 7})`);
    expect(t).toContain("\n  … and 7 more (--format json lists them all)\n");
    expect(t).toContain(`\n  ${STATUS_CONDITION}: ${TABLE_LIMIT + 7} rows\n`);
    expect(t).toContain(`\n    … and ${TABLE_LIMIT + 7 - FILTERED_SHOWN} more (--format json lists them all)\n`);
    expect(t).toMatch(new RegExp(`\\n {4}F${FILTERED_SHOWN - 1} +${100 + FILTERED_SHOWN - 1} +Status`));
    expect(t).not.toMatch(new RegExp(`\\n {4}F${FILTERED_SHOWN} `));
  });

  it("shows under a change only the mapping a plain column does not explain; with --explain, all of it", () => {
    const plain = renderTable(dryRunReports());
    expect(plain).toMatch(/\n +phoneNumbers\.mobile +\+14155550131\n +company = Pipe \| and `tick` \*star\*  \(default \(column 'Company' is blank\)\)\n {2}create +K32/);
    expect(plain).not.toContain("(column 'Name')");
    expect(plain).not.toContain("lastName = Renamed");
    expect(plain).toMatch(/\n +firstName = Lin  \(first part of 'Full Name'\)\n +customFields\.Stage = Customer  \(map 'customer' → 'Customer' \(column 'Lifecycle'\)\)\n {2}link +K41/);
    expect(plain).not.toContain("every source row");
    const explained = renderTable(explainedReports());
    expect(explained).toMatch(/\n {2}update +K5 +QK5 +lastName +Last5 → Renamed\n +lastName = Renamed  \(column 'Last'\)\n/);
  });

  it("with --explain, lists every row: key, row, outcome, reason, then its mapping line by line", () => {
    const t = renderTable(explainedReports());
    const at = t.indexOf("leads: every source row, explained (all 7)");
    expect(at).toBeGreaterThan(0);
    const lines = t.slice(at).split("\n\n")[0]!.split("\n");
    expect(lines[1]).toMatch(/^ {2}key +row +outcome +reason \/ field = value {2}\(how\)$/);
    expect(lines.slice(3, 7).map((l) => l.trimEnd())).toEqual([
      "  K5   6    update",
      "                       lastName = Renamed  (column 'Last')",
      "  K9   10   unchanged",
      "                       firstName = Nine  (column 'Name')",
    ]);
    expect(t).toMatch(new RegExp(`\\n {2}K60 +50 +filtered +${STATUS_CONDITION.replace(/[[\]()]/g, "\\$&")}\\n`));
    expect(t).toMatch(new RegExp(`\\n {2}K70 +60 +skipped +${SKIP_REASON}\\n +firstName = Seventy  \\(column 'Name'\\)\\n`));
  });
});

describe("the markdown report", () => {
  const md = renderMarkdown([...explainedReports(), ...dryRunReports()]);

  it("every table row has as many cells as its header, the new sections too", () => {
    expect(unevenTableRows(md)).toEqual([]);
  });

  it("lists skipped rows, filtered rows by condition, and every explained row with its mapping, escaped", () => {
    expect(md).toContain(`### Skipped rows, left alone by the sync's mode (1)\n\n| key | row | reason |\n| --- | ---: | --- |\n| K70 | 60 | ${SKIP_REASON} |\n`);
    expect(md).toContain("### Filtered rows, out of the sync by its where (3)\n\n**where\\[0\\]: 'Status' in \\[\"Customer\", \"Lead\"\\]**: 2 rows\n\n| key | row | column | value |\n| --- | ---: | --- | --- |\n");
    const k60 = md.split("\n").find((l) => l.startsWith("| K60 | 50 | Status |"))!;
    expect(unescapeMarkdown(markdownCells(k60)[3]!)).toBe("<b>Churned</b> | gone next");
    expect(md).toContain('| K62 | 52 | Phone | "" |');
    expect(md).toContain("### Every source row, explained (7)\n\n| key | row | outcome | reason | mapping |\n");
    const k9 = md.split("\n").find((l) => l.startsWith("| K9 | 10 | unchanged |"))!;
    expect(unescapeMarkdown(markdownCells(k9)[4]!).split("<br>")).toEqual(["firstName = Nine  (column 'Name')", "company = —  (blank cell kept: Quo's value stays (blanks: keep))"]);
    const k31 = md.split("\n").find((l) => l.startsWith("| K31 | 32 | create |"))!;
    expect(unescapeMarkdown(markdownCells(k31)[4]!).split("<br>")[0]).toBe(`firstName = ${HOSTILE_NAME}  (column 'Name')`);
    expect(md).not.toContain("<img");
  });

  it("names skipped and filtered in the counts table only when not zero", () => {
    expect(md).toContain("| create | update | delete | link | unlink | unchanged | rejected | failed | skipped | filtered | drifted in Quo |");
    expect(md).toContain("## partners (refused)\n\npartners: refused, nothing written: create 0, update 0, delete 0; unchanged 2, rejected 0, failed 0\n\n| create | update | delete | link | unlink | unchanged | rejected | failed |\n");
  });

  it("cuts long lists as the table does", () => {
    const long = renderMarkdown([manyLeftOut(TABLE_LIMIT + 3)]);
    expect(long.split("\n").filter((l) => /^\| S\d+ \| \d+ \|/.test(l))).toHaveLength(TABLE_LIMIT);
    expect(long).toContain("\n… and 3 more (--format json lists them all)\n");
    expect(long.split("\n").filter((l) => /^\| F\d+ \| \d+ \| Status/.test(l))).toHaveLength(FILTERED_SHOWN);
    expect(long).toContain(`\n… and ${TABLE_LIMIT + 3 - FILTERED_SHOWN} more (--format json lists them all)\n`);
  });
});

describe("the html report", () => {
  it("has an entry per skipped, filtered and explained row, after the changes", () => {
    const entries = htmlEntries(explainedReports());
    expect(entries.filter((e) => e.kind === "skipped")).toEqual([{ sync: "leads", kind: "skipped", action: "skipped", label: "skipped", key: "K70", row: 60, message: SKIP_REASON, fields: [] }]);
    expect(entries.filter((e) => e.kind === "filtered").map((e) => [e.key, e.row, e.message, e.fields])).toEqual([
      ["K60", 50, STATUS_CONDITION, [["Status", "", HOSTILE_CELL]]],
      ["", 51, STATUS_CONDITION, [["Status", "", "Prospect"]]],
      ["K62", 52, PHONE_CONDITION, [["Phone", "", '""']]],
    ]);
    const explained = entries.filter((e) => e.kind === "explained");
    expect(explained.map((e) => e.label)).toEqual(["row: update", "row: unchanged", "row: create", "row: rejected", "row: link", "row: filtered", "row: skipped"]);
    expect(explained[1]).toEqual({
      sync: "leads",
      kind: "explained",
      action: "explained",
      label: "row: unchanged",
      key: "K9",
      row: 10,
      fields: [],
      mapping: [
        ["firstName", "Nine", "column 'Name'"],
        ["company", "—", "blank cell kept: Quo's value stays (blanks: keep)"],
      ],
    });
    expect(explained[5]).toMatchObject({ key: "K60", message: STATUS_CONDITION });
    expect(explained[5]).not.toHaveProperty("mapping");
    const kinds = entries.map((e) => e.kind);
    expect(kinds.indexOf("skipped")).toBeGreaterThan(kinds.lastIndexOf("unlink"));
    expect(kinds.indexOf("explained")).toBeGreaterThan(kinds.lastIndexOf("filtered"));
  });

  it("gives a change the mapping lines a plain column does not explain; all of them with --explain", () => {
    const plain = htmlEntries(dryRunReports());
    expect(plain.find((e) => e.key === "K31")!.mapping).toEqual([["company", "Pipe | and `tick` *star*", "default (column 'Company' is blank)"]]);
    expect(plain.find((e) => e.key === "K5")).not.toHaveProperty("mapping");
    const all = htmlEntries(explainedReports());
    expect(all.find((e) => e.kind === "update" && e.key === "K5")!.mapping).toEqual([["lastName", "Renamed", "column 'Last'"]]);
  });

  it("summarises filtered rows by condition, escaped, and offers the new kinds in its filter", () => {
    const html = renderHtml(explainedReports());
    expect(html).toContain(`<div class="filtered-by"><h3>Filtered out by <code>where</code></h3><ul><li><code>where[0]: &#39;Status&#39; in [&#34;Customer&#34;, &#34;Lead&#34;]</code>: <span data-filtered-count>2 rows</span></li><li><code>where[1]: &#39;Phone&#39; notBlank</code>: <span data-filtered-count>1 row</span></li></ul></div>`);
    expect(html).toContain('<option value="skipped">skipped (1)</option><option value="filtered">filtered (3)</option><option value="explained">explained (7)</option>');
    expect(htmlData(html).entries.filter((e) => e.kind === "filtered")).toHaveLength(3);
    expect(html).not.toContain("<b>Churned");
    expect(renderHtml([dryRunReports()[1]!])).not.toContain('class="filtered-by"');
  });
});

describe("stored reports", () => {
  it("keep the first STORED_REPORT_CAP filtered and skipped rows, say how many more, and keep no explained rows", () => {
    const big = manyLeftOut(STORED_REPORT_CAP + 4);
    const stored = storedReport(big);
    expect(stored.filtered).toHaveLength(STORED_REPORT_CAP);
    expect(stored.skipped).toHaveLength(STORED_REPORT_CAP);
    expect(stored.filtered[0]).toEqual(big.filtered[0]);
    expect(stored.omitted).toEqual({ changes: 0, rejected: 0, filtered: 4, skipped: 4 });
    expect(stored.counts).toMatchObject({ filtered: STORED_REPORT_CAP + 4, skipped: STORED_REPORT_CAP + 4 });
    const small = realRunReports()[0]!;
    expect(storedReport(small)).toBe(small);
    const explained = explainedReports()[0]!;
    const kept = storedReport(explained);
    expect(kept).not.toHaveProperty("rows");
    expect(kept).not.toHaveProperty("omitted");
    expect(kept.filtered).toEqual(explained.filtered);
  });

  it("stored before filters and modes, read as having none, and render in every format", () => {
    const old = oldStoredReport();
    expect(old).not.toHaveProperty("filtered");
    const r = upgradeStoredReport(old);
    expect(r.filtered).toEqual([]);
    expect(r.skipped).toEqual([]);
    expect(r.counts).toEqual({ create: 2, update: 2, delete: 1, link: 1, unlink: 1, unchanged: 14, rejected: 2, failed: 2, skipped: 0, filtered: 0 });
    expect(headline(r)).toBe("leads: did create 2, update 2, delete 1, link 1, unlink 1; unchanged 14, rejected 2, failed 2, drifted in Quo 2");
    expect(renderTable([r])).not.toMatch(/skipped|filtered/);
    expect(renderMarkdown([r])).toContain("| create | update | delete | link | unlink | unchanged | rejected | failed | drifted in Quo |");
    expect(htmlData(renderHtml([r])).entries.map((e) => e.kind)).not.toContain("filtered");
    // What is there is kept as it is.
    const current = realRunReports()[0]!;
    expect(upgradeStoredReport(current)).toEqual(current);
  });
});
