/**
 * Where an incremental read left off, on both engines: `syncCursor` / `saveSyncCursor` round-trip
 * the cursor as JSON and the time of the last full read, per sync; a write checked against the run
 * lock throws `LockLost` and changes nothing once another process holds it; a read-only state of a
 * location never written answers null and refuses to save.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { LockLost, StateError } from "../../src/errors.js";
import { openStore } from "../../src/state/store.js";
import { ENGINES } from "../integration/engines.js";

const never = () => false;
const cursor = { watermark: 1_764_000_000_123, properties: ["hs_object_id", "firstname"], archived: "drop" };

describe.each(ENGINES)("sync cursors (%s)", (_name, fx) => {
  it("round-trip per sync: null before any, then the last saved cursor and fullAt", async () => {
    const at = await fx.fresh();
    const s = await openStore(at);
    expect(await s.syncCursor("crm")).toBeNull();
    await s.saveSyncCursor("crm", cursor, 1_764_000_000_000, 1_764_000_000_500);
    await s.saveSyncCursor("other", { watermark: 1 }, null, 2);
    expect(await s.syncCursor("crm")).toEqual({ cursor, fullAt: 1_764_000_000_000 });
    // An incremental run moves the cursor and keeps the full read's time.
    await s.saveSyncCursor("crm", { ...cursor, watermark: 1_764_000_060_000 }, 1_764_000_000_000, 1_764_000_060_500);
    expect(await s.syncCursor("crm")).toEqual({ cursor: { ...cursor, watermark: 1_764_000_060_000 }, fullAt: 1_764_000_000_000 });
    expect(await s.syncCursor("other")).toEqual({ cursor: { watermark: 1 }, fullAt: null });
    await s.close();
    // Another process reading the same state (read-only, as `status` does) sees it.
    const again = await openStore(at, { readonly: true });
    expect(await again.syncCursor("crm")).toEqual({ cursor: { ...cursor, watermark: 1_764_000_060_000 }, fullAt: 1_764_000_000_000 });
    await again.close();
  });

  it("saving checked against the run lock: LockLost, and the cursor unchanged, once another process holds it", async () => {
    const s = await openStore(await fx.fresh());
    expect((await s.tryLock("crm", { owner: "A", host: "h1", pid: 1 }, Date.now(), never)).ok).toBe(true);
    await s.saveSyncCursor("crm", cursor, 10, 11, "A");
    expect((await s.tryLock("crm", { owner: "B", host: "h2", pid: 2 }, Date.now(), () => true)).ok).toBe(true);
    const e = await s.saveSyncCursor("crm", { ...cursor, watermark: 99 }, 10, 12, "A").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LockLost);
    expect(await s.syncCursor("crm")).toEqual({ cursor, fullAt: 10 });
    await s.saveSyncCursor("crm", { ...cursor, watermark: 99 }, 10, 12, "B");
    expect(await s.syncCursor("crm")).toEqual({ cursor: { ...cursor, watermark: 99 }, fullAt: 10 });
    await s.close();
  });

  it("a read-only open of a location never written reads null and refuses to save", async () => {
    const ro = await openStore(await fx.fresh(), { readonly: true });
    expect(await ro.syncCursor("crm")).toBeNull();
    await expect(ro.saveSyncCursor("crm", cursor, 1, 1)).rejects.toBeInstanceOf(StateError);
    await ro.close();
  });
});

describe("sync cursors (sqlite file edited by hand)", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-cursor-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a cursor that is not JSON reads as none (the next run reads everything)", async () => {
    const file = path.join(dir, "state.db");
    const s = await openStore(file);
    await s.saveSyncCursor("crm", cursor, 5, 6);
    await s.close();
    const db = new Database(file);
    db.prepare("UPDATE sync_cursors SET cursor = ? WHERE sync = ?").run("{not json", "crm");
    db.close();
    const again = await openStore(file);
    expect(await again.syncCursor("crm")).toBeNull();
    await again.close();
  });
});
