import { describe, expect, it } from "vitest";
import { acquireLock, LockBusy, ownerId, processTable, takeoverRule } from "../../src/state/lock.js";
import { openStore, type LockHolder, type StateStore } from "../../src/state/store.js";
import { ENGINES, postgresEngine, sqliteEngine } from "../integration/engines.js";

const waitFor = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe.each(ENGINES)("run lock (%s)", (_name, fx) => {
  it("a second holder in this process is refused while the first lives, and gets it after release", async () => {
    const at = await fx.fresh();
    const a = await openStore(at);
    const b = await openStore(at);
    const first = await acquireLock(a, "leads", { waitMs: 0, now: Date.now });
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
});

describe("who may take a lock over", () => {
  const holder = (over: Partial<LockHolder>): LockHolder => ({ owner: "A", host: "h1", pid: 100, acquiredAt: 0, heartbeatAt: 1_000, ...over });
  const fake = (engine: "sqlite" | "postgres") => ({ engine }) as StateStore;

  it("SQLite: on this host only a dead process loses its lock, however old its heartbeat; elsewhere a stale heartbeat", () => {
    const rule = takeoverRule(fake("sqlite"), { host: "h1", owner: ownerId() }, 3_600_000, 30_000, (pid) => pid !== 100);
    expect(rule(holder({ pid: 100 }))).toBe(true); // gone
    expect(rule(holder({ pid: 200 }))).toBe(false); // alive, an hour without heartbeat (SIGSTOP)
    expect(rule(holder({ host: "h2", heartbeatAt: 3_600_000 - 30_001 }))).toBe(true);
    expect(rule(holder({ host: "h2", heartbeatAt: 3_600_000 - 29_999 }))).toBe(false);
  });

  it("PostgreSQL: a lease — the heartbeat counts, whatever the host name and pid say, unless the holder shares this process table", () => {
    const me = { host: "h1", owner: ownerId("boot-a/4026531836") };
    const rule = takeoverRule(fake("postgres"), me, 100_000, 30_000, () => false);
    // Another container or machine, even one with the same host name: its pid means nothing here.
    expect(rule(holder({ owner: ownerId("boot-a/4026532177"), host: "h1", pid: 100, heartbeatAt: 69_999 }))).toBe(true);
    expect(rule(holder({ owner: ownerId("boot-a/4026532177"), host: "h1", pid: 100, heartbeatAt: 70_001 }))).toBe(false);
    expect(rule(holder({ owner: ownerId("boot-b/4026531836"), host: "h1", pid: 100, heartbeatAt: 70_001 }))).toBe(false);
    expect(rule(holder({ owner: "h1:100:old-format", host: "h1", pid: 100, heartbeatAt: 70_001 }))).toBe(false);
    const alive = takeoverRule(fake("postgres"), me, 100_000, 30_000, () => true);
    expect(alive(holder({ owner: ownerId("boot-b/1"), host: "h1", heartbeatAt: 1 }))).toBe(true); // a live pid of the same number elsewhere keeps nothing
    // The same process table (same boot, same pid namespace): a dead process loses its lock at once, a live one keeps it.
    expect(rule(holder({ owner: ownerId("boot-a/4026531836"), pid: 100, heartbeatAt: 99_999 }))).toBe(true);
    expect(alive(holder({ owner: ownerId("boot-a/4026531836"), pid: 100, heartbeatAt: 1 }))).toBe(false);
    // Where the process table cannot be known, only heartbeats count.
    const unknown = takeoverRule(fake("postgres"), { host: "h1", owner: ownerId("") }, 100_000, 30_000, () => false);
    expect(unknown(holder({ owner: ownerId(""), pid: 100, heartbeatAt: 99_999 }))).toBe(false);
  });

  it("this process's table is the kernel's boot id and pid namespace", () => {
    expect(processTable()).toMatch(/^[0-9a-f-]{36}\/\d+$/);
    expect(ownerId().startsWith(`${processTable()}|`)).toBe(true);
  });
});

describe("the lease on the holder's own clock", () => {
  it("PostgreSQL: a holder that could not refresh its lease for half the stale time stops writing", async () => {
    const s = await openStore(await postgresEngine.fresh());
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

  it("SQLite: a paused holder on this host keeps its lock (nobody here can take it while it lives)", async () => {
    const s = await openStore(await sqliteEngine.fresh());
    let clock = 1_000_000;
    const lock = await acquireLock(s, "leads", { waitMs: 0, now: () => clock, staleMs: 30_000, heartbeatMs: 3_600_000 });
    clock += 3_600_000;
    expect(lock.lost()).toBe(false);
    await lock.release();
    await s.close();
  });
});
