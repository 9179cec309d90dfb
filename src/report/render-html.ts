/**
 * The html report: one self-contained page that opens offline. Inline CSS and JS only, and a
 * Content-Security-Policy that forbids every fetch, so the page cannot load anything even if
 * source data tried to smuggle a URL in. The summary (counts as a bar chart, guards, run facts)
 * is static HTML; the list of entries is data embedded as JSON and drawn by the inline script,
 * at most ROW_CAP rows at a time, so a 100,000-row plan stays responsive.
 */
import type { SyncReport } from "./report.js";
import { ENTRY_KINDS, actionLabel, changeFieldLines, describeChange, describeDrift, describeError, fieldLines, filteredByCondition, headline, kindOf, mappingLines, modeOf, rejectedRows, rowsText, runFacts, showValue, shownCountNames, type EntryKind, type MappingLine } from "./describe.js";

/** How many matching rows the page draws; the rest are counted and reached by searching. */
export const ROW_CAP = 500;

/** Nothing may be fetched: no network, no file, no font. Only the inline style and script run. */
export const HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/** The id of the `<script type="application/json">` element holding the entries. */
export const DATA_ELEMENT_ID = "report-data";

/** Bar chart geometry, in CSS pixels. */
const CHART = { labelWidth: 110, barArea: 240, barHeight: 16, gap: 6, countWidth: 80 } as const;

/**
 * One row of the page's list, precomputed here so the wording lives in describe.ts and the page
 * script only draws. `fields` are `[name, before, after]`; which side is shown depends on `action`.
 */
export interface HtmlEntry {
  sync: string;
  /** What the filter matches. */
  kind: EntryKind;
  /** How the before/after columns read: a create or a link has no before, a delete no after. */
  action: "create" | "update" | "delete" | "link" | "unlink" | "rejected" | "drift" | "skipped" | "filtered" | "explained";
  /** The action as a person reads it, e.g. "update (failed)", "rejected", "drift: edited", "row: create". */
  label: string;
  key: string;
  row?: number;
  quoId?: string;
  /**
   * Quo's refusal, a rejected row's reasons (one per line), what happened in the Quo app, why a
   * row was skipped, the `where` condition a filtered row failed, or why an explained row is not sent.
   */
  message?: string;
  /** How a link found its contact ("matched by phone +14155550100"), or what an unlink leaves. */
  detail?: string;
  note?: string;
  fields: [string, string, string][];
  /**
   * How the row's fields got their values, `[field, value, how]`: for a change, the fields a plain
   * column does not explain (all of them with `--explain`); for an explained row, every field.
   */
  mapping?: [string, string, string][];
}

/** What the page embeds: the syncs' names and every entry, problems first. */
export interface HtmlData {
  syncs: string[];
  entries: HtmlEntry[];
}

function mappingOf(lines: readonly MappingLine[]): [string, string, string][] {
  return lines.map((m) => [m.field, m.value, m.via]);
}

/**
 * The entries of the page, in the order a person should read them: what Quo refused, what could
 * not be sent, what changed in the Quo app, the planned changes in plan order, then the rows the
 * sync's mode skipped, its `where` filtered out, and (`--explain`) every source row.
 */
export function htmlEntries(reports: readonly SyncReport[]): HtmlEntry[] {
  const failed: HtmlEntry[] = [];
  const rejected: HtmlEntry[] = [];
  const drift: HtmlEntry[] = [];
  const changes: HtmlEntry[] = [];
  const skipped: HtmlEntry[] = [];
  const filtered: HtmlEntry[] = [];
  const explained: HtmlEntry[] = [];
  for (const r of reports) {
    for (const c of r.changes) {
      const e: HtmlEntry = {
        sync: r.sync,
        kind: kindOf(c),
        action: c.action,
        label: actionLabel(c, r),
        key: c.key,
        fields: changeFieldLines(c).map((l) => [l.kept ? `${l.field} (kept as set in Quo, onDrift: skip)` : l.field, l.from, l.to]),
      };
      if (c.row !== undefined) e.row = c.row;
      if (c.quoId) e.quoId = c.quoId;
      if (c.error) e.message = describeError(c.error);
      const detail = describeChange(c);
      if (detail) e.detail = detail;
      if (c.note) e.note = c.note;
      const mapping = mappingLines(c.mapping, r.rows !== undefined);
      if (mapping.length) e.mapping = mappingOf(mapping);
      (e.kind === "failed" ? failed : changes).push(e);
    }
    // One entry per source row: its reasons one per line, and the value of each field at fault.
    for (const group of rejectedRows(r.rejected)) {
      const first = group[0]!;
      const e: HtmlEntry = { sync: r.sync, kind: "rejected", action: "rejected", label: "rejected", key: first.key ?? "", row: first.row, message: group.map((j) => j.reason).join("\n"), fields: [] };
      for (const j of group) if (j.field !== undefined || j.value !== undefined) e.fields.push([j.field ?? "", "", j.value ?? ""]);
      rejected.push(e);
    }
    for (const d of r.drift ?? []) {
      drift.push({ sync: r.sync, kind: "drift", action: "drift", label: `drift: ${d.kind}`, key: d.key, quoId: d.quoId, message: describeDrift(d), fields: fieldLines(d.fields).map((l) => [l.field, l.from, l.to]) });
    }
    for (const k of r.skipped) skipped.push({ sync: r.sync, kind: "skipped", action: "skipped", label: "skipped", key: k.key, row: k.row, message: k.reason, fields: [] });
    // The cell the failed condition read, shown as the field it names.
    for (const f of r.filtered) filtered.push({ sync: r.sync, kind: "filtered", action: "filtered", label: "filtered", key: f.key ?? "", row: f.row, message: f.condition, fields: [[f.column, "", showValue(f.value)]] });
    for (const x of r.rows ?? []) {
      const e: HtmlEntry = { sync: r.sync, kind: "explained", action: "explained", label: `row: ${x.outcome}`, key: x.key ?? "", row: x.row, fields: [] };
      if (x.reason) e.message = x.reason;
      const mapping = mappingLines(x.mapping, true);
      if (mapping.length) e.mapping = mappingOf(mapping);
      explained.push(e);
    }
  }
  return [...failed, ...rejected, ...drift, ...changes, ...skipped, ...filtered, ...explained];
}

/** Text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON that is safe inside a `<script>` element: no `<` (so no `</script>` or `<!--`), no `>` or
 * `&`, and no U+2028/2029, each written as its `\u` escape, which JSON.parse reads back unchanged.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

interface Bar {
  name: string;
  count: number;
}

/** Horizontal bars, widths proportional to the counts; every count is also written as a number. */
function barChart(r: SyncReport): string {
  const bars: Bar[] = shownCountNames(r.counts).map((name) => ({ name, count: r.counts[name] }));
  if (r.drift) bars.push({ name: "drift", count: r.drift.length });
  const max = Math.max(1, ...bars.map((b) => b.count));
  const width = CHART.labelWidth + CHART.barArea + CHART.countWidth;
  const height = bars.length * (CHART.barHeight + CHART.gap);
  const rows = bars.map((b, i) => {
    const y = i * (CHART.barHeight + CHART.gap);
    // A non-zero count keeps at least one pixel so it never looks like zero next to a huge one.
    const w = b.count === 0 ? 0 : Math.max(1, (b.count / max) * CHART.barArea);
    return (
      `<g class="bar bar-${b.name}" data-name="${b.name}" data-count="${b.count}">` +
      `<title>${b.name}: ${b.count}</title>` +
      `<text x="${CHART.labelWidth - 8}" y="${y + CHART.barHeight - 4}" text-anchor="end">${b.name}</text>` +
      `<rect x="${CHART.labelWidth}" y="${y}" width="${w.toFixed(2)}" height="${CHART.barHeight}" rx="2"></rect>` +
      `<text class="count" x="${CHART.labelWidth + w + 6}" y="${y + CHART.barHeight - 4}">${b.count.toLocaleString("en-US")}</text>` +
      `</g>`
    );
  });
  const label = bars.map((b) => `${b.name} ${b.count}`).join(", ");
  return `<svg class="chart" role="img" aria-label="${escapeHtml(label)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${rows.join("")}</svg>`;
}

function summary(r: SyncReport): string {
  const guards = r.guards.map((g) => `<li class="guard ${g.refused ? "guard-refused" : "guard-note"}"><strong>${g.refused ? "REFUSED" : "note"}:</strong> ${escapeHtml(g.message)}</li>`).join("");
  const facts = runFacts(r).map((f) => `<li>${escapeHtml(f)}</li>`).join("");
  const counts = shownCountNames(r.counts).map((n) => `<div class="count-${n}"><dt>${n}</dt><dd data-count="${n}">${r.counts[n]}</dd></div>`).join("");
  // The where conditions rows failed, with how many each; the rows are entries ("filtered").
  const conditions = filteredByCondition(r.filtered)
    .map((g) => `<li><code>${escapeHtml(g.condition)}</code>: <span data-filtered-count>${rowsText(g.rows.length)}</span></li>`)
    .join("");
  const drift = r.drift ? `<div class="count-drift"><dt>drift</dt><dd data-count="drift">${r.drift.length}</dd></div>` : "";
  return (
    `<article class="sync-summary" data-sync="${escapeHtml(r.sync)}">` +
    `<h2>${escapeHtml(r.sync)} <span class="mode mode-${modeOf(r).replace(/ /g, "-")}">${modeOf(r)}</span></h2>` +
    `<p class="headline">${escapeHtml(headline(r))}</p>` +
    `<dl class="counts">${counts}${drift}</dl>` +
    barChart(r) +
    (guards ? `<ul class="guards">${guards}</ul>` : "") +
    (facts ? `<ul class="facts">${facts}</ul>` : "") +
    (conditions ? `<div class="filtered-by"><h3>Filtered out by <code>where</code></h3><ul>${conditions}</ul></div>` : "") +
    `</article>`
  );
}

function filterOptions(entries: readonly HtmlEntry[]): string {
  const n = new Map<EntryKind, number>();
  for (const e of entries) n.set(e.kind, (n.get(e.kind) ?? 0) + 1);
  const options = ENTRY_KINDS.map((k) => `<option value="${k}">${k} (${n.get(k) ?? 0})</option>`);
  return `<option value="">everything (${entries.length})</option>${options.join("")}`;
}

const STYLE = `
:root{--create:#1a7f37;--update:#0969da;--delete:#cf222e;--link:#1b7c83;--unlink:#9a6700;--unchanged:#8c959f;--rejected:#bf8700;--failed:#82071e;--drift:#8250df;--skipped:#6e7781;--filtered:#953800;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#fff}
body{margin:0 auto;padding:1rem 1.5rem;max-width:80rem}
h1{font-size:1.4rem;margin:.2rem 0}
h2{font-size:1.15rem;margin:.2rem 0 .4rem}
.sub{color:#59636e;margin:.1rem 0 1rem}
#summary{display:flex;flex-wrap:wrap;gap:1rem}
.sync-summary{border:1px solid #d1d9e0;border-radius:8px;padding:.8rem 1rem;flex:1 1 30rem}
.mode{font-size:.75rem;font-weight:600;border-radius:1rem;padding:.1rem .5rem;background:#eef1f4;vertical-align:middle}
.mode-refused{background:#ffebe9;color:var(--failed)}
.mode-interrupted{background:#fff8c5}
.headline{color:#59636e;margin:.2rem 0 .6rem}
.counts{display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;margin:0 0 .6rem}
.counts div{display:flex;gap:.3rem}
.counts dt{color:#59636e}
.counts dd{margin:0;font-weight:600}
.chart text{font-size:12px;fill:#1f2328}
.chart .count{fill:#59636e}
.bar-create rect{fill:var(--create)}.bar-update rect{fill:var(--update)}.bar-delete rect{fill:var(--delete)}.bar-link rect{fill:var(--link)}.bar-unlink rect{fill:var(--unlink)}
.bar-unchanged rect{fill:var(--unchanged)}.bar-rejected rect{fill:var(--rejected)}.bar-failed rect{fill:var(--failed)}.bar-drift rect{fill:var(--drift)}
.bar-skipped rect{fill:var(--skipped)}.bar-filtered rect{fill:var(--filtered)}
.filtered-by h3{font-size:.95rem;margin:.6rem 0 .2rem}.filtered-by ul{padding-left:1.2rem;margin:0}
.guards,.facts{padding-left:1.2rem;margin:.5rem 0 0}
.guard-refused{color:var(--failed)}
.row-rejected ins{color:inherit}
.controls{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:1.2rem 0 .6rem}
.controls input{min-width:18rem;padding:.3rem .5rem}
.controls select{padding:.3rem}
#shown{color:#59636e}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid #d1d9e0}
th{background:#f6f8fa;position:sticky;top:0}
td.key{font-family:ui-monospace,monospace;white-space:nowrap}
.kind{font-weight:600;white-space:nowrap}
.kind-create{color:var(--create)}.kind-update{color:var(--update)}.kind-delete{color:var(--delete)}.kind-link{color:var(--link)}.kind-unlink{color:var(--unlink)}
.kind-failed{color:var(--failed)}.kind-rejected{color:var(--rejected)}.kind-drift{color:var(--drift)}
.kind-skipped{color:var(--skipped)}.kind-filtered{color:var(--filtered)}.kind-explained{color:#59636e}
.mapping{color:#59636e;font-family:ui-monospace,monospace;font-size:.85rem;white-space:pre-wrap}
.message,.detail{margin-bottom:.2rem}
.row-rejected .message{white-space:pre-line}
.row-failed .message{color:var(--failed)}
.field{color:#59636e}
del{color:var(--delete)}ins{color:var(--create);text-decoration:none}
.note{color:#59636e;font-style:italic}
#more{color:#59636e}
`;

/**
 * The page script. It reads the embedded entries, builds a lowercase search text per entry once,
 * and redraws at most ROW_CAP matching rows when the filter or search changes. Every value goes
 * in through textContent, never as markup.
 */
const SCRIPT = `
(function () {
  "use strict";
  var CAP = ${ROW_CAP};
  var data = JSON.parse(document.getElementById(${JSON.stringify(DATA_ELEMENT_ID)}).textContent);
  var entries = data.entries;
  var multi = data.syncs.length > 1;
  var hay = entries.map(function (e) {
    var parts = [e.sync, e.label, e.key, e.quoId || "", e.row === undefined ? "" : String(e.row), e.message || "", e.detail || "", e.note || ""];
    e.fields.forEach(function (f) { parts.push(f[0], f[1], f[2]); });
    (e.mapping || []).forEach(function (m) { parts.push(m[0], m[1], m[2]); });
    return parts.join("\\n").toLowerCase();
  });
  var filter = document.getElementById("filter");
  var search = document.getElementById("search");
  var body = document.getElementById("entries-body");
  var shown = document.getElementById("shown");
  var more = document.getElementById("more");

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function fieldLine(e, f) {
    var line = el("div", "field-line");
    line.appendChild(el("span", "field", f[0] ? f[0] + ": " : ""));
    var before = e.action === "update" || e.action === "delete" || e.action === "drift";
    var after = e.action !== "delete";
    if (before) line.appendChild(el("del", "", f[1]));
    if (before && after) line.appendChild(document.createTextNode(" \\u2192 "));
    if (after) line.appendChild(el("ins", "", f[2]));
    return line;
  }
  function rowOf(e) {
    var tr = el("tr", "row-" + e.kind);
    tr.setAttribute("data-kind", e.kind);
    tr.setAttribute("data-key", e.key);
    if (multi) tr.appendChild(el("td", "sync", e.sync));
    tr.appendChild(el("td", "kind kind-" + e.kind, e.label));
    tr.appendChild(el("td", "key", e.key));
    tr.appendChild(el("td", "row", e.row === undefined ? "" : String(e.row)));
    tr.appendChild(el("td", "quo-id", e.quoId || ""));
    var d = el("td", "details");
    if (e.message) d.appendChild(el("div", "message", e.message));
    if (e.detail) d.appendChild(el("div", "detail", e.detail));
    e.fields.forEach(function (f) { d.appendChild(fieldLine(e, f)); });
    if (e.note) d.appendChild(el("div", "note", e.note));
    (e.mapping || []).forEach(function (m) { d.appendChild(el("div", "mapping", m[0] + " = " + m[1] + "  (" + m[2] + ")")); });
    tr.appendChild(d);
    return tr;
  }
  function draw() {
    var kind = filter.value;
    var words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var frag = document.createDocumentFragment();
    var matched = 0;
    for (var i = 0; i < entries.length; i++) {
      if (kind && entries[i].kind !== kind) continue;
      var h = hay[i];
      var ok = true;
      for (var w = 0; w < words.length; w++) if (h.indexOf(words[w]) < 0) { ok = false; break; }
      if (!ok) continue;
      if (matched < CAP) frag.appendChild(rowOf(entries[i]));
      matched++;
    }
    body.replaceChildren(frag);
    var n = Math.min(matched, CAP);
    shown.textContent = matched === 0 ? "nothing matches" : "showing " + n.toLocaleString("en-US") + " of " + matched.toLocaleString("en-US") + (matched === entries.length ? "" : " matching");
    more.textContent = matched > CAP ? (matched - CAP).toLocaleString("en-US") + " more \\u2014 refine the search or the filter to see them" : "";
  }
  var timer = 0;
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(draw, 120); });
  filter.addEventListener("change", draw);
  draw();
})();
`;

/** The whole page for one or more syncs. Pure: the same reports give the same bytes. */
export function renderHtml(reports: readonly SyncReport[]): string {
  const entries = htmlEntries(reports);
  const data: HtmlData = { syncs: reports.map((r) => r.sync), entries };
  const names = reports.map((r) => r.sync).join(", ");
  const dry = reports.length > 0 && reports.every((r) => r.dryRun);
  const multi = reports.length > 1;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${HTML_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>quo-sync ${dry ? "plan" : "report"}: ${escapeHtml(names)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>quo-sync ${dry ? "plan (dry run: nothing was written)" : "report"}</h1>
<p class="sub">${reports.length === 1 ? "1 sync" : `${reports.length} syncs`}: ${escapeHtml(names)}</p>
</header>
<section id="summary" aria-label="Summary">
${reports.map(summary).join("\n")}
</section>
<section id="entries" aria-label="Changes">
<div class="controls">
<label>Show <select id="filter">${filterOptions(entries)}</select></label>
<label>Search <input id="search" type="search" placeholder="key, name, value, reason…" autocomplete="off"></label>
<span id="shown" aria-live="polite"></span>
</div>
<table>
<thead><tr>${multi ? "<th>sync</th>" : ""}<th>action</th><th>key</th><th>row</th><th>Quo id</th><th>details</th></tr></thead>
<tbody id="entries-body"></tbody>
</table>
<p id="more"></p>
<noscript><p>The list of changes needs JavaScript; the same data is in <code>--format markdown</code> or <code>--format json</code>.</p></noscript>
</section>
<script type="application/json" id="${DATA_ELEMENT_ID}">${embedJson(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
