/**
 * `quo-sync status`: recent runs per sync from the state database — start, duration, outcome,
 * counts, what started each, the first rejection reasons and the last error — how fresh each sync is
 * (when its source was last checked, and the newest source change applied: docs/daemon.md,
 * "Freshness") — and whether a run holds the sync's lock
 * right now, or a lock was left by a process that is gone (judged as a run taking it over would:
 * `holderGone`). It opens the database read-only, so it is safe beside a running daemon (WAL mode
 * lets readers and the writer proceed together).
 */
import { existsSync } from "node:fs";
import { hasWorkspaces, workspaceOf } from "../config.js";
import type { Rejection } from "../model.js";
import { COUNT_NAMES, POLICY_COUNTS, rejectedRows } from "../report/describe.js";
import { stateLocation } from "../run.js";
import { readFreshness } from "../state/freshness.js";
import { holderGone } from "../state/lock.js";
import { isPostgresUrl, openStore, type LockHolder, type RunRecord, type RunTrigger, type StateStore } from "../state/store.js";
import { EXIT, emit, fail, selectSyncs, setup, type GlobalOptions } from "./common.js";

/** Runs listed per sync unless `--runs` says otherwise. */
const DEFAULT_RUNS = 10;
/** Rejected rows shown per run: enough to recognise the problem; the run's report has them all. */
const REJECTED_ROWS_PER_RUN = 3;
/**
 * Rejections read per run to find those rows: a row has one per field at fault, so a few per row.
 * A row with more reasons than that shows the first ones.
 */
const REJECTIONS_READ_PER_RUN = REJECTED_ROWS_PER_RUN * 4;
/** Runs looked back over to find the last success when it is older than the listed runs. */
const SUCCESS_LOOKBACK = 500;

export interface StatusOptions extends GlobalOptions {
  /** Runs listed per sync (`--runs`, checked by the command line). */
  runs?: number;
}

/** One run as `status` shows it. */
export interface StatusRun {
  id: number;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  outcome: RunRecord["outcome"];
  /** What started the run (schedule, manual, webhook, watch); null for runs recorded before triggers were kept. */
  trigger: RunTrigger | null;
  /** Every count of the report (COUNT_NAMES, in that order), or null for a run that ended without a report. */
  counts: Record<string, number> | null;
  error: string | null;
  /** The rejections of the run's first rejected rows (one per field at fault), in row order. */
  rejections: Rejection[];
}

/** A lock's holder as `status` shows it. */
export interface LockView {
  host: string;
  pid: number;
  since: string;
  heartbeatAt: string;
}

/** One sync as `status --format json` prints it. */
export interface StatusSync {
  sync: string;
  /** The Quo workspace the sync writes to; only when the config defines workspaces. */
  workspace?: string;
  /** Contacts in Quo that this sync created and still manages. */
  contacts: number;
  /** The live process holding the sync's run lock now, if any. */
  runningNow: LockView | null;
  /** A lock left by a process that is gone (the next run takes it over); only when there is one. */
  lockLeft?: LockView;
  lastSuccessAt: string | null;
  /**
   * When the source was last checked: the end of the last completed (`ok`) run, which read the
   * source and applied what it found. The same instant as `lastSuccessAt`, named for freshness.
   */
  checkedAt: string | null;
  /**
   * The newest source change Quo has from this sync (a CSV file's mtime, HubSpot's newest
   * `lastmodifieddate`); null before any completed run and for sources that cannot tell (Google Sheets).
   */
  sourceChangedAt: string | null;
  /**
   * Now minus `sourceChangedAt`, in ms: how old the newest change Quo has is. It grows while the
   * source is idle; what is not yet applied is bounded by the time since `checkedAt` instead.
   */
  sourceChangeAgeMs: number | null;
  runs: StatusRun[];
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/**
 * A run's stored counts with every count of today's reports: runs recorded before a count existed
 * (link, unlink, skipped, filtered) lack its key, and did none of it, so it reads 0.
 */
function allCounts(stored: Record<string, number> | null): Record<string, number> | null {
  if (!stored) return null;
  const zeros = Object.fromEntries(COUNT_NAMES.map((n) => [n, 0]));
  return { ...zeros, ...stored };
}

/**
 * Reads the status of the named syncs from an open store. `workspaces` (sync name → workspace) adds
 * each listed sync's `workspace`; ages are measured at `now` (epoch ms). Throws `StateError` when
 * the database cannot be read.
 */
export async function readStatus(store: StateStore, syncs: readonly string[], runs: number, workspaces: Readonly<Record<string, string>> = {}, now: number = Date.now()): Promise<StatusSync[]> {
  const out: StatusSync[] = [];
  for (const sync of syncs) {
    const recent = await store.recentRuns({ sync, limit: runs });
    const lastOk = recent.find((r) => r.outcome === "ok") ?? (await store.recentRuns({ sync, limit: SUCCESS_LOOKBACK })).find((r) => r.outcome === "ok");
    const holder: LockHolder | null = await store.lockHolder(sync);
    const lock = holder ? { host: holder.host, pid: holder.pid, since: new Date(holder.acquiredAt).toISOString(), heartbeatAt: new Date(holder.heartbeatAt).toISOString() } : null;
    const gone = holder !== null && holderGone(holder, await store.clock());
    const workspace = Object.hasOwn(workspaces, sync) ? workspaces[sync] : undefined;
    const fresh = lastOk ? await readFreshness(store, sync, [lastOk]) : { checkedAt: null, sourceChangedAt: null };
    const history = [];
    for (const r of recent) {
      history.push({
        id: r.id,
        startedAt: new Date(r.startedAt).toISOString(),
        endedAt: iso(r.endedAt),
        durationMs: r.endedAt !== null ? r.endedAt - r.startedAt : null,
        outcome: r.outcome,
        trigger: r.trigger,
        counts: allCounts(r.counts),
        error: r.error,
        rejections: firstRows(await store.runRejections(r.id, REJECTIONS_READ_PER_RUN), REJECTED_ROWS_PER_RUN),
      });
    }
    out.push({
      sync,
      ...(workspace !== undefined ? { workspace } : {}),
      contacts: await store.countSyncRows(sync),
      runningNow: gone ? null : lock,
      ...(gone && lock ? { lockLeft: lock } : {}),
      lastSuccessAt: iso(lastOk?.endedAt ?? null),
      checkedAt: iso(fresh.checkedAt),
      sourceChangedAt: iso(fresh.sourceChangedAt),
      sourceChangeAgeMs: fresh.sourceChangedAt === null ? null : Math.max(0, now - fresh.sourceChangedAt),
      runs: history,
    });
  }
  return out;
}

function duration(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m}m${Math.round((ms % 60_000) / 1000)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

/** Link and unlink are named only when not zero, as in the report's headline: linking is opt-in. */
function countsText(c: Record<string, number> | null): string {
  if (!c) return "";
  const linked = (["link", "unlink"] as const).filter((n) => (c[n] ?? 0) > 0).map((n) => ` ${n} ${c[n]}`).join("");
  // The sync policies' counts (mode, where), like links, only when a run had any.
  const policies = POLICY_COUNTS.filter((n) => (c[n] ?? 0) > 0).map((n) => ` ${n} ${c[n]}`).join("");
  return `+${c.create ?? 0} ~${c.update ?? 0} -${c.delete ?? 0}${linked} =${c.unchanged ?? 0} rejected ${c.rejected ?? 0} failed ${c.failed ?? 0}${policies}`;
}

/** Left-aligns columns so a person can scan down them. */
function columns(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd());
}

/** The table: one block per sync; errors under each run that has one, rejections under the latest run. */
export function renderStatusTable(data: readonly StatusSync[]): string {
  const lines: string[] = [];
  for (const s of data) {
    const where = s.workspace !== undefined ? ` (workspace '${s.workspace}')` : "";
    const head = [`${s.sync}${where}: ${s.contacts} contacts in Quo from this sync`, `last success ${s.lastSuccessAt ?? "never"}`];
    if (s.checkedAt !== null) {
      head.push(s.sourceChangedAt === null ? "newest source change applied: not known" : `newest source change applied ${s.sourceChangedAt} (${duration(s.sourceChangeAgeMs)} old)`);
    }
    if (s.runningNow) head.push(`running now (pid ${s.runningNow.pid} on ${s.runningNow.host}, since ${s.runningNow.since})`);
    if (s.lockLeft) head.push(`lock left by a process that is gone (pid ${s.lockLeft.pid} on ${s.lockLeft.host}, last heartbeat ${s.lockLeft.heartbeatAt}); the next run takes it over`);
    lines.push(head.join("; "));
    if (!s.runs.length) {
      lines.push("  no runs yet", "");
      continue;
    }
    const rows: string[][] = [["  run", "trigger", "started", "duration", "outcome", "counts (+create ~update -delete =unchanged)"]];
    const notes = new Map<number, string[]>();
    s.runs.forEach((r, i) => {
      rows.push([`  #${r.id}`, r.trigger ?? "-", r.startedAt, r.outcome === "running" ? "running" : duration(r.durationMs), r.outcome, countsText(r.counts)]);
      const n: string[] = [];
      if (r.error) n.push(`      ${r.outcome === "failed" ? "error" : "note"}: ${r.error.split("\n")[0]}`);
      if (i === 0 || (r.rejections.length && !s.runs.slice(0, i).some((x) => x.rejections.length))) {
        // A row with several fields at fault: its reasons on one line.
        const groups = rejectedRows(r.rejections);
        for (const g of groups) n.push(`      rejected row ${g[0]!.row}${g[0]!.key ? ` (key ${g[0]!.key})` : ""}: ${g.map((j) => j.reason).join("; ")}`);
        const more = (r.counts?.rejected ?? 0) - groups.length;
        if (groups.length && more > 0) n.push(`      … and ${more} more rejected rows (see the run's report)`);
      }
      notes.set(rows.length - 1, n);
    });
    const formatted = columns(rows);
    formatted.forEach((line, i) => lines.push(line, ...(notes.get(i) ?? [])));
    lines.push("");
  }
  return lines.join("\n");
}

/** The rejections of the first `rows` rejected rows (a row's rejections are stored next to each other). */
function firstRows(rejections: readonly Rejection[], rows: number): Rejection[] {
  return rejectedRows(rejections).slice(0, rows).flat();
}

export async function statusCommand(opts: StatusOptions): Promise<number> {
  try {
    const { loaded, env } = setup(opts);
    const selected = selectSyncs(loaded, opts.sync).map((i) => loaded.config.syncs[i]!);
    const names = selected.map((s) => s.name);
    // Without workspaces in the config every sync is in the one workspace: nothing to show.
    const workspaces: Record<string, string> = hasWorkspaces(loaded.config) ? Object.fromEntries(selected.map((s) => [s.name, workspaceOf(s)])) : {};
    const runs = opts.runs ?? DEFAULT_RUNS;
    const file = stateLocation(loaded, env);
    if (!isPostgresUrl(file) && !existsSync(file)) {
      const empty: StatusSync[] = names.map((sync) => ({ sync, ...(Object.hasOwn(workspaces, sync) ? { workspace: workspaces[sync] as string } : {}), contacts: 0, runningNow: null, lastSuccessAt: null, checkedAt: null, sourceChangedAt: null, sourceChangeAgeMs: null, runs: [] }));
      emit(opts.format === "json" ? JSON.stringify(empty, null, 2) + "\n" : `no runs yet (${file} does not exist)\n`, opts.out);
      return EXIT.ok;
    }
    const store = await openStore(file, { readonly: true });
    try {
      const data = await readStatus(store, names, runs, workspaces);
      emit(opts.format === "json" ? JSON.stringify(data, null, 2) + "\n" : renderStatusTable(data), opts.out);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  } catch (e) {
    return fail(e);
  }
}
