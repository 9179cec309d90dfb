/**
 * One run of one sync: read → plan → (unless dry) execute. The one-shot commands and the daemon
 * call this same function (house-style rule 2).
 */
import path from "node:path";
import type { ConnectorContext } from "../connectors/types.js";
import { checkColumns, type LoadedConfig, type SyncConfig } from "./config.js";
import { ConfigError } from "./errors.js";
import { execute } from "./execute/executor.js";
import { recoverJournal, type RecoveryResult } from "./execute/recover.js";
import type { Logger } from "./log.js";
import type { Managed } from "./plan/from-quo.js";
import type { ResolvedCustomField } from "./plan/map-row.js";
import { isRefused, plan } from "./plan/planner.js";
import { resolveCustomFields } from "./plan/resolve-custom-fields.js";
import { QuoClient, quoClientOptionsFromEnv } from "./quo/client.js";
import { reportFromPlan, reportFromRun, type SyncReport } from "./report/report.js";
import { readSnapshot } from "./sources.js";
import { StateStore } from "./state/store.js";

export interface RunOptions {
  dryRun: boolean;
  allowDeletes: boolean;
}

export interface RunDeps {
  loaded: LoadedConfig;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  now?: () => number;
  /** Aborting stops new writes from starting; the write in flight finishes and the run is recorded as interrupted. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Shared client (one throttle per API key across syncs of one process). */
  client?: QuoClient;
}

/** How many writes may be in flight at once; the throttle, not this, holds the rate. */
export const WRITE_CONCURRENCY = 10;

export function managedOf(sync: SyncConfig, custom: readonly ResolvedCustomField[]): Managed {
  return {
    phoneLabels: new Set(Object.keys(sync.fields.phoneNumbers)),
    emailLabels: new Set(Object.keys(sync.fields.emails)),
    customKeys: new Set(custom.map((c) => c.key)),
  };
}

/** The state file's path: relative paths resolve against the config file's folder. */
export function statePath(loaded: LoadedConfig): string {
  return path.resolve(loaded.baseDir, loaded.config.state);
}

/** Builds the Quo client from the environment. Throws `ConfigError` without a key. */
export function clientFor(loaded: LoadedConfig, env: NodeJS.ProcessEnv, logger: Logger): QuoClient {
  return new QuoClient({ ...quoClientOptionsFromEnv(env, loaded.config.quo.requestsPerSecond), logger });
}

/**
 * Runs one sync. Returns the report (outcome `refused` when a guard refused it). Throws
 * `ConfigError`, `SourceError`, `StateError` or `QuoApiError` when the run cannot complete; a
 * real run is then recorded as failed, and nothing was deleted on the strength of a partial read.
 */
export async function runSync(deps: RunDeps, syncIndex: number, opts: RunOptions): Promise<SyncReport> {
  const { loaded, logger } = deps;
  const now = deps.now ?? Date.now;
  const sync = loaded.config.syncs[syncIndex];
  if (!sync) throw new ConfigError(`there is no syncs[${syncIndex}]`);
  const log = logger.child({ sync: sync.name });
  const started = now();

  const ctx: ConnectorContext = { baseDir: loaded.baseDir, env: deps.env };
  const snapshot = await readSnapshot(sync.source, ctx);
  checkColumns(sync, syncIndex, snapshot.columns, snapshot.origin);
  log.info({ rows: snapshot.rows.length }, "source read");

  const client = deps.client ?? clientFor(loaded, deps.env, log);
  const customFields = Object.keys(sync.fields.customFields).length
    ? resolveCustomFields(sync, syncIndex, await client.listCustomFields())
    : [];
  const managed = managedOf(sync, customFields);

  const store = StateStore.open(statePath(loaded), { readonly: opts.dryRun });
  let runId: number | null = null;
  try {
    let recovery: RecoveryResult | undefined;
    if (!opts.dryRun) {
      store.closeAbandonedRuns(sync.name, now());
      runId = store.startRun(sync.name, started);
      recovery = await recoverJournal(store, client, sync.name, managed, now);
      if (recovery.adopted + recovery.refreshed + recovery.dropped > 0) log.info(recovery, "resolved writes left in flight by an earlier run");
    } else if (store.pendingJournal(sync.name).length > 0) {
      log.warn("an earlier run was stopped mid-write; the next real run re-reads those contacts from Quo first, so this plan may show a few changes that are already done");
    }

    const p = plan(snapshot, store.loadSyncRows(sync.name), { sync, customFields, allowDeletes: opts.allowDeletes });
    for (const g of p.guards) (g.refused ? log.error.bind(log) : log.warn.bind(log))({ guard: g.guard }, g.message);

    if (opts.dryRun || isRefused(p)) {
      const report = reportFromPlan(p, opts.dryRun);
      if (runId !== null) {
        store.finishRun(runId, "refused", now(), report.counts, p.guards.find((g) => g.refused)?.message);
        store.addRejections(runId, p.rejected);
      }
      return { ...report, ...(recovery ? { recovery } : {}), durationMs: now() - started };
    }

    const outcomes = await execute(p, {
      sync,
      client,
      store,
      runId: runId as number,
      managed,
      concurrency: WRITE_CONCURRENCY,
      now,
      logger: log,
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    });
    const interrupted = Boolean(deps.signal?.aborted);
    const report = reportFromRun(p, outcomes, interrupted);
    store.finishRun(runId as number, interrupted ? "interrupted" : "ok", now(), report.counts, interrupted ? "stopped by a signal" : undefined);
    store.addRejections(runId as number, p.rejected);
    log.info({ counts: report.counts }, interrupted ? "run interrupted" : "run finished");
    return { ...report, ...(recovery ? { recovery } : {}), durationMs: now() - started };
  } catch (e) {
    if (runId !== null) store.finishRun(runId, "failed", now(), undefined, e instanceof Error ? e.message : String(e));
    throw e;
  } finally {
    store.close();
  }
}
