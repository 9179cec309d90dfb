/**
 * The windowed search of an incremental HubSpot read (connectors/hubspot/search-window.ts), against
 * the HubSpot emulator over real HTTP with small pages, so ties at page edges and timestamps shared
 * by more contacts than a page holds come up with a few dozen contacts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HubspotClient, type HubspotSearchRequest } from "../../connectors/hubspot/hubspot-client.js";
import { nextWatermark, usableCursor } from "../../connectors/hubspot/index.js";
import { modifiedAt, searchModifiedSince, type SearchPageFn } from "../../connectors/hubspot/search-window.js";
import { startHubspotEmulator, type HubspotEmulator } from "../emulators/hubspot-emulator.js";

const TOKEN = "pat-na1-window-test";
const PAGE = 5;
const T0 = Date.parse("2026-01-01T00:00:00.000Z");
let emulator: HubspotEmulator;
let client: HubspotClient;

beforeAll(async () => {
  emulator = await startHubspotEmulator({ tokens: [TOKEN], requestsPerWindow: 0, searchRequestsPerSecond: 0 });
  client = new HubspotClient({ baseUrl: emulator.url, token: TOKEN, requestsPerWindow: 1000, maxRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.purge(emulator.contacts().map((c) => c.id));
  emulator.resetStats();
});

/** Adds `n` contacts stamped at `at` (ms); returns their ids. */
function addAt(n: number, at: number): string[] {
  const ids = emulator.addContacts(Array.from({ length: n }, (_, i) => ({ firstname: `F${at}-${i}` })));
  emulator.setModified(ids, new Date(at));
  return ids;
}

const search: SearchPageFn = (request, what) => client.searchContacts(request, what);
const bodies = (): HubspotSearchRequest[] => emulator.log().map((e) => e.body as HubspotSearchRequest);

describe("searchModifiedSince", () => {
  it("reads every contact modified at or after `since`, each once, none before it; ties across page edges are re-read and deduplicated", async () => {
    addAt(4, T0 - 1000);
    const after: string[] = [];
    // Groups of 3 sharing a timestamp: pages of 5 end inside a group every time.
    for (let g = 0; g < 8; g++) after.push(...addAt(3, T0 + g * 1000));
    const r = await searchModifiedSince(search, { since: T0, properties: ["firstname"], pageSize: PAGE });
    expect(r.contacts.map((c) => c.id).sort()).toEqual([...after].sort());
    expect(new Set(r.contacts.map((c) => c.id)).size).toBe(24);
    expect(r.newest).toBe(T0 + 7000);
    expect(r.requests).toBe(emulator.stats().requests);
    // 24 contacts in pages of 5, each page starting again at the last timestamp read: at most one
    // extra page per group of ties.
    expect(r.requests).toBeLessThanOrEqual(24 / PAGE + 8 + 1);
    for (const b of bodies()) {
      expect(b.sorts).toEqual([{ propertyName: "lastmodifieddate", direction: "ASCENDING" }]);
      expect(b.filterGroups[0]?.filters[0]).toMatchObject({ propertyName: "lastmodifieddate", operator: "GTE" });
      expect(b).not.toHaveProperty("after");
    }
  });

  it("more contacts than a page on one timestamp: that timestamp is read by hs_object_id ranges, then the read moves on (no loop, nobody lost)", async () => {
    const before = addAt(2, T0);
    const bulk = addAt(17, T0 + 1000);
    const later = addAt(2, T0 + 2000);
    const r = await searchModifiedSince(search, { since: T0, properties: [], pageSize: PAGE });
    expect(r.contacts.map((c) => c.id).sort()).toEqual([...before, ...bulk, ...later].sort());
    const ties = bodies().filter((b) => b.filterGroups[0]?.filters.some((f) => f.operator === "EQ"));
    // 17 ids in pages of 5: 4 pages, the last one short.
    expect(ties.map((b) => b.filterGroups[0]?.filters)).toEqual(
      [0, 5, 10, 15].map((k) => [
        { propertyName: "lastmodifieddate", operator: "EQ", value: String(T0 + 1000) },
        { propertyName: "hs_object_id", operator: "GT", value: k === 0 ? "0" : (bulk[k - 1] as string) },
      ]),
    );
    expect(ties.every((b) => b.sorts[0]?.propertyName === "hs_object_id")).toBe(true);
    // The read after the bulk timestamp starts just past it.
    const resumed = bodies().find((b) => b.filterGroups[0]?.filters[0]?.value === String(T0 + 1001));
    expect(resumed).toBeDefined();
    expect(r.requests).toBeLessThanOrEqual(8);
  });

  it("a contact edited while the read goes on moves to the end of the results, and nobody is skipped for it", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(...addAt(1, T0 + i * 1000));
    let calls = 0;
    const editing: SearchPageFn = async (request, what) => {
      const page = await client.searchContacts(request, what);
      // After the first page, the first contact read is edited: it leaves its place at the front.
      if (calls++ === 0) emulator.update(ids[0] as string, { firstname: "Edited" });
      return page;
    };
    const r = await searchModifiedSince(editing, { since: T0, properties: ["firstname"], pageSize: PAGE });
    expect(r.contacts.map((c) => c.id).sort()).toEqual([...ids].sort());
    // The edited contact is kept in its newest version.
    const edited = r.contacts.find((c) => c.id === ids[0]);
    expect(edited?.properties.firstname).toBe("Edited");
    expect(r.newest).toBe(modifiedAt(edited!));
  });

  it("nothing modified since: one request, nothing read, no newest", async () => {
    addAt(3, T0 - 60_000);
    const r = await searchModifiedSince(search, { since: T0, properties: ["firstname"] });
    expect(r).toEqual({ contacts: [], requests: 1, newest: null });
  });

  it("contacts whose index lags are not seen until it catches up; an edited one is seen as it was", async () => {
    const [old] = addAt(1, T0);
    emulator.setSearchLag(60_000);
    try {
      addAt(2, T0);
      emulator.update(old as string, { firstname: "Not indexed yet" });
      const r = await searchModifiedSince(search, { since: T0, properties: ["firstname"] });
      expect(r.contacts.map((c) => [c.id, c.properties.firstname, modifiedAt(c)])).toEqual([[old, `F${T0}-0`, T0]]);
    } finally {
      emulator.setSearchLag(0);
    }
  });
});

describe("the emulator's search, as HubSpot documents it", () => {
  const post = async (body: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${emulator.url}/crm/v3/objects/contacts/search`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json() };
  };

  it("pages with after up to 10,000 results per query, and answers 400 past them", async () => {
    addAt(3, T0);
    const first = await post({ limit: 2 });
    expect(first.status).toBe(200);
    expect(first.json.total).toBe(3);
    expect(first.json.paging.next.after).toBe("2");
    const past = await post({ limit: 200, after: "10000" });
    expect(past.status).toBe(400);
    expect(past.json).toMatchObject({ status: "error", category: "VALIDATION_ERROR" });
    expect((await post({ limit: 201 })).status).toBe(400);
    expect((await post({ filterGroups: [{ filters: [{ propertyName: "nope", operator: "EQ", value: "1" }] }] })).status).toBe(400);
    expect((await post({ sorts: [{ propertyName: "firstname" }, { propertyName: "lastname" }] })).status).toBe(400);
  });
});

describe("the watermark and cursor of an incremental read", () => {
  const OVERLAP = 5 * 60_000;
  it("moves to the newest change read, not past the read's start, at least to the start minus the overlap, never back", () => {
    const started = T0 + 60 * 60_000;
    expect(nextWatermark(T0, started - 1000, started)).toBe(started - 1000);
    expect(nextWatermark(T0, started + 5000, started)).toBe(started);
    expect(nextWatermark(T0, null, started)).toBe(started - OVERLAP);
    expect(nextWatermark(null, T0, started)).toBe(started - OVERLAP);
    expect(nextWatermark(started + 1, null, started)).toBe(started + 1);
  });

  it("a saved cursor is used only for the same properties (in any order) and the same archived choice", () => {
    const saved = { watermark: T0, properties: ["hs_object_id", "firstname"], archived: "drop" };
    expect(usableCursor(saved, ["firstname", "hs_object_id"], "drop")).toEqual(saved);
    expect(usableCursor(saved, ["hs_object_id", "firstname", "email"], "drop")).toBeNull();
    expect(usableCursor(saved, ["hs_object_id", "firstname"], "keep")).toBeNull();
    for (const bad of [null, undefined, "x", { ...saved, watermark: "1" }, { ...saved, properties: "firstname" }]) expect(usableCursor(bad, ["firstname", "hs_object_id"], "drop")).toBeNull();
  });
});
