/**
 * The HubSpot connector against the HubSpot emulator over real HTTP: paging, property selection,
 * archived contacts, the unknown-property check, the 429 policies, 401 and partial reads. Retry
 * waits and the throttle's window are shortened through `createHubspotConnector`'s options.
 */
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createHubspotConnector, type HubspotConnectorOptions } from "../../connectors/hubspot/index.js";
import { closestProperties } from "../../connectors/hubspot/check-properties.js";
import type { ConnectorContext, SourceItem } from "../../connectors/types.js";
import type { HubspotSourceConfig } from "../../src/config.js";
import { ConfigError, SourceError } from "../../src/errors.js";
import { STANDARD_CONTACT_PROPERTIES, startHubspotEmulator, type HubspotEmulator } from "../emulators/hubspot-emulator.js";

const TOKEN = "pat-na1-SECRET-unit-0d9f";
const FAST: HubspotConnectorOptions = { retryBaseDelayMs: 5, rateLimitBaseDelayMs: 20, maxRetries: 3 };

let emulator: HubspotEmulator;

beforeAll(async () => {
  emulator = await startHubspotEmulator({ tokens: [TOKEN], requestsPerWindow: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.purge(emulator.contacts().map((c) => c.id));
  emulator.setProperties(STANDARD_CONTACT_PROPERTIES);
  emulator.setLimits({ requestsPerWindow: 0, requestsPerSecond: 0, dailyLimit: 0, windowMs: 10_000 });
  emulator.setFault(undefined);
  emulator.resetStats();
});
afterEach(() => emulator.setFault(undefined));

function config(extra: Partial<HubspotSourceConfig> = {}): HubspotSourceConfig {
  return { type: "hubspot", properties: [], archived: "drop", requestsPer10Seconds: 1000, ...extra };
}

function ctx(wanted: string[], env: NodeJS.ProcessEnv = {}): ConnectorContext {
  return { baseDir: process.cwd(), env: { HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_URL: emulator.url, ...env }, wanted };
}

async function read(cfg: HubspotSourceConfig, c: ConnectorContext, opts: HubspotConnectorOptions = FAST): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  for await (const item of createHubspotConnector(opts).read(cfg, c)) items.push(item);
  return items;
}

async function readError(cfg: HubspotSourceConfig, c: ConnectorContext, opts: HubspotConnectorOptions = FAST): Promise<{ error: unknown; items: SourceItem[] }> {
  const items: SourceItem[] = [];
  try {
    for await (const item of createHubspotConnector(opts).read(cfg, c)) items.push(item);
  } catch (error) {
    return { error, items };
  }
  throw new Error("the read did not fail");
}

function rows(items: readonly SourceItem[]): Record<string, string>[] {
  return items.flatMap((i) => (i.type === "row" ? [i.row.values] : []));
}

function people(n: number): Record<string, string>[] {
  return Array.from({ length: n }, (_, i) => ({ firstname: `First${i + 1}`, lastname: `Last${i + 1}`, phone: `415555${String(i).padStart(4, "0")}` }));
}

const contactPages = () => emulator.log().filter((e) => e.path === "/crm/v3/objects/contacts");

describe("snapshot", () => {
  it("follows paging.next.after over several pages, 100 per page, rows numbered by ordinal", async () => {
    const ids = emulator.addContacts(people(250));
    const items = await read(config(), ctx(["hs_object_id", "firstname"]));
    expect(items[0]).toEqual({ type: "header", columns: ["hs_object_id", "firstname"] });
    expect(items).toHaveLength(251);
    expect(items[1]).toEqual({ type: "row", row: { row: 1, values: { hs_object_id: ids[0], firstname: "First1" } } });
    expect(items[250]).toEqual({ type: "row", row: { row: 250, values: { hs_object_id: ids[249], firstname: "First250" } } });
    const pages = contactPages();
    expect(pages.map((p) => p.query.limit)).toEqual([["100"], ["100"], ["100"]]);
    expect(pages.map((p) => p.query.after?.[0])).toEqual([undefined, ids[99], ids[199]]);
  });

  it("asks for exactly the mapping's properties plus config.properties, and reads null as empty", async () => {
    emulator.addContacts([{ firstname: "Ann", company: "Acme", jobtitle: "CTO" }, { firstname: "Bob" }]);
    const items = await read(config({ properties: ["jobtitle", "firstname"] }), ctx(["hs_object_id", "firstname", "mobilephone", "company"]));
    const [page] = contactPages();
    expect(page!.query.properties!.flatMap((p) => p.split(","))).toEqual(["hs_object_id", "firstname", "mobilephone", "company", "jobtitle"]);
    expect(page!.query.archived).toEqual(["false"]);
    expect(items[0]).toEqual({ type: "header", columns: ["hs_object_id", "firstname", "mobilephone", "company", "jobtitle"] });
    expect(rows(items)).toEqual([
      { hs_object_id: "1", firstname: "Ann", mobilephone: "", company: "Acme", jobtitle: "CTO" },
      { hs_object_id: "2", firstname: "Bob", mobilephone: "", company: "", jobtitle: "" },
    ].map((r, i) => ({ ...r, hs_object_id: emulator.contacts()[i]!.id })));
  });

  it("archived and purged contacts drop out; archived: keep lists them too", async () => {
    const ids = emulator.addContacts(people(5));
    emulator.archive([ids[1]!]);
    emulator.purge([ids[3]!]);
    const dropped = rows(await read(config(), ctx(["hs_object_id"])));
    expect(dropped.map((r) => r.hs_object_id)).toEqual([ids[0], ids[2], ids[4]]);

    emulator.resetStats();
    const kept = await read(config({ archived: "keep" }), ctx(["hs_object_id", "firstname"]));
    expect(rows(kept).map((r) => r.hs_object_id)).toEqual([ids[0], ids[2], ids[4], ids[1]]);
    expect(kept.at(-1)).toEqual({ type: "row", row: { row: 4, values: { hs_object_id: ids[1], firstname: "First2" } } });
    expect(contactPages().map((p) => p.query.archived)).toEqual([["false"], ["true"]]);
  });

  it("an empty account yields just the header", async () => {
    expect(await read(config(), ctx(["hs_object_id", "firstname"]))).toEqual([{ type: "header", columns: ["hs_object_id", "firstname"] }]);
  });
});

describe("unknown properties", () => {
  it("stop the read before any contact is listed, naming the property and the closest ones", async () => {
    emulator.addContacts(people(3));
    const { error, items } = await readError(config({ properties: ["jobtitel"] }), ctx(["hs_object_id", "fristname", "Mobile Phone Number", "phone"]));
    expect(items).toEqual([]);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain("HubSpot has no contact property named 'fristname'; closest: 'firstname'");
    expect(message).toContain("named 'Mobile Phone Number'; closest: 'mobilephone'");
    expect(message).toContain("named 'jobtitel'; closest: 'jobtitle'");
    expect(message).not.toContain("named 'phone'");
    expect(contactPages()).toEqual([]);
  });

  it.each([
    { wanted: "firstname", want: ["firstname"] },
    { wanted: "First Name", want: ["firstname"] },
    { wanted: "mobile_phone", want: ["mobilephone"] },
    { wanted: "lastnme", want: ["lastname"] },
    { wanted: "zzzzzzzz", want: [] },
  ])("closestProperties($wanted)", ({ wanted, want }) => {
    expect(closestProperties(wanted, STANDARD_CONTACT_PROPERTIES).slice(0, want.length || 1)).toEqual(want);
  });
});

describe("rate limits", () => {
  it.each(["TEN_SECONDLY_ROLLING", "SECONDLY"] as const)("a 429 %s waits and retries, and the snapshot is complete", async (policyName) => {
    emulator.addContacts(people(150));
    emulator.setFault({ status: 429, policyName, page: 2, times: 2 });
    const items = await read(config(), ctx(["hs_object_id"]));
    expect(rows(items)).toHaveLength(150);
    expect(emulator.stats().rateLimited[policyName]).toBe(2);
  });

  it("honours Retry-After", async () => {
    emulator.addContacts(people(3));
    emulator.setFault({ status: 429, retryAfterSeconds: 0.3, times: 1 });
    const started = Date.now();
    expect(rows(await read(config(), ctx(["hs_object_id"]), { ...FAST, rateLimitBaseDelayMs: 1 }))).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it("a 429 DAILY stops at once, without retries, and says nothing was changed", async () => {
    emulator.addContacts(people(150));
    emulator.setFault({ status: 429, policyName: "DAILY", page: 2 });
    const { error, items } = await readError(config(), ctx(["hs_object_id"]));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).message).toMatch(/^HubSpot's daily API limit is used up .*nothing was changed$/);
    expect((error as SourceError).transient).toBe(true);
    expect(emulator.stats().rateLimited.DAILY).toBe(1);
    expect(rows(items)).toHaveLength(100);
  });

  it("the emulator's own daily budget gives the same stop", async () => {
    emulator.addContacts(people(350));
    emulator.setLimits({ dailyLimit: 3 });
    const { error } = await readError(config(), ctx(["hs_object_id"]));
    expect((error as Error).message).toContain("daily API limit");
    expect(emulator.stats().rateLimited.DAILY).toBe(1);
  });

  it("the client-side budget keeps within the server's rolling window: no 429 at all", async () => {
    emulator.addContacts(people(1200));
    // 5 requests per 300 ms on both sides; 13 requests take at least two full windows.
    emulator.setLimits({ requestsPerWindow: 5, windowMs: 300 });
    const started = Date.now();
    const items = await read(config({ requestsPer10Seconds: 5 }), ctx(["hs_object_id"]), { ...FAST, windowMs: 300 });
    expect(rows(items)).toHaveLength(1200);
    expect(emulator.stats().rateLimited).toEqual({});
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it("a client over the server's budget is slowed by 429s and still completes", async () => {
    emulator.addContacts(people(1500));
    emulator.setLimits({ requestsPerWindow: 4, windowMs: 200 });
    const items = await read(config({ requestsPer10Seconds: 1000 }), ctx(["hs_object_id"]), { ...FAST, windowMs: 200, maxRetries: 8 });
    expect(rows(items)).toHaveLength(1500);
    expect(emulator.stats().rateLimited.TEN_SECONDLY_ROLLING).toBeGreaterThan(0);
  });
});

describe("errors", () => {
  it("401 names HUBSPOT_ACCESS_TOKEN and never the token", async () => {
    const wrong = "pat-na1-WRONG-SECRET-77";
    const { error } = await readError(config(), ctx(["hs_object_id"], { HUBSPOT_ACCESS_TOKEN: wrong }));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(/HUBSPOT_ACCESS_TOKEN \(401\): it is invalid, expired or revoked/);
    expect(JSON.stringify(error) + String(error) + (error as Error).stack).not.toContain(wrong);
    expect(emulator.stats().byStatus["401"]).toBe(1);
  });

  it("a missing token is a ConfigError naming the variable, before any request", async () => {
    const { error } = await readError(config(), ctx(["hs_object_id"], { HUBSPOT_ACCESS_TOKEN: "  " }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^HUBSPOT_ACCESS_TOKEN is not set/);
    expect(emulator.stats().requests).toBe(0);
  });

  it("a bad HUBSPOT_API_URL is a ConfigError that does not echo the value", async () => {
    const { error } = await readError(config(), ctx(["hs_object_id"], { HUBSPOT_API_URL: "ftp://secret-ish/x" }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain("secret-ish");
  });

  it("a page that keeps failing throws after retries and yields nothing past it", async () => {
    emulator.addContacts(people(450));
    emulator.setFault({ status: 500, page: 3 });
    const { error, items } = await readError(config(), ctx(["hs_object_id"]));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).message).toMatch(/^reading page 3 of HubSpot's contacts: HubSpot answered 500 internal error \(correlationId [0-9a-f-]+\) after 4 attempts/);
    expect((error as SourceError).transient).toBe(true);
    expect(rows(items)).toHaveLength(200);
    expect(contactPages().filter((p) => p.status === 500)).toHaveLength(4);
  });

  it("a page that fails once is retried and the snapshot is complete", async () => {
    emulator.addContacts(people(250));
    emulator.setFault({ status: 503, page: 2, times: 1 });
    expect(rows(await read(config(), ctx(["hs_object_id"])))).toHaveLength(250);
  });

  it("a 4xx is not retried", async () => {
    emulator.addContacts(people(3));
    emulator.setFault({ status: 400 });
    const { error } = await readError(config(), ctx(["hs_object_id"]));
    expect((error as SourceError).transient).toBe(false);
    expect(contactPages()).toHaveLength(1);
  });

  it("an unreachable API is a transient SourceError", async () => {
    const { error } = await readError(config(), ctx(["hs_object_id"], { HUBSPOT_API_URL: "http://127.0.0.1:1" }), { ...FAST, maxRetries: 1 });
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).message).toMatch(/network error \(ECONNREFUSED\) after 2 attempts/);
    expect((error as SourceError).transient).toBe(true);
  });

  it("keeps a scrubbed cause: Node's error code is there, the token and the request are not", async () => {
    const { error } = await readError(config(), ctx(["hs_object_id"], { HUBSPOT_API_URL: "http://127.0.0.1:1" }), { ...FAST, maxRetries: 0 });
    const cause = (error as Error).cause as Error & { code?: string };
    expect(cause).toBeInstanceOf(Error);
    expect(cause.code).toBe("ECONNREFUSED");
    expect(cause).not.toHaveProperty("config");
    expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(TOKEN);
  });
});

describe("check", () => {
  it("reports ok for a readable account, and every failure as a message without throwing", async () => {
    const connector = createHubspotConnector(FAST);
    expect(await connector.check(config(), ctx(["hs_object_id", "firstname"]))).toEqual({ ok: true });
    const typo = await connector.check(config(), ctx(["hs_object_id", "firstnam"]));
    expect(typo).toEqual({ ok: false, message: expect.stringContaining("closest: 'firstname'") });
    const bad = await connector.check(config(), ctx(["hs_object_id"], { HUBSPOT_ACCESS_TOKEN: "nope" }));
    expect(bad).toEqual({ ok: false, message: expect.stringContaining("HUBSPOT_ACCESS_TOKEN (401)") });
  });
});

describe("targeted reads (batch read by id)", () => {
  const BATCH = "POST /crm/v3/objects/contacts/batch/read";
  const targets = (ids: string[], gone: string[] = [], key = "hs_object_id") => ({ ids, gone, key });
  const last = (items: readonly SourceItem[]) => items[items.length - 1];

  it("reads exactly the ids asked for, one batch request per 100, and names the ones not found as gone", async () => {
    const ids = emulator.addContacts(Array.from({ length: 250 }, (_, i) => ({ firstname: `P${i}` })));
    emulator.purge([ids[5]!]);
    emulator.archive([ids[6]!]);
    await read(config(), ctx(["hs_object_id", "firstname"])); // the property check, cached for the process
    emulator.resetStats();
    const wanted = [...ids.slice(0, 150), "999999"];
    const items = await read(config(), { ...ctx(["hs_object_id", "firstname"]), targets: targets(wanted) });
    expect(emulator.stats().byRoute).toEqual({ [BATCH]: 2 });
    expect(rows(items)).toHaveLength(148);
    expect(last(items)).toEqual({ type: "targeted", gone: [ids[5], ids[6], "999999"], unmapped: [] });
    expect(items.some((i) => i.type === "cursor")).toBe(false);
  });

  it("archived: keep reads the missing ids again among archived contacts, which stay rows", async () => {
    const ids = emulator.addContacts([{ firstname: "A" }, { firstname: "B" }]);
    emulator.archive([ids[1]!]);
    const items = await read(config({ archived: "keep" }), { ...ctx(["hs_object_id", "firstname"]), targets: targets(ids) });
    expect(rows(items).map((r) => r.firstname)).toEqual(["A", "B"]);
    expect(last(items)).toEqual({ type: "targeted", gone: [], unmapped: [] });
  });

  it("with another key, an archived contact is gone by its key; a purged or merged one cannot be mapped", async () => {
    const ids = emulator.addContacts([{ email: "a@example.com" }, { email: "b@example.com" }, { email: "c@example.com" }]);
    emulator.archive([ids[0]!]);
    emulator.purge([ids[1]!]);
    const items = await read(config(), { ...ctx(["email"]), targets: targets([ids[0]!, ids[1]!], [ids[2]!], "email") });
    expect(last(items)).toEqual({ type: "targeted", gone: ["a@example.com"], unmapped: [ids[1], ids[2]] });
  });

  it("a merged-away id is not read: HubSpot would answer it with the contact it was merged into", async () => {
    const [a, b] = emulator.addContacts([{ firstname: "A" }, { firstname: "B" }]);
    emulator.merge([a!], b!);
    const items = await read(config(), { ...ctx(["hs_object_id", "firstname"]), targets: targets([a!, b!], [a!]) });
    expect(rows(items).map((r) => r.hs_object_id)).toEqual([b]);
    expect(last(items)).toEqual({ type: "targeted", gone: [a], unmapped: [] });
  });

  it("a 401 on the batch read is a SourceError naming HUBSPOT_ACCESS_TOKEN, never the token", async () => {
    const [id] = emulator.addContacts([{ firstname: "A" }]);
    await read(config(), ctx(["hs_object_id"]));
    const { error } = await readError(config(), { ...ctx(["hs_object_id"], { HUBSPOT_ACCESS_TOKEN: "pat-wrong" }), targets: targets([id!]) });
    expect(error).toBeInstanceOf(SourceError);
    expect(String((error as Error).message)).toContain("HUBSPOT_ACCESS_TOKEN");
    expect(inspect(error, { depth: 8 })).not.toContain("pat-wrong");
  });
});
