/**
 * `quo-sync sync` and `quo-sync plan`: one run (or dry run) of every configured sync, or the one
 * named. Syncs run one after the other; one failing does not stop the others, and the exit status
 * reports the worst outcome.
 */
import cliProgress from "cli-progress";
import { workspaceOf } from "../config.js";
import { ConfigError } from "../errors.js";
import { FORMATS, render, type Format } from "../report/render.js";
import type { SyncReport } from "../report/report.js";
import { clientsFor, runSync, sharedStateFor, type SharedState } from "../run.js";
import { EXIT, describeError, emit, fail, selectSyncs, setup, type GlobalOptions } from "./common.js";

/** Below this many writes the progress bar is not worth drawing. */
const PROGRESS_MIN = 50;

export interface SyncCommandOptions extends GlobalOptions {
  dryRun?: boolean;
  detailedExitcode?: boolean;
  wait?: string;
  acceptFieldChanges?: boolean;
  verify?: boolean;
}

export function parseFormat(f: string): Format {
  if ((FORMATS as readonly string[]).includes(f)) return f as Format;
  throw new ConfigError(`--format ${f}: use one of ${FORMATS.join(", ")}`);
}

export async function syncCommand(opts: SyncCommandOptions): Promise<number> {
  let ctx;
  let format: Format;
  let indexes: number[];
  try {
    format = parseFormat(opts.format);
    ctx = setup(opts);
    indexes = selectSyncs(ctx.loaded, opts.sync);
    if (opts.wait !== undefined && !(Number(opts.wait) >= 0)) throw new ConfigError(`--wait ${opts.wait}: give a number of seconds`);
  } catch (e) {
    return fail(e);
  }
  const reports: SyncReport[] = [];
  let status: number = EXIT.ok;
  // With a PostgreSQL state, the writes of this command share each key's rate with every daemon
  // and run on the same database (a dry run sends reads only and takes no part).
  let shared: SharedState;
  try {
    shared = opts.dryRun ? { close: async () => {} } : await sharedStateFor(ctx.loaded, ctx.env);
  } catch (e) {
    return fail(e);
  }
  // One registry for every sync of this command: syncs on one API key share its client and throttle.
  const clients = clientsFor(ctx.loaded, ctx.env, ctx.logger, shared.sharedRate);
  for (const i of indexes) {
    const sync = ctx.loaded.config.syncs[i];
    const name = sync?.name ?? String(i);
    const workspace = sync ? workspaceOf(sync) : undefined;
    const bar = process.stderr.isTTY && !opts.dryRun ? new cliProgress.SingleBar({ stream: process.stderr, format: `${name} [{bar}] {value}/{total} writes`, clearOnComplete: true }, cliProgress.Presets.shades_classic) : null;
    let started = false;
    try {
      const report = await runSync(
        {
          loaded: ctx.loaded,
          env: ctx.env,
          logger: ctx.logger,
          clients,
          ...(shared.store ? { store: shared.store } : {}),
          onProgress: (done, total) => {
            if (!bar || total < PROGRESS_MIN) return;
            if (!started) {
              bar.start(total, 0);
              started = true;
            }
            bar.update(done);
          },
        },
        i,
        {
          dryRun: Boolean(opts.dryRun),
          allowDeletes: Boolean(opts.allowDeletes),
          waitForLockMs: opts.wait !== undefined ? Number(opts.wait) * 1000 : 0,
          acceptFieldChanges: Boolean(opts.acceptFieldChanges),
          verify: Boolean(opts.verify),
        },
      );
      reports.push(report);
      if (report.outcome === "refused") {
        process.stderr.write(`quo-sync: refused: ${report.guards.find((g) => g.refused)?.message ?? "a safety guard refused the run"}\n`);
        status = Math.max(status, EXIT.refused);
      } else if (report.counts.failed > 0) {
        ctx.logger.warn({ sync: name, workspace, failed: report.counts.failed }, "some changes failed; see the report");
      }
    } catch (e) {
      ctx.logger.error({ sync: name, workspace }, describeError(e));
      status = Math.max(status, fail(e));
    } finally {
      if (started) bar?.stop();
    }
  }
  await shared.close();
  try {
    emit(render(format, reports), opts.out);
  } catch (e) {
    status = Math.max(status, fail(e));
  }
  if (status === EXIT.ok && opts.detailedExitcode) {
    const pending = reports.some((r) => r.counts.create + r.counts.update + r.counts.delete + r.counts.link + r.counts.unlink > 0);
    return pending ? EXIT.changes : EXIT.ok;
  }
  return status;
}
