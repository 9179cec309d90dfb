import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LockLost, StateError } from "../../src/errors.js";
import type { ContactFields, SyncRow } from "../../src/model.js";
import { openStore, type LockHolder, type RunOutcome } from "../../src/state/store.js";
import { ENGINES } from "../integration/engines.js";

const fields: ContactFields = { firstName: "Ann", phoneNumbers: [{ name: "mobile", value: "+14155550100" }], emails: [], customFields: {} };
const row = { key: "1", quoId: "CT1", hash: "h1", fields, itemIds: { phoneNumbers: { mobile: "PH1" }, emails: {} }, sourceHash: "s1" };
const plain = (r: SyncRow) => ({ key: r.key, quoId: r.quoId, hash: r.hash, fields: r.fields, itemIds: r.itemIds, sourceHash: r.sourceHash, linked: r.linked });

const never = () => false;

describe.each(ENGINES)("StateStore (%s)", (_name, fx) => {
  it("applies the migrations and round-trips sync rows (JSON columns parsed lazily)", async () => {
    const s = await openStore(await fx.fresh());
    expect(s.engine).toBe(fx.engine);
    await s.putRows("leads", [row, { ...row, key: "2", quoId: "CT2", linked: true }], 1);
    await s.putRows("other", [{ ...row, quoId: "CT9" }], 1);
    const rows = (await s.loadSyncRows("leads")).sort((a, b) => a.key.localeCompare(b.key));
    expect(rows.map(plain)).toEqual([
      { ...row, linked: undefined },
      { ...row, key: "2", quoId: "CT2", linked: true },
    ]);
    expect(await s.countSyncRows("leads")).toBe(2);
    expect(await s.countSyncRows("nobody")).toBe(0);
    // An update (linked not said) keeps what was recorded; a null source hash reads as undefined.
    await s.putRows("leads", [{ ...row, key: "2", quoId: "CT2", hash: "h2", sourceHash: undefined }], 2);
    const two = (await s.loadSyncRows("leads")).find((r) => r.key === "2");
    expect(two && plain(two)).toEqual({ ...row, key: "2", quoId: "CT2", hash: "h2", sourceHash: undefined, linked: true });
    await s.forgetRow("leads", "1", 3);
    expect((await s.loadSyncRows("leads")).map((r) => r.key)).toEqual(["2"]);
    await s.close();
  });

  it("a second open of the same state migrates nothing and sees the same data", async () => {
    const at = await fx.fresh();
    const [a, b] = await Promise.all([openStore(at), openStore(at)]);
    await a.putRows("leads", [row], 1);
    expect((await b.loadSyncRows("leads")).map((r) => r.quoId)).toEqual(["CT1"]);
    const ro = await openStore(at, { readonly: true });
    expect(ro.readonly).toBe(true);
    expect(await ro.countSyncRows("leads")).toBe(1);
    await Promise.all([a.close(), b.close(), ro.close()]);
  });

  it("journal: commit applies the effect and clears the entry in one step; abort only clears", async () => {
    const s = await openStore(await fx.fresh());
    const j1 = await s.journalBegin({ sync: "leads", key: "1", op: "create", quoId: null, externalId: "leads:1", fields, runId: 1, startedAt: 1_764_000_000_001 });
    const j2 = await s.journalBegin({ sync: "leads", key: "2", op: "create", quoId: null, externalId: "leads:2", fields, runId: 1, startedAt: 1 });
    expect(await s.pendingJournal("leads")).toEqual([
      { id: j1, sync: "leads", key: "1", op: "create", quoId: null, externalId: "leads:1", fields, runId: 1, startedAt: 1_764_000_000_001 },
      { id: j2, sync: "leads", key: "2", op: "create", quoId: null, externalId: "leads:2", fields, runId: 1, startedAt: 1 },
    ]);
    await s.journalCommit(j1, "leads", { upsert: row }, 2);
    await s.journalAbort(j2);
    expect(await s.pendingJournal("leads")).toEqual([]);
    expect((await s.loadSyncRows("leads")).map((r) => r.quoId)).toEqual(["CT1"]);
    const j3 = await s.journalBegin({ sync: "leads", key: "1", op: "delete", quoId: "CT1", externalId: "leads:1", fields: null, runId: 2, startedAt: 3 });
    await s.journalCommit(j3, "leads", { remove: "1" }, 4);
    expect(await s.loadSyncRows("leads")).toEqual([]);
    await s.close();
  });

  it("journal: recovery resolves several entries of a key with one effect, atomically", async () => {
    const s = await openStore(await fx.fresh());
    const ids = [];
    for (const op of ["create", "update", "link"] as const) ids.push(await s.journalBegin({ sync: "leads", key: "1", op, quoId: op === "create" ? null : "CT1", externalId: "leads:1", fields, runId: 1, startedAt: 5 }));
    const other = await s.journalBegin({ sync: "crm", key: "1", op: "delete", quoId: "CT7", externalId: "crm:1", fields: null, runId: 2, startedAt: 5 });
    expect((await s.pendingJournal("leads")).map((e) => e.op)).toEqual(["create", "update", "link"]);
    await s.resolveJournal(ids, "leads", { upsert: { ...row, linked: true } }, 6);
    expect(await s.pendingJournal("leads")).toEqual([]);
    expect((await s.pendingJournal("crm")).map((e) => e.id)).toEqual([other]);
    expect((await s.loadSyncRows("leads")).map(plain)).toEqual([{ ...row, linked: true }]);
    await s.resolveJournal([other], "crm", { none: true }, 7);
    expect(await s.pendingJournal("crm")).toEqual([]);
    await s.close();
  });

  it("runs: recorded with counts, rejections kept in order; an abandoned 'running' run is marked interrupted", async () => {
    const s = await openStore(await fx.fresh());
    const started = Date.now();
    const first = await s.startRun("leads", started);
    await s.finishRun(first, "ok", started + 1234, { create: 2, update: 0 });
    await s.addRejections(first, [
      { row: 3, key: "7", field: "phoneNumbers.mobile", value: "555-12", reason: "not a valid phone number" },
      { row: 4, reason: "no key" },
    ]);
    const second = await s.startRun("leads", started + 2000);
    await s.startRun("crm", started + 2000);
    expect(await s.closeAbandonedRuns("leads", started + 3000)).toBe(1);
    expect(await s.recentRuns({ sync: "leads", limit: 5 })).toEqual([
      { id: second, sync: "leads", startedAt: started + 2000, endedAt: started + 3000, outcome: "interrupted", counts: null, error: "the process stopped before the run finished", trigger: null },
      { id: first, sync: "leads", startedAt: started, endedAt: started + 1234, outcome: "ok", counts: { create: 2, update: 0 }, error: null, trigger: null },
    ]);
    expect((await s.recentRuns({ limit: 10 })).map((r) => r.sync)).toEqual(["crm", "leads", "leads"]);
    expect(await s.runRejections(first, 10)).toEqual([
      { row: 3, key: "7", field: "phoneNumbers.mobile", value: "555-12", reason: "not a valid phone number" },
      { row: 4, reason: "no key" },
    ]);
    expect(await s.runRejections(first, 1)).toHaveLength(1);
    await s.close();
  });

  it("runs: pruned beyond the retention policy with their rejections; a running run, the newest finished and the newest successful are kept", async () => {
    const s = await openStore(await fx.fresh());
    const DAY = 86_400_000;
    const now = Date.UTC(2026, 0, 31);
    /** A run of `sync` started `daysAgo` days before `now`, ended with `outcome` (unless running), with `rejected` rejections. */
    const run = async (sync: string, daysAgo: number, outcome: RunOutcome, rejected = 0) => {
      const id = await s.startRun(sync, now - daysAgo * DAY);
      if (outcome !== "running") await s.finishRun(id, outcome, now - daysAgo * DAY + 1000);
      await s.addRejections(id, Array.from({ length: rejected }, (_, i) => ({ row: i + 2, key: `K${i}`, field: "phoneNumbers.mobile", value: `555-0${i}`, reason: "not a valid phone number" })));
      return id;
    };
    const r1 = await run("leads", 40, "ok", 2); // beyond both limits
    const r2 = await run("leads", 39, "running"); // a run still running is never pruned
    const r3 = await run("leads", 35, "failed", 1);
    const r4 = await run("leads", 20, "ok", 1); // the newest successful run: kept beyond the count
    const r5 = await run("leads", 3, "failed");
    const r6 = await run("leads", 2, "failed");
    const r7 = await run("leads", 1, "refused", 1);
    const r8 = await run("leads", 1 / 24, "failed");
    const other = await run("crm", 40, "failed", 1);

    expect(await s.pruneRuns("leads", { runs: 3, days: 30 }, now)).toEqual({ runs: 3, rejections: 3 });
    expect((await s.recentRuns({ sync: "leads", limit: 100 })).map((r) => r.id)).toEqual([r8, r7, r6, r4, r2]);
    for (const gone of [r1, r3, r5]) expect(await s.runRejections(gone, 10)).toEqual([]);
    expect(await s.runRejections(r4, 10)).toHaveLength(1);
    expect(await s.runRejections(r7, 10)).toHaveLength(1);
    // Another sync's runs are its own business; nothing more to prune here.
    expect((await s.recentRuns({ sync: "crm", limit: 10 })).map((r) => r.id)).toEqual([other]);
    expect(await s.pruneRuns("leads", { runs: 3, days: 30 }, now)).toEqual({ runs: 0, rejections: 0 });

    // By age alone: every run older than the limit goes, but the newest finished (and successful) one.
    await run("crm", 35, "ok");
    const newest = await run("crm", 31, "failed", 1);
    expect(await s.pruneRuns("crm", { runs: 1000, days: 30 }, now)).toEqual({ runs: 1, rejections: 1 });
    expect((await s.recentRuns({ sync: "crm", limit: 10 })).map((r) => [r.id, r.outcome])).toEqual([
      [newest, "failed"],
      [expect.any(Number), "ok"],
    ]);
    // By count alone: one run kept, besides the newest successful one.
    expect(await s.pruneRuns("leads", { runs: 1, days: 36_500 }, now)).toEqual({ runs: 2, rejections: 1 });
    expect((await s.recentRuns({ sync: "leads", limit: 100 })).map((r) => r.id)).toEqual([r8, r4, r2]);
    await s.close();
  });

  it("locks: one holder at a time across connections; taken over only when the rule says the holder is gone", async () => {
    const at = await fx.fresh();
    const a = await openStore(at);
    const b = await openStore(at);
    const me = { owner: "A", host: "h1", pid: 100 };
    const other = { owner: "B", host: "h2", pid: 200 };
    expect(await a.tryLock("leads", me, 1_000, never)).toEqual({ ok: true });
    const held = await b.tryLock("leads", other, 2_000, never);
    expect(held).toMatchObject({ ok: false, holder: { owner: "A", host: "h1", pid: 100 } });
    expect(await b.tryLock("crm", other, 2_000, never)).toEqual({ ok: true });
    expect(await a.heartbeat("leads", "A", 50_000)).toBe(true);
    // The rule is told the holder and the store's clock; it alone decides.
    const asked: [string, number][] = [];
    const rule = (gone: boolean) => (h: LockHolder, now: number) => (asked.push([h.owner, now]), gone);
    expect((await b.tryLock("leads", other, 100_000, rule(false))).ok).toBe(false);
    expect((await b.tryLock("leads", other, 111_000, rule(true))).ok).toBe(true);
    expect(asked.map(([o]) => o)).toEqual(["A", "A"]);
    expect(await a.heartbeat("leads", "A", 112_000)).toBe(false);
    expect(await a.lockHolder("leads")).toMatchObject({ owner: "B", host: "h2", pid: 200 });
    await a.unlock("leads", "A"); // not the holder: nothing happens
    expect((await a.lockHolder("leads"))?.owner).toBe("B");
    await b.unlock("leads", "B");
    expect(await a.lockHolder("leads")).toBeNull();
    // The holder may take its own lock again (a retry after a lost answer).
    expect((await a.tryLock("leads", me, 120_000, never)).ok).toBe(true);
    expect((await a.tryLock("leads", me, 120_001, never)).ok).toBe(true);
    await a.close();
    await b.close();
  });

  it("locks: times are written, and heartbeats judged, on one clock: the caller's on SQLite, the database's on PostgreSQL", async () => {
    const s = await openStore(await fx.fresh());
    // A caller whose clock is a day off: on PostgreSQL it does not matter.
    const skew = -86_400_000;
    const before = Date.now();
    expect(await s.tryLock("leads", { owner: "A", host: "h1", pid: 100 }, before + skew, never)).toEqual({ ok: true });
    let judgedAt = 0;
    await s.tryLock("leads", { owner: "B", host: "h2", pid: 200 }, Date.now() + skew, (_h, now) => ((judgedAt = now), false));
    expect(await s.heartbeat("leads", "A", Date.now() + skew)).toBe(true);
    const after = Date.now();
    const h = (await s.lockHolder("leads"))!;
    const clock = await s.clock();
    expect(clock).toBeGreaterThanOrEqual(after - 50);
    expect(clock).toBeLessThanOrEqual(Date.now() + 50);
    if (fx.engine === "sqlite") {
      expect([h.acquiredAt, h.heartbeatAt].every((t) => t >= before + skew && t <= after + skew)).toBe(true);
      expect(judgedAt).toBeGreaterThanOrEqual(before + skew);
      expect(judgedAt).toBeLessThanOrEqual(after + skew);
    } else {
      // Same machine: the database's clock is this one's, give or take a little.
      for (const t of [h.acquiredAt, h.heartbeatAt, judgedAt]) {
        expect(t).toBeGreaterThanOrEqual(before - 50);
        expect(t).toBeLessThanOrEqual(after + 50);
      }
      expect(judgedAt).toBeGreaterThanOrEqual(h.acquiredAt);
      expect(h.heartbeatAt).toBeGreaterThanOrEqual(judgedAt);
    }
    await s.close();
  });

  it("writes checked against the lock: done while the owner holds it; LockLost and nothing changed once another took it", async () => {
    const s = await openStore(await fx.fresh());
    expect((await s.tryLock("leads", { owner: "A", host: "h1", pid: 100 }, Date.now(), never)).ok).toBe(true);
    await s.putRows("leads", [row], 1, "A");
    const j1 = await s.journalBegin({ sync: "leads", key: "2", op: "create", quoId: null, externalId: "leads:2", fields, runId: 1, startedAt: 1 }, "A");
    const j2 = await s.journalBegin({ sync: "leads", key: "3", op: "create", quoId: null, externalId: "leads:3", fields, runId: 1, startedAt: 1 }, "A");
    await s.journalCommit(j1, "leads", { upsert: { ...row, key: "2", quoId: "CT2" } }, 2, "A");
    // Another sync's lock says nothing about this one's.
    await expect(s.putRows("crm", [row], 1, "A")).rejects.toBeInstanceOf(LockLost);

    expect((await s.tryLock("leads", { owner: "B", host: "h2", pid: 200 }, Date.now(), () => true)).ok).toBe(true);
    const lost = [
      () => s.journalBegin({ sync: "leads", key: "4", op: "create", quoId: null, externalId: "leads:4", fields, runId: 1, startedAt: 1 }, "A"),
      () => s.journalCommit(j2, "leads", { upsert: { ...row, key: "3", quoId: "CT3" } }, 3, "A"),
      () => s.resolveJournal([j2], "leads", { upsert: { ...row, key: "3", quoId: "CT3" } }, 3, "A"),
      () => s.putRows("leads", [{ ...row, hash: "changed" }], 3, "A"),
      () => s.forgetRow("leads", "1", 3, "A"),
    ];
    for (const write of lost) {
      const e = await write().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(LockLost);
      expect(e).toBeInstanceOf(StateError);
      expect((e as Error).message).toBe("the run lock of sync 'leads' is no longer held by this run (another process took it over, or it was released); nothing was recorded");
    }
    expect((await s.pendingJournal("leads")).map((e) => e.id)).toEqual([j2]);
    expect((await s.loadSyncRows("leads")).map((r) => [r.key, r.hash]).sort()).toEqual([
      ["1", "h1"],
      ["2", "h1"],
    ]);
    // The new holder's writes go through; without an owner nothing is checked.
    await s.journalCommit(j2, "leads", { upsert: { ...row, key: "3", quoId: "CT3" } }, 4, "B");
    await s.forgetRow("leads", "1", 4);
    expect((await s.loadSyncRows("leads")).map((r) => r.key).sort()).toEqual(["2", "3"]);
    // Released: nobody holds it, so no owner's write is recorded.
    await s.unlock("leads", "B");
    await expect(s.forgetRow("leads", "2", 5, "B")).rejects.toBeInstanceOf(LockLost);
    await s.close();
  });

  it("locks: of many processes trying at the same instant, exactly one gets the lock", async () => {
    const at = await fx.fresh();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(at)));
    const tries = Array.from({ length: 20 }, (_, i) => (stores[i % stores.length] as (typeof stores)[number]).tryLock("leads", { owner: `o${i}`, host: `h${i}`, pid: i }, 1_000, never));
    const results = await Promise.all(tries);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const winner = results.findIndex((r) => r.ok);
    expect((await stores[0]!.lockHolder("leads"))?.owner).toBe(`o${winner}`);
    await Promise.all(stores.map((s) => s.close()));
  });

  it("custom-field bindings are replaced per sync", async () => {
    const s = await openStore(await fx.fresh());
    await s.saveCustomFieldBindings("leads", [{ configName: "VIP", key: "vip", name: "VIP", type: "boolean" }], 1);
    await s.saveCustomFieldBindings("leads", [{ configName: "Seats", key: "seats", name: "Seats", type: "number" }], 2);
    await s.saveCustomFieldBindings("crm", [{ configName: "VIP", key: "vip", name: "VIP", type: "boolean" }], 2);
    expect(await s.customFieldBindings("leads")).toEqual([{ configName: "Seats", key: "seats", name: "Seats", type: "number" }]);
    await s.saveCustomFieldBindings("leads", [], 3);
    expect(await s.customFieldBindings("leads")).toEqual([]);
    expect(await s.customFieldBindings("crm")).toHaveLength(1);
    await s.close();
  });
});

describe("StateStore (sqlite only)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-store-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("a read-only open of a missing file creates nothing", async () => {
    const file = path.join(dir, "missing.db");
    const s = await openStore(file, { readonly: true });
    expect([s.engine, s.readonly, s.location]).toEqual(["sqlite", true, file]);
    expect(await s.loadSyncRows("leads")).toEqual([]);
    expect(await s.recentRuns({ sync: "leads", limit: 5 })).toEqual([]);
    expect(await s.lockHolder("leads")).toBeNull();
    // Nothing can be written to it, not even in memory.
    await expect(s.startRun("leads", 1)).rejects.toThrow(StateError);
    await expect(s.putRows("leads", [row], 1)).rejects.toThrow(/opened read-only and holds nothing yet/);
    await s.close();
    expect(existsSync(file)).toBe(false);
  });

  it("creates the file's folder", async () => {
    const s = await openStore(path.join(dir, "a", "b", "state.db"));
    await s.close();
    expect(existsSync(path.join(dir, "a", "b", "state.db"))).toBe(true);
  });

  it("a read-only open of a state file whose migrations are behind says so and what to run", async () => {
    const file = path.join(dir, "old.db");
    await (await openStore(file)).close();
    const raw = new Database(file);
    // Back to the schema of a version before the last migration.
    raw.exec("DROP TABLE pending_checks;");
    raw.prepare("DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)").run();
    raw.close();
    await expect(openStore(file, { readonly: true })).rejects.toThrow(/written by an older quo-sync: 1 schema migration\(s\) not applied yet \(0006_pending_checks\)\. Run `quo-sync sync`/);
    // A real run upgrades it, and read-only opens work again.
    await (await openStore(file)).close();
    await (await openStore(file, { readonly: true })).close();
  });

  it("the journal is synced at every commit (synchronous=FULL)", async () => {
    const s = await openStore(path.join(dir, "state.db"));
    // The setting is per connection, so it is read on the store's own (2 = FULL).
    const own = (s as unknown as { sqlite: Database.Database }).sqlite;
    expect(own.pragma("synchronous", { simple: true })).toBe(2);
    expect(own.pragma("journal_mode", { simple: true })).toBe("wal");
    await s.close();
  });
});
