import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import pg from "pg";
import { LockLost, StateError } from "../../src/errors.js";
import type { ContactFields, SyncRow } from "../../src/model.js";
import { PgStore } from "../../src/state/pg-store.js";
import { openStore, redactDatabaseUrl, type OpenOptions, type StateStore } from "../../src/state/store.js";
import { queryDatabase, startPostgres, type PgServer } from "./postgres.js";

let server: PgServer;
let url: string;
const opened: StateStore[] = [];

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  url = await server.createDatabase();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function open(opts: OpenOptions = {}, at = url): Promise<StateStore> {
  const s = await PgStore.open(at, opts);
  opened.push(s);
  return s;
}


const fields: ContactFields = { firstName: "Ann", lastName: "Lee", phoneNumbers: [{ name: "mobile", value: "+14155550100" }], emails: [{ name: "work", value: "ann@example.com" }], customFields: { vip: true } };
const row: SyncRow = { key: "1", quoId: "CT1", hash: "h1", fields, itemIds: { phoneNumbers: { mobile: "PH1" }, emails: { work: "EM1" } }, sourceHash: "s1" };

/** A row as plain data (LazySyncRow parses its JSON on access). */
const plain = (r: SyncRow) => ({ key: r.key, quoId: r.quoId, hash: r.hash, fields: r.fields, itemIds: r.itemIds, sourceHash: r.sourceHash, linked: r.linked });

describe("PgStore", () => {
  it("opening applies the migrations once; reopening and simultaneous opens are fine", async () => {
    const a = await open();
    expect(a.engine).toBe("postgres");
    expect(a.readonly).toBe(false);
    expect(a.location).toBe(redactDatabaseUrl(url));
    expect(a.location).not.toContain(server.password);
    const migrations = async (at: string) => (await queryDatabase<{ n: string }>(at, "select count(*) as n from drizzle.__drizzle_migrations"))[0]!.n;
    expect(await migrations(url)).toBe("4");
    await open();
    expect(await migrations(url)).toBe("4");

    // Several processes starting together on an empty database: one migrates, the others wait.
    const fresh = await server.createDatabase();
    const stores = await Promise.all([1, 2, 3, 4].map(() => open({}, fresh)));
    expect(await migrations(fresh)).toBe("4");
    expect(await stores[3]!.countSyncRows("leads")).toBe(0);
    const tables = await queryDatabase<{ t: string }>(fresh, "select table_name as t from information_schema.tables where table_schema = 'public' order by 1");
    expect(tables.map((t) => t.t)).toEqual(["alert_states", "contacts", "custom_field_bindings", "journal", "locks", "pending_checks", "rate_slots", "rejections", "runs", "sync_cursors", "webhook_deliveries"]);
  });

  it("openStore picks PostgreSQL for a postgres:// URL", async () => {
    const s = await openStore(url);
    opened.push(s);
    expect(s).toBeInstanceOf(PgStore);
    expect(s.engine).toBe("postgres");
  });

  it("a commit whose effect fails leaves the journal entry in place (one transaction)", async () => {
    const s = await open();
    const j = await s.journalBegin({ sync: "leads", key: "1", op: "create", quoId: null, externalId: "leads:1", fields, runId: null, startedAt: 1 });
    // A quo_id of NULL violates NOT NULL: the upsert fails after nothing else ran.
    const bad = { ...row, quoId: null as unknown as string };
    await expect(s.journalCommit(j, "leads", { upsert: bad }, 2)).rejects.toBeInstanceOf(StateError);
    expect((await s.pendingJournal("leads")).map((e) => e.id)).toEqual([j]);
    await expect(s.resolveJournal([j], "leads", { upsert: bad }, 2)).rejects.toThrow(StateError);
    expect((await s.pendingJournal("leads")).map((e) => e.id)).toEqual([j]);
  });

  it("reserveStart: simultaneous reservations get distinct slots spacingMs apart", async () => {
    const a = await open();
    const b = await open();
    const t0 = Date.now();
    const waits = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).reserveStart!("key-1", 100)));
    const t1 = Date.now();
    const elapsed = t1 - t0;
    const sorted = [...waits].sort((x, y) => x - y);
    expect(new Set(waits).size).toBe(30);
    // The k-th reservation starts k slots after the first, which starts at once; each wait is
    // its slot minus the (advancing) clock when it was reserved.
    expect(sorted[0]).toBeLessThanOrEqual(elapsed + 2);
    sorted.forEach((w, k) => {
      expect(w).toBeGreaterThanOrEqual(k * 100 - elapsed - 2);
      expect(w).toBeLessThanOrEqual(k * 100 + 2);
    });
    // The slots themselves: the next free one is exactly 30 spacings after the first.
    const [slot] = await queryDatabase<{ next_at: string }>(url, "select next_at from rate_slots where name = 'key-1'");
    const first = Number(slot!.next_at) - 30 * 100;
    expect(first).toBeGreaterThanOrEqual(t0 - 50);
    expect(first).toBeLessThanOrEqual(t1 + 50);

    // Another rate has its own slots; a rate idle past its last slot starts at once.
    expect(await a.reserveStart!("key-2", 40)).toBe(0);
    const next = await a.reserveStart!("key-2", 40);
    expect(next).toBeGreaterThan(30);
    expect(next).toBeLessThanOrEqual(40);
    await new Promise((r) => setTimeout(r, 100));
    expect(await b.reserveStart!("key-2", 40)).toBe(0);
  });

  it("millisecond timestamps (beyond 32 bits) round-trip exactly", async () => {
    const s = await open();
    const now = Date.now();
    const runId = await s.startRun("leads", now);
    await s.finishRun(runId, "ok", now + 1);
    expect((await s.recentRuns({ limit: 1 }))[0]).toMatchObject({ startedAt: now, endedAt: now + 1 });
    await s.journalBegin({ sync: "leads", key: "1", op: "create", quoId: null, externalId: "leads:1", fields, runId, startedAt: now + 2 });
    expect((await s.pendingJournal("leads"))[0]!.startedAt).toBe(now + 2);
    // Lock times are the database's clock (the same machine's here), whatever the caller says.
    await s.tryLock("leads", { owner: "A", host: "h", pid: 4_194_304 }, 3, () => false);
    await s.heartbeat("leads", "A", 4);
    const h = (await s.lockHolder("leads"))!;
    expect(h).toMatchObject({ owner: "A", host: "h", pid: 4_194_304 });
    expect(h.acquiredAt).toBeGreaterThanOrEqual(now - 50);
    expect(h.heartbeatAt).toBeGreaterThanOrEqual(h.acquiredAt);
    expect(h.heartbeatAt).toBeLessThanOrEqual(Date.now() + 50);
    await s.putRows("leads", [row], now + 5);
    const [r] = await queryDatabase<{ updated_at: string }>(url, "select updated_at from contacts");
    expect(Number(r!.updated_at)).toBe(now + 5);
  });

  it("a write checked against the lock holds the lock row until it commits: a takeover waits for it, and it waits for a takeover", async () => {
    const s = await open();
    expect((await s.tryLock("leads", { owner: "A", host: "h", pid: 1 }, 0, () => false)).ok).toBe(true);
    const j = await s.journalBegin({ sync: "leads", key: "1", op: "create", quoId: null, externalId: "leads:1", fields, runId: null, startedAt: 1 }, "A");
    const settled = (p: Promise<unknown>) => {
      const state = { done: false };
      void p.then(
        () => (state.done = true),
        () => (state.done = true),
      );
      return state;
    };

    // A commit of A in flight (its transaction holds the row as the store's check does): B's takeover waits for it.
    const commit = new pg.Client({ connectionString: url });
    await commit.connect();
    try {
      await commit.query("begin");
      await commit.query("select owner from locks where sync = 'leads' for share");
      const takeover = s.tryLock("leads", { owner: "B", host: "h2", pid: 2 }, 0, () => true);
      const t = settled(takeover);
      await new Promise((r) => setTimeout(r, 300));
      expect(t.done).toBe(false);
      await commit.query("commit");
      expect((await takeover).ok).toBe(true);
    } finally {
      await commit.end();
    }

    // B's takeover in flight (its transaction holds the row, as tryLock does): A's commit waits, then finds the lock gone.
    expect((await s.tryLock("leads", { owner: "A", host: "h", pid: 1 }, 0, () => true)).ok).toBe(true);
    const taker = new pg.Client({ connectionString: url });
    await taker.connect();
    try {
      await taker.query("begin");
      await taker.query("select owner from locks where sync = 'leads' for update");
      await taker.query("update locks set owner = 'B' where sync = 'leads'");
      const write = s.journalCommit(j, "leads", { upsert: row }, 2, "A");
      const w = settled(write);
      await new Promise((r) => setTimeout(r, 300));
      expect(w.done).toBe(false);
      await taker.query("commit");
      await expect(write).rejects.toBeInstanceOf(LockLost);
    } finally {
      await taker.end();
    }
    expect((await s.pendingJournal("leads")).map((e) => e.id)).toEqual([j]);
    expect(await s.loadSyncRows("leads")).toEqual([]);
  });

  it("a read-only open never migrates: a never-used database reads as empty, one behind is refused, a current one is read", async () => {
    const empty = await openStore(url, { readonly: true });
    expect([empty.engine, empty.readonly, empty.location]).toEqual(["postgres", true, redactDatabaseUrl(url)]);
    expect(await empty.loadSyncRows("leads")).toEqual([]);
    expect(await empty.recentRuns({ limit: 5 })).toEqual([]);
    await expect(empty.startRun("leads", 1)).rejects.toThrow(StateError);
    await empty.close();
    expect(await queryDatabase(url, "select 1 from information_schema.schemata where schema_name = 'drizzle'")).toEqual([]);
    expect(await queryDatabase(url, "select 1 from information_schema.tables where table_schema = 'public'")).toEqual([]);

    const w = await open();
    await w.putRows("leads", [row], 1);
    const r = await open({ readonly: true });
    expect(r.readonly).toBe(true);
    expect((await r.loadSyncRows("leads")).map(plain)).toEqual([plain(row)]);
    // Its connections are read-only as well.
    await expect(r.startRun("leads", 1)).rejects.toThrow(/read-only transaction/);

    // As if written by a version from before this one's last migration.
    await queryDatabase(url, "delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)");
    const behind = PgStore.open(url, { readonly: true });
    await expect(behind).rejects.toBeInstanceOf(StateError);
    await expect(behind).rejects.toThrow(/written by an older quo-sync: 1 schema migration\(s\) not applied yet \(0003_pending_checks\)/);
    await expect(behind).rejects.toThrow(redactDatabaseUrl(url));
  });


  it("a wrong password fails with a StateError naming the URL without any password", async () => {
    const wrong = `wrong-${server.password}`;
    const bad = url.replace(encodeURIComponent(server.password), encodeURIComponent(wrong));
    for (const readonly of [false, true]) {
      const e = (await PgStore.open(bad, { readonly }).catch((x: unknown) => x)) as StateError;
      expect(e).toBeInstanceOf(StateError);
      expect(e.kind).toBe("state");
      expect(e.message).toContain(redactDatabaseUrl(bad));
      expect(e.message).toContain("***");
      expect(e.message).toMatch(/password authentication failed/);
      expect(e.message).not.toContain(server.password);
      expect(e.message).not.toContain(wrong);
      expect(e.cause).toBeDefined();
    }
  });

  it("an unreachable server fails with a transient StateError; a closed store's calls fail as StateError", async () => {
    const port = server.port;
    const nowhere = url.replace(`:${port}/`, ":1/");
    const e = (await PgStore.open(nowhere).catch((x: unknown) => x)) as StateError;
    expect(e).toBeInstanceOf(StateError);
    expect(e.message).toContain(`cannot open the state database ${redactDatabaseUrl(nowhere)}: `);
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.message).not.toContain(server.password);
    expect(e.transient).toBe(true);

    const s = await PgStore.open(url);
    await s.close();
    await s.close();
    const after = (await s.countSyncRows("leads").catch((x: unknown) => x)) as StateError;
    expect(after).toBeInstanceOf(StateError);
    expect(after.message).toContain(redactDatabaseUrl(url));
  });
});
