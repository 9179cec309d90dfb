/**
 * The run lock: one run per sync at a time, across processes and hosts, kept in the state database
 * (docs/architecture.md, "Locks"; docs/daemon.md, "Several daemons"). A holder refreshes a
 * heartbeat; a lock is taken over only from a holder that is certainly gone. One rule on both
 * engines (`holderGone`), which `status` applies too:
 * - A holder in this very process table (same kernel boot, same pid namespace: `processTable()`) is
 *   judged by its process: alive only while a process with its pid exists and started when the
 *   holder recorded (a restarted container's new pid 1 is not the old pid 1, even when the kernel
 *   gave its pid namespace the dead one's number), and, when that pid is this process's own, only
 *   while this process holds that very lock (we may be that pid now, or our own release failed).
 *   A live holder keeps its lock however long it was paused.
 * - A holder in another process table, or one whose process cannot be looked at, is judged by its
 *   heartbeat alone: gone once it is older than the stale time on the store's clock (the database's
 *   on PostgreSQL, so the hosts' clocks do not matter).
 * Host names are never trusted: containers and restarted machines repeat them.
 *
 * Since another process table may take a lock over by its heartbeat, the holder counts its lease on
 * its own clock and stops sending writes once half the stale time has passed since it sent its last
 * successful heartbeat, so a process that was paused (or cut off from the database) never writes
 * after another may have taken its sync over. A holder whose heartbeat finds the lock gone, or
 * cannot write it, is told through `lost` and its signal; and the store refuses to record a write
 * for an owner that no longer holds the lock (`LockLost`, the `owner` arguments of `StateStore`).
 */
import { randomBytes } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import os from "node:os";
import { StateError } from "../errors.js";
import type { LockHolder, StateStore } from "./store.js";

/**
 * A lock whose heartbeat is older than this belongs to a process that died (judged for holders in
 * another process table): a daemon killed outright loses its syncs to another within it.
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
  /** The owner id the lock is held under: pass it to the store's writes so they check the lock. */
  readonly owner: string;
  /** Aborted (with the reason as a `StateError`) when the lock was lost. */
  readonly signal: AbortSignal;
  /** True once the heartbeat found the lock taken over, could not be written, or the lease ran out. */
  lost(): boolean;
  /**
   * Marks the lock lost because a write to the store found it held by another owner (`LockLost`)
   * before the heartbeat did: aborts `signal` with `reason`, as the heartbeat would have.
   */
  lose(reason: string): void;
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
  /** Stops waiting for the lock (a Ctrl-C during `--wait`): `acquireLock` then throws `StateError`. */
  signal?: AbortSignal;
}

/**
 * What the judge of a lock holder knows about the process it runs in. `thisProcess()` is the real
 * one; tests give their own.
 */
export interface ProcessView {
  /** This process table (`processTable()`); "" when it cannot be known. */
  readonly table: string;
  /** This process's pid. */
  readonly pid: number;
  /** Whether `owner` is a lock this process holds now (taking it, or taken and not yet released). */
  holds(owner: string): boolean;
  /**
   * The start time of the process with this pid in this table (`processStartTime`): null when there
   * is none, undefined when it cannot be told.
   */
  startTime(pid: number): string | null | undefined;
}

/** Whether a process with this pid exists in this process table (EPERM: it exists, owned by someone else). */
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

/**
 * The state and start time of a process from the text of its `/proc/<pid>/stat` (proc(5)): the
 * start time is field 22, in clock ticks since boot. Fields are counted after the last `)`, since
 * the command name (field 2) may itself hold spaces and parentheses. Undefined when malformed.
 */
export function parseProcStat(text: string): { state: string; startTime: string } | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = text.slice(close + 1).trim().split(/\s+/);
  // fields[0] is field 3 (state), so field 22 is fields[19].
  const state = fields[0];
  const startTime = fields[19];
  if (!state || !startTime || !/^\d+$/.test(startTime)) return undefined;
  return { state, startTime };
}

/**
 * Whether `/proc` shows this process table: `unshare --pid` without `--mount-proc`, say, leaves the
 * parent's `/proc` in place, whose pid N is another process than ours.
 */
const procIsOurs = (() => {
  let known: boolean | undefined;
  return (): boolean => {
    if (known === undefined) {
      try {
        known = readlinkSync("/proc/self") === String(process.pid);
      } catch {
        known = false;
      }
    }
    return known;
  };
})();

/**
 * The start time of process `pid` of this process table (field 22 of `/proc/<pid>/stat`): null when
 * no such process exists (or only its zombie), undefined when it cannot be told (no `/proc` of this
 * table, a process `/proc` hides from us, an unreadable entry). Never throws.
 */
export function processStartTime(pid: number): string | null | undefined {
  const missing = (): null | undefined => (pidAlive(pid) ? undefined : null);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (!procIsOurs()) return missing();
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (e) {
    // With `hidepid`, another user's live process is missing from /proc too: kill(2) still sees it.
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? missing() : undefined;
  }
  const stat = parseProcStat(text);
  if (!stat) return undefined;
  // A zombie (Z) or a dying process (X) holds nothing any more.
  return stat.state === "Z" || stat.state === "X" ? null : stat.startTime;
}

let ownStart: string | undefined;
/** This process's own start time (read once: it never changes), or "" when `/proc` cannot tell it. */
function ownStartTime(): string {
  if (ownStart === undefined) {
    try {
      ownStart = parseProcStat(readFileSync("/proc/self/stat", "utf8"))?.startTime ?? "";
    } catch {
      ownStart = "";
    }
  }
  return ownStart;
}

/** Owner ids of the locks this process is taking or holds, until each is released. */
const heldHere = new Set<string>();

/** The view of this very process, as `holderGone` uses it by default. */
export function thisProcess(): ProcessView {
  return { table: processTable(), pid: process.pid, holds: (owner) => heldHere.has(owner), startTime: processStartTime };
}

/** One id per process, so an owner id tells this process from an earlier one with the same pid. */
const INSTANCE = randomBytes(6).toString("hex");
let acquisitions = 0;

/**
 * A lock owner's id, unique per acquisition: `TABLE|HOST:PID:START:INSTANCE:N` — the process table,
 * host and pid, the process's start time ("-" when unknown), this process's instance id and a count.
 *
 * The start time travels in the owner id rather than in columns of its own: it only means something
 * together with the process table, which the owner id already carries; and the `locks` table stays
 * as it is, so versions before and after this one share a database (replicas upgraded one at a
 * time) and each reads the other's owners as before (an older owner id, without a start time, is
 * judged by its heartbeat when its pid exists).
 */
export function ownerId(table: string = processTable(), start: string = ownStartTime()): string {
  acquisitions += 1;
  return `${table}|${os.hostname()}:${process.pid}:${start || "-"}:${INSTANCE}:${acquisitions}`;
}

const OWNER = /^(?<table>[^|]*)\|.*:\d+:(?<start>\d+|-):(?<instance>[0-9a-f]{12}):\d+$/;

/**
 * What an owner id says about its process: its table ("" for none, or an owner written by a version
 * before process tables were recorded) and its start time (null when not recorded).
 */
export function parseOwner(owner: string): { table: string; startTime: string | null } {
  const m = OWNER.exec(owner);
  if (m?.groups) return { table: m.groups.table ?? "", startTime: m.groups.start === "-" ? null : (m.groups.start ?? null) };
  const bar = owner.indexOf("|");
  return { table: bar > 0 ? owner.slice(0, bar) : "", startTime: null };
}

/**
 * Whether the holder of a lock is certainly gone, by the rule at the top of this file: `now` is the
 * store's clock (`StateStore.clock`, or the `now` given to a takeover), `here` the process judging.
 * Used both to take a lock over and by `status`, so the two never disagree. Never throws.
 */
export function holderGone(holder: LockHolder, now: number, staleMs: number = LOCK_STALE_MS, here: ProcessView = thisProcess()): boolean {
  const stale = holder.heartbeatAt < now - staleMs;
  const { table, startTime } = parseOwner(holder.owner);
  if (table === "" || here.table === "" || table !== here.table) return stale;
  if (holder.pid === here.pid) return !here.holds(holder.owner);
  const running = here.startTime(holder.pid);
  if (running === null) return true;
  // A process has the pid, but whether it is the holder cannot be told: its heartbeat decides.
  if (running === undefined || startTime === null) return stale;
  return running !== startTime;
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
  // Counted as held while it is being taken: another acquisition in this process that reads the
  // row in between must see a live holder, not a leftover of this pid.
  heldHere.add(me.owner);
  let sentAt: number;
  try {
    for (;;) {
      const at = now();
      const r = await store.tryLock(sync, me, at, (holder, clock) => holderGone(holder, clock, staleMs));
      if (r.ok) {
        sentAt = at;
        break;
      }
      if (now() >= deadline) throw new LockBusy(sync, r.holder);
      if (opts.signal?.aborted) throw new StateError(`stopped while waiting for the run lock of sync '${sync}'`);
      await sleep(Math.min(LOCK_POLL_MS, Math.max(1, deadline - now())));
    }
  } catch (e) {
    heldHere.delete(me.owner);
    throw e;
  }
  const controller = new AbortController();
  const lose = (reason: string): void => {
    if (controller.signal.aborted) return;
    controller.abort(new StateError(reason));
    opts.onLost?.(reason);
  };
  // The lease as the holder counts it: from when it sent its last successful heartbeat (the lock
  // itself at first), on its own clock. The store wrote a later time, so others see it no sooner.
  const leaseExpired = (): boolean => {
    const since = now() - sentAt;
    if (since <= staleMs / 2) return false;
    lose(`the run lock of sync '${sync}' was not refreshed for ${Math.round(since / 1000)} s (paused, or cut off from the database); another process may take it over`);
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
        if (held) sentAt = at;
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
    owner: me.owner,
    signal: controller.signal,
    lost: () => controller.signal.aborted || leaseExpired(),
    lose,
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        await store.unlock(sync, me.owner);
      } catch {
        // The database is unusable: the lock goes stale by itself, and the run's own error says why.
        // Another process table takes it over by its heartbeat; this process, at once (not held here).
      } finally {
        heldHere.delete(me.owner);
      }
    },
  };
}
