/**
 * The console's pages: server-rendered HTML built with `html` (escapes by default), one stylesheet
 * allowed by its hash, no script, no external asset. Pure functions of what `ConsoleViews` read.
 */
import { createHash } from "node:crypto";
import { changeFieldLines, countsLine, describeDrift } from "../report/describe.js";
import type { SyncReport } from "../report/report.js";
import type { RunRecord, RunTrigger } from "../state/store.js";
import { html, unsafeRaw, type SafeHtml } from "./html.js";
import type { OpenRejection, SyncDetail, SyncSummary } from "./views.js";

/** Changes listed on a sync's page from its last report; the run's page lists them all. */
export const CHANGES_SHOWN = 200;

/** How often the overview and a sync's page reload by themselves, in seconds; faster while a run is in progress. */
export const REFRESH_S = 15;
export const REFRESH_RUNNING_S = 3;

const STYLE = `
:root{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#fff;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--muted:#59636e;--line:#d1d9e0}
body{margin:0 auto;padding:.8rem 1rem 2rem;max-width:72rem}
header.top{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem;border-bottom:1px solid var(--line);padding-bottom:.5rem;margin-bottom:1rem}
header.top a.home{font-weight:700;color:inherit;text-decoration:none;font-size:1.1rem}
h1{font-size:1.3rem;margin:.3rem 0 .6rem}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
a{color:#0969da}
.muted{color:var(--muted)}
.notice{border:1px solid var(--line);border-left:4px solid #0969da;padding:.5rem .8rem;margin:.6rem 0;background:#f6f8fa}
.notice.bad{border-left-color:var(--bad)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:.8rem}
.card{border:1px solid var(--line);border-radius:8px;padding:.7rem .9rem}
.card h2{margin:0 0 .4rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.outcome-ok{color:var(--ok);font-weight:600}
.outcome-failed,.outcome-interrupted{color:var(--bad);font-weight:600}
.outcome-refused{color:var(--warn);font-weight:600}
.live{display:inline-block;font-weight:600;color:#0969da}
.table{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;vertical-align:top;padding:.3rem .45rem;border-bottom:1px solid var(--line)}
th{background:#f6f8fa}
td.key,code{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
del{color:var(--bad)}ins{color:var(--ok);text-decoration:none}
form.inline{display:inline}
.actions{display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-end;margin:.6rem 0}
button{font:inherit;padding:.4rem .8rem;border:1px solid var(--line);border-radius:6px;background:#f6f8fa;cursor:pointer}
button.primary{background:#1f883d;color:#fff;border-color:#1a7f37}
button.danger{background:#fff;color:var(--bad);border-color:var(--bad)}
input[type=password],input[type=text]{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:6px;max-width:100%}
fieldset{border:1px solid var(--line);border-radius:8px;padding:.5rem .8rem}
label{display:block;margin:.3rem 0}
@media (max-width:40rem){body{padding:.5rem .6rem}th,td{padding:.25rem .3rem}}
`;

/** `'sha256-…'` of a style or script element's text, as a CSP source expression. */
export function cspHash(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** The CSP of every console page: nothing but its own stylesheet, no script, forms to itself only. */
export const CONSOLE_CSP = `default-src 'none'; style-src ${cspHash(STYLE)}; script-src 'none'; img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

/** What a page knows of the person viewing it: signed in (with the CSRF token for its forms) or not. */
export interface Viewer {
  csrf: string | null;
}

const iso = (t: number | null | undefined) => (t === null || t === undefined ? "—" : new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z").replace("T", " "));

function duration(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m} min ${Math.round((ms % 60_000) / 1000)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A run's counts in one line; link, unlink, skipped and filtered only when not zero (`countsLine`). */
function countsText(c: Record<string, number> | null): string {
  if (!c) return "—";
  return countsLine(c);
}

/** A sync's path: its name percent-encoded as one segment. */
export const syncPath = (name: string) => `/syncs/${encodeURIComponent(name)}`;

/** The whole document around a page's content. */
export function layout(title: string, viewer: Viewer, content: SafeHtml, refreshS?: number): string {
  const signOut = viewer.csrf
    ? html`<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="${viewer.csrf}"><button type="submit">Sign out</button></form>`
    : null;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${refreshS ? html`<meta http-equiv="refresh" content="${refreshS}">` : null}
<title>${title} · quo-sync console</title>
<style>${unsafeStyle()}</style>
</head>
<body>
<header class="top"><a class="home" href="/">quo-sync console</a>${signOut}</header>
<main>
${content}
</main>
</body>
</html>
`.text;
}

/** The stylesheet as markup: a constant of this file (CSS is not escaped inside `<style>`), whose hash the CSP names. */
function unsafeStyle(): SafeHtml {
  return unsafeRaw(STYLE);
}

/** `/` when no token is set: how to enable the console, and nothing else. */
export function disabledPage(): string {
  return layout(
    "disabled",
    { csrf: null },
    html`<h1>The console is off</h1>
<p>Set <code>QUO_SYNC_CONSOLE_TOKEN</code> to a long random value (for example the output of <code>openssl rand -hex 32</code>) in the daemon's environment and restart it; then sign in here with that value.</p>
<p class="muted"><code>/healthz</code> and <code>/metrics</code> are served either way.</p>`,
  );
}

/** The sign-in form; `problem` says why the last attempt failed. */
export function signInPage(problem?: string): string {
  return layout(
    "sign in",
    { csrf: null },
    html`<h1>Sign in</h1>
${problem ? html`<p class="notice bad" role="alert">${problem}</p>` : null}
<form method="post" action="/login">
<label>Console token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<p><button class="primary" type="submit">Sign in</button></p>
</form>
<p class="muted">The token is the value of <code>QUO_SYNC_CONSOLE_TOKEN</code> in the daemon's environment.</p>`,
  );
}

/** A short page for an error or a refusal (404, 403, 400, …); `message` is text, escaped. */
export function messagePage(viewer: Viewer, title: string, message: string): string {
  return layout(title, viewer, html`<h1>${title}</h1><p class="notice bad">${message}</p><p><a href="/">Back to the overview</a></p>`);
}

function outcome(run: RunRecord | null): SafeHtml {
  if (!run) return html`<span class="muted">no run yet</span>`;
  return html`<span class="outcome-${run.outcome}">${run.outcome}</span>`;
}

/** How the live indicator names what started a run. */
const TRIGGER_LABELS: Record<RunTrigger, string> = { schedule: "scheduled", manual: "run now", webhook: "webhook", watch: "file changed" };

/** How the runs table and a run's page name what started a run; "—" for runs recorded before triggers were kept. */
const RUN_TRIGGER_LABELS: Record<RunTrigger, string> = { schedule: "schedule", manual: "manual", webhook: "webhook", watch: "file changed (watch)" };
const triggerLabel = (t: RunTrigger | null): string => (t === null ? "—" : RUN_TRIGGER_LABELS[t]);

function liveIndicator(s: SyncSummary): SafeHtml | null {
  if (s.progress) {
    const p = s.progress;
    const writes = p.total === null ? "reading and planning" : `${p.done ?? 0} of ${p.total} writes done`;
    return html`<span class="live" data-live="here">● running (${TRIGGER_LABELS[p.trigger]}): ${writes}</span>`;
  }
  if (s.lock && !s.lock.gone && !s.lock.here) return html`<span class="live" data-live="elsewhere">● running on ${s.lock.host}</span>`;
  if (s.runningRecorded) return html`<span class="live" data-live="recorded">● running</span>`;
  return null;
}

function lockText(s: SyncSummary): SafeHtml {
  if (!s.lock) return html`<span class="muted">free</span>`;
  const who = `${s.lock.host}, pid ${s.lock.pid}, since ${iso(s.lock.since)}`;
  return s.lock.gone ? html`left by a process that is gone (${who}); the next run takes it over` : html`${who}`;
}

/** How long ago `t` was, seen at `now`, in words: "3 min ago". */
function ago(t: number, now: number): string {
  const ms = Math.max(0, now - t);
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s ago`;
  const m = Math.floor(ms / 60_000);
  if (m < 120) return `${m} min ago`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ago` : `${Math.floor(h / 24)} days ago`;
}

/** "3 min ago (2026-…)", or why there is no time. */
function freshnessText(t: number | null, now: number, none: string): SafeHtml {
  return t === null ? html`<span class="muted">${none}</span>` : html`${ago(t, now)} (${iso(t)})`;
}

function summaryFacts(s: SyncSummary): SafeHtml {
  const r = s.lastRun;
  const f = s.freshness;
  return html`<dl class="facts">
<dt>workspace</dt><dd>${s.workspace}</dd>
<dt>source</dt><dd>${s.source}</dd>
<dt>schedule</dt><dd>${s.schedule ? html`<code>${s.schedule}</code>${s.nextRunAt ? html`, next ${iso(Date.parse(s.nextRunAt))}` : null}` : html`<span class="muted">on request only</span>`}</dd>
<dt>last run</dt><dd>${outcome(r)}${r ? html` ${iso(r.endedAt ?? r.startedAt)} (${duration(r.endedAt === null ? null : r.endedAt - r.startedAt)})` : null}</dd>
<dt>checked</dt><dd data-field="checked">${freshnessText(f.checkedAt, f.at, "no completed run yet")}</dd>
<dt>newest change applied</dt><dd data-field="source-changed">${freshnessText(f.sourceChangedAt, f.at, f.checkedAt === null ? "no completed run yet" : "not known for this source")}</dd>
<dt>counts</dt><dd>${r ? countsText(r.counts) : "—"}</dd>
<dt>rejected rows</dt><dd data-field="rejected">${s.openRejected ?? "—"}</dd>
<dt>drift</dt><dd data-field="drift">${s.drift === null ? html`<span class="muted">not measured</span>` : s.drift}</dd>
<dt>lock</dt><dd>${lockText(s)}</dd>
</dl>`;
}

/** `/`: every configured sync. */
export function overviewPage(viewer: Viewer, syncs: readonly SyncSummary[]): string {
  const busy = syncs.some((s) => liveIndicator(s) !== null);
  const cards = syncs.map(
    (s) => html`<article class="card" data-sync="${s.name}">
<h2><a href="${syncPath(s.name)}">${s.name}</a> ${liveIndicator(s)}</h2>
${summaryFacts(s)}
</article>`,
  );
  return layout("overview", viewer, html`<h1>Syncs</h1><div class="cards">${cards}</div>`, busy ? REFRESH_RUNNING_S : REFRESH_S);
}

/** The notices a redirect after an action may name: a closed set, so no text from a URL is ever shown. */
export const NOTICES = {
  started: { bad: false, text: "Run started. It appears in the list below; this page reloads by itself." },
  busy: { bad: true, text: "Refused: a run of this sync is already in progress in this daemon." },
  locked: { bad: true, text: "Refused: another process holds this sync's run lock (see 'lock' below). Try again once it is done." },
  stopping: { bad: true, text: "Refused: the daemon is shutting down." },
  mismatch: { bad: true, text: "Refused: to run with deletes allowed, type the sync's name exactly." },
} as const;

/** A notice's code, as it travels in the query of a redirect. */
export type NoticeCode = keyof typeof NOTICES;

function actions(viewer: Viewer, name: string): SafeHtml {
  const csrf = html`<input type="hidden" name="csrf" value="${viewer.csrf ?? ""}">`;
  const base = syncPath(name);
  return html`<div class="actions">
<form method="post" action="${base}/run">${csrf}<button class="primary" type="submit" data-action="run">Run now</button></form>
<form method="post" action="${base}/preview">${csrf}<button type="submit" data-action="preview">Preview (dry run)</button></form>
</div>
<details><summary>Run with deletes allowed</summary>
<form method="post" action="${base}/run-with-deletes"><fieldset>${csrf}
<p>A run that may delete contacts beyond the sync's delete guards, as <code>sync --allow-deletes</code>. Preview first.</p>
<label>Type the sync's name, <code>${name}</code>, to confirm <input type="text" name="confirm" autocomplete="off" spellcheck="false" required></label>
<button class="danger" type="submit" data-action="run-with-deletes">Run with deletes allowed</button>
</fieldset></form></details>`;
}

function runsTable(runs: readonly RunRecord[]): SafeHtml {
  if (!runs.length) return html`<p class="muted">No run recorded yet.</p>`;
  const rows = runs.map(
    (r) => html`<tr data-run="${r.id}"><td><a href="/runs/${r.id}">#${r.id}</a></td><td data-trigger="${r.trigger ?? ""}">${triggerLabel(r.trigger)}</td><td>${iso(r.startedAt)}</td><td>${r.outcome === "running" ? "running" : duration(r.endedAt === null ? null : r.endedAt - r.startedAt)}</td><td class="outcome-${r.outcome}">${r.outcome}</td><td>${countsText(r.counts)}${r.error ? html`<div class="muted">${r.error.split("\n")[0]}</div>` : null}</td></tr>`,
  );
  return html`<div class="table"><table id="runs"><thead><tr><th>run</th><th>trigger</th><th>started</th><th>duration</th><th>outcome</th><th>counts</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function rejectedTable(rows: readonly OpenRejection[]): SafeHtml {
  if (!rows.length) return html`<p class="muted">No row is rejected now.</p>`;
  const body = rows.map(
    (r) => html`<tr><td class="key">${r.key ?? "—"}</td><td>${r.row}</td><td>${r.field ?? "—"}</td><td>${r.value ?? "—"}</td><td class="reason">${r.reason}</td><td>${iso(r.since)}</td></tr>`,
  );
  return html`<div class="table"><table id="rejected"><thead><tr><th>key</th><th>row</th><th>field</th><th>value</th><th>reason</th><th>since</th></tr></thead><tbody>${body}</tbody></table></div>`;
}

function changesTable(report: SyncReport): SafeHtml {
  const shown = report.changes.slice(0, CHANGES_SHOWN);
  if (!shown.length) return html`<p class="muted">No change.</p>`;
  const body = shown.map((c) => {
    const lines = changeFieldLines(c).map((l) => {
      const before = c.action === "update" || c.action === "delete";
      const after = c.action !== "delete";
      return html`<div><span class="muted">${l.field}${l.kept ? " (kept as set in Quo)" : ""}:</span> ${before ? html`<del>${l.from}</del>` : null}${before && after ? " → " : null}${after ? html`<ins>${l.to}</ins>` : null}</div>`;
    });
    return html`<tr><td>${c.action}${c.status && c.status !== "done" ? ` (${c.status})` : ""}</td><td class="key">${c.key}</td><td>${lines}${c.error ? html`<div class="outcome-failed">${c.error.message}</div>` : null}</td></tr>`;
  });
  const more = report.changes.length - shown.length + (report.omitted?.changes ?? 0);
  return html`<div class="table"><table id="changes"><thead><tr><th>action</th><th>key</th><th>fields</th></tr></thead><tbody>${body}</tbody></table></div>${more > 0 ? html`<p class="muted">${more} more changes: see the run's report.</p>` : null}`;
}

/** `/syncs/NAME`. */
export function syncPage(viewer: Viewer, d: SyncDetail, notice?: NoticeCode): string {
  const n = notice ? NOTICES[notice] : undefined;
  const drift = d.driftList.length
    ? html`<ul>${d.driftList.map((x) => html`<li><code>${x.key}</code>: ${describeDrift(x)}</li>`)}</ul>`
    : html`<p class="muted">${d.drift === null ? "Not measured: the last run did not read Quo back (verify)." : "No drift."}</p>`;
  const last = d.lastReport;
  return layout(
    d.name,
    viewer,
    html`<h1>${d.name} ${liveIndicator(d)}</h1>
${n ? html`<p class="notice${n.bad ? " bad" : ""}" role="status" data-notice="${notice}">${n.text}</p>` : null}
${summaryFacts(d)}
${actions(viewer, d.name)}
<h2>Last runs</h2>
${runsTable(d.runs)}
<h2>Rows rejected now</h2>
${rejectedTable(d.rejected)}
<h2>Drift</h2>
${drift}
<h2>Changes of the last run${last ? html` (<a href="/runs/${last.run.id}">#${last.run.id}</a>)` : null}</h2>
${last ? changesTable(last.report) : html`<p class="muted">No run with a report yet.</p>`}`,
    d.progress || d.runningRecorded ? REFRESH_RUNNING_S : REFRESH_S,
  );
}

/** A run that kept no report (it failed before planning, or was recorded before reports were kept). */
export function bareRunPage(viewer: Viewer, run: RunRecord): string {
  return layout(
    `run ${run.id}`,
    viewer,
    html`<h1>Run #${run.id} of <a href="${syncPath(run.sync)}">${run.sync}</a></h1>
<dl class="facts"><dt>outcome</dt><dd>${outcome(run)}</dd><dt>trigger</dt><dd>${triggerLabel(run.trigger)}</dd><dt>started</dt><dd>${iso(run.startedAt)}</dd><dt>ended</dt><dd>${iso(run.endedAt)}</dd><dt>counts</dt><dd>${countsText(run.counts)}</dd>${run.error ? html`<dt>error</dt><dd>${run.error}</dd>` : null}</dl>
<p class="muted">This run kept no report${run.outcome === "running" ? " yet: it is still in progress" : ""}.</p>`,
  );
}
