/**
 * The daemon end to end: the built CLI on per-second schedules against the Quo emulator on
 * 127.0.0.1, a real SQLite state file, real signals. Waits poll for outcomes rather than sleeping
 * for fixed times, so the file stays fast on a quiet machine and correct on a busy one.
 */
import { rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startQuoEmulator, type QuoEmulator } from "../emulators/quo-emulator.js";
import { spawnDaemon, getJson, metric, stop, until, type Daemon } from "./daemons.js";
import { HEADER, Workspace, cliEnv, compareWithSource, personRow, runCli, toCsv, writes, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const EVERY_SECOND = "*/1 * * * * *";

interface SyncSpec {
  name: string;
  csv: string;
  schedule?: string;
  workspace?: string;
}

/** A config with several CSV syncs, each with its own file in the workspace. */
function writeConfig(syncs: readonly SyncSpec[], top: Record<string, unknown> = {}): void {
  const config = {
    state: ws.state,
    ...top,
    syncs: syncs.map((s) => ({
      name: s.name,
      source: { type: "csv", path: s.csv },
      key: "id",
      fields: { firstName: "First Name", lastName: "Last Name", company: "Company", phoneNumbers: { mobile: "Phone", work: "Work Phone" }, emails: { work: "Email" } },
      defaultCountry: "US",
      deletes: "mirror",
      maxDeletePercent: 50,
      ...(s.schedule ? { schedule: s.schedule } : {}),
      ...(s.workspace ? { workspace: s.workspace } : {}),
    })),
  };
  writeFileSync(ws.config, JSON.stringify(config, null, 2));
}

function writeRows(file: string, rows: readonly string[][]): void {
  writeFileSync(path.join(ws.dir, file), toCsv([HEADER, ...rows]));
}

/** Rows whose keys are distinct per sync, so two syncs never share a phone number. */
function rowsFor(offset: number, n: number, edit = 0): string[][] {
  return Array.from({ length: n }, (_, i) => personRow(offset + i + 1, edit));
}

function startDaemon(extra: string[] = [], env: NodeJS.ProcessEnv = cliEnv(emulator, { LOG_LEVEL: "debug" })): Daemon {
  return spawnDaemon(ws.config, ws.dir, env, extra);
}

async function raw(base: string, data: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    let text = "";
    const s = connect(Number(port), hostname, () => s.write(data));
    s.on("data", (d: Buffer) => (text += d.toString("latin1")));
    s.on("error", reject);
    s.on("close", () => resolve(text));
    s.setTimeout(10_000, () => s.destroy(new Error(`no close from ${base} after ${JSON.stringify(data)}`)));
  });
}

async function status(): Promise<any[]> {
  const r = await runCli(["status", "--config", ws.config, "--format", "json", "--runs", "1000"], cliEnv(emulator), ws.dir);
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}


describe("quo-sync daemon", () => {
  it("syncs on schedule, picks up a source change at the next tick, and serves /healthz and /metrics", async () => {
    let rows = rowsFor(0, 20);
    writeRows("leads.csv", rows);
    writeConfig([{ name: "leads", csv: "leads.csv", schedule: EVERY_SECOND }]);
    const d = startDaemon();
    const base = await d.url();

    await until(() => compareWithSource(emulator.contacts(), rows).length === 0, 20_000, "the first sync");
    const health = await getJson(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("ok");
    expect(health.body.syncs).toEqual([expect.objectContaining({ name: "leads", schedule: EVERY_SECOND })]);

    // The source changes under the daemon: an edit, a removal and an addition.
    rows = [...rows.slice(1).map((r, i) => (i === 0 ? personRow(2, 1) : r)), personRow(21)];
    writeRows("leads.csv", rows);
    await until(() => compareWithSource(emulator.contacts(), rows).length === 0, 20_000, "the change to reach Quo");
    await until(async () => (await getJson(`${base}/healthz`)).body.syncs[0].lastOutcome === "ok", 10_000, "an ok outcome in /healthz");
    const h2 = (await getJson(`${base}/healthz`)).body.syncs[0];
    expect(Date.parse(h2.lastSuccessAt)).toBeGreaterThan(Date.now() - 30_000);

    const okRuns = await metric(base, 'quo_sync_runs_total{sync="leads",outcome="ok"}');
    expect(okRuns).toBeGreaterThanOrEqual(2);
    expect(await metric(base, 'quo_sync_writes_total{sync="leads",kind="create"}')).toBe(21);
    expect(await metric(base, 'quo_sync_writes_total{sync="leads",kind="update"}')).toBe(1);
    expect(await metric(base, 'quo_sync_writes_total{sync="leads",kind="delete"}')).toBe(1);
    expect(await metric(base, 'quo_sync_last_success_timestamp_seconds{sync="leads"}')).toBeGreaterThan(Date.now() / 1000 - 30);
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const name of ["quo_sync_run_duration_seconds_bucket", "quo_sync_quo_rate_limited_total", "quo_sync_rejected_rows_total", "quo_sync_ticks_skipped_total", "quo_sync_writes_failed_total"]) expect(text).toContain(name);

    const r = await stop(d);
    expect(r.status).toBe(0);
    // stdout belongs to reports; the daemon writes none, and node-cron must not either.
    expect(r.stdout).toBe("");
    // Status agrees with the metrics: every run the daemon counted ok is in the database, and the
    // writes the runs recorded are the writes Quo applied.
    const [s] = await status();
    expect(s.runs.filter((x: any) => x.outcome === "ok").length).toBeGreaterThanOrEqual(okRuns);
    const recorded = s.runs.reduce((n: number, x: any) => n + (x.counts ? x.counts.create + x.counts.update + x.counts.delete : 0), 0);
    expect(recorded).toBe(writes(emulator));
    expect(emulator.stats().writesApplied).toEqual({ create: 21, update: 1, delete: 1 });
  });

  it("survives malformed HTTP requests and keeps syncing", async () => {
    let rows = rowsFor(700, 5);
    writeRows("leads.csv", rows);
    writeConfig([{ name: "leads", csv: "leads.csv", schedule: EVERY_SECOND }]);
    const d = startDaemon();
    const base = await d.url();
    for (const [request, answer] of [
      ["GET //a:b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", /^HTTP\/1\.1 404 /],
      ["GET http://[::1 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", /^HTTP\/1\.1 400 /],
      ["GET /healthz HTTP/1.1\r\nhost: x\r\nbad\x01name: v\r\n\r\n", /^HTTP\/1\.1 400 /],
      [`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
    ] as const) {
      expect(await raw(base, request)).toMatch(answer);
    }
    expect(d.child.exitCode).toBeNull();
    await until(() => compareWithSource(emulator.contacts(), rows).length === 0, 20_000, "the first sync after the malformed requests");
    rows = [...rows, personRow(706)];
    writeRows("leads.csv", rows);
    await until(() => compareWithSource(emulator.contacts(), rows).length === 0, 20_000, "a later tick to sync a change");
    expect((await getJson(`${base}/healthz`)).status).toBe(200);
    expect((await stop(d)).status).toBe(0);
  });

  it("skips a tick while the previous run is busy, and a one-shot sync of the same sync is refused or waits", async () => {
    emulator.setLatency(60);
    const rows = rowsFor(100, 60);
    writeRows("leads.csv", rows);
    // 10 requests/s: 60 creates take six ticks or more.
    writeConfig([{ name: "leads", csv: "leads.csv", schedule: EVERY_SECOND }], { quo: { requestsPerSecond: 10 } });
    const d = startDaemon();
    const base = await d.url();
    await d.waitForLog((l) => l.msg === "tick skipped: previous run still busy" && l.sync === "leads");
    expect(await metric(base, 'quo_sync_ticks_skipped_total{sync="leads",reason="busy"}')).toBeGreaterThanOrEqual(1);
    expect((await getJson(`${base}/healthz`)).body.syncs[0].running).toBe(true);

    const refused = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/sync 'leads' is already running \(pid \d+ on .+\); try again when it ends, or use --wait SECONDS/);

    // With --wait the one-shot queues behind the daemon's run, never beside it.
    const waited = await runCli(["sync", "--config", ws.config, "--format", "json", "--wait", "60"], cliEnv(emulator), ws.dir);
    expect(waited.status).toBe(0);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
    expect(emulator.stats().writesApplied.create).toBe(60);

    expect((await stop(d)).status).toBe(0);
  });

  it("one sync failing does not stop the others; it is retried at its next tick and its failures are visible", async () => {
    const leads = rowsFor(200, 10);
    const crm = rowsFor(300, 5);
    writeRows("leads.csv", leads);
    writeConfig([
      { name: "leads", csv: "leads.csv", schedule: EVERY_SECOND },
      { name: "crm", csv: "crm.csv", schedule: EVERY_SECOND },
    ]);
    const d = startDaemon();
    const base = await d.url();
    await until(async () => (await metric(base, 'quo_sync_runs_total{sync="crm",outcome="failed"}')) >= 2, 20_000, "two failed crm runs");
    await until(() => compareWithSource(emulator.contacts(), leads, "leads").length === 0, 20_000, "leads to sync");

    const health = (await getJson(`${base}/healthz`)).body;
    expect(health.status).toBe("ok");
    const crmHealth = health.syncs.find((s: any) => s.name === "crm");
    expect(crmHealth.lastOutcome).toBe("failed");
    // /healthz tells the kind; the reason, which names the file, is for `status` and the logs.
    expect(crmHealth.lastErrorKind).toBe("source");
    expect(crmHealth).not.toHaveProperty("lastError");
    expect(JSON.stringify(health)).not.toContain("crm.csv");
    expect(JSON.stringify(health)).not.toContain(ws.dir);
    expect(d.logs.some((l) => l.sync === "crm" && l.level === 50 && String(l.msg).includes("retried at the next tick"))).toBe(true);
    const [, crmStatus] = await status();
    // The newest finished run (a tick may be running right now: runs are recorded from lock time).
    const finished = crmStatus.runs.filter((r: any) => r.outcome !== "running");
    expect(finished.length).toBeGreaterThanOrEqual(2);
    expect(finished[0].outcome).toBe("failed");
    expect(finished[0].error).toContain("crm.csv");

    // The source comes back: the next tick syncs it.
    writeRows("crm.csv", crm);
    await until(() => compareWithSource(emulator.contacts(), crm, "crm").length === 0, 20_000, "crm to sync once its source is back");
    await until(async () => (await getJson(`${base}/healthz`)).body.syncs.find((s: any) => s.name === "crm").lastOutcome === "ok", 10_000, "crm ok in /healthz");
    expect((await stop(d)).status).toBe(0);
    expect(compareWithSource(emulator.contacts(), leads, "leads")).toEqual([]);
  });

  it("stops cleanly on SIGTERM mid-run, records the run as interrupted, and a restart converges with no duplicate", async () => {
    emulator.setLatency(40);
    const rows = rowsFor(400, 80);
    writeRows("leads.csv", rows);
    writeConfig([{ name: "leads", csv: "leads.csv", schedule: EVERY_SECOND }], { quo: { requestsPerSecond: 20 } });
    const d = startDaemon();
    await until(() => writes(emulator) >= 10, 20_000, "the first writes");
    const stoppedAt = Date.now();
    const r = await stop(d);
    expect(r.status).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    const created = emulator.contacts().length;
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThan(80);
    expect(d.logs.some((l) => l.msg === "daemon stopped")).toBe(true);
    const [s] = await status();
    expect(s.runs[0]).toMatchObject({ outcome: "interrupted", error: "stopped by a signal" });
    expect(s.runs[0].counts.create).toBe(created);
    expect(s.runningNow).toBeNull();

    // The restart reports the last outcome it found, then finishes the job.
    const d2 = startDaemon();
    const base = await d2.url();
    const h = (await getJson(`${base}/healthz`)).body.syncs[0];
    expect(["interrupted", "ok"]).toContain(h.lastOutcome);
    await until(() => compareWithSource(emulator.contacts(), rows).length === 0, 30_000, "the restart to converge");
    expect((await stop(d2)).status).toBe(0);
    expect(emulator.stats().writesApplied.create).toBe(80);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
  });

  it("a second signal exits at once, and the next start still converges", async () => {
    const rows = rowsFor(500, 30);
    writeRows("leads.csv", rows);
    writeConfig([{ name: "leads", csv: "leads.csv", schedule: EVERY_SECOND }], { quo: { requestsPerSecond: 5 } });
    const d = startDaemon();
    await until(() => writes(emulator) >= 2, 20_000, "the first writes");
    // Slow writes keep the first stop waiting long enough for the second signal to land.
    emulator.setLatency(3000);
    await new Promise((r) => setTimeout(r, 400));
    d.child.kill("SIGTERM");
    await d.waitForLog((l) => String(l.msg).startsWith("stopping"));
    d.child.kill("SIGTERM");
    const r = await d.done;
    expect(r.status).toBe(143);
    emulator.setLatency(0);
    const again = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    expect(again.status).toBe(0);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
  });

  it("syncs of several workspaces on one API key share one throttle: Quo's per-key limit is never exceeded", async () => {
    // Quo here allows 4 requests per second per key; each workspace is configured at 4/s too. Three
    // syncs ticking together would send 12/s through three throttles of their own.
    const SHARED = "qk_shared_SECRET_8c7d";
    const limited = await startQuoEmulator({ apiKeys: [SHARED], requestsPerSecond: 4 });
    try {
      const specs = [
        { name: "home", csv: "home.csv", schedule: EVERY_SECOND, rows: rowsFor(1000, 8) },
        { name: "west", csv: "west.csv", schedule: EVERY_SECOND, workspace: "west", rows: rowsFor(1100, 8) },
        { name: "east", csv: "east.csv", schedule: EVERY_SECOND, workspace: "east", rows: rowsFor(1200, 8) },
      ];
      for (const s of specs) writeRows(s.csv, s.rows);
      writeConfig(specs, {
        quo: { requestsPerSecond: 4 },
        workspaces: { west: { apiKeyEnv: "WEST_QUO_API_KEY", baseUrl: limited.url }, east: { apiKeyEnv: "EAST_QUO_API_KEY", baseUrl: limited.url } },
      });
      const d = startDaemon([], { ...cliEnv(limited, { LOG_LEVEL: "debug" }), QUO_API_KEY: SHARED, WEST_QUO_API_KEY: SHARED, EAST_QUO_API_KEY: SHARED });
      const base = await d.url();
      await until(() => specs.every((s) => compareWithSource(limited.contacts(), s.rows, s.name).length === 0), 30_000, "the three syncs to reach Quo");
      // Each sync's first run overlapped the others': 3 × (1 look-up + 8 creates) through one throttle.
      await until(async () => (await getJson(`${base}/healthz`)).body.syncs.every((s: any) => s.lastOutcome === "ok"), 10_000, "three ok outcomes");
      const stats = limited.stats();
      expect(stats.byKey[SHARED]!.requests).toBeGreaterThanOrEqual(27);
      expect(stats.rateLimited).toBe(0);
      expect(stats.byKey[SHARED]!.rateLimited).toBe(0);

      // The per-client series are per workspace and add up to what Quo received.
      let total = 0;
      for (const w of ["default", "west", "east"]) {
        expect(await metric(base, `quo_sync_quo_rate_limited_total{workspace="${w}"}`), w).toBe(0);
        const n = await metric(base, `quo_sync_quo_requests_total{workspace="${w}"}`);
        expect(n, w).toBeGreaterThanOrEqual(9);
        total += n;
      }
      expect(total).toBe(limited.stats().byKey[SHARED]!.requests);
      // Every line about a sync names its workspace.
      for (const s of specs) {
        const ended = await d.waitForLog((l) => l.msg === "scheduled run ended" && l.sync === s.name);
        expect(ended.workspace).toBe(s.workspace ?? "default");
      }
      expect(JSON.stringify(d.logs)).not.toContain(SHARED);
      expect((await stop(d)).status).toBe(0);
      const st = JSON.parse((await runCli(["status", "--config", ws.config, "--format", "json"], cliEnv(limited, { QUO_API_KEY: SHARED }), ws.dir)).stdout);
      expect(st.map((x: any) => [x.sync, x.workspace])).toEqual([["home", "default"], ["west", "west"], ["east", "east"]]);
    } finally {
      await limited.close();
    }
  });

  it("--run-now runs every scheduled sync once at start, as a tick (recorded, under the lock), then waits for its schedule", async () => {
    const rows = rowsFor(800, 6);
    const other = rowsFor(900, 2);
    writeRows("leads.csv", rows);
    writeRows("manual.csv", other);
    // Once a year: no scheduled tick comes during the test, so what runs is the start run.
    const YEARLY = "0 0 1 1 *";
    writeConfig([
      { name: "leads", csv: "leads.csv", schedule: YEARLY },
      { name: "manual", csv: "manual.csv" },
    ]);

    const idle = startDaemon();
    await idle.waitForLog((l) => l.msg === "daemon started");
    await new Promise((r) => setTimeout(r, 1500));
    expect(emulator.stats().requests).toBe(0);
    expect((await stop(idle)).status).toBe(0);

    const d = startDaemon(["--run-now"]);
    const base = await d.url();
    await until(() => compareWithSource(emulator.contacts(), rows).length === 0, 20_000, "the start run");
    const ended = await d.waitForLog((l) => l.msg === "scheduled run ended" && l.sync === "leads");
    expect(ended.outcome).toBe("ok");
    expect(await metric(base, 'quo_sync_runs_total{sync="leads",outcome="ok"}')).toBe(1);
    const health = (await getJson(`${base}/healthz`)).body.syncs[0];
    expect(health).toMatchObject({ name: "leads", lastOutcome: "ok", running: false });
    expect(new Date(health.nextRunAt).getMonth()).toBe(0);
    expect((await stop(d)).status).toBe(0);
    // Only the scheduled sync ran; the run is in the state database like any tick's.
    expect(emulator.contacts()).toHaveLength(rows.length);
    const st = await status();
    expect(st.map((x) => [x.sync, x.runs.map((r: any) => r.outcome)])).toEqual([
      ["leads", ["ok"]],
      ["manual", []],
    ]);
  });

  it("refuses to start when a workspace's key variable is not set, naming the variable and never a key", async () => {
    writeRows("leads.csv", rowsFor(650, 3));
    writeConfig([{ name: "leads", csv: "leads.csv", schedule: EVERY_SECOND, workspace: "west" }], { workspaces: { west: { apiKeyEnv: "WEST_QUO_API_KEY", baseUrl: emulator.url } } });
    const r = await runCli(["daemon", "--config", ws.config], cliEnv(emulator), ws.dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("workspaces.west.apiKeyEnv: WEST_QUO_API_KEY is not set; it holds the Quo API key of workspace 'west'");
    expect(emulator.stats().requests).toBe(0);
    rmSync(ws.state, { force: true });
  });

  it("refuses to start when a schedule is invalid, naming the sync, before scheduling anything", async () => {
    writeRows("leads.csv", rowsFor(600, 3));
    writeConfig([
      { name: "leads", csv: "leads.csv", schedule: EVERY_SECOND },
      { name: "crm", csv: "leads.csv", schedule: "61 * * * *" },
    ]);
    const r = await runCli(["daemon", "--config", ws.config], cliEnv(emulator), ws.dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("syncs[1] (name 'crm'): schedule '61 * * * *' is not a valid cron expression");
    expect(emulator.stats().requests).toBe(0);

    writeConfig([{ name: "leads", csv: "leads.csv" }]);
    const none = await runCli(["daemon", "--config", ws.config], cliEnv(emulator), ws.dir);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain("no sync has a 'schedule'");

    writeConfig([{ name: "leads", csv: "leads.csv", schedule: EVERY_SECOND }]);
    // A bad --http is a usage error: the command line, not the deployment, is wrong.
    const badHttp = await runCli(["daemon", "--config", ws.config, "--http", "localhost"], cliEnv(emulator), ws.dir);
    expect(badHttp.status).toBe(64);
    expect(badHttp.stderr).toBe("quo-sync: option '--http <host:port>' argument 'localhost' is invalid. Give HOST:PORT, such as 127.0.0.1:9464, or :9464 for every interface; see quo-sync daemon --help\n");
    rmSync(ws.state, { force: true });
  });
});
