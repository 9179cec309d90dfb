/**
 * The state's webhook delivery ids and managed-contact lookup, on both engines: recorded once
 * (atomically, also when many arrive at once), pruned by age, and a Quo id found only in its sync.
 */
import { describe, expect, it } from "vitest";
import type { SyncRow } from "../../src/model.js";
import { openStore } from "../../src/state/store.js";
import { ENGINES } from "./engines.js";

const NOW = 1_796_000_000_000;
const DAY = 86_400_000;

describe.each(ENGINES)("webhook deliveries (%s state)", (_name, fx) => {
  it("a delivery id is new once per source; a re-delivery is seen", async () => {
    const store = await openStore(await fx.fresh());
    try {
      expect(await store.recordDelivery("quo", "msg_1", NOW)).toBe(true);
      expect(await store.recordDelivery("quo", "msg_1", NOW + 1)).toBe(false);
      expect(await store.recordDelivery("hubspot", "msg_1", NOW)).toBe(true);
      expect(await store.recordDelivery("quo", "msg_2", NOW)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("many processes recording the same id at once: exactly one gets true", async () => {
    const location = await fx.fresh();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(location)));
    try {
      const results = await Promise.all(stores.flatMap((s) => Array.from({ length: 5 }, () => s.recordDelivery("hubspot", "42", NOW))));
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it("several ids at once: only the ones not seen before come back", async () => {
    const store = await openStore(await fx.fresh());
    try {
      await store.recordDelivery("hubspot", "2", NOW);
      expect([...(await store.recordDeliveries("hubspot", ["1", "2", "3", "3"], NOW))].sort()).toEqual(["1", "3"]);
      expect((await store.recordDeliveries("hubspot", ["1", "2", "3"], NOW)).size).toBe(0);
      expect((await store.recordDeliveries("hubspot", [], NOW)).size).toBe(0);
      expect(await store.recordDelivery("quo", "1", NOW)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("pruning forgets ids received before the cut, and only those", async () => {
    const store = await openStore(await fx.fresh());
    try {
      await store.recordDelivery("quo", "old", NOW - 2 * DAY);
      await store.recordDelivery("quo", "new", NOW - 1000);
      expect(await store.pruneDeliveries(NOW - DAY)).toBe(1);
      expect(await store.recordDelivery("quo", "old", NOW)).toBe(true);
      expect(await store.recordDelivery("quo", "new", NOW)).toBe(false);
    } finally {
      await store.close();
    }
  });

  it("pending checks: kept per sync until a run started after their newest delivery clears them", async () => {
    const location = await fx.fresh();
    const [a, b] = await Promise.all([openStore(location), openStore(location)]);
    try {
      expect(await a.pendingChecks("leads")).toEqual([]);
      await a.addPendingChecks("leads", ["K2", "K1", "K2"], NOW);
      await b.addPendingChecks("other", ["K1"], NOW);
      // A later delivery for K1 while a run that started at NOW + 5 reads it back.
      await b.addPendingChecks("leads", ["K1"], NOW + 10);
      // An older time never moves a key back.
      await a.addPendingChecks("leads", ["K1"], NOW + 1);
      expect(await b.pendingChecks("leads")).toEqual(["K1", "K2"]);
      expect(await a.clearPendingChecks("leads", ["K1", "K2"], NOW + 5)).toBe(1);
      expect(await a.pendingChecks("leads")).toEqual(["K1"]);
      expect(await a.pendingChecks("other")).toEqual(["K1"]);
      expect(await b.clearPendingChecks("leads", ["K1"], NOW + 10)).toBe(1);
      expect(await b.clearPendingChecks("leads", [], NOW + 10)).toBe(0);
      expect(await a.pendingChecks("leads")).toEqual([]);
      // Many keys at once (past SQLite's parameter limit in one statement).
      const many = Array.from({ length: 1200 }, (_, i) => `M${String(i).padStart(4, "0")}`);
      await a.addPendingChecks("bulk", many, NOW);
      expect(await a.pendingChecks("bulk")).toHaveLength(1200);
      expect(await a.clearPendingChecks("bulk", many, NOW)).toBe(1200);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("keyOfQuoId finds a contact in its own sync only", async () => {
    const store = await openStore(await fx.fresh());
    try {
      await store.putRows("leads", [{ key: "K1", quoId: "CT1", hash: "h", fields: { firstName: "A", lastName: "", company: "", role: "", phoneNumbers: [], emails: [] } as unknown as SyncRow["fields"], itemIds: {} as SyncRow["itemIds"] }], NOW);
      expect(await store.keyOfQuoId("leads", "CT1")).toBe("K1");
      expect(await store.keyOfQuoId("other", "CT1")).toBeNull();
      expect(await store.keyOfQuoId("leads", "CT2")).toBeNull();
    } finally {
      await store.close();
    }
  });
});
