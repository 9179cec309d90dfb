/**
 * Durations in the config (an alert's `repeatAfter`, a HubSpot source's `incremental.fullEvery`): a
 * whole number and a unit, `30s`, `30m`, `24h`, `2d`.
 * Kept to these four units on purpose: a duration in a config file is read by a person, and `1.5h`
 * or `90m` says nothing `1h30m` would say better (which is not accepted either: one unit per value).
 */

/** Milliseconds per unit a duration may use. */
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The longest duration accepted: a year, past which a repeat or a full refresh would never come anyway. */
export const MAX_DURATION_MS = 366 * UNIT_MS.d;

/** What a duration looks like, for messages. */
export const DURATION_FORMAT = "a whole number and a unit: s, m, h or d (e.g. 30m, 24h, 2d)";

/**
 * `30m` → 1_800_000. Returns undefined for anything that is not a positive whole number followed by
 * one of s, m, h, d (no spaces, no fractions), or is longer than `MAX_DURATION_MS`. Never throws.
 */
export function parseDuration(text: string): number | undefined {
  const m = /^([1-9]\d{0,8})([smhd])$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms <= MAX_DURATION_MS ? ms : undefined;
}

/** The pattern `parseDuration` accepts (for the JSON Schema); the year limit is checked apart. */
export const DURATION_PATTERN = /^[1-9]\d{0,8}[smhd]$/;
