/**
 * The console's routes on the real hardened server, under hostile clients: every console path
 * without a session, forged, tampered and expired cookies, missing or foreign CSRF tokens,
 * cross-origin POSTs, traversal and malformed names, oversized and slow bodies, huge headers and a
 * flood of connections. A real Scheduler (with a stand-in run function, whose calls are counted)
 * and a real SQLite state with recorded runs stand behind it; after each attack `/healthz` still
 * answers and no run was started.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, type LoadedConfig } from "../../src/config.js";
import { FORM_BODY_LIMIT, consoleRoutes, disabledConsoleRoutes } from "../../src/console/console.js";
import { ConsoleAuth, SESSION_COOKIE, SESSION_TTL_MS } from "../../src/console/session.js";
import { ConsoleViews } from "../../src/console/views.js";
import { startHealthServer, type ExtraRoutes, type HealthServer } from "../../src/daemon/health-server.js";
import { DaemonMetrics } from "../../src/daemon/metrics.js";
import { Scheduler } from "../../src/daemon/scheduler.js";
import { createLogger } from "../../src/log.js";
import { QuoClients } from "../../src/quo/clients.js";
import { storedReport, type SyncReport } from "../../src/report/report.js";
import { htmlData } from "../fixtures/reports/parse-reports.js";
import { realRunReports } from "../fixtures/reports/sample-reports.js";
import type { RunOptions } from "../../src/run.js";
import { openStore, type StateStore } from "../../src/state/store.js";

const TOKEN = "console-token-6f1e9b2c4d7a8e3f";
const logger = createLogger({ LOG_LEVEL: "silent" }, { pretty: false });
const HOSTILE = `<script>alert(1)</script>`;

let dir: string;
let loaded: LoadedConfig;
let store: StateStore;
let runId: number;
/** The runs the scheduler's stand-in run function was asked for. */
const runs: { index: number; opts: RunOptions }[] = [];
let scheduler: Scheduler;
let server: HealthServer;
let base: { host: string; port: number };

function report(sync: string, extra: Partial<SyncReport> = {}): SyncReport {
  return { sync, dryRun: false, outcome: "ok", counts: { create: 1, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 3, rejected: 1, failed: 0, skipped: 0, filtered: 0 }, changes: [{ action: "create", key: "k1", row: 2, fields: { firstName: { from: null, to: "Ada" } }, status: "done" }], rejected: [{ key: "k9", row: 9, field: "Email", value: HOSTILE, reason: "not an e-mail address" }], filtered: [], skipped: [], guards: [], ...extra };
}

async function serve(routes: ExtraRoutes, options: { requestTimeoutMs?: number; headersTimeoutMs?: number } = {}): Promise<void> {
  await server?.close();
  const metrics = new DaemonMetrics(["leads"], () => ({}));
  server = await startHealthServer({ host: "127.0.0.1", port: 0 }, { health: () => scheduler.health(), metrics: () => metrics.render(), metricsContentType: metrics.contentType }, { routes, ...options });
  base = { host: "127.0.0.1", port: server.address.port };
}

const enabled = () =>
  consoleRoutes({ token: TOKEN, views: new ConsoleViews(loaded, store, scheduler), actions: scheduler, describe: (e) => (e instanceof Error ? e.message : String(e)) });

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-console-"));
  loaded = {
    config: parseConfig({
      state: path.join(dir, "state.db"),
      syncs: [
        { name: "leads", source: { type: "csv", path: "exports/leads.csv" }, key: "id", fields: { firstName: "First" }, schedule: "0 0 1 1 *" },
        { name: "crm", source: { type: "hubspot" }, key: "id", fields: { firstName: "firstname" } },
      ],
    }),
    file: path.join(dir, "config.json"),
    baseDir: dir,
  };
  store = await openStore(path.join(dir, "state.db"));
  runId = await store.startRun("leads", Date.parse("2026-01-02T03:04:05Z"), "schedule");
  await store.finishRun(runId, "ok", Date.parse("2026-01-02T03:04:07Z"), report("leads").counts, undefined, storedReport(report("leads")));
  await store.addRejections(runId, report("leads").rejected);
  const clients = new QuoClients({ config: loaded.config, env: { QUO_API_KEY: "unit-test-key", QUO_BASE_URL: "http://127.0.0.1:9" } });
  const metrics = new DaemonMetrics(["leads"], () => ({}));
  scheduler = new Scheduler({
    loaded,
    env: {},
    logger,
    clients,
    metrics,
    syncs: [{ index: 0, name: "leads", schedule: "0 0 1 1 *" }],
    onRequestOnly: [{ index: 1, name: "crm" }],
    describe: (e) => String(e),
    run: async (_deps, index, opts) => {
      runs.push({ index, opts });
      return report(loaded.config.syncs[index]!.name, { dryRun: opts.dryRun, outcome: opts.dryRun ? "planned" : "ok" });
    },
  });
  await scheduler.start();
  await serve(enabled());
});

afterAll(async () => {
  await server.close();
  await scheduler.stop(1000);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  // Whatever a test sent, the server still answers its probes.
  const h = await call("GET", "/healthz");
  expect(h.status).toBe(200);
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with full control of the headers (Host, Origin, Sec-Fetch-Site, Cookie). */
function call(method: string, target: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.host, port: base.port, method, path: target, headers: { host: `127.0.0.1:${base.port}`, ...opts.headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** A form POST as the console's own page sends it. */
function post(target: string, form: Record<string, string>, opts: { cookie?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers = { "content-type": "application/x-www-form-urlencoded", origin: `http://127.0.0.1:${base.port}`, "sec-fetch-site": "same-origin", ...(opts.cookie ? { cookie: opts.cookie } : {}), ...opts.headers };
  // A header given as "" is left out (a client that does not send it).
  return call("POST", target, { headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== "")), body: new URLSearchParams(form).toString() });
}

/** Signs in with the token; returns the cookie header to send and the page's CSRF token. */
async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const r = await post("/login", { token: TOKEN });
  expect(r.status).toBe(303);
  const set = String(r.headers["set-cookie"]);
  const cookie = set.split(";")[0]!;
  const page = await call("GET", "/syncs/leads", { headers: { cookie } });
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, csrf: csrf! };
}

const CONSOLE_GETS = ["/", "/syncs/leads", "/syncs/crm", "/runs/1", "/syncs/leads/run", "/syncs/nope", "/runs/999"];
const CONSOLE_POSTS = ["/logout", "/syncs/leads/run", "/syncs/leads/preview", "/syncs/leads/run-with-deletes", "/syncs/crm/run"];

describe("console without QUO_SYNC_CONSOLE_TOKEN", () => {
  it("answers / with how to enable it, and every other console path 404s", async () => {
    await serve(disabledConsoleRoutes());
    try {
      const root = await call("GET", "/");
      expect(root.status).toBe(200);
      expect(root.body).toContain("QUO_SYNC_CONSOLE_TOKEN");
      expect(root.body).not.toContain("leads");
      expect(root.headers["content-security-policy"]).toContain("default-src 'none'");
      for (const p of ["/login", "/syncs/leads", "/runs/1", "/logout"]) expect((await call("GET", p)).status, p).toBe(404);
      expect((await post("/login", { token: TOKEN })).status).toBe(404);
      expect((await post("/", { token: TOKEN })).status).toBe(405);
    } finally {
      await serve(enabled());
    }
  });
});

describe("console without a session", () => {
  it("shows only the sign-in form on every page, and refuses every action", async () => {
    const before = runs.length;
    for (const p of CONSOLE_GETS) {
      const r = await call("GET", p);
      expect([200, 401], p).toContain(r.status);
      expect(r.body, p).toContain('action="/login"');
      expect(r.body, p).not.toContain("leads");
      expect(r.body, p).not.toContain("crm");
    }
    for (const p of CONSOLE_POSTS) {
      const r = await post(p, { csrf: "x", confirm: "leads" });
      expect(r.status, p).toBe(403);
      expect(r.body).not.toContain("leads");
    }
    expect(runs.length).toBe(before);
  });

  it("treats forged, tampered, expired and other-token cookies as no session", async () => {
    const valid = new ConsoleAuth(TOKEN).issue();
    const [expiry, mac] = valid.split(".") as [string, string];
    const flipped = mac.slice(0, -2) + (mac.at(-2) === "A" ? "B" : "A") + mac.at(-1);
    const cookies = [
      `${Number(expiry) + 1}.${mac}`, // longer life, same MAC
      `${expiry}.${flipped}`,
      new ConsoleAuth(TOKEN, () => Date.now() - SESSION_TTL_MS - 1000).issue(), // expired
      new ConsoleAuth("another-token-entirely").issue(),
      `${expiry}.${mac}.extra`,
      "",
      HOSTILE,
      TOKEN,
    ];
    for (const c of cookies) {
      const r = await call("GET", "/syncs/leads", { headers: { cookie: `${SESSION_COOKIE}=${c}` } });
      expect(r.status, c).toBe(401);
      expect(r.body).not.toContain("Last runs");
    }
    expect((await call("GET", "/syncs/leads", { headers: { cookie: `${SESSION_COOKIE}=${valid}` } })).status).toBe(200);
  });
});

describe("sign-in", () => {
  it("refuses a wrong token, then slows that address down; the right one gets an HttpOnly SameSite=Strict cookie", async () => {
    const wrong = await post("/login", { token: "not-the-token" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers["set-cookie"]).toBeUndefined();
    // Within the delay even the right token is not looked at.
    const blocked = await post("/login", { token: TOKEN });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 1100));
    const ok = await post("/login", { token: TOKEN });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe("/");
    const cookie = String(ok.headers["set-cookie"]);
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=\\d+\\.[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200$`));
    for (const a of [wrong, blocked, ok]) expect(JSON.stringify(a)).not.toContain(TOKEN);
  });

  it("marks the cookie Secure behind a TLS proxy", async () => {
    const r = await post("/login", { token: TOKEN }, { headers: { "x-forwarded-proto": "https", origin: `https://127.0.0.1:${base.port}` } });
    expect(r.status).toBe(303);
    expect(String(r.headers["set-cookie"])).toMatch(/; Secure$/);
  });

  it("refuses a sign-in posted from another origin or not as a form", async () => {
    expect((await post("/login", { token: TOKEN }, { headers: { origin: "http://evil.example" } })).status).toBe(403);
    expect((await post("/login", { token: TOKEN }, { headers: { "sec-fetch-site": "cross-site" } })).status).toBe(403);
    expect((await call("POST", "/login", { headers: { "content-type": "application/json" }, body: JSON.stringify({ token: TOKEN }) })).status).toBe(415);
    expect((await call("GET", "/login")).status).toBe(405);
  });
});

describe("console with a session", () => {
  it("serves the pages with a strict CSP and the security headers, and nothing of the token", async () => {
    const { cookie } = await signIn();
    for (const p of ["/", "/syncs/leads", "/syncs/crm", `/runs/${runId}`]) {
      const r = await call("GET", p, { headers: { cookie } });
      expect(r.status, p).toBe(200);
      const csp = String(r.headers["content-security-policy"]);
      expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'( 'sha256-[A-Za-z0-9+/=]+')?; script-src ('none'|'sha256-[A-Za-z0-9+/=]+'); img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
      expect(csp).not.toContain("unsafe");
      expect(r.headers["x-frame-options"]).toBe("DENY");
      expect(r.headers["referrer-policy"]).toBe("no-referrer");
      expect(r.headers["cache-control"]).toBe("no-store");
      expect(r.body).not.toContain(TOKEN);
      // The hostile value from the source is shown as text, never as markup.
      expect(r.body).not.toContain(HOSTILE);
    }
    const overview = await call("GET", "/", { headers: { cookie } });
    expect(overview.body).toContain("CSV leads.csv");
    expect(overview.body).not.toContain("exports/");
    expect(overview.body).toContain("HubSpot");
    expect(overview.body).toContain("on request only");
    const page = await call("GET", "/syncs/leads", { headers: { cookie } });
    expect(page.body).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page.body).toContain("not an e-mail address");
  });

  it("answers 404 for unknown syncs and runs, traversal and malformed names, without echoing the path", async () => {
    const { cookie } = await signIn();
    const targets = [
      "/syncs/nope",
      "/syncs/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
      "/syncs/%2e%2e",
      "/syncs/..",
      "/syncs/.",
      "/syncs/leads%2f..%2fcrm",
      "/syncs/leads%00",
      "/syncs/%ZZ",
      "/syncs/",
      "/syncs/leads/",
      "/syncs/leads/run/x",
      "/syncs/leads/delete",
      "/runs/../..",
      "/runs/%2e%2e%2f%2e%2e",
      "/runs/0",
      "/runs/-1",
      "/runs/1e3",
      "/runs/99999",
      "/runs/123456789012345678901",
      "/runs/",
      "/runs/1/x",
      "/syncs//leads",
    ];
    for (const t of targets) {
      const r = await call("GET", t, { headers: { cookie } });
      expect(r.status, t).toBe(404);
      expect(r.body, t).not.toContain("<script>alert");
      expect(r.body, t).not.toContain(t);
    }
  });

  it("refuses actions without the session's CSRF token, with another session's, or from another origin; nothing runs", async () => {
    const { cookie, csrf } = await signIn();
    const foreign = new ConsoleAuth("another-token-entirely");
    const before = runs.length;
    const attempts: [string, Record<string, string>, Record<string, string>][] = [
      ["/syncs/leads/run", {}, {}],
      ["/syncs/leads/run", { csrf: "" }, {}],
      ["/syncs/leads/run", { csrf: foreign.csrfFor(foreign.issue()) }, {}],
      ["/syncs/leads/run", { csrf: new ConsoleAuth(TOKEN).csrfFor(new ConsoleAuth(TOKEN).issue()) }, {}],
      ["/syncs/leads/run", { csrf }, { origin: "http://evil.example" }],
      ["/syncs/leads/run", { csrf }, { origin: "null", "sec-fetch-site": "" }],
      ["/syncs/leads/run", { csrf }, { origin: "http://evil.example", "sec-fetch-site": "" }],
      ["/syncs/leads/run", { csrf }, { "sec-fetch-site": "cross-site" }],
      ["/syncs/leads/run", { csrf }, { "sec-fetch-site": "same-site" }],
      ["/syncs/leads/run-with-deletes", { csrf: "forged", confirm: "leads" }, {}],
      ["/syncs/leads/preview", { csrf: "forged" }, {}],
      ["/logout", {}, {}],
    ];
    for (const [target, form, headers] of attempts) {
      const r = await post(target, form, { cookie, headers });
      expect(r.status, `${target} ${JSON.stringify(form)} ${JSON.stringify(headers)}`).toBe(403);
    }
    expect(runs.length).toBe(before);
    // GET on an action does nothing either.
    expect((await call("GET", "/syncs/leads/run", { headers: { cookie } })).status).toBe(405);
    expect(runs.length).toBe(before);
  });

  it("runs now through the scheduler as a manual run, refuses deletes without the typed name, and previews as a dry run", async () => {
    const { cookie, csrf } = await signIn();
    const before = runs.length;
    const run = await post("/syncs/leads/run", { csrf }, { cookie });
    expect(run.status).toBe(303);
    expect(run.headers.location).toBe("/syncs/leads?notice=started");
    await new Promise((r) => setTimeout(r, 50));
    expect(runs.slice(before)).toEqual([{ index: 0, opts: expect.objectContaining({ dryRun: false, allowDeletes: false, trigger: "manual" }) }]);

    const mismatch = await post("/syncs/crm/run-with-deletes", { csrf, confirm: "CRM" }, { cookie });
    expect(mismatch.headers.location).toBe("/syncs/crm?notice=mismatch");
    expect(runs.length).toBe(before + 1);
    const deletes = await post("/syncs/crm/run-with-deletes", { csrf, confirm: "crm" }, { cookie });
    expect(deletes.headers.location).toBe("/syncs/crm?notice=started");
    await new Promise((r) => setTimeout(r, 50));
    expect(runs.at(-1)).toEqual({ index: 1, opts: expect.objectContaining({ dryRun: false, allowDeletes: true, trigger: "manual" }) });

    const preview = await post("/syncs/leads/preview", { csrf }, { cookie });
    expect(preview.status).toBe(200);
    expect(preview.body).toContain("nothing was written");
    expect(runs.at(-1)).toEqual({ index: 0, opts: expect.objectContaining({ dryRun: true }) });
    const notice = await call("GET", "/syncs/crm?notice=mismatch", { headers: { cookie } });
    expect(notice.body).toContain("type the sync&#39;s name exactly");
    const echoed = await call("GET", `/syncs/crm?notice=${encodeURIComponent(HOSTILE)}`, { headers: { cookie } });
    expect(echoed.body).not.toContain("alert(1)");
  });

  it("signs out: the cookie is cleared", async () => {
    const { cookie, csrf } = await signIn();
    const r = await post("/logout", { csrf }, { cookie });
    expect(r.status).toBe(303);
    expect(String(r.headers["set-cookie"])).toMatch(new RegExp(`^${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0$`));
  });
});

describe("hostile bodies, headers and connections on console routes", () => {
  it("refuses bodies over the limit (declared or chunked) with 413, and discards bodies of GET routes", async () => {
    const { cookie, csrf } = await signIn();
    const big = "x".repeat(FORM_BODY_LIMIT + 1);
    const declared = await post("/login", { token: big });
    expect(declared.status).toBe(413);
    const chunked = await call("POST", "/syncs/leads/run", { headers: { cookie, "content-type": "application/x-www-form-urlencoded", "transfer-encoding": "chunked" }, body: `csrf=${csrf}&pad=${big}` });
    expect(chunked.status).toBe(413);
    const getWithBody = await call("GET", "/syncs/leads", { headers: { cookie, "content-length": String(big.length) }, body: big });
    expect(getWithBody.status).toBe(200);
    expect(getWithBody.headers.connection).toBe("close");
  });

  it("answers 431 to huge headers on a console path", async () => {
    const r = await call("GET", "/syncs/leads", { headers: { cookie: `${SESSION_COOKIE}=${"a".repeat(20_000)}` } }).catch((e: unknown) => ({ status: -1, headers: {}, body: String(e) }));
    expect([431, -1]).toContain(r.status);
  });

  it("closes a client that trickles its form body past the request timeout", async () => {
    await serve(enabled(), { headersTimeoutMs: 300, requestTimeoutMs: 600 });
    try {
      const started = Date.now();
      const text = await new Promise<string>((resolve) => {
        const s = connect(base.port, "127.0.0.1", () => {
          s.write(`POST /login HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\ntoken=`);
        });
        let got = "";
        s.on("data", (d) => (got += d.toString("latin1")));
        s.on("error", () => undefined);
        s.on("close", () => resolve(got));
      });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(text).not.toContain("303");
    } finally {
      await serve(enabled());
    }
  });

  it("survives a flood of connections to the sign-in route and answers afterwards", async () => {
    const sockets = Array.from({ length: 60 }, () => {
      const s = connect(base.port, "127.0.0.1", () => s.write("POST /login HTTP/1.1\r\nhost: x\r\ncontent-length: 4000\r\n\r\n"));
      s.on("error", () => undefined);
      return s;
    });
    await new Promise((r) => setTimeout(r, 200));
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const r = await call("GET", "/");
    expect(r.status).toBe(200);
  });

  it("answers malformed request lines on console paths with 400 and keeps serving", async () => {
    for (const raw of ["GET /syncs/le ads HTTP/1.1\r\nhost: x\r\n\r\n", "GET /syncs/\0 HTTP/1.1\r\nhost: x\r\n\r\n", "POST /login HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n"]) {
      const text = await new Promise<string>((resolve) => {
        const s = connect(base.port, "127.0.0.1", () => s.write(Buffer.from(raw, "latin1")));
        let got = "";
        s.on("data", (d) => (got += d.toString("latin1")));
        s.on("error", () => resolve(got));
        s.on("close", () => resolve(got));
      });
      expect(text, JSON.stringify(raw)).toMatch(/^HTTP\/1\.1 400 /);
    }
  });

  it("shows a run's skipped and filtered rows and counts, and still shows a report stored before them", async () => {
    const { cookie } = await signIn();
    const fresh = { ...realRunReports()[0]!, sync: "crm" };
    const a = await store.startRun("crm", Date.parse("2026-01-03T03:04:05Z"), "manual");
    await store.finishRun(a, "ok", Date.parse("2026-01-03T03:04:06Z"), fresh.counts, undefined, storedReport(fresh));
    // As a run recorded before filters and modes kept it: none of their keys.
    const { filtered: _f, skipped: _s, ...rest } = report("crm");
    const { skipped: _cs, filtered: _cf, ...oldCounts } = rest.counts;
    const b = await store.startRun("crm", Date.parse("2026-01-03T04:04:05Z"), "manual");
    await store.finishRun(b, "ok", Date.parse("2026-01-03T04:04:06Z"), oldCounts, undefined, { ...rest, counts: oldCounts } as unknown as SyncReport);

    const page = await call("GET", `/runs/${a}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<dd data-count="skipped">1</dd>');
    expect(page.body).toContain('<dd data-count="filtered">3</dd>');
    expect(page.body).toContain('<div class="filtered-by"><h3>Filtered out by <code>where</code></h3>');
    const entries = htmlData(page.body).entries;
    expect(entries.filter((e) => e.kind === "filtered").map((e) => e.row)).toEqual([50, 51, 52]);
    expect(entries.filter((e) => e.kind === "skipped").map((e) => e.key)).toEqual(["K70"]);

    const old = await call("GET", `/runs/${b}`, { headers: { cookie } });
    expect(old.status).toBe(200);
    expect(old.body).toContain("crm: did create 1, update 0, delete 0; unchanged 3, rejected 1, failed 0");
    expect(old.body).not.toContain('data-count="skipped"');
    expect(htmlData(old.body).entries.map((e) => e.kind)).toEqual(["rejected", "create"]);

    const sync = await call("GET", "/syncs/crm", { headers: { cookie } });
    expect(sync.body).toContain("create 2, update 2, delete 1, link 1, unlink 1, unchanged 14, rejected 2, failed 2, skipped 1, filtered 3");
    expect(sync.body).toContain("create 1, update 0, delete 0, unchanged 3, rejected 1, failed 0</td>");
  });
});
