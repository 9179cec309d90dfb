/**
 * The scheduler with a stand-in run function (the real one is exercised end to end in
 * test/integration/daemon.test.ts) and a real SQLite state file in a temp dir.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig, type LoadedConfig } from "../../src/config.js";
import { DaemonMetrics } from "../../src/daemon/metrics.js";
import { Scheduler, type RunFn } from "../../src/daemon/scheduler.js";
import { createLogger } from "../../src/log.js";
import { QuoClients } from "../../src/quo/clients.js";
import type { SyncReport } from "../../src/report/report.js";
import type { RunDeps } from "../../src/run.js";
import { LockBusy } from "../../src/state/lock.js";
import { SourceError } from "../../src/errors.js";
import { openStore, type StateStore } from "../../src/state/store.js";

let dir: string;
let loaded: LoadedConfig;
const logger = createLogger({ LOG_LEVEL: "silent" }, { pretty: false });
const SYNC = { index: 0, name: "leads", schedule: "0 0 1 1 *" };

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-sched-"));
  loaded = {
    config: parseConfig({ state: path.join(dir, "state.db"), syncs: [{ name: "leads", source: { type: "csv", path: "c.csv" }, key: "id", fields: { firstName: "First" }, schedule: SYNC.schedule }] }),
    file: path.join(dir, "config.json"),
    baseDir: dir,
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function report(outcome: SyncReport["outcome"], counts: Partial<SyncReport["counts"]> = {}): SyncReport {
  return { sync: "leads", dryRun: false, outcome, counts: { create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 0, failed: 0, skipped: 0, filtered: 0, ...counts }, changes: [], rejected: [], filtered: [], skipped: [], guards: [] };
}

function make(run: RunFn) {
  const clients = new QuoClients({ config: loaded.config, env: { QUO_API_KEY: "unit-test-key", QUO_BASE_URL: "http://127.0.0.1:9" } });
  const metrics = new DaemonMetrics(["leads"], () => clients.stats(["default"]));
  const scheduler = new Scheduler({ loaded, env: {}, logger, clients, metrics, syncs: [SYNC], describe: (e) => (e instanceof Error ? e.message : String(e)), run });
  return { metrics, scheduler };
}

async function series(metrics: DaemonMetrics, name: string): Promise<number> {
  const line = (await metrics.render()).split("\n").find((l) => l.startsWith(name + " "));
  return line ? Number(line.slice(name.length + 1)) : NaN;
}

/** A promise and the function that resolves it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

describe("Scheduler.runNow", () => {
  it("runs each sync once as a tick: a real run, counted, and a tick while it is busy is skipped", async () => {
    const g = gate();
    const seen: { index: number; dryRun: boolean; allowDeletes: boolean }[] = [];
    const { scheduler, metrics } = make(async (_deps, index, opts) => {
      seen.push({ index, dryRun: opts.dryRun, allowDeletes: opts.allowDeletes });
      await g.wait;
      return report("ok", { create: 2 });
    });
    await scheduler.start();
    const now = scheduler.runNow();
    expect(scheduler.busy()).toEqual(["leads"]);
    await scheduler.tick(SYNC);
    g.open();
    await now;
    expect(seen).toEqual([{ index: 0, dryRun: false, allowDeletes: false }]);
    expect(await series(metrics, 'quo_sync_runs_total{sync="leads",outcome="ok"}')).toBe(1);
    expect(await series(metrics, 'quo_sync_ticks_skipped_total{sync="leads",reason="busy"}')).toBe(1);
    expect(scheduler.health().syncs[0]).toMatchObject({ lastOutcome: "ok", running: false });
    await scheduler.stop(1000);
  });
});

describe("Scheduler.tick", () => {
  it("skips and counts a tick while the previous run is busy", async () => {
    const g = gate();
    let calls = 0;
    const { scheduler, metrics } = make(async () => {
      calls++;
      await g.wait;
      return report("ok", { create: 3 });
    });
    const first = scheduler.tick(SYNC);
    await scheduler.tick(SYNC);
    await scheduler.tick(SYNC);
    expect(calls).toBe(1);
    expect(scheduler.health().syncs[0]!.running).toBe(true);
    g.open();
    await first;
    expect(await series(metrics, 'quo_sync_ticks_skipped_total{sync="leads",reason="busy"}')).toBe(2);
    expect(await series(metrics, 'quo_sync_runs_total{sync="leads",outcome="skipped"}')).toBe(2);
    expect(await series(metrics, 'quo_sync_runs_total{sync="leads",outcome="ok"}')).toBe(1);
    expect(await series(metrics, 'quo_sync_writes_total{sync="leads",kind="create"}')).toBe(3);
    expect(scheduler.health().syncs[0]).toMatchObject({ running: false, lastOutcome: "ok" });
  });

  it("a failing run is counted, kept for /healthz, recorded for status, and the next tick runs again", async () => {
    let n = 0;
    const { scheduler, metrics } = make(async () => {
      if (++n === 1) throw new SourceError("cannot read c.csv: ENOENT");
      return report("ok");
    });
    await scheduler.tick(SYNC);
    expect(scheduler.health().syncs[0]).toMatchObject({ lastOutcome: "failed", lastError: "cannot read c.csv: ENOENT" });
    expect(await series(metrics, 'quo_sync_runs_total{sync="leads",outcome="failed"}')).toBe(1);
    const store = await openStore(path.join(dir, "state.db"), { readonly: true });
    expect(await store.recentRuns({ sync: "leads", limit: 5 })).toEqual([expect.objectContaining({ outcome: "failed", error: "cannot read c.csv: ENOENT" })]);
    await store.close();

    await scheduler.tick(SYNC);
    expect(scheduler.health().syncs[0]).toMatchObject({ lastOutcome: "ok" });
    expect(scheduler.health().syncs[0]!.lastError).toBeUndefined();
  });

  it("does not record a failure twice when the run already recorded it", async () => {
    const { scheduler } = make(async (deps: RunDeps) => {
      const store = await openStore(path.join(deps.loaded.baseDir, "state.db"));
      const id = await store.startRun("leads", Date.now());
      await store.finishRun(id, "failed", Date.now(), undefined, "Quo said 401");
      await store.close();
      throw new Error("Quo said 401");
    });
    await scheduler.tick(SYNC);
    const store = await openStore(path.join(dir, "state.db"), { readonly: true });
    expect(await store.recentRuns({ sync: "leads", limit: 5 })).toHaveLength(1);
    await store.close();
  });

  it("skips a tick when another process holds the lock, and says who", async () => {
    const { scheduler, metrics } = make(async () => {
      throw new LockBusy("leads", { owner: "o", host: "other-host", pid: 4242, acquiredAt: 0, heartbeatAt: 0 });
    });
    await scheduler.tick(SYNC);
    expect(await series(metrics, 'quo_sync_ticks_skipped_total{sync="leads",reason="locked"}')).toBe(1);
    expect(await series(metrics, 'quo_sync_runs_total{sync="leads",outcome="failed"}')).toBe(0);
    expect(await series(metrics, 'quo_sync_running{sync="leads"}')).toBe(0);
    expect(scheduler.health().syncs[0]).toMatchObject({ lastOutcome: null, running: false });
  });
});

describe("Scheduler.stop", () => {
  it("aborts the signal the run was given, waits for it, then ignores later ticks", async () => {
    let seen: AbortSignal | undefined;
    let calls = 0;
    const { scheduler, metrics } = make(async (deps) => {
      calls++;
      seen = deps.signal;
      await new Promise<void>((r) => deps.signal!.addEventListener("abort", () => setTimeout(r, 20)));
      return report("interrupted", { create: 1 });
    });
    await scheduler.start();
    const running = scheduler.tick(SYNC);
    expect(scheduler.busy()).toEqual(["leads"]);
    expect(await scheduler.stop(5_000)).toBe(true);
    await running;
    expect(seen?.aborted).toBe(true);
    expect(scheduler.health().status).toBe("stopping");
    expect(await series(metrics, 'quo_sync_runs_total{sync="leads",outcome="interrupted"}')).toBe(1);
    await scheduler.tick(SYNC);
    expect(calls).toBe(1);
  });

  it("gives up after the bound when a run does not end", async () => {
    const g = gate();
    const { scheduler } = make(async () => {
      await g.wait;
      return report("ok");
    });
    void scheduler.tick(SYNC);
    const t = Date.now();
    expect(await scheduler.stop(100)).toBe(false);
    expect(Date.now() - t).toBeLessThan(2_000);
    expect(scheduler.busy()).toEqual(["leads"]);
    g.open();
  });
});

describe("Scheduler.start", () => {
  it("reports the last outcome and last success found in the state database", async () => {
    const store = await openStore(path.join(dir, "state.db"));
    const ok = await store.startRun("leads", 1_000);
    await store.finishRun(ok, "ok", 2_000, { create: 1 });
    const bad = await store.startRun("leads", 3_000);
    await store.finishRun(bad, "interrupted", 4_000, { create: 0 }, "stopped by a signal");
    await store.close();
    const { scheduler, metrics } = make(async () => report("ok"));
    await scheduler.start();
    const h = scheduler.health();
    expect(h.status).toBe("ok");
    expect(h.syncs[0]).toMatchObject({ name: "leads", schedule: SYNC.schedule, lastOutcome: "interrupted", lastRunAt: new Date(4_000).toISOString(), lastSuccessAt: new Date(2_000).toISOString(), lastError: "stopped by a signal" });
    expect(h.syncs[0]!.nextRunAt).not.toBeNull();
    expect(await series(metrics, 'quo_sync_last_success_timestamp_seconds{sync="leads"}')).toBe(2);
    await scheduler.stop(1_000);
  });
});
