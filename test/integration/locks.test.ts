/**
 * The run lock against real processes: a paused run keeps its lock however long it sleeps, and a
 * run whose lock was taken over stops writing and says so.
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { QuoClient } from "../../src/quo/client.js";
import { runSync } from "../../src/run.js";
import { openStore, type StateStore } from "../../src/state/store.js";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { ENGINES } from "./engines.js";
import { API_KEY, Workspace, cliEnv, compareWithSource, personRow, runCli, startCli, useQuoEmulator, writes } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const waitFor = async (cond: () => boolean, ms = 30_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("run lock", () => {
  it("a run paused (SIGSTOP) long past the stale time keeps its lock; a second run is refused; the first resumes and ends exact", async () => {
    const rows = Array.from({ length: 60 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig();
    emulator.setLatency(30);
    const args = ["sync", "--config", ws.config, "--format", "json"];
    const first = startCli(args, cliEnv(emulator), ws.dir);
    await waitFor(() => writes(emulator) >= 5);
    const db = new Database(ws.state);
    try {
      // As if it had slept an hour: the heartbeat is far older than the stale time. A process
      // stopped inside one of its short transactions holds the write lock, so stop it again until
      // it is caught between two.
      for (let attempt = 0; ; attempt++) {
        first.child.kill("SIGSTOP");
        try {
          db.prepare("UPDATE locks SET heartbeat_at = heartbeat_at - 3600000").run();
          break;
        } catch (e) {
          if (attempt > 50 || !String(e).includes("locked")) throw e;
          first.child.kill("SIGCONT");
          await new Promise((r) => setTimeout(r, 3));
        }
      }
      const second = await runCli(args, cliEnv(emulator), ws.dir);
      expect(second.status).toBe(1);
      expect(second.stderr).toContain(`sync 'leads' is already running (pid ${first.child.pid}`);
    } finally {
      db.close();
      first.child.kill("SIGCONT");
    }
    const r = await first.done;
    expect(r.status, r.stderr).toBe(0);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
    expect(emulator.stats().writesApplied).toEqual({ create: 60, update: 0, delete: 0 });
  });

});

describe.each(ENGINES)("run lock taken over (%s state)", (_name, fx) => {
  it("a run whose lock is taken over stops before its next write and is recorded as interrupted", async () => {
    const rows = Array.from({ length: 200 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig({}, { quo: { requestsPerSecond: 100 } });
    emulator.setLatency(20);
    const loaded = loadConfig(ws.config);
    const client = new QuoClient({ baseUrl: emulator.url, apiKey: API_KEY, requestsPerSecond: 1000 });
    const url = fx.engine === "postgres" ? await fx.fresh() : undefined;
    const env: Record<string, string> = url ? { QUO_SYNC_DATABASE_URL: url } : {};
    const deps = { loaded, env, logger: createLogger({ LOG_LEVEL: "silent" }, { pretty: false }), client, lockTiming: { heartbeatMs: 20 } };
    const running = runSync(deps, 0, { dryRun: false, allowDeletes: false });

    await waitFor(() => writes(emulator) >= 10);
    // Another host judged the lock stale and took it.
    const other = await openStore(url ?? ws.state);
    expect((await other.tryLock("leads", { owner: "elsewhere", host: "another-host", pid: 1 }, Date.now() + 1, () => true)).ok).toBe(true);
    const atTakeover = writes(emulator);
    const report = await running;
    expect(report.outcome).toBe("interrupted");
    // Only writes already in flight (at most the write concurrency) and those started before the
    // next heartbeat land after the takeover; the run did not go on to the end.
    expect(writes(emulator)).toBeLessThan(200);
    expect(writes(emulator) - atTakeover).toBeLessThan(60);
    const [run] = await other.recentRuns({ sync: "leads", limit: 1 });
    expect(run).toMatchObject({ outcome: "interrupted", error: "the run lock of sync 'leads' was taken over by another process" });
    expect((await other.lockHolder("leads"))?.owner).toBe("elsewhere");

    // The other holder finishes; the next run converges with no duplicate.
    await other.unlock("leads", "elsewhere");
    await other.close();
    emulator.setLatency(0);
    const again = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator, env), ws.dir);
    expect(again.status, again.stderr).toBe(0);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
  });});
