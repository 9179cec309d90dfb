/**
 * Writing each record's Quo id and status back to a source that asks for it (a Google Sheet's
 * `writeBack` columns), after the run's Quo writes are done and recorded.
 */
import type { ConnectorContext, WriteBackEntry } from "../connectors/types.js";
import type { SyncConfig } from "./config.js";
import type { ActionOutcome } from "./model.js";
import type { Logger } from "./log.js";
import type { Plan, Snapshot, SyncRow } from "./model.js";
import type { SyncReport } from "./report/report.js";
import { writeBackFor } from "./sources.js";

/**
 * Each source record's outcome for write-back: its Quo id from the state after the run, and "ok",
 * or why it is not (fully) in Quo: rejected, filtered out by `where`, skipped by `mode`, or failed.
 */
export function writeBackEntries(snapshot: Snapshot, keyColumn: string, p: Plan, outcomes: readonly ActionOutcome[], state: readonly SyncRow[]): WriteBackEntry[] {
  const quoIds = new Map(state.map((r) => [r.key, r.quoId]));
  const problems = new Map<string, string>();
  // The first row of a key speaks for it; all its reasons, as a row may have several fields at fault.
  const rowOfKey = new Map<string, number>();
  for (const r of p.rejected) {
    if (r.key === undefined) continue;
    const row = rowOfKey.get(r.key);
    if (row === undefined) {
      rowOfKey.set(r.key, r.row);
      problems.set(r.key, r.reason);
    } else if (row === r.row) problems.set(r.key, `${problems.get(r.key)}; ${r.reason}`);
  }
  // Out of the sync by its `where`, or left alone by its `mode`: said as such, never "ok".
  for (const f of p.filtered) if (f.key !== undefined && !problems.has(f.key)) problems.set(f.key, `filtered: ${f.condition}`);
  for (const s of p.skipped) if (!problems.has(s.key)) problems.set(s.key, `skipped: ${s.reason}`);
  for (const o of outcomes) if (o.status === "failed") problems.set(o.action.key, `failed: ${o.error?.message ?? "unknown error"}`);
  const seen = new Set<string>();
  const out: WriteBackEntry[] = [];
  for (const row of snapshot.rows) {
    const key = (row.values[keyColumn] ?? "").trim();
    if (!key || seen.has(key)) continue;
    seen.add(key);
    out.push({ key, quoId: quoIds.get(key) ?? null, status: problems.get(key) ?? (quoIds.has(key) ? "ok" : "not synced") });
  }
  return out;
}

/**
 * Writes ids and statuses back when the source asks for it and returns what was written, or
 * undefined when it does not. Never throws: the Quo writes are done and recorded whatever happens
 * here, so a failed write-back is reported (and retried by the next run, which writes only cells
 * that differ), not a failed run.
 */
export async function writeBackIds(sync: SyncConfig, ctx: ConnectorContext, snapshot: Snapshot, p: Plan, outcomes: readonly ActionOutcome[], state: () => Promise<readonly SyncRow[]>, log: Logger): Promise<SyncReport["writeBack"]> {
  const target = writeBackFor(sync.source);
  if (!target) return undefined;
  try {
    const wb = await target.writeBack(sync.source, ctx, writeBackEntries(snapshot, sync.key, p, outcomes, await state()));
    log.info({ cells: wb.updated, missing: wb.missing.length }, "wrote Quo ids back to the source");
    return wb;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    log.warn({ error: message }, "could not write Quo ids back to the source; the next run tries again");
    return { updated: 0, missing: [], error: message };
  }
}
