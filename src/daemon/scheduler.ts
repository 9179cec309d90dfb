/**
 * The scheduler: one node-cron task per scheduled sync, each tick calling the same `runSync` as the
 * one-shot command, under the same state-database lock (docs/architecture.md). One run per sync at a
 * time; one sync failing never stops the others; shutdown lets the writes in flight finish.
 */
import { existsSync } from "node:fs";
import { schedule, type Logger as CronLogger, type ScheduledTask } from "node-cron";
import { workspaceOf, type LoadedConfig } from "../config.js";
import { ConfigError, GuardRefused, QuoSyncError, SourceError, StateError } from "../errors.js";
import type { Logger } from "../log.js";
import type { QuoClients } from "../quo/clients.js";
import { QuoApiError } from "../quo/errors.js";
import type { SyncReport } from "../report/report.js";
import { runSync, stateLocation, type RunDeps, type RunOptions, type RunTargets } from "../run.js";
import { LockBusy } from "../state/lock.js";
import { isPostgresUrl, openStore, type RunTrigger, type StateStore } from "../state/store.js";
import type { ErrorKind, HealthDetail, SyncHealthDetail } from "./health-server.js";
import { readFreshness } from "../state/freshness.js";
import type { DaemonMetrics } from "./metrics.js";
import type { ScheduledSync } from "./schedules.js";

/** The run function a tick calls; `runSync` in production. */
export type RunFn = (deps: RunDeps, syncIndex: number, opts: RunOptions) => Promise<SyncReport>;

/** Everything the scheduler needs; the command builds it. */
export interface SchedulerOptions {
  loaded: LoadedConfig;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The process's clients: one per workspace, one throttle per API key, shared by every sync. */
  clients: QuoClients;
  /** A state store every run shares (PostgreSQL); without it each run opens the state itself. */
  store?: StateStore;
  metrics: DaemonMetrics;
  syncs: readonly ScheduledSync[];
  /**
   * Syncs without a `schedule` that run only when asked (`request`, the console's Run now); none by
   * default. They get no cron task and are not published by `/healthz`.
   */
  onRequestOnly?: readonly OnRequestSync[];
  /** Turns an error into the one-line reason logged and kept for `status` (the command's `describeError`). */
  describe: (e: unknown) => string;
  run?: RunFn;
  now?: () => number;
  /** Called at the end of each run (a tick or a request), once it is recorded, whatever the outcome (alerts judge it from the store). */
  afterRun?: (sync: OnRequestSync) => void | Promise<void>;
}

/** A sync the daemon runs only when asked: its index in `config.syncs` and its name. */
export interface OnRequestSync {
  index: number;
  name: string;
}

/** What a run asked for outside the schedule does: the console's Run now, or Run with deletes allowed. */
export interface RunRequest {
  /** Lets the run delete beyond the guards, as `sync --allow-deletes` does. */
  allowDeletes: boolean;
  /** What asked for it, as recorded with the run; `manual` (the console) by default. */
  trigger?: Exclude<RunTrigger, "schedule">;
  /** Reads the sync's contacts back from Quo so `onDrift` applies now (`RunOptions.verify`). */
  verify?: boolean;
  /** With `verify`, only these keys' contacts are read back (`RunOptions.verifyKeys`). */
  verifyKeys?: readonly string[];
  /** A targeted run of just these source records (a HubSpot webhook's contact ids, `RunOptions.targets`). */
  targets?: RunTargets;
}

/** Why `request` started no run: the sync is unknown, busy here, or the daemon is stopping. */
export type RequestRefusal = "unknown" | "busy" | "stopping";

/** A run in progress in this process, for the console's live indicator. */
export interface RunProgress {
  startedAt: number;
  trigger: RunTrigger;
  /** Writes done and planned, once the run has planned and started writing; null before. */
  done: number | null;
  total: number | null;
}

/** What the daemon remembers about a sync between ticks (for `/healthz`). */
interface SyncState {
  running: boolean;
  /** The run in progress here, while `running`. */
  progress: RunProgress | null;
  lastOutcome: string | null;
  lastRunAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  /** What `/healthz` publishes instead of `lastError`. */
  lastErrorKind: ErrorKind | null;
}

/** Runs looked at, per sync, to find the last outcome and the last success at start. */
const HISTORY_AT_START = 50;

/** Schedules the syncs; `stop()` ends it. Not restartable: make a new one. */
export class Scheduler {
  private readonly tasks = new Map<string, ScheduledTask>();
  private readonly states = new Map<string, SyncState>();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Dry runs in progress for the console's Preview, by sync. */
  private readonly previews = new Map<string, Promise<SyncReport>>();
  private readonly abort = new AbortController();
  private readonly run: RunFn;
  private readonly now: () => number;
  private stopping = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.run = opts.run ?? runSync;
    this.now = opts.now ?? Date.now;
    for (const s of [...opts.syncs, ...(opts.onRequestOnly ?? [])]) this.states.set(s.name, { running: false, progress: null, lastOutcome: null, lastRunAt: null, lastSuccessAt: null, lastError: null, lastErrorKind: null });
  }

  /** Loads each sync's last outcome from the state database, then schedules every sync. */
  async start(): Promise<void> {
    await this.loadHistory();
    const cronLogger = cronLoggerFor(this.opts.logger);
    for (const s of this.opts.syncs) {
      const log = this.logFor(s);
      // Overlap is handled in tick() (not node-cron's noOverlap) so a skipped tick is logged and counted.
      const task = schedule(s.schedule, () => void this.tick(s), { name: s.name, logger: cronLogger });
      // A blocked event loop (a large plan) makes node-cron skip slots; they are not replayed.
      task.on("execution:missed", (ctx) => log.debug({ slot: ctx.date.toISOString() }, "tick missed while the process was busy"));
      this.tasks.set(s.name, task);
      log.info({ schedule: s.schedule, next: task.getNextRun()?.toISOString() }, "scheduled");
    }
  }

  /**
   * Runs every scheduled sync once now (`daemon --run-now`), each as a tick: the same run, lock and
   * bookkeeping, so a scheduled tick that comes while it is still busy is skipped as usual.
   * Resolves when those runs have ended. Never throws.
   */
  async runNow(): Promise<void> {
    await Promise.all(this.opts.syncs.map((s) => this.tick(s)));
  }

  /**
   * One tick of one sync: skipped (and counted) when its previous run is still busy here or
   * another process holds its lock; otherwise one `runSync`. Never throws.
   */
  async tick(s: ScheduledSync): Promise<void> {
    const state = this.states.get(s.name);
    if (!state || this.stopping) return;
    const log = this.logFor(s);
    if (state.running) {
      log.warn("tick skipped: previous run still busy");
      this.opts.metrics.skipped(s.name, "busy");
      return;
    }
    await this.begin(s, state, log, { trigger: "schedule", allowDeletes: false });
  }

  /**
   * Starts one run outside the schedule (the console's Run now, a trigger, possibly targeted): the same run, lock, bookkeeping and
   * metrics as a tick, recorded with trigger `manual`; for scheduled and on-request syncs alike.
   * Refuses (returns why, starting nothing) when the sync is unknown, a run of it is in progress
   * here, or the daemon is stopping. Otherwise returns at once with `done`, which resolves when the
   * run has ended (never rejects); another process holding the lock ends it as a skipped tick does,
   * and then `ran` (which resolves with `done`) is false.
   */
  request(name: string, how: RunRequest): { started: true; done: Promise<void>; ran: Promise<boolean> } | { started: false; why: RequestRefusal } {
    const s = this.runnable(name);
    const state = this.states.get(name);
    if (!s || !state) return { started: false, why: "unknown" };
    if (this.stopping) return { started: false, why: "stopping" };
    if (state.running) return { started: false, why: "busy" };
    const log = this.logFor(s);
    const trigger = how.trigger ?? "manual";
    log.info({ allowDeletes: how.allowDeletes, trigger, verify: Boolean(how.verify), ...(how.targets ? { targeted: how.targets.ids.length + (how.targets.gone?.length ?? 0) } : {}) }, "run requested");
    const ran = this.begin(s, state, log, { trigger, allowDeletes: how.allowDeletes, verify: Boolean(how.verify), ...(how.verifyKeys ? { verifyKeys: how.verifyKeys } : {}), ...(how.targets ? { targets: how.targets } : {}) });
    // `ran`: false when another process held the sync's lock, so nothing ran (a trigger retries).
    return { started: true, done: ran.then(() => undefined), ran };
  }

  /** Resolves when the run of a sync in progress here (if any) has ended; at once when none is. Never rejects. */
  async whenIdle(name: string): Promise<void> {
    await this.inFlight.get(name)?.catch(() => {});
  }

  /** Whether the daemon is stopping: no run starts any more. */
  isStopping(): boolean {
    return this.stopping;
  }

  /**
   * A dry run of one sync, as `plan` makes it: no lock, nothing written, not recorded and not
   * counted in the metrics, so it may run beside a real run. Throws what `runSync` throws, and
   * `ConfigError` for a sync the daemon does not know.
   */
  async preview(name: string): Promise<SyncReport> {
    const s = this.runnable(name);
    if (!s) throw new ConfigError(`there is no sync named '${name}' in this daemon`);
    // A preview reads the whole source and plans: one per sync at a time, shared by whoever asks meanwhile.
    const pending = this.previews.get(name);
    if (pending) return pending;
    const { loaded, env, logger, clients } = this.opts;
    const p = this.run({ loaded, env, logger, clients, signal: this.abort.signal, now: this.now }, s.index, { dryRun: true, allowDeletes: false, waitForLockMs: 0, trigger: "manual" }).finally(() => this.previews.delete(name));
    this.previews.set(name, p);
    return p;
  }

  /** The run in progress here for a sync, or null. */
  progress(name: string): RunProgress | null {
    const st = this.states.get(name);
    return st?.running ? st.progress : null;
  }

  /** A sync this daemon can run, scheduled or on request only. */
  private runnable(name: string): OnRequestSync | undefined {
    return this.opts.syncs.find((x) => x.name === name) ?? this.opts.onRequestOnly?.find((x) => x.name === name);
  }

  /** Marks the sync busy, runs it once and clears the mark: the bookkeeping every run shares. */
  private async begin(s: OnRequestSync, state: SyncState, log: Logger, how: Omit<RunRequest, "trigger"> & { trigger: RunTrigger }): Promise<boolean> {
    state.running = true;
    state.progress = { startedAt: this.now(), trigger: how.trigger, done: null, total: null };
    this.opts.metrics.runStarted(s.name);
    const p = this.runOnce(s, state, log, how).finally(() => {
      state.running = false;
      state.progress = null;
      this.inFlight.delete(s.name);
    });
    this.inFlight.set(s.name, p.then(() => undefined));
    const ran = await p;
    try {
      await this.opts.afterRun?.(s);
    } catch (e) {
      log.warn(`after the run: ${this.opts.describe(e)}`);
    }
    return ran;
  }

  /** One run; false when another process held the lock (nothing ran), true otherwise (failed runs included). */
  private async runOnce(s: OnRequestSync, state: SyncState, log: Logger, how: Omit<RunRequest, "trigger"> & { trigger: RunTrigger }): Promise<boolean> {
    const started = this.now();
    const { loaded, env, logger, clients } = this.opts;
    try {
      const shared = this.opts.store ? { store: this.opts.store } : {};
      const onProgress = (done: number, total: number) => {
        if (state.progress) state.progress = { ...state.progress, done, total };
      };
      const report = await this.run({ loaded, env, logger, clients, signal: this.abort.signal, now: this.now, onProgress, ...shared }, s.index, { dryRun: false, allowDeletes: how.allowDeletes, waitForLockMs: 0, trigger: how.trigger, ...(how.verify ? { verify: true, ...(how.verifyKeys ? { verifyKeys: how.verifyKeys } : {}) } : {}), ...(how.targets ? { targets: how.targets } : {}) });
      const ended = this.now();
      this.opts.metrics.runFinished(s.name, report, ended - started, ended, how.trigger);
      state.lastOutcome = report.outcome;
      state.lastRunAt = ended;
      if (report.outcome === "ok") {
        state.lastSuccessAt = ended;
        state.lastError = null;
        state.lastErrorKind = null;
      } else if (report.outcome === "refused") {
        // Deletes are never forced by a tick: a person decides (`sync --allow-deletes`, the console).
        state.lastError = report.guards.find((g) => g.refused)?.message ?? "a safety guard refused the run";
        state.lastErrorKind = "refused";
        log.error({ outcome: report.outcome }, `run refused at every tick until resolved: ${state.lastError}`);
      }
      log.info({ outcome: report.outcome, durationMs: ended - started, counts: report.counts, trigger: how.trigger }, how.trigger === "schedule" ? "scheduled run ended" : "requested run ended");
    } catch (e) {
      const ended = this.now();
      if (e instanceof LockBusy) {
        const h = e.holder;
        // With a shared (PostgreSQL) state, replicas take turns: another one holding the lock is the
        // normal case. With SQLite it is a one-shot run or a second daemon on the same file.
        (this.sharedState() ? log.info.bind(log) : log.warn.bind(log))({ holder: { host: h.host, pid: h.pid, since: new Date(h.acquiredAt).toISOString() } }, `tick skipped: another process holds the lock (pid ${h.pid} on ${h.host})`);
        this.opts.metrics.skipped(s.name, "locked");
        this.opts.metrics.runEnded(s.name);
        return false;
      }
      const reason = this.opts.describe(e);
      this.opts.metrics.runFailed(s.name, ended - started, how.trigger);
      state.lastOutcome = "failed";
      state.lastRunAt = ended;
      state.lastError = reason;
      state.lastErrorKind = errorKind(e);
      log.error({ outcome: "failed", durationMs: ended - started }, `run failed; retried at the next tick: ${reason}`);
      await this.recordUnrecordedFailure(s.name, started, ended, e instanceof Error ? e.message : String(e), log);
    }
    return true;
  }

  /** Whether the state is shared by replicas (PostgreSQL). */
  private sharedState(): boolean {
    try {
      return isPostgresUrl(stateLocation(this.opts.loaded, this.opts.env));
    } catch {
      return false;
    }
  }

  /** The logger of one sync's lines: bound to its name and its workspace. */
  private logFor(s: OnRequestSync): Logger {
    const sync = this.opts.loaded.config.syncs[s.index];
    return this.opts.logger.child({ sync: s.name, ...(sync ? { workspace: workspaceOf(sync) } : {}) });
  }

  /**
   * `runSync` records a run once it holds the lock; a failure before that (the state database cannot
   * be opened, say) leaves no trace in it, and `status` must still show it. Writes the failed run
   * when (and only when) `runSync` did not.
   */
  private async recordUnrecordedFailure(sync: string, started: number, ended: number, message: string, log: Logger): Promise<void> {
    let own: StateStore | undefined;
    try {
      const store = this.opts.store ?? (own = await openStore(stateLocation(this.opts.loaded, this.opts.env)));
      const [last] = await store.recentRuns({ sync, limit: 1 });
      if (last && last.startedAt >= started) return;
      const id = await store.startRun(sync, started);
      // The raw message, as runSync records its own failures.
      await store.finishRun(id, "failed", ended, undefined, message);
    } catch (e) {
      log.warn(`could not record the failed run in the state database: ${this.opts.describe(e)}`);
    } finally {
      await own?.close();
    }
  }

  /** Each sync's last outcome and success from earlier processes, so `/healthz` and the gauge survive restarts. */
  private async loadHistory(): Promise<void> {
    let own: StateStore | undefined;
    try {
      const location = stateLocation(this.opts.loaded, this.opts.env);
      if (!this.opts.store && !isPostgresUrl(location) && !existsSync(location)) return;
      const store = this.opts.store ?? (own = await openStore(location, { readonly: true }));
      for (const [name, state] of this.states) {
        const runs = (await store.recentRuns({ sync: name, limit: HISTORY_AT_START })).filter((r) => r.outcome !== "running");
        const last = runs[0];
        if (last) {
          state.lastOutcome = last.outcome;
          state.lastRunAt = last.endedAt;
          if (last.outcome !== "ok") {
            state.lastError = last.error;
            state.lastErrorKind = last.outcome === "refused" || last.outcome === "interrupted" ? last.outcome : "unknown";
          }
        }
        const ok = runs.find((r) => r.outcome === "ok");
        if (ok?.endedAt) {
          state.lastSuccessAt = ok.endedAt;
          this.opts.metrics.setLastSuccess(name, ok.endedAt);
          this.opts.metrics.setFreshness(name, await readFreshness(store, name, [ok]));
        }
      }
    } catch (e) {
      this.opts.logger.warn(`could not read earlier runs from the state database: ${this.opts.describe(e)}`);
    } finally {
      await own?.close();
    }
  }

  /** What the daemon knows about each sync; `/healthz` publishes a redacted copy (`publicHealth`). */
  health(): HealthDetail {
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const syncs: SyncHealthDetail[] = this.opts.syncs.map((s) => {
      const st = this.states.get(s.name)!;
      const next = this.stopping ? null : (this.tasks.get(s.name)?.getNextRun() ?? null);
      return {
        name: s.name,
        schedule: s.schedule,
        lastOutcome: st.lastOutcome,
        lastRunAt: iso(st.lastRunAt),
        lastSuccessAt: iso(st.lastSuccessAt),
        running: st.running,
        ...(st.lastError ? { lastError: st.lastError } : {}),
        ...(st.lastErrorKind ? { lastErrorKind: st.lastErrorKind } : {}),
        nextRunAt: next ? next.toISOString() : null,
      };
    });
    return { status: this.stopping ? "stopping" : "ok", syncs };
  }

  /** The syncs with a run in progress. */
  busy(): string[] {
    return [...this.inFlight.keys()];
  }

  /**
   * Stops scheduling, asks running runs to stop (no new write starts; each write in flight finishes
   * and the run is recorded `interrupted`), and waits for them up to `timeoutMs`. Resolves true
   * when every run ended in time.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    for (const task of this.tasks.values()) await task.destroy();
    this.abort.abort();
    const pending = [...this.inFlight.values()];
    if (!pending.length) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([Promise.allSettled(pending).then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The kind `/healthz` tells for a failed run, from the error's class (its message may name files or hosts). */
function errorKind(e: unknown): ErrorKind {
  if (e instanceof QuoApiError && (e.status === 401 || e.status === 403)) return "quo-auth";
  if (e instanceof QuoSyncError && e.transient) return "temporary";
  if (e instanceof ConfigError) return "config";
  if (e instanceof SourceError) return "source";
  if (e instanceof StateError) return "state";
  if (e instanceof GuardRefused) return "refused";
  if (e instanceof QuoApiError) return "quo-api";
  return "unexpected";
}

/** node-cron logs to the console (stdout included) by default; its messages go to pino instead. */
function cronLoggerFor(logger: Logger): CronLogger {
  const log = logger.child({ component: "node-cron" });
  const text = (m: string | Error) => (m instanceof Error ? m.message : m);
  return {
    info: (m) => log.debug(m),
    warn: (m) => log.warn(m),
    error: (m, err) => log.error({ err: err?.message }, text(m)),
    debug: (m) => log.debug(text(m)),
  };
}
