import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ContactFields } from "../../src/model.js";
import { StateStore } from "../../src/state/store.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-store-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const fields: ContactFields = { firstName: "Ann", phoneNumbers: [{ name: "mobile", value: "+14155550100" }], emails: [], customFields: {} };
const row = { key: "1", quoId: "CT1", hash: "h1", fields, itemIds: { phoneNumbers: { mobile: "PH1" }, emails: {} }, sourceHash: "s1" };

describe("StateStore", () => {
  it("applies the migrations and round-trips sync rows (JSON columns parsed lazily)", () => {
    const s = StateStore.open(path.join(dir, "a", "state.db"));
    s.putRow("leads", row, 1);
    s.putRow("other", { ...row, quoId: "CT9" }, 1);
    const rows = s.loadSyncRows("leads");
    expect(rows).toHaveLength(1);
    expect({ key: rows[0]!.key, quoId: rows[0]!.quoId, hash: rows[0]!.hash, fields: rows[0]!.fields, itemIds: rows[0]!.itemIds, sourceHash: rows[0]!.sourceHash }).toEqual(row);
    s.close();
  });

  it("a read-only open of a missing file creates nothing", () => {
    const file = path.join(dir, "missing.db");
    const s = StateStore.open(file, { readonly: true });
    expect(s.loadSyncRows("leads")).toEqual([]);
    s.close();
    expect(existsSync(file)).toBe(false);
  });

  it("journal: commit applies the effect and clears the entry in one step; abort only clears", () => {
    const s = StateStore.open(path.join(dir, "state.db"));
    const j1 = s.journalBegin({ sync: "leads", key: "1", op: "create", quoId: null, externalId: "leads:1", fields, runId: 1, startedAt: 1 });
    const j2 = s.journalBegin({ sync: "leads", key: "2", op: "create", quoId: null, externalId: "leads:2", fields, runId: 1, startedAt: 1 });
    expect(s.pendingJournal("leads").map((e) => e.key)).toEqual(["1", "2"]);
    s.journalCommit(j1, "leads", { upsert: row }, 2);
    s.journalAbort(j2);
    expect(s.pendingJournal("leads")).toEqual([]);
    expect(s.loadSyncRows("leads").map((r) => r.quoId)).toEqual(["CT1"]);
    const j3 = s.journalBegin({ sync: "leads", key: "1", op: "delete", quoId: "CT1", externalId: "leads:1", fields: null, runId: 2, startedAt: 3 });
    s.journalCommit(j3, "leads", { remove: "1" }, 4);
    expect(s.loadSyncRows("leads")).toEqual([]);
    s.close();
  });

  it("runs: an abandoned 'running' run is marked interrupted", () => {
    const s = StateStore.open(path.join(dir, "state.db"));
    const id = s.startRun("leads", 10);
    expect(s.closeAbandonedRuns("leads", 20)).toBe(1);
    expect(s.recentRuns({ sync: "leads", limit: 5 })[0]).toMatchObject({ id, outcome: "interrupted", endedAt: 20 });
    s.close();
  });

  it("locks: one holder at a time across connections; stale or dead holders are taken over", () => {
    const file = path.join(dir, "state.db");
    const a = StateStore.open(file);
    const b = StateStore.open(file);
    const alive = () => true;
    const me = { owner: "A", host: "h1", pid: 100 };
    const other = { owner: "B", host: "h2", pid: 200 };
    expect(a.tryLock("leads", me, 1_000, 60_000, alive)).toEqual({ ok: true });
    expect(b.tryLock("leads", other, 2_000, 60_000, alive)).toEqual({ ok: false, holder: expect.objectContaining({ owner: "A", pid: 100 }) });
    expect(b.tryLock("crm", other, 2_000, 60_000, alive)).toEqual({ ok: true });
    expect(a.heartbeat("leads", "A", 50_000)).toBe(true);
    expect(b.tryLock("leads", other, 100_000, 60_000, alive).ok).toBe(false);
    expect(b.tryLock("leads", other, 111_000, 60_000, alive).ok).toBe(true); // heartbeat 61 s old
    expect(a.heartbeat("leads", "A", 112_000)).toBe(false);
    b.unlock("leads", "B");
    expect(a.tryLock("leads", { owner: "C", host: "h1", pid: 300 }, 120_000, 60_000, alive).ok).toBe(true);
    expect(b.tryLock("leads", { owner: "D", host: "h1", pid: 400 }, 121_000, 60_000, (pid) => pid !== 300).ok).toBe(true); // same host, pid gone
    a.close();
    b.close();
  });

  it("locks: a live holder on this host keeps its lock however old its heartbeat (a paused process)", () => {
    const file = path.join(dir, "state.db");
    const a = StateStore.open(file);
    const b = StateStore.open(file);
    expect(a.tryLock("leads", { owner: "A", host: "h1", pid: 100 }, 1_000, 60_000, () => true).ok).toBe(true);
    // An hour without a heartbeat, but the process is alive (SIGSTOP, a sleeping laptop).
    expect(b.tryLock("leads", { owner: "B", host: "h1", pid: 200 }, 3_601_000, 60_000, () => true)).toEqual({ ok: false, holder: expect.objectContaining({ owner: "A" }) });
    // Once it is gone, the lock is taken over at once, stale or not.
    expect(b.tryLock("leads", { owner: "B", host: "h1", pid: 200 }, 3_601_001, 60_000, (pid) => pid !== 100).ok).toBe(true);
    a.close();
    b.close();
  });

  it("a read-only open of a state file whose migrations are behind says so and what to run", () => {
    const file = path.join(dir, "old.db");
    StateStore.open(file).close();
    const raw = new Database(file);
    // Back to the schema of a version before the last migration.
    raw.exec("ALTER TABLE contacts DROP COLUMN linked;");
    raw.prepare("DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)").run();
    raw.close();
    expect(() => StateStore.open(file, { readonly: true })).toThrow(/written by an older quo-sync: 1 schema migration\(s\) not applied yet \(0003_linked_contacts\)\. Run `quo-sync sync`/);
    // A real run upgrades it, and read-only opens work again.
    StateStore.open(file).close();
    StateStore.open(file, { readonly: true }).close();
  });

  it("the journal is synced at every commit (synchronous=FULL)", () => {
    const s = StateStore.open(path.join(dir, "state.db"));
    // The setting is per connection, so it is read on the store's own (2 = FULL).
    const own = (s as unknown as { sqlite: Database.Database }).sqlite;
    expect(own.pragma("synchronous", { simple: true })).toBe(2);
    expect(own.pragma("journal_mode", { simple: true })).toBe("wal");
    s.close();
  });

  it("custom-field bindings are replaced per sync", () => {
    const s = StateStore.open(path.join(dir, "state.db"));
    s.saveCustomFieldBindings("leads", [{ configName: "VIP", key: "vip", name: "VIP", type: "boolean" }], 1);
    s.saveCustomFieldBindings("leads", [{ configName: "Seats", key: "seats", name: "Seats", type: "number" }], 2);
    expect(s.customFieldBindings("leads")).toEqual([{ configName: "Seats", key: "seats", name: "Seats", type: "number" }]);
    s.close();
  });
});
