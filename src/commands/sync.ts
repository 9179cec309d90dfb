/**
 * `quo-sync sync` and `quo-sync plan`: one run (or dry run) of every configured sync, or the one
 * named. Syncs run one after the other; one failing does not stop the others, and the exit status
 * reports the worst outcome.
 */
import cliProgress from "cli-progress";
import { ALERT_WAIT_ON_EXIT_MS, Alerter } from "../alerts/alerter.js";
import { workspaceOf } from "../config.js";
import { ConfigError } from "../errors.js";
import { FORMATS, render, type Format } from "../report/render.js";
import type { SyncReport } from "../report/report.js";
import { clientsFor, runSync, sharedStateFor, type SharedState } from "../run.js";
import { EXIT, emit, fail, selectSyncs, setup, type CommandContext, type GlobalOptions } from "./common.js";
import { exitCodeFor, onStopSignals, type StopSignal } from "./stop-signals.js";

/** Below this many writes the progress bar is not worth drawing. */
const PROGRESS_MIN = 50;

export interface SyncCommandOptions extends GlobalOptions {
  dryRun?: boolean;
  detailedExitcode?: boolean;
  /** Seconds to wait for another run of the same sync (`--wait`, checked by the command line). */
  wait?: number;
  acceptFieldChanges?: boolean;
  verify?: boolean;
  /** `--full`: incremental sources read everything this run. */
  full?: boolean;
  /** `--explain` (a dry run only): the report lists every source row, its outcome and its mapping. */
  explain?: boolean;
}

export function parseFormat(f: string): Format {
  if ((FORMATS as readonly string[]).includes(f)) return f as Format;
  throw new ConfigError(`--format ${f}: use one of ${FORMATS.join(", ")}`);
}

/**
 * The progress bar of the sync running now, drawn on a terminal only. cli-progress hides the cursor
 * and turns line wrapping off while it draws, so `stop` must run on every way out of the command.
 */
class Progress {
  #bar: cliProgress.SingleBar | null = null;

  constructor(private readonly enabled: boolean) {}

  /** The `onProgress` of the sync named: its bar starts with its first write, if the run is large enough. */
  of(name: string): (done: number, total: number) => void {
    return (done, total) => {
      if (!this.enabled || total < PROGRESS_MIN) return;
      if (!this.#bar) {
        this.#bar = new cliProgress.SingleBar({ stream: process.stderr, format: `${name} [{bar}] {value}/{total} writes`, clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic);
        this.#bar.start(total, 0);
      }
      this.#bar.update(done);
    };
  }

  /** Clears the bar, if any, and shows the cursor and turns line wrapping on again. Never throws. */
  stop(): void {
    this.#bar?.stop();
    this.#bar = null;
  }
}

/**
 * Runs the syncs and prints their reports. The first SIGINT or SIGTERM stops new writes (the
 * writes in flight finish and are recorded, the run is recorded as interrupted), skips the syncs
 * not started, prints the reports of what was done and one line saying so, and returns 130 or
 * 143 whatever else happened; a dry run stops at once. A second signal exits at once (the journal
 * makes that safe: docs/architecture.md, "Journal").
 */
export async function syncCommand(opts: SyncCommandOptions): Promise<number> {
  let ctx;
  let format: Format;
  let indexes: number[];
  try {
    format = parseFormat(opts.format);
    ctx = setup(opts);
    indexes = selectSyncs(ctx.loaded, opts.sync);
  } catch (e) {
    return fail(e);
  }
  const progress = new Progress(Boolean(process.stderr.isTTY) && !opts.dryRun);
  const stop = new AbortController();
  let interruptedBy: StopSignal | undefined;
  const signals = onStopSignals((signal) => {
    progress.stop();
    process.stderr.write(`quo-sync: second ${signal}: exiting now; nothing is lost — run the same command again to continue\n`);
  });
  void signals.signalled.then((signal) => {
    interruptedBy = signal;
    // A dry run writes nothing anywhere: there is nothing to finish.
    if (opts.dryRun) {
      process.stderr.write(`quo-sync: interrupted by ${signal}; a dry run writes nothing\n`);
      process.exit(exitCodeFor(signal));
    }
    stop.abort(new Error(`stopped by ${signal}`));
  });
  try {
    const done = await runAll(ctx, format, indexes, opts, progress, stop.signal);
    if (!interruptedBy) return done.status;
    process.stderr.write(`quo-sync: ${interruption(interruptedBy, done.reports, done.notStarted)}\n`);
    return exitCodeFor(interruptedBy);
  } finally {
    progress.stop();
    signals.dispose();
  }
}

/** What `runAll` did: the exit status without a stop signal, the reports, and the syncs it never started. */
interface RunAllResult {
  status: number;
  reports: SyncReport[];
  notStarted: string[];
}

/**
 * Runs the syncs at `indexes` one after the other, none once `signal` has aborted, and prints
 * their reports. Never throws: errors are printed (`fail`) and counted in the status.
 */
async function runAll(ctx: CommandContext, format: Format, indexes: readonly number[], opts: SyncCommandOptions, progress: Progress, signal: AbortSignal): Promise<RunAllResult> {
  const reports: SyncReport[] = [];
  const notStarted: string[] = [];
  let status: number = EXIT.ok;
  // With a PostgreSQL state, the writes of this command share each key's rate with every daemon
  // and run on the same database (a dry run sends reads only and takes no part).
  let shared: SharedState;
  try {
    shared = opts.dryRun ? { close: async () => {} } : await sharedStateFor(ctx.loaded, ctx.env);
  } catch (e) {
    return { status: fail(e), reports, notStarted };
  }
  // One registry for every sync of this command: syncs on one API key share its client and throttle.
  const clients = clientsFor(ctx.loaded, ctx.env, ctx.logger, shared.sharedRate);
  // A dry run records nothing, so it has nothing to announce.
  const alerter = opts.dryRun ? undefined : new Alerter({ loaded: ctx.loaded, env: ctx.env, logger: ctx.logger.child({ component: "alerts" }) });
  for (const i of indexes) {
    const sync = ctx.loaded.config.syncs[i];
    const name = sync?.name ?? String(i);
    if (signal.aborted) {
      notStarted.push(name);
      continue;
    }
    const workspace = sync ? workspaceOf(sync) : undefined;
    try {
      const report = await runSync(
        {
          loaded: ctx.loaded,
          env: ctx.env,
          logger: ctx.logger,
          clients,
          signal,
          ...(shared.store ? { store: shared.store } : {}),
          onProgress: progress.of(name),
        },
        i,
        {
          dryRun: Boolean(opts.dryRun),
          allowDeletes: Boolean(opts.allowDeletes),
          waitForLockMs: (opts.wait ?? 0) * 1000,
          acceptFieldChanges: Boolean(opts.acceptFieldChanges),
          verify: Boolean(opts.verify),
          full: Boolean(opts.full),
          explain: Boolean(opts.explain),
        },
      );
      reports.push(report);
      if (report.outcome === "refused") {
        const which = indexes.length > 1 ? `sync '${name}': ` : "";
        process.stderr.write(`quo-sync: ${which}refused: ${report.guards.find((g) => g.refused)?.message ?? "a safety guard refused the run"}\n`);
        status = Math.max(status, EXIT.refused);
      } else if (report.counts.failed > 0) {
        ctx.logger.warn({ sync: name, workspace, failed: report.counts.failed }, "some changes failed; see the report");
      }
    } catch (e) {
      // The line `fail` prints is the reason, printed once (not logged as well); with several syncs
      // it names the one that failed.
      status = Math.max(status, fail(e, indexes.length > 1 ? `sync '${name}'` : undefined));
    } finally {
      progress.stop();
      // Judged from what the run recorded, whatever its outcome; sent in the background.
      alerter?.afterRun(name, shared.store);
    }
  }
  try {
    // Cut to a screen only on one: a report piped or written to a file keeps every reason whole.
    emit(render(format, reports, { terminal: !opts.out && Boolean(process.stdout.isTTY) }), opts.out);
  } catch (e) {
    status = Math.max(status, fail(e));
  }
  if (alerter && !(await alerter.drain(ALERT_WAIT_ON_EXIT_MS))) ctx.logger.warn(`alerts still being delivered after ${ALERT_WAIT_ON_EXIT_MS / 1000}s were abandoned`);
  await shared.close();
  if (status === EXIT.ok && opts.detailedExitcode) {
    const pending = reports.some((r) => r.counts.create + r.counts.update + r.counts.delete + r.counts.link + r.counts.unlink > 0);
    status = pending ? EXIT.changes : EXIT.ok;
  }
  return { status, reports, notStarted };
}

/**
 * The one line that ends an interrupted command: how many of the planned writes were done, the
 * syncs never started, and that running the same command again continues from there.
 */
export function interruption(signal: StopSignal, reports: readonly SyncReport[], notStarted: readonly string[]): string {
  let done = 0;
  let planned = 0;
  for (const r of reports) {
    done += r.counts.create + r.counts.update + r.counts.delete + r.counts.link + r.counts.unlink;
    if (r.outcome !== "refused") planned += r.changes.length;
  }
  const cut = notStarted.length > 0 || reports.some((r) => r.outcome === "interrupted");
  if (!cut) return `${signal} received as the command ended: every sync had run (${done} of ${planned} writes done)`;
  const skipped = notStarted.length ? `; not started: ${notStarted.map((n) => `'${n}'`).join(", ")}` : "";
  return `interrupted by ${signal} after ${done} of ${planned} writes${skipped}; nothing is lost — run the same command again to continue`;
}
