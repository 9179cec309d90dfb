/**
 * The alerts of one process: after a run is recorded (by `sync` or a daemon tick) and on the
 * daemon's stall check, it judges the sync from the store (`decide-alert.ts`), commits the decision
 * with `swapAlertState` — only the process whose swap succeeds sends, so several daemons on one
 * PostgreSQL state send each event once — and delivers it on each channel that wants it, in the
 * background: a run is never delayed or failed by an alert (docs/daemon.md, "Alerts").
 */
import { workspaceOf, type AlertChannelConfig, type AlertEventName, type LoadedConfig } from "../config.js";
import type { Logger } from "../log.js";
import type { Rejection } from "../model.js";
import { stateLocation } from "../run.js";
import { openStore, type AlertState, type RunRecord, type StateStore } from "../state/store.js";
import { buildAlertPayload, ALERT_REJECTED_LIMIT, type AlertPayload, type SentEvent } from "./alert-payload.js";
import { decideAlert, decideStall, type AlertDecision } from "./decide-alert.js";
import { parseDuration } from "../duration.js";
import { scheduleIntervalMs } from "./schedule-interval.js";
import { addressSecrets, channelLabel, channelVariable, sendAlert, type DeliveryResult, type DeliveryTimings } from "./send-alert.js";

/** Runs read to find a sync's newest finished run and the planned run before it. */
const RUNS_READ = 20;
/** Rejected keys compared between two runs: more than a run keeps in practice (its report caps at 1,000). */
const REJECTED_KEYS_COMPARED = 100_000;
/** How often the daemon looks for stalled syncs, at most: a stall is three intervals long, so a minute's schedule is seen within half of one. */
export const STALL_CHECK_MS = 30_000;
/** How often the daemon looks for stalled syncs, at least (a per-second schedule in a test). */
const STALL_CHECK_MIN_MS = 1000;
/** How long a stopping daemon waits for alerts in flight: a short part of its shutdown grace period. */
export const ALERT_DRAIN_ON_STOP_MS = 5000;
/**
 * How long a one-shot `sync` waits for its alerts before exiting: a receiver that refuses or fails
 * fast is retried to the end; one that hangs is abandoned (and logged) rather than holding a cron job.
 */
export const ALERT_WAIT_ON_EXIT_MS = 15_000;
/** How long abandoned deliveries get to log and count themselves. */
const ABANDON_GRACE_MS = 1000;
/** Environment variables whose values are scrubbed from alerts by their name's ending. */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|DATABASE_URL)$/;
/** Shorter values are not scrubbed: replacing a common short string would garble a message and hide nothing. */
const MIN_SECRET_LENGTH = 8;

/** Where deliveries are counted (`DaemonMetrics` in a daemon). */
export interface AlertCounter {
  alertDelivered(sync: string, event: SentEvent, channel: string, result: "sent" | "failed"): void;
}

/** What an `Alerter` needs; the command builds it. */
export interface AlerterOptions {
  loaded: LoadedConfig;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  counter?: AlertCounter;
  timings?: DeliveryTimings;
  now?: () => number;
}

/** One channel's answer to `check --alert-test`. */
export interface ChannelTestResult {
  channel: string;
  ok: boolean;
  reason?: string;
}

/** A scheduled sync as the stall check sees it. */
export interface WatchedSync {
  name: string;
  schedule: string;
}

/** Every value of the environment that must never appear in an alert (see `SECRET_NAME`), and each channel's address with its parts. Never throws. */
export function alertSecrets(config: LoadedConfig["config"], env: NodeJS.ProcessEnv): string[] {
  const out = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value && SECRET_NAME.test(name) && value.length >= MIN_SECRET_LENGTH) for (const s of addressSecrets(value)) out.add(s);
  }
  for (const w of Object.values(config.workspaces)) {
    const key = env[w.apiKeyEnv];
    if (key && key.length >= MIN_SECRET_LENGTH) out.add(key);
  }
  for (const c of config.alerts) {
    const address = env[channelVariable(c)];
    if (address) for (const s of addressSecrets(address)) out.add(s);
  }
  return [...out].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

/** Sends the alerts of one process; `drain` waits for what is in flight. */
export class Alerter {
  private readonly channels: readonly AlertChannelConfig[];
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborted when `drain` gives up: the deliveries left are abandoned, so the process can exit. */
  private readonly abandon = new AbortController();
  private readonly now: () => number;
  /** The shortest `repeatAfter` of any channel: the decision repeats then, each channel on its own period. */
  private readonly repeatAfterMs: number;
  private readonly secrets: string[];

  constructor(private readonly opts: AlerterOptions) {
    this.channels = opts.loaded.config.alerts;
    this.now = opts.now ?? Date.now;
    this.repeatAfterMs = Math.min(...this.channels.map(repeatMs));
    this.secrets = alertSecrets(opts.loaded.config, opts.env);
  }

  /** Whether any channel is configured; without one nothing is judged or written. */
  get enabled(): boolean {
    return this.channels.length > 0;
  }

  /** The channels whose variable is not set, as `check` reports them. Never throws. */
  missingVariables(): string[] {
    return [...new Set(this.channels.map(channelVariable).filter((v) => !this.opts.env[v]?.trim()))];
  }

  /**
   * Judges the newest finished run of `sync` recorded in the state and sends its event, all in the
   * background: returns at once, never throws (a failure is logged). `store` is the store the run
   * used when the process keeps one open (PostgreSQL); otherwise the state is opened for it.
   */
  afterRun(sync: string, store?: StateStore): void {
    if (!this.enabled) return;
    this.track(this.withStore(store, (s) => this.judgeRun(s, sync)), sync);
  }

  /**
   * Starts the stall check of the daemon's scheduled syncs: every `STALL_CHECK_MS` (or the shortest
   * schedule interval, when shorter), each sync with no completed run for three of its intervals is
   * announced `stalled`, once. Returns the function that stops it. The timer is unref'd.
   */
  async watchStalls(syncs: readonly WatchedSync[], store?: StateStore): Promise<() => void> {
    if (!this.enabled || syncs.length === 0) return () => {};
    const since = this.now();
    const intervals = new Map<string, number>();
    for (const s of syncs) intervals.set(s.name, await scheduleIntervalMs(s.schedule));
    const period = Math.max(STALL_CHECK_MIN_MS, Math.min(STALL_CHECK_MS, ...intervals.values()));
    let busy = false;
    const timer = setInterval(() => {
      // A slow database must not pile checks up: the next one starts when this one ended.
      if (busy) return;
      busy = true;
      const check = this.withStore(store, async (st) => {
        for (const s of syncs) await this.judgeStall(st, s.name, intervals.get(s.name) as number, since);
      }).finally(() => (busy = false));
      this.track(check, "(stall check)");
    }, period);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * Waits up to `timeoutMs` for the decisions and deliveries in flight; true when none is left.
   * Past it, the deliveries left are abandoned (logged and counted as failed) so that nothing keeps
   * the process alive. Never throws.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const drained = await this.waitForInFlight(timeoutMs);
    if (!drained) {
      this.abandon.abort();
      await this.waitForInFlight(ABANDON_GRACE_MS);
    }
    return drained;
  }

  private async waitForInFlight(timeoutMs: number): Promise<boolean> {
    if (this.inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      // Deliveries started by a decision in flight are tracked too: wait until the set is empty.
      const all = (async () => {
        while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
        return true as const;
      })();
      return await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a `test` event on every channel and says, per channel, whether it arrived. Never throws. */
  async test(sync: string, workspace: string): Promise<ChannelTestResult[]> {
    const payload = buildAlertPayload({ event: "test", sync, workspace, at: this.now(), run: null, rejected: [], consoleBase: this.opts.env.QUO_SYNC_CONSOLE_URL, secrets: this.secrets });
    return Promise.all(
      this.channels.map(async (c) => {
        const r = await this.deliver(c, payload);
        return { channel: channelLabel(c), ok: r.ok, ...(r.reason !== undefined ? { reason: r.reason } : {}) };
      }),
    );
  }

  private track(p: Promise<void>, what: string): void {
    const tracked = p.catch((e: unknown) => this.opts.logger.warn({ sync: what }, `alerts: could not judge the sync: ${e instanceof Error ? e.message : String(e)}`));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  /** Runs `fn` on `store`, or on the state opened for it and closed after. */
  private async withStore(store: StateStore | undefined, fn: (s: StateStore) => Promise<void>): Promise<void> {
    if (store) return fn(store);
    const own = await openStore(stateLocation(this.opts.loaded, this.opts.env));
    try {
      await fn(own);
    } finally {
      await own.close();
    }
  }

  private async judgeRun(store: StateStore, sync: string): Promise<void> {
    const runs = await store.recentRuns({ sync, limit: RUNS_READ });
    const run = runs.find((r) => r.outcome !== "running");
    if (!run) return;
    const planned = runs.find((r) => r.id < run.id && (r.outcome === "ok" || r.outcome === "refused" || r.outcome === "interrupted"));
    const rejected = await store.runRejections(run.id, REJECTED_KEYS_COMPARED);
    const previous = planned ? await store.runRejections(planned.id, REJECTED_KEYS_COMPARED) : [];
    const prev = await store.alertState(sync);
    const now = this.now();
    const decision = decideAlert(prev, { run, rejectedKeys: rejected.map(keyOf), previousRejectedKeys: previous.map(keyOf) }, now, this.repeatAfterMs);
    await this.commit(store, sync, prev, decision, run, rejected, now);
  }

  private async judgeStall(store: StateStore, sync: string, intervalMs: number, since: number): Promise<void> {
    const runs = await store.recentRuns({ sync, limit: RUNS_READ });
    const last = runs.find((r) => r.outcome === "ok" || r.outcome === "failed" || r.outcome === "refused") ?? null;
    const prev = await store.alertState(sync);
    const now = this.now();
    const decision = decideStall(prev, { lastCompletedAt: last?.endedAt ?? null, lastCompletedRunId: last?.id ?? null, watchingSince: since, intervalMs }, now, this.repeatAfterMs);
    await this.commit(store, sync, prev, decision, last, [], now);
  }

  /** Commits a decision; the process whose swap succeeds sends its event on each channel that wants it. */
  private async commit(store: StateStore, sync: string, prev: AlertState | null, d: AlertDecision, run: RunRecord | null, rejected: readonly Rejection[], now: number): Promise<void> {
    if (!d.next) return;
    if (!(await store.swapAlertState(sync, prev?.version ?? null, d.next))) return;
    if (!d.event) return;
    const event = d.event;
    const repeat = prev !== null && prev.state === d.next.state && event === prev.state;
    const targets = this.channels.filter((c) => wants(c, event) && (!repeat || periodPassed(c, prev, now)));
    if (!targets.length) return;
    const config = this.opts.loaded.config.syncs.find((s) => s.name === sync);
    const payload = buildAlertPayload({ event, sync, workspace: config ? workspaceOf(config) : "default", at: now, run, rejected: rejected.slice(0, ALERT_REJECTED_LIMIT), consoleBase: this.opts.env.QUO_SYNC_CONSOLE_URL, secrets: this.secrets });
    for (const c of targets) this.track(this.deliver(c, payload).then(() => {}), sync);
  }

  /** Sends on one channel, logs a failure (never the address) and counts the result. Never throws. */
  private async deliver(channel: AlertChannelConfig, payload: AlertPayload): Promise<DeliveryResult> {
    const variable = channelVariable(channel);
    const address = this.opts.env[variable]?.trim();
    const label = channelLabel(channel);
    const log = this.opts.logger.child({ sync: payload.sync, event: payload.event, channel: label });
    const result: DeliveryResult = address ? await sendAlert(channel, address, payload, { ...this.opts.timings, signal: this.abandon.signal }) : { ok: false, attempts: 0, reason: `${variable} is not set` };
    this.opts.counter?.alertDelivered(payload.sync, payload.event, `${channel.type}:${variable}`, result.ok ? "sent" : "failed");
    if (result.ok) log.info({ attempts: result.attempts }, "alert sent");
    else log.warn({ attempts: result.attempts }, `alert not delivered: ${result.reason ?? "failed"}`);
    return result;
  }
}

/** A rejected row's identity across runs: its key, or its row number when it has none. */
function keyOf(r: Rejection): string {
  return r.key ?? `row ${r.row}`;
}

/** Whether `channel` is sent `event`: its `on` lists it, or it has no `on` (every event). */
function wants(channel: AlertChannelConfig, event: AlertEventName): boolean {
  return channel.on === undefined || channel.on.includes(event);
}

function repeatMs(c: AlertChannelConfig): number {
  return parseDuration(c.repeatAfter) ?? Infinity;
}

/**
 * Whether a repeat of a lasting state is due on `channel`: a new whole period of its own
 * `repeatAfter` has begun since the state's alert was last sent, counted from when the state began.
 */
function periodPassed(channel: AlertChannelConfig, prev: AlertState, now: number): boolean {
  const period = repeatMs(channel);
  const last = prev.lastSentAt ?? prev.since;
  return Math.floor((now - prev.since) / period) > Math.floor((last - prev.since) / period);
}
