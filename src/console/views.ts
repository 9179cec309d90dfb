/**
 * What the console's pages show, read from the state store and the scheduler: one function per
 * page, no SQL, nothing written. With a PostgreSQL state every replica reads the same runs.
 */
import os from "node:os";
import path from "node:path";
import { workspaceOf, type LoadedConfig, type SyncConfig } from "../config.js";
import type { Drift, Rejection } from "../model.js";
import type { HealthDetail } from "../daemon/health-server.js";
import type { RunProgress } from "../daemon/scheduler.js";
import { upgradeStoredReport, type SyncReport } from "../report/report.js";
import { FRESHNESS_LOOKBACK, sourceChangedOf } from "../state/freshness.js";
import { holderGone } from "../state/lock.js";
import type { RunRecord, StateStore } from "../state/store.js";

/** Runs listed on a sync's page. */
export const RUNS_LISTED = 20;
/** Rejections read from the last run for a sync's page; the run's report has every rejected row. */
export const REJECTIONS_SHOWN = 500;
/** Runs looked back over to find since when a key has been rejected; older ones show as "before". */
export const SINCE_LOOKBACK = 20;
/** Runs looked back over to find the last finished one, or the last with a stored report. */
const FINISHED_LOOKBACK = 20;

/** What the console needs of the scheduler. */
export interface ConsoleScheduler {
  health(): HealthDetail;
  progress(name: string): RunProgress | null;
}

/** Who holds a sync's run lock, as the console shows it. */
export interface LockView {
  host: string;
  pid: number;
  since: number;
  /** This very process holds it (a run in progress here). */
  here: boolean;
  /** The holder is gone; the next run takes the lock over. */
  gone: boolean;
}

/** One sync on the overview. */
export interface SyncSummary {
  name: string;
  workspace: string;
  source: string;
  /** The cron expression, or null for a sync run only on request. */
  schedule: string | null;
  nextRunAt: string | null;
  lastRun: RunRecord | null;
  /** Rejected rows of the last finished run; null before any. */
  openRejected: number | null;
  /** Drifted contacts in the last stored report; null when the sync does not read Quo back (`verify`). */
  drift: number | null;
  lock: LockView | null;
  progress: RunProgress | null;
  /** A run of it is recorded `running` (here or on another replica). */
  runningRecorded: boolean;
  /**
   * How fresh it is (docs/daemon.md, "Freshness"): the end of the last completed run (`checkedAt`),
   * the newest source change applied (`sourceChangedAt`, null when not known), and when that was read
   * (`at`), all epoch ms; null times before any completed run (among the last `FRESHNESS_LOOKBACK`).
   */
  freshness: { checkedAt: number | null; sourceChangedAt: number | null; at: number };
}

/** A rejected row on a sync's page, with since when its key has been rejected. */
export interface OpenRejection extends Rejection {
  /** Start of the oldest run of the unbroken series of recent runs that also rejected this key. */
  since: number;
}

/** One sync's page. */
export interface SyncDetail extends SyncSummary {
  runs: RunRecord[];
  rejected: OpenRejection[];
  driftList: Drift[];
  /** The last run with a stored report, and that report. */
  lastReport: { run: RunRecord; report: SyncReport } | null;
}

/** The source in a few words, never a credential: a CSV file's name, a sheet's id and range, HubSpot. */
export function describeSource(sync: SyncConfig): string {
  const s = sync.source;
  switch (s.type) {
    case "csv":
      return `CSV ${path.basename(s.path)}`;
    case "google-sheets":
      return `Google Sheets ${s.spreadsheetId} (${s.range})`;
    case "hubspot":
      return "HubSpot";
  }
}

/** Reads the console's pages from the store; one instance per daemon. */
export class ConsoleViews {
  /**
   * Per sync, the last completed run whose report was read for its source change time, and that
   * time: a finished run's report never changes, so the overview parses each one once, not at every refresh.
   */
  private readonly changed = new Map<string, { runId: number; at: number | null }>();

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly store: StateStore,
    private readonly scheduler: ConsoleScheduler,
    private readonly now: () => number = Date.now,
  ) {}

  /** The configured syncs' names, in config order. */
  names(): string[] {
    return this.loaded.config.syncs.map((s) => s.name);
  }

  /** Whether a sync of that exact name is configured. */
  has(name: string): boolean {
    return this.loaded.config.syncs.some((s) => s.name === name);
  }

  /** Every configured sync, scheduled or not. */
  async overview(): Promise<SyncSummary[]> {
    const health = this.scheduler.health();
    const out: SyncSummary[] = [];
    for (const sync of this.loaded.config.syncs) out.push(await this.summary(sync, health, await this.store.recentRuns({ sync: sync.name, limit: FINISHED_LOOKBACK })));
    return out;
  }

  /** One sync's page, or null when no sync has that name. */
  async detail(name: string): Promise<SyncDetail | null> {
    const sync = this.loaded.config.syncs.find((s) => s.name === name);
    if (!sync) return null;
    const runs = await this.store.recentRuns({ sync: name, limit: Math.max(RUNS_LISTED, SINCE_LOOKBACK, FINISHED_LOOKBACK) });
    const summary = await this.summary(sync, this.scheduler.health(), runs);
    const lastReport = await this.lastReport(runs);
    return {
      ...summary,
      // A one-shot `sync --verify` measures drift too: the page shows what its report holds.
      drift: lastReport?.report.drift ? lastReport.report.drift.length : summary.drift,
      runs: runs.slice(0, RUNS_LISTED),
      rejected: await this.openRejections(runs),
      driftList: lastReport?.report.drift ?? [],
      lastReport,
    };
  }

  /** A run and its stored report (null when it kept none), or null for an unknown id. */
  async run(id: number): Promise<{ run: RunRecord; report: SyncReport | null } | null> {
    const run = await this.store.runById(id);
    if (!run) return null;
    return { run, report: asReport(await this.store.runReport(id)) };
  }

  /** The lock's holder of a sync, when a live process holds it. */
  async liveHolder(name: string): Promise<LockView | null> {
    const lock = await this.lockOf(name);
    return lock && !lock.gone ? lock : null;
  }

  private async summary(sync: SyncConfig, health: HealthDetail, runs: RunRecord[]): Promise<SyncSummary> {
    const h = health.syncs.find((x) => x.name === sync.name);
    const finished = runs.find((r) => r.outcome !== "running") ?? null;
    // Drift is measured only by runs that read Quo back (`verify`); other syncs' reports, which may
    // hold a thousand changes, are not parsed at every refresh of the overview for nothing.
    const last = sync.verify ? await this.lastReport(runs) : null;
    return {
      name: sync.name,
      workspace: workspaceOf(sync),
      source: describeSource(sync),
      schedule: sync.schedule ?? null,
      nextRunAt: h?.nextRunAt ?? null,
      lastRun: finished,
      openRejected: finished ? (finished.counts?.rejected ?? 0) : null,
      drift: last?.report.drift ? last.report.drift.length : null,
      lock: await this.lockOf(sync.name),
      progress: this.scheduler.progress(sync.name),
      runningRecorded: runs[0]?.outcome === "running",
      freshness: await this.freshness(sync.name, runs),
    };
  }

  private async freshness(name: string, runs: readonly RunRecord[]): Promise<SyncSummary["freshness"]> {
    const at = this.now();
    const completed = (rs: readonly RunRecord[]) => rs.find((r) => r.outcome === "ok" && r.endedAt !== null);
    // A sync failing for longer than the runs at hand: its last completed run is further back.
    const ok = completed(runs) ?? completed(await this.store.recentRuns({ sync: name, limit: FRESHNESS_LOOKBACK }));
    if (!ok) return { checkedAt: null, sourceChangedAt: null, at };
    let cached = this.changed.get(name);
    if (cached?.runId !== ok.id) {
      cached = { runId: ok.id, at: sourceChangedOf(await this.store.runReport(ok.id)) };
      this.changed.set(name, cached);
    }
    return { checkedAt: ok.endedAt, sourceChangedAt: cached.at, at };
  }

  private async lockOf(name: string): Promise<LockView | null> {
    const holder = await this.store.lockHolder(name);
    if (!holder) return null;
    const here = holder.host === os.hostname() && holder.pid === process.pid;
    return { host: holder.host, pid: holder.pid, since: holder.acquiredAt, here, gone: !here && holderGone(holder, await this.store.clock()) };
  }

  private async lastReport(runs: readonly RunRecord[]): Promise<{ run: RunRecord; report: SyncReport } | null> {
    for (const run of runs) {
      if (run.outcome === "running") continue;
      const report = asReport(await this.store.runReport(run.id));
      if (report) return { run, report };
    }
    return null;
  }

  /**
   * The rows the last finished run rejected, each with the start of the oldest run of the unbroken
   * series of recent runs that rejected its key too. Failed runs read no rows, so they neither
   * extend nor break a series.
   */
  private async openRejections(runs: readonly RunRecord[]): Promise<OpenRejection[]> {
    const judged = runs.filter((r) => r.outcome !== "running" && r.outcome !== "failed").slice(0, SINCE_LOOKBACK);
    const [last, ...older] = judged;
    if (!last) return [];
    const rows = await this.store.runRejections(last.id, REJECTIONS_SHOWN);
    const idOf = (r: Rejection) => r.key ?? `row ${r.row}`;
    const since = new Map<string, number>();
    const open = new Set(rows.map(idOf));
    for (const id of open) since.set(id, last.startedAt);
    for (const run of older) {
      if (!open.size) break;
      const keys = new Set((await this.store.runRejections(run.id, REJECTIONS_SHOWN)).map(idOf));
      for (const id of [...open]) {
        if (keys.has(id)) since.set(id, run.startedAt);
        else open.delete(id);
      }
    }
    return rows.map((r) => ({ ...r, since: since.get(idOf(r)) ?? last.startedAt }));
  }
}

/**
 * A stored report, when the value has its shape, in today's shape (`upgradeStoredReport`: one stored
 * before filters and modes reads as having none); anything else (a damaged record) is none.
 */
function asReport(v: unknown): SyncReport | null {
  if (typeof v !== "object" || v === null) return null;
  const r = v as Partial<SyncReport>;
  return typeof r.sync === "string" && typeof r.counts === "object" && r.counts !== null && Array.isArray(r.changes) && Array.isArray(r.rejected) && Array.isArray(r.guards) ? upgradeStoredReport(r as SyncReport) : null;
}
