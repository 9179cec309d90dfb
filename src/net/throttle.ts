/**
 * A request-start limiter over a sliding window, shared by every HTTP client here: Quo (10 requests
 * per second per key, docs/quo-api.md "Connecting") and HubSpot (100 per 10 s per app, docs/hubspot.md
 * "Rate limits").
 */
import { performance } from "node:perf_hooks";

/**
 * Added to the throttle's 1-second window. Quo counts requests per wall-clock second on arrival
 * (Kong rate-limiting, fixed windows). The throttle counts each start from when the request was
 * written to the socket, so what is left to absorb is the jitter of the trip to Quo; 10 ms costs 1 %
 * of the limit (10 per 1.01 s ≈ 9.9/s). Against the project's emulator at 150 ms latency, margins of
 * 5 and 15 ms both gave no 429 at all.
 */
export const DEFAULT_THROTTLE_MARGIN_MS = 10;

/** Options of `Throttle`; the clock and sleep exist so tests can run on a fake clock. */
export interface ThrottleOptions {
  /** Length of the window the limit counts in; default 1000 ms (Quo counts per second). */
  windowMs?: number;
  /** Added to the window to absorb jitter between our start and Quo's arrival; default `DEFAULT_THROTTLE_MARGIN_MS`. */
  marginMs?: number;
  /** How long a slot whose `started()` is never called keeps counting as "starting now"; default 60 s. */
  maxPendingMs?: number;
  /** After `slowDown()`, one more start per window is allowed again every `recoveryMs`; default one window. */
  recoveryMs?: number;
  /** Monotonic milliseconds; default `performance.now()`. */
  now?: () => number;
  /** Waits `ms` milliseconds; default a `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Awaited before each start is granted, after the window has room: the rate shared with other
   * processes (`SharedRate`). It must never reject; the window still holds this process's starts.
   */
  gate?: () => Promise<void>;
}

/**
 * One granted start. Until `started()` is called the start counts as happening "now" (it may reach
 * the server at any moment); `started()` fixes it at the current time. Call it when the request has
 * been handed to the network, or has failed before that; later calls do nothing.
 */
export interface ThrottleSlot {
  started(): void;
}

/**
 * `slowDown()` multiplies the allowed starts per window by this (rounded down, at least 1): 10 → 7 →
 * 4 → 2 → 1. Two processes at 10/s on one key each settle near 5/s within a couple of 429s.
 */
const SLOW_DOWN_FACTOR = 0.7;

/** Default of `ThrottleOptions.maxPendingMs`: twice the client's default timeout, so only a lost slot hits it. */
const DEFAULT_MAX_PENDING_MS = 60_000;

interface Slot {
  /** Grant time, then the time `started()` was called. */
  t: number;
  settled: boolean;
}

/**
 * Holds at most `perSecond` request starts in any sliding window of `windowMs + marginMs`, shared
 * by all concurrent callers, granted first come first served. It limits starts, not requests in
 * flight: with 150 ms latency, 10/s needs about 2 requests in flight, with 300 ms about 3.
 *
 * Why a sliding window: Quo counts arrivals per fixed wall-clock second. Any fixed second lies
 * inside some sliding window of the same length, so holding the sliding count to N never lets Quo
 * count more than N, whatever the offset between our clock and Quo's.
 *
 * Why slots: a request granted now may leave much later (a new TLS connection takes round trips, a
 * busy event loop delays the write) while one on a warm connection leaves at once. Counting each
 * start from when it actually left (`acquireSlot` + `started()`) keeps the window true to what Quo
 * sees; `acquire()` counts from the grant.
 *
 * A fractional `perSecond` ≥ 1 is rounded down (the limit is a count); below 1, one start is allowed
 * per `windowMs / perSecond`. Throws `RangeError` when `perSecond` is not a positive finite number.
 */
export class Throttle {
  readonly #maxLimit: number;
  /** Starts allowed per window now: `#maxLimit`, or less after `slowDown()`. */
  #limit: number;
  #recoverAt = Number.POSITIVE_INFINITY;
  readonly #recoveryMs: number;
  readonly #spanMs: number;
  readonly #maxPendingMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #gate: (() => Promise<void>) | undefined;
  /** Starts that may still count: settled ones inside the window, and every unsettled one. */
  #slots: Slot[] = [];
  readonly #waiters: ((slot: Slot) => void)[] = [];
  #pausedUntil = Number.NEGATIVE_INFINITY;
  #pumping = false;

  constructor(perSecond: number, opts: ThrottleOptions = {}) {
    if (!Number.isFinite(perSecond) || perSecond <= 0) {
      throw new RangeError(`requests per second must be a positive number, got ${perSecond}`);
    }
    const windowMs = opts.windowMs ?? 1000;
    const marginMs = opts.marginMs ?? DEFAULT_THROTTLE_MARGIN_MS;
    this.#maxPendingMs = opts.maxPendingMs ?? DEFAULT_MAX_PENDING_MS;
    if (!(windowMs > 0) || !(marginMs >= 0) || !(this.#maxPendingMs >= 0)) {
      throw new RangeError("windowMs must be > 0, marginMs and maxPendingMs ≥ 0");
    }
    this.#maxLimit = perSecond >= 1 ? Math.floor(perSecond) : 1;
    this.#limit = this.#maxLimit;
    this.#spanMs = (perSecond >= 1 ? windowMs : windowMs / perSecond) + marginMs;
    this.#recoveryMs = opts.recoveryMs ?? this.#spanMs;
    if (!(this.#recoveryMs > 0)) throw new RangeError("recoveryMs must be > 0");
    this.#now = opts.now ?? (() => performance.now());
    this.#sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#gate = opts.gate;
  }

  /** Resolves when the caller may start one request, counted from that moment. Never rejects. */
  acquire(): Promise<void> {
    return this.acquireSlot().then((slot) => slot.started());
  }

  /** Like `acquire`, but the start counts from when the caller calls `started()`. Never rejects. */
  acquireSlot(): Promise<ThrottleSlot> {
    return new Promise((resolve) => {
      this.#waiters.push((slot) =>
        resolve({
          started: () => {
            if (slot.settled) return;
            slot.settled = true;
            slot.t = Math.max(slot.t, this.#now());
          },
        }),
      );
      void this.#pump();
    });
  }

  /**
   * Holds back every start for `ms` from now (extends, never shortens, a pause already in force).
   * Called after a 429: the key's budget is spent, probably by another process sharing it.
   */
  penalize(ms: number): void {
    if (!(ms > 0)) return;
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
  }

  /**
   * Lowers the starts allowed per window (multiplicative decrease), then lets them grow back by one
   * per `recoveryMs` (additive increase). Called after a 429: a pause alone does not help processes
   * that share a key, as each comes back at full rate and they collide again (docs/quo-api.md,
   * "Connecting": the rate limit is "shared by every process using it").
   */
  slowDown(): void {
    this.#recover(this.#now());
    this.#limit = Math.max(1, Math.floor(this.#limit * SLOW_DOWN_FACTOR));
    this.#recoverAt = this.#now() + this.#recoveryMs;
  }

  /** Starts allowed per window at the moment, for metrics and tests. */
  get limit(): number {
    this.#recover(this.#now());
    return this.#limit;
  }

  /** Callers waiting for a start, for metrics. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** One loop grants every start, in arrival order, so no caller can overtake another. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#waiters.length > 0) {
        const now = this.#now();
        const wait = this.#waitMs(now);
        if (wait > 0) {
          try {
            await this.#sleep(Math.ceil(wait));
          } catch {
            // A failing sleep must not strand the queue; the loop re-reads the clock either way.
          }
          continue;
        }
        if (this.#gate) {
          try {
            await this.#gate();
          } catch {
            // A gate must not reject; if one does, this process's own window still holds.
          }
          // Time passed in the gate: the window is checked again (it can only have more room,
          // unless a 429 paused it meanwhile).
          if (this.#waitMs(this.#now()) > 0) continue;
        }
        const slot: Slot = { t: this.#now(), settled: false };
        this.#slots.push(slot);
        this.#waiters.shift()?.(slot);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** When a slot counts: its start if settled, else "now" (but never past its grant + maxPendingMs). */
  #effectiveTime(slot: Slot, now: number): number {
    return slot.settled ? slot.t : Math.min(now, slot.t + this.#maxPendingMs);
  }

  #recover(now: number): void {
    while (this.#limit < this.#maxLimit && now >= this.#recoverAt) {
      this.#limit += 1;
      this.#recoverAt += this.#recoveryMs;
    }
    if (this.#limit >= this.#maxLimit) this.#recoverAt = Number.POSITIVE_INFINITY;
  }

  #waitMs(now: number): number {
    this.#recover(now);
    const windowStart = now - this.#spanMs;
    // Slots are kept in grant order. Dropping expired ones from the front is cheap and keeps the
    // common case (fewer starts than the limit) free of scans, even at thousands per second.
    while (this.#slots.length > 0 && this.#effectiveTime(this.#slots[0] as Slot, now) <= windowStart) {
      this.#slots.shift();
    }
    if (this.#slots.length >= this.#limit) {
      this.#slots = this.#slots.filter((slot) => this.#effectiveTime(slot, now) > windowStart);
    }
    const paused = this.#pausedUntil - now;
    let full = 0;
    if (this.#slots.length >= this.#limit) {
      // The window has room again once all but `limit - 1` of the counted starts have left it.
      const times = this.#slots.map((slot) => this.#effectiveTime(slot, now)).sort((a, b) => a - b);
      full = (times[times.length - this.#limit] as number) + this.#spanMs - now;
    }
    return Math.max(paused, full, 0);
  }
}
