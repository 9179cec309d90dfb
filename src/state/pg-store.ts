/**
 * The PostgreSQL state store: several daemons, on several hosts, share one database. Read and
 * written through drizzle-orm (node-postgres) over the tables of `schema-pg.ts`; the migrations
 * drizzle-kit generates from it (`migrations/pg/`) are applied when the store opens for writing,
 * one process at a time (a session advisory lock), so daemons starting together do not race.
 *
 * Semantics are those of the SQLite store, method for method. What SQLite gets from its single
 * writer, PostgreSQL gets from transactions and locks: the run lock is taken under a
 * transaction-scoped advisory lock per sync, with its row locked from the read that judges the
 * holder to the write; a write checked against the lock (`owner`) holds the lock row until it
 * commits; lock times and the shared request rate (`reserveStart`) are on the database's clock.
 *
 * Every failure is a `StateError` naming the database by its URL without the password.
 */
import { and, count, desc, DrizzleQueryError, eq, inArray, lt, lte, max, ne, notInArray, or, sql, type SQL } from "drizzle-orm";
import { drizzle, type NodePgDatabase, type NodePgQueryResultHKT } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { bigint, integer, pgSchema, text, type PgColumn, type PgDatabase } from "drizzle-orm/pg-core";
import pg from "pg";
import type { CustomFieldBinding, Rejection, SyncRow } from "../model.js";
import { QuoSyncError, StateError } from "../errors.js";
import { redactSecrets } from "../net/redact.js";
import { checkMigrated, contactValues, journalValues, LazySyncRow, lockLost, migrationsFolder, parseReport, pruneRule, rejectionValues, toAlertState, toBinding, toJournalEntry, toLockHolder, toRejection, toRunRecord, toSyncCursor } from "./rows.js";
import * as schema from "./schema-pg.js";
import { EmptyStore } from "./empty-store.js";
import { redactDatabaseUrl } from "./location.js";
import type { AlertState, JournalEntry, LockHolder, LockTaker, LockTakeover, OpenOptions, Pruned, RetentionPolicy, RunOutcome, RunRecord, RunTrigger, StateEffect, StateStore, StoreEngine, SyncCursor } from "./store.js";

/** A run's columns but its report, which only `runReport` reads. */
const RUN_COLUMNS = {
  id: schema.runs.id,
  sync: schema.runs.sync,
  startedAt: schema.runs.startedAt,
  endedAt: schema.runs.endedAt,
  outcome: schema.runs.outcome,
  counts: schema.runs.counts,
  error: schema.runs.error,
  trigger: schema.runs.trigger,
};

/** Where drizzle's migrator records what it applied (its defaults); only read here. */
const drizzleMigrations = pgSchema("drizzle").table("__drizzle_migrations", {
  id: integer("id"),
  hash: text("hash"),
  createdAt: bigint("created_at", { mode: "number" }),
});

/** Key of the session advisory lock that serializes migrating between processes. */
const MIGRATE_LOCK = "quo-sync:migrate";
/** Prefix of the per-sync transaction advisory lock taken by `tryLock`. */
const RUN_LOCK_PREFIX = "quo-sync:lock:";
/** Rows per multi-row INSERT: well below PostgreSQL's 65,535 parameters per statement. */
const BATCH = 1000;

type Db = PgDatabase<NodePgQueryResultHKT, typeof schema>;

/** The database's clock in milliseconds since the epoch, read when evaluated. */
const dbNowMs = sql<number>`floor(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** `excluded.<column>`: the value an upsert proposed, in its DO UPDATE SET. */
const excluded = (col: PgColumn): SQL => sql`excluded.${sql.identifier(col.name)}`;

/** The driver's own error under drizzle's wrapper (whose message lists the query's parameters). */
function driverError(e: unknown): unknown {
  return e instanceof DrizzleQueryError && e.cause !== undefined ? e.cause : e;
}

function driverMessage(e: unknown): string {
  const err = driverError(e);
  // A refused connection to a name with several addresses is an AggregateError without a message.
  if (err instanceof AggregateError && !err.message) return err.errors.map((x) => driverMessage(x)).join("; ") || "connection failed";
  if (err instanceof Error) return err.message || String((err as { code?: unknown }).code ?? err.name);
  return String(err);
}

/**
 * Whether the same call may succeed later: the connection was refused, lost or timed out, the
 * server is shutting down or out of connections, or a transaction lost a serialization race.
 */
function isTransient(e: unknown): boolean {
  const err = driverError(e);
  if (err instanceof AggregateError) return err.errors.some(isTransient);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    if (/^(08|53)/.test(code) || ["57P01", "57P02", "57P03", "40001", "40P01"].includes(code)) return true;
    return ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"].includes(code);
  }
  return err instanceof Error && /connection terminated|timeout/i.test(err.message);
}

/** A SQLSTATE saying the relation (or its schema) does not exist. */
function isUndefinedTable(e: unknown): boolean {
  const code = (driverError(e) as { code?: unknown } | null)?.code;
  return code === "42P01" || code === "3F000";
}

export class PgStore implements StateStore {
  readonly engine: StoreEngine = "postgres";
  private closed = false;

  private constructor(
    readonly location: string,
    private readonly pool: pg.Pool,
    private readonly db: NodePgDatabase<typeof schema>,
    readonly readonly: boolean,
    private readonly secrets: readonly string[],
  ) {}

  /**
   * Connects to the database `url` names and, unless `readonly`, applies the migrations it lacks.
   * A read-only open never migrates (its connections are read-only too) and refuses a database
   * whose migrations are behind this version's; of a database no quo-sync ever used, it yields an
   * `EmptyStore`. Throws `StateError`.
   */
  static async open(url: string, opts: OpenOptions = {}): Promise<StateStore> {
    const location = redactDatabaseUrl(url);
    const readonly = opts.readonly === true;
    const secrets = passwordsOf(url);
    let pool: pg.Pool | undefined;
    try {
      pool = new pg.Pool({
        connectionString: url,
        // A daemon's runs share one store: up to 10 writes in flight per run, each one short.
        max: 10,
        application_name: "quo-sync",
        connectionTimeoutMillis: 10_000,
        // A database that stops answering (a partition without a reset) fails the call after 30 s
        // instead of holding the run forever; keep-alives find a dead connection sooner.
        query_timeout: 30_000,
        keepAlive: true,
        // An idle pool does not keep the process alive (as an open SQLite file does not).
        allowExitOnIdle: true,
        ...(readonly ? { options: "-c default_transaction_read_only=on" } : {}),
      });
      // An idle connection that breaks (a server restart) is replaced; the next query reports it.
      pool.on("error", () => {});
      const db = drizzle(pool, { schema });
      if (readonly) {
        const applied = await lastApplied(db);
        if (applied < 0) {
          // Nothing ever ran against this database: it holds no state, as a SQLite file that does
          // not exist yet. A dry run reads an empty store and creates nothing (and loads no other
          // engine's driver for it).
          await pool.end();
          return new EmptyStore("postgres", location);
        }
        checkMigrated("postgres", applied, location);
      } else await migrateSerialized(pool);
      return new PgStore(location, pool, db, readonly, secrets);
    } catch (e) {
      await pool?.end().catch(() => {});
      if (e instanceof StateError) throw e;
      throw new StateError(redactSecrets(`cannot open the state database ${location}: ${driverMessage(e)}`, secrets), { cause: e, transient: isTransient(e) });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  clock(): Promise<number> {
    return this.op("read the database's clock", async () => {
      const { rows } = await this.db.execute<{ now: string }>(sql`select ${dbNowMs} as now`);
      return Number(rows[0]!.now);
    });
  }

  /**
   * Runs `fn` in a transaction after checking that `owner`, when given, still holds the sync's run
   * lock; the lock row stays locked (FOR SHARE) until the commit, so a takeover, whose upsert needs
   * the row, waits for it. Throws `LockLost` (nothing written) when the owner does not hold it.
   */
  private write<T>(sync: string, owner: string | undefined, fn: (q: Db) => Promise<T>): Promise<T> {
    if (owner === undefined) return fn(this.db);
    return this.db.transaction(async (tx) => {
      const [held] = await tx.select({ owner: schema.locks.owner }).from(schema.locks).where(eq(schema.locks.sync, sync)).for("share");
      if (held?.owner !== owner) throw lockLost(sync);
      return fn(tx);
    });
  }

  /** Runs one store operation, turning any failure into a `StateError` that names the database. */
  private async op<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof QuoSyncError) throw e;
      throw new StateError(redactSecrets(`the state database ${this.location} failed to ${what}: ${driverMessage(e)}`, this.secrets), { cause: e, transient: isTransient(e) });
    }
  }

  loadSyncRows(sync: string): Promise<SyncRow[]> {
    return this.op(`read the rows of sync '${sync}'`, async () => {
      const c = schema.contacts;
      const rows = await this.db
        .select({ key: c.key, quoId: c.quoId, hash: c.hash, fields: c.fields, itemIds: c.itemIds, sourceHash: c.sourceHash, linked: c.linked })
        .from(c)
        .where(eq(c.sync, sync))
        // Byte order of the keys, as SQLite returns them (its primary key index).
        .orderBy(sql`${c.key} collate "C"`);
      return rows.map((r) => new LazySyncRow(r.key, r.quoId, r.hash, r.fields, r.itemIds, r.sourceHash ?? undefined, r.linked === 1 ? true : undefined));
    });
  }

  countSyncRows(sync: string): Promise<number> {
    return this.op(`count the rows of sync '${sync}'`, async () => {
      const [r] = await this.db.select({ n: count() }).from(schema.contacts).where(eq(schema.contacts.sync, sync));
      return r?.n ?? 0;
    });
  }

  startRun(sync: string, now: number, trigger?: RunTrigger): Promise<number> {
    return this.op(`start a run of sync '${sync}'`, async () => {
      const [r] = await this.db.insert(schema.runs).values({ sync, startedAt: now, outcome: "running", trigger: trigger ?? null }).returning({ id: schema.runs.id });
      return r!.id;
    });
  }

  finishRun(runId: number, outcome: RunOutcome, now: number, counts?: object, error?: string, report?: object): Promise<void> {
    return this.op(`finish run ${runId}`, async () => {
      await this.db
        .update(schema.runs)
        .set({ outcome, endedAt: now, counts: counts ? JSON.stringify(counts) : null, error: error ?? null, report: report ? JSON.stringify(report) : null })
        .where(eq(schema.runs.id, runId));
    });
  }

  addRejections(runId: number, rows: readonly Rejection[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.op(`record the rejections of run ${runId}`, () =>
      this.db.transaction(async (tx) => {
        for (let i = 0; i < rows.length; i += BATCH) {
          await tx.insert(schema.rejections).values(rows.slice(i, i + BATCH).map((r) => rejectionValues(runId, r)));
        }
      }),
    );
  }

  recentRuns(opts: { sync?: string; limit: number }): Promise<RunRecord[]> {
    return this.op("read recent runs", async () => {
      const rows = await this.db
        .select(RUN_COLUMNS)
        .from(schema.runs)
        .where(opts.sync ? eq(schema.runs.sync, opts.sync) : undefined)
        .orderBy(desc(schema.runs.id))
        .limit(opts.limit);
      return rows.map(toRunRecord);
    });
  }

  runRejections(runId: number, limit: number): Promise<Rejection[]> {
    return this.op(`read the rejections of run ${runId}`, async () => {
      const rows = await this.db.select().from(schema.rejections).where(eq(schema.rejections.runId, runId)).orderBy(schema.rejections.id).limit(limit);
      return rows.map(toRejection);
    });
  }

  runById(runId: number): Promise<RunRecord | null> {
    return this.op(`read run ${runId}`, async () => {
      const [r] = await this.db.select(RUN_COLUMNS).from(schema.runs).where(eq(schema.runs.id, runId));
      return r ? toRunRecord(r) : null;
    });
  }

  runReport(runId: number): Promise<unknown> {
    return this.op(`read the report of run ${runId}`, async () => {
      const [r] = await this.db.select({ report: schema.runs.report }).from(schema.runs).where(eq(schema.runs.id, runId));
      return parseReport(r?.report);
    });
  }

  recordDelivery(source: string, id: string, now: number): Promise<boolean> {
    return this.op(`record webhook delivery of ${source}`, async () => (await this.db.insert(schema.webhookDeliveries).values({ source, id, receivedAt: now }).onConflictDoNothing()).rowCount === 1);
  }

  recordDeliveries(source: string, ids: readonly string[], now: number): Promise<Set<string>> {
    return this.op(`record webhook deliveries of ${source}`, async () => {
      if (!ids.length) return new Set<string>();
      const w = schema.webhookDeliveries;
      // One statement: each row inserted or skipped on its own, and only the inserted ones returned.
      const rows = await this.db.insert(w).values([...new Set(ids)].map((id) => ({ source, id, receivedAt: now }))).onConflictDoNothing().returning({ id: w.id });
      return new Set(rows.map((r) => r.id));
    });
  }

  pruneDeliveries(before: number): Promise<number> {
    return this.op("forget old webhook deliveries", async () => (await this.db.delete(schema.webhookDeliveries).where(lt(schema.webhookDeliveries.receivedAt, before))).rowCount ?? 0);
  }

  addPendingChecks(sync: string, keys: readonly string[], now: number): Promise<void> {
    return this.op(`remember contacts of sync '${sync}' to check`, async () => {
      if (!keys.length) return;
      const p = schema.pendingChecks;
      await this.db
        .insert(p)
        .values([...new Set(keys)].map((key) => ({ sync, key, receivedAt: now })))
        .onConflictDoUpdate({ target: [p.sync, p.key], set: { receivedAt: sql`greatest(${p.receivedAt}, excluded.received_at)` } });
    });
  }

  pendingChecks(sync: string): Promise<string[]> {
    return this.op(`read the contacts of sync '${sync}' to check`, async () => {
      const p = schema.pendingChecks;
      return (await this.db.select({ key: p.key }).from(p).where(eq(p.sync, sync)).orderBy(p.key)).map((r) => r.key);
    });
  }

  clearPendingChecks(sync: string, keys: readonly string[], upTo: number): Promise<number> {
    return this.op(`forget checked contacts of sync '${sync}'`, async () => {
      if (!keys.length) return 0;
      const p = schema.pendingChecks;
      let n = 0;
      for (let i = 0; i < keys.length; i += 1000) n += (await this.db.delete(p).where(and(eq(p.sync, sync), inArray(p.key, keys.slice(i, i + 1000)), lte(p.receivedAt, upTo)))).rowCount ?? 0;
      return n;
    });
  }

  keyOfQuoId(sync: string, quoId: string): Promise<string | null> {
    return this.op(`look up a contact of sync '${sync}'`, async () => {
      const c = schema.contacts;
      const [r] = await this.db.select({ key: c.key }).from(c).where(and(eq(c.sync, sync), eq(c.quoId, quoId))).limit(1);
      return r?.key ?? null;
    });
  }

  alertState(sync: string): Promise<AlertState | null> {
    return this.op(`read the alert state of sync '${sync}'`, async () => {
      const [r] = await this.db.select().from(schema.alertStates).where(eq(schema.alertStates.sync, sync));
      return r ? toAlertState(r) : null;
    });
  }

  swapAlertState(sync: string, expected: number | null, next: Omit<AlertState, "sync" | "version">): Promise<boolean> {
    return this.op(`record the alert state of sync '${sync}'`, async () => {
      const a = schema.alertStates;
      const values = { state: next.state, since: next.since, lastEvent: next.lastEvent, lastSentAt: next.lastSentAt, runId: next.runId };
      const r =
        expected === null
          ? await this.db.insert(a).values({ sync, ...values, version: 1 }).onConflictDoNothing()
          : await this.db.update(a).set({ ...values, version: expected + 1 }).where(and(eq(a.sync, sync), eq(a.version, expected)));
      return r.rowCount === 1;
    });
  }

  closeAbandonedRuns(sync: string, now: number): Promise<number> {
    return this.op(`close abandoned runs of sync '${sync}'`, async () => {
      const r = await this.db
        .update(schema.runs)
        .set({ outcome: "interrupted", endedAt: now, error: "the process stopped before the run finished" })
        .where(and(eq(schema.runs.sync, sync), eq(schema.runs.outcome, "running")));
      return r.rowCount ?? 0;
    });
  }

  pruneRuns(sync: string, policy: RetentionPolicy, now: number): Promise<Pruned> {
    return this.op(`prune the runs of sync '${sync}'`, () =>
      this.db.transaction(async (tx) => {
        const r = schema.runs;
        const [nth] = await tx.select({ id: r.id }).from(r).where(eq(r.sync, sync)).orderBy(desc(r.id)).limit(1).offset(Math.max(0, policy.runs - 1));
        const [newest] = await tx.select({ finished: max(r.id) }).from(r).where(and(eq(r.sync, sync), ne(r.outcome, "running")));
        const [newestOk] = await tx.select({ ok: max(r.id) }).from(r).where(and(eq(r.sync, sync), eq(r.outcome, "ok")));
        const rule = pruneRule(policy, now, { oldestKept: nth?.id, keep: [newest?.finished, newestOk?.ok] });
        const doomed = and(
          eq(r.sync, sync),
          ne(r.outcome, "running"),
          or(rule.belowId !== undefined ? lt(r.id, rule.belowId) : undefined, lt(r.startedAt, rule.startedBefore)),
          rule.keepIds.length ? notInArray(r.id, rule.keepIds) : undefined,
        );
        const rejections = await tx.delete(schema.rejections).where(inArray(schema.rejections.runId, tx.select({ id: r.id }).from(r).where(doomed)));
        const runs = await tx.delete(r).where(doomed);
        return { runs: runs.rowCount ?? 0, rejections: rejections.rowCount ?? 0 };
      }),
    );
  }

  journalBegin(entry: Omit<JournalEntry, "id">, owner?: string): Promise<number> {
    return this.op(`journal a write of sync '${entry.sync}'`, () =>
      this.write(entry.sync, owner, async (q) => {
        const [r] = await q.insert(schema.journal).values(journalValues(entry)).returning({ id: schema.journal.id });
        return r!.id;
      }),
    );
  }

  journalCommit(journalId: number, sync: string, effect: StateEffect, now: number, owner?: string): Promise<void> {
    return this.op(`commit journal entry ${journalId}`, () =>
      owner !== undefined
        ? this.write(sync, owner, (tx) => commitEntry(tx, journalId, sync, effect, now))
        : this.db.transaction((tx) => commitEntry(tx, journalId, sync, effect, now)),
    );
  }

  journalAbort(journalId: number): Promise<void> {
    return this.op(`abort journal entry ${journalId}`, async () => {
      await this.db.delete(schema.journal).where(eq(schema.journal.id, journalId));
    });
  }

  pendingJournal(sync: string): Promise<JournalEntry[]> {
    return this.op(`read the journal of sync '${sync}'`, async () => {
      const rows = await this.db.select().from(schema.journal).where(eq(schema.journal.sync, sync)).orderBy(schema.journal.id);
      return rows.map(toJournalEntry);
    });
  }

  resolveJournal(ids: readonly number[], sync: string, effect: StateEffect, now: number, owner?: string): Promise<void> {
    const resolve = async (tx: Db): Promise<void> => {
      await applyEffect(tx, sync, effect, now);
      if (ids.length) await tx.delete(schema.journal).where(inArray(schema.journal.id, [...ids]));
    };
    return this.op(`resolve journal entries of sync '${sync}'`, () => (owner !== undefined ? this.write(sync, owner, resolve) : this.db.transaction(resolve)));
  }

  /** `now` is not used: the lock's times, and the clock `takeover` judges by, are the database's. */
  tryLock(sync: string, me: LockTaker, _now: number, takeover: LockTakeover): Promise<{ ok: true } | { ok: false; holder: LockHolder }> {
    return this.op(`take the run lock of sync '${sync}'`, () =>
      this.db.transaction(async (tx) => {
        // Every taker of this sync's lock, in any process, queues here until the one before it
        // commits: the read and the write below are one step for all of them. The row itself is
        // locked too, so the holder's heartbeat and checked writes wait for the verdict (and a
        // verdict waits for them).
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${RUN_LOCK_PREFIX + sync}))`);
        const [held] = await tx.select().from(schema.locks).where(eq(schema.locks.sync, sync)).for("update");
        const { rows } = await tx.execute<{ now: string }>(sql`select ${dbNowMs} as now`);
        const at = Number(rows[0]!.now);
        if (held && held.owner !== me.owner) {
          const holder = toLockHolder(held);
          if (!takeover(holder, at)) return { ok: false as const, holder };
        }
        const values = { owner: me.owner, host: me.host, pid: me.pid, acquiredAt: at, heartbeatAt: at };
        await tx
          .insert(schema.locks)
          .values({ sync, ...values })
          .onConflictDoUpdate({ target: schema.locks.sync, set: values });
        return { ok: true as const };
      }),
    );
  }

  /** `now` is not used: the heartbeat is written on the database's clock, as `tryLock` judges it. */
  heartbeat(sync: string, owner: string, _now: number): Promise<boolean> {
    return this.op(`refresh the run lock of sync '${sync}'`, async () => {
      const r = await this.db
        .update(schema.locks)
        .set({ heartbeatAt: dbNowMs })
        .where(and(eq(schema.locks.sync, sync), eq(schema.locks.owner, owner)));
      return (r.rowCount ?? 0) > 0;
    });
  }

  unlock(sync: string, owner: string): Promise<void> {
    return this.op(`release the run lock of sync '${sync}'`, async () => {
      await this.db.delete(schema.locks).where(and(eq(schema.locks.sync, sync), eq(schema.locks.owner, owner)));
    });
  }

  lockHolder(sync: string): Promise<LockHolder | null> {
    return this.op(`read the run lock of sync '${sync}'`, async () => {
      const [r] = await this.db.select().from(schema.locks).where(eq(schema.locks.sync, sync));
      return r ? toLockHolder(r) : null;
    });
  }

  customFieldBindings(sync: string): Promise<CustomFieldBinding[]> {
    return this.op(`read the custom-field bindings of sync '${sync}'`, async () => {
      const b = schema.customFieldBindings;
      const rows = await this.db
        .select({ configName: b.configName, key: b.key, name: b.name, type: b.type })
        .from(b)
        .where(eq(b.sync, sync))
        .orderBy(sql`${b.configName} collate "C"`);
      return rows.map(toBinding);
    });
  }

  saveCustomFieldBindings(sync: string, bindings: readonly CustomFieldBinding[], now: number): Promise<void> {
    return this.op(`save the custom-field bindings of sync '${sync}'`, () =>
      this.db.transaction(async (tx) => {
        await tx.delete(schema.customFieldBindings).where(eq(schema.customFieldBindings.sync, sync));
        if (bindings.length > 0) {
          await tx.insert(schema.customFieldBindings).values(bindings.map((b) => ({ sync, ...toBinding(b), updatedAt: now })));
        }
      }),
    );
  }

  syncCursor(sync: string): Promise<SyncCursor | null> {
    return this.op(`read the cursor of sync '${sync}'`, async () => {
      const [r] = await this.db.select({ cursor: schema.syncCursors.cursor, fullAt: schema.syncCursors.fullAt }).from(schema.syncCursors).where(eq(schema.syncCursors.sync, sync));
      return toSyncCursor(r);
    });
  }

  saveSyncCursor(sync: string, cursor: unknown, fullAt: number | null, now: number, owner?: string): Promise<void> {
    const values = { cursor: JSON.stringify(cursor), fullAt, updatedAt: now };
    return this.op(`save the cursor of sync '${sync}'`, () =>
      this.write(sync, owner, async (q) => {
        await q.insert(schema.syncCursors).values({ sync, ...values }).onConflictDoUpdate({ target: schema.syncCursors.sync, set: values });
      }),
    );
  }

  forgetRow(sync: string, key: string, now: number, owner?: string): Promise<void> {
    return this.op(`forget a row of sync '${sync}'`, () => this.write(sync, owner, (q) => applyEffect(q, sync, { remove: key }, now)));
  }

  putRows(sync: string, rows: readonly SyncRow[], now: number, owner?: string): Promise<void> {
    if (rows.length === 0 && owner === undefined) return Promise.resolve();
    const put = async (tx: Db): Promise<void> => {
      // The same as upserting the rows one by one, in order, in multi-row statements: the last
      // row of a key wins, keeping the last `linked` given for it when it gives none itself.
      const byKey = new Map<string, SyncRow>();
      for (const r of rows) {
        const prev = byKey.get(r.key);
        byKey.delete(r.key);
        byKey.set(r.key, r.linked === undefined && prev?.linked !== undefined ? { ...r, linked: prev.linked } : r);
      }
      const c = schema.contacts;
      const common = { quoId: excluded(c.quoId), hash: excluded(c.hash), fields: excluded(c.fields), itemIds: excluded(c.itemIds), sourceHash: excluded(c.sourceHash), updatedAt: excluded(c.updatedAt) };
      // A row without `linked` keeps what was recorded: those go in statements that leave it alone.
      for (const withLinked of [true, false]) {
        const group = [...byKey.values()].filter((r) => (r.linked !== undefined) === withLinked);
        const set = withLinked ? { ...common, linked: excluded(c.linked) } : common;
        for (let i = 0; i < group.length; i += BATCH) {
          await tx
            .insert(c)
            .values(group.slice(i, i + BATCH).map((r) => ({ sync, key: r.key, ...contactValues(r, now) })))
            .onConflictDoUpdate({ target: [c.sync, c.key], set });
        }
      }
    };
    return this.op(`write the rows of sync '${sync}'`, () => (owner !== undefined ? this.write(sync, owner, put) : this.db.transaction(put)));
  }

  /**
   * One statement, atomic on its row: the slot after the last one reserved (or now, if that one is
   * past) becomes this request's start, and the next slot moves `spacingMs` after it. Spacing is
   * rounded up to whole milliseconds (the column's unit).
   */
  reserveStart(rate: string, spacingMs: number): Promise<number> {
    return this.op(`reserve a request start of rate '${rate}'`, async () => {
      const spacing = Math.max(0, Math.ceil(spacingMs));
      const r = schema.rateSlots;
      const [row] = await this.db
        .insert(r)
        .values({ name: rate, nextAt: sql`${dbNowMs} + ${spacing}` })
        .onConflictDoUpdate({ target: r.name, set: { nextAt: sql`greatest(${r.nextAt}, ${dbNowMs}) + ${spacing}` } })
        .returning({ nextAt: r.nextAt, dbNow: dbNowMs.mapWith(Number) });
      return Math.max(0, row!.nextAt - spacing - row!.dbNow);
    });
  }
}

/** Applies a finished write's effect and clears its journal entry (inside the caller's transaction). */
async function commitEntry(tx: Db, journalId: number, sync: string, effect: StateEffect, now: number): Promise<void> {
  await applyEffect(tx, sync, effect, now);
  await tx.delete(schema.journal).where(eq(schema.journal.id, journalId));
}

/** Applies a finished write's effect on the sync state (inside the caller's transaction, if any). */
async function applyEffect(q: Db, sync: string, effect: StateEffect, now: number): Promise<void> {
  const c = schema.contacts;
  if ("upsert" in effect) {
    const values = contactValues(effect.upsert, now);
    await q
      .insert(c)
      .values({ sync, key: effect.upsert.key, ...values })
      .onConflictDoUpdate({ target: [c.sync, c.key], set: values });
  } else if ("remove" in effect) {
    await q.delete(c).where(and(eq(c.sync, sync), eq(c.key, effect.remove)));
  }
}

/**
 * Migrates on one dedicated connection holding a session advisory lock, so processes opening the
 * database at the same moment migrate one after the other (the later ones find nothing to do).
 */
async function migrateSerialized(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const db = drizzle(client, { schema });
    await db.execute(sql`select pg_advisory_lock(hashtext(${MIGRATE_LOCK}))`);
    try {
      await migrate(db, { migrationsFolder: migrationsFolder("postgres") });
    } finally {
      try {
        await db.execute(sql`select pg_advisory_unlock(hashtext(${MIGRATE_LOCK}))`);
      } catch (e) {
        // Dropping the connection releases the lock too.
        broken = e as Error;
      }
    }
  } catch (e) {
    broken ??= e as Error;
    throw e;
  } finally {
    client.release(broken);
  }
}

/** The `created_at` of the last migration applied, or -1 (none, or not a state database). */
async function lastApplied(db: NodePgDatabase<typeof schema>): Promise<number> {
  try {
    const [r] = await db.select({ last: max(drizzleMigrations.createdAt) }).from(drizzleMigrations);
    return r?.last ?? -1;
  } catch (e) {
    if (isUndefinedTable(e)) return -1;
    throw e;
  }
}

/** The password in `url`, as written and decoded, to keep out of any message. */
function passwordsOf(url: string): string[] {
  try {
    const raw = new URL(url).password;
    if (!raw) return [];
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      /* keep it as written */
    }
    return [...new Set([raw, decoded])];
  } catch {
    return [];
  }
}

