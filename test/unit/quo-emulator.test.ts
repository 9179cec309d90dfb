/**
 * The Quo emulator, tested through real HTTP with `fetch`, as quo-sync's client will use it.
 * Each block starts its own emulator so rate limits and stored contacts never leak between blocks.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import {
  applyContactPatch,
  startQuoEmulator,
  type ApiRequestInfo,
  type AppliedWrite,
  type AppEdit,
  type ContactPatchOptions,
  type CustomFieldDef,
  type DuplicateExternalIds,
  type EmulatedContact,
  type LateCreateKind,
  type LateCreates,
  type PartialCopyList,
  type PatchMode,
  type QuoEmulator,
  type QuoItem,
} from "../emulators/quo-emulator.js";

const KEY = "test-quo-key";

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // Tests read arbitrary JSON bodies; `any` keeps the assertions short.
  json: any;
}

interface CallOptions {
  body?: unknown;
  auth?: string | null;
  headers?: Record<string, string>;
}

async function call(base: string, method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  const auth = opts.auth === undefined ? KEY : opts.auth;
  if (auth !== null) headers["authorization"] = auth;
  const init: RequestInit = { method, headers };
  if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text === "" ? undefined : JSON.parse(text) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until just after a wall-clock second boundary, so a burst lands in one rate-limit window. */
async function alignToSecond(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 15);
}

function minimalContact(extra: Record<string, unknown> = {}, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { defaultFields: { firstName: "Ada", ...fields }, ...extra };
}

describe("auth with a raw Quo key", () => {
  let emu: QuoEmulator;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0 });
  });
  afterAll(() => emu.close());

  it("accepts the raw key and answers a list", async () => {
    const r = await call(emu.url, "GET", "/v1/contacts?maxResults=1");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ data: [], totalItems: 0, nextPageToken: null });
  });

  it.each([
    ["a Bearer prefix", `Bearer ${KEY}`],
    ["a wrong key", "not-the-key"],
    ["no header", null],
  ])("refuses %s with the spec 401 body", async (_label, auth) => {
    const r = await call(emu.url, "GET", "/v1/contacts?maxResults=1", { auth });
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({
      message: "You are unauthorized to access the contact",
      code: "0800401",
      status: 401,
      docs: "https://openphone.com/docs",
      title: "Unauthorized",
    });
    expect(r.json.trace).toMatch(/^[0-9a-f]{32}$/);
  });

  it("uses the custom-fields 401 code on that route", async () => {
    const r = await call(emu.url, "GET", "/v1/contact-custom-fields", { auth: null });
    expect(r.status).toBe(401);
    expect(r.json.code).toBe("0700401");
  });

  it("answers unknown routes with 404 before auth and counts them as unmatched", async () => {
    emu.resetStats();
    const a = await call(emu.url, "GET", "/v1/nothing-here", { auth: null });
    const b = await call(emu.url, "PUT", "/v1/contacts/CT1");
    expect([a.status, b.status]).toEqual([404, 404]);
    expect(emu.stats()).toMatchObject({ requests: 2, byRoute: { unmatched: 2 }, byStatus: { "404": 2 } });
  });
});

describe("auth through the Maton gateway prefix", () => {
  let emu: QuoEmulator;
  const MATON = "maton-secret";
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0, matonKeys: [MATON] });
  });
  afterAll(() => emu.close());

  it("accepts Bearer MATON_KEY with a User-Agent under /quo", async () => {
    const created = await call(emu.url, "POST", "/quo/v1/contacts", {
      auth: `Bearer ${MATON}`,
      headers: { "user-agent": "quo-sync/0.1" },
      body: minimalContact(),
    });
    expect(created.status).toBe(201);
    const listed = await call(emu.url, "GET", "/quo/v1/contacts?maxResults=5", {
      auth: `Bearer ${MATON}`,
      headers: { "user-agent": "quo-sync/0.1" },
    });
    expect(listed.status).toBe(200);
    expect(listed.json.data.map((c: EmulatedContact) => c.id)).toEqual([created.json.data.id]);
    expect(emu.stats().byRoute).toMatchObject({ "POST /v1/contacts": 1, "GET /v1/contacts": 1 });
  });

  it("blocks a request without a User-Agent with 403 and says why", async () => {
    const r = await call(emu.url, "GET", "/quo/v1/contacts?maxResults=5", { auth: `Bearer ${MATON}`, headers: { "user-agent": "" } });
    expect(r.status).toBe(403);
    expect(r.json.message).toMatch(/User-Agent/);
  });

  it.each([
    ["a wrong Maton key", "/quo/v1/contacts?maxResults=5", "Bearer nope"],
    ["the Maton key without Bearer", "/quo/v1/contacts?maxResults=5", MATON],
    ["a raw Quo key under /quo", "/quo/v1/contacts?maxResults=5", KEY],
    ["the Maton key on the raw /v1 routes", "/v1/contacts?maxResults=5", `Bearer ${MATON}`],
  ])("refuses %s with 401", async (_label, path, auth) => {
    const r = await call(emu.url, "GET", path, { auth, headers: { "user-agent": "quo-sync/0.1" } });
    expect(r.status).toBe(401);
    expect(r.json.code).toBe("0800401");
  });
});

describe("rate limit: 10 requests per wall-clock second per key", () => {
  let emu: QuoEmulator;
  const keys = ["rl-a", "rl-b", "rl-c", "rl-d", "rl-e", "rl-f", "rl-g", "rl-h"];
  let nextKey = 0;
  beforeAll(async () => {
    emu = await startQuoEmulator({ apiKeys: keys });
  });
  afterAll(() => emu.close());

  /** Runs `burst` inside one second with a fresh key; retries with another key if the burst straddled a boundary. */
  async function inOneWindow<T>(burst: (key: string) => Promise<T>): Promise<{ key: string; result: T }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const key = keys[nextKey++];
      if (key === undefined) throw new Error("out of test keys");
      await alignToSecond();
      const start = Date.now();
      const result = await burst(key);
      if (Math.floor(start / 1000) === Math.floor(Date.now() / 1000)) return { key, result };
    }
    throw new Error("could not fit a burst into one second");
  }

  it("lets exactly 10 of 15 concurrent requests through and 429s the rest without headers", async () => {
    emu.resetStats();
    const { result } = await inOneWindow((key) =>
      Promise.all(Array.from({ length: 15 }, () => call(emu.url, "GET", "/v1/contacts?maxResults=1", { auth: key }))),
    );
    const ok = result.filter((r) => r.status === 200);
    const limited = result.filter((r) => r.status === 429);
    expect(ok).toHaveLength(10);
    expect(limited).toHaveLength(5);
    for (const r of limited) {
      expect(r.json).toEqual({ message: "API rate limit exceeded" });
      expect(r.headers.get("retry-after")).toBeNull();
      expect([...r.headers.keys()].filter((h) => h.includes("ratelimit"))).toEqual([]);
    }
    expect(emu.stats()).toMatchObject({ rateLimited: 5, byStatus: { "200": 10, "429": 5 } });
  });

  it("counts each key separately", async () => {
    const { key, result } = await inOneWindow(async (key) => {
      emu.resetStats();
      const burst = await Promise.all(Array.from({ length: 12 }, () => call(emu.url, "GET", "/v1/contacts?maxResults=1", { auth: key })));
      const other = keys[keys.length - 1] as string;
      const otherReply = await call(emu.url, "GET", "/v1/contacts?maxResults=1", { auth: other });
      return { burst, otherReply };
    });
    expect(result.burst.filter((r) => r.status === 429)).toHaveLength(2);
    expect(result.otherReply.status).toBe(200);
    // ...and its stats say so, per key.
    expect(emu.stats().byKey).toEqual({ [key]: { requests: 12, rateLimited: 2 }, [keys[keys.length - 1] as string]: { requests: 1, rateLimited: 0 } });
  });

  it("does not count 401s against the limit", async () => {
    const { key, result } = await inOneWindow(async (key) => {
      emu.resetStats();
      const refused = await Promise.all(Array.from({ length: 12 }, () => call(emu.url, "GET", "/v1/contacts?maxResults=1", { auth: `Bearer ${key}` })));
      const allowed = await Promise.all(Array.from({ length: 10 }, () => call(emu.url, "GET", "/v1/contacts?maxResults=1", { auth: key })));
      return { refused, allowed };
    });
    expect(result.refused.every((r) => r.status === 401)).toBe(true);
    expect(result.allowed.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(emu.stats().byKey).toEqual({ [key]: { requests: 10, rateLimited: 0 } });
  });

  it("does not apply a rate-limited write", async () => {
    const before = emu.contacts().length;
    const { result } = await inOneWindow((key) =>
      Promise.all(Array.from({ length: 14 }, (_, i) => call(emu.url, "POST", "/v1/contacts", { auth: key, body: minimalContact({ externalId: `rl-${i}` }) }))),
    );
    expect(result.filter((r) => r.status === 201)).toHaveLength(10);
    expect(result.filter((r) => r.status === 429)).toHaveLength(4);
    expect(emu.contacts().length - before).toBe(10);
  });
});

describe("GET /v1/contacts", () => {
  let emu: QuoEmulator;
  let seeded: EmulatedContact[];
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0 });
    seeded = Array.from({ length: 23 }, (_, i) =>
      emu.seedContact({ externalId: `ext-${i}`, source: i % 2 === 0 ? "quo-sync" : "other-tool", defaultFields: { firstName: `P${i}` } }),
    );
    seeded.push(emu.seedContact({ externalId: "acme,inc", source: "quo-sync", defaultFields: { firstName: "Comma" } }));
    seeded.push(emu.seedContact({ externalId: "ext-3", source: "quo-sync", defaultFields: { firstName: "Twin" } }));
  });
  afterAll(() => emu.close());

  it.each([
    ["missing", "", "Expected required property"],
    ["0", "maxResults=0", "greater or equal to 1"],
    ["51", "maxResults=51", "less or equal to 50"],
    ["not a number", "maxResults=ten", "Expected integer"],
    ["a fraction", "maxResults=1.5", "Expected integer"],
  ])("refuses maxResults %s with a 400 naming it", async (_label, qs, message) => {
    const r = await call(emu.url, "GET", `/v1/contacts?${qs}`);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: "0800400", status: 400, title: "Bad Request" });
    expect(r.json.errors).toHaveLength(1);
    expect(r.json.errors[0].path).toBe("/maxResults");
    expect(r.json.errors[0].message).toContain(message);
    expect(r.json.errors[0].schema.type).toBe("integer");
  });

  it.each([1, 50])("accepts maxResults=%i", async (n) => {
    const r = await call(emu.url, "GET", `/v1/contacts?maxResults=${n}`);
    expect(r.status).toBe(200);
    expect(r.json.data).toHaveLength(Math.min(n, seeded.length));
  });

  it("pages to the end in creation order with nextPageToken null on the last page", async () => {
    const pages: EmulatedContact[][] = [];
    let token: string | null = null;
    do {
      const qs: string = token === null ? "maxResults=10" : `maxResults=10&pageToken=${encodeURIComponent(token)}`;
      const r = await call(emu.url, "GET", `/v1/contacts?${qs}`);
      expect(r.status).toBe(200);
      pages.push(r.json.data);
      token = r.json.nextPageToken;
    } while (token !== null && pages.length < 10);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(pages.flat().map((c) => c.id)).toEqual(seeded.map((c) => c.id));
  });

  it("does not end with an empty page when the total divides evenly", async () => {
    const first = await call(emu.url, "GET", "/v1/contacts?maxResults=25");
    expect(first.json.data).toHaveLength(25);
    expect(first.json.nextPageToken).toBeNull();
  });

  it("neither skips nor repeats contacts when one is deleted between pages", async () => {
    const local = await startQuoEmulator({ requestsPerSecond: 0 });
    try {
      const ids = Array.from({ length: 6 }, (_, i) => local.seedContact({ defaultFields: { firstName: `D${i}` } }).id);
      const p1 = await call(local.url, "GET", "/v1/contacts?maxResults=3");
      local.appDelete(ids[1] as string);
      const p2 = await call(local.url, "GET", `/v1/contacts?maxResults=3&pageToken=${encodeURIComponent(p1.json.nextPageToken)}`);
      expect(p2.json.data.map((c: EmulatedContact) => c.id)).toEqual(ids.slice(3));
      expect(p2.json.nextPageToken).toBeNull();
    } finally {
      await local.close();
    }
  });

  it("refuses an invalid pageToken with 400", async () => {
    const r = await call(emu.url, "GET", "/v1/contacts?maxResults=10&pageToken=not-a-token");
    expect(r.status).toBe(400);
    expect(r.json.errors[0].path).toBe("/pageToken");
  });

  it.each([
    ["repeated", "externalIds=ext-1&externalIds=ext-3"],
    ["bracketed", "externalIds%5B%5D=ext-1&externalIds%5B%5D=ext-3"],
    ["indexed", "externalIds%5B0%5D=ext-1&externalIds%5B1%5D=ext-3"],
  ])("filters by externalIds given %s, in creation order", async (_label, qs) => {
    const r = await call(emu.url, "GET", `/v1/contacts?maxResults=50&${qs}`);
    expect(r.status).toBe(200);
    expect(r.json.data.map((c: EmulatedContact) => c.defaultFields.firstName)).toEqual(["P1", "P3", "Twin"]);
  });

  it("never splits an external id on commas", async () => {
    const whole = await call(emu.url, "GET", `/v1/contacts?maxResults=50&externalIds=${encodeURIComponent("acme,inc")}`);
    expect(whole.json.data.map((c: EmulatedContact) => c.defaultFields.firstName)).toEqual(["Comma"]);
    const listed = await call(emu.url, "GET", "/v1/contacts?maxResults=50&externalIds=ext-1,ext-2");
    expect(listed.json.data).toEqual([]);
  });

  it("filters by sources, alone and with externalIds, paging filtered results", async () => {
    const bySource = await call(emu.url, "GET", "/v1/contacts?maxResults=5&sources=other-tool");
    expect(bySource.json.data.map((c: EmulatedContact) => c.defaultFields.firstName)).toEqual(["P1", "P3", "P5", "P7", "P9"]);
    const rest = await call(emu.url, "GET", `/v1/contacts?maxResults=50&sources[]=other-tool&pageToken=${encodeURIComponent(bySource.json.nextPageToken)}`);
    expect(rest.json.data).toHaveLength(6);
    expect(rest.json.nextPageToken).toBeNull();
    const both = await call(emu.url, "GET", "/v1/contacts?maxResults=50&externalIds=ext-3&sources=quo-sync");
    expect(both.json.data.map((c: EmulatedContact) => c.defaultFields.firstName)).toEqual(["Twin"]);
  });

  it("reports totalItems for the whole workspace, ignoring filters (documented as unreliable)", async () => {
    const r = await call(emu.url, "GET", "/v1/contacts?maxResults=1&externalIds=ext-1");
    expect(r.json.data).toHaveLength(1);
    expect(r.json.totalItems).toBe(seeded.length);
  });
});

describe("POST /v1/contacts", () => {
  let emu: QuoEmulator;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0 });
  });
  afterAll(() => emu.close());

  it("creates a contact with ids, default source and the full shape", async () => {
    const r = await call(emu.url, "POST", "/v1/contacts", {
      body: {
        defaultFields: {
          firstName: "Jane",
          lastName: "Doe",
          company: "Acme",
          role: null,
          emails: [{ name: "work", value: "jane@example.com" }],
          phoneNumbers: [{ name: "mobile", value: "+15555550100" }],
        },
        externalId: "leads:42",
      },
    });
    expect(r.status).toBe(201);
    const c = r.json.data as EmulatedContact;
    expect(c.id).toMatch(/^CT[0-9a-f]{24}$/);
    expect(c).toMatchObject({
      externalId: "leads:42",
      source: "public-api",
      sourceUrl: null,
      defaultFields: { firstName: "Jane", lastName: "Doe", company: "Acme", role: null },
      customFields: [],
    });
    expect(c.createdByUserId).toMatch(/^US/);
    expect(c.defaultFields.emails).toEqual([{ id: expect.stringMatching(/^EM/), name: "work", value: "jane@example.com" }]);
    expect(c.defaultFields.phoneNumbers).toEqual([{ id: expect.stringMatching(/^PH/), name: "mobile", value: "+15555550100" }]);
    expect(Date.parse(c.createdAt)).not.toBeNaN();
    expect(c.updatedAt).toBe(c.createdAt);
    expect(emu.contacts().find((x) => x.id === c.id)).toEqual(c);
    const got = await call(emu.url, "GET", `/v1/contacts/${c.id}`);
    expect(got.json).toEqual({ data: c });
  });

  it.each([
    ["a non-object body", [1, 2], ""],
    ["invalid JSON", "{nope", ""],
    ["no defaultFields", { externalId: "x" }, "/defaultFields"],
    ["no firstName", { defaultFields: { lastName: "X" } }, "/defaultFields/firstName"],
    ["a blank firstName", { defaultFields: { firstName: "   " } }, "/defaultFields/firstName"],
    ["a null firstName", { defaultFields: { firstName: null } }, "/defaultFields/firstName"],
    ["a numeric lastName", minimalContact({}, { lastName: 7 }), "/defaultFields/lastName"],
    ["emails not an array", minimalContact({}, { emails: "a@b.c" }), "/defaultFields/emails"],
    ["an email without @", minimalContact({}, { emails: [{ name: "w", value: "nobody.example.com" }] }), "/defaultFields/emails/0/value"],
    ["an email with two @", minimalContact({}, { emails: [{ name: "w", value: "a@b@c" }] }), "/defaultFields/emails/0/value"],
    ["an item without name", minimalContact({}, { emails: [{ value: "a@b.c" }] }), "/defaultFields/emails/0/name"],
    ["a national phone number", minimalContact({}, { phoneNumbers: [{ name: "m", value: "(555) 555-0100" }] }), "/defaultFields/phoneNumbers/0/value"],
    ["a phone without +", minimalContact({}, { phoneNumbers: [{ name: "m", value: "15555550100" }] }), "/defaultFields/phoneNumbers/0/value"],
    ["a phone starting +0", minimalContact({}, { phoneNumbers: [{ name: "m", value: "+05555550100" }] }), "/defaultFields/phoneNumbers/0/value"],
    ["a 16-digit phone", minimalContact({}, { phoneNumbers: [{ name: "m", value: "+1234567890123456" }] }), "/defaultFields/phoneNumbers/0/value"],
    ["an empty externalId", minimalContact({ externalId: "" }), "/externalId"],
    ["a 76-character externalId", minimalContact({ externalId: "x".repeat(76) }), "/externalId"],
    ["a numeric externalId", minimalContact({ externalId: 42 }), "/externalId"],
    ["an empty source", minimalContact({ source: "" }), "/source"],
    ["a sourceUrl that is not a URL", minimalContact({ sourceUrl: "crm/42" }), "/sourceUrl"],
    ["a sourceUrl that is not http(s)", minimalContact({ sourceUrl: "mailto:a@b.c" }), "/sourceUrl"],
    ["a numeric sourceUrl", minimalContact({ sourceUrl: 42 }), "/sourceUrl"],
  ])("refuses %s with 400 naming the path", async (_label, body, path) => {
    const before = emu.contacts().length;
    const r = await call(emu.url, "POST", "/v1/contacts", { body });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("0800400");
    expect(r.json.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(emu.contacts()).toHaveLength(before);
  });

  it.each(["openphone", "device", "csv", "zapier", "google-people", "other", "openphone-import", "csv2", "CSV"])(
    "refuses the reserved source %s",
    async (source) => {
      const r = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ source }) });
      expect(r.status).toBe(400);
      expect(r.json.errors[0].path).toBe("/source");
    },
  );

  it("accepts a 75-character externalId, its own source, a sourceUrl and an external id with commas", async () => {
    const long = await call(emu.url, "POST", "/v1/contacts", {
      body: minimalContact({ externalId: "é".repeat(75), source: "quo-sync", sourceUrl: "https://crm.example/leads/42" }),
    });
    expect(long.status).toBe(201);
    expect(long.json.data).toMatchObject({ externalId: "é".repeat(75), source: "quo-sync", sourceUrl: "https://crm.example/leads/42" });
    const comma = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "a,b" }) });
    expect(comma.status).toBe(201);
  });

  it("stores no item for a null email value on create (the schema allows null)", async () => {
    const r = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({}, { emails: [{ name: "w", value: null }] }) });
    expect(r.status).toBe(201);
    expect(r.json.data.defaultFields.emails).toEqual([]);
  });
});

describe("custom fields", () => {
  let emu: QuoEmulator;
  const defs: CustomFieldDef[] = [
    { name: "VIP", key: "vip", type: "boolean" },
    { name: "Score", key: "score", type: "number" },
    { name: "Met On", key: "met-on", type: "date" },
    { name: "Tags", key: "tags", type: "multi-select" },
    { name: "Site", key: "site", type: "url" },
    { name: "Office", key: "office", type: "address" },
    { name: "Lead Source", key: "lead-source", type: "string" },
  ];
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0, customFields: defs });
  });
  afterAll(() => emu.close());

  it("lists the definitions", async () => {
    const r = await call(emu.url, "GET", "/v1/contact-custom-fields");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ data: defs });
  });

  it("refuses an unknown key with 0801400 and applies nothing", async () => {
    const r = await call(emu.url, "POST", "/v1/contacts", {
      body: minimalContact({ customFields: [{ key: "vip", value: true }, { key: "no-such-field", value: "x" }] }),
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({
      code: "0801400",
      status: 400,
      title: "Invalid Custom Field Item",
      message: "Request contained invalid custom field item(s)",
      errors: [{ key: "no-such-field", reason: "Did not match any known contact custom field" }],
    });
    expect(emu.contacts()).toHaveLength(0);
  });

  it.each([
    ["vip", "true"],
    ["vip", 1],
    ["score", "42"],
    ["score", "NaN-ish"],
    ["met-on", "2024-09-11"],
    ["met-on", "yesterday"],
    ["met-on", 1726027200000],
    ["tags", "a,b"],
    ["tags", ["a", 2]],
    ["site", 5],
    ["office", { street: "1 Main St" }],
    ["lead-source", false],
  ])("refuses %s = %j (wrong type) with 400", async (key, value) => {
    const r = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ customFields: [{ key, value }] }) });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("0801400");
    expect(r.json.errors).toEqual([{ key, reason: expect.any(String) }]);
  });

  it("stores typed values with name, id and type, and a PATCH leaves exactly the values it sends", async () => {
    const r = await call(emu.url, "POST", "/v1/contacts", {
      body: minimalContact({
        customFields: [
          { key: "vip", value: false },
          { key: "score", value: 4.5 },
          { key: "met-on", value: "2024-09-11T04:00:00Z" },
          { key: "tags", value: ["a", "b"] },
          { key: "site", value: "https://example.com" },
          { key: "lead-source", value: null },
        ],
      }),
    });
    expect(r.status).toBe(201);
    const c = r.json.data as EmulatedContact;
    expect(c.customFields).toEqual([
      { key: "vip", name: "VIP", id: expect.stringMatching(/^[0-9a-f]{24}$/), type: "boolean", value: false },
      { key: "score", name: "Score", id: expect.any(String), type: "number", value: 4.5 },
      { key: "met-on", name: "Met On", id: expect.any(String), type: "date", value: "2024-09-11T04:00:00.000Z" },
      { key: "tags", name: "Tags", id: expect.any(String), type: "multi-select", value: ["a", "b"] },
      { key: "site", name: "Site", id: expect.any(String), type: "url", value: "https://example.com" },
    ]);
    const p = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, {
      body: {
        defaultFields: { firstName: "Ada" },
        customFields: [
          { key: "vip", value: true },
          { key: "score", value: null },
          { key: "office", value: "1 Main St" },
          { key: "met-on", value: "2024-09-12T00:00:00+02:00" },
        ],
      },
    });
    expect(p.status).toBe(200);
    expect(p.json.data.customFields.map((f: { key: string; value: unknown }) => [f.key, f.value])).toEqual([
      ["vip", true],
      ["office", "1 Main St"],
      ["met-on", "2024-09-11T22:00:00.000Z"],
    ]);
    const bad = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: { defaultFields: { firstName: "Ada" }, customFields: [{ key: "ghost", value: 1 }] } });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe("0801400");
    expect(emu.contacts().find((x) => x.id === c.id)).toEqual(p.json.data);
  });
});

/** Custom fields of the PATCH blocks: one of each value shape the replace rules treat differently. */
const PATCH_DEFS: CustomFieldDef[] = [
  { name: "VIP", key: "vip", type: "boolean" },
  { name: "Score", key: "score", type: "number" },
  { name: "Tags", key: "tags", type: "multi-select" },
];

/** A contact with every part a PATCH can touch: scalars, two phones, two emails, custom values, externalId, source, sourceUrl. */
function fullContact(externalId: string): Record<string, unknown> {
  return {
    defaultFields: {
      firstName: "Ann",
      lastName: "Lee",
      company: "Acme",
      role: "CTO",
      phoneNumbers: [
        { name: "mobile", value: "+15555550101" },
        { name: "work", value: "+15555550102" },
      ],
      emails: [
        { name: "work", value: "ann@acme.test" },
        { name: "home", value: "ann@home.test" },
      ],
    },
    customFields: [
      { key: "vip", value: true },
      { key: "score", value: 3 },
    ],
    externalId,
    source: "quo-sync",
    sourceUrl: "https://crm.example/ann",
  };
}

interface PatchBody {
  defaultFields: Record<string, unknown> & { phoneNumbers?: unknown[]; emails?: unknown[] };
  customFields?: unknown[];
  [k: string]: unknown;
}

/** The body that re-sends `c` whole, as Quo's docs ask: every scalar, every item by id, every custom value. */
function wholeBody(c: EmulatedContact): PatchBody {
  const d = c.defaultFields;
  return {
    defaultFields: {
      firstName: d.firstName,
      lastName: d.lastName,
      company: d.company,
      role: d.role,
      phoneNumbers: d.phoneNumbers.map(({ id, name, value }) => ({ id, name, value })),
      emails: d.emails.map(({ id, name, value }) => ({ id, name, value })),
    },
    customFields: c.customFields.map(({ key, value }) => ({ key, value })),
  };
}

function phone(c: EmulatedContact, i: number): QuoItem {
  const x = c.defaultFields.phoneNumbers[i];
  if (!x) throw new Error(`no phone ${i}`);
  return x;
}

function customValues(c: EmulatedContact): [string, unknown][] {
  return c.customFields.map((f) => [f.key, f.value]);
}

/** The parts of a contact a PATCH may change, so a case can say "everything else stayed". */
function writable(c: EmulatedContact): unknown {
  const { updatedAt: _u, ...rest } = c;
  return rest;
}

async function createFull(emu: QuoEmulator, externalId: string): Promise<EmulatedContact> {
  const r = await call(emu.url, "POST", "/v1/contacts", { body: fullContact(externalId) });
  expect(r.status).toBe(201);
  return r.json.data as EmulatedContact;
}

describe("PATCH /v1/contacts/:id replaces the contact (the default mode)", () => {
  let emu: QuoEmulator;
  let n = 0;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0, customFields: PATCH_DEFS });
  });
  afterAll(() => emu.close());

  it("changes nothing but updatedAt when the whole contact is sent back", async () => {
    const c = await createFull(emu, `whole-${n++}`);
    await sleep(5);
    const r = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: wholeBody(c) });
    expect(r.status).toBe(200);
    expect(writable(r.json.data)).toEqual(writable(c));
    expect(r.json.data.updatedAt > c.updatedAt).toBe(true);
    expect(r.json.data.createdAt).toBe(c.createdAt);
    expect(emu.contacts().find((x) => x.id === c.id)).toEqual(r.json.data);
  });

  it.each<[string, (c: EmulatedContact) => unknown, (before: EmulatedContact, after: EmulatedContact) => void]>([
    [
      "clears omitted scalars and sets the ones sent",
      (c) => {
        const b = wholeBody(c);
        delete b.defaultFields["company"];
        return { ...b, defaultFields: { ...b.defaultFields, firstName: "Anna", lastName: null, role: "CEO" } };
      },
      (before, after) => {
        expect(after.defaultFields).toMatchObject({ firstName: "Anna", lastName: null, company: null, role: "CEO" });
        expect(after.defaultFields.phoneNumbers).toEqual(before.defaultFields.phoneNumbers);
      },
    ],
    [
      "deletes every item of an omitted list",
      (c) => {
        const b = wholeBody(c);
        delete b.defaultFields.phoneNumbers;
        return b;
      },
      (before, after) => {
        expect(after.defaultFields.phoneNumbers).toEqual([]);
        expect(after.defaultFields.emails).toEqual(before.defaultFields.emails);
      },
    ],
    [
      "deletes the stored items the body does not list",
      (c) => ({ ...wholeBody(c), defaultFields: { ...wholeBody(c).defaultFields, phoneNumbers: [phone(c, 1)] } }),
      (before, after) => expect(after.defaultFields.phoneNumbers).toEqual([phone(before, 1)]),
    ],
    [
      "keeps an item sent by id, with the name and value sent",
      (c) => ({
        ...wholeBody(c),
        defaultFields: { ...wholeBody(c).defaultFields, phoneNumbers: [{ id: phone(c, 0).id, name: "cell", value: "+15555550199" }, phone(c, 1)] },
      }),
      (before, after) =>
        expect(after.defaultFields.phoneNumbers).toEqual([{ id: phone(before, 0).id, name: "cell", value: "+15555550199" }, phone(before, 1)]),
    ],
    [
      "adds an item sent without id, with a new id",
      (c) => ({ ...wholeBody(c), defaultFields: { ...wholeBody(c).defaultFields, phoneNumbers: [phone(c, 0), phone(c, 1), { name: "home", value: "+15555550103" }] } }),
      (before, after) => {
        const phones = after.defaultFields.phoneNumbers;
        expect(phones.slice(0, 2)).toEqual(before.defaultFields.phoneNumbers);
        expect(phones[2]).toEqual({ id: expect.stringMatching(/^PH/), name: "home", value: "+15555550103" });
        expect(before.defaultFields.phoneNumbers.map((p) => p.id)).not.toContain(phones[2]?.id);
      },
    ],
    [
      "removes an item sent by id with value null",
      (c) => ({ ...wholeBody(c), defaultFields: { ...wholeBody(c).defaultFields, phoneNumbers: [phone(c, 0), { ...phone(c, 1), value: null }] } }),
      (before, after) => expect(after.defaultFields.phoneNumbers).toEqual([phone(before, 0)]),
    ],
    [
      "lists the items in the order sent",
      (c) => ({ ...wholeBody(c), defaultFields: { ...wholeBody(c).defaultFields, phoneNumbers: [phone(c, 1), phone(c, 0)] } }),
      (before, after) => expect(after.defaultFields.phoneNumbers).toEqual([phone(before, 1), phone(before, 0)]),
    ],
    [
      "holds exactly the custom values sent, null being absent",
      (c) => ({
        ...wholeBody(c),
        customFields: [
          { key: "tags", value: ["a", "b"] },
          { key: "vip", value: null },
        ],
      }),
      (_before, after) => expect(customValues(after)).toEqual([["tags", ["a", "b"]]]),
    ],
    [
      "keeps no custom value when customFields is omitted",
      (c) => {
        const b = wholeBody(c);
        delete b.customFields;
        return b;
      },
      (before, after) => {
        expect(after.customFields).toEqual([]);
        expect(after.defaultFields).toEqual(before.defaultFields);
      },
    ],
    [
      "keeps externalId, source and sourceUrl when they are omitted",
      (c) => wholeBody(c),
      (before, after) => {
        expect(after).toMatchObject({ externalId: before.externalId, source: "quo-sync", sourceUrl: "https://crm.example/ann" });
      },
    ],
    [
      "sets externalId, source and sourceUrl when they are sent",
      (c) => ({ ...wholeBody(c), externalId: `${c.externalId}-new`, source: "other-tool", sourceUrl: "http://crm.example/ann?v=2" }),
      (before, after) => {
        expect(after).toMatchObject({ externalId: `${before.externalId}-new`, source: "other-tool", sourceUrl: "http://crm.example/ann?v=2" });
      },
    ],
    [
      "clears externalId and sourceUrl sent as null",
      (c) => ({ ...wholeBody(c), externalId: null, sourceUrl: null }),
      (_before, after) => expect(after).toMatchObject({ externalId: null, sourceUrl: null, source: "quo-sync" }),
    ],
    [
      "wipes every list and custom value from a PATCH that sends only a first name",
      () => ({ defaultFields: { firstName: "Ann" } }),
      (_before, after) => {
        expect(after.defaultFields).toEqual({ firstName: "Ann", lastName: null, company: null, role: null, emails: [], phoneNumbers: [] });
        expect(after.customFields).toEqual([]);
      },
    ],
  ])("%s", async (_label, body, check) => {
    const before = await createFull(emu, `case-${n++}`);
    const r = await call(emu.url, "PATCH", `/v1/contacts/${before.id}`, { body: body(before) });
    expect(r.status).toBe(200);
    const after = r.json.data as EmulatedContact;
    check(before, after);
    expect(emu.contacts().find((x) => x.id === before.id)).toEqual(after);
    expect((await call(emu.url, "GET", `/v1/contacts/${before.id}`)).json.data).toEqual(after);
  });

  it("does not duplicate an item when a PATCH adding it without id is retried, but gives it a new id", async () => {
    const c = await createFull(emu, `retry-${n++}`);
    const body = { ...wholeBody(c), defaultFields: { ...wholeBody(c).defaultFields, emails: [{ name: "other", value: "ann@other.test" }] } };
    const first = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body });
    const second = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body });
    expect(first.json.data.defaultFields.emails).toEqual([{ id: expect.any(String), name: "other", value: "ann@other.test" }]);
    expect(second.json.data.defaultFields.emails).toEqual([{ id: expect.any(String), name: "other", value: "ann@other.test" }]);
    expect(second.json.data.defaultFields.emails[0].id).not.toBe(first.json.data.defaultFields.emails[0].id);
  });

  it("re-indexes the externalIds filter when externalId changes", async () => {
    const c = await createFull(emu, "old-ext");
    const r = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: { ...wholeBody(c), externalId: "new-ext" } });
    expect(r.status).toBe(200);
    const byOld = await call(emu.url, "GET", "/v1/contacts?maxResults=5&externalIds=old-ext");
    const byNew = await call(emu.url, "GET", "/v1/contacts?maxResults=5&externalIds=new-ext");
    expect(byOld.json.data).toEqual([]);
    expect(byNew.json.data.map((x: EmulatedContact) => x.id)).toEqual([c.id]);
  });

  it("answers 404 for an unknown contact", async () => {
    const r = await call(emu.url, "PATCH", "/v1/contacts/CT000000000000000000000000", { body: { defaultFields: { firstName: "X" } } });
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ code: "0800404", message: "Contact not found" });
  });
});

describe.each<PatchMode>(["replace", "merge"])("PATCH refusals in %s mode", (mode) => {
  let emu: QuoEmulator;
  let contact: EmulatedContact;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0, customFields: PATCH_DEFS, patchMode: mode });
    contact = await createFull(emu, "refusals");
  });
  afterAll(() => emu.close());

  const fn = { firstName: "Ann" };
  it.each<[string, (c: EmulatedContact) => unknown, string]>([
    ["no defaultFields", () => ({ externalId: "x" }), "/defaultFields/firstName"],
    ["defaultFields without firstName", () => ({ defaultFields: { company: "X" } }), "/defaultFields/firstName"],
    ["an empty firstName", () => ({ defaultFields: { firstName: "" } }), "/defaultFields/firstName"],
    ["a blank firstName", () => ({ defaultFields: { firstName: "  " } }), "/defaultFields/firstName"],
    ["a null firstName", () => ({ defaultFields: { firstName: null } }), "/defaultFields/firstName"],
    ["defaultFields not an object", () => ({ defaultFields: "Ann" }), "/defaultFields"],
    ["an unknown item id", () => ({ defaultFields: { ...fn, phoneNumbers: [{ id: "PHnope", name: "x", value: "+15555550100" }] } }), "/defaultFields/phoneNumbers/0/id"],
    ["the same item id twice", (c) => ({ defaultFields: { ...fn, phoneNumbers: [phone(c, 0), phone(c, 0)] } }), "/defaultFields/phoneNumbers/1/id"],
    ["a null value without id", () => ({ defaultFields: { ...fn, emails: [{ name: "x", value: null }] } }), "/defaultFields/emails/0/id"],
    ["a non-E.164 phone", () => ({ defaultFields: { ...fn, phoneNumbers: [{ name: "x", value: "555-0100" }] } }), "/defaultFields/phoneNumbers/0/value"],
    ["a reserved source", () => ({ defaultFields: fn, source: "csv-import" }), "/source"],
    ["a too-long externalId", () => ({ defaultFields: fn, externalId: "y".repeat(76) }), "/externalId"],
    ["a sourceUrl that is not a URL", () => ({ defaultFields: fn, sourceUrl: "crm/ann" }), "/sourceUrl"],
    ["a sourceUrl that is not http(s)", () => ({ defaultFields: fn, sourceUrl: "ftp://crm.example/ann" }), "/sourceUrl"],
  ])("refuses %s with 400 and changes nothing", async (_label, body, path) => {
    const before = emu.contacts().find((c) => c.id === contact.id);
    const r = await call(emu.url, "PATCH", `/v1/contacts/${contact.id}`, { body: body(contact) });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("0800400");
    expect(r.json.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(emu.contacts().find((c) => c.id === contact.id)).toEqual(before);
  });

  it("refuses an unknown custom field key with 0801400 and applies nothing", async () => {
    const before = emu.contacts().find((c) => c.id === contact.id);
    const r = await call(emu.url, "PATCH", `/v1/contacts/${contact.id}`, {
      body: { defaultFields: { firstName: "Changed" }, customFields: [{ key: "vip", value: false }, { key: "ghost", value: 1 }] },
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: "0801400", errors: [{ key: "ghost", reason: expect.any(String) }] });
    expect(emu.contacts().find((c) => c.id === contact.id)).toEqual(before);
  });

  it("counts no refused PATCH as an applied update", () => {
    expect(emu.stats().writesApplied).toEqual({ create: 1, update: 0, delete: 0 });
  });
});

describe("PATCH /v1/contacts/:id in merge mode", () => {
  let emu: QuoEmulator;
  let n = 0;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0, customFields: PATCH_DEFS, patchMode: "merge" });
  });
  afterAll(() => emu.close());

  it("changes only the keys present and clears scalars set to null", async () => {
    const c = await createFull(emu, `merge-${n++}`);
    await sleep(5);
    const r = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: { defaultFields: { firstName: "Ann", company: "Acme Corp", lastName: null } } });
    expect(r.status).toBe(200);
    const after = r.json.data as EmulatedContact;
    expect(after.defaultFields).toEqual({ ...c.defaultFields, lastName: null, company: "Acme Corp" });
    expect(after.customFields).toEqual(c.customFields);
    expect(after).toMatchObject({ externalId: c.externalId, source: c.source, sourceUrl: c.sourceUrl });
    expect(after.updatedAt > c.updatedAt).toBe(true);
  });

  it("updates an item by id, removes one by null value, adds one without id and keeps the unlisted", async () => {
    const c = await createFull(emu, `merge-${n++}`);
    const r = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, {
      body: {
        defaultFields: {
          firstName: "Ann",
          phoneNumbers: [
            { id: phone(c, 0).id, name: "cell", value: "+15555550199" },
            { id: phone(c, 1).id, name: "work", value: null },
            { name: "home", value: "+15555550103" },
          ],
        },
      },
    });
    expect(r.status).toBe(200);
    expect(r.json.data.defaultFields.phoneNumbers).toEqual([
      { id: phone(c, 0).id, name: "cell", value: "+15555550199" },
      { id: expect.stringMatching(/^PH/), name: "home", value: "+15555550103" },
    ]);
    expect(r.json.data.defaultFields.emails).toEqual(c.defaultFields.emails);
  });

  it("duplicates an item when a PATCH adding it without id is retried", async () => {
    const c = await createFull(emu, `merge-${n++}`);
    const body = { defaultFields: { firstName: "Ann", emails: [{ name: "other", value: "ann@other.test" }] } };
    await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body });
    const r = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body });
    const others = r.json.data.defaultFields.emails.filter((e: QuoItem) => e.value === "ann@other.test");
    expect(others).toHaveLength(2);
    expect(new Set(others.map((e: QuoItem) => e.id)).size).toBe(2);
    expect(r.json.data.defaultFields.emails).toHaveLength(4);
  });

  it("sets and clears custom values by key and keeps the others", async () => {
    const c = await createFull(emu, `merge-${n++}`);
    const r = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, {
      body: { defaultFields: { firstName: "Ann" }, customFields: [{ key: "vip", value: false }, { key: "score", value: null }, { key: "tags", value: ["x"] }] },
    });
    expect(customValues(r.json.data)).toEqual([
      ["vip", false],
      ["tags", ["x"]],
    ]);
  });

  it("switches between modes with setPatchMode and the admin route", async () => {
    const c = await createFull(emu, `merge-${n++}`);
    const onlyName = { defaultFields: { firstName: "Ann" } };
    const merged = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: onlyName });
    expect(merged.json.data.defaultFields.phoneNumbers).toHaveLength(2);

    emu.setPatchMode("replace");
    const replaced = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: { ...onlyName, customFields: [{ key: "score", value: 1 }] } });
    expect(replaced.json.data.defaultFields.phoneNumbers).toEqual([]);
    expect(customValues(replaced.json.data)).toEqual([["score", 1]]);

    expect((await call(emu.url, "POST", "/__emulator/patch-mode", { auth: null, body: { mode: "merge" } })).status).toBe(204);
    const again = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: { defaultFields: { firstName: "Ann", role: "Boss" } } });
    expect(again.json.data.customFields).toEqual(replaced.json.data.customFields);
    expect(again.json.data.defaultFields.role).toBe("Boss");

    // '"merge"' is sent as is: a JSON string, not an object.
    for (const bad of [{ mode: "put" }, { mode: null }, {}, '"merge"']) {
      const r = await call(emu.url, "POST", "/__emulator/patch-mode", { auth: null, body: bad });
      expect(r.status).toBe(400);
      expect(r.json.message).toContain("replace");
    }
    const still = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: onlyName });
    expect(still.json.data.defaultFields.role).toBe("Boss");

    expect((await call(emu.url, "POST", "/__emulator/patch-mode", { auth: null, body: { mode: "replace" } })).status).toBe(204);
    const replacedAgain = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: onlyName });
    expect(replacedAgain.json.data.defaultFields.role).toBeNull();
    expect(replacedAgain.json.data.customFields).toEqual([]);
  });
});

describe("applyContactPatch", () => {
  const NOW = "2030-01-02T03:04:05.000Z";
  const base: EmulatedContact = {
    id: "CT1",
    externalId: "leads:1",
    source: "quo-sync",
    sourceUrl: null,
    defaultFields: {
      firstName: "Ann",
      lastName: "Lee",
      company: "Acme",
      role: null,
      emails: [{ id: "EM1", name: "work", value: "ann@acme.test" }],
      phoneNumbers: [
        { id: "PH1", name: "mobile", value: "+15555550101" },
        { id: "PH2", name: "work", value: "+15555550102" },
      ],
    },
    customFields: [{ key: "vip", name: "VIP", id: "a".repeat(24), type: "boolean", value: true }],
    createdAt: "2030-01-01T00:00:00.000Z",
    updatedAt: "2030-01-01T00:00:00.000Z",
    createdByUserId: "USx",
  };
  function options(mode: PatchMode): { opts: ContactPatchOptions; made: string[] } {
    const made: string[] = [];
    return { made, opts: { customFields: PATCH_DEFS, mode, now: NOW, newId: (p) => `${p}new${made.push(p)}` } };
  }

  it.each<PatchMode>(["replace", "merge"])("in %s mode mutates neither the contact nor the body, and shares no object with them", (mode) => {
    const contact = structuredClone(base);
    const body = {
      defaultFields: { firstName: "Anna", phoneNumbers: [{ id: "PH1", name: "cell", value: "+15555550199" }, { name: "home", value: "+15555550103" }] },
      customFields: [{ key: "tags", value: ["a"] }],
    };
    const bodyBefore = structuredClone(body);
    const { opts, made } = options(mode);
    const r = applyContactPatch(contact, body, opts);
    expect(contact).toEqual(base);
    expect(body).toEqual(bodyBefore);
    if (!r.ok) throw new Error(r.message);
    expect(made).toEqual(["PH"]);
    expect(r.contact.updatedAt).toBe(NOW);
    expect(r.contact.defaultFields.phoneNumbers[0]).toEqual({ id: "PH1", name: "cell", value: "+15555550199" });
    const tags = r.contact.customFields.find((f) => f.key === "tags")?.value;
    if (!Array.isArray(tags)) throw new Error("tags not set");
    tags.push("z");
    r.contact.defaultFields.phoneNumbers.forEach((p) => (p.value = "+19999999999"));
    r.contact.customFields.forEach((f) => (f.value = "changed"));
    expect(contact).toEqual(base);
    expect(body).toEqual(bodyBefore);
  });

  it("gives the replace and the merge reading of the same body", () => {
    const body = { defaultFields: { firstName: "Ann", phoneNumbers: [{ id: "PH2", name: "work", value: "+15555550102" }] } };
    const replaced = applyContactPatch(base, body, options("replace").opts);
    const merged = applyContactPatch(base, body, options("merge").opts);
    expect(replaced).toEqual({
      ok: true,
      contact: {
        ...base,
        updatedAt: NOW,
        defaultFields: { firstName: "Ann", lastName: null, company: null, role: null, emails: [], phoneNumbers: [{ id: "PH2", name: "work", value: "+15555550102" }] },
        customFields: [],
      },
    });
    expect(merged).toEqual({ ok: true, contact: { ...base, updatedAt: NOW } });
  });

  it.each<[string, unknown, { code: string; errors: unknown[] }]>([
    ["a missing first name", { defaultFields: {} }, { code: "0800400", errors: [expect.objectContaining({ path: "/defaultFields/firstName" })] }],
    ["an unknown item id", { defaultFields: { firstName: "A", emails: [{ id: "EM9", name: "w", value: null }] } }, { code: "0800400", errors: [expect.objectContaining({ path: "/defaultFields/emails/0/id" })] }],
    ["a wrongly typed custom value", { defaultFields: { firstName: "A" }, customFields: [{ key: "score", value: "7" }] }, { code: "0801400", errors: [{ key: "score", reason: expect.any(String) }] }],
  ])("refuses %s with Quo's 400 and makes no id", (_label, body, expected) => {
    const { opts, made } = options("replace");
    const r = applyContactPatch(base, body, opts);
    expect(r).toEqual({ ok: false, status: 400, message: expect.any(String), ...expected });
    expect(made).toEqual([]);
  });
});

describe("DELETE /v1/contacts/:id and GET by id", () => {
  let emu: QuoEmulator;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0 });
  });
  afterAll(() => emu.close());

  it("deletes with 204 and an empty body, then answers 404", async () => {
    const created = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "gone" }) });
    const id = created.json.data.id as string;
    const del = await call(emu.url, "DELETE", `/v1/contacts/${id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    const again = await call(emu.url, "DELETE", `/v1/contacts/${id}`);
    expect(again.status).toBe(404);
    expect(again.json.code).toBe("0800404");
    const got = await call(emu.url, "GET", `/v1/contacts/${id}`);
    expect(got.status).toBe(404);
    expect(got.json).toMatchObject({ message: "Contact not found", code: "0800404", status: 404, title: "Not Found" });
    const filtered = await call(emu.url, "GET", "/v1/contacts?maxResults=5&externalIds=gone");
    expect(filtered.json.data).toEqual([]);
    expect(emu.contacts()).toEqual([]);
    expect(emu.stats().writesApplied).toEqual({ create: 1, update: 0, delete: 1 });
    expect(emu.stats().byRoute).toMatchObject({ "DELETE /v1/contacts/:id": 2, "GET /v1/contacts/:id": 1 });
  });
});

describe("error body shapes", () => {
  let live: QuoEmulator;
  beforeAll(async () => {
    live = await startQuoEmulator({ requestsPerSecond: 0, errorShape: "live" });
  });
  afterAll(() => live.close());

  it("answers {error: {message, key, trace}} in live shape", async () => {
    const r = await call(live.url, "GET", "/v1/contacts/CTmissing");
    expect(r.status).toBe(404);
    expect(Object.keys(r.json)).toEqual(["error"]);
    expect(r.json.error).toEqual({ message: "Contact not found", key: expect.any(String), trace: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it("puts validation details into the live message", async () => {
    const r = await call(live.url, "POST", "/v1/contacts", { body: minimalContact({}, { phoneNumbers: [{ name: "m", value: "555" }] }) });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toContain("/defaultFields/phoneNumbers/0/value");
    expect(r.json.code).toBeUndefined();
  });

  it("keeps Kong's own 429 body in live shape", async () => {
    const limited = await startQuoEmulator({ requestsPerSecond: 1, errorShape: "live" });
    try {
      await alignToSecond();
      const replies = await Promise.all([1, 2, 3].map(() => call(limited.url, "GET", "/v1/contacts?maxResults=1")));
      const tooMany = replies.filter((r) => r.status === 429);
      expect(tooMany.length).toBeGreaterThanOrEqual(1);
      expect(tooMany[0]?.json).toEqual({ message: "API rate limit exceeded" });
    } finally {
      await limited.close();
    }
  });
});

describe("faults and latency", () => {
  let emu: QuoEmulator;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0 });
  });
  afterAll(() => emu.close());

  it("answers 500 without applying the write", async () => {
    emu.setFaults({ serverErrorRate: 1 });
    const before = emu.contacts().length;
    const r = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "fault-500" }) });
    emu.setFaults(undefined);
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ message: "An unknown error occurred", code: "0801500", status: 500 });
    expect(emu.contacts()).toHaveLength(before);
    expect(emu.stats().writesApplied.create).toBe(0);
  });

  it("applies faults only to the chosen methods", async () => {
    emu.setFaults({ serverErrorRate: 1, methods: ["POST"] });
    const get = await call(emu.url, "GET", "/v1/contacts?maxResults=1");
    const post = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact() });
    emu.setFaults(undefined);
    expect([get.status, post.status]).toEqual([200, 500]);
  });

  it("applies a write whose response is lost, and the client sees a network error", async () => {
    emu.resetStats();
    emu.setFaults({ lostResponseRate: 1 });
    await expect(call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "lost-1" }) })).rejects.toThrow();
    emu.setFaults(undefined);
    expect(emu.contacts().filter((c) => c.externalId === "lost-1")).toHaveLength(1);
    const found = await call(emu.url, "GET", "/v1/contacts?maxResults=5&externalIds=lost-1");
    expect(found.json.data).toHaveLength(1);
    expect(emu.stats()).toMatchObject({ writesApplied: { create: 1 }, byStatus: { lost: 1, "200": 1 } });
  });

  it("never loses the response of a GET", async () => {
    emu.setFaults({ lostResponseRate: 1 });
    const r = await call(emu.url, "GET", "/v1/contacts?maxResults=1");
    emu.setFaults(undefined);
    expect(r.status).toBe(200);
  });

  it("draws faults deterministically from the seed", async () => {
    async function run(): Promise<number[]> {
      const e = await startQuoEmulator({ requestsPerSecond: 0, faults: { serverErrorRate: 0.5, seed: 42 } });
      try {
        const out: number[] = [];
        for (let i = 0; i < 20; i++) out.push((await call(e.url, "GET", "/v1/contacts?maxResults=1")).status);
        return out;
      } finally {
        await e.close();
      }
    }
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a).toContain(200);
    expect(a).toContain(500);
  });

  it("waits latencyMs before answering a processed request", async () => {
    emu.setLatency(150);
    const start = Date.now();
    const r = await call(emu.url, "GET", "/v1/contacts?maxResults=1");
    const took = Date.now() - start;
    emu.setLatency(0);
    expect(r.status).toBe(200);
    expect(took).toBeGreaterThanOrEqual(140);
  });

  it("answers 429 at once, without the latency", async () => {
    const slow = await startQuoEmulator({ requestsPerSecond: 1, latencyMs: 800 });
    try {
      await alignToSecond();
      const first = call(slow.url, "GET", "/v1/contacts?maxResults=1");
      const start = Date.now();
      const second = await call(slow.url, "GET", "/v1/contacts?maxResults=1");
      expect(second.status).toBe(429);
      expect(Date.now() - start).toBeLessThan(400);
      expect((await first).status).toBe(200);
    } finally {
      await slow.close();
    }
  });
});

describe("in-process helpers and admin routes", () => {
  let emu: QuoEmulator;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0 });
  });
  afterAll(() => emu.close());

  it("seeds, edits and deletes as the Quo app would, uncounted", async () => {
    emu.resetStats();
    const seeded = emu.seedContact({ externalId: "app-1", defaultFields: { firstName: "Sam", emails: [{ id: "", name: "w", value: "sam@x.test" }] } });
    expect(seeded.source).toBeNull(); // made in the app: no source
    expect(seeded.defaultFields.emails[0]?.id).toMatch(/^EM/);
    await sleep(5);
    emu.appEdit(seeded.id, { firstName: "Samuel", company: "Y" });
    const got = await call(emu.url, "GET", `/v1/contacts/${seeded.id}`);
    expect(got.json.data.defaultFields).toMatchObject({ firstName: "Samuel", company: "Y", lastName: null });
    expect(got.json.data.updatedAt > seeded.updatedAt).toBe(true);
    emu.appDelete(seeded.id);
    expect((await call(emu.url, "GET", `/v1/contacts/${seeded.id}`)).status).toBe(404);
    expect(emu.stats().requests).toBe(2);
    expect(() => emu.appEdit(seeded.id, { firstName: "x" })).toThrow();
  });

  it("returns deep copies from contacts()", () => {
    const c = emu.seedContact({ defaultFields: { firstName: "Copy" } });
    const copy = emu.contacts().find((x) => x.id === c.id);
    if (!copy) throw new Error("missing");
    copy.defaultFields.firstName = "Changed";
    expect(emu.contacts().find((x) => x.id === c.id)?.defaultFields.firstName).toBe("Copy");
  });

  it("serves contacts, stats, reset, faults and latency over HTTP without counting them", async () => {
    emu.resetStats();
    await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "admin-1" }) });
    const contacts = await call(emu.url, "GET", "/__emulator/contacts", { auth: null });
    expect(contacts.status).toBe(200);
    expect(contacts.json.data).toEqual(emu.contacts());
    const stats = await call(emu.url, "GET", "/__emulator/stats", { auth: null });
    expect(stats.json).toMatchObject({ requests: 1, byRoute: { "POST /v1/contacts": 1 }, byStatus: { "201": 1 }, writesApplied: { create: 1 } });

    expect((await call(emu.url, "POST", "/__emulator/faults", { auth: null, body: { serverErrorRate: 1, methods: ["GET"] } })).status).toBe(204);
    expect((await call(emu.url, "GET", "/v1/contacts?maxResults=1")).status).toBe(500);
    expect((await call(emu.url, "POST", "/__emulator/faults", { auth: null, body: null })).status).toBe(204);
    expect((await call(emu.url, "GET", "/v1/contacts?maxResults=1")).status).toBe(200);
    expect((await call(emu.url, "POST", "/__emulator/faults", { auth: null, body: { serverErrorRate: 2 } })).status).toBe(400);

    expect((await call(emu.url, "POST", "/__emulator/latency", { auth: null, body: { ms: 120 } })).status).toBe(204);
    const start = Date.now();
    await call(emu.url, "GET", "/v1/contacts?maxResults=1");
    expect(Date.now() - start).toBeGreaterThanOrEqual(110);
    expect((await call(emu.url, "POST", "/__emulator/latency", { auth: null, body: { ms: 0 } })).status).toBe(204);

    expect((await call(emu.url, "POST", "/__emulator/custom-fields", { auth: null, body: [{ name: "VIP", key: "vip", type: "boolean" }] })).status).toBe(204);
    expect((await call(emu.url, "GET", "/v1/contact-custom-fields")).json.data).toEqual([{ name: "VIP", key: "vip", type: "boolean" }]);

    expect((await call(emu.url, "GET", "/__emulator/stats", { auth: null })).json.requests).toBe(5);
    expect((await call(emu.url, "POST", "/__emulator/reset-stats", { auth: null })).status).toBe(204);
    expect(emu.stats()).toEqual({
      requests: 0,
      byRoute: {},
      byStatus: {},
      writesApplied: { create: 0, update: 0, delete: 0 },
      rateLimited: 0,
      byKey: {},
      lateCreates: { held: 0, applied: 0, refused: 0 },
    });
  });
});

describe("acting as a person in the Quo app", () => {
  let emu: QuoEmulator;
  let seeds = 0;
  const defs: CustomFieldDef[] = [
    { name: "VIP", key: "vip", type: "boolean" },
    { name: "Met On", key: "met-on", type: "date" },
    { name: "Notes", key: "notes", type: "string" },
  ];
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0, customFields: defs });
  });
  afterAll(() => emu.close());

  function seed(firstName = "Pat"): EmulatedContact {
    return emu.seedContact({
      externalId: `app-${firstName}`,
      defaultFields: {
        firstName,
        phoneNumbers: [
          { id: "", name: "mobile", value: "+15555550101" },
          { id: "", name: "work", value: "+15555550102" },
        ],
        emails: [{ id: "", name: "work", value: "pat@work.test" }],
      },
      customFields: [{ key: "notes", name: "Notes", id: "n".repeat(24), type: "string", value: "hello" }],
    });
  }

  it("adds, removes and relabels items and sets custom values, uncounted, and returns the contact", async () => {
    const c = seed("Edit");
    const [mobile, work] = c.defaultFields.phoneNumbers as [QuoItem, QuoItem];
    const email = c.defaultFields.emails[0] as QuoItem;
    emu.resetStats();
    await sleep(5);
    const after = emu.appEdit(c.id, {
      lastName: "Doe",
      setItems: [{ id: mobile.id, name: "cell" }, { id: email.id, value: "pat@new.test" }],
      removeItemIds: [work.id],
      addPhoneNumbers: [{ name: "home", value: "+15555550103" }],
      addEmails: [{ name: "home", value: "pat@home" }],
      customFields: { vip: true, "met-on": "2024-09-11T04:00:00Z", notes: null },
    });
    expect(after.defaultFields).toEqual({
      firstName: "Edit",
      lastName: "Doe",
      company: null,
      role: null,
      phoneNumbers: [
        { id: mobile.id, name: "cell", value: "+15555550101" },
        { id: expect.stringMatching(/^PH/), name: "home", value: "+15555550103" },
      ],
      emails: [
        { id: email.id, name: "work", value: "pat@new.test" },
        { id: expect.stringMatching(/^EM/), name: "home", value: "pat@home" },
      ],
    });
    expect(after.defaultFields.phoneNumbers[1]?.id).not.toBe(work.id);
    expect(customValues(after)).toEqual([
      ["vip", true],
      ["met-on", "2024-09-11T04:00:00.000Z"],
    ]);
    expect(after.updatedAt > c.updatedAt).toBe(true);
    expect((await call(emu.url, "GET", `/v1/contacts/${c.id}`)).json.data).toEqual(after);
    expect(emu.stats().requests).toBe(1);
    expect(emu.stats().writesApplied).toEqual({ create: 0, update: 0, delete: 0 });
  });

  it("returns a copy: changing it does not change the workspace", () => {
    const c = seed("Copy");
    const after = emu.appEdit(c.id, { company: "Co" });
    after.defaultFields.company = "Changed";
    after.defaultFields.phoneNumbers.pop();
    const stored = emu.contacts().find((x) => x.id === c.id);
    expect(stored?.defaultFields.company).toBe("Co");
    expect(stored?.defaultFields.phoneNumbers).toHaveLength(2);
  });

  it.each<[string, (c: EmulatedContact) => AppEdit, RegExp]>([
    ["an unknown item id to remove", () => ({ removeItemIds: ["PHnope"] }), /no phone or email item PHnope/],
    ["an unknown item id to change", () => ({ setItems: [{ id: "EMnope", name: "x" }] }), /no phone or email item EMnope/],
    ["an undefined custom field key", () => ({ customFields: { ghost: "x" } }), /no custom field with key ghost/],
    ["a custom value of the wrong type", () => ({ customFields: { vip: "yes" } }), /vip/],
    ["an empty phone", () => ({ addPhoneNumbers: [{ name: "m", value: "" }] }), /is blank/],
    ["a changed phone that is blank", (c) => ({ setItems: [{ id: (c.defaultFields.phoneNumbers[0] as QuoItem).id, value: "   " }] }), /is blank/],
    ["an empty externalId", () => ({ externalId: "" }), /externalId must be/],
    ["a 76-character externalId", () => ({ externalId: "x".repeat(76) }), /externalId must be/],
    ["an externalId that is not a string", () => ({ externalId: 7 }) as unknown as AppEdit, /externalId must be/],
    ["an email without @", () => ({ addEmails: [{ name: "w", value: "pat.example.com" }] }), /has no "@"/],
    ["a changed email without @", (c) => ({ setItems: [{ id: (c.defaultFields.emails[0] as QuoItem).id, value: "nobody" }] }), /has no "@"/],
    ["an unknown edit key", () => ({ phoneNumbers: [] }) as unknown as AppEdit, /unknown edit key phoneNumbers/],
  ])("throws for %s and changes nothing", (_label, edit, message) => {
    const c = seed(`Bad${seeds++}`);
    // Every refused edit also carries a valid change, which must not be applied either.
    expect(() => emu.appEdit(c.id, { company: "Half-applied", ...edit(c) })).toThrow(message);
    expect(emu.contacts().find((x) => x.id === c.id)).toEqual(c);
  });

  it("throws for an unknown contact", () => {
    expect(() => emu.appEdit("CTnope", { firstName: "x" })).toThrow(/no contact CTnope/);
    expect(() => emu.appDelete("CTnope")).toThrow(/no contact CTnope/);
  });

  it("serves app edits, app deletes and seeds over the admin routes, uncounted", async () => {
    emu.resetStats();
    const seeded = await call(emu.url, "POST", "/__emulator/contacts", {
      auth: null,
      body: {
        externalId: "http-seed",
        sourceUrl: "https://crm.example/1",
        defaultFields: { firstName: "Http", phoneNumbers: [{ name: "mobile", value: "+15555550101" }] },
      },
    });
    expect(seeded.status).toBe(201);
    const c = seeded.json.data as EmulatedContact;
    expect(c).toMatchObject({ externalId: "http-seed", source: null, sourceUrl: "https://crm.example/1", defaultFields: { firstName: "Http", lastName: null } });
    expect(c.defaultFields.phoneNumbers).toEqual([{ id: expect.stringMatching(/^PH/), name: "mobile", value: "+15555550101" }]);
    expect(emu.contacts().find((x) => x.id === c.id)).toEqual(c);

    const dup = await call(emu.url, "POST", "/__emulator/contacts", { auth: null, body: { id: c.id, defaultFields: { firstName: "Dup" } } });
    expect(dup.status).toBe(409);
    for (const bad of [{ externalId: "no-default-fields" }, { defaultFields: { firstName: 7 } }, { defaultFields: { emails: [{ value: "a@b" }] } }, [1]]) {
      expect((await call(emu.url, "POST", "/__emulator/contacts", { auth: null, body: bad })).status).toBe(400);
    }

    const path = `/__emulator/contacts/${encodeURIComponent(c.id)}`;
    const edited = await call(emu.url, "POST", `${path}/app-edit`, {
      auth: null,
      body: { role: "Owner", addEmails: [{ name: "work", value: "http@x.test" }], customFields: { vip: false } },
    });
    expect(edited.status).toBe(200);
    expect(edited.json.data.defaultFields).toMatchObject({ role: "Owner", emails: [{ id: expect.stringMatching(/^EM/), name: "work", value: "http@x.test" }] });
    expect(customValues(edited.json.data)).toEqual([["vip", false]]);
    expect(emu.contacts().find((x) => x.id === c.id)).toEqual(edited.json.data);

    const refused = await call(emu.url, "POST", `${path}/app-edit`, { auth: null, body: { role: "Nope", customFields: { ghost: 1 } } });
    expect(refused.status).toBe(400);
    expect(refused.json.message).toMatch(/ghost/);
    const notObject = await call(emu.url, "POST", `${path}/app-edit`, { auth: null, body: [1] });
    expect(notObject.status).toBe(400);
    expect(emu.contacts().find((x) => x.id === c.id)).toEqual(edited.json.data);

    expect((await call(emu.url, "POST", "/__emulator/contacts/CTnope/app-edit", { auth: null, body: { role: "x" } })).status).toBe(404);
    expect((await call(emu.url, "POST", `${path}/app-delete`, { auth: null })).status).toBe(204);
    expect(emu.contacts().find((x) => x.id === c.id)).toBeUndefined();
    expect((await call(emu.url, "POST", `${path}/app-delete`, { auth: null })).status).toBe(404);
    expect((await call(emu.url, "GET", `/v1/contacts/${c.id}`)).status).toBe(404);
    expect(emu.stats().requests).toBe(1);
  });
});

describe("scale: 100,000 contacts", () => {
  let emu: QuoEmulator;
  const TOTAL = 100_000;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0 });
    for (let i = 0; i < TOTAL; i++) emu.seedContact({ externalId: `bulk-${i}`, source: "quo-sync", defaultFields: { firstName: `B${i}` } });
  });
  afterAll(() => emu.close());

  it("finds contacts by externalIds and pages deep without scanning", async () => {
    const start = Date.now();
    const r = await call(emu.url, "GET", "/v1/contacts?maxResults=50&externalIds=bulk-99999&externalIds=bulk-5&externalIds=bulk-50000");
    expect(r.json.data.map((c: EmulatedContact) => c.externalId)).toEqual(["bulk-5", "bulk-50000", "bulk-99999"]);
    expect(r.json.totalItems).toBe(TOTAL);

    let token: string | null = null;
    let seen = 0;
    for (let page = 0; page < 40; page++) {
      const qs: string = token === null ? "" : `&pageToken=${encodeURIComponent(token)}`;
      const p = await call(emu.url, "GET", `/v1/contacts?maxResults=50${qs}`);
      seen += p.json.data.length;
      token = p.json.nextPageToken;
    }
    expect(seen).toBe(2000);
    expect(token).not.toBeNull();
    expect(Date.now() - start).toBeLessThan(5000);
  });
});

describe("contacts of native integrations", () => {
  it("are listed and read, but PATCH and DELETE are refused with 403 and change nothing", async () => {
    const emu = await startQuoEmulator({ requestsPerSecond: 0 });
    try {
      const c = emu.seedContact({ source: "hubspot", readOnly: true, defaultFields: { firstName: "Int", phoneNumbers: [{ id: "", name: "main", value: "+15555550111" }] } });
      const headers = { Authorization: "test-quo-key", "content-type": "application/json" };
      const patch = await fetch(`${emu.url}/v1/contacts/${c.id}`, { method: "PATCH", headers, body: JSON.stringify({ defaultFields: { firstName: "Changed" } }) });
      expect(patch.status).toBe(403);
      expect(((await patch.json()) as { code: string }).code).toBe("0800403");
      const del = await fetch(`${emu.url}/v1/contacts/${c.id}`, { method: "DELETE", headers });
      expect(del.status).toBe(403);
      const list = await fetch(`${emu.url}/v1/contacts?maxResults=50`, { headers });
      expect(((await list.json()) as { data: EmulatedContact[] }).data).toEqual([c]);
    } finally {
      await emu.close();
    }
  });
});

/** Polls `check` until it returns true or `ms` pass; fails the test with `what` if it never does. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The contacts `GET /v1/contacts?externalIds=` finds for one external id. */
async function lookUp(base: string, externalId: string): Promise<EmulatedContact[]> {
  const r = await call(base, "GET", `/v1/contacts?maxResults=50&externalIds=${encodeURIComponent(externalId)}`);
  expect(r.status).toBe(200);
  return r.json.data;
}

describe("GET /v1/contacts/:id", () => {
  let emu: QuoEmulator;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0, matonKeys: ["maton-key"] });
  });
  afterAll(() => emu.close());

  it("returns the contact as stored", async () => {
    const c = emu.seedContact({ externalId: "by-id", defaultFields: { firstName: "Id", phoneNumbers: [{ id: "", name: "m", value: "+15555550190" }] } });
    const r = await call(emu.url, "GET", `/v1/contacts/${c.id}`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ data: c });
  });

  it.each([
    ["an id never used", "/v1/contacts/CT000000000000000000000000", {}],
    ["an id with encoded characters", "/v1/contacts/CT%20nope", {}],
    ["an unknown id under the Maton prefix", "/quo/v1/contacts/CTnope", { auth: "Bearer maton-key", headers: { "user-agent": "t" } }],
  ])("answers 404 0800404 for %s", async (_label, path, opts: CallOptions) => {
    emu.resetStats();
    const r = await call(emu.url, "GET", path, opts);
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ code: "0800404", status: 404, message: "Contact not found" });
    expect(emu.stats().byRoute).toEqual({ "GET /v1/contacts/:id": 1 });
  });
});

describe("listing every contact while the workspace changes between pages", () => {
  const TOTAL = 130;
  let emu: QuoEmulator;
  let seeded: EmulatedContact[];
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0 });
    seeded = Array.from({ length: TOTAL }, (_, i) =>
      emu.seedContact({ externalId: `page-${i}`, defaultFields: { firstName: `L${i}`, phoneNumbers: [{ id: "", name: "m", value: `+1555555${String(i).padStart(4, "0")}` }] } }),
    );
  });
  afterAll(() => emu.close());

  async function page(token: string | null): Promise<{ ids: string[]; data: EmulatedContact[]; next: string | null }> {
    const qs = token === null ? "" : `&pageToken=${encodeURIComponent(token)}`;
    const r = await call(emu.url, "GET", `/v1/contacts?maxResults=50${qs}`);
    expect(r.status).toBe(200);
    return { ids: r.json.data.map((c: EmulatedContact) => c.id), data: r.json.data, next: r.json.nextPageToken };
  }

  it("returns each contact once, 50 a page, with tokens that give the same page again", async () => {
    const ids = seeded.map((c) => c.id);
    const p1 = await page(null);
    expect(p1.ids).toEqual(ids.slice(0, 50));
    const p2Before = await page(p1.next);

    // A person and another client change the workspace between pages: contacts already read, about to
    // be read and read later are edited, re-keyed, patched; one not yet read is deleted; one is created.
    emu.appEdit(ids[3] as string, { firstName: "Read already" });
    emu.appEdit(ids[60] as string, { firstName: "Edited", externalId: "rekeyed-60", addPhoneNumbers: [{ name: "home", value: "(617) 555-0145" }] });
    emu.appEdit(ids[120] as string, { lastName: "Later" });
    const patched = await call(emu.url, "PATCH", `/v1/contacts/${ids[70]}`, { body: { defaultFields: { firstName: "Patched" } } });
    expect(patched.status).toBe(200);
    emu.appDelete(ids[110] as string);
    const created = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "page-new" }) });
    expect(created.status).toBe(201);

    const p2 = await page(p1.next);
    const p2Again = await page(p1.next);
    expect(p2.ids).toEqual(p2Before.ids);
    expect(p2Again.ids).toEqual(p2.ids);
    expect(p2.next).toBe(p2Again.next);
    const p3 = await page(p2.next);
    expect(p3.next).toBeNull();

    const expected = [...ids.filter((id) => id !== ids[110]), created.json.data.id];
    expect([p1.ids.length, p2.ids.length, p3.ids.length]).toEqual([50, 50, TOTAL - 100 - 1 + 1]);
    expect([...p1.ids, ...p2.ids, ...p3.ids]).toEqual(expected);
    const byId = new Map([...p2.data, ...p3.data].map((c) => [c.id, c]));
    expect(byId.get(ids[60] as string)).toMatchObject({ externalId: "rekeyed-60", defaultFields: { firstName: "Edited" } });
    expect(byId.get(ids[60] as string)?.defaultFields.phoneNumbers.map((p) => p.value)).toEqual(["+15555550060", "(617) 555-0145"]);
    expect(byId.get(ids[70] as string)?.defaultFields).toMatchObject({ firstName: "Patched", phoneNumbers: [] });
    expect(byId.get(ids[120] as string)?.defaultFields.lastName).toBe("Later");
  });
});

describe("phone numbers a person typed in the app", () => {
  let emu: QuoEmulator;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0 });
  });
  afterAll(() => emu.close());

  let n = 0;
  function seedE164(): EmulatedContact {
    n += 1;
    return emu.seedContact({ externalId: `raw-${n}`, defaultFields: { firstName: `Raw${n}`, phoneNumbers: [{ id: "", name: "mobile", value: "+16175550145" }] } });
  }

  it.each(["(617) 555-0145", "415.555.0104", "+1 617 555 0145", "555-0100 ext. 7", "0044 20 7946 0958"])(
    "keeps %j as typed, added or changed, and every read returns it so",
    async (typed) => {
      const c = seedE164();
      const mobile = c.defaultFields.phoneNumbers[0] as QuoItem;
      const after = emu.appEdit(c.id, { setItems: [{ id: mobile.id, value: typed }], addPhoneNumbers: [{ name: "home", value: typed }] });
      expect(after.defaultFields.phoneNumbers.map((p) => p.value)).toEqual([typed, typed]);
      const got = await call(emu.url, "GET", `/v1/contacts/${c.id}`);
      expect(got.json.data.defaultFields.phoneNumbers).toEqual([
        { id: mobile.id, name: "mobile", value: typed },
        { id: expect.stringMatching(/^PH/), name: "home", value: typed },
      ]);
      expect((await lookUp(emu.url, c.externalId as string))[0]).toEqual(got.json.data);
    },
  );

  it("seeds raw numbers, in-process and over the admin route", async () => {
    const inProcess = emu.seedContact({ defaultFields: { firstName: "Seed", phoneNumbers: [{ id: "", name: "m", value: "(617) 555-0145" }] } });
    const overHttp = await call(emu.url, "POST", "/__emulator/contacts", {
      auth: null,
      body: { defaultFields: { firstName: "Seed", phoneNumbers: [{ name: "m", value: "415.555.0104" }] } },
    });
    expect(overHttp.status).toBe(201);
    const edited = await call(emu.url, "POST", `/__emulator/contacts/${overHttp.json.data.id}/app-edit`, {
      auth: null,
      body: { addPhoneNumbers: [{ name: "w", value: "(212) 555-0199" }] },
    });
    expect(edited.status).toBe(200);
    for (const [id, values] of [
      [inProcess.id, ["(617) 555-0145"]],
      [overHttp.json.data.id, ["415.555.0104", "(212) 555-0199"]],
    ] as const) {
      const got = await call(emu.url, "GET", `/v1/contacts/${id}`);
      expect(got.json.data.defaultFields.phoneNumbers.map((p: QuoItem) => p.value)).toEqual(values);
    }
  });

  it.each<[string, PatchMode, (c: EmulatedContact, held: QuoItem) => unknown, string]>([
    [
      "a PATCH sending the held raw number back unchanged with its id",
      "replace",
      (c, held) => ({ defaultFields: { firstName: c.defaultFields.firstName, phoneNumbers: [held] } }),
      "/defaultFields/phoneNumbers/0/value",
    ],
    [
      "the same PATCH in merge mode",
      "merge",
      (c, held) => ({ defaultFields: { firstName: c.defaultFields.firstName, phoneNumbers: [held] } }),
      "/defaultFields/phoneNumbers/0/value",
    ],
    [
      "a PATCH keeping a normalised number and adding a raw one",
      "replace",
      (c, held) => ({ defaultFields: { firstName: c.defaultFields.firstName, phoneNumbers: [{ ...held, value: "+16175550145" }, { name: "w", value: "(617) 555-0199" }] } }),
      "/defaultFields/phoneNumbers/1/value",
    ],
  ])("refuses %s with 400 and changes nothing", async (_label, mode, body, path) => {
    emu.setPatchMode(mode);
    try {
      const c = seedE164();
      const held = emu.appEdit(c.id, { setItems: [{ id: (c.defaultFields.phoneNumbers[0] as QuoItem).id, value: "(617) 555-0145" }] });
      emu.resetStats();
      const r = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: body(held, held.defaultFields.phoneNumbers[0] as QuoItem) });
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ code: "0800400", errors: [{ path, message: expect.stringContaining("to match") }] });
      expect(emu.contacts().find((x) => x.id === c.id)).toEqual(held);
      expect(emu.stats().writesApplied.update).toBe(0);
    } finally {
      emu.setPatchMode("replace");
    }
  });

  it("refuses a POST with a raw number with 400 and stores nothing", async () => {
    const before = emu.contacts().length;
    const r = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({}, { phoneNumbers: [{ name: "m", value: "(617) 555-0145" }] }) });
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual([expect.objectContaining({ path: "/defaultFields/phoneNumbers/0/value" })]);
    expect(emu.contacts()).toHaveLength(before);
  });

  it("takes the held number back in E.164 under its id", async () => {
    const c = seedE164();
    const held = emu.appEdit(c.id, { setItems: [{ id: (c.defaultFields.phoneNumbers[0] as QuoItem).id, value: "(617) 555-0145" }] });
    const item = held.defaultFields.phoneNumbers[0] as QuoItem;
    const body = { defaultFields: { firstName: c.defaultFields.firstName, phoneNumbers: [{ ...item, value: "+16175550145" }] } };
    const r = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body });
    expect(r.status).toBe(200);
    expect(r.json.data.defaultFields.phoneNumbers).toEqual([{ id: item.id, name: "mobile", value: "+16175550145" }]);
  });
});

describe("another tool re-keys a contact (app edit of externalId)", () => {
  let emu: QuoEmulator;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0, duplicateExternalIds: "conflict" });
  });
  afterAll(() => emu.close());

  let n = 0;
  it.each<[string, string | null, string | null]>([
    ["re-keys a contact", "old", "new"],
    ["keys a contact that had no external id", null, "fresh"],
    ["clears the external id", "cleared", null],
    ["takes 75 characters", "long", "L".repeat(75)],
  ])("%s, and the externalIds lookup follows at once", async (_label, before, after) => {
    n += 1;
    // Unique per case, and still at most 75 characters.
    const tag = (x: string | null): string | null => (x === null ? null : `${n}-${x}`.slice(0, 75));
    const c = emu.seedContact({ externalId: tag(before), defaultFields: { firstName: "Key" } });
    const edited = emu.appEdit(c.id, { externalId: tag(after) });
    expect(edited.externalId).toBe(tag(after));
    if (before !== null) expect(await lookUp(emu.url, tag(before) as string)).toEqual([]);
    if (after !== null) expect((await lookUp(emu.url, tag(after) as string)).map((x) => x.id)).toEqual([c.id]);
    expect((await call(emu.url, "GET", `/v1/contacts/${c.id}`)).json.data.externalId).toBe(tag(after));
  });

  it("may give a contact an external id another holds, whatever the duplicate policy (twins)", async () => {
    const a = emu.seedContact({ externalId: "twin", defaultFields: { firstName: "A" } });
    const b = emu.seedContact({ externalId: "other", defaultFields: { firstName: "B" } });
    emu.appEdit(b.id, { externalId: "twin" });
    expect((await lookUp(emu.url, "twin")).map((x) => x.id)).toEqual([a.id, b.id]);
  });

  it("re-keys over the admin route, and refuses a bad external id there with 400", async () => {
    const c = emu.seedContact({ externalId: "http-old", defaultFields: { firstName: "Http" } });
    const path = `/__emulator/contacts/${c.id}/app-edit`;
    const ok = await call(emu.url, "POST", path, { auth: null, body: { externalId: "http-new" } });
    expect(ok.status).toBe(200);
    expect(ok.json.data.externalId).toBe("http-new");
    expect((await lookUp(emu.url, "http-new")).map((x) => x.id)).toEqual([c.id]);
    for (const bad of ["", "x".repeat(76), 12]) {
      const r = await call(emu.url, "POST", path, { auth: null, body: { externalId: bad } });
      expect(r.status).toBe(400);
      expect(r.json.message).toMatch(/externalId/);
    }
    expect((await lookUp(emu.url, "http-new")).map((x) => x.id)).toEqual([c.id]);
  });
});

describe("late-applied creates", () => {
  let emu: QuoEmulator;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0 });
  });
  afterAll(() => emu.close());

  it.each<[LateCreateKind | undefined, (r: Promise<Reply>) => Promise<void>, string]>([
    [
      undefined,
      async (r) => {
        const reply = await r;
        expect(reply.status).toBe(504);
        expect(reply.json).toMatchObject({ code: "0801504", status: 504, title: "Gateway Timeout", message: expect.stringMatching(/timing out/) });
      },
      "504",
    ],
    [
      "no-answer",
      async (r) => {
        await expect(r).rejects.toThrow();
      },
      "lost",
    ],
  ])("kind %s: answers without applying, then applies that create delayMs later", async (kind, answer, status) => {
    const ext = `late-${kind ?? "default"}`;
    emu.resetStats();
    emu.setLateCreates({ count: 1, delayMs: 300, ...(kind ? { kind } : {}) });
    const sent = Date.now();
    await answer(call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: ext }, { lastName: "Late" }) }));
    expect(Date.now() - sent).toBeLessThan(250);
    expect(await lookUp(emu.url, ext)).toEqual([]);
    expect(emu.contacts().filter((c) => c.externalId === ext)).toEqual([]);
    expect(emu.stats()).toMatchObject({ writesApplied: { create: 0 }, lateCreates: { held: 1, applied: 0, refused: 0 }, byStatus: { [status]: 1 } });

    await waitFor("the held create to land", () => emu.contacts().some((c) => c.externalId === ext));
    expect(Date.now() - sent).toBeGreaterThanOrEqual(290);
    const [landed] = await lookUp(emu.url, ext);
    expect(landed).toMatchObject({ id: expect.stringMatching(/^CT/), source: "public-api", defaultFields: { firstName: "Ada", lastName: "Late" } });
    expect((await call(emu.url, "GET", `/v1/contacts/${landed?.id}`)).json.data).toEqual(landed);
    expect(emu.stats()).toMatchObject({ writesApplied: { create: 1 }, lateCreates: { held: 1, applied: 1, refused: 0 } });
    // Spent: the next create is answered and applied at once.
    expect((await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: `${ext}-next` }) })).status).toBe(201);
  });

  it("holds exactly the next count creates, in order, and lets the one after through", async () => {
    emu.resetStats();
    emu.setLateCreates({ count: 2 });
    const statuses: number[] = [];
    for (const ext of ["n-1", "n-2", "n-3"]) statuses.push((await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: ext }) })).status);
    expect(statuses).toEqual([504, 504, 201]);
    expect(emu.contacts().filter((c) => c.externalId?.startsWith("n-")).map((c) => c.externalId)).toEqual(["n-3"]);
    await sleep(100);
    expect(emu.contacts().filter((c) => c.externalId?.startsWith("n-"))).toHaveLength(1);
    const landed = emu.applyLateCreates();
    expect(landed.map((c) => c.externalId)).toEqual(["n-1", "n-2"]);
    expect(emu.contacts().filter((c) => c.externalId?.startsWith("n-")).map((c) => c.externalId)).toEqual(["n-3", "n-1", "n-2"]);
    expect(emu.applyLateCreates()).toEqual([]);
    expect(emu.stats()).toMatchObject({ writesApplied: { create: 3 }, lateCreates: { held: 2, applied: 2, refused: 0 }, byStatus: { "504": 2, "201": 1 } });
  });

  it("judges a held create when it lands: an invalid body is refused then and changes nothing", async () => {
    emu.resetStats();
    const before = emu.contacts().length;
    emu.setLateCreates({ count: 1 });
    expect((await call(emu.url, "POST", "/v1/contacts", { body: { defaultFields: { lastName: "No first name" } } })).status).toBe(504);
    expect(emu.applyLateCreates()).toEqual([]);
    expect(emu.contacts()).toHaveLength(before);
    expect(emu.stats()).toMatchObject({ writesApplied: { create: 0 }, lateCreates: { held: 1, applied: 0, refused: 1 } });
  });

  it.each<[DuplicateExternalIds, number, { applied: number; refused: number }]>([
    ["allow", 2, { applied: 1, refused: 0 }],
    ["conflict", 1, { applied: 0, refused: 1 }],
  ])("under %s, a held create landing after a retry made the contact leaves %i contact(s)", async (policy, count, late) => {
    const local = await startQuoEmulator({ requestsPerSecond: 0, duplicateExternalIds: policy });
    try {
      local.setLateCreates({ count: 1 });
      expect((await call(local.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "retried" }) })).status).toBe(504);
      expect(await lookUp(local.url, "retried")).toEqual([]);
      expect((await call(local.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "retried" }) })).status).toBe(201);
      local.applyLateCreates();
      expect(await lookUp(local.url, "retried")).toHaveLength(count);
      expect(local.stats().lateCreates).toEqual({ held: 1, ...late });
      expect(local.stats().writesApplied.create).toBe(count);
    } finally {
      await local.close();
    }
  });

  it("answers the 504 in the live error shape when configured so", async () => {
    const live = await startQuoEmulator({ requestsPerSecond: 0, errorShape: "live" });
    try {
      live.setLateCreates({ count: 1 });
      const r = await call(live.url, "POST", "/v1/contacts", { body: minimalContact() });
      expect(r.status).toBe(504);
      expect(r.json).toEqual({ error: { message: expect.stringMatching(/timing out/), key: "gateway_timeout", trace: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    } finally {
      await live.close();
    }
  });

  it("holds only creates: other writes and reads are processed", async () => {
    const c = emu.seedContact({ defaultFields: { firstName: "Other" } });
    emu.setLateCreates({ count: 5 });
    try {
      expect((await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: { defaultFields: { firstName: "Patched" } } })).status).toBe(200);
      expect((await call(emu.url, "GET", `/v1/contacts/${c.id}`)).status).toBe(200);
      expect((await call(emu.url, "DELETE", `/v1/contacts/${c.id}`)).status).toBe(204);
    } finally {
      emu.setLateCreates(undefined);
    }
  });

  it("stops holding on undefined, but lets the creates already held land", async () => {
    emu.setLateCreates({ count: 3, delayMs: 80 });
    expect((await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "off-1" }) })).status).toBe(504);
    emu.setLateCreates(undefined);
    expect((await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "off-2" }) })).status).toBe(201);
    await waitFor("the held create to land", async () => (await lookUp(emu.url, "off-1")).length === 1);
  });

  it("cancels the held creates on close", async () => {
    const local = await startQuoEmulator({ requestsPerSecond: 0 });
    local.setLateCreates({ count: 1, delayMs: 60 });
    expect((await call(local.url, "POST", "/v1/contacts", { body: minimalContact() })).status).toBe(504);
    await local.close();
    await sleep(150);
    expect(local.contacts()).toEqual([]);
    expect(local.stats().lateCreates).toEqual({ held: 1, applied: 0, refused: 0 });
    expect(local.applyLateCreates()).toEqual([]);
  });

  it.each<[string, LateCreates]>([
    ["a negative count", { count: -1 }],
    ["a fractional count", { count: 1.5 }],
    ["a negative delay", { count: 1, delayMs: -5 }],
    ["an infinite delay", { count: 1, delayMs: Number.POSITIVE_INFINITY }],
    ["an unknown kind", { count: 1, kind: "slow" as LateCreateKind }],
  ])("refuses %s in-process and over the admin route", async (_label, late) => {
    expect(() => emu.setLateCreates(late)).toThrow(/setLateCreates/);
    const body = Number.isFinite(late.delayMs ?? 0) ? late : { ...late, delayMs: "forever" };
    expect((await call(emu.url, "POST", "/__emulator/late-creates", { auth: null, body })).status).toBe(400);
    expect((await call(emu.url, "POST", "/v1/contacts", { body: minimalContact() })).status).toBe(201);
  });

  it("is steered over the admin routes, uncounted", async () => {
    emu.resetStats();
    expect((await call(emu.url, "POST", "/__emulator/late-creates", { auth: null, body: { count: 2, kind: "gateway-timeout" } })).status).toBe(204);
    for (const ext of ["admin-late-1", "admin-late-2"]) {
      expect((await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: ext }) })).status).toBe(504);
    }
    const applied = await call(emu.url, "POST", "/__emulator/late-creates/apply", { auth: null });
    expect(applied.status).toBe(200);
    expect(applied.json.data.map((c: EmulatedContact) => c.externalId)).toEqual(["admin-late-1", "admin-late-2"]);
    expect((await lookUp(emu.url, "admin-late-2")).map((c) => c.id)).toEqual([applied.json.data[1].id]);

    expect((await call(emu.url, "POST", "/__emulator/late-creates", { auth: null, body: { count: 1, delayMs: 0, kind: "no-answer" } })).status).toBe(204);
    await expect(call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "admin-late-3" }) })).rejects.toThrow();
    await waitFor("the cut-off create to land", () => emu.contacts().some((c) => c.externalId === "admin-late-3"));
    expect((await call(emu.url, "POST", "/__emulator/late-creates", { auth: null, body: null })).status).toBe(204);
    expect(emu.stats()).toMatchObject({ requests: 4, lateCreates: { held: 3, applied: 3 }, writesApplied: { create: 3 }, byStatus: { "504": 2, lost: 1, "200": 1 } });
  });
});

describe("a second contact with an externalId in use", () => {
  let n = 0;
  const label = (): string => `dup-${++n}`;

  it.each<[string, DuplicateExternalIds, (base: string, ext: string, twin: EmulatedContact, other: EmulatedContact) => Promise<Reply>, number]>([
    ["a POST reusing it", "allow", (base, ext) => call(base, "POST", "/v1/contacts", { body: minimalContact({ externalId: ext }) }), 201],
    ["a POST reusing it", "conflict", (base, ext) => call(base, "POST", "/v1/contacts", { body: minimalContact({ externalId: ext }) }), 409],
    ["a POST with a free external id", "conflict", (base, ext) => call(base, "POST", "/v1/contacts", { body: minimalContact({ externalId: `${ext}-free` }) }), 201],
    ["a POST with no external id", "conflict", (base) => call(base, "POST", "/v1/contacts", { body: minimalContact() }), 201],
    [
      "a PATCH setting it on another contact",
      "allow",
      (base, ext, _t, other) => call(base, "PATCH", `/v1/contacts/${other.id}`, { body: { defaultFields: { firstName: "Other" }, externalId: ext } }),
      200,
    ],
    [
      "a PATCH setting it on another contact",
      "conflict",
      (base, ext, _t, other) => call(base, "PATCH", `/v1/contacts/${other.id}`, { body: { defaultFields: { firstName: "Other" }, externalId: ext } }),
      409,
    ],
    [
      "a PATCH sending the contact's own external id back",
      "conflict",
      (base, ext, twin) => call(base, "PATCH", `/v1/contacts/${twin.id}`, { body: { defaultFields: { firstName: "Twin" }, externalId: ext } }),
      200,
    ],
    [
      "a PATCH setting a free external id",
      "conflict",
      (base, ext, _t, other) => call(base, "PATCH", `/v1/contacts/${other.id}`, { body: { defaultFields: { firstName: "Other" }, externalId: `${ext}-free` } }),
      200,
    ],
  ])("%s under %s is answered %i", async (_label, policy, write, status) => {
    const emu = await startQuoEmulator({ requestsPerSecond: 0, ...(policy === "allow" ? {} : { duplicateExternalIds: policy }) });
    try {
      const ext = label();
      const twin = emu.seedContact({ externalId: ext, defaultFields: { firstName: "Twin" } });
      const other = emu.seedContact({ externalId: `${ext}-other`, defaultFields: { firstName: "Other" } });
      const before = emu.contacts();
      const r = await write(emu.url, ext, twin, other);
      expect(r.status).toBe(status);
      if (status === 409) {
        expect(r.json).toMatchObject({ code: "0800409", status: 409, title: "Conflict", message: expect.stringMatching(/externalId/) });
        expect(emu.contacts()).toEqual(before);
        expect(emu.stats().writesApplied).toEqual({ create: 0, update: 0, delete: 0 });
      } else {
        expect(Object.values(emu.stats().writesApplied).reduce((a, b) => a + b, 0)).toBe(1);
      }
    } finally {
      await emu.close();
    }
  });

  it("lets twins made before the policy keep their shared external id in a PATCH, but not take another's", async () => {
    const emu = await startQuoEmulator({ requestsPerSecond: 0, duplicateExternalIds: "conflict" });
    try {
      const [first, second] = ["First", "Second"].map((firstName) => emu.seedContact({ externalId: "shared", defaultFields: { firstName } }));
      const third = emu.seedContact({ externalId: "third", defaultFields: { firstName: "Third" } });
      const patch = (c: EmulatedContact | undefined, externalId: string): Promise<Reply> =>
        call(emu.url, "PATCH", `/v1/contacts/${c?.id}`, { body: { defaultFields: { firstName: c?.defaultFields.firstName }, externalId } });
      expect([(await patch(first, "shared")).status, (await patch(second, "shared")).status, (await patch(third, "shared")).status]).toEqual([200, 200, 409]);
      expect((await lookUp(emu.url, "shared")).map((c) => c.id)).toEqual([first?.id, second?.id]);
      expect(emu.stats().writesApplied.update).toBe(2);
    } finally {
      await emu.close();
    }
  });

  it("refuses a bad body with 400 before looking for a conflict, and frees the id of a deleted contact", async () => {
    const emu = await startQuoEmulator({ requestsPerSecond: 0, duplicateExternalIds: "conflict" });
    try {
      const c = emu.seedContact({ externalId: "taken", defaultFields: { firstName: "T" } });
      const bad = await call(emu.url, "POST", "/v1/contacts", { body: { externalId: "taken", defaultFields: {} } });
      expect(bad.status).toBe(400);
      emu.appDelete(c.id);
      expect((await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "taken" }) })).status).toBe(201);
    } finally {
      await emu.close();
    }
  });

  it("switches policy in-process and over the admin route, and answers 409 in the live shape", async () => {
    const emu = await startQuoEmulator({ requestsPerSecond: 0, errorShape: "live" });
    try {
      emu.seedContact({ externalId: "switch", defaultFields: { firstName: "S" } });
      const post = (): Promise<Reply> => call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "switch" }) });
      expect((await post()).status).toBe(201);
      emu.setDuplicateExternalIds("conflict");
      const refused = await post();
      expect(refused.status).toBe(409);
      expect(refused.json).toEqual({ error: { message: expect.stringMatching(/externalId/), key: "conflict", trace: expect.any(String) } });
      expect((await call(emu.url, "POST", "/__emulator/duplicate-external-ids", { auth: null, body: { policy: "allow" } })).status).toBe(204);
      expect((await post()).status).toBe(201);
      expect((await call(emu.url, "POST", "/__emulator/duplicate-external-ids", { auth: null, body: { policy: "conflict" } })).status).toBe(204);
      expect((await post()).status).toBe(409);
      expect((await call(emu.url, "POST", "/__emulator/duplicate-external-ids", { auth: null, body: { policy: "deny" } })).status).toBe(400);
      expect(await lookUp(emu.url, "switch")).toHaveLength(3);
    } finally {
      await emu.close();
    }
  });
});

describe("partial copies", () => {
  const defs: CustomFieldDef[] = [{ name: "Notes", key: "notes", type: "string" }];
  let emu: QuoEmulator;
  let a: EmulatedContact;
  let b: EmulatedContact;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0, customFields: defs });
    const create = async (name: string): Promise<EmulatedContact> => {
      const r = await call(emu.url, "POST", "/v1/contacts", {
        body: minimalContact(
          { externalId: `part-${name}`, customFields: [{ key: "notes", value: "kept" }] },
          { firstName: name, phoneNumbers: [{ name: "m", value: "+15555550170" }], emails: [{ name: "w", value: `${name}@x.test` }] },
        ),
      });
      return r.json.data;
    };
    a = await create("a");
    b = await create("b");
  });
  afterAll(() => emu.close());

  /** Every route that returns a contact, as `[name, read]`; each read returns the JSON contact for `c`. */
  const routes: [string, (c: EmulatedContact) => Promise<Record<string, any>>][] = [
    ["GET by id", async (c) => (await call(emu.url, "GET", `/v1/contacts/${c.id}`)).json.data],
    ["a list page", async (c) => (await call(emu.url, "GET", "/v1/contacts?maxResults=50")).json.data.find((x: EmulatedContact) => x.id === c.id)],
    ["an externalIds lookup", async (c) => (await lookUp(emu.url, c.externalId as string))[0] as unknown as Record<string, any>],
    [
      "a PATCH answer",
      async (c) => {
        const r = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, {
          body: { defaultFields: c.defaultFields, customFields: c.customFields.map((f) => ({ key: f.key, value: f.value })) },
        });
        expect(r.status).toBe(200);
        return r.json.data;
      },
    ],
  ];
  const omits: PartialCopyList[][] = [["phoneNumbers"], ["emails"], ["customFields"], ["phoneNumbers", "emails", "customFields"]];

  it.each(omits.flatMap((omit) => routes.map(([name, read]) => [omit.join("+"), name, omit, read] as const)))(
    "leaves %s out of %s, for the chosen contact only, and stores nothing",
    async (_o, _r, omit, read) => {
      emu.setPartialCopies({ ids: [a.id], omit: [...omit] });
      try {
        const partial = await read(a);
        const whole = await read(b);
        for (const list of ["phoneNumbers", "emails"] as const) {
          if (omit.includes(list)) expect(partial.defaultFields).not.toHaveProperty(list);
          else expect(partial.defaultFields[list]).toEqual(a.defaultFields[list]);
        }
        if (omit.includes("customFields")) expect(partial).not.toHaveProperty("customFields");
        else expect(partial.customFields).toEqual(a.customFields);
        expect(partial).toMatchObject({ id: a.id, externalId: "part-a", defaultFields: { firstName: "a" } });
        expect(whole).toEqual({ ...b, updatedAt: whole.updatedAt });
        const stored = emu.contacts().find((x) => x.id === a.id);
        expect(stored).toEqual({ ...a, updatedAt: stored?.updatedAt });
      } finally {
        emu.setPartialCopies(undefined);
      }
    },
  );

  it("applies to every contact, new ones included, when no ids are given, and leaves the keys out of the JSON text", async () => {
    emu.setPartialCopies({ omit: ["phoneNumbers", "customFields"] });
    try {
      const created = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "part-new" }, { phoneNumbers: [{ name: "m", value: "+15555550171" }] }) });
      expect(created.status).toBe(201);
      expect(created.text).not.toContain("phoneNumbers");
      expect(created.text).not.toContain("customFields");
      expect(created.json.data.defaultFields.emails).toEqual([]);
      const list = await call(emu.url, "GET", "/v1/contacts?maxResults=50");
      expect(list.json.data).toHaveLength(3);
      expect(list.text).not.toContain("phoneNumbers");
      expect(emu.contacts().find((c) => c.id === created.json.data.id)?.defaultFields.phoneNumbers).toEqual([
        { id: expect.stringMatching(/^PH/), name: "m", value: "+15555550171" },
      ]);
    } finally {
      emu.setPartialCopies(undefined);
    }
    expect((await call(emu.url, "GET", "/v1/contacts?maxResults=50")).text).toContain("phoneNumbers");
  });

  it("is set and cleared over the admin route, which refuses a bad body with 400", async () => {
    expect((await call(emu.url, "POST", "/__emulator/partial-copies", { auth: null, body: { ids: [b.id], omit: ["emails"] } })).status).toBe(204);
    expect((await call(emu.url, "GET", `/v1/contacts/${b.id}`)).json.data.defaultFields).not.toHaveProperty("emails");
    expect((await call(emu.url, "GET", `/v1/contacts/${a.id}`)).json.data.defaultFields).toHaveProperty("emails");
    expect((await call(emu.url, "POST", "/__emulator/partial-copies", { auth: null, body: null })).status).toBe(204);
    expect((await call(emu.url, "GET", `/v1/contacts/${b.id}`)).json.data.defaultFields).toHaveProperty("emails");
    for (const bad of [{ omit: ["firstName"] }, { ids: "x", omit: [] }, {}, [1]]) {
      expect((await call(emu.url, "POST", "/__emulator/partial-copies", { auth: null, body: bad })).status).toBe(400);
    }
  });
});

describe("the request hook", () => {
  let emu: QuoEmulator;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0, matonKeys: ["maton-key"], customFields: [{ name: "Notes", key: "notes", type: "string" }] });
  });
  afterAll(() => {
    emu.onRequest(undefined);
    return emu.close();
  });

  it.each<[string, string, string, unknown, Partial<Omit<ApiRequestInfo, "query">> & { query?: Record<string, string> }]>([
    ["a list", "GET", "/v1/contacts?maxResults=5&externalIds=x", undefined, { method: "GET", route: "GET /v1/contacts", path: "/v1/contacts", query: { maxResults: "5", externalIds: "x" }, body: undefined }],
    ["a create", "POST", "/v1/contacts", minimalContact({ externalId: "hooked" }), { method: "POST", route: "POST /v1/contacts", path: "/v1/contacts", body: minimalContact({ externalId: "hooked" }) }],
    ["a read by id", "GET", "/v1/contacts/CT%201", undefined, { method: "GET", route: "GET /v1/contacts/:id", path: "/v1/contacts/CT%201", id: "CT 1" }],
    ["a PATCH", "PATCH", "/v1/contacts/CT2", { defaultFields: { firstName: "P" } }, { method: "PATCH", route: "PATCH /v1/contacts/:id", id: "CT2", body: { defaultFields: { firstName: "P" } } }],
    ["a DELETE", "DELETE", "/v1/contacts/CT3", undefined, { method: "DELETE", route: "DELETE /v1/contacts/:id", id: "CT3" }],
    ["the custom fields", "GET", "/v1/contact-custom-fields", undefined, { route: "GET /v1/contact-custom-fields", path: "/v1/contact-custom-fields" }],
    ["a Maton request", "GET", "/quo/v1/contacts/CT4", undefined, { route: "GET /v1/contacts/:id", path: "/v1/contacts/CT4", id: "CT4" }],
  ])("sees %s before it is processed", async (_label, method, path, body, expected) => {
    const seen: ApiRequestInfo[] = [];
    emu.onRequest((req) => {
      seen.push(req);
    });
    try {
      const maton = path.startsWith("/quo");
      await call(emu.url, method, path, { body, ...(maton ? { auth: "Bearer maton-key", headers: { "user-agent": "t" } } : {}) });
    } finally {
      emu.onRequest(undefined);
    }
    expect(seen).toHaveLength(1);
    const { query, ...rest } = expected;
    expect(seen[0]).toMatchObject(rest);
    if (!("id" in expected)) expect(seen[0]).not.toHaveProperty("id");
    if (query) expect(Object.fromEntries(seen[0]?.query ?? [])).toEqual(query);
  });

  let moments = 0;
  it.each<[string, "sync" | "async", (c: EmulatedContact) => Promise<EmulatedContact | undefined>, (got: EmulatedContact | undefined, c: EmulatedContact) => void]>([
    [
      "a read by id sees the edit",
      "sync",
      async (c) => (await call(emu.url, "GET", `/v1/contacts/${c.id}`)).json.data,
      (got) => expect(got?.defaultFields.lastName).toBe("Edited"),
    ],
    [
      "a lookup sees the edit made after an awaited pause",
      "async",
      async (c) => (await lookUp(emu.url, c.externalId as string))[0],
      (got) => expect(got?.defaultFields.lastName).toBe("Edited"),
    ],
    [
      "a whole-contact PATCH built before the edit deletes what the app added",
      "sync",
      async (c) => {
        const r = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: { defaultFields: { firstName: c.defaultFields.firstName, phoneNumbers: c.defaultFields.phoneNumbers } } });
        expect(r.status).toBe(200);
        return r.json.data;
      },
      (got, c) => {
        expect(got?.defaultFields.phoneNumbers).toEqual(c.defaultFields.phoneNumbers);
        expect(got?.defaultFields.lastName).toBeNull();
      },
    ],
  ])("changes the workspace at that moment: %s", async (_label, style, send, check) => {
    moments += 1;
    const c = emu.seedContact({ externalId: `moment-${moments}`, defaultFields: { firstName: "M", phoneNumbers: [{ id: "", name: "m", value: "+15555550180" }] } });
    const edit: AppEdit = { lastName: "Edited", addPhoneNumbers: [{ name: "home", value: "(617) 555-0145" }] };
    emu.onRequest(
      style === "sync"
        ? (req) => {
            if (req.id === c.id || req.route === "GET /v1/contacts") emu.appEdit(c.id, edit);
          }
        : async () => {
            await sleep(30);
            emu.appEdit(c.id, edit);
          },
    );
    try {
      check(await send(c), c);
    } finally {
      emu.onRequest(undefined);
    }
  });

  it.each([
    ["DELETE", 404],
    ["PATCH", 404],
    ["GET", 404],
  ] as const)("a contact deleted in the app by the hook makes a %s answer %i", async (method, status) => {
    const c = emu.seedContact({ defaultFields: { firstName: "Gone" } });
    emu.onRequest((req) => {
      if (req.id === c.id) emu.appDelete(c.id);
    });
    try {
      const r = await call(emu.url, method, `/v1/contacts/${c.id}`, method === "PATCH" ? { body: { defaultFields: { firstName: "x" } } } : {});
      expect(r.status).toBe(status);
    } finally {
      emu.onRequest(undefined);
    }
  });

  it("gives the hook copies: changing the body it sees does not change what is created", async () => {
    emu.onRequest((req) => {
      const body = req.body as { defaultFields?: { firstName?: string } };
      if (body?.defaultFields) body.defaultFields.firstName = "Mutated";
      req.query.set("maxResults", "1");
    });
    try {
      const r = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "copy-body" }) });
      expect(r.json.data.defaultFields.firstName).toBe("Ada");
      const list = await call(emu.url, "GET", "/v1/contacts?maxResults=3");
      expect(list.json.data.length).toBeGreaterThan(1);
    } finally {
      emu.onRequest(undefined);
    }
  });

  it.each<[string, () => void | Promise<void>]>([
    ["throws", () => {
      throw new Error("boom in hook");
    }],
    ["rejects", async () => {
      await sleep(5);
      throw new Error("boom in hook");
    }],
  ])("when it %s, answers 500 naming the error, processes nothing and keeps the error", async (label, hook) => {
    emu.takeHookErrors();
    emu.resetStats();
    emu.onRequest(hook);
    let r: Reply;
    try {
      r = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: `hook-fail-${label}` }) });
    } finally {
      emu.onRequest(undefined);
    }
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ code: "0801500", status: 500, message: expect.stringContaining("boom in hook") });
    expect(await lookUp(emu.url, `hook-fail-${label}`)).toEqual([]);
    expect(emu.stats()).toMatchObject({ requests: 2, byStatus: { "500": 1, "200": 1 }, writesApplied: { create: 0 } });
    const errors = emu.takeHookErrors();
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe("boom in hook");
    expect(emu.takeHookErrors()).toEqual([]);
  });

  it("runs for requests that an injected fault or a held create then answers, never for 401, 429 or unknown routes, and counts nothing more", async () => {
    const limited = await startQuoEmulator({ requestsPerSecond: 1 });
    const routes: string[] = [];
    limited.onRequest((req) => {
      routes.push(`${req.method} ${req.path}`);
    });
    try {
      limited.setFaults({ serverErrorRate: 1, methods: ["GET"] });
      await alignToSecond();
      const statuses = [
        (await call(limited.url, "GET", "/v1/contacts?maxResults=1")).status,
        (await call(limited.url, "GET", "/v1/contacts?maxResults=1")).status,
        (await call(limited.url, "GET", "/v1/contacts?maxResults=1", { auth: "wrong" })).status,
        (await call(limited.url, "GET", "/v1/nowhere")).status,
      ];
      limited.setFaults(undefined);
      await alignToSecond();
      limited.setLateCreates({ count: 1 });
      statuses.push((await call(limited.url, "POST", "/v1/contacts", { body: minimalContact() })).status);
      expect(statuses).toEqual([500, 429, 401, 404, 504]);
      expect(routes).toEqual(["GET /v1/contacts", "POST /v1/contacts"]);
      expect(limited.stats()).toMatchObject({ requests: 5, byStatus: { "500": 1, "429": 1, "401": 1, "404": 1, "504": 1 } });
    } finally {
      await limited.close();
    }
  });

  it("is removed with undefined", async () => {
    let calls = 0;
    emu.onRequest(() => {
      calls += 1;
    });
    await call(emu.url, "GET", "/v1/contacts?maxResults=1");
    emu.onRequest(undefined);
    await call(emu.url, "GET", "/v1/contacts?maxResults=1");
    expect(calls).toBe(1);
  });
});

describe("the write listener", () => {
  let emu: QuoEmulator;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0 });
  });
  afterAll(() => {
    emu.onWrite(undefined);
    return emu.close();
  });

  it("is told of each applied create, update and delete, in order, with the contact and a time; not of a refused write", async () => {
    const seen: AppliedWrite[] = [];
    emu.onWrite((w) => seen.push(w));
    const before = performance.now();
    const created = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "s:1" }, { lastName: "One" }) });
    const id = created.json.data.id as string;
    expect((await call(emu.url, "POST", "/v1/contacts", { body: { defaultFields: {} } })).status).toBe(400);
    await call(emu.url, "PATCH", `/v1/contacts/${id}`, { body: minimalContact({ externalId: "s:1" }, { lastName: "Two" }) });
    expect((await call(emu.url, "PATCH", "/v1/contacts/CTnone", { body: minimalContact() })).status).toBe(404);
    await call(emu.url, "DELETE", `/v1/contacts/${id}`);
    emu.onWrite(undefined);
    await call(emu.url, "POST", "/v1/contacts", { body: minimalContact() });

    expect(seen.map((w) => [w.kind, w.contact.id, w.contact.externalId, w.contact.defaultFields.lastName])).toEqual([
      ["create", id, "s:1", "One"],
      ["update", id, "s:1", "Two"],
      ["delete", id, "s:1", "Two"],
    ]);
    expect(seen[0]!.at).toBeGreaterThanOrEqual(before);
    expect(seen[1]!.at).toBeGreaterThanOrEqual(seen[0]!.at);
    expect(seen[2]!.at).toBeGreaterThanOrEqual(seen[1]!.at);
  });

  it("is told of a held create when it lands, and a listener that throws changes no answer", async () => {
    const seen: AppliedWrite[] = [];
    emu.onWrite((w) => {
      seen.push(w);
      throw new Error("listener failed");
    });
    emu.setLateCreates({ count: 1, kind: "gateway-timeout" });
    expect((await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "late" }) })).status).toBe(504);
    expect(seen).toEqual([]);
    emu.applyLateCreates();
    expect(seen.map((w) => [w.kind, w.contact.externalId])).toEqual([["create", "late"]]);
    expect((await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "after" }) })).status).toBe(201);
    expect(seen).toHaveLength(2);
    emu.onWrite(undefined);
  });
});
