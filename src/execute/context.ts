/**
 * What every part of the executor works with: the sync, the Quo client, the state store and the
 * run's limits and signals. Types only.
 */
import type { SyncConfig } from "../config.js";
import type { Managed } from "../plan/from-quo.js";
import type { QuoClient } from "../quo/client.js";
import type { StateStore } from "../state/store.js";

export interface ExecuteContext {
  sync: SyncConfig;
  /**
   * The client every request of the run goes through; the run binds it to its lock's signal
   * (`QuoClient.withSignal`), so losing the lock aborts requests in flight too.
   */
  client: QuoClient;
  store: StateStore;
  runId: number;
  managed: Managed;
  /**
   * With `match`: how many pages the plan's listing of the workspace took. Links re-read their
   * contacts by listing the workspace again when that costs fewer requests than one read per link.
   */
  workspacePages?: number;
  /** How many writes may be in flight; the client's throttle holds the rate. */
  concurrency: number;
  now: () => number;
  logger: { info(o: object, m?: string): void; warn(o: object, m?: string): void; debug(o: object, m?: string): void };
  onProgress?: (done: number, total: number) => void;
  /** When aborted, no new action starts; actions in flight finish. */
  signal?: AbortSignal;
  /** True once the run has lost its lock: no further write may start (`LockLost`). */
  lockLost?: () => boolean;
  /** The run lock's owner id: journal writes check, in their own transaction, that it still holds the lock. */
  lockOwner?: string;
  /** Told when a write to the state found the lock held by another owner (`LockLost`). */
  onLockLost?: (reason: string) => void;
}
