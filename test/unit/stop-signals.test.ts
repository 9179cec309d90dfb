import { describe, expect, it } from "vitest";
import { interruption } from "../../src/commands/sync.js";
import { exitCodeFor, onStopSignals } from "../../src/commands/stop-signals.js";
import type { SyncReport } from "../../src/report/report.js";

describe("onStopSignals", () => {
  it("resolves on the first signal and exits 128+n on the second", async () => {
    const before = process.listenerCount("SIGTERM");
    const exits: number[] = [];
    const seconds: string[] = [];
    const h = onStopSignals((s) => seconds.push(s), (code) => exits.push(code));
    try {
      process.emit("SIGTERM", "SIGTERM");
      expect(await h.signalled).toBe("SIGTERM");
      expect(exits).toEqual([]);
      process.emit("SIGINT", "SIGINT");
      expect(seconds).toEqual(["SIGINT"]);
      expect(exits).toEqual([130]);
    } finally {
      h.dispose();
    }
    expect(process.listenerCount("SIGTERM")).toBe(before);
  });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s exits %i", (signal, code) => {
    expect(exitCodeFor(signal)).toBe(code);
  });
});

/** A report of `done` creates out of `planned`, with the given outcome. */
const report = (sync: string, outcome: SyncReport["outcome"], done: number, planned: number): SyncReport => ({
  sync,
  dryRun: false,
  outcome,
  counts: { create: done, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 0, failed: 0, skipped: 0, filtered: 0 },
  changes: Array.from({ length: planned }, (_, i) => ({ action: "create" as const, key: `K${i}`, status: i < done ? ("done" as const) : ("skipped" as const) })),
  rejected: [],
  filtered: [],
  skipped: [],
  guards: [],
});

describe("the line that ends an interrupted sync command", () => {
  it.each([
    ["mid-run", "SIGINT", [report("leads", "interrupted", 37, 120)], [], "interrupted by SIGINT after 37 of 120 writes; nothing is lost — run the same command again to continue"],
    [
      "with syncs left",
      "SIGTERM",
      [report("a", "ok", 5, 5), report("b", "interrupted", 2, 9)],
      ["c", "d"],
      "interrupted by SIGTERM after 7 of 14 writes; not started: 'c', 'd'; nothing is lost — run the same command again to continue",
    ],
    ["before the first sync", "SIGINT", [], ["leads"], "interrupted by SIGINT after 0 of 0 writes; not started: 'leads'; nothing is lost — run the same command again to continue"],
    ["a refused run plans nothing", "SIGINT", [report("a", "refused", 0, 40), report("b", "interrupted", 1, 3)], [], "interrupted by SIGINT after 1 of 3 writes; nothing is lost — run the same command again to continue"],
    ["after the last write", "SIGINT", [report("leads", "ok", 3, 3)], [], "SIGINT received as the command ended: every sync had run (3 of 3 writes done)"],
  ] as const)("%s", (_what, signal, reports, notStarted, line) => {
    expect(interruption(signal, reports, notStarted)).toBe(line);
  });
});
