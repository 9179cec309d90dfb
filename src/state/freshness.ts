/**
 * How fresh a sync is, from its recorded runs: when its source was last checked (the end of its last
 * completed run) and the newest source change Quo has from it (docs/daemon.md, "Freshness"). Read
 * through the store's interface only; shared by `status`, `/metrics` and the console.
 */
import type { RunRecord, StateStore } from "./store.js";

/** Runs looked back over to find the last completed one; older history reads as never checked. */
export const FRESHNESS_LOOKBACK = 500;

/** A sync's freshness, as epoch ms; null when not known. */
export interface Freshness {
  /** End of the last run that completed (outcome `ok`): when the source was last read and applied. */
  checkedAt: number | null;
  /**
   * The newest source change applied to Quo (the `sourceChangedAt` of the last completed run's
   * report); null before any completed run, for a source that cannot tell (Google Sheets), and for
   * runs recorded before the time was kept.
   */
  sourceChangedAt: number | null;
}

/** A stored report's `sourceChangedAt` (ISO text) as epoch ms; null when absent or unreadable. */
export function sourceChangedOf(report: unknown): number | null {
  if (typeof report !== "object" || report === null) return null;
  const raw = (report as { sourceChangedAt?: unknown }).sourceChangedAt;
  if (typeof raw !== "string") return null;
  const t = Date.parse(raw);
  return Number.isFinite(t) ? t : null;
}

/**
 * The sync's freshness: from `runs` (its recent runs, newest first) when given and they hold a
 * completed run, else from up to `FRESHNESS_LOOKBACK` runs read. Throws `StateError` when the
 * database cannot be read.
 */
export async function readFreshness(store: StateStore, sync: string, runs?: readonly RunRecord[]): Promise<Freshness> {
  const completed = (rs: readonly RunRecord[]) => rs.find((r) => r.outcome === "ok" && r.endedAt !== null);
  const last = (runs && completed(runs)) ?? completed(await store.recentRuns({ sync, limit: FRESHNESS_LOOKBACK }));
  if (!last) return { checkedAt: null, sourceChangedAt: null };
  return { checkedAt: last.endedAt, sourceChangedAt: sourceChangedOf(await store.runReport(last.id)) };
}
