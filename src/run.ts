/**
 * One run of one sync: read → plan → (unless dry) execute. The one-shot commands and the daemon
 * call this same function (house-style rule 2).
 */
import os from "node:os";
import path from "node:path";
import type { ConnectorContext, WriteBackEntry } from "../connectors/types.js";
import { checkColumns, formatPath, mappedColumns, type LoadedConfig, type SyncConfig } from "./config.js";
import { ConfigError, StateError } from "./errors.js";
import { execute, type ActionOutcome } from "./execute/executor.js";
import { recoverJournal, type RecoveryResult } from "./execute/recover.js";
import type { Logger } from "./log.js";
import type { Plan, Snapshot, SyncRow } from "./model.js";
import { fieldsOf, itemIdsOf, OPTIONAL_SCALARS, type Managed } from "./plan/from-quo.js";
import { externalIdFor } from "./plan/patch.js";
import type { ResolvedCustomField } from "./plan/map-row.js";
import { isRefused, plan, type Observed } from "./plan/planner.js";
import { resolveCustomFields } from "./plan/resolve-custom-fields.js";
import { QuoClient, quoClientOptionsFromEnv } from "./quo/client.js";
import type { QuoContact } from "./quo/types.js";
import { reportFromPlan, reportFromRun, type SyncReport } from "./report/report.js";
import { readSnapshot, writeBackFor } from "./sources.js";
import { StateStore, type CustomFieldBinding, type LockHolder } from "./state/store.js";

export interface RunOptions {
  dryRun: boolean;
  allowDeletes: boolean;
  /** How long to wait for another run of the same sync to finish; 0 (default) fails at once. */
  waitForLockMs?: number;
  /** Accept custom-field definitions that changed in the Quo app since the last run. */
  acceptFieldChanges?: boolean;
  /** Read this sync's contacts back from Quo to find drift (also `verify: true` in the config). */
  verify?: boolean;
}

/** A lock whose holder has not refreshed it for this long belongs to a dead process. */
export const LOCK_STALE_MS = 60_000;
/** How often a running sync refreshes its lock. */
export const LOCK_HEARTBEAT_MS = 10_000;
/** How often a run waiting for the lock looks again. */
const LOCK_POLL_MS = 500;

/** Another run of the same sync holds the lock (in this or another process). */
export class LockBusy extends StateError {
  constructor(
    readonly sync: string,
    readonly holder: LockHolder,
  ) {
    super(`sync '${sync}' is already running (pid ${holder.pid} on ${holder.host}, since ${new Date(holder.acquiredAt).toISOString()}); try again when it ends, or use --wait SECONDS`);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes the sync's run lock, waiting up to `waitMs`. Throws `LockBusy`. Returns the release function. */
export async function acquireLock(store: StateStore, sync: string, waitMs: number, now: () => number): Promise<() => void> {
  const me = { owner: `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`, host: os.hostname(), pid: process.pid };
  const deadline = now() + waitMs;
  for (;;) {
    const r = store.tryLock(sync, me, now(), LOCK_STALE_MS, pidAlive);
    if (r.ok) break;
    if (now() >= deadline) throw new LockBusy(sync, r.holder);
    await sleep(Math.min(LOCK_POLL_MS, Math.max(1, deadline - now())));
  }
  const timer = setInterval(() => store.heartbeat(sync, me.owner, now()), LOCK_HEARTBEAT_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    store.unlock(sync, me.owner);
  };
}

/**
 * Compares the custom-field definitions resolved now with those of the last real run. Throws
 * `ConfigError` when one disappeared, now points at another field, or changed type — values
 * converted for the old type would be wrong for the new one.
 */
export function checkFieldChanges(sync: SyncConfig, index: number, before: readonly CustomFieldBinding[], now: readonly ResolvedCustomField[]): void {
  const current = new Map(now.map((c) => [c.configName, c]));
  const problems: string[] = [];
  for (const b of before) {
    const c = current.get(b.configName);
    if (!c) continue; // no longer mapped: nothing to check
    const at = `syncs[${index}].fields.${formatPath(["customFields", b.configName])}`;
    if (c.key !== b.key) problems.push(`${at}: now resolves to the Quo field '${c.name}' (key ${c.key}), but the last run wrote to key ${b.key}, which is gone or renamed`);
    else if (c.type !== b.type) problems.push(`${at}: the Quo field '${c.name}' changed type from ${b.type} to ${c.type} since the last run`);
  }
  if (problems.length) {
    throw new ConfigError(`${problems.join("\n")}\n  check the field in the Quo app; rerun with --accept-field-changes if the change is intended (sync '${sync.name}')`);
  }
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
    scalars: new Set(OPTIONAL_SCALARS.filter((f) => sync.fields[f] !== undefined)),
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

/** What `readBack` found: per key what Quo holds (null: gone), and the contacts by externalId. */
export interface ReadBack {
  observed: Map<string, Observed>;
  /** Every externalId asked for, with the contacts carrying it (none: an empty list). */
  contacts: Map<string, QuoContact[]>;
}

/**
 * What Quo holds now for every contact of this sync, by key (null: not found, deleted in the Quo
 * app). One `GET /v1/contacts?externalIds=…` per 50 contacts.
 */
export async function readBack(client: QuoClient, sync: string, state: readonly SyncRow[], managed: Managed): Promise<ReadBack> {
  const byExternal = new Map(state.map((r) => [externalIdFor(sync, r.key), r]));
  const found = await client.findByExternalIds([...byExternal.keys()]);
  const observed = new Map<string, Observed>(state.map((r) => [r.key, null]));
  const contacts = new Map<string, QuoContact[]>([...byExternal.keys()].map((ext) => [ext, []]));
  for (const c of found) {
    const row = c.externalId ? byExternal.get(c.externalId) : undefined;
    if (!row) continue;
    contacts.get(c.externalId as string)?.push(c);
    // The contact this sync knows by id; another one with the same externalId is a duplicate that
    // the executor's adoption would clean up, not what the state points at.
    if (c.id === row.quoId) observed.set(row.key, { fields: fieldsOf(c, managed, row.itemIds), itemIds: itemIdsOf(c, managed, row.itemIds) });
  }
  return { observed, contacts };
}

/**
 * Each source record's outcome for write-back: its Quo id from the state after the run, and "ok",
 * or why it is not (fully) in Quo.
 */
export function writeBackEntries(snapshot: Snapshot, keyColumn: string, p: Plan, outcomes: readonly ActionOutcome[], state: readonly SyncRow[]): WriteBackEntry[] {
  const quoIds = new Map(state.map((r) => [r.key, r.quoId]));
  const problems = new Map<string, string>();
  for (const r of p.rejected) if (r.key !== undefined && !problems.has(r.key)) problems.set(r.key, r.reason);
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

  const store = StateStore.open(statePath(loaded), { readonly: opts.dryRun });
  let runId: number | null = null;
  let release: (() => void) | null = null;
  try {
    // One run per sync at a time, across processes; a dry run reads only and takes no lock.
    if (!opts.dryRun) {
      release = await acquireLock(store, sync.name, opts.waitForLockMs ?? 0, now);
      // Recorded from here on, so a source that is down shows as a failed run in `status`.
      store.closeAbandonedRuns(sync.name, now());
      runId = store.startRun(sync.name, started);
    }

    const ctx: ConnectorContext = { baseDir: loaded.baseDir, env: deps.env, wanted: [...new Set(mappedColumns(sync, syncIndex).map((m) => m.column))] };
    const snapshot = await readSnapshot(sync.source, ctx);
    checkColumns(sync, syncIndex, snapshot.columns, snapshot.origin);
    log.info({ rows: snapshot.rows.length }, "source read");

    const client = deps.client ?? clientFor(loaded, deps.env, log);
    const customFields = Object.keys(sync.fields.customFields).length
      ? resolveCustomFields(sync, syncIndex, await client.listCustomFields())
      : [];
    if (!opts.acceptFieldChanges) checkFieldChanges(sync, syncIndex, store.customFieldBindings(sync.name), customFields);
    const managed = managedOf(sync, customFields);

    let recovery: RecoveryResult | undefined;
    if (!opts.dryRun) {
      store.saveCustomFieldBindings(sync.name, customFields.map((c) => ({ configName: c.configName, key: c.key, name: c.name, type: c.type })), now());
      recovery = await recoverJournal(store, client, sync.name, managed, now);
      if (recovery.adopted + recovery.refreshed + recovery.dropped > 0) log.info(recovery, "resolved writes left in flight by an earlier run");
    } else if (store.pendingJournal(sync.name).length > 0) {
      log.warn("an earlier run was stopped mid-write; the next real run re-reads those contacts from Quo first, so this plan may show a few changes that are already done");
    }

    const state = store.loadSyncRows(sync.name);
    const readback = opts.verify || sync.verify ? await readBack(client, sync.name, state, managed) : undefined;
    const observed = readback?.observed;
    const p = plan(snapshot, state, { sync, customFields, allowDeletes: opts.allowDeletes, ...(observed ? { observed } : {}) });
    if (p.drift?.length) log.warn({ drifted: p.drift.length, onDrift: sync.onDrift }, "contacts differ in Quo from what was last sent");
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
      // Read back a moment ago: the updates are built on those contacts instead of reading them again.
      ...(readback ? { prefetched: readback.contacts } : {}),
      concurrency: WRITE_CONCURRENCY,
      now,
      logger: log,
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    });
    const interrupted = Boolean(deps.signal?.aborted);
    const report = reportFromRun(p, outcomes, interrupted);
    const target = writeBackFor(sync.source);
    if (target) {
      // The Quo writes are done and recorded whatever happens here: a failed write-back is
      // reported (and retried by the next run, which writes only cells that differ), not a failed run.
      const entries = writeBackEntries(snapshot, sync.key, p, outcomes, store.loadSyncRows(sync.name));
      try {
        const wb = await target.writeBack(sync.source, ctx, entries);
        log.info({ cells: wb.updated, missing: wb.missing.length }, "wrote Quo ids back to the source");
        report.writeBack = wb;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        log.warn({ error: message }, "could not write Quo ids back to the source; the next run tries again");
        report.writeBack = { updated: 0, missing: [], error: message };
      }
    }
    store.finishRun(runId as number, interrupted ? "interrupted" : "ok", now(), report.counts, interrupted ? "stopped by a signal" : undefined);
    store.addRejections(runId as number, p.rejected);
    log.info({ counts: report.counts }, interrupted ? "run interrupted" : "run finished");
    return { ...report, ...(recovery ? { recovery } : {}), durationMs: now() - started };
  } catch (e) {
    if (runId !== null) store.finishRun(runId, "failed", now(), undefined, e instanceof Error ? e.message : String(e));
    throw e;
  } finally {
    release?.();
    store.close();
  }
}
