/**
 * Request counters. Each emulator keeps its own shape (routes, kinds, writes, rate-limit policies);
 * the kit holds the parts every one has and the start-over/copy rules, so tests read the same way
 * from all of them.
 */

/** The counters every emulator keeps. */
export interface RequestCounts {
  /** Every HTTP request to the emulated API received, rejected ones included; admin requests never. */
  requests: number;
  /** Answers by status ("200", "429", …), or by a pseudo-status an emulator names (e.g. "lost"). */
  byStatus: Record<string, number>;
}

/** Adds one to `counts[key]`, starting from 0. */
export function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/**
 * One emulator's counters since start or the last `reset()`. `current` is the live object, which the
 * emulator updates in place (its own counters included); callers outside get `snapshot()` copies.
 */
export class StatsBook<T extends RequestCounts> {
  current: T;

  /** `empty` makes a zeroed set of counters; it is called again on every reset. */
  constructor(private readonly empty: () => T) {
    this.current = empty();
  }

  /** Counts one request received. */
  request(): void {
    this.current.requests += 1;
  }

  /** Counts one answer (or lost answer) under its status. */
  status(status: number | string): void {
    bump(this.current.byStatus, String(status));
  }

  /** Zeroes every counter. */
  reset(): void {
    this.current = this.empty();
  }

  /** A deep copy, safe to keep while the emulator goes on counting. */
  snapshot(): T {
    return structuredClone(this.current);
  }
}
