/**
 * The run lock against real processes: a paused run keeps its lock however long it sleeps, and a
 * run whose lock was taken over stops writing and says so; a live holder keeps its lock, a dead one
 * loses it at once when it ran in this process table, and a daemon restarted as pid 1 of a new pid
 * namespace (a restarted container: same host name, same pid) is never locked out by its own past.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { QuoClient } from "../../src/quo/client.js";
import { runSync } from "../../src/run.js";
import { acquireLock, LockBusy, parseProcStat, processTable } from "../../src/state/lock.js";
import { openStore, type StateStore } from "../../src/state/store.js";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { ENGINES } from "./engines.js";
import { queryDatabase } from "./postgres.js";
import { API_KEY, ROOT, Workspace, cliEnv, compareWithSource, personRow, runCli, startCli, useQuoEmulator, writes } from "./harness.js";

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
    // Fails at once when the write lock is held, instead of waiting while the run is stopped.
    const db = new Database(ws.state, { timeout: 0 });
    const other = await openStore(ws.state);
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
          if (attempt > 200 || !String(e).includes("locked")) throw e;
          first.child.kill("SIGCONT");
          await new Promise((r) => setTimeout(r, 3));
        }
      }
      // Another run is refused. It is asked from here, in milliseconds: a pause longer than half
      // the stale time would (rightly) make the stopped run give its lease up when it resumes.
      const second = await acquireLock(other, "leads", { waitMs: 0, now: Date.now }).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(LockBusy);
      expect((second as LockBusy).message).toContain(`sync 'leads' is already running (pid ${first.child.pid}`);
    } finally {
      db.close();
      first.child.kill("SIGCONT");
      await other.close();
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
    // Found by the heartbeat, or first by a journal write checking the lock in its transaction.
    expect(run).toMatchObject({ outcome: "interrupted", error: expect.stringMatching(/^the run lock of sync 'leads' (was taken over by another process|is no longer held by this run)/) });
    expect((await other.lockHolder("leads"))?.owner).toBe("elsewhere");

    // The other holder finishes; the next run converges with no duplicate.
    await other.unlock("leads", "elsewhere");
    await other.close();
    emulator.setLatency(0);
    const again = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator, env), ws.dir);
    expect(again.status, again.stderr).toBe(0);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
  });
});

describe.each(ENGINES)("the lease covers requests in flight (%s state)", (_name, fx) => {
  it("a takeover aborts the run's requests in flight, and none of their outcomes is recorded after it", async () => {
    let rows = Array.from({ length: 30 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig({}, { quo: { requestsPerSecond: 100 } });
    const url = fx.engine === "postgres" ? await fx.fresh() : undefined;
    const env: Record<string, string> = url ? { QUO_SYNC_DATABASE_URL: url } : {};
    expect((await runCli(["sync", "--config", ws.config], cliEnv(emulator, env), ws.dir)).status).toBe(0);
    rows = rows.map((_, i) => personRow(i + 1, 1));
    ws.writeCsv(rows);

    const other = await openStore(url ?? ws.state);
    const before = new Map((await other.loadSyncRows("leads")).map((r) => [r.key, r.hash]));
    // Quo takes 10 s over each PATCH; the first one to arrive finds the lock taken by another host.
    let takenAt = 0;
    emulator.onRequest(async (r) => {
      if (r.method !== "PATCH") return;
      if (!takenAt) {
        takenAt = Date.now();
        expect((await other.tryLock("leads", { owner: "elsewhere", host: "another-host", pid: 1 }, Date.now() + 1, () => true)).ok).toBe(true);
      }
      await new Promise((res) => setTimeout(res, 10_000));
    });
    const loaded = loadConfig(ws.config);
    const client = new QuoClient({ baseUrl: emulator.url, apiKey: API_KEY, requestsPerSecond: 1000 });
    const report = await runSync({ loaded, env, logger: createLogger({ LOG_LEVEL: "silent" }, { pretty: false }), client, lockTiming: { heartbeatMs: 20 } }, 0, { dryRun: false, allowDeletes: false });
    const ended = Date.now();
    expect(report.outcome).toBe("interrupted");
    // The run did not wait for Quo's answers: its requests were aborted when the lock was lost.
    expect(ended - takenAt).toBeLessThan(8_000);
    expect(report.counts.update).toBe(0);
    // The writes it had sent may still land, so their journal entries stay for the next holder's
    // recovery, and the state of those contacts is as it was.
    expect((await other.pendingJournal("leads")).length).toBeGreaterThan(0);
    for (const r of await other.loadSyncRows("leads")) expect(r.hash).toBe(before.get(r.key));

    emulator.onRequest(undefined);
    await other.unlock("leads", "elsewhere");
    await other.close();
    // The PATCHes Quo was still holding land now; the next run resolves them and converges.
    await new Promise((res) => setTimeout(res, 10_500));
    const again = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator, env), ws.dir);
    expect(again.status, again.stderr).toBe(0);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
  }, 90_000);
});

/**
 * A process that takes sync 'leads''s lock through the built modules and prints what happened as
 * one JSON line: `hold` keeps the lock until killed, `take` releases it and exits.
 */
function lockProcess(location: string, mode: "hold" | "take", opts: { waitMs: number; staleMs: number; wrapper?: readonly string[] }): { child: ChildProcess; line: Promise<{ held?: string; busy?: string }> } {
  const script = path.join(ws.dir, "lock-process.mjs");
  writeFileSync(
    script,
    `import { openStore } from ${JSON.stringify(path.join(ROOT, "dist", "src", "state", "store.js"))};
import { acquireLock } from ${JSON.stringify(path.join(ROOT, "dist", "src", "state", "lock.js"))};
const [location, mode, waitMs, staleMs] = process.argv.slice(2);
const store = await openStore(location);
let lock;
try {
  lock = await acquireLock(store, "leads", { waitMs: Number(waitMs), staleMs: Number(staleMs), now: Date.now });
} catch (e) {
  process.stdout.write(JSON.stringify({ busy: e.message }) + "\\n");
  process.exit(3);
}
process.stdout.write(JSON.stringify({ held: lock.owner }) + "\\n");
if (mode === "take") {
  await lock.release();
  await store.close();
} else setInterval(() => {}, 60_000);
`,
  );
  const [cmd, ...pre] = [...(opts.wrapper ?? []), process.execPath];
  const child = spawn(cmd!, [...pre, script, location, mode, String(opts.waitMs), String(opts.staleMs)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const line = new Promise<{ held?: string; busy?: string }>((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]!) as { held?: string; busy?: string });
    });
    child.on("close", (code) => reject(new Error(`lock process exited (${code}) without a line: ${err}`)));
  });
  return { child, line };
}

const exited = (c: ChildProcess) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(undefined) : c.on("exit", r)));

describe.each(ENGINES)("run lock holders (%s state)", (_name, fx) => {
  const stateOf = async () => (fx.engine === "postgres" ? await fx.fresh() : ws.state);
  const envOf = (location: string): Record<string, string> => (fx.engine === "postgres" ? { QUO_SYNC_DATABASE_URL: location } : {});

  it("a run takes over at once the lock an earlier process with its own pid and host left (a restarted container's daemon)", async () => {
    const rows = [personRow(1), personRow(2)];
    ws.writeCsv(rows);
    ws.writeConfig();
    const location = await stateOf();
    const store = await openStore(location);
    // Written as the earlier process: this table, host and pid, another start time and instance, a fresh heartbeat.
    const start = Number(parseProcStat(readFileSync("/proc/self/stat", "utf8"))!.startTime);
    const earlier = `${processTable()}|${os.hostname()}:${process.pid}:${start - 100}:0123456789ab:1`;
    expect((await store.tryLock("leads", { owner: earlier, host: os.hostname(), pid: process.pid }, Date.now(), () => true)).ok).toBe(true);
    const loaded = loadConfig(ws.config);
    const client = new QuoClient({ baseUrl: emulator.url, apiKey: API_KEY, requestsPerSecond: 1000 });
    const report = await runSync({ loaded, env: envOf(location), logger: createLogger({ LOG_LEVEL: "silent" }, { pretty: false }), client }, 0, { dryRun: false, allowDeletes: false });
    expect(report.outcome).toBe("ok");
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
    expect(await store.lockHolder("leads")).toBeNull();
    await store.close();
  });

  it("a live holder in another process keeps its lock however old its heartbeat; once it is killed a run takes it at once", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    const location = await stateOf();
    const holder = lockProcess(location, "hold", { waitMs: 0, staleMs: 30_000 });
    try {
      expect((await holder.line).held).toMatch(new RegExp(`^${processTable()}\\|.*:${holder.child.pid}:\\d+:[0-9a-f]{12}:1$`));
      // As if it had been paused for an hour.
      const age = "UPDATE locks SET heartbeat_at = heartbeat_at - 3600000";
      if (fx.engine === "postgres") await queryDatabase(location, age);
      else {
        const db = new Database(ws.state);
        db.prepare(age).run();
        db.close();
      }
      const refused = await runCli(["sync", "--config", ws.config], cliEnv(emulator, envOf(location)), ws.dir);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`sync 'leads' is already running (pid ${holder.child.pid} on ${os.hostname()}`);
    } finally {
      holder.child.kill("SIGKILL");
      await exited(holder.child);
    }
    const started = Date.now();
    const r = await runCli(["sync", "--config", ws.config], cliEnv(emulator, envOf(location)), ws.dir);
    expect(r.status, r.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(emulator.contacts()).toHaveLength(1);
  });

  it("a process restarted as pid 1 of a new pid namespace (as a container) takes over the lock of the pid 1 that died, within the stale time at most", async () => {
    const location = await stateOf();
    if (fx.engine === "sqlite") await (await openStore(location)).close();
    // Without root, a user namespace makes the pid namespace possible.
    const wrapper = ["unshare", ...(process.getuid?.() === 0 ? [] : ["--user", "--map-root-user"]), "--pid", "--fork", "--kill-child"];
    const staleMs = 3_000;
    const first = lockProcess(location, "hold", { waitMs: 0, staleMs, wrapper });
    let firstOwner: string;
    try {
      firstOwner = (await first.line).held!;
      expect(firstOwner).toContain(`|${os.hostname()}:1:`);
    } finally {
      first.child.kill("SIGKILL");
      await exited(first.child);
    }
    const started = Date.now();
    const second = lockProcess(location, "take", { waitMs: 15_000, staleMs, wrapper });
    const got = await second.line;
    await exited(second.child);
    expect(got.busy).toBeUndefined();
    expect(got.held).toContain(`|${os.hostname()}:1:`);
    expect(got.held).not.toBe(firstOwner);
    // At once when the kernel gave the new namespace the dead one's number; else once the heartbeat is stale.
    expect(Date.now() - started).toBeLessThan(staleMs + 8_000);
  });
});

