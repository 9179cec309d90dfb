/**
 * The HubSpot emulator, through real HTTP with `fetch`, so the connector's tests stand on a server
 * that behaves as HubSpot's CRM v3 API does (docs/hubspot.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHubspotEmulator, type HubspotEmulator } from "../emulators/hubspot-emulator.js";

const TOKEN = "pat-na1-emulator-test";
let emulator: HubspotEmulator;

beforeAll(async () => {
  emulator = await startHubspotEmulator({ tokens: [TOKEN], requestsPerWindow: 0 });
  emulator.addContacts(Array.from({ length: 5 }, (_, i) => ({ firstname: `F${i + 1}`, phone: i % 2 ? `555000${i}` : null })));
});
afterAll(() => emulator.close());

// Tests read arbitrary JSON bodies; `any` keeps the assertions short.
async function get(path: string, token: string | null = TOKEN): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(emulator.url + path, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

describe("hubspot emulator", () => {
  it("answers a missing or wrong token with HubSpot's 401 body", async () => {
    for (const token of [null, "wrong"]) {
      const r = await get("/crm/v3/objects/contacts", token);
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ status: "error", category: "INVALID_AUTHENTICATION", correlationId: expect.any(String) });
    }
  });

  it("pages with limit and after, with no paging on the last page, and refuses limit over 100", async () => {
    const p1 = await get("/crm/v3/objects/contacts?limit=2");
    expect(p1.json.results.map((c: any) => c.id)).toEqual(["1", "2"]);
    const p2 = await get(`/crm/v3/objects/contacts?limit=2&after=${p1.json.paging.next.after}`);
    const p3 = await get(`/crm/v3/objects/contacts?limit=2&after=${p2.json.paging.next.after}`);
    expect(p3.json.results.map((c: any) => c.id)).toEqual(["5"]);
    expect(p3.json.paging).toBeUndefined();
    expect((await get("/crm/v3/objects/contacts?limit=101")).status).toBe(400);
  });

  it("returns requested properties (repeated or comma-separated, null when unset) plus the defaults, never unknown ones", async () => {
    for (const q of ["properties=firstname&properties=phone&properties=nosuch", "properties=firstname,phone,nosuch"]) {
      const r = await get(`/crm/v3/objects/contacts?limit=1&${q}`);
      expect(Object.keys(r.json.results[0].properties).sort()).toEqual(["createdate", "firstname", "hs_object_id", "lastmodifieddate", "phone"]);
      expect(r.json.results[0]).toMatchObject({ id: "1", archived: false, properties: { firstname: "F1", phone: null, hs_object_id: "1" } });
    }
  });

  it("lists archived contacts only with archived=true; purged ones nowhere", async () => {
    emulator.archive(["2"]);
    emulator.purge(["3"]);
    expect((await get("/crm/v3/objects/contacts")).json.results.map((c: any) => c.id)).toEqual(["1", "4", "5"]);
    const archived = (await get("/crm/v3/objects/contacts?archived=true")).json.results;
    expect(archived).toEqual([expect.objectContaining({ id: "2", archived: true, archivedAt: expect.any(String) })]);
    emulator.restore(["2"]);
  });

  it("lists property definitions", async () => {
    const r = await get("/crm/v3/properties/contacts");
    expect(r.json.results).toContainEqual({ name: "mobilephone", label: "Mobile Phone Number", type: "string", fieldType: "phonenumber", options: [] });
    expect(r.json.results.map((p: any) => p.name)).toContain("hs_object_id");
  });

  it("enforces the rolling and daily budgets with HubSpot's 429 bodies", async () => {
    emulator.setLimits({ requestsPerWindow: 2, windowMs: 60_000 });
    await get("/crm/v3/properties/contacts");
    await get("/crm/v3/properties/contacts");
    const limited = await get("/crm/v3/properties/contacts");
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ status: "error", errorType: "RATE_LIMIT", policyName: "TEN_SECONDLY_ROLLING", message: "You have reached your ten_secondly_rolling limit." });
    emulator.setLimits({ requestsPerWindow: 0, dailyLimit: 1 });
    await get("/crm/v3/properties/contacts");
    expect((await get("/crm/v3/properties/contacts")).json.policyName).toBe("DAILY");
    emulator.setLimits({ dailyLimit: 0 });
  });

  it("injects faults on one page, a given number of times, with Retry-After", async () => {
    emulator.setFault({ status: 500, page: 2, times: 1 });
    expect((await get("/crm/v3/objects/contacts?limit=2")).status).toBe(200);
    expect((await get("/crm/v3/objects/contacts?limit=2&after=2")).status).toBe(500);
    expect((await get("/crm/v3/objects/contacts?limit=2&after=2")).status).toBe(200);
    emulator.setFault({ status: 429, policyName: "SECONDLY", retryAfterSeconds: 1, times: 1 });
    const r = await get("/crm/v3/objects/contacts");
    expect(r.json.policyName).toBe("SECONDLY");
    expect(r.headers.get("retry-after")).toBe("1");
    emulator.setFault(undefined);
    expect(emulator.log().every((e) => !JSON.stringify(e).includes(TOKEN))).toBe(true);
  });
});

describe("batch read", () => {
  const post = async (url: string, body: unknown, token = "t-batch", query = "") =>
    fetch(`${url}/crm/v3/objects/contacts/batch/read${query}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });

  it("answers 200 when all are found, 207 naming the missing ids, 400 over 100 inputs, 401 without a token; archived=true only archived", async () => {
    const e = await startHubspotEmulator({ tokens: ["t-batch"], requestsPerWindow: 0 });
    try {
      const ids = e.addContacts([{ firstname: "A" }, { firstname: "B" }]);
      e.archive([ids[1]!]);
      const ok = await post(e.url, { properties: ["firstname"], inputs: [{ id: ids[0] }] });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { results: { properties: Record<string, string> }[] }).results.map((r) => r.properties.firstname)).toEqual(["A"]);
      const some = await post(e.url, { properties: [], inputs: [{ id: ids[0] }, { id: ids[1] }, { id: "424242" }] });
      expect(some.status).toBe(207);
      const body = (await some.json()) as { results: unknown[]; errors: { category: string; context: { ids: string[] } }[] };
      expect(body.results).toHaveLength(1);
      expect(body.errors).toEqual([expect.objectContaining({ category: "OBJECT_NOT_FOUND", context: { ids: [ids[1], "424242"] } })]);
      const archived = await post(e.url, { properties: [], inputs: [{ id: ids[0] }, { id: ids[1] }] }, "t-batch", "?archived=true");
      expect(((await archived.json()) as { results: { id: string }[] }).results.map((r) => r.id)).toEqual([ids[1]]);
      expect((await post(e.url, { inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(i + 1) })) })).status).toBe(400);
      expect((await post(e.url, { inputs: [{ id: ids[0] }] }, "wrong")).status).toBe(401);
      expect(e.stats().byRoute["POST /crm/v3/objects/contacts/batch/read"]).toBe(5);
    } finally {
      await e.close();
    }
  });
});
