/**
 * Freshness on the console's pages: ConsoleViews reads it from a real SQLite state (the last
 * completed run's end and its report's newest source change), the pages render "checked" and
 * "newest change applied" with their age and time, and the runs table names every trigger.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig, type LoadedConfig } from "../../src/config.js";
import { overviewPage, syncPage } from "../../src/console/pages.js";
import { ConsoleViews, type ConsoleScheduler } from "../../src/console/views.js";
import type { SyncReport } from "../../src/report/report.js";
import { openStore, type StateStore } from "../../src/state/store.js";

const NOW = Date.parse("2026-12-07T10:00:00Z");
const viewer = { csrf: "csrf-token" };
/** The console's needs of a scheduler with no run in progress and no schedule known. */
const idle: ConsoleScheduler = { health: () => ({ status: "ok", syncs: [] }), progress: () => null };

let dir: string;
let store: StateStore;
let loaded: LoadedConfig;

const report = (extra: Partial<SyncReport> = {}): SyncReport => ({
  sync: "leads",
  dryRun: false,
  outcome: "ok",
  counts: { create: 0, update: 1, delete: 0, link: 0, unlink: 0, unchanged: 3, rejected: 0, failed: 0, skipped: 0, filtered: 0 },
  changes: [],
  rejected: [],
  filtered: [],
  skipped: [],
  guards: [],
  ...extra,
});

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-console-fresh-"));
  loaded = {
    config: parseConfig({
      state: path.join(dir, "state.db"),
      syncs: [
        { name: "leads", source: { type: "csv", path: "leads.csv" }, key: "id", fields: { firstName: "First" }, schedule: "0 0 1 1 *" },
        { name: "sheet", source: { type: "google-sheets", spreadsheetId: "1AbC", range: "A:C", credentials: "key.json" }, key: "id", fields: { firstName: "First" } },
      ],
    }),
    file: path.join(dir, "config.json"),
    baseDir: dir,
  };
  store = await openStore(path.join(dir, "state.db"));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(sync: string, endedAt: number, outcome: "ok" | "failed", trigger: "schedule" | "manual" | "webhook" | "watch", sourceChangedAt?: string | null): Promise<number> {
  const id = await store.startRun(sync, endedAt - 1000, trigger);
  await store.finishRun(id, outcome, endedAt, report().counts, outcome === "failed" ? "boom" : undefined, outcome === "ok" ? report({ sync, ...(sourceChangedAt !== undefined ? { sourceChangedAt } : {}) }) : undefined);
  return id;
}

describe("freshness on the console", () => {
  it("overview and sync page: checked and newest change applied, with age and time; runs labelled by trigger", async () => {
    await run("leads", NOW - 20 * 60_000, "ok", "schedule", "2026-12-07T09:20:00.000Z");
    await run("leads", NOW - 5 * 60_000, "ok", "watch", "2026-12-07T09:57:00.000Z");
    await run("leads", NOW - 60_000, "failed", "webhook");
    await run("leads", NOW - 30_000, "ok", "manual", "2026-12-07T09:57:00.000Z");
    await run("sheet", NOW - 2 * 3_600_000, "ok", "manual", null);
    const views = new ConsoleViews(loaded, store, idle, () => NOW);

    const overview = await views.overview();
    expect(overview.map((s) => s.freshness)).toEqual([
      { checkedAt: NOW - 30_000, sourceChangedAt: Date.parse("2026-12-07T09:57:00.000Z"), at: NOW },
      { checkedAt: NOW - 2 * 3_600_000, sourceChangedAt: null, at: NOW },
    ]);
    const page = overviewPage(viewer, overview);
    expect(page).toMatch(/<dd data-field="checked">30 s ago \(2026-12-07 09:59:30Z\)<\/dd>/);
    expect(page).toMatch(/<dd data-field="source-changed">3 min ago \(2026-12-07 09:57:00Z\)<\/dd>/);
    expect(page).toContain('<dd data-field="checked">2 h ago (2026-12-07 08:00:00Z)</dd>');
    expect(page).toContain("not known for this source");

    const detail = await views.detail("leads");
    const html = syncPage(viewer, detail!);
    expect(html).toContain("newest change applied");
    expect(html).toMatch(/data-field="source-changed">3 min ago/);
    for (const [trigger, label] of [["schedule", "schedule"], ["watch", "file changed (watch)"], ["webhook", "webhook"], ["manual", "manual"]]) {
      expect(html).toContain(`<td data-trigger="${trigger}">${label}</td>`);
    }
  });

  it("before any completed run, and for runs recorded before triggers were kept", async () => {
    const id = await store.startRun("leads", NOW - 10_000);
    await store.finishRun(id, "failed", NOW - 9_000, undefined, "boom");
    const views = new ConsoleViews(loaded, store, idle, () => NOW);
    const detail = await views.detail("leads");
    expect(detail!.freshness).toEqual({ checkedAt: null, sourceChangedAt: null, at: NOW });
    const html = syncPage(viewer, detail!);
    expect(html).toMatch(/data-field="checked"><span class="muted">no completed run yet/);
    expect(html).toContain('<td data-trigger="">—</td>');
  });

  it("a sync failing for longer than the runs the overview reads still shows its last completed run", async () => {
    await run("leads", NOW - 3_600_000, "ok", "schedule", "2026-12-07T08:30:00.000Z");
    for (let i = 30; i > 0; i--) await run("leads", NOW - i * 60_000, "failed", "schedule");
    const [leads] = await new ConsoleViews(loaded, store, idle, () => NOW).overview();
    expect(leads!.freshness).toEqual({ checkedAt: NOW - 3_600_000, sourceChangedAt: Date.parse("2026-12-07T08:30:00.000Z"), at: NOW });
  });

  it("reads a completed run's report once, and the next completed run's when there is one", async () => {
    await run("leads", NOW - 60_000, "ok", "schedule", "2026-12-07T09:00:00.000Z");
    let reads = 0;
    const counting = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === "runReport") return (id: number) => (reads++, target.runReport(id));
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const views = new ConsoleViews(loaded, counting, idle, () => NOW);
    await views.overview();
    await views.overview();
    expect(reads).toBe(1);
    await run("leads", NOW - 1000, "ok", "watch", "2026-12-07T09:59:00.000Z");
    const [leads] = await views.overview();
    expect(reads).toBe(2);
    expect(leads!.freshness.sourceChangedAt).toBe(Date.parse("2026-12-07T09:59:00.000Z"));
  });
});
