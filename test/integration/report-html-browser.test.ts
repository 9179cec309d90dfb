/**
 * The html report in a real headless Chromium (the one the devDependency `@sparticuz/chromium` ships
 * in its npm tarball, see ./browser.ts; driven by playwright-core; no browser is ever downloaded): a
 * plan made by the built CLI against the Quo emulator, opened from a file:// URL, checked for what a
 * person sees, and checked against what the next real run does; then the sample reports with links
 * and unlinks, with filtered, skipped and explained rows and field mappings, and a 100,000-change page.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROW_CAP, renderHtml } from "../../src/report/render-html.js";
import { startQuoEmulator, type QuoEmulator } from "../emulators/quo-emulator.js";
import { htmlData, statedByHtml, statedByJson } from "../fixtures/reports/parse-reports.js";
import { HOSTILE_NAME, LINK_EMAIL, SKIP_REASON, STATUS_CONDITION, dryRunReports, explainedReports, largeReport, realRunReports } from "../fixtures/reports/sample-reports.js";
import { launchChromium } from "./browser.js";
import { API_KEY, Workspace, cliEnv, compareWithSource, personRow, reports, runCli } from "./harness.js";

let emulator: QuoEmulator;
let browser: Browser;
let ws: Workspace;
let reportFile: string;
/** The rows of the source after the edits the plan reports. */
let edited: string[][];

/** What a page did besides drawing: every request, console error and uncaught exception. */
interface PageWatch {
  requests: string[];
  errors: string[];
  dialogs: string[];
}

async function open(file: string): Promise<{ page: Page; watch: PageWatch }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const watch: PageWatch = { requests: [], errors: [], dialogs: [] };
  page.on("request", (r) => watch.requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") watch.errors.push(m.text());
  });
  page.on("pageerror", (e) => watch.errors.push(String(e)));
  page.on("dialog", (d) => {
    watch.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(pathToFileURL(file).href);
  return { page, watch };
}

/** The keys of the rows a person sees in the changes table. */
async function visibleKeys(page: Page): Promise<string[]> {
  return page.locator("#entries-body tr:visible td.key").allInnerTexts();
}

beforeAll(async () => {
  // Throws, with the reason, when the browser cannot start: the tests then fail, never skip.
  browser = await launchChromium();
  emulator = await startQuoEmulator({ apiKeys: [API_KEY], requestsPerSecond: 0 });

  // First sync 20 contacts, then edit the source: 2 updates, 1 delete, 3 creates, 2 bad rows.
  ws = new Workspace();
  const rows = Array.from({ length: 20 }, (_, i) => personRow(i + 1));
  ws.writeCsv(rows);
  ws.writeConfig();
  const first = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
  expect(first.status, first.stderr).toBe(0);

  edited = rows.slice(0, 19).map((r) => [...r]);
  edited[4]![2] = "Renamed";
  edited[5]![4] = "(415) 999-0006";
  edited.push(personRow(21), personRow(22), [...personRow(23).slice(0, 1), HOSTILE_NAME, ...personRow(23).slice(2)]);
  const bad = [
    ["B1", "", "NoFirst", "", "(415) 222-1111", "", ""],
    ["B2", "Bad", "Phone", "", "555-12", "", "b2@@example.com"],
  ];
  ws.writeCsv([...edited, ...bad]);
  reportFile = path.join(ws.dir, "plan.html");
  const plan = await runCli(["plan", "--config", ws.config, "--format", "html", "--out", reportFile], cliEnv(emulator), ws.dir);
  expect(plan.status, plan.stderr).toBe(0);
});

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
  ws?.cleanup();
});

describe("the html plan of a sync with creates, updates, deletes and rejected rows", () => {
  it("shows the counts, a bar chart proportional to them, and loads nothing but itself", async () => {
    const { page, watch } = await open(reportFile);
    const summary = page.locator("article.sync-summary");
    await expect.poll(() => summary.locator(".headline").innerText()).toBe("leads: would create 3, update 2, delete 1; unchanged 17, rejected 2, failed 0");
    const count = (name: string) => summary.locator(`dd[data-count="${name}"]`).innerText();
    const names = ["create", "update", "delete", "link", "unlink", "unchanged", "rejected", "failed"];
    expect(await Promise.all(names.map(count))).toEqual(["3", "2", "1", "0", "0", "17", "2", "0"]);

    const chart = summary.locator("svg.chart");
    expect(await chart.isVisible()).toBe(true);
    const bars = await chart.locator("g.bar").evaluateAll((gs) =>
      gs.map((g) => ({ name: g.getAttribute("data-name"), count: Number(g.getAttribute("data-count")), width: g.querySelector("rect")!.getBoundingClientRect().width })),
    );
    expect(bars.map((b) => `${b.name}=${b.count}`)).toEqual(["create=3", "update=2", "delete=1", "link=0", "unlink=0", "unchanged=17", "rejected=2", "failed=0"]);
    const perUnit = bars.find((b) => b.name === "unchanged")!.width / 17;
    expect(perUnit).toBeGreaterThan(5);
    for (const b of bars) expect(Math.abs(b.width - b.count * perUnit), b.name!).toBeLessThan(1.5);

    expect(await page.locator("#shown").innerText()).toBe("showing 8 of 8");
    expect(watch.requests).toEqual([pathToFileURL(reportFile).href]);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("search narrows the rows to the matching key, and the filter to one action", async () => {
    const { page, watch } = await open(reportFile);
    expect((await visibleKeys(page)).sort()).toEqual(["B1", "B2", "K20", "K21", "K22", "K23", "K5", "K6"].sort());

    await page.fill("#search", "k22");
    await expect.poll(() => visibleKeys(page)).toEqual(["K22"]);
    expect(await page.locator("#entries-body tr td.details").innerText()).toContain("firstName: First22");

    await page.fill("#search", "Renamed");
    await expect.poll(() => visibleKeys(page)).toEqual(["K5"]);
    expect(await page.locator("#entries-body tr td.details").innerText()).toBe("lastName: Last5 → Renamed");

    await page.fill("#search", "");
    await page.selectOption("#filter", "delete");
    await expect.poll(() => visibleKeys(page)).toEqual(["K20"]);
    expect(await page.locator("#entries-body tr:visible td.kind").allInnerTexts()).toEqual(["delete"]);

    await page.selectOption("#filter", "update");
    await expect.poll(() => visibleKeys(page)).toEqual(["K5", "K6"]);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("shows rejected rows with their reasons", async () => {
    const { page } = await open(reportFile);
    await page.selectOption("#filter", "rejected");
    const rows = page.locator("#entries-body tr:visible");
    await expect.poll(() => rows.count()).toBe(2);
    const text = await rows.allInnerTexts();
    // A row with two fields at fault is one row, its reasons on lines of their own.
    expect(text.find((t) => t.includes("B2"))).toMatch(/'555-12' is not a valid phone number for US[^\n]*\n[^\n]*'b2@@example\.com' is not a valid email address/);
    expect(text.find((t) => !t.includes("B2"))).toMatch(/firstName/);
    await page.close();
  });

  it("shows a hostile contact name as text and runs none of it", async () => {
    const { page, watch } = await open(reportFile);
    await page.fill("#search", "onerror");
    await expect.poll(() => visibleKeys(page)).toEqual(["K23"]);
    expect(await page.locator("#entries-body td.details").innerText()).toContain(`firstName: ${HOSTILE_NAME}`);
    expect(await page.locator("img").count()).toBe(0);
    expect(watch.dialogs).toEqual([]);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("states what the json plan states, and the next real run does exactly that", async () => {
    const html = readFileSync(reportFile, "utf8");
    const json = await runCli(["plan", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    expect(json.status, json.stderr).toBe(0);
    const planned = statedByJson(json.stdout);
    expect(statedByHtml(html)).toEqual(planned);

    const run = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    expect(run.status, run.stderr).toBe(0);
    expect(statedByJson(run.stdout)).toEqual(planned);
    expect(reports(run.stdout)[0].dryRun).toBe(false);
    expect(compareWithSource(emulator.contacts(), edited)).toEqual([]);
  });
});

describe("the html plan after an edit in the Quo app (--verify)", () => {
  it("lists the drifted contact under the drift filter with what changed, and the update that puts it back", async () => {
    const contact = emulator.contacts().find((c) => c.externalId === "leads:K8")!;
    emulator.appEdit(contact.id, { lastName: "EditedInApp" });
    const file = path.join(ws.dir, "verify.html");
    const plan = await runCli(["plan", "--verify", "--config", ws.config, "--format", "html", "--out", file], cliEnv(emulator), ws.dir);
    expect(plan.status, plan.stderr).toBe(0);
    const { page, watch } = await open(file);
    await page.selectOption("#filter", "drift");
    await expect.poll(() => visibleKeys(page)).toEqual(["K8"]);
    expect(await page.locator("#entries-body tr:visible td.details").innerText()).toContain("EditedInApp");
    await page.selectOption("#filter", "update");
    await expect.poll(() => visibleKeys(page)).toEqual(["K8"]);
    expect(await page.locator("#entries-body tr:visible td.details").innerText()).toContain("lastName: EditedInApp → Last8");
    expect(watch.errors).toEqual([]);
    await page.close();
  });
});

describe("the html report of links and unlinks", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-html-links-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, html: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, html);
    return file;
  }

  it("counts them in the summary and the chart, and the filter shows each link with how it was matched", async () => {
    const file = write("plan.html", renderHtml(dryRunReports()));
    const { page, watch } = await open(file);
    const leads = page.locator('article.sync-summary[data-sync="leads"]');
    expect(await leads.locator(".headline").innerText()).toBe("leads: would create 3, update 2, delete 1, link 2, unlink 1; unchanged 14, rejected 2, failed 0, skipped 1, filtered 3, drifted in Quo 2");
    expect(await leads.locator('dd[data-count="link"]').innerText()).toBe("2");
    expect(await leads.locator('dd[data-count="unlink"]').innerText()).toBe("1");
    const bars = await leads.locator("svg.chart g.bar").evaluateAll((gs) =>
      gs.map((g) => ({ name: g.getAttribute("data-name"), count: Number(g.getAttribute("data-count")), width: g.querySelector("rect")!.getBoundingClientRect().width })),
    );
    expect(bars.map((b) => `${b.name}=${b.count}`)).toEqual(["create=3", "update=2", "delete=1", "link=2", "unlink=1", "unchanged=14", "rejected=2", "failed=0", "skipped=1", "filtered=3", "drift=2"]);
    const perUnit = bars.find((b) => b.name === "unchanged")!.width / 14;
    for (const b of bars) expect(Math.abs(b.width - b.count * perUnit), b.name!).toBeLessThan(1.5);

    expect(await page.locator('#filter option[value="link"]').innerText()).toBe("link (2)");
    await page.selectOption("#filter", "link");
    await expect.poll(() => visibleKeys(page)).toEqual(["K40", "K41"]);
    expect(await page.locator("#entries-body tr:visible td.kind").allInnerTexts()).toEqual(["link", "link"]);
    const details = await page.locator("#entries-body tr:visible td.details").allInnerTexts();
    // Then the fields a plain column does not explain: how each got its value.
    expect(details[0]).toBe(
      "matched by phone +14155550100\nfirstName: Lin\nlastName: Ked\nphoneNumbers.mobile: +14155550100\nfirstName = Lin  (first part of 'Full Name')\ncustomFields.Stage = Customer  (map 'customer' → 'Customer' (column 'Lifecycle'))",
    );
    expect(details[1]).toContain(`matched by email ${LINK_EMAIL}`);
    expect(await page.locator("#entries-body tr:visible td.quo-id").allInnerTexts()).toEqual(["QX40", "QX41"]);

    await page.selectOption("#filter", "unlink");
    await expect.poll(() => visibleKeys(page)).toEqual(["K50"]);
    expect(await page.locator("#entries-body tr:visible td.details").innerText()).toBe("no longer synced; the contact stays in Quo as it is");

    // The matched value is searchable like any other.
    await page.selectOption("#filter", "");
    await page.fill("#search", LINK_EMAIL);
    await expect.poll(() => visibleKeys(page)).toEqual(["K41"]);
    expect(watch.requests).toEqual([pathToFileURL(file).href]);
    expect(watch.errors).toEqual([]);
    await page.close();
  });

  it("lists a link Quo refused under failed, with Quo's message and how it was matched", async () => {
    const file = write("run.html", renderHtml(realRunReports()));
    const { page, watch } = await open(file);
    expect(await page.locator("article.sync-summary .headline").innerText()).toBe("leads: did create 2, update 2, delete 1, link 1, unlink 1; unchanged 14, rejected 2, failed 2, skipped 1, filtered 3, drifted in Quo 2");
    await page.selectOption("#filter", "failed");
    await expect.poll(() => visibleKeys(page)).toEqual(["K32", "K41"]);
    const row = page.locator('#entries-body tr[data-key="K41"]');
    expect(await row.locator("td.kind").innerText()).toBe("link (failed)");
    expect(await row.locator("td.details").innerText()).toMatch(/^HTTP 422 0800422: Contact cannot be edited\nmatched by email ann_lee@example\.com\nfirstName: Ann/);
    await page.selectOption("#filter", "link");
    await expect.poll(() => visibleKeys(page)).toEqual(["K40"]);
    expect(watch.errors).toEqual([]);
    await page.close();
  });
});

describe("the html plan of filtered, skipped and explained rows (plan --explain)", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-html-explain-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("summarises the filter by condition, and lists filtered, skipped and every row under their filters", async () => {
    const file = path.join(dir, "explain.html");
    writeFileSync(file, renderHtml(explainedReports()));
    const { page, watch } = await open(file);
    const leads = page.locator('article.sync-summary[data-sync="leads"]');
    expect(await leads.locator('dd[data-count="skipped"]').innerText()).toBe("1");
    expect(await leads.locator('dd[data-count="filtered"]').innerText()).toBe("3");
    expect(await leads.locator(".filtered-by li").allInnerTexts()).toEqual([`${STATUS_CONDITION}: 2 rows`, "where[1]: 'Phone' notBlank: 1 row"]);

    await page.selectOption("#filter", "filtered");
    await expect.poll(() => visibleKeys(page)).toEqual(["K60", "", "K62"]);
    expect(await page.locator("#entries-body tr:visible td.row").allInnerTexts()).toEqual(["50", "51", "52"]);
    const filtered = await page.locator("#entries-body tr:visible td.details").allInnerTexts();
    expect(filtered[0]).toMatch(new RegExp(`^${STATUS_CONDITION.replace(/[[\]()]/g, "\\$&")}\nStatus: <b>Churned</b> \| gone next$`));
    expect(filtered[2]).toBe("where[1]: 'Phone' notBlank\nPhone: \"\"");
    expect(await page.locator("#entries-body b").count()).toBe(0);

    await page.selectOption("#filter", "skipped");
    await expect.poll(() => visibleKeys(page)).toEqual(["K70"]);
    expect(await page.locator("#entries-body tr:visible td.details").innerText()).toBe(SKIP_REASON);

    await page.selectOption("#filter", "explained");
    await expect.poll(() => page.locator("#entries-body tr:visible").count()).toBe(7);
    expect(await page.locator("#entries-body tr:visible td.kind").allInnerTexts()).toEqual(["row: update", "row: unchanged", "row: create", "row: rejected", "row: link", "row: filtered", "row: skipped"]);
    const k9 = page.locator('#entries-body tr[data-key="K9"] td.details');
    expect(await k9.innerText()).toBe("firstName = Nine  (column 'Name')\ncompany = —  (blank cell kept: Quo's value stays (blanks: keep))");

    // A mapping's words are searchable: the link's change and its explained row.
    await page.selectOption("#filter", "");
    await page.fill("#search", "first part of");
    await expect.poll(() => page.locator("#entries-body tr:visible td.kind").allInnerTexts()).toEqual(["link", "row: link"]);
    expect(await page.locator("img").count()).toBe(0);
    expect(watch.dialogs).toEqual([]);
    expect(watch.requests).toEqual([pathToFileURL(file).href]);
    expect(watch.errors).toEqual([]);
    await page.close();
  });
});

describe("the html page of a 100,000-change plan", () => {
  const N = 100_000;
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-html-"));
  const file = path.join(dir, "big.html");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`draws at most ${ROW_CAP} rows, says how many more, and search still finds any key`, async () => {
    const html = renderHtml([largeReport(N)]);
    writeFileSync(file, html);
    const total = htmlData(html).entries.length;
    const { page, watch } = await open(file);
    const rows = page.locator("#entries-body tr");
    await expect.poll(() => rows.count()).toBe(ROW_CAP);
    expect(await page.locator("#more").innerText()).toBe(`${(total - ROW_CAP).toLocaleString("en-US")} more — refine the search or the filter to see them`);

    await page.fill("#search", "K99998");
    await expect.poll(() => visibleKeys(page)).toEqual(["K99998"]);
    expect(await page.locator("#more").innerText()).toBe("");

    await page.fill("#search", "");
    await page.selectOption("#filter", "rejected");
    await expect.poll(() => page.locator("#shown").innerText()).toBe(`showing ${ROW_CAP} of ${(N / 100).toLocaleString("en-US")} matching`);

    await page.selectOption("#filter", "link");
    await expect.poll(() => page.locator("#shown").innerText()).toBe(`showing ${ROW_CAP} of ${(N / 5).toLocaleString("en-US")} matching`);
    expect(await page.locator("#entries-body tr td.details").first().innerText()).toMatch(/^matched by phone \+14152000003\n/);
    expect(watch.errors).toEqual([]);
    await page.close();
  });
});
