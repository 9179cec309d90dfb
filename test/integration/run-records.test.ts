/**
 * What a run's record keeps besides its outcome, on both engines: the trigger that started it, the
 * report stored with it (capped, read only on demand), and the alert state that several processes
 * move from one version to the next so each event is announced once.
 */
import { describe, expect, it } from "vitest";
import { STORED_REPORT_CAP, storedReport, type SyncReport } from "../../src/report/report.js";
import { openStore } from "../../src/state/store.js";
import { ENGINES } from "./engines.js";

function reportWith(changes: number, rejected: number): SyncReport {
  return {
    sync: "leads",
    dryRun: false,
    outcome: "ok",
    counts: { create: changes, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected, failed: 0, skipped: 0, filtered: 0 },
    changes: Array.from({ length: changes }, (_, i) => ({ action: "create" as const, key: `K${i}`, row: i + 2, status: "done" as const })),
    rejected: Array.from({ length: rejected }, (_, i) => ({ row: i + 2, key: `R${i}`, reason: "no phone" })),
    filtered: [],
    skipped: [],
    guards: [],
  };
}

describe("storedReport", () => {
  it("keeps a small report as it is and caps a large one, saying how much it left out", () => {
    const small = reportWith(3, 1);
    expect(storedReport(small)).toBe(small);
    const big = storedReport(reportWith(STORED_REPORT_CAP + 7, STORED_REPORT_CAP + 2));
    expect(big.changes).toHaveLength(STORED_REPORT_CAP);
    expect(big.rejected).toHaveLength(STORED_REPORT_CAP);
    expect(big.omitted).toEqual({ changes: 7, rejected: 2, filtered: 0, skipped: 0 });
    expect(big.counts.create).toBe(STORED_REPORT_CAP + 7);
  });
});

describe.each(ENGINES)("run records (%s state)", (_name, fx) => {
  it("a run keeps its trigger and its report; listing runs does not carry reports; a missing run is null", async () => {
    const store = await openStore(await fx.fresh());
    try {
      const a = await store.startRun("leads", 1_000, "schedule");
      const report = reportWith(2, 1);
      await store.finishRun(a, "ok", 2_000, report.counts, undefined, report);
      const b = await store.startRun("leads", 3_000);
      await store.finishRun(b, "failed", 4_000, undefined, "Quo said 401");
      const runs = await store.recentRuns({ sync: "leads", limit: 5 });
      expect(runs.map((r) => [r.id, r.trigger, r.outcome])).toEqual([
        [b, null, "failed"],
        [a, "schedule", "ok"],
      ]);
      expect(Object.keys(runs[0]!)).not.toContain("report");
      expect(await store.runById(a)).toEqual(runs[1]);
      expect(await store.runReport(a)).toEqual(report);
      expect(await store.runReport(b)).toBeNull();
      expect(await store.runById(b + 100)).toBeNull();
      expect(await store.runReport(b + 100)).toBeNull();
    } finally {
      await store.close();
    }
  });

  it("the alert state moves only from the version read: of two processes racing, one wins", async () => {
    const location = await fx.fresh();
    const one = await openStore(location);
    const two = await openStore(location);
    try {
      expect(await one.alertState("leads")).toBeNull();
      const failed = { state: "failed" as const, since: 10, lastEvent: "failed", lastSentAt: 10, runId: 1 };
      const raced = await Promise.all([one.swapAlertState("leads", null, failed), two.swapAlertState("leads", null, failed)]);
      expect(raced.filter(Boolean)).toHaveLength(1);
      const read = await two.alertState("leads");
      expect(read).toEqual({ sync: "leads", ...failed, version: 1 });
      const ok = { state: "ok" as const, since: 20, lastEvent: "recovered", lastSentAt: 20, runId: 2 };
      const again = await Promise.all([one.swapAlertState("leads", 1, ok), two.swapAlertState("leads", 1, ok)]);
      expect(again.filter(Boolean)).toHaveLength(1);
      expect(await one.swapAlertState("leads", 1, failed)).toBe(false);
      expect(await one.alertState("leads")).toEqual({ sync: "leads", ...ok, version: 2 });
      expect(await one.alertState("other")).toBeNull();
    } finally {
      await one.close();
      await two.close();
    }
  });
});
