/**
 * The daemon's Prometheus metrics (prom-client), on a registry of its own so nothing else in the
 * process can add to or reset them. Names follow the Prometheus naming guide: a `quo_sync_` prefix,
 * `_total` for counters, base units (seconds).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { QuoClientStats } from "../quo/client.js";
import type { SyncReport } from "../report/report.js";
import type { Freshness } from "../state/freshness.js";
import { RUN_TRIGGERS, type RunTrigger } from "../state/store.js";

/** How a tick ended, as `quo_sync_runs_total{outcome}` counts it. */
export type TickOutcome = "ok" | "failed" | "refused" | "interrupted" | "skipped";

/** How a run that started ended, as `quo_sync_runs_by_trigger_total{outcome}` counts it. */
const RUN_OUTCOMES = ["ok", "failed", "refused", "interrupted"] as const;

/** Why a tick did not start a run. */
export type SkipReason = "busy" | "locked";

/**
 * The kinds `quo_sync_writes_total{kind}` counts: the report's actions. An unlink sends nothing to
 * Quo (the sync only forgets the contact) but is counted beside them, so the series add up to
 * everything a run changed.
 */
const WRITE_KINDS = ["create", "update", "delete", "link", "unlink"] as const;

/**
 * Run-duration buckets in seconds: an unchanged rerun takes well under a second, a first load of
 * tens of thousands of contacts at 10 requests/s takes an hour or more.
 */
const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 15, 60, 300, 900, 3600, 10_800];

/** The metrics one daemon exports; `render()` is what `/metrics` serves. */
export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly runs: Counter<"sync" | "outcome">;
  private readonly ticksSkipped: Counter<"sync" | "reason">;
  private readonly writes: Counter<"sync" | "kind">;
  private readonly writesFailed: Counter<"sync">;
  private readonly rejectedTotal: Counter<"sync">;
  private readonly rejectedLast: Gauge<"sync">;
  private readonly skippedLast: Gauge<"sync">;
  private readonly filteredLast: Gauge<"sync">;
  private readonly duration: Histogram<"sync">;
  private readonly lastSuccess: Gauge<"sync">;
  private readonly lastCompleted: Gauge<"sync">;
  private readonly sourceChanged: Gauge<"sync">;
  private readonly runsByTrigger: Counter<"sync" | "trigger" | "outcome">;
  private readonly running: Gauge<"sync">;
  private readonly alerts: Counter<"sync" | "event" | "channel" | "result">;

  /**
   * `quoStats` is the live counters of each workspace's client, by workspace name; they are read at
   * each scrape, so 429s that happen in the middle of a long run show up before it ends. A workspace
   * it names gets its series from the first scrape on, at zero until its client sends a request.
   */
  constructor(syncs: readonly string[], quoStats: () => Readonly<Record<string, QuoClientStats>>) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.runs = new Counter({ name: "quo_sync_runs_total", help: "Scheduled ticks by outcome (ok, failed, refused, interrupted, skipped).", labelNames: ["sync", "outcome"], registers });
    this.ticksSkipped = new Counter({ name: "quo_sync_ticks_skipped_total", help: "Ticks that started no run: the previous run was still busy here (busy), or another process held the sync's lock (locked).", labelNames: ["sync", "reason"], registers });
    this.writes = new Counter({ name: "quo_sync_writes_total", help: "Changes a run carried out, by kind: create, update, delete and link write to Quo; unlink only makes the sync forget a linked contact.", labelNames: ["sync", "kind"], registers });
    this.writesFailed = new Counter({ name: "quo_sync_writes_failed_total", help: "Writes Quo refused after retries.", labelNames: ["sync"], registers });
    this.rejectedTotal = new Counter({ name: "quo_sync_rejected_rows_total", help: "Source rows rejected for bad data, summed over runs (a row still bad is counted at every run).", labelNames: ["sync"], registers });
    this.rejectedLast = new Gauge({ name: "quo_sync_rejected_rows", help: "Source rows the last completed run rejected for bad data.", labelNames: ["sync"], registers });
    this.skippedLast = new Gauge({ name: "quo_sync_skipped_rows", help: "Source rows the last completed run left alone by the sync's mode (create-only, update-only).", labelNames: ["sync"], registers });
    this.filteredLast = new Gauge({ name: "quo_sync_filtered_rows", help: "Source rows the last completed run left out by the sync's where filter.", labelNames: ["sync"], registers });
    this.duration = new Histogram({ name: "quo_sync_run_duration_seconds", help: "Duration of runs that started (skipped ticks excluded).", labelNames: ["sync"], buckets: DURATION_BUCKETS, registers });
    this.lastSuccess = new Gauge({ name: "quo_sync_last_success_timestamp_seconds", help: "Unix time of the sync's last run that ended ok (from the state database at start, then live).", labelNames: ["sync"], registers });
    this.lastCompleted = new Gauge({ name: "quo_sync_last_completed_run_timestamp_seconds", help: "Unix time the sync's source was last checked: the end of its last run that completed (ok). Changes not yet applied are at most time() minus this old.", labelNames: ["sync"], registers });
    this.sourceChanged = new Gauge({ name: "quo_sync_source_change_applied_timestamp_seconds", help: "Unix time of the newest source change the sync has applied to Quo (a CSV file's mtime, HubSpot's newest lastmodifieddate); absent when the source cannot tell (Google Sheets). Grows old while the source is idle.", labelNames: ["sync"], registers });
    this.runsByTrigger = new Counter({ name: "quo_sync_runs_by_trigger_total", help: "Runs that started, by what started them (schedule, manual, webhook, watch) and outcome (ok, failed, refused, interrupted).", labelNames: ["sync", "trigger", "outcome"], registers });
    this.running = new Gauge({ name: "quo_sync_running", help: "1 while a run of the sync is in progress in this daemon.", labelNames: ["sync"], registers });
    this.alerts = new Counter({ name: "quo_sync_alerts_total", help: "Alerts this daemon delivered (sent) or gave up on after retries (failed), by sync, event and channel (type:VARIABLE).", labelNames: ["sync", "event", "channel", "result"], registers });
    quoCounter(registers, "quo_sync_quo_requests_total", "HTTP requests sent to Quo, retries included, by workspace.", quoStats, (s) => s.requests);
    quoCounter(registers, "quo_sync_quo_retries_total", "Requests to Quo that were retried, by workspace.", quoStats, (s) => s.retries);
    quoCounter(registers, "quo_sync_quo_rate_limited_total", "429 (rate limited) answers from Quo, by workspace.", quoStats, (s) => s.rateLimited);
    quoCounter(registers, "quo_sync_quo_server_errors_total", "5xx answers from Quo, by workspace.", quoStats, (s) => s.serverErrors);
    // Every series exists from the start, so a rate() or an absent-series alert works before the first run.
    for (const sync of syncs) {
      for (const outcome of ["ok", "failed", "refused", "interrupted", "skipped"] as const) this.runs.inc({ sync, outcome }, 0);
      for (const kind of WRITE_KINDS) this.writes.inc({ sync, kind }, 0);
      for (const reason of ["busy", "locked"] as const) this.ticksSkipped.inc({ sync, reason }, 0);
      for (const trigger of RUN_TRIGGERS) for (const outcome of RUN_OUTCOMES) this.runsByTrigger.inc({ sync, trigger, outcome }, 0);
      this.writesFailed.inc({ sync }, 0);
      this.rejectedTotal.inc({ sync }, 0);
      this.running.set({ sync }, 0);
    }
  }

  /** A tick that started no run. */
  skipped(sync: string, reason: SkipReason): void {
    this.runs.inc({ sync, outcome: "skipped" });
    this.ticksSkipped.inc({ sync, reason });
  }

  runStarted(sync: string): void {
    this.running.set({ sync }, 1);
  }

  /** A run that returned a report (ok, refused or interrupted), started by `trigger` (default `schedule`). */
  runFinished(sync: string, report: SyncReport, durationMs: number, endedAt: number, trigger: RunTrigger = "schedule"): void {
    const outcome = report.outcome === "refused" ? "refused" : report.outcome === "interrupted" ? "interrupted" : "ok";
    this.runs.inc({ sync, outcome });
    this.runsByTrigger.inc({ sync, trigger, outcome });
    this.running.set({ sync }, 0);
    this.duration.observe({ sync }, durationMs / 1000);
    // A refused run wrote nothing: its counts are what the plan would have done.
    if (outcome !== "refused") {
      for (const kind of WRITE_KINDS) this.writes.inc({ sync, kind }, report.counts[kind]);
      this.writesFailed.inc({ sync }, report.counts.failed);
    }
    this.rejectedTotal.inc({ sync }, report.counts.rejected);
    this.rejectedLast.set({ sync }, report.counts.rejected);
    this.skippedLast.set({ sync }, report.counts.skipped);
    this.filteredLast.set({ sync }, report.counts.filtered);
    if (outcome === "ok") {
      this.setLastSuccess(sync, endedAt);
      const changed = typeof report.sourceChangedAt === "string" ? Date.parse(report.sourceChangedAt) : Number.NaN;
      this.setFreshness(sync, { checkedAt: endedAt, sourceChangedAt: Number.isFinite(changed) ? changed : null });
    }
  }

  /** A run that ended without a report of its own to count (its tick was skipped after all). */
  runEnded(sync: string): void {
    this.running.set({ sync }, 0);
  }

  /** A run that threw, started by `trigger` (default `schedule`). */
  runFailed(sync: string, durationMs: number, trigger: RunTrigger = "schedule"): void {
    this.runs.inc({ sync, outcome: "failed" });
    this.runsByTrigger.inc({ sync, trigger, outcome: "failed" });
    this.running.set({ sync }, 0);
    this.duration.observe({ sync }, durationMs / 1000);
  }

  /** One alert delivered or given up on (`Alerter`'s counter). */
  alertDelivered(sync: string, event: string, channel: string, result: "sent" | "failed"): void {
    this.alerts.inc({ sync, event, channel, result });
  }

  setLastSuccess(sync: string, at: number): void {
    this.lastSuccess.set({ sync }, at / 1000);
  }

  /**
   * The sync's freshness (from the state database at start, then from each completed run): a time
   * not known leaves its series absent rather than at 0, which would read as 56 years stale.
   */
  setFreshness(sync: string, fresh: Freshness): void {
    if (fresh.checkedAt !== null) this.lastCompleted.set({ sync }, fresh.checkedAt / 1000);
    if (fresh.sourceChangedAt !== null) this.sourceChanged.set({ sync }, fresh.sourceChangedAt / 1000);
    else this.sourceChanged.remove({ sync });
  }

  /**
   * Per sync, the runs by outcome and the writes by kind counted so far: logged when the daemon
   * stops, so the totals of a process survive it (a scrape may miss the last seconds).
   */
  async totals(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    const add = (sync: string, key: string, v: number) => ((out[sync] ??= {})[key] = v);
    for (const v of (await this.runs.get()).values) add(String(v.labels.sync), String(v.labels.outcome), v.value);
    for (const v of (await this.writes.get()).values) add(String(v.labels.sync), String(v.labels.kind), v.value);
    for (const v of (await this.writesFailed.get()).values) add(String(v.labels.sync), "writesFailed", v.value);
    return out;
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * A counter per workspace that mirrors a monotonic number kept elsewhere (each client's stats): at
 * each scrape it adds what grew since the last one, so it stays a true counter (`rate()` works)
 * without the clients knowing about Prometheus.
 */
function quoCounter(
  registers: Registry[],
  name: string,
  help: string,
  stats: () => Readonly<Record<string, QuoClientStats>>,
  pick: (s: QuoClientStats) => number,
): void {
  const seen = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: ["workspace"],
    registers,
    collect() {
      for (const [workspace, s] of Object.entries(stats())) {
        const now = pick(s);
        const before = seen.get(workspace) ?? 0;
        this.inc({ workspace }, Math.max(0, now - before));
        seen.set(workspace, Math.max(now, before));
      }
    },
  });
}
