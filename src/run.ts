/**
 * One run of one sync: read → plan → (unless dry) execute (docs/architecture.md). The one-shot
 * commands and the daemon call this same function, under the same lock.
 */
import { statSync } from "node:fs";
import path from "node:path";
import type { ConnectorContext } from "../connectors/types.js";
import { checkColumns, hasWorkspaces, mappedColumns, workspaceOf, type LoadedConfig, type SyncConfig } from "./config.js";
import { parseDuration } from "./duration.js";
import { ConfigError, LockLost } from "./errors.js";
import { execute } from "./execute/executor.js";
import { readBack } from "./execute/read-back.js";
import { recoverJournal } from "./execute/recover.js";
import { readWorkspace, wantedValues, type WorkspaceRead } from "./execute/workspace-index.js";
import type { Logger } from "./log.js";
import { checkFieldChanges, managedOf } from "./plan/field-bindings.js";
import type { Plan, RecoveryResult, Snapshot } from "./model.js";
import { isRefused, plan } from "./plan/planner.js";
import { resolveCustomFields } from "./plan/resolve-custom-fields.js";
import type { QuoClient } from "./quo/client.js";
import { QuoClients, type SharedRate } from "./quo/clients.js";
import { reportFromPlan, reportFromRun, reportOfStoppedRun, storedReport, type SyncReport } from "./report/report.js";
import { readSnapshot } from "./sources.js";
import { readFreshness } from "./state/freshness.js";
import { acquireLock, type RunLock } from "./state/lock.js";
import { isPostgresUrl, openStore, type RunTrigger, type StateStore, type SyncCursor } from "./state/store.js";
import { writeBackIds } from "./write-back.js";

export interface RunOptions {
  dryRun: boolean;
  allowDeletes: boolean;
  /** How long to wait for another run of the same sync to finish; 0 (default) fails at once. */
  waitForLockMs?: number;
  /** Accept custom-field definitions that changed in the Quo app since the last run. */
  acceptFieldChanges?: boolean;
  /** Read this sync's contacts back from Quo to find drift (also `verify: true` in the config). */
  verify?: boolean;
  /** What started the run, recorded with it (default `manual`). */
  trigger?: RunTrigger;
  /** `--full`: a source read incrementally reads everything this run (a full refresh, which can delete). */
  full?: boolean;
  /**
   * A targeted run (a HubSpot webhook): read only the records with `ids` (and count `gone`, merged
   * away, as removed), by id; deletes only what is found gone. Ignored for a source that cannot read
   * by id, and when both lists are empty. Never moves an incremental cursor nor counts as a full refresh.
   */
  targets?: RunTargets;
  /**
   * With `verify` (a Quo webhook's run): read back only these keys' contacts, the ones Quo said
   * changed, instead of every contact of the sync; ignored when the config's `verify` asks for all.
   */
  verifyKeys?: readonly string[];
  /**
   * `--explain` (dry runs only: the command line refuses it on a real run): the plan, and so the
   * report, lists every source row with what it does with it and what each field gets.
   */
  explain?: boolean;
}

/** The records a targeted run reads: source record ids to read, and ids known to be gone (not read). */
export interface RunTargets {
  ids: readonly string[];
  gone?: readonly string[];
}

export interface RunDeps {
  loaded: LoadedConfig;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  now?: () => number;
  /** Aborting stops new writes from starting; the write in flight finishes and the run is recorded as interrupted. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /**
   * The process's clients, one per workspace with one throttle per API key, shared by every sync
   * of the process; without it the run builds its own (`clientsFor`).
   */
  clients?: QuoClients;
  /** One client for this run whatever the sync's workspace (tests and benchmarks); wins over `clients`. */
  client?: QuoClient;
  /**
   * A state store opened for writing that the process's runs share (a PostgreSQL pool kept by the
   * daemon or a `sync` command); a real run uses it and neither opens nor closes it. Without it, and
   * for a dry run, the run opens its own.
   */
  store?: StateStore;
  /** The run lock's heartbeat and stale times (default `LOCK_HEARTBEAT_MS`, `LOCK_STALE_MS`). */
  lockTiming?: { heartbeatMs?: number; staleMs?: number };
}

/** How many writes may be in flight at once; the throttle, not this, holds the rate. */
export const WRITE_CONCURRENCY = 10;

/**
 * Where the state lives: `QUO_SYNC_DATABASE_URL` when set (so the URL and its password can stay
 * out of the config file), else the config's `state`: a `postgres://` URL as it is, a file path
 * resolved against the config file's folder. Throws `ConfigError` when the variable is not such a
 * URL, or when the path names a folder (an existing one, or one written with a trailing `/`):
 * SQLite needs a file.
 */
export function stateLocation(loaded: LoadedConfig, env: NodeJS.ProcessEnv): string {
  const url = env.QUO_SYNC_DATABASE_URL?.trim();
  if (url) {
    if (!isPostgresUrl(url)) throw new ConfigError("QUO_SYNC_DATABASE_URL: give a postgres:// or postgresql:// URL (or unset it to use the config's `state`)");
    return url;
  }
  const { state } = loaded.config;
  if (isPostgresUrl(state)) return state;
  const file = path.resolve(loaded.baseDir, state);
  if (/[\\/]$/.test(state) || isDirectory(file)) {
    throw new ConfigError(`${file} is a directory; give a file path such as ${path.join(file, "quo-sync.db")}`, "state");
  }
  return file;
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The registry of Quo clients for a config: build one per process and hand it to every run. Never
 * throws; a workspace whose key is missing throws `ConfigError` when its client is asked for.
 */
export function clientsFor(loaded: LoadedConfig, env: NodeJS.ProcessEnv, logger: Logger, sharedRate?: SharedRate): QuoClients {
  return new QuoClients({ config: loaded.config, env, logger, ...(sharedRate ? { sharedRate } : {}) });
}

/**
 * The request rate a store shares between processes: PostgreSQL's, opened for writing. A SQLite
 * state, or a read-only open (`plan`, `status`), has none: the process's own throttle holds the rate.
 */
export function sharedRateOf(store: StateStore): SharedRate | undefined {
  const reserve = store.reserveStart?.bind(store);
  return reserve && !store.readonly ? { reserve } : undefined;
}

/**
 * For a command that sends writes, held open until `close`: with a PostgreSQL state, one store (its
 * connection pool) for every run of the command and the keys' shared rate; with SQLite, nothing —
 * each run opens the file. Throws `StateError` when the database cannot be opened.
 */
export async function sharedStateFor(loaded: LoadedConfig, env: NodeJS.ProcessEnv): Promise<SharedState> {
  const location = stateLocation(loaded, env);
  if (!isPostgresUrl(location)) return { close: async () => {} };
  const store = await openStore(location);
  const sharedRate = sharedRateOf(store);
  return { store, ...(sharedRate ? { sharedRate } : {}), close: () => store.close().catch(() => {}) };
}

/** What a PostgreSQL state lets a process share: one open store for all its runs, and each key's rate. */
export interface SharedState {
  store?: StateStore;
  sharedRate?: SharedRate;
  /** Closes the store; never rejects. */
  close(): Promise<void>;
}

/**
 * Runs one sync. Returns the report (outcome `refused` when a guard refused it). Throws
 * `ConfigError`, `SourceError`, `StateError` or `QuoApiError` when the run cannot complete; a
 * real run is then recorded as failed (or interrupted, when it lost its lock), and nothing was
 * deleted on the strength of a partial read.
 */
export async function runSync(deps: RunDeps, syncIndex: number, opts: RunOptions): Promise<SyncReport> {
  const { loaded } = deps;
  const now = deps.now ?? Date.now;
  const sync = loaded.config.syncs[syncIndex];
  if (!sync) throw new ConfigError(`there is no syncs[${syncIndex}]`);
  const log = deps.logger.child({ sync: sync.name, workspace: workspaceOf(sync) });
  const started = now();

  const shared = opts.dryRun ? undefined : deps.store;
  const store = shared ?? (await openStore(stateLocation(loaded, deps.env), { readonly: opts.dryRun }));
  let lock: RunLock | undefined;
  let runId: number | null = null;
  try {
    // One run per sync at a time, across processes; a dry run reads only and takes no lock.
    if (!opts.dryRun) {
      lock = await acquireLock(store, sync.name, {
        waitMs: opts.waitForLockMs ?? 0,
        now,
        ...deps.lockTiming,
        onLost: (reason) => log.error(`${reason}; no further write is sent`),
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
      // Recorded from here on, so a source that is down shows as a failed run in `status`. The
      // run starts when it holds the lock: recorded runs of one sync never overlap, and a run left
      // `running` by a process that died ends (is marked interrupted) no later than the next begins.
      const locked = now();
      await store.closeAbandonedRuns(sync.name, locked);
      runId = await store.startRun(sync.name, locked, opts.trigger ?? "manual");
    }

    // Read: everything, or with an incremental source between full refreshes, what changed since.
    // A webhook's run reads only the contacts it named, by id (no cursor: the watermark stays).
    const readStarted = now();
    const targets = opts.targets && sync.source.type === "hubspot" && opts.targets.ids.length + (opts.targets.gone?.length ?? 0) > 0 ? opts.targets : undefined;
    const baseCtx: ConnectorContext = {
      baseDir: loaded.baseDir,
      env: deps.env,
      wanted: [...new Set(mappedColumns(sync, syncIndex).map((m) => m.column))],
      log: (message) => log.info(message),
    };
    let saved: Awaited<ReturnType<typeof savedCursor>> = undefined;
    let ctx: ConnectorContext = baseCtx;
    let snapshot = targets ? await readSnapshot(sync.source, { ...baseCtx, targets: { ids: targets.ids, gone: targets.gone ?? [], key: sync.key } }) : undefined;
    if (snapshot?.targeted?.unmapped.length && sync.deletes === "mirror") {
      // Gone records whose key (not the record id) can no longer be read: only an ordinary read tells which contacts to delete.
      log.warn({ unmapped: snapshot.targeted.unmapped.length, key: sync.key }, "some contacts named by the webhook are gone and their key cannot be told by id: reading the source as an ordinary run instead");
      snapshot = undefined;
    }
    if (!snapshot) {
      saved = await savedCursor(store, sync, readStarted, opts);
      ctx = { ...baseCtx, ...(saved?.resume ? { cursor: saved.cursor.cursor } : {}) };
      snapshot = await readSnapshot(sync.source, ctx);
    }
    checkColumns(sync, syncIndex, snapshot.columns, snapshot.origin);
    const read: SyncReport["read"] = snapshot.targeted ? "targeted" : saved ? (snapshot.partial ? "incremental" : "full") : undefined;
    log.info({ rows: snapshot.rows.length, ...(read ? { read } : {}) }, "source read");
    const client = deps.client ?? (deps.clients ?? clientsFor(loaded, deps.env, deps.logger, sharedRateOf(store))).forSync(sync);
    // Before the writes, a stop signal aborts the reads in flight: nothing is lost by stopping them.
    const reader = deps.signal ? client.withSignal(deps.signal) : client;
    const customFields = Object.keys(sync.fields.customFields).length ? resolveCustomFields(sync, syncIndex, await reader.listCustomFields()) : [];
    if (!opts.acceptFieldChanges) checkFieldChanges(sync, syncIndex, await store.customFieldBindings(sync.name), customFields);
    const managed = managedOf(sync, customFields);
    let recovery: RecoveryResult | undefined;
    if (!opts.dryRun) {
      await store.saveCustomFieldBindings(sync.name, customFields.map((c) => ({ configName: c.configName, key: c.key, name: c.name, type: c.type })), now());
      recovery = await recoverJournal(store, reader, sync.name, managed, now, lock?.owner);
      if (recovery.adopted + recovery.refreshed + recovery.dropped > 0) log.info(recovery, "resolved writes left in flight by an earlier run");
    } else if ((await store.pendingJournal(sync.name)).length > 0) {
      log.warn("an earlier run was stopped mid-write; the next real run re-reads those contacts from Quo first, so this plan may show a few changes that are already done");
    }
    const state = await store.loadSyncRows(sync.name);
    // For drift only: every write reads its contact again just before it is sent. Contacts a Quo
    // webhook named that no run has checked yet (the process stopped first) are read back by any run.
    const pending = await store.pendingChecks(sync.name);
    const everyContact = sync.verify || (opts.verify === true && !opts.verifyKeys);
    const verifyKeys = everyContact ? undefined : new Set([...(opts.verifyKeys ?? []), ...pending]);
    const observed = everyContact || (verifyKeys?.size ?? 0) > 0 ? await readBack(reader, sync.name, verifyKeys ? state.filter((r) => verifyKeys.has(r.key)) : state, managed) : undefined;

    // Plan; with `match`, and creates to make, plan again knowing the workspace's contacts.
    const planOptions = { sync, customFields, allowDeletes: opts.allowDeletes, ...(observed ? { observed } : {}), ...(opts.explain ? { explain: true } : {}), ...(opts.dryRun ? { showMapping: true } : {}) };
    let p = plan(snapshot, state, planOptions);
    let workspace: WorkspaceRead | undefined;
    if (sync.match && (p.counts.create > 0 || (p.unbound?.length ?? 0) > 0)) {
      workspace = await readWorkspace(reader, wantedValues(p), sync.defaultCountry);
      log.info({ listed: workspace.listed, requests: workspace.requests }, "workspace read to match contacts already in Quo");
      p = plan(snapshot, state, { ...planOptions, workspace: workspace.index });
    }
    logPlan(log, sync, p);
    // With workspaces configured, each report says which one, right after the sync's name.
    const named = (r: SyncReport): SyncReport => {
      const withRead = read ? { ...r, read } : r;
      if (!hasWorkspaces(loaded.config)) return withRead;
      const { sync: name, ...rest } = withRead;
      return { sync: name, workspace: workspaceOf(sync), ...rest };
    };
    const extra = { ...(recovery ? { recovery } : {}) };
    if (opts.dryRun || isRefused(p)) {
      const report = reportFromPlan(p, opts.dryRun);
      if (runId !== null) {
        await store.finishRun(runId, "refused", now(), report.counts, p.guards.find((g) => g.refused)?.message, storedReport(named(report)));
        await store.addRejections(runId, p.rejected);
      }
      return { ...named(report), ...extra, durationMs: now() - started };
    }

    // Execute.
    const signals = [deps.signal, lock?.signal].filter((s): s is AbortSignal => s !== undefined);
    const outcomes = await execute(p, {
      sync,
      // Losing the lock aborts the requests in flight as well: another process may own the sync now.
      client: lock ? client.withSignal(lock.signal) : client,
      store,
      runId: runId as number,
      managed,
      ...(workspace ? { workspacePages: workspace.pages } : {}),
      concurrency: WRITE_CONCURRENCY,
      now,
      logger: log,
      signal: AbortSignal.any(signals),
      ...(lock ? { lockLost: lock.lost, lockOwner: lock.owner, onLockLost: lock.lose } : {}),
      ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    });
    const interrupted = Boolean(deps.signal?.aborted || lock?.lost());
    const report = reportFromRun(p, outcomes, interrupted);
    if (!interrupted) report.sourceChangedAt = await appliedSourceChange(store, sync.name, snapshot);
    const writeBack = await writeBackIds(sync, ctx, snapshot, p, outcomes, () => store.loadSyncRows(sync.name), log);
    if (writeBack) report.writeBack = writeBack;
    // The writes are recorded: the next read may start where this one ended. Not after a stop (the
    // rest is read again), nor after an incremental read some of whose writes Quo refused (read
    // again, they are retried; a full read retries every failure anyway at the next full refresh).
    if (snapshot.cursor !== undefined && !interrupted && (read === "full" || report.counts.failed === 0)) {
      await store.saveSyncCursor(sync.name, snapshot.cursor, read === "full" ? readStarted : (saved?.cursor.fullAt ?? null), now(), lock?.owner);
    }
    // The contacts webhooks named before this run began are checked: onDrift applied, or nothing
    // changed. A failed write keeps them for the next run to look at again.
    if (!interrupted && report.counts.failed === 0 && pending.length) await store.clearPendingChecks(sync.name, pending, started);
    await store.finishRun(runId as number, interrupted ? "interrupted" : "ok", now(), report.counts, interrupted ? interruptedBecause(lock) : undefined, storedReport({ ...named(report), ...extra, durationMs: now() - started }));
    await store.addRejections(runId as number, p.rejected);
    log.info({ counts: report.counts }, interrupted ? "run interrupted" : "run finished");
    return { ...named(report), ...extra, durationMs: now() - started };
  } catch (e) {
    // A write to the state that found another owner (recovery's) loses the lock like the heartbeat.
    if (e instanceof LockLost) lock?.lose(e.message);
    // Stopped by a signal before any write (waiting for the lock, reading): an interrupted run.
    const stopped = Boolean(deps.signal?.aborted) && !lock?.lost();
    if (runId !== null) await recordFailure(store, runId, e, lock, now(), log, stopped);
    if (stopped) {
      log.info("run stopped by a signal before it wrote anything");
      return { ...reportOfStoppedRun(sync.name), durationMs: now() - started };
    }
    throw e;
  } finally {
    // Once this run is recorded (ok, refused or failed), history beyond `retention` goes, rejections
    // (raw source values) with it (README, "Retention"). A failure to prune never fails the run.
    if (runId !== null) await store.pruneRuns(sync.name, loaded.config.retention, now()).catch((e: unknown) => log.warn({ error: e instanceof Error ? e.message : String(e) }, "could not prune old runs from the state database"));
    await lock?.release();
    if (!shared) await store.close();
  }
}

/**
 * For a source read incrementally: its saved cursor, and whether this run resumes from it (`resume`)
 * rather than reading everything: not on the first run, when `fullEvery` has passed since the last
 * full read, nor with `--full`. Undefined for a source read whole every run.
 */
async function savedCursor(store: StateStore, sync: SyncConfig, now: number, opts: RunOptions): Promise<{ cursor: SyncCursor; resume: boolean } | undefined> {
  if (sync.source.type !== "hubspot" || !sync.source.incremental) return undefined;
  const cursor = await store.syncCursor(sync.name);
  if (!cursor) return { cursor: { cursor: null, fullAt: null }, resume: false };
  const fullEveryMs = parseDuration(sync.source.incremental.fullEvery) ?? 0;
  const resume = !opts.full && cursor.fullAt !== null && now - cursor.fullAt < fullEveryMs;
  return { cursor, resume };
}

/**
 * The newest source change Quo has from the sync once a run of `snapshot` completes, as ISO text
 * (docs/daemon.md, "Freshness"): a full read's own time (a source read whole tells the time of what
 * it holds now); for a partial read, or a full one that could not tell, the newer of it and what
 * the last completed run recorded, since the records not read are as that run left them.
 */
async function appliedSourceChange(store: StateStore, sync: string, snapshot: Snapshot): Promise<string | null> {
  const read = snapshot.sourceChangedAt ?? null;
  const before = !snapshot.partial && read !== null ? null : (await readFreshness(store, sync)).sourceChangedAt;
  const newest = before === null ? read : read === null ? before : Math.max(before, read);
  return newest === null ? null : new Date(newest).toISOString();
}

/**
 * Logs what a person should know of a plan. A guard's refusal is not logged here: it is the run's
 * outcome, which its caller reports once (`sync` prints it, the daemon logs it).
 */
function logPlan(log: Logger, sync: SyncConfig, p: Plan): void {
  if (p.drift?.length) log.warn({ drifted: p.drift.length, onDrift: sync.onDrift }, "contacts differ in Quo from what was last sent");
  for (const g of p.guards) if (!g.refused) log.warn({ guard: g.guard }, g.message);
}

function interruptedBecause(lock: RunLock | undefined): string {
  const reason: unknown = lock?.lost() ? lock.signal.reason : undefined;
  return reason instanceof Error ? reason.message : "stopped by a signal";
}

/**
 * Records a run that threw: interrupted when it lost its lock or was stopped by a signal, failed otherwise. A failure to
 * record it (the state database is what failed, say) is logged and never hides the run's own error.
 */
async function recordFailure(store: StateStore, runId: number, e: unknown, lock: RunLock | undefined, at: number, log: Logger, stopped: boolean): Promise<void> {
  const message = e instanceof Error ? e.message : String(e);
  try {
    if (lock?.lost() || stopped) await store.finishRun(runId, "interrupted", at, undefined, interruptedBecause(lock));
    else await store.finishRun(runId, "failed", at, undefined, message);
  } catch (recordError) {
    log.error({ error: recordError instanceof Error ? recordError.message : String(recordError) }, "could not record the failed run in the state database");
  }
}
