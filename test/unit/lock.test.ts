import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { describe, expect, it } from "vitest";
import { acquireLock, holderGone, LockBusy, ownerId, parseOwner, parseProcStat, pidAlive, processStartTime, processTable, type ProcessView } from "../../src/state/lock.js";
import { openStore, type LockHolder } from "../../src/state/store.js";
import { ENGINES } from "../integration/engines.js";

const waitFor = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** This process's start time, as the kernel gives it. */
const ownStart = () => parseProcStat(readFileSync("/proc/self/stat", "utf8"))!.startTime;

/** An owner id as another process would write it: the process table, host, pid, start time and instance given. */
const ownerOf = (table: string, pid: number, start: string, instance = "0123456789ab") => `${table}|${os.hostname()}:${pid}:${start}:${instance}:1`;

/** A pid no process has: one that just exited (pids are not reused this soon). */
async function deadPid(): Promise<number> {
  const child = spawn("true");
  await new Promise((r) => child.on("exit", r));
  expect(pidAlive(child.pid!)).toBe(false);
  return child.pid!;
}

describe.each(ENGINES)("run lock (%s)", (_name, fx) => {
  it("a second holder in this process is refused while the first lives, and gets it after release", async () => {
    const at = await fx.fresh();
    const a = await openStore(at);
    const b = await openStore(at);
    const first = await acquireLock(a, "leads", { waitMs: 0, now: Date.now });
    expect((await a.lockHolder("leads"))?.owner).toBe(first.owner);
    const busy = await acquireLock(b, "leads", { waitMs: 0, now: Date.now }).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(LockBusy);
    expect((busy as LockBusy).holder.pid).toBe(process.pid);
    await first.release();
    const second = await acquireLock(b, "leads", { waitMs: 0, now: Date.now });
    expect(second.lost()).toBe(false);
    await second.release();
    expect(await a.lockHolder("leads")).toBeNull();
    await a.close();
    await b.close();
  });

  it("a waiting run gets the lock once the holder releases it", async () => {
    const at = await fx.fresh();
    const a = await openStore(at);
    const b = await openStore(at);
    const first = await acquireLock(a, "leads", { waitMs: 0, now: Date.now });
    setTimeout(() => void first.release(), 300);
    const second = await acquireLock(b, "leads", { waitMs: 5_000, now: Date.now });
    expect(await a.lockHolder("leads")).not.toBeNull();
    await second.release();
    await a.close();
    await b.close();
  });

  it("a holder whose lock was taken over learns it at its next heartbeat", async () => {
    const at = await fx.fresh();
    const a = await openStore(at);
    const b = await openStore(at);
    const reasons: string[] = [];
    const lock = await acquireLock(a, "leads", { waitMs: 0, now: Date.now, heartbeatMs: 10, onLost: (r) => reasons.push(r) });
    // Another process judges the holder gone and takes the lock.
    expect((await b.tryLock("leads", { owner: "other", host: "another-host", pid: 1 }, Date.now() + 1, () => true)).ok).toBe(true);
    await waitFor(() => lock.lost());
    expect(lock.signal.aborted).toBe(true);
    expect(reasons).toEqual(["the run lock of sync 'leads' was taken over by another process"]);
    // Releasing a lost lock leaves the new holder's lock alone.
    await lock.release();
    expect((await b.lockHolder("leads"))?.owner).toBe("other");
    await a.close();
    await b.close();
  });

  it("a heartbeat that cannot be written counts as a lost lock and never throws", async () => {
    const a = await openStore(await fx.fresh());
    const lock = await acquireLock(a, "leads", { waitMs: 0, now: Date.now, heartbeatMs: 10 });
    await a.close(); // every further statement fails
    await waitFor(() => lock.lost());
    expect(String((lock.signal.reason as Error).message)).toMatch(/could not be refreshed/);
    await expect(lock.release()).resolves.toBeUndefined();
  });

  it("a lock left by an earlier process with this pid and host (another instance and start time) is taken over at once", async () => {
    const at = await fx.fresh();
    const s = await openStore(at);
    // As a daemon restarted in a container: the same host name, the same pid, a heartbeat just written.
    const earlier = ownerOf(processTable(), process.pid, String(Number(ownStart()) - 100));
    expect((await s.tryLock("leads", { owner: earlier, host: os.hostname(), pid: process.pid }, Date.now(), () => true)).ok).toBe(true);
    const lock = await acquireLock(s, "leads", { waitMs: 0, now: Date.now });
    expect((await s.lockHolder("leads"))?.owner).toBe(lock.owner);
    await lock.release();
    await s.close();
  });

  it("a release that fails leaves a lock this process takes over at once; one it still holds stays refused", async () => {
    const at = await fx.fresh();
    const broken = await openStore(at);
    const lock = await acquireLock(broken, "leads", { waitMs: 0, now: Date.now });
    await broken.close(); // the release below cannot reach the database
    await lock.release();
    const s = await openStore(at);
    expect((await s.lockHolder("leads"))?.owner).toBe(lock.owner);
    const again = await acquireLock(s, "leads", { waitMs: 0, now: Date.now });
    expect((await s.lockHolder("leads"))?.owner).toBe(again.owner);
    await expect(acquireLock(s, "leads", { waitMs: 0, now: Date.now })).rejects.toBeInstanceOf(LockBusy);
    await again.release();
    await s.close();
  });

  it("a lock naming a live process of this table that started at another time is taken over; with its own start time it is not, until it dies", async () => {
    const at = await fx.fresh();
    const s = await openStore(at);
    const child = spawn("sleep", ["30"]);
    try {
      const pid = child.pid!;
      await waitFor(() => typeof processStartTime(pid) === "string");
      const start = processStartTime(pid)!;
      const taker = { host: os.hostname(), pid };
      // The pid was reused: the process with it now is not the one that took the lock.
      expect((await s.tryLock("leads", { ...taker, owner: ownerOf(processTable(), pid, String(Number(start) - 1)) }, Date.now(), () => true)).ok).toBe(true);
      const taken = await acquireLock(s, "leads", { waitMs: 0, now: Date.now });
      await taken.release();
      // The very process: it keeps its lock.
      expect((await s.tryLock("leads", { ...taker, owner: ownerOf(processTable(), pid, start) }, Date.now(), () => true)).ok).toBe(true);
      await expect(acquireLock(s, "leads", { waitMs: 0, now: Date.now })).rejects.toBeInstanceOf(LockBusy);
      child.kill("SIGKILL");
      await new Promise((r) => child.on("exit", r));
      const after = await acquireLock(s, "leads", { waitMs: 0, now: Date.now });
      await after.release();
    } finally {
      child.kill("SIGKILL");
      await s.close();
    }
  });

  it("a holder that could not refresh its lease for half the stale time stops writing", async () => {
    const s = await openStore(await fx.fresh());
    let clock = 1_000_000;
    const reasons: string[] = [];
    // No heartbeat fires during the test (a paused process, or timers starved).
    const lock = await acquireLock(s, "leads", { waitMs: 0, now: () => clock, staleMs: 30_000, heartbeatMs: 3_600_000, onLost: (r) => reasons.push(r) });
    clock += 15_000;
    expect(lock.lost()).toBe(false);
    clock += 1;
    expect(lock.lost()).toBe(true);
    expect(reasons[0]).toMatch(/was not refreshed for 15 s \(paused, or cut off from the database\)/);
    await lock.release();
    await s.close();
  });

  it("the lease counts from when the last successful heartbeat was sent", async () => {
    const s = await openStore(await fx.fresh());
    let clock = 1_000_000;
    const sent: number[] = [];
    const lock = await acquireLock(s, "leads", { waitMs: 0, now: () => clock, staleMs: 30_000, heartbeatMs: 10 });
    const beat = s.heartbeat.bind(s);
    s.heartbeat = (sync, owner, now) => {
      sent.push(now);
      return beat(sync, owner, now);
    };
    clock += 14_000;
    await waitFor(() => sent.length > 0);
    await new Promise((r) => setTimeout(r, 50));
    // Sent at 1,014,000: the lease now runs to 1,029,000.
    clock += 15_000;
    expect(lock.lost()).toBe(false);
    s.heartbeat = () => new Promise(() => {}); // a heartbeat that never answers
    clock += 1;
    expect(lock.lost()).toBe(true);
    await lock.release();
    await s.close();
  });
});

describe("who may take a lock over (holderGone)", () => {
  const TABLE = "boot-a/4026531836";
  const START = "5000";
  const holder = (over: Partial<LockHolder>): LockHolder => ({ owner: ownerOf(TABLE, 100, START), host: os.hostname(), pid: 100, acquiredAt: 0, heartbeatAt: 70_001, ...over });
  /** This process as the rule sees it: table, pid, the locks it holds, the start times of the processes it can see. */
  const view = (over: Partial<ProcessView> & { processes?: Record<number, string | undefined> } = {}): ProcessView => ({
    table: TABLE,
    pid: 42,
    holds: () => false,
    startTime: (pid) => (over.processes && pid in over.processes ? over.processes[pid] : null),
    ...over,
  });
  const NOW = 100_000;
  const STALE = 30_000;

  it.each([
    // [what, holder, view, gone]
    ["another table, fresh heartbeat (its pid means nothing here, whatever the host name)", holder({ owner: ownerOf("boot-a/4026532177", 100, START) }), view({ processes: {} }), false],
    ["another table, heartbeat older than the stale time", holder({ owner: ownerOf("boot-a/4026532177", 100, START), heartbeatAt: 69_999 }), view({ processes: { 100: START } }), true],
    ["another boot of this machine, fresh heartbeat", holder({ owner: ownerOf("boot-b/4026531836", 100, START) }), view(), false],
    ["an owner without a table (older version), fresh heartbeat", holder({ owner: "h1:100:old-format" }), view(), false],
    ["an owner without a table, stale heartbeat", holder({ owner: "h1:100:old-format", heartbeatAt: 1 }), view(), true],
    ["this process cannot know its table: only heartbeats count", holder({}), view({ table: "" }), false],
    ["this table, no process with the pid: gone at once, however fresh the heartbeat", holder({ heartbeatAt: 99_999 }), view({ processes: {} }), true],
    ["this table, the process that took it, an hour without heartbeat (paused)", holder({ heartbeatAt: NOW - 3_600_000 }), view({ processes: { 100: START } }), false],
    ["this table, a process with the pid that started at another time (the pid was reused)", holder({}), view({ processes: { 100: "5001" } }), true],
    ["this table, the pid exists but its start cannot be read: the heartbeat decides (fresh)", holder({}), view({ processes: { 100: undefined } }), false],
    ["this table, the pid exists but its start cannot be read: the heartbeat decides (stale)", holder({ heartbeatAt: 69_999 }), view({ processes: { 100: undefined } }), true],
    ["this table, an owner that recorded no start time, its pid alive: the heartbeat decides", holder({ owner: `${TABLE}|h1:100:abc123` }), view({ processes: { 100: START } }), false],
    ["this table, an owner that recorded no start time, its pid gone", holder({ owner: `${TABLE}|h1:100:abc123` }), view({ processes: {} }), true],
    ["this table and this pid, a lock this process does not hold (we are that pid now, or our release failed)", holder({ pid: 42, owner: ownerOf(TABLE, 42, START), heartbeatAt: 99_999 }), view({ processes: { 42: START } }), true],
    ["this table and this pid, a lock this process holds", holder({ pid: 42, owner: ownerOf(TABLE, 42, START) }), view({ holds: () => true, processes: { 42: START } }), false],
  ] as const)("%s", (_what, h, here, gone) => {
    expect(holderGone(h, NOW, STALE, here)).toBe(gone);
  });

  it("by default judges from this very process", () => {
    const here = { host: os.hostname(), heartbeatAt: Date.now() };
    expect(holderGone({ ...here, owner: ownerId(), pid: process.pid, acquiredAt: 0 }, Date.now())).toBe(true); // not held by this process
    expect(holderGone({ ...here, owner: ownerOf(processTable(), process.ppid, processStartTime(process.ppid)!), pid: process.ppid, acquiredAt: 0 }, Date.now())).toBe(false);
  });
});

describe("process identity", () => {
  it("this process's table is the kernel's boot id and pid namespace; its owner ids carry table, host, pid, start time and instance", () => {
    expect(processTable()).toMatch(/^[0-9a-f-]{36}\/\d+$/);
    const a = ownerId();
    const b = ownerId();
    expect(a.startsWith(`${processTable()}|${os.hostname()}:${process.pid}:${ownStart()}:`)).toBe(true);
    expect(a).not.toBe(b);
    // One instance id per process, so an owner tells this process from an earlier one with its pid.
    expect(a.split(":").at(-2)).toMatch(/^[0-9a-f]{12}$/);
    expect(a.split(":").at(-2)).toBe(b.split(":").at(-2));
    expect(parseOwner(a)).toEqual({ table: processTable(), startTime: ownStart() });
    expect(parseOwner(ownerId("", ""))).toEqual({ table: "", startTime: null });
    expect(parseOwner("t/1|h1:100:k3j2l1")).toEqual({ table: "t/1", startTime: null });
    expect(parseOwner("h1:100:k3j2l1")).toEqual({ table: "", startTime: null });
  });

  it.each([
    ["a plain name", "123 (node) S 1 123 123 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 11 0 98765 1 2 3", { state: "S", startTime: "98765" }],
    ["a name with spaces and parentheses", "77 (my (odd) name) ) R 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 9 9 9", { state: "R", startTime: "4242" }],
    ["a zombie", "9 (x) Z 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 17 0 0", { state: "Z", startTime: "17" }],
    ["no closing parenthesis", "9 (x Z 1 9", undefined],
    ["too few fields", "9 (x) S 1 2 3", undefined],
  ])("/proc/<pid>/stat: %s", (_what, text, parsed) => {
    expect(parseProcStat(text)).toEqual(parsed);
  });

  it("start times: this process's own, none for a pid that exited or a zombie", async () => {
    expect(processStartTime(process.pid)).toBe(ownStart());
    expect(processStartTime(await deadPid())).toBeNull();
    // `sh` forks a child that exits at once and then becomes `sleep`, which never reaps it.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"]);
    try {
      const zombie = await new Promise<number>((r) => parent.stdout.once("data", (d: Buffer) => r(Number(d.toString().trim()))));
      await waitFor(() => readFileSync(`/proc/${zombie}/stat`, "utf8").includes(") Z "));
      expect(pidAlive(zombie)).toBe(true);
      expect(processStartTime(zombie)).toBeNull();
    } finally {
      parent.kill("SIGKILL");
    }
  });
});
