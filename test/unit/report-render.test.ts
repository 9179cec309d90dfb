import { describe, expect, it } from "vitest";
import { COUNT_NAMES, ENTRY_KINDS, headline } from "../../src/report/describe.js";
import { DATA_ELEMENT_ID, HTML_CSP, embedJson, htmlEntries } from "../../src/report/render-html.js";
import { escapeMarkdown } from "../../src/report/render-markdown.js";
import { FORMATS, TABLE_LIMIT, render, renderHtml, renderMarkdown, renderTable } from "../../src/report/render.js";
import { reportFromPlan, type SyncReport } from "../../src/report/report.js";
import { textWidth } from "../../src/report/text-width.js";
import { HOSTILE_NAME, LINK_EMAIL, contact, dryRunReports, explainedReports, largeReport, realRunReports, refusedPlan } from "../fixtures/reports/sample-reports.js";
import { htmlData, markdownCells, statedByHtml, statedByJson, statedByMarkdown, statedByModel, statedByTable, unescapeMarkdown, unevenTableRows } from "../fixtures/reports/parse-reports.js";

const cases: [string, () => SyncReport[]][] = [
  ["a dry run with a refused sync", dryRunReports],
  ["a real run with a failure, recovery and drift", realRunReports],
  ["plan --explain", explainedReports],
];

describe("the four formats agree", () => {
  it.each(cases)("%s: every format states the model's counts and lists the same keys per kind", (_, build) => {
    const reports = build();
    const truth = statedByModel(reports);
    expect(statedByJson(render("json", reports))).toEqual(truth);
    expect(statedByTable(render("table", reports))).toEqual(truth);
    expect(statedByMarkdown(render("markdown", reports))).toEqual(truth);
    expect(statedByHtml(render("html", reports))).toEqual(truth);
  });

  it("the sample covers every kind an entry can have", () => {
    const kinds = new Set([...dryRunReports(), ...realRunReports(), ...explainedReports()].flatMap((r) => htmlEntries([r]).map((e) => e.kind)));
    expect([...kinds].sort()).toEqual([...ENTRY_KINDS].sort());
  });

  it("every format states how each link was matched, a failed link too", () => {
    for (const reports of [dryRunReports(), realRunReports()]) {
      const truth = statedByModel(reports).get("leads")!.match;
      expect(truth).toEqual(["K40 by phone +14155550100", `K41 by email ${LINK_EMAIL}`]);
      for (const f of FORMATS) {
        const parse = { json: statedByJson, table: statedByTable, markdown: statedByMarkdown, html: statedByHtml }[f];
        expect(parse(render(f, reports)).get("leads")!.match, f).toEqual(truth);
      }
    }
  });

  it("html is one of the formats, and every format ends with a newline", () => {
    expect(FORMATS).toEqual(["table", "json", "markdown", "html"]);
    for (const f of FORMATS) expect(render(f, dryRunReports()).endsWith("\n")).toBe(true);
  });
});

describe("json", () => {
  it("keeps the contract: one object per sync per line with the contract's keys", () => {
    const lines = render("json", dryRunReports()).trim().split("\n");
    expect(lines).toHaveLength(2);
    const leads = JSON.parse(lines[0]!);
    expect(Object.keys(leads)).toEqual(expect.arrayContaining(["sync", "dryRun", "counts", "changes", "rejected", "guards", "drift"]));
    expect(Object.keys(leads.counts)).toEqual(["create", "update", "delete", "link", "unlink", "unchanged", "rejected", "failed", "skipped", "filtered"]);
    expect(leads.counts).toEqual({ create: 3, update: 2, delete: 1, link: 2, unlink: 1, unchanged: 14, rejected: 2, failed: 0, skipped: 1, filtered: 3 });
    expect(leads.changes.find((c: { key: string }) => c.key === "K5")).toEqual({ action: "update", key: "K5", row: 6, quoId: "QK5", fields: { lastName: { from: "Last5", to: "Renamed" } }, mapping: { lastName: { value: "Renamed", via: "column 'Last'" } } });
    const link = leads.changes.find((c: { key: string }) => c.key === "K40");
    expect(Object.keys(link)).toEqual(["action", "key", "row", "quoId", "match", "fields", "mapping"]);
    expect(link).toEqual({
      action: "link",
      key: "K40",
      row: 41,
      quoId: "QX40",
      match: { by: "phone", value: "+14155550100" },
      fields: { firstName: { from: null, to: "Lin" }, lastName: { from: null, to: "Ked" }, "phoneNumbers.mobile": { from: null, to: "+14155550100" } },
      mapping: { firstName: { value: "Lin", via: "first part of 'Full Name'" }, "customFields.Stage": { value: "Customer", via: "map 'customer' → 'Customer' (column 'Lifecycle')" } },
    });
    // An unlink changes nothing in Quo, so it lists no fields.
    expect(leads.changes.find((c: { key: string }) => c.key === "K50")).toEqual({ action: "unlink", key: "K50", quoId: "QX50" });
    expect(leads.rejected[0]).toMatchObject({ key: "B2", row: 40, reason: expect.stringContaining("not a valid phone number") });
  });

  it("a real run gives links and unlinks their outcome like any change", () => {
    const [leads] = render("json", realRunReports()).trim().split("\n").map((l) => JSON.parse(l));
    expect(leads.counts).toEqual({ create: 2, update: 2, delete: 1, link: 1, unlink: 1, unchanged: 14, rejected: 2, failed: 2, skipped: 1, filtered: 3 });
    expect(leads.changes.find((c: { key: string }) => c.key === "K40")).toMatchObject({ action: "link", quoId: "QX40", status: "done" });
    expect(leads.changes.find((c: { key: string }) => c.key === "K41")).toMatchObject({ action: "link", status: "failed", match: { by: "email", value: LINK_EMAIL }, error: { status: 422 } });
    expect(leads.changes.find((c: { key: string }) => c.key === "K50")).toEqual({ action: "unlink", key: "K50", quoId: "QX50", status: "done" });
  });

  it("a refused run counts no link or unlink either, and lists them as refused", () => {
    const p = refusedPlan();
    p.actions.push({ action: "link", key: "P9", row: 10, quoId: "QX9", fields: contact("Partner9"), hash: "h", sourceHash: "s", match: { by: "phone", value: "+14155550109" } });
    p.actions.push({ action: "unlink", key: "P8", quoId: "QX8", before: contact("Partner8") });
    p.counts = { ...p.counts, link: 1, unlink: 1 };
    const [partners] = render("json", [reportFromPlan(p, false)]).trim().split("\n").map((l) => JSON.parse(l));
    expect(Object.keys(partners.counts)).toEqual([...COUNT_NAMES]);
    expect(partners.counts).toMatchObject({ delete: 0, link: 0, unlink: 0 });
    expect(renderMarkdown([reportFromPlan(p, false)])).toMatch(/\| link \(refused\) \| P9 \| QX9 \| matched by phone \+14155550109<br>firstName: Partner9 \|\n\| unlink \(refused\) \| P8 \|/);
  });
});

describe("the headline", () => {
  it("names link and unlink only when they are not zero, the same in every format", () => {
    const [leads, partners] = dryRunReports();
    expect(headline(leads!)).toBe("leads: would create 3, update 2, delete 1, link 2, unlink 1; unchanged 14, rejected 2, failed 0, skipped 1, filtered 3, drifted in Quo 2");
    expect(headline(partners!)).toBe("partners: refused, nothing written: create 0, update 0, delete 0; unchanged 2, rejected 0, failed 0");
    leads!.counts.link = 0;
    expect(headline(leads!)).toBe("leads: would create 3, update 2, delete 1, unlink 1; unchanged 14, rejected 2, failed 0, skipped 1, filtered 3, drifted in Quo 2");
    for (const f of ["table", "markdown", "html"] as const) expect(render(f, [leads!]), f).toContain("would create 3, update 2, delete 1, unlink 1; unchanged 14");
  });

  it("names skipped and filtered only when they are not zero", () => {
    const [leads] = dryRunReports();
    leads!.counts.skipped = 0;
    expect(headline(leads!)).toBe("leads: would create 3, update 2, delete 1, link 2, unlink 1; unchanged 14, rejected 2, failed 0, filtered 3, drifted in Quo 2");
    leads!.counts.filtered = 0;
    expect(headline(leads!)).toBe("leads: would create 3, update 2, delete 1, link 2, unlink 1; unchanged 14, rejected 2, failed 0, drifted in Quo 2");
  });
});

describe("table", () => {
  const table = renderTable(realRunReports());

  it("puts the summary first, guards marked, then updates field by field and failures with Quo's message and trace", () => {
    const lines = table.split("\n");
    expect(lines[0]).toBe("leads: did create 2, update 2, delete 1, link 1, unlink 1; unchanged 14, rejected 2, failed 2, skipped 1, filtered 3, drifted in Quo 2");
    expect(lines[1]).toMatch(/^ {2}note: a note guard/);
    expect(table).toMatch(/update +K6 +QK6 +company +— → New Co\n +phoneNumbers\.mobile +\+14152000006 → \+14159990006/);
    expect(table).toMatch(/create \(failed\) +K32 +error +HTTP 400 0800400: Invalid email \(trace trace-abc123\)/);
    expect(table).toMatch(/40 +B2 +phoneNumbers\.mobile +555-12 +phoneNumbers\.mobile: '555-12' is not a valid phone number for US/);
    expect(table).toMatch(/K7 +QK7 +edited in Quo.* +lastName +Last7 → Edited In App/);
  });

  it("shows how each link was matched and the values it sets, and what an unlink leaves", () => {
    expect(table).toMatch(/\n {2}link +K40 +QX40 +matched by phone \+14155550100\n +firstName +Lin\n +lastName +Ked\n +phoneNumbers\.mobile +\+14155550100\n/);
    expect(table).toMatch(/\n {2}link \(failed\) +K41 +QX41 +error +HTTP 422 0800422: Contact cannot be edited\n +matched by email ann_lee@example\.com\n/);
    expect(table).toMatch(/\n {2}unlink +K50 +QX50 +no longer synced; the contact stays in Quo as it is\n/);
  });

  it("lists the changes a refused run would have made as refused", () => {
    const t = renderTable(dryRunReports());
    expect(t).toContain("  REFUSED: would delete 3 of the sync's 5 contacts");
    expect(t).toMatch(/partners: changes refused by a guard, none written \(all 3\)\n.*\n.*\n {2}delete \(refused\) +P1/);
  });

  it("cuts each list at TABLE_LIMIT, lists failures first, and says how to get the rest", () => {
    const big = largeReport(TABLE_LIMIT * 3);
    const last = big.changes.findLast((c) => c.action === "link")!;
    last.status = "failed";
    last.error = { message: "boom", status: 500 };
    const t = renderTable([big]);
    expect(t).toContain(`big: changes (${TABLE_LIMIT} of ${TABLE_LIMIT * 3})`);
    expect(t).toContain("  … and 100 more changes not shown; for the full list: --format markdown|json|html --out FILE");
    expect(t.split("\n").find((l) => /^ {2}(create|update|delete|link|unlink)/.test(l))).toMatch(/^ {2}link \(failed\) +K148 /);
  });

  it("on a terminal, clips long cells with … and never passes control characters to it", () => {
    const r = realRunReports();
    r[0]!.changes[0]!.fields = { firstName: { from: null, to: "\u001b[31mred\u001b[0m" + "x".repeat(200) }, lastName: { from: null, to: "a\u202eb\rc" } };
    const t = renderTable(r, { terminal: true });
    expect(t).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
    expect(t).toMatch(/ \[31mred \[0mx+…/);
    expect(Math.max(...t.split("\n").map((l) => l.length))).toBeLessThan(260);
  });

  it.each([
    { where: "a terminal", opts: { terminal: true }, whole: false },
    { where: "a pipe or a file (the default)", opts: {}, whole: true },
  ])("on $where, long cells are printed whole: $whole", ({ opts, whole }) => {
    const r = realRunReports();
    const value = `${"9".repeat(120)}`;
    const reason = `phoneNumbers.mobile: '${value}' is not a valid phone number for US (column 'Mobile Phone Number, as exported from the CRM')`;
    r[0]!.rejected[0] = { key: "B2", row: 40, field: "phoneNumbers.mobile", value, reason };
    r[0]!.changes[0]!.fields = { firstName: { from: null, to: "\u001b[31mred\u001b[0m" + "x".repeat(200) } };
    for (const t of [renderTable(r, opts), render("table", r, opts)]) {
      expect(t.includes(reason)).toBe(whole);
      expect(t.includes(value)).toBe(whole);
      expect(t.includes(" [31mred [0m" + "x".repeat(200))).toBe(whole);
      expect(t).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
      if (whole) expect(t).not.toContain("…");
      else expect(Math.max(...t.split("\n").map((l) => l.length))).toBeLessThan(260);
    }
  });

  it("lists a row with several fields at fault once: its row and key on the first line, one line per field", () => {
    const lines = renderTable(realRunReports()).split("\n");
    const at = lines.findIndex((l) => l.includes("'555-12' is not a valid phone number"));
    expect(lines[at]).toMatch(/^ {2}40 +B2 +phoneNumbers\.mobile +555-12 +phoneNumbers\.mobile: '555-12' is not a valid phone number for US$/);
    expect(lines[at + 1]).toMatch(/^ {2} +emails\.work +b2@@x\.io +emails\.work: 'b2@@x\.io' is not a valid email address \(more than one '@'\)$/);
    expect(lines).toContain("leads: rejected rows, not sent (all 2)");
  });

  it("lines up columns by terminal width when names are in CJK scripts or carry emoji", () => {
    const r = realRunReports();
    r[0]!.changes[0]!.fields = { firstName: { from: null, to: "山田太郎" } };
    r[0]!.rejected[0]!.value = "電話番号";
    const lines = renderTable(r).split("\n");
    // 電話番号 takes 8 columns, as wide as the dashes under "value", so "reason" starts where it does.
    const header = lines.find((l) => /^ {2}row +key +field +value +reason$/.test(l))!;
    const row = lines.find((l) => l.includes("電話番号"))!;
    expect(row).toBe("  40   B2   phoneNumbers.mobile  電話番号  phoneNumbers.mobile: '555-12' is not a valid phone number for US");
    expect(textWidth(row.slice(0, row.indexOf("phoneNumbers.mobile: ")))).toBe(header.indexOf("reason"));
    const name = lines.find((l) => l.includes("山田太郎"))!;
    const field = lines.find((l) => /^ {2}action +key +quo id +field +value/.test(l))!;
    expect(textWidth(name.slice(0, name.indexOf("山田太郎")))).toBe(field.indexOf("value"));
  });
});

describe("markdown", () => {
  const md = renderMarkdown([...realRunReports(), ...dryRunReports()]);

  it("every table row has as many cells as its header, whatever the data holds", () => {
    expect(unevenTableRows(md)).toEqual([]);
  });

  it("escapes markup, pipes and line breaks, and reads back to the original text", () => {
    expect(md).not.toContain("<img");
    expect(md).not.toContain("two\nlines");
    const row = md.split("\n").find((l) => l.startsWith("| create | K31 |"))!;
    const fields = unescapeMarkdown(markdownCells(row)[3]!).split("<br>");
    // Then the one field of its mapping a plain column does not explain.
    expect(fields).toEqual([`firstName: ${HOSTILE_NAME}`, "company: Pipe | and `tick` *star*", "role: two lines", "phoneNumbers.mobile: +14155550131", "company = Pipe | and `tick` *star*  (default (column 'Company' is blank))"]);
    expect(unescapeMarkdown(escapeMarkdown("a\\|b & <c> _d_ [e](f)"))).toBe("a\\|b & <c> _d_ [e](f)");
  });

  it("shows guards, failures with their trace, notes, rejected reasons and drift", () => {
    expect(md).toContain("> **Refused:** would delete 3 of the sync's 5 contacts (60.0%), over maxDeletePercent 20");
    expect(md).toContain("| create (failed) | K32 |   | **failed:** HTTP 400 0800400: Invalid email (trace trace-abc123)<br>");
    expect(md).toContain("| update | K5 | QK5new | lastName: Last5 → Renamed<br>*recreated* |");
    expect(md).toContain("### Rejected rows, not sent (2)");
    // A row with two fields at fault is one table row, its fields, values and reasons line by line.
    expect(md).toContain(
      "| 40 | B2 | phoneNumbers.mobile<br>emails.work | 555-12<br>b2@@x.io | phoneNumbers.mobile: '555-12' is not a valid phone number for US<br>emails.work: 'b2@@x.io' is not a valid email address (more than one '@') |",
    );
    expect(md).toContain("| K8 | QK8 | deleted in Quo; left as it is in Quo (onDrift: skip) | firstName: First8 → — |");
  });

  it("counts links and unlinks, and shows how each link was matched before the values it sets", () => {
    expect(md).toContain("| create | update | delete | link | unlink | unchanged | rejected | failed | skipped | filtered | drifted in Quo |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n| 3 | 2 | 1 | 2 | 1 | 14 | 2 | 0 | 1 | 3 | 2 |");
    expect(md).toContain(
      "| link | K40 | QX40 | matched by phone +14155550100<br>firstName: Lin<br>lastName: Ked<br>phoneNumbers.mobile: +14155550100<br>firstName = Lin  (first part of 'Full Name')<br>customFields.Stage = Customer  (map 'customer' → 'Customer' (column 'Lifecycle')) |",
    );
    expect(md).toContain("| link (failed) | K41 | QX41 | **failed:** HTTP 422 0800422: Contact cannot be edited<br>matched by email ann\\_lee@example.com<br>");
    expect(md).toContain("| unlink | K50 | QX50 | no longer synced; the contact stays in Quo as it is |");
  });
});

describe("html", () => {
  const html = renderHtml(dryRunReports());

  it("shows a row with several fields at fault as one entry: its reasons one per line, each field's value", () => {
    const entry = htmlEntries(dryRunReports()).find((e) => e.kind === "rejected" && e.row === 40)!;
    expect(entry.message).toBe("phoneNumbers.mobile: '555-12' is not a valid phone number for US\nemails.work: 'b2@@x.io' is not a valid email address (more than one '@')");
    expect(entry.fields).toEqual([
      ["phoneNumbers.mobile", "", "555-12"],
      ["emails.work", "", "b2@@x.io"],
    ]);
    expect(html).toContain(".row-rejected .message{white-space:pre-line}");
  });

  it("loads nothing: a CSP that forbids every fetch, and no URL in any src or href", () => {
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${HTML_CSP}">`);
    expect(HTML_CSP).toMatch(/^default-src 'none';/);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?[a-z]+:/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<link\b|@import|url\(/i);
  });

  it("embeds data so no value can close the script element or open a tag", () => {
    expect(html).not.toContain("<img");
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    const entry = htmlData(html).entries.find((e) => e.key === "K31")!;
    expect(entry.fields[0]).toEqual(["firstName", "—", HOSTILE_NAME]);
    const tricky = { s: "</script><!-- & \u2028 \u2029 >" };
    const embedded = embedJson(tricky);
    expect(embedded).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(embedded)).toEqual(tricky);
  });

  it("escapes text in the static summary", () => {
    expect(html).toContain("a note guard with &#60;b&#62;markup&#60;/b&#62; | pipe");
    expect(html).toContain(`<script type="application/json" id="${DATA_ELEMENT_ID}">`);
  });

  it("draws one bar per count, widths proportional to the counts", () => {
    const bars = [...html.matchAll(/data-name="(\w+)" data-count="(\d+)">.*?<rect [^>]*width="([\d.]+)"/g)].map((m) => ({ name: m[1], count: Number(m[2]), width: Number(m[3]) }));
    const leads = bars.slice(0, 11);
    expect(leads.map((b) => b.name)).toEqual(["create", "update", "delete", "link", "unlink", "unchanged", "rejected", "failed", "skipped", "filtered", "drift"]);
    expect(leads.map((b) => b.count)).toEqual([3, 2, 1, 2, 1, 14, 2, 0, 1, 3, 2]);
    // A sync without skipped or filtered rows draws no bar for them.
    expect(bars.slice(11).map((b) => b.name)).toEqual(["create", "update", "delete", "link", "unlink", "unchanged", "rejected", "failed"]);
    const perUnit = leads[5]!.width / 14;
    for (const b of leads) expect(b.width).toBeCloseTo(b.count * perUnit, 1);
  });

  it("orders entries by what needs a person first: failed, rejected, drift, then the plan", () => {
    const kinds = htmlEntries(realRunReports()).map((e) => e.kind);
    expect(kinds).toEqual(["failed", "failed", "rejected", "rejected", "drift", "drift", "create", "create", "update", "update", "delete", "link", "unlink", "skipped", "filtered", "filtered", "filtered"]);
  });

  it("counts links and unlinks in the summary and the filter, and says how each link was matched", () => {
    const counts = [...html.matchAll(/<dd data-count="(\w+)">(\d+)<\/dd>/g)].slice(0, 11).map((m) => `${m[1]}=${m[2]}`);
    expect(counts).toEqual(["create=3", "update=2", "delete=1", "link=2", "unlink=1", "unchanged=14", "rejected=2", "failed=0", "skipped=1", "filtered=3", "drift=2"]);
    expect(html).toContain('<option value="link">link (2)</option><option value="unlink">unlink (1)</option>');
    const entries = htmlData(html).entries;
    expect(entries.find((e) => e.key === "K40")).toMatchObject({ kind: "link", action: "link", label: "link", row: 41, quoId: "QX40", detail: "matched by phone +14155550100" });
    expect(entries.find((e) => e.key === "K40")!.fields[0]).toEqual(["firstName", "—", "Lin"]);
    expect(entries.find((e) => e.key === "K50")).toEqual({ sync: "leads", kind: "unlink", action: "unlink", label: "unlink", key: "K50", quoId: "QX50", detail: "no longer synced; the contact stays in Quo as it is", fields: [] });
    const failed = htmlEntries(realRunReports()).find((e) => e.key === "K41")!;
    expect(failed).toMatchObject({ kind: "failed", label: "link (failed)", message: "HTTP 422 0800422: Contact cannot be edited", detail: `matched by email ${LINK_EMAIL}` });
  });
});

describe("the read a run made", () => {
  it("a targeted read is named in the table and markdown, and kept in JSON", () => {
    const base = realRunReports()[0]!;
    const r: SyncReport = { ...base, read: "targeted" };
    expect(renderTable([r])).toContain("targeted read: only the contacts a webhook named");
    expect(renderMarkdown([r])).toContain("targeted read");
    expect((JSON.parse(render("json", [r]).split("\n")[0]!) as SyncReport).read).toBe("targeted");
  });
});
