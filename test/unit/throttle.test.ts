import { describe, expect, it } from "vitest";
import { Throttle } from "../../src/net/throttle.js";

/**
 * A clock that only moves when the throttle sleeps, so every grant time is exact. It moves on the
 * next macrotask, after the callbacks of starts already granted have read it.
 */
function fakeClock(): { now: () => number; sleep: (ms: number) => Promise<void>; advance: (ms: number) => void; sleeps: number[] } {
  let t = 0;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      await new Promise((resolve) => setImmediate(resolve));
      t += ms;
    },
    advance: (ms) => {
      t += ms;
    },
    sleeps,
  };
}

/** The largest number of times falling in any half-open window [t, t + windowMs). */
function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

async function grantTimes(throttle: Throttle, count: number, now: () => number): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(Array.from({ length: count }, () => throttle.acquire().then(() => times.push(now()))));
  return times;
}

describe("Throttle on a fake clock", () => {
  it.each([
    { perSecond: 10, count: 35, marginMs: 5 },
    { perSecond: 10, count: 10, marginMs: 5 },
    { perSecond: 3, count: 20, marginMs: 0 },
    { perSecond: 1, count: 5, marginMs: 10 },
  ])("never starts more than $perSecond in any window ($count callers, margin $marginMs ms)", async ({ perSecond, count, marginMs }) => {
    const clock = fakeClock();
    const throttle = new Throttle(perSecond, { marginMs, now: clock.now, sleep: clock.sleep });
    const times = await grantTimes(throttle, count, clock.now);
    expect(times).toHaveLength(count);
    expect(maxInWindow(times, 1000 + marginMs)).toBeLessThanOrEqual(perSecond);
    // And it does not hold back more than needed: the last start comes as soon as the limit allows.
    expect(Math.max(...times)).toBe(Math.floor((count - 1) / perSecond) * (1000 + marginMs));
  });

  it("lets a whole window's worth start at once (no concurrency cap)", async () => {
    const clock = fakeClock();
    const throttle = new Throttle(10, { marginMs: 5, now: clock.now, sleep: clock.sleep });
    const times = await grantTimes(throttle, 10, clock.now);
    expect(times.every((t) => t === 0)).toBe(true);
    expect(clock.sleeps).toEqual([]);
  });

  it("grants in arrival order, also to callers that arrive while others wait", async () => {
    const clock = fakeClock();
    const throttle = new Throttle(2, { marginMs: 0, now: clock.now, sleep: clock.sleep });
    const order: number[] = [];
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) pending.push(throttle.acquire().then(() => void order.push(i)));
    pending.push(
      throttle.acquire().then(() => {
        order.push(5);
        return Promise.all([6, 7].map((i) => throttle.acquire().then(() => void order.push(i)))).then(() => {});
      }),
    );
    await Promise.all(pending);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("counts a start at grant time, so a later caller can use a window's leftover", async () => {
    const clock = fakeClock();
    const throttle = new Throttle(2, { marginMs: 0, now: clock.now, sleep: clock.sleep });
    await throttle.acquire();
    await clock.sleep(600);
    const times = await grantTimes(throttle, 3, clock.now);
    expect(times).toEqual([600, 1000, 1600]);
  });

  it("penalize holds back every start for the given time, and only extends a pause", async () => {
    const clock = fakeClock();
    const throttle = new Throttle(10, { marginMs: 0, now: clock.now, sleep: clock.sleep });
    await throttle.acquire();
    throttle.penalize(300);
    throttle.penalize(100);
    const times = await grantTimes(throttle, 3, clock.now);
    expect(times).toEqual([300, 300, 300]);
  });

  it("counts a slot's start from started(), e.g. after a slow connect", async () => {
    const clock = fakeClock();
    const throttle = new Throttle(2, { marginMs: 0, now: clock.now, sleep: clock.sleep });
    const slots = [await throttle.acquireSlot(), await throttle.acquireSlot()];
    clock.advance(100);
    for (const slot of slots) slot.started();
    slots[0]?.started();
    expect(await grantTimes(throttle, 1, clock.now)).toEqual([1100]);
  });

  it("an unsettled slot counts as starting now, but only for maxPendingMs", async () => {
    const clock = fakeClock();
    const throttle = new Throttle(1, { marginMs: 0, maxPendingMs: 5000, now: clock.now, sleep: clock.sleep });
    await throttle.acquireSlot();
    expect(await grantTimes(throttle, 1, clock.now)).toEqual([6000]);
  });

  it("slowDown lowers the rate at once and lets it grow back one step per window", async () => {
    const clock = fakeClock();
    const throttle = new Throttle(10, { marginMs: 0, now: clock.now, sleep: clock.sleep });
    throttle.slowDown();
    expect(throttle.limit).toBe(7);
    const times = await grantTimes(throttle, 10, clock.now);
    expect(times.filter((t) => t === 0)).toHaveLength(7);
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(8);
    throttle.slowDown();
    throttle.slowDown();
    expect(throttle.limit).toBe(3);
    clock.advance(1000);
    expect(throttle.limit).toBe(4);
    clock.advance(10_000);
    expect(throttle.limit).toBe(10);
    for (let i = 0; i < 10; i++) throttle.slowDown();
    expect(throttle.limit).toBe(1);
  });

  it("a gate (the rate shared with other processes) is passed once per start, before it is granted, and a failing gate holds nothing up", async () => {
    const clock = fakeClock();
    let calls = 0;
    // Another process holds every other slot: each start waits 150 ms in the gate.
    const gate = async () => {
      calls++;
      if (calls === 3) throw new Error("the database is gone");
      await clock.sleep(150);
    };
    const throttle = new Throttle(10, { marginMs: 0, now: clock.now, sleep: clock.sleep, gate });
    const times = await grantTimes(throttle, 5, clock.now);
    expect(calls).toBe(5);
    // Granted one after another as the gate lets them through; the third, whose gate failed, at once.
    expect(times).toEqual([150, 300, 300, 450, 600]);
  });

  it("spreads a rate below 1 per second over a longer window", async () => {
    const clock = fakeClock();
    const throttle = new Throttle(0.5, { marginMs: 0, now: clock.now, sleep: clock.sleep });
    expect(await grantTimes(throttle, 3, clock.now)).toEqual([0, 2000, 4000]);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])("refuses %s requests per second", (perSecond) => {
    expect(() => new Throttle(perSecond)).toThrow(RangeError);
  });
});

describe("Throttle in real time", () => {
  it("starts 30 requests at 10/s in about 2 s, never 11 within a second", async () => {
    const throttle = new Throttle(10);
    const began = performance.now();
    const times = await grantTimes(throttle, 30, () => performance.now());
    const elapsed = performance.now() - began;
    expect(elapsed).toBeGreaterThanOrEqual(1950);
    expect(elapsed).toBeLessThanOrEqual(3200);
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(10);
  });
});
