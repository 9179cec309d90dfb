/**
 * The state store: what a sync remembers between runs (docs/architecture.md, "State"). One
 * interface, two engines chosen by the `state` setting: a file path opens SQLite (better-sqlite3,
 * the embedded default, `sqlite-store.ts`); a `postgres://` URL opens PostgreSQL (`pg`,
 * `pg-store.ts`), which several daemons on several hosts can share. Both are read and written
 * through drizzle-orm over the same tables, and both apply their drizzle-kit migrations when opened
 * for writing. Every write method is one small transaction (docs/architecture.md, "Journal").
 *
 * Every method is asynchronous. Callers await each call before the next step that depends on it:
 * a journal entry is committed before its write is sent, and a write's outcome is committed before
 * the next write of the same contact.
 */
import type { ContactFields, CustomFieldBinding, ItemIds, Rejection, SyncRow } from "../model.js";
import { isPostgresUrl } from "./location.js";

export type RunOutcome = "running" | "ok" | "failed" | "refused" | "interrupted";
/** What started a run: its cron schedule, a person (`sync`, the console), a webhook, a watched file. */
export type RunTrigger = "schedule" | "manual" | "webhook" | "watch";
export const RUN_TRIGGERS: readonly RunTrigger[] = ["schedule", "manual", "webhook", "watch"];
/** `link`: a contact already in Quo being written whole with this sync's fields and externalId. */
export type JournalOp = "create" | "update" | "delete" | "link";

export interface JournalEntry {
  id: number;
  sync: string;
  key: string;
  op: JournalOp;
  quoId: string | null;
  externalId: string;
  fields: ContactFields | null;
  runId: number | null;
  startedAt: number;
}

export interface RunRecord {
  id: number;
  sync: string;
  startedAt: number;
  endedAt: number | null;
  outcome: RunOutcome;
  counts: Record<string, number> | null;
  error: string | null;
  /** Null for runs recorded before triggers were kept. */
  trigger: RunTrigger | null;
}

/** The state an alert last announced for a sync (`src/alerts/`). */
export type AlertStateName = "ok" | "failed" | "refused" | "stalled";

/** A sync's row of alert state; `version` is what `swapAlertState` compares. */
export interface AlertState {
  sync: string;
  state: AlertStateName;
  since: number;
  lastEvent: string | null;
  lastSentAt: number | null;
  /** The newest run the state was judged from. */
  runId: number | null;
  version: number;
}

/** Where a sync's incremental source read left off (`syncCursor`). */
export interface SyncCursor {
  /** The source's own cursor, as its connector yielded it (HubSpot: a watermark and what was read). */
  cursor: unknown;
  /** When the last full read (the one that can delete) was, or null before any. */
  fullAt: number | null;
}

/** Who holds a sync's run lock. */
export interface LockHolder {
  owner: string;
  host: string;
  pid: number;
  acquiredAt: number;
  heartbeatAt: number;
}

/** The taker of a lock: `owner` is unique per acquisition; host and pid say where it runs. */
export interface LockTaker {
  owner: string;
  host: string;
  pid: number;
}

/**
 * When a lock held by someone else may be taken over: true when the holder is certainly not running
 * any more (docs/architecture.md, "Locks"). `now` is the store's clock (`StateStore.clock`), read in
 * the transaction that takes the lock, so a heartbeat's age is judged on the clock that wrote it.
 */
export type LockTakeover = (holder: LockHolder, now: number) => boolean;

/**
 * How much run history each sync keeps (the config's `retention`): its newest `runs` runs, none
 * started more than `days` days ago. A run still `running`, the sync's newest finished run and its
 * newest successful run are always kept, so `status` and `/healthz` can still show them.
 */
export interface RetentionPolicy {
  runs: number;
  days: number;
}

/** What `pruneRuns` deleted. */
export interface Pruned {
  runs: number;
  rejections: number;
}

/** What recording a finished write does to the sync state, in the same transaction as the journal. */
export type StateEffect = { upsert: SyncRow } | { remove: string } | { none: true };

export type StoreEngine = "sqlite" | "postgres";

export interface OpenOptions {
  /**
   * Read only: nothing is created or migrated. A SQLite file that does not exist (or a PostgreSQL
   * database no quo-sync has used) yields an empty store (`EmptyStore`), so a dry run writes nothing
   * anywhere; an outdated schema is refused with the migrations it lacks.
   */
  readonly?: boolean;
}

export interface StateStore {
  readonly engine: StoreEngine;
  /** Where the state lives, for messages: the file's path, or the URL without its password. */
  readonly location: string;
  readonly readonly: boolean;

  close(): Promise<void>;

  /**
   * The clock lock times are written and judged on, in milliseconds since the epoch: the database
   * server's on PostgreSQL (shared by hosts whose clocks may differ), this process's on SQLite (one
   * machine's file).
   */
  clock(): Promise<number>;

  /** Every contact this sync holds, as the planner needs them (JSON columns parsed on first access). */
  loadSyncRows(sync: string): Promise<SyncRow[]>;
  countSyncRows(sync: string): Promise<number>;

  /** Starts a run record; returns its id. */
  startRun(sync: string, now: number, trigger?: RunTrigger): Promise<number>;
  /** Ends a run record; `report` is the run's report as stored (`storedReport`), kept as JSON. */
  finishRun(runId: number, outcome: RunOutcome, now: number, counts?: object, error?: string, report?: object): Promise<void>;
  addRejections(runId: number, rows: readonly Rejection[]): Promise<void>;
  recentRuns(opts: { sync?: string; limit: number }): Promise<RunRecord[]>;
  runRejections(runId: number, limit: number): Promise<Rejection[]>;
  /** One run, or null when there is none with that id (never run, or pruned). */
  runById(runId: number): Promise<RunRecord | null>;
  /** The report stored with a run (parsed JSON), or null when the run kept none. */
  runReport(runId: number): Promise<unknown>;

  /** The sync's alert state, or null before any was recorded. */
  alertState(sync: string): Promise<AlertState | null>;
  /**
   * Moves the sync's alert state from `expected` (the version read; null: no row yet) to `next`
   * (written with version `expected + 1`, or 1), atomically; false, changing nothing, when another
   * process moved it first. Only the process that gets true sends the event.
   */
  swapAlertState(sync: string, expected: number | null, next: Omit<AlertState, "sync" | "version">): Promise<boolean>;
  /**
   * Records a webhook delivery id of `source` (a vendor) received at `now`, atomically: true the
   * first time, false when it was recorded before (a re-delivery, from this or another process).
   */
  recordDelivery(source: string, id: string, now: number): Promise<boolean>;
  /** `recordDelivery` for several ids in one transaction (one disk sync); returns the ids recorded now, i.e. not seen before. */
  recordDeliveries(source: string, ids: readonly string[], now: number): Promise<Set<string>>;
  /** Forgets delivery ids received before `before`; returns how many. */
  pruneDeliveries(before: number): Promise<number>;
  /** The source key of the contact with Quo id `quoId` in the sync's state, or null when the sync does not manage it. */
  keyOfQuoId(sync: string, quoId: string): Promise<string | null>;
  /**
   * Remembers that the contacts of `keys` must be read back from Quo by the sync's next run (a Quo
   * webhook said they changed in the app); a key already pending takes the later time.
   */
  addPendingChecks(sync: string, keys: readonly string[], now: number): Promise<void>;
  /** The keys waiting to be read back by the sync's next run, in key order. */
  pendingChecks(sync: string): Promise<string[]>;
  /** Forgets the pending checks of `keys` received at or before `upTo` (a run started after them read them back); returns how many. */
  clearPendingChecks(sync: string, keys: readonly string[], upTo: number): Promise<number>;
  /** Marks runs left `running` by a process that died as `interrupted`; returns how many. */
  closeAbandonedRuns(sync: string, now: number): Promise<number>;
  /**
   * Deletes the sync's runs beyond `policy` (see `RetentionPolicy`), with their rejections, in one
   * transaction; `now` dates the age limit. Returns how many of each went. Throws `StateError`.
   */
  pruneRuns(sync: string, policy: RetentionPolicy, now: number): Promise<Pruned>;

  /*
   * The methods below that take an `owner` (the run lock's, `RunLock.owner`) first check, in the
   * same transaction, that the sync's lock is still held by that owner; otherwise they throw
   * `LockLost` and change nothing. On PostgreSQL the lock row is locked until the commit, so a
   * takeover waits for it: nothing is recorded for a sync after another process has taken it over.
   */

  /** Records a write about to be sent, committed before the request leaves. Returns the entry id. Throws `LockLost`, `StateError`. */
  journalBegin(entry: Omit<JournalEntry, "id">, owner?: string): Promise<number>;
  /** Applies a finished write's effect on the sync state and clears its journal entry, atomically. Throws `LockLost`, `StateError`. */
  journalCommit(journalId: number, sync: string, effect: StateEffect, now: number, owner?: string): Promise<void>;
  /** Clears a journal entry whose write certainly did not happen (a 4xx answer). */
  journalAbort(journalId: number): Promise<void>;
  pendingJournal(sync: string): Promise<JournalEntry[]>;
  /** Resolves journal entries after recovery: applies the effect and drops the entries, atomically. Throws `LockLost`, `StateError`. */
  resolveJournal(ids: readonly number[], sync: string, effect: StateEffect, now: number, owner?: string): Promise<void>;

  /**
   * Takes the run lock of `sync` for `me`, or reports who holds it: atomic against every other
   * process using the same state. A lock held by another owner is taken over only when
   * `takeover(holder, clock)` says its holder is gone. The lock's times are `now` on SQLite and the
   * database's clock on PostgreSQL (see `clock`), which is also the `clock` given to `takeover`.
   */
  tryLock(sync: string, me: LockTaker, now: number, takeover: LockTakeover): Promise<{ ok: true } | { ok: false; holder: LockHolder }>;
  /**
   * Refreshes the heartbeat of a lock this owner holds (at `now` on SQLite, on the database's clock
   * on PostgreSQL); false when it no longer holds it.
   */
  heartbeat(sync: string, owner: string, now: number): Promise<boolean>;
  unlock(sync: string, owner: string): Promise<void>;
  lockHolder(sync: string): Promise<LockHolder | null>;

  /** The custom-field definitions the sync resolved on its last real run. */
  customFieldBindings(sync: string): Promise<CustomFieldBinding[]>;
  /** Replaces the sync's recorded custom-field definitions. */
  saveCustomFieldBindings(sync: string, bindings: readonly CustomFieldBinding[], now: number): Promise<void>;

  /** Where the sync's incremental read left off, or null before any was saved. A cursor that does not parse reads as null. */
  syncCursor(sync: string): Promise<SyncCursor | null>;
  /**
   * Saves where the sync's incremental read left off (`cursor`, kept as JSON) and when its last
   * full read was. Called only once a run's writes are recorded, so a failed run never moves it.
   * Throws `LockLost`, `StateError`.
   */
  saveSyncCursor(sync: string, cursor: unknown, fullAt: number | null, now: number, owner?: string): Promise<void>;

  /** Forgets a key outside the journal: no write to Quo goes with it (an unlinked contact). Throws `LockLost`, `StateError`. */
  forgetRow(sync: string, key: string, now: number, owner?: string): Promise<void>;
  /**
   * Inserts or replaces sync rows outside the journal, in one transaction: for a row whose contact
   * Quo already holds as recorded (no write was sent, so none is journaled), and bulk seeding for
   * benchmarks and tests. Throws `LockLost`, `StateError`.
   */
  putRows(sync: string, rows: readonly SyncRow[], now: number, owner?: string): Promise<void>;

  /**
   * Reserves the next request start of a rate shared by every process using this state (one per
   * API key, named by `rate`): starts are spaced `spacingMs` apart on the database's clock.
   * Resolves with how long to wait before starting. Only a shared engine has it.
   */
  reserveStart?(rate: string, spacingMs: number): Promise<number>;
}

/** Re-exported: callers name the location helpers through the store module, as before. */
export { isPostgresUrl, redactDatabaseUrl } from "./location.js";

/**
 * Opens the state store `state` names: a `postgres://` URL or a SQLite file path (resolved by the
 * caller). Throws `StateError` when it cannot be opened or migrated; the message never carries a
 * password.
 */
export async function openStore(state: string, opts: OpenOptions = {}): Promise<StateStore> {
  if (isPostgresUrl(state)) {
    const { PgStore } = await import("./pg-store.js");
    return PgStore.open(state, opts);
  }
  const { SqliteStore } = await import("./sqlite-store.js");
  return SqliteStore.open(state, opts);
}
