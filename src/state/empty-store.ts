/**
 * The state of a location nothing was ever written to: a SQLite file that does not exist, or a
 * PostgreSQL database no quo-sync has used. A read-only open (`plan`, `status`, a dry run) gets this
 * store instead of creating anything, and no database driver is loaded for it: a PostgreSQL
 * deployment never loads better-sqlite3 (a native module its image may not even hold), and neither
 * engine imports the other. It imports no engine itself.
 */
import type { CustomFieldBinding, Rejection, SyncRow } from "../model.js";
import { StateError } from "../errors.js";
import type { AlertState, JournalEntry, LockHolder, Pruned, RunRecord, StateStore, StoreEngine, SyncCursor } from "./store.js";

/** A read-only store holding nothing. Every read answers empty; every write throws `StateError`. */
export class EmptyStore implements StateStore {
  readonly readonly = true;

  constructor(
    readonly engine: StoreEngine,
    readonly location: string,
  ) {}

  private refuse(what: string): Promise<never> {
    return Promise.reject(new StateError(`the state database ${this.location} was opened read-only and holds nothing yet; cannot ${what}`));
  }

  async close(): Promise<void> {}

  /** Nothing was ever written with another clock: this process's. */
  async clock(): Promise<number> {
    return Date.now();
  }

  async loadSyncRows(): Promise<SyncRow[]> {
    return [];
  }

  async countSyncRows(): Promise<number> {
    return 0;
  }

  async recentRuns(): Promise<RunRecord[]> {
    return [];
  }

  async runRejections(): Promise<Rejection[]> {
    return [];
  }

  async runById(): Promise<RunRecord | null> {
    return null;
  }

  async runReport(): Promise<unknown> {
    return null;
  }

  recordDelivery(): Promise<boolean> {
    return this.refuse("record a webhook delivery");
  }

  recordDeliveries(): Promise<Set<string>> {
    return this.refuse("record webhook deliveries");
  }

  async pruneDeliveries(): Promise<number> {
    return 0;
  }

  async addPendingChecks(): Promise<void> {
    throw new Error("a never-used state records nothing");
  }

  async pendingChecks(): Promise<string[]> {
    return [];
  }

  async clearPendingChecks(): Promise<number> {
    return 0;
  }

  async keyOfQuoId(): Promise<string | null> {
    return null;
  }

  async alertState(): Promise<AlertState | null> {
    return null;
  }

  swapAlertState(): Promise<boolean> {
    return this.refuse("record an alert state");
  }

  async pendingJournal(): Promise<JournalEntry[]> {
    return [];
  }

  async lockHolder(): Promise<LockHolder | null> {
    return null;
  }

  async customFieldBindings(): Promise<CustomFieldBinding[]> {
    return [];
  }

  startRun(): Promise<number> {
    return this.refuse("start a run");
  }

  finishRun(): Promise<void> {
    return this.refuse("finish a run");
  }

  addRejections(): Promise<void> {
    return this.refuse("record rejections");
  }

  closeAbandonedRuns(): Promise<number> {
    return this.refuse("close abandoned runs");
  }

  pruneRuns(): Promise<Pruned> {
    return this.refuse("prune runs");
  }

  journalBegin(): Promise<number> {
    return this.refuse("journal a write");
  }

  journalCommit(): Promise<void> {
    return this.refuse("commit a journal entry");
  }

  journalAbort(): Promise<void> {
    return this.refuse("abort a journal entry");
  }

  resolveJournal(): Promise<void> {
    return this.refuse("resolve journal entries");
  }

  tryLock(): Promise<{ ok: true } | { ok: false; holder: LockHolder }> {
    return this.refuse("take a run lock");
  }

  heartbeat(): Promise<boolean> {
    return this.refuse("refresh a run lock");
  }

  unlock(): Promise<void> {
    return this.refuse("release a run lock");
  }

  saveCustomFieldBindings(): Promise<void> {
    return this.refuse("save custom-field bindings");
  }

  async syncCursor(): Promise<SyncCursor | null> {
    return null;
  }

  saveSyncCursor(): Promise<void> {
    return this.refuse("save a sync cursor");
  }

  forgetRow(): Promise<void> {
    return this.refuse("forget a row");
  }

  putRows(): Promise<void> {
    return this.refuse("write rows");
  }
}
