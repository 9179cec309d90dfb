/**
 * Coalesces the runs that triggers ask for: a burst of file changes or webhook deliveries becomes
 * one run per sync, and one asked for while a run of that sync is in progress (whoever started it)
 * becomes exactly one more run after it — never a queue. Runs go through `Scheduler.request`, so
 * they take the same lock, planner and journal as a tick.
 */
import type { Logger } from "../log.js";
import type { RequestRefusal, RunRequest } from "../daemon/scheduler.js";

/** What the coalescer needs of the scheduler. */
export interface RunRequester {
  /** `ran` resolves false when another process held the sync's lock, so nothing ran here. */
  request(name: string, how: RunRequest): { started: true; ran: Promise<boolean> } | { started: false; why: RequestRefusal };
  whenIdle(name: string): Promise<void>;
  isStopping(): boolean;
}

/**
 * How long a webhook run waits for the burst it belongs to to end (no delivery for this long):
 * vendors send changes in bursts (an import, a bulk edit), and one run after the burst beats many.
 */
export const BURST_QUIET_MS = 1_000;

/** The longest a burst can hold its run back, however long it lasts: a steady stream still runs this often. */
export const BURST_MAX_WAIT_MS = 5_000;

/**
 * How long to wait before asking again when another process (a one-shot `sync`, a replica on the
 * shared state) held the sync's lock: its run may have read the source before the change.
 */
export const LOCKED_RETRY_MS = 2_000;

/** How many times in a row a locked-out run is asked again (a minute's worth); then the next tick or trigger applies the change. */
export const LOCKED_RETRIES = 30;

/**
 * The most record ids a merged burst reads by id (20 batch reads of 100). Past it the run is an
 * ordinary one: a full listing of a portal costs one request per 100 contacts as well, and an
 * incremental read one per 200 changed, so a bigger burst (an import, a bulk edit) is read that way.
 */
export const MAX_TARGETED_IDS = 2_000;

/** What a trigger asks for: its kind, and whether the run must read Quo back (`onDrift` now). */
export interface TriggerRequest {
  trigger: "webhook" | "watch";
  verify?: boolean;
  /**
   * With `verify`: only these keys' contacts are read back (a Quo webhook names the contact that
   * changed). Requests that merge union their keys; a `verify` without keys (every contact) wins.
   */
  verifyKeys?: readonly string[];
  /**
   * Waits until no request came for this long (at most `BURST_MAX_WAIT_MS` after the first) before
   * the run starts; 0 (default) starts at once. A watched file has settled already.
   */
  quietMs?: number;
  /**
   * A targeted run: only these source record ids (`RunOptions.targets`). Requests that merge union
   * their ids; one without `targets` (an ordinary run) wins, and the merged run is ordinary.
   */
  targets?: { ids: readonly string[]; gone?: readonly string[] };
}

/**
 * Two requests as the one run that serves both: `verify` if either asks, the longest quiet, the
 * first's trigger; targeted only when both are, on the union of their ids (an id gone in either
 * is gone, and not read), and only up to `MAX_TARGETED_IDS` ids in all: a bigger burst is an
 * ordinary run (whose deletes, for an incremental source, wait for its full refresh).
 */
export function mergeRequests(a: TriggerRequest, b: TriggerRequest): TriggerRequest {
  const merged: TriggerRequest = { trigger: a.trigger, verify: Boolean(a.verify || b.verify), quietMs: Math.max(a.quietMs ?? 0, b.quietMs ?? 0) };
  const verifying = [a, b].filter((r) => r.verify);
  if (verifying.length && verifying.every((r) => r.verifyKeys)) merged.verifyKeys = [...new Set(verifying.flatMap((r) => r.verifyKeys!))];
  if (a.targets && b.targets) {
    const gone = new Set([...(a.targets.gone ?? []), ...(b.targets.gone ?? [])]);
    const ids = [...new Set([...a.targets.ids, ...b.targets.ids])].filter((id) => !gone.has(id));
    if (ids.length + gone.size <= MAX_TARGETED_IDS) merged.targets = { ids, ...(gone.size ? { gone: [...gone] } : {}) };
  }
  return merged;
}

interface Slot {
  /** When the request now pending was first and last made, and the longest quiet asked. */
  firstAt: number;
  lastAt: number;
  /** A loop is running runs for this sync (waiting for a busy run, or running ours). */
  active: boolean;
  /** What the next run must do; null when none is owed. */
  pending: TriggerRequest | null;
}

/** One per daemon, shared by every trigger. */
export class RunCoalescer {
  private readonly slots = new Map<string, Slot>();
  private readonly loops = new Set<Promise<void>>();

  constructor(
    private readonly scheduler: RunRequester,
    private readonly logger: Logger,
  ) {}

  /**
   * Asks for a run of `sync`. Returns at once; the run starts as soon as no other run of the sync
   * is in progress here. Requests made before that run starts merge into it (`mergeRequests`:
   * `verify` if any asked for it, ids united, an ordinary request making it ordinary); requests made
   * while it runs make one more run after it.
   */
  ask(sync: string, req: TriggerRequest): void {
    const now = Date.now();
    const slot = this.slots.get(sync) ?? { active: false, pending: null, firstAt: now, lastAt: now };
    this.slots.set(sync, slot);
    if (!slot.pending) slot.firstAt = now;
    slot.lastAt = now;
    slot.pending = slot.pending ? mergeRequests(slot.pending, req) : { ...req };
    if (slot.active) return;
    slot.active = true;
    const loop = this.drain(sync, slot).finally(() => {
      slot.active = false;
      this.loops.delete(loop);
    });
    this.loops.add(loop);
  }

  /** Resolves when every run asked for so far (and the ones they owe) has ended. Never rejects. */
  async idle(): Promise<void> {
    while (this.loops.size) await Promise.allSettled([...this.loops]);
  }

  /** Resolves once the pending request's burst has been quiet for its `quietMs`, or has lasted `BURST_MAX_WAIT_MS`. */
  private async burstEnd(slot: Slot): Promise<void> {
    for (;;) {
      const quiet = slot.pending?.quietMs ?? 0;
      const wait = Math.min(slot.lastAt + quiet, slot.firstAt + BURST_MAX_WAIT_MS) - Date.now();
      if (!slot.pending || wait <= 0 || this.scheduler.isStopping()) return;
      await new Promise((res) => setTimeout(res, wait));
    }
  }

  /** Runs what is owed until nothing is; each run takes the pending request as it starts. */
  private async drain(sync: string, slot: Slot): Promise<void> {
    let lockedOut = 0;
    try {
      while (slot.pending && !this.scheduler.isStopping()) {
        // A run in progress (a tick, the console, ours) first: the one owed starts after it.
        await this.scheduler.whenIdle(sync);
        await this.burstEnd(slot);
        const req = slot.pending;
        if (!req) return;
        const targets = req.targets ? { ids: [...req.targets.ids], ...(req.targets.gone?.length ? { gone: [...req.targets.gone] } : {}) } : undefined;
        const r = this.scheduler.request(sync, { allowDeletes: false, trigger: req.trigger, ...(req.verify ? { verify: true, ...(req.verifyKeys ? { verifyKeys: [...req.verifyKeys] } : {}) } : {}), ...(targets ? { targets } : {}) });
        if (!r.started) {
          if (r.why === "busy") continue; // another run began between the wait and the request
          slot.pending = null;
          if (r.why === "unknown") this.logger.warn({ sync }, "a trigger asked for a sync this daemon cannot run");
          return;
        }
        slot.pending = null;
        if (await r.ran) lockedOut = 0;
        else if (++lockedOut >= LOCKED_RETRIES) {
          this.logger.warn({ sync }, "triggered run gave up: another process kept the sync's lock; its next run applies the change");
        } else {
          // Locked elsewhere: the change is still owed. Wait, then ask again (merging what came meanwhile).
          const meanwhile = slot.pending as TriggerRequest | null; // set by ask() during the await
          slot.pending = meanwhile ? mergeRequests(meanwhile, req) : req;
          await new Promise((res) => setTimeout(res, LOCKED_RETRY_MS));
        }
      }
    } catch (e) {
      slot.pending = null;
      this.logger.error({ sync }, `triggered run could not be started: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
