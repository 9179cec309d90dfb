/**
 * The run lock: one run per sync at a time, across processes, kept in the state database
 * (docs/architecture.md, "Locks"). A holder refreshes a heartbeat; a lock is taken over only from a
 * holder that is certainly gone — on this host, a process that no longer exists (however long a
 * live one was paused); on another host, one whose heartbeat is older than the stale time. A
 * holder whose heartbeat finds the lock gone, or cannot write it, is told through `lost` and its
 * signal, and must send no further write.
 */
import os from "node:os";
import { StateError } from "../errors.js";
import type { LockHolder, StateStore } from "./store.js";

/** A lock on another host whose heartbeat is older than this belongs to a process that died. */
export const LOCK_STALE_MS = 60_000;
/** How often a running sync refreshes its lock: several heartbeats fit in the stale time. */
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

/** A held run lock. */
export interface RunLock {
  /** Aborted (with the reason as a `StateError`) when the lock was lost. */
  readonly signal: AbortSignal;
  /** True once the heartbeat found the lock taken over, or could not be written. */
  lost(): boolean;
  /** Stops the heartbeat and frees the lock if still held. Never throws. */
  release(): void;
}

export interface LockOptions {
  /** How long to wait for another holder to finish; 0 fails at once with `LockBusy`. */
  waitMs: number;
  now: () => number;
  staleMs?: number;
  heartbeatMs?: number;
  /** Told once, when the lock is lost, with why. */
  onLost?: (reason: string) => void;
}

/** Whether a process of this host is alive (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the sync's run lock, waiting up to `waitMs`. Throws `LockBusy` when it stays held, or the
 * store's `StateError`. The heartbeat runs on a timer that never throws: a failure to write it
 * counts as losing the lock.
 */
export async function acquireLock(store: StateStore, sync: string, opts: LockOptions): Promise<RunLock> {
  const { now } = opts;
  const staleMs = opts.staleMs ?? LOCK_STALE_MS;
  const me = { owner: `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`, host: os.hostname(), pid: process.pid };
  const deadline = now() + opts.waitMs;
  for (;;) {
    const r = store.tryLock(sync, me, now(), staleMs, pidAlive);
    if (r.ok) break;
    if (now() >= deadline) throw new LockBusy(sync, r.holder);
    await sleep(Math.min(LOCK_POLL_MS, Math.max(1, deadline - now())));
  }
  const controller = new AbortController();
  const lose = (reason: string): void => {
    if (controller.signal.aborted) return;
    controller.abort(new StateError(reason));
    opts.onLost?.(reason);
  };
  const timer = setInterval(() => {
    try {
      if (!store.heartbeat(sync, me.owner, now())) lose(`the run lock of sync '${sync}' was taken over by another process`);
    } catch (e) {
      lose(`the run lock of sync '${sync}' could not be refreshed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }, opts.heartbeatMs ?? LOCK_HEARTBEAT_MS);
  timer.unref();
  return {
    signal: controller.signal,
    lost: () => controller.signal.aborted,
    release: () => {
      clearInterval(timer);
      try {
        store.unlock(sync, me.owner);
      } catch {
        // The database is unusable: the lock goes stale by itself, and the run's own error says why.
      }
    },
  };
}
