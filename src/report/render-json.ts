/**
 * The JSON report: the contract in README.md ("Commands", `--format json`), one object per sync, one per line.
 */
import type { SyncReport } from "./report.js";

/** One JSON object per sync, one per line, so `| jq` works for one sync and for several. */
export function renderJson(reports: readonly SyncReport[]): string {
  return reports.map((r) => JSON.stringify(r)).join("\n") + "\n";
}
