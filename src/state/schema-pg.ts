/**
 * The state database's tables for PostgreSQL (drizzle pg-core schema). It mirrors `schema.ts` (the
 * SQLite schema) table for table: same table names, column names, primary keys and index names,
 * so both engines share the row helpers of `rows.ts`. Two differences: millisecond timestamps are
 * `bigint` (they overflow a 4-byte integer), and `rate_slots`, the request rate shared by every
 * process using the database, exists only here.
 *
 * Migrations in `migrations/pg/` are generated from this file by
 * `npx drizzle-kit generate --config drizzle.pg.config.ts` and never edited by hand. This file
 * imports only drizzle-orm so drizzle-kit can load it on its own.
 */
import { bigint, index, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";

/** Per sync and source key: the Quo contact this sync created, and what was last sent to it. */
export const contacts = pgTable(
  "contacts",
  {
    sync: text("sync").notNull(),
    key: text("key").notNull(),
    quoId: text("quo_id").notNull(),
    /** hashContact(fields): compared with the source's hash to decide an update. */
    hash: text("hash").notNull(),
    /** JSON of ContactFields last sent (no secrets: only contact data). */
    fields: text("fields").notNull(),
    /** JSON of ItemIds: Quo's ids of the contact's phone and email items, by label. */
    itemIds: text("item_ids").notNull(),
    /** Digest of the raw source cells last mapped (see SyncRow.sourceHash); null forces a re-map. */
    sourceHash: text("source_hash"),
    /** 1 when the contact was already in Quo and the sync linked it (`match`): never deleted, only forgotten. */
    linked: integer("linked").notNull().default(0),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.sync, t.key] }), index("contacts_quo_id").on(t.quoId)],
);

/** One row per run of a sync (real runs only: a dry run writes nothing anywhere). */
export const runs = pgTable(
  "runs",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    sync: text("sync").notNull(),
    startedAt: bigint("started_at", { mode: "number" }).notNull(),
    endedAt: bigint("ended_at", { mode: "number" }),
    /** running | ok | failed | refused | interrupted */
    outcome: text("outcome").notNull(),
    /** JSON of the report counts. */
    counts: text("counts"),
    error: text("error"),
    /** What started the run: schedule | manual | webhook | watch; null for runs recorded before it was kept. */
    trigger: text("trigger"),
    /** JSON of the run's report as stored (`storedReport`: changes and rejected rows capped); null when none was made. */
    report: text("report"),
  },
  (t) => [index("runs_sync_started").on(t.sync, t.startedAt)],
);

/** Rows a run rejected, with the reason shown to the user. */
export const rejections = pgTable(
  "rejections",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    runId: integer("run_id").notNull(),
    key: text("key"),
    row: integer("row").notNull(),
    field: text("field"),
    value: text("value"),
    reason: text("reason").notNull(),
  },
  (t) => [index("rejections_run").on(t.runId)],
);

/**
 * Writes in flight: a row is inserted (and committed) before a write is sent to Quo and removed in
 * the same transaction that records the write's outcome. A row left behind means the process died
 * mid-write; the next run resolves it against Quo before planning.
 */
export const journal = pgTable(
  "journal",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    sync: text("sync").notNull(),
    key: text("key").notNull(),
    /** create | update | delete | link */
    op: text("op").notNull(),
    quoId: text("quo_id"),
    externalId: text("external_id").notNull(),
    /** JSON of the ContactFields being sent (for a create, what to adopt if it landed). */
    fields: text("fields"),
    runId: integer("run_id"),
    startedAt: bigint("started_at", { mode: "number" }).notNull(),
  },
  (t) => [index("journal_sync").on(t.sync)],
);

/**
 * One run per sync at a time, across processes and hosts: a row is the lock. The holder refreshes
 * `heartbeat_at` while it runs; a lock whose holder is gone is taken over.
 */
export const locks = pgTable("locks", {
  sync: text("sync").primaryKey(),
  owner: text("owner").notNull(),
  host: text("host").notNull(),
  pid: integer("pid").notNull(),
  acquiredAt: bigint("acquired_at", { mode: "number" }).notNull(),
  heartbeatAt: bigint("heartbeat_at", { mode: "number" }).notNull(),
});

/**
 * The custom-field definitions a sync resolved on its last run, so a definition that disappeared or
 * changed type in the Quo app is caught before any write.
 */
export const customFieldBindings = pgTable(
  "custom_field_bindings",
  {
    sync: text("sync").notNull(),
    configName: text("config_name").notNull(),
    key: text("key").notNull(),
    name: text("name").notNull(),
    type: text("type").notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.sync, t.configName] })],
);

/**
 * A request rate shared by every process using this database (one per API key, by `name`):
 * `next_at` is the earliest start, in milliseconds on the database's clock, the next request may
 * reserve (`StateStore.reserveStart`). PostgreSQL only: no SQLite table matches it.
 */
export const rateSlots = pgTable("rate_slots", {
  name: text("name").primaryKey(),
  nextAt: bigint("next_at", { mode: "number" }).notNull(),
});

/** Per sync, the state the alerts last announced; see the SQLite schema's `alert_states`. */
export const alertStates = pgTable("alert_states", {
  sync: text("sync").primaryKey(),
  state: text("state").notNull(),
  since: bigint("since", { mode: "number" }).notNull(),
  lastEvent: text("last_event"),
  lastSentAt: bigint("last_sent_at", { mode: "number" }),
  runId: integer("run_id"),
  version: integer("version").notNull(),
});

/** Per sync, where an incremental source read left off; see the SQLite schema's `sync_cursors`. */
export const syncCursors = pgTable("sync_cursors", {
  sync: text("sync").primaryKey(),
  cursor: text("cursor"),
  fullAt: bigint("full_at", { mode: "number" }),
  updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
});

/**
 * Contacts a Quo webhook said were edited or deleted in the app, by sync and key, until a run of the
 * sync has read them back and applied `onDrift`: a process stopped between the delivery's answer and
 * that run leaves them here for the next run (of any trigger) to check. `received_at` is the newest
 * delivery's time, so a run clears only what it was started after.
 */
export const pendingChecks = pgTable(
  "pending_checks",
  {
    sync: text("sync").notNull(),
    key: text("key").notNull(),
    receivedAt: bigint("received_at", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.sync, t.key] })],
);

/**
 * Webhook deliveries already accepted, by vendor (`hubspot`, `quo`) and delivery id, so a delivery
 * sent again (vendors deliver at least once) is acknowledged but not applied twice. Pruned after a day.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    source: text("source").notNull(),
    id: text("id").notNull(),
    receivedAt: bigint("received_at", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.id] }), index("webhook_deliveries_received_at").on(t.receivedAt)],
);
