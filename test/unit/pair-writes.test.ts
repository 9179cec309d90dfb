/**
 * The latency benchmark's pairing of source changes with the Quo writes that carried them, and its
 * summary. Timings themselves are measured in bench/latency.ts, not asserted here.
 */
import { describe, expect, it } from "vitest";
import { latencySummary, pairWrites, type ObservedWrite, type SourceChange } from "../../bench/pair-writes.js";

describe("pairWrites", () => {
  it("pairs each change with the first later write of its contact carrying its value", () => {
    const changes: SourceChange[] = [
      { externalId: "s:1", value: "A-v1", at: 100 },
      { externalId: "s:2", value: "B-v1", at: 150 },
      { externalId: "s:1", value: "A-v2", at: 300 },
    ];
    const writes: ObservedWrite[] = [
      // The creation and a write carrying the value before the change never count.
      { externalId: "s:1", value: "A-v0", at: 10 },
      { externalId: "s:1", value: "A-v2", at: 50 },
      // Another contact with the same value is not this change's write.
      { externalId: "s:9", value: "A-v1", at: 120 },
      // Out of order on purpose: the earliest matching write wins.
      { externalId: "s:1", value: "A-v1", at: 900 },
      { externalId: "s:1", value: "A-v1", at: 400 },
      { externalId: "s:2", value: "B-v1", at: 1_150 },
      { externalId: "s:1", value: "A-v2", at: 1_300 },
      { externalId: null, value: "A-v2", at: 310 },
    ];
    const { paired, missing } = pairWrites(changes, writes);
    expect(missing).toEqual([]);
    expect(paired.map((p) => [p.change.value, p.write.at, p.latencyMs])).toEqual([
      ["A-v1", 400, 300],
      ["B-v1", 1_150, 1_000],
      ["A-v2", 1_300, 1_000],
    ]);
  });

  it("reports the changes no write carried", () => {
    const change: SourceChange = { externalId: "s:1", value: "A-v1", at: 100 };
    const { paired, missing } = pairWrites([change], [{ externalId: "s:1", value: "A-v0", at: 200 }]);
    expect(paired).toEqual([]);
    expect(missing).toEqual([change]);
  });
});

describe("latencySummary", () => {
  it("gives the median, the 90th percentile by nearest rank and the worst", () => {
    expect(latencySummary([5, 1, 3])).toEqual({ medianMs: 3, p90Ms: 5, worstMs: 5 });
    expect(latencySummary(Array.from({ length: 50 }, (_, i) => 50 - i))).toEqual({ medianMs: 25.5, p90Ms: 45, worstMs: 50 });
    expect(() => latencySummary([])).toThrow(/no latencies/);
  });
});
