/**
 * The console's routes (`/`, `/login`, `/logout`, `/syncs/NAME…`, `/runs/ID`) as extra routes of
 * the daemon's hardened HTTP server (`src/daemon/health-server.ts`), which bounds connections,
 * headers and bodies. Here: which path is what, who is signed in, CSRF and origin checks, and the
 * actions, which ask the scheduler for a run and so take the same path, lock and bookkeeping as a
 * scheduled tick. Reads the store only through `ConsoleViews`; never writes SQL nor calls Quo.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { ExtraRoutes, RoutedAnswer, RoutedRequest } from "../daemon/health-server.js";
import type { RequestRefusal, RunRequest } from "../daemon/scheduler.js";
import { renderHtml } from "../report/render-html.js";
import type { SyncReport } from "../report/report.js";
import { ConfigError } from "../errors.js";
import { html, unsafeRaw } from "./html.js";
import { CONSOLE_CSP, NOTICES, bareRunPage, cspHash, disabledPage, messagePage, overviewPage, signInPage, syncPage, syncPath, type NoticeCode, type Viewer } from "./pages.js";
import { ConsoleAuth, SESSION_COOKIE, SESSION_TTL_MS, SigninThrottle, cookieValue } from "./session.js";
import type { ConsoleViews } from "./views.js";

/** The largest sign-in or action body: a form of a token, a CSRF token and a sync's name is well under 1 KiB. */
export const FORM_BODY_LIMIT = 4 * 1024;

/** What the console asks of the scheduler to act: the same entry points as `daemon --run-now` and ticks. */
export interface ConsoleActions {
  request(name: string, how: RunRequest): { started: true; done: Promise<void> } | { started: false; why: RequestRefusal };
  preview(name: string): Promise<SyncReport>;
}

export interface ConsoleOptions {
  /** `QUO_SYNC_CONSOLE_TOKEN`, not empty. */
  token: string;
  views: ConsoleViews;
  actions: ConsoleActions;
  /** Turns a failed preview's error into the one line shown (the command's `describeError`). */
  describe: (e: unknown) => string;
  now?: () => number;
}

type Target =
  | { kind: "overview" }
  | { kind: "login" }
  | { kind: "logout" }
  | { kind: "sync"; name: string; action: "page" | "run" | "preview" | "run-with-deletes" }
  | { kind: "run"; id: number }
  | { kind: "unknown" };

const SYNC_ACTIONS = new Set(["run", "preview", "run-with-deletes"]);
/** A run id as a path segment: a positive integer within JavaScript's exact range. */
const RUN_ID = /^[1-9]\d{0,14}$/;

/** Headers of every console page: its CSP, no framing, no referrer, never cached. */
function pageHeaders(csp: string = CONSOLE_CSP): Record<string, string> {
  return { "content-security-policy": csp, "x-frame-options": "DENY", "referrer-policy": "no-referrer", "cache-control": "no-store", "cross-origin-opener-policy": "same-origin" };
}

const page = (status: number, body: string, headers: Record<string, string | string[]> = {}): RoutedAnswer => ({ status, contentType: "text/html; charset=utf-8", body, headers: { ...pageHeaders(), ...headers } });
const redirect = (location: string, headers: Record<string, string | string[]> = {}): RoutedAnswer => ({ status: 303, contentType: "text/plain", body: "", headers: { ...pageHeaders(), location, ...headers } });

/** The first value of a header that may repeat. */
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.split(",")[0]?.trim();

/** The request came through a proxy that terminated TLS (`X-Forwarded-Proto: https`). */
const viaHttps = (headers: IncomingHttpHeaders) => first(headers["x-forwarded-proto"])?.toLowerCase() === "https";

/**
 * Whether a POST comes from the console's own pages. `Sec-Fetch-Site`, which a page cannot forge,
 * must be `same-origin` when the browser sends it; `Origin`, when sent, must be this server as the
 * browser reached it (the `Host`, with https behind a TLS proxy). The pages' `no-referrer` policy
 * makes Chromium send `Origin: null` on their own forms, so `null` passes only beside
 * `Sec-Fetch-Site: same-origin`. Every action also needs the session's CSRF token.
 */
export function sameOrigin(headers: IncomingHttpHeaders): boolean {
  const site = first(headers["sec-fetch-site"]);
  if (site !== undefined && site !== "same-origin") return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (origin === "null") return site === "same-origin";
  const host = headers.host;
  if (!host) return false;
  return origin.toLowerCase() === `${viaHttps(headers) ? "https" : "http"}://${host.toLowerCase()}`;
}

/** Without `QUO_SYNC_CONSOLE_TOKEN`: `/` says how to turn the console on; every other console path is the server's 404. */
export function disabledConsoleRoutes(): ExtraRoutes {
  return {
    owns: (path) => path === "/",
    bodyLimit: () => undefined,
    handle: async (req) => (req.method === "GET" || req.method === "HEAD" ? page(200, disabledPage()) : methodNotAllowed("GET, HEAD")),
  };
}

/** The console as extra routes of the daemon's HTTP server. Throws `ConfigError` for an empty token. */
export function consoleRoutes(opts: ConsoleOptions): ExtraRoutes {
  const token = opts.token;
  if (!token) throw new ConfigError("QUO_SYNC_CONSOLE_TOKEN is empty: give a long random value, e.g. the output of 'openssl rand -hex 32'");
  const now = opts.now ?? Date.now;
  const auth = new ConsoleAuth(token, now);
  const throttle = new SigninThrottle(now);
  const { views } = opts;

  const target = (path: string): Target => {
    if (path === "/") return { kind: "overview" };
    if (path === "/login") return { kind: "login" };
    if (path === "/logout") return { kind: "logout" };
    const parts = path.split("/");
    if (parts[1] === "syncs" && (parts.length === 3 || (parts.length === 4 && SYNC_ACTIONS.has(parts[3]!)))) {
      const name = decodeSegment(parts[2]!);
      if (name === undefined || !views.has(name)) return { kind: "unknown" };
      return { kind: "sync", name, action: (parts[3] ?? "page") as "page" | "run" | "preview" | "run-with-deletes" };
    }
    if (parts[1] === "runs" && parts.length === 3 && RUN_ID.test(parts[2]!)) return { kind: "run", id: Number(parts[2]) };
    return { kind: "unknown" };
  };
  const isPost = (t: Target) => t.kind === "login" || t.kind === "logout" || (t.kind === "sync" && t.action !== "page");

  return {
    owns: (path) => path === "/" || path === "/login" || path === "/logout" || path.startsWith("/syncs/") || path.startsWith("/runs/"),
    bodyLimit: (method, path) => (method === "POST" && isPost(target(path)) ? FORM_BODY_LIMIT : undefined),
    handle: async (req) => {
      const t = target(req.path);
      const session = cookieValue(req.headers.cookie, SESSION_COOKIE);
      const signedIn = auth.verify(session);
      const viewer: Viewer = { csrf: signedIn ? auth.csrfFor(session!) : null };
      // Nothing of the console, not even whether a sync or run exists, before signing in.
      if (!signedIn && t.kind !== "overview" && t.kind !== "login") {
        if (req.method === "POST") return page(403, messagePage(viewer, "Sign in first", "This action needs a signed-in session."));
        return page(401, signInPage());
      }
      if (t.kind === "unknown") return page(404, messagePage(viewer, "Not found", "There is no such page, sync or run."));
      if (isPost(t)) {
        if (req.method !== "POST") return methodNotAllowed("POST");
        if (!sameOrigin(req.headers)) return page(403, messagePage(viewer, "Refused", "This form was not sent from the console's own page."));
        if (!isForm(req.headers)) return page(415, messagePage(viewer, "Refused", "Send the form as application/x-www-form-urlencoded."));
        const form = new URLSearchParams((req.body ?? Buffer.alloc(0)).toString("utf8"));
        if (t.kind === "login") return signIn(req, form);
        if (!auth.checkCsrf(session!, form.get("csrf") ?? undefined)) return page(403, messagePage(viewer, "Refused", "The form's security token is missing or does not match this session; reload the page and try again."));
        if (t.kind === "logout") return redirect("/", { "set-cookie": `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${viaHttps(req.headers) ? "; Secure" : ""}` });
        if (t.kind === "sync") return act(viewer, t.name, t.action, form);
      }
      if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed("GET, HEAD");
      if (t.kind === "overview") return signedIn ? page(200, overviewPage(viewer, await views.overview())) : page(200, signInPage());
      if (t.kind === "sync") {
        const d = await views.detail(t.name);
        if (!d) return page(404, messagePage(viewer, "Not found", "There is no such page, sync or run."));
        return page(200, syncPage(viewer, d, noticeOf(req.query)));
      }
      if (t.kind === "run") {
        const r = await views.run(t.id);
        if (!r) return page(404, messagePage(viewer, "Not found", "There is no such page, sync or run."));
        if (!r.report) return page(200, bareRunPage(viewer, r.run));
        return reportPage(viewer, r.report, html`<p>Run <strong>#${r.run.id}</strong> of <a href="${syncPath(r.run.sync)}">${r.run.sync}</a> (${r.run.trigger ?? "trigger not recorded"}, ${r.run.outcome}).</p>`);
      }
      return page(404, messagePage(viewer, "Not found", "There is no such page, sync or run."));
    },
  };

  async function signIn(req: RoutedRequest, form: URLSearchParams): Promise<RoutedAnswer> {
    const address = req.remoteAddress;
    const wait = throttle.waitFor(address);
    if (wait > 0) {
      const s = Math.ceil(wait / 1000);
      return page(429, signInPage(`Too many failed sign-ins from this address: try again in ${s} s.`), { "retry-after": String(s) });
    }
    if (!auth.checkToken(form.get("token") ?? "")) {
      const delay = throttle.failed(address);
      return page(401, signInPage(`Wrong token. The next attempt from this address is looked at in ${Math.ceil(delay / 1000)} s.`));
    }
    throttle.succeeded(address);
    const cookie = `${SESSION_COOKIE}=${auth.issue()}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}${viaHttps(req.headers) ? "; Secure" : ""}`;
    return redirect("/", { "set-cookie": cookie });
  }

  async function act(viewer: Viewer, name: string, action: "page" | "run" | "preview" | "run-with-deletes", form: URLSearchParams): Promise<RoutedAnswer> {
    const back = (notice: NoticeCode) => redirect(`${syncPath(name)}?notice=${notice}`);
    if (action === "preview") {
      let report: SyncReport;
      try {
        report = await opts.actions.preview(name);
      } catch (e) {
        return page(500, messagePage(viewer, "Preview failed", opts.describe(e)));
      }
      return reportPage(viewer, report, html`<p><strong>Preview</strong> of <a href="${syncPath(name)}">${name}</a>: a dry run; nothing was written and nothing was recorded.</p>`);
    }
    const allowDeletes = action === "run-with-deletes";
    if (allowDeletes && form.get("confirm") !== name) return back("mismatch");
    // The lock is the arbiter (runSync takes it); this only says so at once instead of starting a run that skips.
    const holder = await views.liveHolder(name);
    if (holder && !holder.here) return back("locked");
    const r = opts.actions.request(name, { allowDeletes });
    if (r.started) return back("started");
    return back(r.why === "unknown" ? "stopping" : r.why);
  }

  /** The HTML report page (`--format html`) with the console's header, allowed by the hashes of the report's own style and script. */
  function reportPage(viewer: Viewer, report: SyncReport, intro: ReturnType<typeof html>): RoutedAnswer {
    const omitted = report.omitted
      ? html`<p><strong>Shortened:</strong> the stored report leaves out ${omittedText(report.omitted)}; the counts are exact.</p>`
      : null;
    const signOut = viewer.csrf ? html`<form method="post" action="/logout"><input type="hidden" name="csrf" value="${viewer.csrf}"><button type="submit">Sign out</button></form>` : null;
    const nav = html`<style>${unsafeRaw(NAV_STYLE)}</style><nav class="console-nav"><a href="/">quo-sync console</a>${signOut}</nav>${intro}${omitted}`;
    const doc = renderHtml([report]).replace("<body>\n", () => `<body>\n${nav.text}\n`);
    return { status: 200, contentType: "text/html; charset=utf-8", body: doc, headers: pageHeaders(REPORT_CSP) };
  }
}

/** What a stored report left out, in words: "7 changes and 2 rejected rows", with filtered and skipped rows when it left any out. */
function omittedText(o: NonNullable<SyncReport["omitted"]>): string {
  const parts = [`${o.changes} changes`, `${o.rejected} rejected rows`];
  if (o.filtered) parts.push(`${o.filtered} filtered rows`);
  if (o.skipped) parts.push(`${o.skipped} skipped rows`);
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

/** The console's header on a report page: a style element of its own, allowed by its hash. */
const NAV_STYLE = ".console-nav{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem;border-bottom:1px solid #d1d9e0;padding-bottom:.5rem;margin-bottom:.6rem}.console-nav a{font-weight:700}";

/**
 * The CSP of a report page: the report's stylesheet and script are constants of render-html.ts, so
 * their hashes are taken once from a page with no report; anything else in a page (which the
 * report's escaping already rules out) would not run.
 */
const REPORT_CSP = (() => {
  const empty = renderHtml([]);
  const styles = [...empty.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => cspHash(m[1]!));
  const scripts = [...empty.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => cspHash(m[1]!));
  return `default-src 'none'; style-src ${[...styles, cspHash(NAV_STYLE)].join(" ")}; script-src ${scripts.join(" ") || "'none'"}; img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;
})();

function methodNotAllowed(allow: string): RoutedAnswer {
  return { status: 405, contentType: "text/plain", body: "method not allowed\n", headers: { ...pageHeaders(), allow } };
}

function isForm(headers: IncomingHttpHeaders): boolean {
  return (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase() === "application/x-www-form-urlencoded";
}

/** A path segment decoded, or undefined when it is malformed or could name something other than one name (`.`, `..`, a slash, a NUL). */
function decodeSegment(segment: string): string | undefined {
  let s: string;
  try {
    s = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  if (s === "" || s === "." || s === ".." || /[/\\\0]/.test(s)) return undefined;
  return s;
}

/** The notice a redirect named, when it is one of `NOTICES`; anything else is ignored. */
function noticeOf(query: string): NoticeCode | undefined {
  const n = new URLSearchParams(query).get("notice");
  return n !== null && Object.hasOwn(NOTICES, n) ? (n as NoticeCode) : undefined;
}
