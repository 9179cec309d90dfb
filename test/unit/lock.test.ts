import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireLock, LockBusy } from "../../src/state/lock.js";
import { StateStore } from "../../src/state/store.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-lock-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const waitFor = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("run lock", () => {
  it("a second holder in this process is refused while the first lives, and gets it after release", async () => {
    const a = StateStore.open(path.join(dir, "state.db"));
    const b = StateStore.open(path.join(dir, "state.db"));
    const first = await acquireLock(a, "leads", { waitMs: 0, now: Date.now });
    await expect(acquireLock(b, "leads", { waitMs: 0, now: Date.now })).rejects.toBeInstanceOf(LockBusy);
    first.release();
    const second = await acquireLock(b, "leads", { waitMs: 0, now: Date.now });
    expect(second.lost()).toBe(false);
    second.release();
    a.close();
    b.close();
  });

  it("a holder whose lock was taken over (as stale, from another host) learns it at its next heartbeat", async () => {
    const a = StateStore.open(path.join(dir, "state.db"));
    const b = StateStore.open(path.join(dir, "state.db"));
    const reasons: string[] = [];
    const lock = await acquireLock(a, "leads", { waitMs: 0, now: Date.now, heartbeatMs: 10, onLost: (r) => reasons.push(r) });
    // Another host judges the heartbeat stale (stale time 0) and takes the lock.
    expect(b.tryLock("leads", { owner: "other", host: "another-host", pid: 1 }, Date.now() + 1, 0, () => true).ok).toBe(true);
    await waitFor(() => lock.lost());
    expect(lock.signal.aborted).toBe(true);
    expect(reasons).toEqual(["the run lock of sync 'leads' was taken over by another process"]);
    // Releasing a lost lock leaves the new holder's lock alone.
    lock.release();
    expect(b.lockHolder("leads")?.owner).toBe("other");
    a.close();
    b.close();
  });

  it("a heartbeat that cannot be written counts as a lost lock and never throws", async () => {
    const a = StateStore.open(path.join(dir, "state.db"));
    const lock = await acquireLock(a, "leads", { waitMs: 0, now: Date.now, heartbeatMs: 10 });
    a.close(); // every further statement fails
    await waitFor(() => lock.lost());
    expect(String((lock.signal.reason as Error).message)).toMatch(/could not be refreshed/);
    expect(() => lock.release()).not.toThrow();
  });
});
