/**
 * The alert decision as a table: one alert per change of state, `recovered` on the first completed
 * ok run, repeats after `repeatAfter`, `rejected` for new rejected keys, older runs ignored, and the
 * stall check; then a property over random sequences of outcomes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideAlert, decideStall, STALL_INTERVALS, type NextAlertState } from "../../src/alerts/decide-alert.js";
import { scheduleIntervalMs } from "../../src/alerts/schedule-interval.js";
import type { AlertState, RunOutcome, RunRecord } from "../../src/state/store.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function run(id: number, outcome: RunOutcome, endedAt = id * 60_000): RunRecord {
  return { id, sync: "leads", startedAt: endedAt - 1000, endedAt, outcome, counts: null, error: outcome === "failed" ? "boom" : null, trigger: "schedule" };
}

/** The state as the store would hold it after committing `next`. */
function stored(next: NextAlertState, version: number): AlertState {
  return { sync: "leads", version, ...next };
}

function judge(prev: AlertState | null, r: RunRecord, opts: { rejected?: string[]; before?: string[]; now?: number; repeat?: number } = {}) {
  return decideAlert(prev, { run: r, rejectedKeys: opts.rejected ?? [], previousRejectedKeys: opts.before ?? [] }, opts.now ?? r.endedAt ?? 0, opts.repeat ?? DAY);
}

describe("decideAlert", () => {
  const failedState = stored({ state: "failed", since: 60_000, lastEvent: "failed", lastSentAt: 60_000, runId: 1 }, 1);
  const refusedState = stored({ state: "refused", since: 60_000, lastEvent: "refused", lastSentAt: 60_000, runId: 1 }, 1);
  const stalledState = stored({ state: "stalled", since: 60_000, lastEvent: "stalled", lastSentAt: 60_000, runId: 1 }, 1);
  const okState = stored({ state: "ok", since: 0, lastEvent: null, lastSentAt: null, runId: 1 }, 3);

  it.each([
    { what: "a first ok run announces nothing", prev: null, run: run(1, "ok"), event: null, state: "ok" },
    { what: "a first failed run", prev: null, run: run(1, "failed"), event: "failed", state: "failed" },
    { what: "a first refused run", prev: null, run: run(1, "refused"), event: "refused", state: "refused" },
    { what: "ok after ok", prev: okState, run: run(2, "ok"), event: null, state: "ok" },
    { what: "failed after ok", prev: okState, run: run(2, "failed"), event: "failed", state: "failed" },
    { what: "failed again within repeatAfter", prev: failedState, run: run(2, "failed"), event: null, state: "failed" },
    { what: "recovered after failed", prev: failedState, run: run(2, "ok"), event: "recovered", state: "ok" },
    { what: "refused after failed is a change of state", prev: failedState, run: run(2, "refused"), event: "refused", state: "refused" },
    { what: "recovered after refused", prev: refusedState, run: run(2, "ok"), event: "recovered", state: "ok" },
    { what: "recovered after stalled", prev: stalledState, run: run(2, "ok"), event: "recovered", state: "ok" },
    { what: "failed after stalled", prev: stalledState, run: run(2, "failed"), event: "failed", state: "failed" },
  ] as const)("$what → $event", ({ prev, run: r, event, state }) => {
    const d = judge(prev, r);
    expect(d.event).toBe(event);
    expect(d.next?.state).toBe(state);
    expect(d.next?.runId).toBe(r.id);
    if (event) expect(d.next?.lastSentAt).toBe(r.endedAt);
  });

  it("an interrupted run, or one no newer than the state's, moves nothing", () => {
    expect(judge(failedState, run(2, "interrupted"))).toEqual({ event: null, next: null });
    expect(judge(okState, run(1, "failed"))).toEqual({ event: null, next: null });
    expect(judge(stored({ ...okState, runId: 9 }, 4), run(5, "failed"))).toEqual({ event: null, next: null });
  });

  it("a lasting failure is sent again once repeatAfter has passed since it was last sent", () => {
    expect(judge(failedState, run(2, "failed"), { now: 60_000 + DAY - 1 }).event).toBeNull();
    const again = judge(failedState, run(3, "failed"), { now: 60_000 + DAY });
    expect(again.event).toBe("failed");
    expect(again.next).toMatchObject({ state: "failed", since: 60_000, lastSentAt: 60_000 + DAY, runId: 3 });
    expect(judge(failedState, run(3, "failed"), { now: 60_000 + 100 * DAY, repeat: Infinity }).event).toBeNull();
  });

  it("rejected: keys the previous run did not reject; not a change of state", () => {
    const d = judge(okState, run(2, "ok"), { rejected: ["K1", "K2"], before: ["K1"] });
    expect(d.event).toBe("rejected");
    expect(d.next).toMatchObject({ state: "ok", lastEvent: "rejected", runId: 2 });
    expect(judge(okState, run(2, "ok"), { rejected: ["K1"], before: ["K1", "K2"] }).event).toBeNull();
    // A refused run keeps being refused and rejects a new row: the row is news.
    expect(judge(refusedState, run(2, "refused"), { rejected: ["K9"] }).event).toBe("rejected");
    // A change of state wins; its alert lists the run's rejected rows.
    expect(judge(failedState, run(2, "ok"), { rejected: ["K9"] }).event).toBe("recovered");
  });
});

describe("decideStall", () => {
  const facts = { lastCompletedAt: 10_000, lastCompletedRunId: 4, watchingSince: 0, intervalMs: 1000 };
  const okState = stored({ state: "ok", since: 0, lastEvent: null, lastSentAt: null, runId: 4 }, 2);

  it("stalled once no run completed for three intervals, counted from the later of the last run and the watch's start", () => {
    expect(decideStall(okState, facts, 10_000 + STALL_INTERVALS * 1000 - 1, DAY).event).toBeNull();
    const d = decideStall(okState, facts, 10_000 + STALL_INTERVALS * 1000, DAY);
    expect(d.event).toBe("stalled");
    expect(d.next).toMatchObject({ state: "stalled", runId: 4, lastSentAt: 13_000 });
    // A daemon started after a long stop gives the sync its three intervals first.
    expect(decideStall(okState, { ...facts, watchingSince: 20_000 }, 22_000, DAY).event).toBeNull();
    expect(decideStall(null, { ...facts, lastCompletedAt: null, lastCompletedRunId: null }, 5000, DAY).next).toMatchObject({ state: "stalled", runId: null });
  });

  it("a stall is sent once, again after repeatAfter, and the next completed run recovers it", () => {
    const first = decideStall(okState, facts, 13_000, DAY);
    const state = stored(first.next!, 3);
    expect(decideStall(state, facts, 60_000, DAY)).toEqual({ event: null, next: null });
    expect(decideStall(state, facts, 13_000 + DAY, DAY).event).toBe("stalled");
    expect(judge(state, run(5, "ok", 70_000)).event).toBe("recovered");
  });
});

describe("scheduleIntervalMs", () => {
  it.each([
    ["*/1 * * * * *", 1000],
    ["*/15 * * * *", 15 * 60_000],
    ["0 * * * *", HOUR],
    ["0 9,17 * * *", 16 * HOUR],
  ])("%s → %d ms (the longest gap)", async (schedule, ms) => {
    expect(await scheduleIntervalMs(schedule)).toBe(ms);
  });
});

describe("one alert per change of state (property)", () => {
  const step = fc.oneof(fc.constantFrom<RunOutcome | "stall">("ok", "failed", "refused", "interrupted", "stall"));

  it("over any sequence of outcomes, state events equal state changes; older runs judged late change nothing", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.array(fc.nat({ max: 59 }), { maxLength: 10 }), (steps, replays) => {
        let state = null as AlertState | null;
        let changes = 0;
        let events = 0;
        let id = 0;
        let now = 0;
        const past: RunRecord[] = [];
        const apply = (d: ReturnType<typeof decideAlert>) => {
          if (!d.next) return;
          const before = state?.state ?? "ok";
          if (d.next.state !== before) changes++;
          if (d.event && d.event !== "rejected") events++;
          state = stored(d.next, (state?.version ?? 0) + 1);
        };
        for (const s of steps) {
          now += 60_000;
          if (s === "stall") {
            apply(decideStall(state, { lastCompletedAt: now - 10 * 60_000, lastCompletedRunId: state?.runId ?? null, watchingSince: 0, intervalMs: 60_000 }, now, Infinity));
          } else {
            const r = run(++id, s, now);
            past.push(r);
            apply(judge(state, r, { now, repeat: Infinity }));
          }
        }
        // A run already judged, judged again late (another process's background decision), moves nothing.
        for (const i of replays) {
          const r = past[i % Math.max(1, past.length)];
          if (r) expect(judge(state, r, { now, repeat: Infinity })).toEqual({ event: null, next: null });
        }
        expect(events).toBe(changes);
      }),
      { numRuns: 500 },
    );
  });
});
