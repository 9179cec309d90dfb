/**
 * What both state engines share: turning table rows into the store's records and back, and
 * finding the migrations shipped with quo-sync. The queries themselves are each engine's
 * (drizzle's two dialects), over tables of the same names and columns.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ContactFields, CustomFieldBinding, ItemIds, Rejection, SyncRow } from "../model.js";
import { LockLost, StateError } from "../errors.js";
import type { AlertState, AlertStateName, JournalEntry, JournalOp, LockHolder, RetentionPolicy, RunOutcome, RunRecord, RunTrigger, SyncCursor } from "./store.js";

/** A state row whose JSON columns are parsed on first access: a rerun of 100,000 rows parses only the few that changed. */
export class LazySyncRow implements SyncRow {
  private parsedFields: ContactFields | undefined;
  private parsedIds: ItemIds | undefined;
  constructor(
    readonly key: string,
    readonly quoId: string,
    readonly hash: string,
    private readonly fieldsJson: string,
    private readonly itemIdsJson: string,
    readonly sourceHash: string | undefined,
    readonly linked: true | undefined,
  ) {}
  get fields(): ContactFields {
    return (this.parsedFields ??= JSON.parse(this.fieldsJson) as ContactFields);
  }
  get itemIds(): ItemIds {
    return (this.parsedIds ??= JSON.parse(this.itemIdsJson) as ItemIds);
  }
}

/** The `contacts` columns an upsert writes (besides sync and key). */
export function contactValues(r: SyncRow, now: number) {
  return {
    quoId: r.quoId,
    hash: r.hash,
    fields: JSON.stringify(r.fields),
    itemIds: JSON.stringify(r.itemIds),
    sourceHash: r.sourceHash ?? null,
    updatedAt: now,
    // Only a link or a create says what the contact is; an update keeps what was recorded.
    ...(r.linked !== undefined ? { linked: r.linked ? 1 : 0 } : {}),
  };
}

export function journalValues(entry: Omit<JournalEntry, "id">) {
  return {
    sync: entry.sync,
    key: entry.key,
    op: entry.op,
    quoId: entry.quoId,
    externalId: entry.externalId,
    fields: entry.fields ? JSON.stringify(entry.fields) : null,
    runId: entry.runId,
    startedAt: entry.startedAt,
  };
}

export function rejectionValues(runId: number, r: Rejection) {
  return { runId, key: r.key ?? null, row: r.row, field: r.field ?? null, value: r.value ?? null, reason: r.reason };
}

interface RunRow {
  id: number;
  sync: string;
  startedAt: number;
  endedAt: number | null;
  outcome: string;
  counts: string | null;
  error: string | null;
  trigger: string | null;
}

export function toRunRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    sync: r.sync,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    outcome: r.outcome as RunOutcome,
    counts: r.counts ? (JSON.parse(r.counts) as Record<string, number>) : null,
    error: r.error,
    trigger: (r.trigger as RunTrigger | null) ?? null,
  };
}

export function toRejection(r: { row: number; reason: string; key: string | null; field: string | null; value: string | null }): Rejection {
  return {
    row: r.row,
    reason: r.reason,
    ...(r.key !== null ? { key: r.key } : {}),
    ...(r.field !== null ? { field: r.field } : {}),
    ...(r.value !== null ? { value: r.value } : {}),
  };
}

export function toJournalEntry(r: Omit<JournalEntry, "op" | "fields"> & { op: string; fields: string | null }): JournalEntry {
  return { ...r, op: r.op as JournalOp, fields: r.fields ? (JSON.parse(r.fields) as ContactFields) : null };
}

export function toLockHolder(r: LockHolder): LockHolder {
  return { owner: r.owner, host: r.host, pid: r.pid, acquiredAt: r.acquiredAt, heartbeatAt: r.heartbeatAt };
}

const DAY_MS = 86_400_000;

/**
 * Which of a sync's runs `pruneRuns` deletes, from three facts both engines read first: the id of
 * its `policy.runs`-th newest run (undefined when it has no more runs than that), and the ids of its
 * newest finished and newest successful runs, which are always kept. A run is deleted when it has
 * finished and is older than the count allows or started before the age limit.
 */
export function pruneRule(policy: RetentionPolicy, now: number, facts: { oldestKept: number | undefined; keep: readonly (number | null | undefined)[] }) {
  return {
    /** Runs with a smaller id are beyond the count (none when undefined). */
    belowId: facts.oldestKept,
    /** Runs started before this are beyond the age limit. */
    startedBefore: now - policy.days * DAY_MS,
    /** Never deleted. */
    keepIds: facts.keep.filter((id): id is number => typeof id === "number"),
  };
}

/** The error of a write for an owner that no longer holds the sync's run lock (nothing was written). */
export function lockLost(sync: string): LockLost {
  return new LockLost(`the run lock of sync '${sync}' is no longer held by this run (another process took it over, or it was released); nothing was recorded`);
}

export function toBinding(r: CustomFieldBinding): CustomFieldBinding {
  return { configName: r.configName, key: r.key, name: r.name, type: r.type };
}

/**
 * Finds the migrations folder of an engine (`migrations/` for SQLite, `migrations/pg/` for
 * PostgreSQL) whether running from `src/` (tests) or `dist/src/` (the built CLI).
 */
export function migrationsFolder(engine: "sqlite" | "postgres"): string {
  const sub = engine === "sqlite" ? "migrations" : path.join("migrations", "pg");
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, sub);
    if (existsSync(path.join(candidate, "meta", "_journal.json"))) return candidate;
    dir = path.dirname(dir);
  }
  throw new StateError(`cannot find the ${engine} migrations folder shipped with quo-sync`);
}

/**
 * A read-only open cannot migrate: when the database's last applied migration (`appliedAt`, the
 * `created_at` drizzle records, or -1 for none) is behind this version's, say so and what to run,
 * instead of failing later on a missing column. Throws `StateError`.
 */
export function checkMigrated(engine: "sqlite" | "postgres", appliedAt: number, location: string): void {
  const journal = JSON.parse(readFileSync(path.join(migrationsFolder(engine), "meta", "_journal.json"), "utf8")) as { entries: { when: number; tag: string }[] };
  const missing = journal.entries.filter((e) => e.when > appliedAt).map((e) => e.tag);
  if (missing.length > 0) {
    throw new StateError(
      `the state database ${location} was written by an older quo-sync: ${missing.length} schema migration(s) not applied yet (${missing.join(", ")}). ` +
        "Run `quo-sync sync` (or start the daemon) once with this version to upgrade it; `plan` and `status` only read it and cannot.",
    );
  }
}

export function toAlertState(r: { sync: string; state: string; since: number; lastEvent: string | null; lastSentAt: number | null; runId: number | null; version: number }): AlertState {
  return { sync: r.sync, state: r.state as AlertStateName, since: r.since, lastEvent: r.lastEvent, lastSentAt: r.lastSentAt, runId: r.runId, version: r.version };
}

/** A stored report's JSON, or null; a report that does not parse (written by hand) reads as none. */
export function parseReport(json: string | null | undefined): unknown {
  if (!json) return null;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return null;
  }
}

/** A `sync_cursors` row as `syncCursor` returns it; a cursor that does not parse (edited by hand) reads as none. */
export function toSyncCursor(r: { cursor: string | null; fullAt: number | null } | undefined): SyncCursor | null {
  if (!r) return null;
  const cursor = parseReport(r.cursor);
  return cursor === null ? null : { cursor, fullAt: r.fullAt };
}
