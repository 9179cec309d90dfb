/**
 * The console in a real headless Chromium (./browser.ts) against a real daemon (the built CLI,
 * `daemon --http 127.0.0.1:0`) with two syncs writing to the Quo emulator: one scheduled with a
 * rejected row, one run only on request. A person signs in, reads both syncs, opens one, reads the
 * rejected row's reason, runs it now and sees the run appear, previews without writing, runs with
 * deletes only after typing the name; a forged form from another origin, and a wrong token, are
 * refused and start nothing. No console error, and no request leaves 127.0.0.1.
 */
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQuoEmulator, type QuoEmulator } from "../emulators/quo-emulator.js";
import { launchChromium } from "./browser.js";
import { spawnDaemon, stop, until, type Daemon } from "./daemons.js";
import { HEADER, ROOT, Workspace, cliEnv, personRow, reports, runCli, toCsv, writes } from "./harness.js";

const TOKEN = "console-browser-token-3b9f6a1d2c8e4f70";
/** Where each page's screenshot goes (ignored by git); docs/console.png is a copy of overview.png. */
const SHOTS = path.join(ROOT, "test-output", "console");

let emulator: QuoEmulator;
let browser: Browser;
let ws: Workspace;
let daemon: Daemon;
let base: string;
let rejectedReason: string;
let evil: Server;
let evilUrl: string;

/** What pages did besides drawing: every request and every console error or uncaught exception. */
const requests: string[] = [];
const errors: string[] = [];

function watch(page: Page): Page {
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return page;
}

async function newPage(ctx?: BrowserContext): Promise<Page> {
  const c = ctx ?? (await browser.newContext({ viewport: { width: 1100, height: 900 } }));
  return watch(await c.newPage());
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Starts the daemon for one test (./daemons.ts ends it after the test); the state carries over. */
async function startDaemon(): Promise<void> {
  requests.length = 0;
  errors.length = 0;
  daemon = spawnDaemon(ws.config, ws.dir, cliEnv(emulator, { QUO_SYNC_CONSOLE_TOKEN: TOKEN, LOG_LEVEL: "info" }));
  base = await daemon.url();
}

async function signIn(page: Page): Promise<void> {
  await page.goto(base + "/");
  await page.fill('input[name="token"]', TOKEN);
  await Promise.all([page.waitForURL(base + "/"), page.click('button[type="submit"]')]);
  await expect(page.locator("h1").innerText()).resolves.toBe("Syncs");
}

/** Rows of the "Last runs" table on a sync's page, reloading it. */
async function runRows(page: Page, sync: string): Promise<string[]> {
  await page.goto(`${base}/syncs/${sync}`);
  return page.locator("#runs tbody tr").allInnerTexts();
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
  emulator = await startQuoEmulator({ apiKeys: ["qk_live_SECRET_4f7d2c9a1b"], requestsPerSecond: 0 });
  ws = new Workspace();
  const leads = [...Array.from({ length: 6 }, (_, i) => personRow(i + 1)), ["B1", "Bad", "Email", "", "(415) 222-1111", "", "b1@@example.com"]];
  writeFileSync(ws.csv, toCsv([HEADER, ...leads]));
  // A known mtime: the overview shows it as the newest change applied.
  utimesSync(ws.csv, LEADS_CHANGED, LEADS_CHANGED);
  writeFileSync(path.join(ws.dir, "customers.csv"), toCsv([HEADER, ...Array.from({ length: 4 }, (_, i) => personRow(i + 101))]));
  const sync = (name: string, file: string, extra: Record<string, unknown> = {}) => ({
    name,
    source: { type: "csv", path: file },
    key: "id",
    fields: { firstName: "First Name", lastName: "Last Name", company: "Company", phoneNumbers: { mobile: "Phone", work: "Work Phone" }, emails: { work: "Email" } },
    defaultCountry: "US",
    deletes: "mirror",
    ...extra,
  });
  writeFileSync(ws.config, JSON.stringify({ state: ws.state, quo: { requestsPerSecond: 50 }, syncs: [sync("leads", "contacts.csv", { schedule: "0 0 1 1 *" }), sync("customers", "customers.csv")] }, null, 2));
  const first = await runCli(["sync", "--config", ws.config, "--sync", "leads", "--format", "json"], cliEnv(emulator), ws.dir);
  expect(first.status, first.stderr).toBe(0);
  rejectedReason = (reports(first.stdout)[0] as { rejected: { reason: string }[] }).rejected[0]!.reason;
  expect(rejectedReason).toBeTruthy();


  // Another origin on this host (another port: same site, so a SameSite=Strict cookie still goes
  // along) whose page posts a form to the console by itself, as a forged request would.
  evil = createServer((req, res) => {
    const which = req.url === "/deletes" ? "run-with-deletes" : "run";
    // The console's address is known once the test has started its daemon.
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!doctype html><form id="f" method="post" action="${base}/syncs/leads/${which}"><input name="csrf" value="forged"><input name="confirm" value="leads"></form><script>document.getElementById("f").submit()</script>`);
  });
  await new Promise<void>((r) => evil.listen(0, "127.0.0.1", r));
  evilUrl = `http://127.0.0.1:${(evil.address() as { port: number }).port}`;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => evil?.close(r));
  await emulator?.close();
  ws?.cleanup();
});

/** The leads file's mtime when the first sync reads it. */
const LEADS_CHANGED = new Date("2026-02-03T04:05:06Z");

describe("the console in a browser", () => {
  it("signs in, shows both syncs and the rejected row, runs now, previews, and runs with deletes only after the name is typed", async () => {
    await startDaemon();
    const page = await newPage();
    await page.goto(base + "/syncs/leads");
    // Nothing of the console before signing in.
    await expect(page.locator("body").innerText()).resolves.not.toContain("leads");
    await shot(page, "sign-in");
    await signIn(page);
    const cards = page.locator("article.card");
    await expect(cards.locator("h2 a").allInnerTexts()).resolves.toEqual(["leads", "customers"]);
    const leadsCard = await cards.nth(0).innerText();
    expect(leadsCard).toContain("CSV contacts.csv");
    expect(leadsCard).toContain("0 0 1 1 *");
    expect(await cards.nth(0).locator('[data-field="rejected"]').innerText()).toBe("1");
    expect(await cards.nth(0).locator('[data-field="source-changed"]').innerText()).toMatch(/ago \(2026-02-03 04:05:06Z\)$/);
    expect(await cards.nth(0).locator('[data-field="checked"]').innerText()).toMatch(/^\d+ s ago|^\d+ min ago/);
    expect(await cards.nth(1).locator('[data-field="checked"]').innerText()).toBe("no completed run yet");
    expect(await cards.nth(1).innerText()).toContain("on request only");
    expect(await cards.nth(1).innerText()).toContain("no run yet");
    await shot(page, "overview");

    // The sync's page: the rejected row's reason, value and since when.
    await page.click("text=leads");
    await page.waitForURL(base + "/syncs/leads");
    const rejected = page.locator("#rejected tbody tr");
    await expect(rejected.count()).resolves.toBe(1);
    const row = await rejected.first().innerText();
    expect(row).toContain("B1");
    expect(row).toContain("b1@@example.com");
    expect(await rejected.locator("td.reason").innerText()).toBe(rejectedReason);
    await shot(page, "sync");

    // Readable on a phone: nothing wider than the screen but the tables, which scroll inside their box.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const p of ["/", "/syncs/leads"]) {
      await page.goto(base + p);
      // A string: the tests are compiled without the DOM's types.
      const [scroll, width] = (await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")) as [number, number];
      expect(scroll, p).toBeLessThanOrEqual(width);
    }
    await shot(page, "sync-phone");
    await page.setViewportSize({ width: 1100, height: 900 });

    // Run now: one more run, trigger manual, and the emulator saw its requests.
    // A row edited in the source since the last run, for the run to write.
    const edited = [...Array.from({ length: 6 }, (_, i) => personRow(i + 1, i === 2 ? 1 : 0)), ["B1", "Bad", "Email", "", "(415) 222-1111", "", "b1@@example.com"]];
    writeFileSync(ws.csv, toCsv([HEADER, ...edited]));
    const before = await runRows(page, "leads");
    const requestsBefore = emulator.stats().requests;
    const updatesBefore = emulator.stats().writesApplied.update;
    await Promise.all([page.waitForURL(/notice=started/), page.click('button[data-action="run"]')]);
    await expect(page.locator("[data-notice]").innerText()).resolves.toContain("Run started");
    const after = await until(
      async () => {
        const rows = await runRows(page, "leads");
        return rows.length === before.length + 1 && !rows[0]!.includes("running") ? rows : undefined;
      },
      30_000,
      "the requested run in the list",
    );
    expect(after[0]).toMatch(/manual/);
    expect(after[0]).toMatch(/\bok\b/);
    expect(after[0]).toContain("update 1");
    expect(emulator.stats().requests).toBeGreaterThan(requestsBefore);
    expect(emulator.stats().writesApplied.update).toBe(updatesBefore + 1);
    expect(emulator.contacts().find((c) => c.defaultFields.lastName === "Last3e1")).toBeTruthy();

    // Preview: a report, no write, no run recorded.
    const writesBefore = writes(emulator);
    await Promise.all([page.waitForURL(`${base}/syncs/leads/preview`), page.click('button[data-action="preview"]')]);
    await expect(page.locator("h1").first().innerText()).resolves.toContain("dry run");
    await expect(page.locator("body").innerText()).resolves.toContain("nothing was written");
    await page.locator("#entries-body tr").first().waitFor();
    await shot(page, "preview");
    expect(writes(emulator)).toBe(writesBefore);
    expect(await runRows(page, "leads")).toHaveLength(after.length);

    // Run with deletes allowed: a wrong name is refused, the right one runs.
    await page.click("summary");
    await page.fill('input[name="confirm"]', "Leads");
    await Promise.all([page.waitForURL(/notice=mismatch/), page.click('button[data-action="run-with-deletes"]')]);
    await expect(page.locator("[data-notice]").innerText()).resolves.toContain("type the sync's name exactly");
    expect(await runRows(page, "leads")).toHaveLength(after.length);
    await page.click("summary");
    await page.fill('input[name="confirm"]', "leads");
    await Promise.all([page.waitForURL(/notice=started/), page.click('button[data-action="run-with-deletes"]')]);
    await until(async () => ((await runRows(page, "leads")).length === after.length + 1 ? true : undefined), 30_000, "the run with deletes in the list");

    // The unscheduled sync runs on request too.
    await page.goto(`${base}/syncs/customers`);
    await Promise.all([page.waitForURL(/notice=started/), page.click('button[data-action="run"]')]);
    const customers = await until(async () => {
      const rows = await runRows(page, "customers");
      return rows.length === 1 && !rows[0]!.includes("running") ? rows : undefined;
    }, 30_000, "the customers run");
    expect(customers[0]).toMatch(/manual/);
    expect(emulator.contacts().filter((c) => c.externalId?.includes("K10")).length).toBeGreaterThan(0);

    // A run's page: the report, with its id and trigger.
    await page.click("#runs tbody tr:first-child a");
    await page.waitForURL(/\/runs\/\d+$/);
    await expect(page.locator("body").innerText()).resolves.toContain("manual");
    await page.locator("#entries-body tr").first().waitFor();
    await shot(page, "run");

    // Sign out: the pages are closed again.
    await page.goto(base + "/");
    await Promise.all([page.waitForResponse(base + "/logout"), page.click("text=Sign out")]);
    await page.locator('input[name="token"]').waitFor();
    await page.goto(base + "/syncs/leads");
    await expect(page.locator("#runs").count()).resolves.toBe(0);

    // The only errors are the two pages opened signed out, answered 401 as they should (no CSP violation).
    expect(errors).toEqual([1, 2].map(() => `${base}/syncs/leads: Failed to load resource: the server responded with a status of 401 (Unauthorized)`));
    expect(requests.filter((u) => !u.startsWith(base + "/"))).toEqual([]);
    const ended = await stop(daemon);
    expect(ended.status, ended.stderr).toBe(0);
    expect(ended.stderr).not.toContain(TOKEN);
  }, 180_000);

  it("refuses a forged form from another origin and a wrong token; nothing runs", async () => {
    await startDaemon();
    const ctx = await browser.newContext();
    const page = await newPage(ctx);
    await signIn(page);
    const runsBefore = await runRows(page, "leads");
    const writesBefore = writes(emulator);
    const forged = watch(await ctx.newPage());
    for (const p of ["/run", "/deletes"]) {
      const answer = forged.waitForResponse((r) => r.url().startsWith(`${base}/syncs/leads/`));
      await forged.goto(evilUrl + p);
      expect((await answer).status()).toBe(403);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(await runRows(page, "leads")).toEqual(runsBefore);
    expect(writes(emulator)).toBe(writesBefore);

    const other = await newPage();
    await other.goto(base + "/");
    await other.fill('input[name="token"]', "not-the-token");
    const answer = other.waitForResponse(`${base}/login`);
    await other.click('button[type="submit"]');
    expect((await answer).status()).toBe(401);
    await expect(other.locator('[role="alert"]').innerText()).resolves.toContain("Wrong token");
    await expect(other.locator("body").innerText()).resolves.not.toContain("leads");
    // Nothing of the token anywhere the daemon logged.
    expect(JSON.stringify(daemon.logs)).not.toContain(TOKEN);
    expect(requests.filter((u) => !u.startsWith(base + "/") && !u.startsWith(evilUrl + "/"))).toEqual([]);
    // The refused form and the wrong token, answered 403 and 401; nothing else went wrong.
    expect(errors.filter((e) => !/status of (403 \(Forbidden\)|401 \(Unauthorized\))$/.test(e))).toEqual([]);
  }, 60_000);
});
