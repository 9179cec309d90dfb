/**
 * Pairs source changes with the Quo writes that carried them, for the latency benchmark: each change
 * gives one contact a value no other change gives, so the write that carries it is the first write
 * to that contact (by `externalId`) holding that value, at or after the change.
 */

/** One change made to a source: the contact's `externalId` in Quo, the value it now has, and when (ms, one clock). */
export interface SourceChange {
  externalId: string;
  value: string;
  at: number;
}

/** One write seen at the Quo emulator: the contact it wrote, the value it carried, and when (ms, the changes' clock). */
export interface ObservedWrite {
  externalId: string | null;
  value: string | null;
  at: number;
}

/** What pairing found: each change with its write and the time between them, and the changes no write carried. */
export interface Pairing {
  paired: { change: SourceChange; write: ObservedWrite; latencyMs: number }[];
  missing: SourceChange[];
}

/**
 * For each change, in the order given, the earliest write at or after it to the same `externalId`
 * carrying the same value. A write before the change (the contact's creation, an earlier edit) never
 * counts. Changes that no write carried are returned in `missing`.
 */
export function pairWrites(changes: readonly SourceChange[], writes: readonly ObservedWrite[]): Pairing {
  const out: Pairing = { paired: [], missing: [] };
  const sorted = [...writes].sort((a, b) => a.at - b.at);
  for (const change of changes) {
    const write = sorted.find((w) => w.at >= change.at && w.externalId === change.externalId && w.value === change.value);
    if (write) out.paired.push({ change, write, latencyMs: write.at - change.at });
    else out.missing.push(change);
  }
  return out;
}

/** Median, 90th percentile and worst of a list of latencies (nearest rank); throws for an empty list. */
export function latencySummary(latenciesMs: readonly number[]): { medianMs: number; p90Ms: number; worstMs: number } {
  if (latenciesMs.length === 0) throw new Error("latencySummary: no latencies to summarise");
  const s = [...latenciesMs].sort((a, b) => a - b);
  const rank = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  const mid = s.length / 2;
  const medianMs = s.length % 2 ? s[Math.floor(mid)]! : (s[mid - 1]! + s[mid]!) / 2;
  return { medianMs, p90Ms: rank(0.9), worstMs: s[s.length - 1]! };
}
