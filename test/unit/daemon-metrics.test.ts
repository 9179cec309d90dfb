import { afterEach, describe, expect, it } from "vitest";
import { startHealthServer, type HealthBody, type HealthServer } from "../../src/daemon/health-server.js";
import { DaemonMetrics } from "../../src/daemon/metrics.js";
import type { QuoClientStats } from "../../src/quo/client.js";
import type { SyncReport } from "../../src/report/report.js";

const stats: QuoClientStats = { requests: 0, retries: 0, rateLimited: 0, serverErrors: 0, networkErrors: 0 };

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const report = (outcome: SyncReport["outcome"], counts: Partial<SyncReport["counts"]>): SyncReport => ({
  sync: "a",
  dryRun: false,
  outcome,
  counts: { create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 0, failed: 0, skipped: 0, filtered: 0, ...counts },
  changes: [],
  rejected: [],
  filtered: [],
  skipped: [],
  guards: [],
});

describe("DaemonMetrics", () => {
  it("exposes every series at zero before the first run", async () => {
    const text = await new DaemonMetrics(["a", "b"], () => ({ default: stats })).render();
    for (const outcome of ["ok", "failed", "refused", "interrupted", "skipped"]) expect(value(text, `quo_sync_runs_total{sync="b",outcome="${outcome}"}`)).toBe(0);
    for (const kind of ["create", "update", "delete", "link", "unlink"]) expect(value(text, `quo_sync_writes_total{sync="a",kind="${kind}"}`)).toBe(0);
    expect(value(text, 'quo_sync_quo_rate_limited_total{workspace="default"}')).toBe(0);
    // A fresh registry each time: two daemons in one process do not collide.
    expect(() => new DaemonMetrics(["a"], () => ({ default: stats }))).not.toThrow();
  });

  it.each([
    ["ok", "ok", 2, 1],
    ["interrupted", "interrupted", 2, 0],
    // A refused run wrote nothing: its counts are what the plan would have done.
    ["refused", "refused", 0, 0],
  ] as const)("counts a run that ended %s", async (outcome, label, writes, successes) => {
    const m = new DaemonMetrics(["a"], () => ({ default: stats }));
    m.runStarted("a");
    m.runFinished("a", report(outcome, { create: 2, link: 2, unlink: 2, rejected: 3, failed: 1, skipped: 4, filtered: 5 }), 1500, 1_700_000_000_000);
    const text = await m.render();
    expect(value(text, `quo_sync_runs_total{sync="a",outcome="${label}"}`)).toBe(1);
    for (const kind of ["create", "link", "unlink"]) expect(value(text, `quo_sync_writes_total{sync="a",kind="${kind}"}`), kind).toBe(writes);
    expect(value(text, 'quo_sync_rejected_rows{sync="a"}')).toBe(3);
    expect(value(text, 'quo_sync_rejected_rows_total{sync="a"}')).toBe(3);
    expect(value(text, 'quo_sync_skipped_rows{sync="a"}')).toBe(4);
    expect(value(text, 'quo_sync_filtered_rows{sync="a"}')).toBe(5);
    expect(value(text, 'quo_sync_running{sync="a"}')).toBe(0);
    expect(value(text, 'quo_sync_run_duration_seconds_sum{sync="a"}')).toBe(1.5);
    expect(value(text, 'quo_sync_last_success_timestamp_seconds{sync="a"}')).toBe(successes ? 1_700_000_000 : undefined);
  });

  it("freshness: the last completed run and the newest source change applied, as timestamps; absent until known", async () => {
    const m = new DaemonMetrics(["a"], () => ({ default: stats }));
    let text = await m.render();
    expect(text).toContain("# TYPE quo_sync_source_change_applied_timestamp_seconds gauge");
    expect(text).toContain("# TYPE quo_sync_last_completed_run_timestamp_seconds gauge");
    // Not 0 (which would read as 56 years stale): no series until a time is known.
    expect(value(text, 'quo_sync_source_change_applied_timestamp_seconds{sync="a"}')).toBeUndefined();
    expect(value(text, 'quo_sync_last_completed_run_timestamp_seconds{sync="a"}')).toBeUndefined();
    m.setFreshness("a", { checkedAt: 1_700_000_000_000, sourceChangedAt: 1_699_999_000_500 });
    text = await m.render();
    expect(value(text, 'quo_sync_last_completed_run_timestamp_seconds{sync="a"}')).toBe(1_700_000_000);
    expect(value(text, 'quo_sync_source_change_applied_timestamp_seconds{sync="a"}')).toBe(1_699_999_000.5);
    // A completed run sets both from its report and its end; a refused one neither.
    m.runFinished("a", { ...report("ok", {}), sourceChangedAt: "2023-11-14T22:20:00.000Z" }, 100, 1_700_000_060_000, "watch");
    m.runFinished("a", report("refused", {}), 100, 1_700_000_120_000, "webhook");
    text = await m.render();
    expect(value(text, 'quo_sync_last_completed_run_timestamp_seconds{sync="a"}')).toBe(1_700_000_060);
    expect(value(text, 'quo_sync_source_change_applied_timestamp_seconds{sync="a"}')).toBe(Date.parse("2023-11-14T22:20:00.000Z") / 1000);
    // A completed run of a source that cannot tell (Google Sheets): the series goes away.
    m.runFinished("a", { ...report("ok", {}), sourceChangedAt: null }, 100, 1_700_000_180_000);
    text = await m.render();
    expect(value(text, 'quo_sync_source_change_applied_timestamp_seconds{sync="a"}')).toBeUndefined();
    expect(value(text, 'quo_sync_last_completed_run_timestamp_seconds{sync="a"}')).toBe(1_700_000_180);
  });

  it("counts runs by trigger and outcome beside quo_sync_runs_total, every series from the start", async () => {
    const m = new DaemonMetrics(["a"], () => ({ default: stats }));
    let text = await m.render();
    for (const trigger of ["schedule", "manual", "webhook", "watch"]) {
      for (const outcome of ["ok", "failed", "refused", "interrupted"]) expect(value(text, `quo_sync_runs_by_trigger_total{sync="a",trigger="${trigger}",outcome="${outcome}"}`)).toBe(0);
    }
    m.runFinished("a", report("ok", {}), 100, 1_700_000_000_000, "webhook");
    m.runFinished("a", report("ok", {}), 100, 1_700_000_000_000, "watch");
    m.runFinished("a", report("ok", {}), 100, 1_700_000_000_000);
    m.runFailed("a", 100, "manual");
    m.skipped("a", "busy");
    text = await m.render();
    expect(value(text, 'quo_sync_runs_by_trigger_total{sync="a",trigger="webhook",outcome="ok"}')).toBe(1);
    expect(value(text, 'quo_sync_runs_by_trigger_total{sync="a",trigger="watch",outcome="ok"}')).toBe(1);
    expect(value(text, 'quo_sync_runs_by_trigger_total{sync="a",trigger="schedule",outcome="ok"}')).toBe(1);
    expect(value(text, 'quo_sync_runs_by_trigger_total{sync="a",trigger="manual",outcome="failed"}')).toBe(1);
    // The existing counter is unchanged in name and labels.
    expect(value(text, 'quo_sync_runs_total{sync="a",outcome="ok"}')).toBe(3);
    expect(value(text, 'quo_sync_runs_total{sync="a",outcome="failed"}')).toBe(1);
    expect(value(text, 'quo_sync_runs_total{sync="a",outcome="skipped"}')).toBe(1);
  });

  it("adds up links and unlinks over runs, in the totals logged at shutdown too", async () => {
    const m = new DaemonMetrics(["a"], () => ({ default: stats }));
    m.runFinished("a", report("ok", { create: 1, link: 3, unlink: 1 }), 100, 1_700_000_000_000);
    m.runFinished("a", report("ok", { link: 2 }), 100, 1_700_000_060_000);
    const text = await m.render();
    expect(value(text, 'quo_sync_writes_total{sync="a",kind="link"}')).toBe(5);
    expect(value(text, 'quo_sync_writes_total{sync="a",kind="unlink"}')).toBe(1);
    expect((await m.totals()).a).toMatchObject({ ok: 2, create: 1, update: 0, delete: 0, link: 5, unlink: 1 });
  });

  it("mirrors the client's 429 and request counters as true counters", async () => {
    const live = { ...stats };
    const m = new DaemonMetrics(["a"], () => ({ default: live }));
    live.requests = 10;
    live.rateLimited = 2;
    expect(value(await m.render(), 'quo_sync_quo_rate_limited_total{workspace="default"}')).toBe(2);
    live.requests = 25;
    live.rateLimited = 5;
    const text = await m.render();
    expect(value(text, 'quo_sync_quo_rate_limited_total{workspace="default"}')).toBe(5);
    expect(value(text, 'quo_sync_quo_requests_total{workspace="default"}')).toBe(25);
  });

  it("labels each workspace's client counters with its workspace, from zero before its first request", async () => {
    const west = { ...stats };
    const east = { ...stats };
    const m = new DaemonMetrics(["a", "b"], () => ({ west, east }));
    let text = await m.render();
    for (const w of ["west", "east"]) {
      for (const name of ["requests", "retries", "rate_limited", "server_errors"]) expect(value(text, `quo_sync_quo_${name}_total{workspace="${w}"}`), `${name} ${w}`).toBe(0);
    }
    west.requests = 7;
    east.requests = 3;
    east.rateLimited = 1;
    text = await m.render();
    expect(value(text, 'quo_sync_quo_requests_total{workspace="west"}')).toBe(7);
    expect(value(text, 'quo_sync_quo_requests_total{workspace="east"}')).toBe(3);
    expect(value(text, 'quo_sync_quo_rate_limited_total{workspace="west"}')).toBe(0);
    expect(value(text, 'quo_sync_quo_rate_limited_total{workspace="east"}')).toBe(1);
    expect(value(text, "quo_sync_quo_requests_total")).toBeUndefined();
  });
});

describe("startHealthServer", () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("serves /healthz (200, then 503 once stopping) and /metrics; 404 elsewhere", async () => {
    const body: HealthBody = { status: "ok", syncs: [{ name: "a", schedule: "* * * * *", lastOutcome: null, lastRunAt: null, lastSuccessAt: null, running: false, nextRunAt: null }] };
    const metrics = new DaemonMetrics(["a"], () => ({ default: stats }));
    server = await startHealthServer({ host: "127.0.0.1", port: 0 }, { health: () => body, metrics: () => metrics.render(), metricsContentType: metrics.contentType });
    const base = `http://127.0.0.1:${server.address.port}`;
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual(body);
    const m = await fetch(`${base}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get("content-type")).toContain("text/plain");
    expect(await m.text()).toContain('quo_sync_runs_total{sync="a",outcome="ok"} 0');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: "POST" })).status).toBe(405);
    body.status = "stopping";
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
  });

  it("rejects an address it cannot bind", async () => {
    server = await startHealthServer({ host: "127.0.0.1", port: 0 }, { health: () => ({ status: "ok", syncs: [] }), metrics: async () => "", metricsContentType: "text/plain" });
    await expect(startHealthServer({ host: "127.0.0.1", port: server.address.port }, { health: () => ({ status: "ok", syncs: [] }), metrics: async () => "", metricsContentType: "text/plain" })).rejects.toThrow(/EADDRINUSE/);
  });
});
