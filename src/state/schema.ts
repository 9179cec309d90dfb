/**
 * The state database's tables (drizzle schema). Migrations in `migrations/` are generated from this
 * file by `npm run db:generate` (drizzle-kit) and never edited by hand. This file imports only
 * drizzle-orm so drizzle-kit can load it on its own.
 */
import { sqliteTable, text, integer, primaryKey, index } from "drizzle-orm/sqlite-core";

/** Per sync and source key: the Quo contact this sync created, and what was last sent to it. */
export const contacts = sqliteTable(
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
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.sync, t.key] }), index("contacts_quo_id").on(t.quoId)],
);

/** One row per run of a sync (real runs only: a dry run writes nothing anywhere). */
export const runs = sqliteTable(
  "runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sync: text("sync").notNull(),
    startedAt: integer("started_at").notNull(),
    endedAt: integer("ended_at"),
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
export const rejections = sqliteTable(
  "rejections",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
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
export const journal = sqliteTable(
  "journal",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sync: text("sync").notNull(),
    key: text("key").notNull(),
    /** create | update | delete */
    op: text("op").notNull(),
    quoId: text("quo_id"),
    externalId: text("external_id").notNull(),
    /** JSON of the ContactFields being sent (for a create, what to adopt if it landed). */
    fields: text("fields"),
    runId: integer("run_id"),
    startedAt: integer("started_at").notNull(),
  },
  (t) => [index("journal_sync").on(t.sync)],
);

/**
 * One run per sync at a time, across processes: a row is the lock. The holder refreshes
 * `heartbeat_at` while it runs; a lock whose holder is gone (its process, when it ran in the
 * taker's process table; else its heartbeat: docs/architecture.md, "Locks") is taken over.
 */
export const locks = sqliteTable("locks", {
  sync: text("sync").primaryKey(),
  owner: text("owner").notNull(),
  host: text("host").notNull(),
  pid: integer("pid").notNull(),
  acquiredAt: integer("acquired_at").notNull(),
  heartbeatAt: integer("heartbeat_at").notNull(),
});

/**
 * The custom-field definitions a sync resolved on its last run, so a definition that disappeared or
 * changed type in the Quo app is caught before any write.
 */
export const customFieldBindings = sqliteTable(
  "custom_field_bindings",
  {
    sync: text("sync").notNull(),
    configName: text("config_name").notNull(),
    key: text("key").notNull(),
    name: text("name").notNull(),
    type: text("type").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.sync, t.configName] })],
);

/**
 * Per sync, the state the alerts last announced (docs/daemon.md, "Alerts"): `ok`, `failed`,
 * `refused` or `stalled`, since when, and when it was last sent. `version` grows with each change:
 * a process announces an event only by moving the row from the version it read to the next one,
 * so with several daemons on one database each event is sent once.
 */
export const alertStates = sqliteTable("alert_states", {
  sync: text("sync").primaryKey(),
  state: text("state").notNull(),
  since: integer("since").notNull(),
  /** The last event sent, and when; a state that lasts is re-sent `repeatAfter` after this. */
  lastEvent: text("last_event"),
  lastSentAt: integer("last_sent_at"),
  /** The newest run this state was judged from: an older one never moves it back. */
  runId: integer("run_id"),
  version: integer("version").notNull(),
});

/**
 * Per sync, where an incremental source read left off (`source.incremental`): the source's own
 * cursor as JSON (HubSpot: the newest `lastmodifieddate` applied), moved only once the run that
 * read up to it has recorded its writes, and when the last full read was.
 */
export const syncCursors = sqliteTable("sync_cursors", {
  sync: text("sync").primaryKey(),
  cursor: text("cursor"),
  fullAt: integer("full_at"),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Contacts a Quo webhook said were edited or deleted in the app, by sync and key, until a run of the
 * sync has read them back and applied `onDrift`: a process stopped between the delivery's answer and
 * that run leaves them here for the next run (of any trigger) to check. `received_at` is the newest
 * delivery's time, so a run clears only what it was started after.
 */
export const pendingChecks = sqliteTable(
  "pending_checks",
  {
    sync: text("sync").notNull(),
    key: text("key").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.sync, t.key] })],
);

/**
 * Webhook deliveries already accepted, by vendor (`hubspot`, `quo`) and delivery id, so a delivery
 * sent again (vendors deliver at least once) is acknowledged but not applied twice. Pruned after a day.
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    source: text("source").notNull(),
    id: text("id").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.id] }), index("webhook_deliveries_received_at").on(t.receivedAt)],
);
