/**
 * `quo-sync status` through the built CLI, on a state file written by real runs.
 */
import { spawn } from "node:child_process";
import os from "node:os";
import { describe, expect, it } from "vitest";
import { processTable } from "../../src/state/lock.js";
import { openStore, type StateStore } from "../../src/state/store.js";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { ENGINES } from "./engines.js";
import { queryDatabase } from "./postgres.js";
import { Workspace, cliEnv, personRow, runCli, startCli, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const status = (...extra: string[]) => runCli(["status", "--config", ws.config, ...extra], cliEnv(emulator), ws.dir);

describe("quo-sync status", () => {
  it("before any run: says so, in both formats", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    const t = await status();
    expect(t.status).toBe(0);
    expect(t.stdout).toContain("no runs yet");
    const j = await status("--format", "json");
    expect(JSON.parse(j.stdout)).toEqual([{ sync: "leads", contacts: 0, runningNow: null, lastSuccessAt: null, checkedAt: null, sourceChangedAt: null, sourceChangeAgeMs: null, runs: [] }]);
  });

  it("lists runs newest first with counts, rejection reasons and errors", async () => {
    const rows = Array.from({ length: 5 }, (_, i) => personRow(i + 1));
    ws.writeCsv([...rows, ["B1", "Bad", "Phone", "", "555-12", "", ""]]);
    ws.writeConfig();
    expect((await runCli(["sync", "--config", ws.config], cliEnv(emulator), ws.dir)).status).toBe(0);
    ws.writeCsv(rows.slice(0, 4));
    expect((await runCli(["sync", "--config", ws.config], cliEnv(emulator, { QUO_API_KEY: "wrong-key" }), ws.dir)).status).toBe(1);

    const j = await status("--format", "json");
    expect(j.status).toBe(0);
    const [s] = JSON.parse(j.stdout);
    expect(s.sync).toBe("leads");
    expect(s.contacts).toBe(5);
    expect(s.runs.map((r: any) => r.outcome)).toEqual(["failed", "ok"]);
    expect(s.runs.map((r: any) => r.trigger)).toEqual(["manual", "manual"]);
    // Checked at the end of the ok run; the newest change applied is the CSV file's mtime then.
    expect(s.checkedAt).toBe(s.runs[1].endedAt);
    expect(typeof s.sourceChangedAt).toBe("string");
    expect(s.runs[0].error).toMatch(/401|Unauthorized|key/i);
    expect(s.runs[0].error).not.toContain("wrong-key");
    expect(s.runs[1].counts).toEqual({ create: 5, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 1, failed: 0, skipped: 0, filtered: 0 });
    expect(s.runs[1].rejections).toEqual([expect.objectContaining({ key: "B1", row: 7, reason: expect.stringContaining("'555-12' is not a valid phone number") })]);
    expect(typeof s.runs[1].durationMs).toBe("number");

    const t = await status();
    expect(t.stdout).toMatch(/#2 .* failed/);
    expect(t.stdout).toMatch(/#1 .* ok +\+5 ~0 -0 =0 rejected 1 failed 0/);
    expect(t.stdout).toContain("rejected row 7 (key B1)");

    const unknown = await status("--sync", "nope");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("--sync nope: no such sync");
  });

  it("shows link and unlink as 0 for a run recorded before they were counted", async () => {
    ws.writeCsv([personRow(1), personRow(2)]);
    ws.writeConfig();
    expect((await runCli(["sync", "--config", ws.config], cliEnv(emulator), ws.dir)).status).toBe(0);
    // A run as an earlier version recorded it: its counts have no link or unlink key.
    const store = await openStore(ws.state);
    try {
      const old = await store.startRun("leads", Date.UTC(2024, 0, 1));
      await store.finishRun(old, "ok", Date.UTC(2024, 0, 1, 0, 0, 2), { create: 0, update: 3, delete: 1, unchanged: 1, rejected: 0, failed: 0 });
    } finally {
      await store.close();
    }

    const j = await status("--format", "json");
    expect(j.status, j.stderr).toBe(0);
    const [s] = JSON.parse(j.stdout);
    expect(s.runs.map((r: any) => r.counts)).toEqual([
      { create: 0, update: 3, delete: 1, link: 0, unlink: 0, unchanged: 1, rejected: 0, failed: 0, skipped: 0, filtered: 0 },
      { create: 2, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 0, failed: 0, skipped: 0, filtered: 0 },
    ]);
    expect(Object.keys(s.runs[0].counts)).toEqual(["create", "update", "delete", "link", "unlink", "unchanged", "rejected", "failed", "skipped", "filtered"]);
    const t = await status();
    expect(t.stdout).toMatch(/#2 .* ok +\+0 ~3 -1 =1 rejected 0 failed 0\n/);
  });

  it("reads the database while the daemon is running, and shows the run holding the lock", async () => {
    emulator.setLatency(100);
    // About ten seconds of writes: long enough to look at a run in progress on a busy machine.
    ws.writeCsv(Array.from({ length: 100 }, (_, i) => personRow(i + 1)));
    ws.writeConfig({ schedule: "*/1 * * * * *" }, { quo: { requestsPerSecond: 10 } });
    const d = startCli(["daemon", "--config", ws.config], cliEnv(emulator), ws.dir);
    try {
      let s: any;
      const deadline = Date.now() + 20_000;
      do {
        await new Promise((r) => setTimeout(r, 200));
        const r = await status("--format", "json");
        expect(r.status).toBe(0);
        s = JSON.parse(r.stdout)[0];
      } while (!(s.runningNow && s.runs[0]?.outcome === "running") && Date.now() < deadline);
      expect(s.runningNow).toMatchObject({ pid: d.child.pid });
      expect(s.runs[0].outcome).toBe("running");
      const t = await status();
      expect(t.stderr).toBe("");
      expect(t.stdout).toContain(`running now (pid ${d.child.pid}`);
    } finally {
      d.child.kill("SIGTERM");
      expect((await d.done).status).toBe(0);
    }
  });
});

describe.each(ENGINES)("quo-sync status of a lock (%s state)", (_name, fx) => {
  it("a lock left by a process that is gone is never shown as running: it says the next run takes it over", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    const location = fx.engine === "postgres" ? await fx.fresh() : ws.state;
    const env = cliEnv(emulator, fx.engine === "postgres" ? { QUO_SYNC_DATABASE_URL: location } : {});
    // A process of this machine and pid namespace that exited (its pid is not reused this soon).
    const child = spawn("true");
    await new Promise((r) => child.on("exit", r));
    const dead = child.pid!;
    const store = await openStore(location);
    const host = os.hostname();
    const cases = [
      { what: "a dead process of this process table, heartbeat just written", owner: `${processTable()}|${host}:${dead}:12345:0123456789ab:1`, pid: dead, at: Date.now(), gone: true },
      { what: "a process of another machine, heartbeat an hour old", owner: `other-boot/1|${host}:${dead}:12345:0123456789ab:1`, pid: dead, at: Date.now() - 3_600_000, gone: true },
      { what: "a process of another machine, heartbeat just written", owner: `other-boot/1|${host}:${dead}:12345:0123456789ab:2`, pid: dead, at: Date.now(), gone: false },
    ];
    try {
      for (const c of cases) {
        if (fx.engine === "postgres") {
          expect((await store.tryLock("leads", { owner: c.owner, host, pid: c.pid }, 0, () => true)).ok).toBe(true);
          await queryDatabase(location, `update locks set heartbeat_at = ${c.at}, acquired_at = ${c.at}`);
        } else expect((await store.tryLock("leads", { owner: c.owner, host, pid: c.pid }, c.at, () => true)).ok).toBe(true);
        const t = await runCli(["status", "--config", ws.config], env, ws.dir);
        expect(t.status, t.stderr).toBe(0);
        const j = await runCli(["status", "--config", ws.config, "--format", "json"], env, ws.dir);
        const [s] = JSON.parse(j.stdout);
        const lock = { host, pid: c.pid, since: new Date(c.at).toISOString(), heartbeatAt: new Date(c.at).toISOString() };
        if (c.gone) {
          expect(t.stdout, c.what).not.toContain("running now");
          expect(t.stdout, c.what).toContain(`lock left by a process that is gone (pid ${c.pid} on ${host}, last heartbeat ${lock.heartbeatAt}); the next run takes it over`);
          expect(s.runningNow, c.what).toBeNull();
          expect(s.lockLeft, c.what).toEqual(lock);
        } else {
          expect(t.stdout, c.what).toContain(`running now (pid ${c.pid} on ${host}, since ${lock.since})`);
          expect(t.stdout, c.what).not.toContain("lock left");
          expect(s.runningNow, c.what).toEqual(lock);
          expect(s, c.what).not.toHaveProperty("lockLeft");
        }
      }
    } finally {
      await store.close();
    }
  });
});
