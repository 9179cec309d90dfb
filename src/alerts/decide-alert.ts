/**
 * Which alert a recorded run (or a sync that stopped completing runs) calls for: a pure function of
 * the state the alerts last announced and what the store recorded, so "one alert per change of
 * state" is decided here and tested as a table, apart from any sending (docs/daemon.md, "Alerts").
 */
import type { AlertEventName } from "../config.js";
import type { AlertState, AlertStateName, RunRecord } from "../state/store.js";

/** The alert state as it is written back: `swapAlertState`'s `next`. */
export type NextAlertState = Omit<AlertState, "sync" | "version">;

/** What a decision says: the event to send (or none), and the state to commit (or none: nothing moved). */
export interface AlertDecision {
  event: AlertEventName | null;
  next: NextAlertState | null;
}

/** A recorded run and the rejected row keys it shares with the run before it. */
export interface JudgedRun {
  /** A finished run as recorded (`running` runs are never judged). */
  run: RunRecord;
  /** The keys of the rows this run rejected. */
  rejectedKeys: readonly string[];
  /** The keys of the rows the sync's previous planned run rejected (none when there was none). */
  previousRejectedKeys: readonly string[];
}

/** The state a finished run leaves a sync in; null for a run that says nothing about it (interrupted). */
function stateOf(run: RunRecord): AlertStateName | null {
  if (run.outcome === "ok" || run.outcome === "failed" || run.outcome === "refused") return run.outcome;
  return null;
}

/** Whether a lasting bad state has gone unannounced for `repeatAfterMs` (Infinity: never repeated). */
function due(prev: AlertState, now: number, repeatAfterMs: number): boolean {
  return now - (prev.lastSentAt ?? prev.since) >= repeatAfterMs;
}

/**
 * The alert a recorded run calls for, given the state alerts last announced (`prev`, null before
 * any). A change of state sends one event — `failed` or `refused` on the way in, `recovered` on the
 * first ok run after `failed`, `refused` or `stalled` — and a lasting bad state sends it again once
 * `repeatAfterMs` has passed since it was last sent. A run with rejected keys the previous run did
 * not have sends `rejected` (when its state did not change: the state's own event carries its
 * rejected rows). Any newer run moves `runId` to itself, event or not; a run no newer than the one
 * the state was judged from, or an interrupted one, moves nothing. Pure; never throws.
 */
export function decideAlert(prev: AlertState | null, judged: JudgedRun, now: number, repeatAfterMs: number): AlertDecision {
  const { run } = judged;
  const none: AlertDecision = { event: null, next: null };
  if (prev?.runId != null && run.id <= prev.runId) return none;
  const state = stateOf(run);
  if (state === null) return none;
  const was = prev?.state ?? "ok";
  if (state !== was) {
    const event: AlertEventName = state === "ok" ? "recovered" : state;
    return { event, next: { state, since: run.endedAt ?? now, lastEvent: event, lastSentAt: now, runId: run.id } };
  }
  if (prev && state !== "ok" && due(prev, now, repeatAfterMs)) {
    return { event: state, next: { state, since: prev.since, lastEvent: state, lastSentAt: now, runId: run.id } };
  }
  // Nothing to announce, but the state is now judged from this run: an older run judged later (its
  // alert was decided in the background) must not move it back.
  const keep: NextAlertState = prev
    ? { state: prev.state, since: prev.since, lastEvent: prev.lastEvent, lastSentAt: prev.lastSentAt, runId: run.id }
    : { state, since: run.endedAt ?? now, lastEvent: null, lastSentAt: null, runId: run.id };
  const before = new Set(judged.previousRejectedKeys);
  if (judged.rejectedKeys.some((k) => !before.has(k))) return { event: "rejected", next: { ...keep, lastEvent: "rejected" } };
  return { event: null, next: keep };
}

/** What the stall check knows of a scheduled sync. */
export interface StallFacts {
  /** When the sync's newest completed run (ok, failed or refused) ended; null when it has none. */
  lastCompletedAt: number | null;
  /** The newest completed run's id (null: none), kept as the state's `runId` when there is none yet. */
  lastCompletedRunId: number | null;
  /** When this process began watching the sync: a sync is not stalled for the time nobody ran it. */
  watchingSince: number;
  /** The longest gap between two of its scheduled ticks. */
  intervalMs: number;
}

/** How many schedule intervals without a completed run make a sync stalled. */
export const STALL_INTERVALS = 3;

/**
 * Whether a scheduled sync has stalled: no completed run for `STALL_INTERVALS` of its intervals,
 * counted from its last completed run or from when this process began watching, whichever is later.
 * Sends `stalled` on the way in and again after `repeatAfterMs`; the next completed run leaves the
 * state through `decideAlert` (`recovered`, or `failed`/`refused`). Pure; never throws.
 */
export function decideStall(prev: AlertState | null, facts: StallFacts, now: number, repeatAfterMs: number): AlertDecision {
  const none: AlertDecision = { event: null, next: null };
  const from = Math.max(facts.lastCompletedAt ?? 0, facts.watchingSince);
  if (now - from < STALL_INTERVALS * facts.intervalMs) return none;
  if (prev?.state === "stalled") {
    if (!due(prev, now, repeatAfterMs)) return none;
    return { event: "stalled", next: { state: "stalled", since: prev.since, lastEvent: "stalled", lastSentAt: now, runId: prev.runId } };
  }
  return { event: "stalled", next: { state: "stalled", since: now, lastEvent: "stalled", lastSentAt: now, runId: prev?.runId ?? facts.lastCompletedRunId } };
}
