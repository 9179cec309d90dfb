/**
 * The run lock: one run per sync at a time, across processes and hosts, kept in the state database
 * (docs/architecture.md, "Locks"; docs/daemon.md, "Several daemons"). A holder refreshes a
 * heartbeat; a lock is taken over only from a holder that is certainly gone:
 * - SQLite (one file, one host): a holder on this host whose process no longer exists, however
 *   long a live one was paused; a holder on another host (a shared folder), by a stale heartbeat.
 * - PostgreSQL (shared by hosts and containers, whose host names and pids may repeat): the lock
 *   is a lease, taken over once its heartbeat is older than the stale time — unless the holder
 *   ran in this very process table (same kernel boot, same pid namespace: `processTable()`), in
 *   which case it is taken over as soon as its process is gone, as with SQLite. The holder counts
 *   its lease on its own clock and stops sending writes once half of it has passed without a
 *   heartbeat written, so a process that was paused (or cut off from the database) never writes
 *   after another may have taken its syncs over.
 * A holder whose heartbeat finds the lock gone, or cannot write it, is told through `lost` and its
 * signal, and must send no further write.
 */
import { readFileSync, readlinkSync } from "node:fs";
import os from "node:os";
import { StateError } from "../errors.js";
import type { LockHolder, LockTakeover, StateStore } from "./store.js";

/**
 * A lock whose heartbeat is older than this belongs to a process that died (judged across hosts,
 * and always with PostgreSQL): a daemon killed outright loses its syncs to another within it.
 */
export const LOCK_STALE_MS = 30_000;
/** How often a running sync refreshes its lock: six heartbeats fit in the stale time. */
export const LOCK_HEARTBEAT_MS = 5_000;
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
  /** Stops the heartbeat and frees the lock if still held. Never rejects. */
  release(): Promise<void>;
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
 * Which process table this process lives in: the kernel's boot id and the pid namespace (Linux).
 * Two processes with the same value can see each other's pids, whatever their host names say; a
 * container has its own pid namespace. Empty where it cannot be known: then only heartbeats count.
 */
export function processTable(): string {
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const ns = readlinkSync("/proc/self/ns/pid").replace(/\D/g, "");
    return boot && ns ? `${boot}/${ns}` : "";
  } catch {
    return "";
  }
}

/** A lock owner's id: unique per acquisition, and prefixed with its process table (`ownerTable`). */
export function ownerId(table: string = processTable()): string {
  return `${table}|${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
}

/** The process table an owner id names ("" for none, or an owner written by an older version). */
function ownerTable(owner: string): string {
  const bar = owner.indexOf("|");
  return bar > 0 ? owner.slice(0, bar) : "";
}

/** When `store`'s engine lets a lock held by someone else be taken over (see the top of this file). */
export function takeoverRule(store: StateStore, me: { host: string; owner: string }, now: number, staleMs: number, alive: (pid: number) => boolean = pidAlive): LockTakeover {
  const stale = (holder: LockHolder) => holder.heartbeatAt < now - staleMs;
  if (store.engine === "postgres") {
    const table = ownerTable(me.owner);
    return (holder) => (table !== "" && ownerTable(holder.owner) === table ? !alive(holder.pid) : stale(holder));
  }
  // On this host the process table is the truth: a live holder keeps its lock however long it was
  // paused (SIGSTOP, a sleeping laptop). Another host's holder is judged by its heartbeat.
  return (holder) => (holder.host === me.host ? !alive(holder.pid) : stale(holder));
}

/**
 * Takes the sync's run lock, waiting up to `waitMs`. Throws `LockBusy` when it stays held, or the
 * store's `StateError`. The heartbeat runs on a timer that never throws: a failure to write it
 * counts as losing the lock.
 */
export async function acquireLock(store: StateStore, sync: string, opts: LockOptions): Promise<RunLock> {
  const { now } = opts;
  const staleMs = opts.staleMs ?? LOCK_STALE_MS;
  const me = { owner: ownerId(), host: os.hostname(), pid: process.pid };
  const deadline = now() + opts.waitMs;
  let takenAt: number;
  for (;;) {
    const at = now();
    const r = await store.tryLock(sync, me, at, takeoverRule(store, me, at, staleMs));
    if (r.ok) {
      takenAt = at;
      break;
    }
    if (now() >= deadline) throw new LockBusy(sync, r.holder);
    await sleep(Math.min(LOCK_POLL_MS, Math.max(1, deadline - now())));
  }
  const controller = new AbortController();
  const lose = (reason: string): void => {
    if (controller.signal.aborted) return;
    controller.abort(new StateError(reason));
    opts.onLost?.(reason);
  };
  // The lease as the holder counts it: from the time written with the last heartbeat, as others
  // read it (PostgreSQL only).
  let beatAt = takenAt;
  const leaseExpired = (): boolean => {
    if (store.engine !== "postgres" || now() - beatAt <= staleMs / 2) return false;
    lose(`the run lock of sync '${sync}' was not refreshed for ${Math.round((now() - beatAt) / 1000)} s (paused, or cut off from the database); another daemon may take it over`);
    return true;
  };
  let beating = false;
  const timer = setInterval(() => {
    if (beating || controller.signal.aborted) return;
    beating = true;
    const at = now();
    store.heartbeat(sync, me.owner, at).then(
      (held) => {
        beating = false;
        if (held) beatAt = at;
        else lose(`the run lock of sync '${sync}' was taken over by another process`);
      },
      (e: unknown) => {
        beating = false;
        lose(`the run lock of sync '${sync}' could not be refreshed: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  }, opts.heartbeatMs ?? LOCK_HEARTBEAT_MS);
  timer.unref();
  let released = false;
  return {
    signal: controller.signal,
    lost: () => controller.signal.aborted || leaseExpired(),
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        await store.unlock(sync, me.owner);
      } catch {
        // The database is unusable: the lock goes stale by itself, and the run's own error says why.
      }
    },
  };
}
