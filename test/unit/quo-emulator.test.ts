/**
 * The Quo emulator, tested through real HTTP with `fetch`, as quo-sync's client will use it.
 * Each block starts its own emulator so rate limits and stored contacts never leak between blocks.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { startQuoEmulator, type CustomFieldDef, type EmulatedContact, type QuoEmulator } from "../emulators/quo-emulator.js";

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
    const { result } = await inOneWindow(async (key) => {
      const burst = await Promise.all(Array.from({ length: 12 }, () => call(emu.url, "GET", "/v1/contacts?maxResults=1", { auth: key })));
      const other = keys[keys.length - 1] as string;
      const otherReply = await call(emu.url, "GET", "/v1/contacts?maxResults=1", { auth: other });
      return { burst, otherReply };
    });
    expect(result.burst.filter((r) => r.status === 429)).toHaveLength(2);
    expect(result.otherReply.status).toBe(200);
  });

  it("does not count 401s against the limit", async () => {
    const { result } = await inOneWindow(async (key) => {
      const refused = await Promise.all(Array.from({ length: 12 }, () => call(emu.url, "GET", "/v1/contacts?maxResults=1", { auth: `Bearer ${key}` })));
      const allowed = await Promise.all(Array.from({ length: 10 }, () => call(emu.url, "GET", "/v1/contacts?maxResults=1", { auth: key })));
      return { refused, allowed };
    });
    expect(result.refused.every((r) => r.status === 401)).toBe(true);
    expect(result.allowed.map((r) => r.status)).toEqual(Array(10).fill(200));
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

  it("accepts a 75-character externalId, its own source and an external id with commas", async () => {
    const long = await call(emu.url, "POST", "/v1/contacts", { body: minimalContact({ externalId: "é".repeat(75), source: "quo-sync" }) });
    expect(long.status).toBe(201);
    expect(long.json.data).toMatchObject({ externalId: "é".repeat(75), source: "quo-sync" });
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

  it("stores typed values with name, id and type, and PATCH sets or clears them", async () => {
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
      body: { customFields: [{ key: "vip", value: true }, { key: "score", value: null }, { key: "office", value: "1 Main St" }] },
    });
    expect(p.status).toBe(200);
    expect(p.json.data.customFields.map((f: { key: string; value: unknown }) => [f.key, f.value])).toEqual([
      ["vip", true],
      ["met-on", "2024-09-11T04:00:00.000Z"],
      ["tags", ["a", "b"]],
      ["site", "https://example.com"],
      ["office", "1 Main St"],
    ]);
    const bad = await call(emu.url, "PATCH", `/v1/contacts/${c.id}`, { body: { customFields: [{ key: "ghost", value: 1 }] } });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe("0801400");
  });
});

describe("PATCH /v1/contacts/:id", () => {
  let emu: QuoEmulator;
  let contact: EmulatedContact;
  beforeAll(async () => {
    emu = await startQuoEmulator({ requestsPerSecond: 0 });
    const r = await call(emu.url, "POST", "/v1/contacts", {
      body: {
        defaultFields: {
          firstName: "Ann",
          lastName: "Lee",
          company: "Acme",
          phoneNumbers: [
            { name: "mobile", value: "+15555550101" },
            { name: "work", value: "+15555550102" },
          ],
          emails: [{ name: "work", value: "ann@acme.test" }],
        },
        externalId: "old-ext",
      },
    });
    contact = r.json.data;
  });
  afterAll(() => emu.close());

  function item(i: number): { id: string; name: string; value: string | null } {
    const x = contact.defaultFields.phoneNumbers[i];
    if (!x) throw new Error(`no phone ${i}`);
    return x;
  }

  it("changes only the keys present and clears scalars set to null", async () => {
    await sleep(5);
    const r = await call(emu.url, "PATCH", `/v1/contacts/${contact.id}`, { body: { defaultFields: { company: "Acme Corp", lastName: null } } });
    expect(r.status).toBe(200);
    expect(r.json.data.defaultFields).toMatchObject({ firstName: "Ann", lastName: null, company: "Acme Corp", role: null });
    expect(r.json.data.defaultFields.phoneNumbers).toEqual(contact.defaultFields.phoneNumbers);
    expect(r.json.data.defaultFields.emails).toEqual(contact.defaultFields.emails);
    expect(r.json.data.updatedAt > contact.updatedAt).toBe(true);
    expect(r.json.data.createdAt).toBe(contact.createdAt);
  });

  it("updates an item by id, removes one by null value and adds one without id", async () => {
    const mobile = item(0);
    const work = item(1);
    const r = await call(emu.url, "PATCH", `/v1/contacts/${contact.id}`, {
      body: {
        defaultFields: {
          phoneNumbers: [
            { id: mobile.id, name: "cell", value: "+15555550199" },
            { id: work.id, name: "work", value: null },
            { name: "home", value: "+15555550103" },
          ],
        },
      },
    });
    expect(r.status).toBe(200);
    const phones = r.json.data.defaultFields.phoneNumbers;
    expect(phones).toEqual([
      { id: mobile.id, name: "cell", value: "+15555550199" },
      { id: expect.stringMatching(/^PH/), name: "home", value: "+15555550103" },
    ]);
    expect(phones[1].id).not.toBe(work.id);
    expect(r.json.data.defaultFields.emails).toEqual(contact.defaultFields.emails);
    contact = r.json.data;
  });

  it("duplicates an item when a PATCH adding it without id is retried", async () => {
    const body = { defaultFields: { emails: [{ name: "home", value: "ann@home.test" }] } };
    await call(emu.url, "PATCH", `/v1/contacts/${contact.id}`, { body });
    const r = await call(emu.url, "PATCH", `/v1/contacts/${contact.id}`, { body });
    const homes = r.json.data.defaultFields.emails.filter((e: { value: string }) => e.value === "ann@home.test");
    expect(homes).toHaveLength(2);
    expect(new Set(homes.map((e: { id: string }) => e.id)).size).toBe(2);
    contact = r.json.data;
  });

  it.each([
    ["an unknown item id", { defaultFields: { phoneNumbers: [{ id: "PHnope", name: "x", value: "+15555550100" }] } }, "/defaultFields/phoneNumbers/0/id"],
    ["a null value without id", { defaultFields: { emails: [{ name: "x", value: null }] } }, "/defaultFields/emails/0/id"],
    ["a non-E.164 phone", { defaultFields: { phoneNumbers: [{ name: "x", value: "555-0100" }] } }, "/defaultFields/phoneNumbers/0/value"],
    ["a blank firstName", { defaultFields: { firstName: "" } }, "/defaultFields/firstName"],
    ["a reserved source", { source: "csv-import" }, "/source"],
    ["a too-long externalId", { externalId: "y".repeat(76) }, "/externalId"],
  ])("refuses %s with 400 and changes nothing", async (_label, body, path) => {
    const before = emu.contacts().find((c) => c.id === contact.id);
    const r = await call(emu.url, "PATCH", `/v1/contacts/${contact.id}`, { body });
    expect(r.status).toBe(400);
    expect(r.json.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(emu.contacts().find((c) => c.id === contact.id)).toEqual(before);
  });

  it("changes externalId and source and re-indexes the externalIds filter", async () => {
    const r = await call(emu.url, "PATCH", `/v1/contacts/${contact.id}`, { body: { externalId: "new-ext", source: "quo-sync" } });
    expect(r.status).toBe(200);
    expect(r.json.data).toMatchObject({ externalId: "new-ext", source: "quo-sync" });
    const byOld = await call(emu.url, "GET", "/v1/contacts?maxResults=5&externalIds=old-ext");
    const byNew = await call(emu.url, "GET", "/v1/contacts?maxResults=5&externalIds=new-ext");
    expect(byOld.json.data).toEqual([]);
    expect(byNew.json.data.map((c: EmulatedContact) => c.id)).toEqual([contact.id]);
  });

  it("answers 404 for an unknown contact", async () => {
    const r = await call(emu.url, "PATCH", "/v1/contacts/CT000000000000000000000000", { body: { defaultFields: { company: "X" } } });
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ code: "0800404", message: "Contact not found" });
  });

  it("counts applied updates only", () => {
    expect(emu.stats().writesApplied).toEqual({ create: 1, update: 5, delete: 0 });
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
    expect(seeded.source).toBe("openphone");
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
    expect(emu.stats()).toEqual({ requests: 0, byRoute: {}, byStatus: {}, writesApplied: { create: 0, update: 0, delete: 0 }, rateLimited: 0 });
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
