/**
 * What the console reads and asks: the scheduler's `request` (the same bookkeeping as a tick,
 * trigger manual, for on-request syncs too), `preview` and `progress`, with a stand-in run
 * function; and `ConsoleViews` over a real SQLite state (since when a key is rejected, the last
 * report, the lock holder).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig, type LoadedConfig } from "../../src/config.js";
import { ConsoleViews, describeSource } from "../../src/console/views.js";
import { DaemonMetrics } from "../../src/daemon/metrics.js";
import { Scheduler, type RunFn } from "../../src/daemon/scheduler.js";
import { createLogger } from "../../src/log.js";
import type { Rejection } from "../../src/model.js";
import { QuoClients } from "../../src/quo/clients.js";
import { storedReport, type SyncReport } from "../../src/report/report.js";
import { openStore, type StateStore } from "../../src/state/store.js";

const logger = createLogger({ LOG_LEVEL: "silent" }, { pretty: false });
let dir: string;
let loaded: LoadedConfig;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-console-sched-"));
  loaded = {
    config: parseConfig({
      state: path.join(dir, "state.db"),
      syncs: [
        { name: "leads", source: { type: "csv", path: "/srv/private/leads.csv" }, key: "id", fields: { firstName: "First" }, schedule: "0 0 1 1 *" },
        { name: "sheet", source: { type: "google-sheets", spreadsheetId: "1AbC", range: "Sheet1", credentials: "/etc/secret/sa.json" }, key: "id", fields: { firstName: "First" } },
      ],
    }),
    file: path.join(dir, "config.json"),
    baseDir: dir,
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function report(sync: string, counts: Partial<SyncReport["counts"]> = {}, extra: Partial<SyncReport> = {}): SyncReport {
  return { sync, dryRun: false, outcome: "ok", counts: { create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 0, failed: 0, skipped: 0, filtered: 0, ...counts }, changes: [], rejected: [], filtered: [], skipped: [], guards: [], ...extra };
}

function make(run: RunFn) {
  const clients = new QuoClients({ config: loaded.config, env: { QUO_API_KEY: "unit-test-key", QUO_BASE_URL: "http://127.0.0.1:9" } });
  const metrics = new DaemonMetrics(["leads"], () => ({}));
  const scheduler = new Scheduler({ loaded, env: {}, logger, clients, metrics, syncs: [{ index: 0, name: "leads", schedule: "0 0 1 1 *" }], onRequestOnly: [{ index: 1, name: "sheet" }], describe: String, run });
  return { scheduler, metrics };
}

async function series(metrics: DaemonMetrics, name: string): Promise<number> {
  const line = (await metrics.render()).split("\n").find((l) => l.startsWith(name + " "));
  return line ? Number(line.slice(name.length + 1)) : NaN;
}

describe("Scheduler.request", () => {
  it("runs a sync as a manual run with the tick's bookkeeping, shows its progress, and refuses a second one while it runs", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: { index: number; trigger: unknown; allowDeletes: boolean; dryRun: boolean }[] = [];
    const { scheduler, metrics } = make(async (deps, index, opts) => {
      seen.push({ index, trigger: opts.trigger, allowDeletes: opts.allowDeletes, dryRun: opts.dryRun });
      if (opts.dryRun) return report("leads", {}, { dryRun: true, outcome: "planned" });
      deps.onProgress?.(3, 10);
      await gate;
      return report(loaded.config.syncs[index]!.name, { update: 10 });
    });
    await scheduler.start();
    expect(scheduler.request("nope", { allowDeletes: false })).toEqual({ started: false, why: "unknown" });
    const r = scheduler.request("leads", { allowDeletes: true });
    expect(r.started).toBe(true);
    expect(scheduler.progress("leads")).toMatchObject({ trigger: "manual", done: 3, total: 10 });
    expect(scheduler.request("leads", { allowDeletes: false })).toEqual({ started: false, why: "busy" });
    // A scheduled tick meanwhile is skipped as busy, as for any run in progress.
    await scheduler.tick({ index: 0, name: "leads", schedule: "0 0 1 1 *" });
    // A preview runs beside it: no lock, nothing recorded; two asked at once share one dry run.
    const [p1, p2] = await Promise.all([scheduler.preview("leads"), scheduler.preview("leads")]);
    expect(p1.dryRun && p1 === p2).toBe(true);
    // The on-request sync runs too.
    const other = scheduler.request("sheet", { allowDeletes: false });
    release();
    if (r.started) await r.done;
    if (other.started) await other.done;
    expect(scheduler.progress("leads")).toBeNull();
    expect(seen).toEqual([
      { index: 0, trigger: "manual", allowDeletes: true, dryRun: false },
      { index: 0, trigger: "manual", allowDeletes: false, dryRun: true },
      { index: 1, trigger: "manual", allowDeletes: false, dryRun: false },
    ]);
    expect(await series(metrics, 'quo_sync_runs_total{sync="leads",outcome="ok"}')).toBe(1);
    expect(await series(metrics, 'quo_sync_ticks_skipped_total{sync="leads",reason="busy"}')).toBe(1);
    expect(scheduler.health().syncs.map((s) => s.name)).toEqual(["leads"]);
    await scheduler.stop(1000);
    expect(scheduler.request("leads", { allowDeletes: false })).toEqual({ started: false, why: "stopping" });
    await expect(scheduler.preview("nope")).rejects.toThrow("there is no sync named 'nope'");
  });
});

describe("ConsoleViews", () => {
  let store: StateStore;
  beforeEach(async () => {
    store = await openStore(path.join(dir, "state.db"));
  });
  afterEach(async () => store.close());

  async function recordRun(at: number, outcome: "ok" | "failed" | "refused", rejected: Rejection[], r?: SyncReport): Promise<number> {
    const id = await store.startRun("leads", at, "schedule");
    await store.finishRun(id, outcome, at + 1000, outcome === "failed" ? undefined : { rejected: rejected.length }, outcome === "failed" ? "source down" : undefined, r ? storedReport(r) : undefined);
    await store.addRejections(id, rejected);
    return id;
  }

  it("dates each rejected key from the oldest run of its unbroken series, skipping failed runs", async () => {
    const a: Rejection = { key: "A", row: 2, field: "Email", value: "x@@y", reason: "bad email" };
    const b: Rejection = { key: "B", row: 3, reason: "no first name" };
    await recordRun(1000, "ok", [a]); // A, then broken by the next run
    await recordRun(10_000, "ok", []);
    await recordRun(20_000, "ok", [a]); // A's series starts here
    await recordRun(30_000, "failed", []); // read nothing: neither extends nor breaks
    await recordRun(40_000, "ok", [a, b], report("leads", { rejected: 2 }, { drift: [{ key: "A", quoId: "CT1", kind: "edited", fields: {} }] as SyncReport["drift"] }));
    const views = new ConsoleViews(loaded, store, { health: () => ({ status: "ok", syncs: [] }), progress: () => null });
    const d = await views.detail("leads");
    expect(d?.rejected.map((r) => [r.key, r.since])).toEqual([
      ["A", 20_000],
      ["B", 40_000],
    ]);
    expect(d?.openRejected).toBe(2);
    expect(d?.drift).toBe(1);
    expect(d?.lastReport?.run.startedAt).toBe(40_000);
    expect(d?.runs.map((r) => r.outcome)).toEqual(["ok", "failed", "ok", "ok", "ok"]);
    expect(await views.detail("nope")).toBeNull();
    expect(await views.run(999)).toBeNull();
    const overview = await views.overview();
    expect(overview.map((s) => [s.name, s.schedule, s.lastRun?.outcome ?? null])).toEqual([
      ["leads", "0 0 1 1 *", "ok"],
      ["sheet", null, null],
    ]);
  });

  it("describes a source without paths to folders or credentials", () => {
    expect(describeSource(loaded.config.syncs[0]!)).toBe("CSV leads.csv");
    expect(describeSource(loaded.config.syncs[1]!)).toBe("Google Sheets 1AbC (Sheet1)");
  });
});
