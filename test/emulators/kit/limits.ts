/** Rate-limit bookkeeping shared by the emulators whose vendors count requests in sliding windows. */

/**
 * The arrival times of the requests a budget has let through, for sliding-window limits: a request
 * at `t` counts in a window of `ms` ending at `now` while `t > now - ms`. The caller decides what
 * counts (usually only the requests it accepts) by calling `record`.
 */
export class SlidingWindowLog {
  private times: number[] = [];

  /** Forgets the entries too old for any window up to `keepMs`, so the log stays small. */
  forget(keepMs: number, now: number): void {
    let drop = 0;
    while (drop < this.times.length && (this.times[drop] as number) <= now - keepMs) drop += 1;
    if (drop > 0) this.times.splice(0, drop);
  }

  /** How many recorded entries fall within the last `ms` before `now`. */
  within(ms: number, now: number): number {
    return this.times.filter((t) => t > now - ms).length;
  }

  /** Records one request at `now`. */
  record(now: number): void {
    this.times.push(now);
  }
}
