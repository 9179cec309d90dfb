import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { QuoClient, quoClientOptionsFromEnv, serializeQuery, type QuoClientOptions } from "../../src/quo/client.js";
import { parseQuoErrorBody, QuoApiError } from "../../src/quo/errors.js";
import { Throttle, type ThrottleSlot } from "../../src/net/throttle.js";
import { VERSION } from "../../src/version.js";

// ---------------------------------------------------------------------------------------------
// A tiny scripted HTTP server on 127.0.0.1: every request is recorded, and a handler answers it.

interface Seen {
  method: string;
  /** The raw request target, query string included, exactly as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

type Handler = (req: Seen, res: ServerResponse, index: number) => void | Promise<void>;

interface TestServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startServer(handler: Handler): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "/";
      const parsed = new URL(url, "http://x");
      const entry: Seen = {
        method: req.method ?? "",
        url,
        path: parsed.pathname,
        query: parsed.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: performance.now(),
      };
      seen.push(entry);
      void handler(entry, res, seen.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const handle: TestServer = {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(handle);
  return handle;
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers).end();
  } else if (typeof body === "string") {
    res.writeHead(status, { "content-type": "text/html", ...headers }).end(body);
  } else {
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
  }
}

function contact(id: string, externalId: string | null = null): Record<string, unknown> {
  return {
    id,
    externalId,
    source: "quo-sync",
    defaultFields: { firstName: "Ada", lastName: null, company: null, role: null, emails: [], phoneNumbers: [] },
    customFields: [],
  };
}

const KEY = "sk_test_SECRET_d41d8cd98f00b204e980";

function client(server: TestServer, extra: Partial<QuoClientOptions> = {}): QuoClient {
  return new QuoClient({ apiKey: KEY, baseUrl: server.url, retryBaseDelayMs: 1, timeoutMs: 5_000, ...extra });
}

/** A step of a scripted conversation: a status to answer with, or a failure without response. */
type Step = number | "destroy" | "hang";

function scripted(steps: Step[], okBody: (req: Seen) => unknown): Handler {
  return (req, res, index) => {
    const step = steps[Math.min(index, steps.length - 1)] as Step;
    if (step === "destroy") {
      res.socket?.destroy();
    } else if (step === "hang") {
      // Never answer: the client's timeout fires.
    } else if (step >= 200 && step < 300) {
      send(res, step, step === 204 ? undefined : okBody(req));
    } else {
      send(res, step, { message: `scripted ${step}`, code: `08${step}`, status: step, docs: "https://openphone.com/docs", title: "Scripted" });
    }
  };
}

async function failure(promise: Promise<unknown>): Promise<QuoApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(QuoApiError);
    return error as QuoApiError;
  }
  throw new Error("expected a QuoApiError, but the call succeeded");
}

// ---------------------------------------------------------------------------------------------

describe("quoClientOptionsFromEnv", () => {
  it.each([
    { env: { QUO_API_KEY: "k1" }, want: { baseUrl: "https://api.openphone.com", apiKey: "k1" } },
    { env: { MATON_API_KEY: "m1" }, want: { baseUrl: "https://gateway.maton.ai/quo", matonApiKey: "m1" } },
    { env: { QUO_API_KEY: "k1", MATON_API_KEY: "m1" }, want: { baseUrl: "https://api.openphone.com", apiKey: "k1" } },
    { env: { QUO_API_KEY: "", MATON_API_KEY: "m1" }, want: { baseUrl: "https://gateway.maton.ai/quo", matonApiKey: "m1" } },
    { env: { QUO_API_KEY: "k1", QUO_BASE_URL: "https://api.quo.com/" }, want: { baseUrl: "https://api.quo.com", apiKey: "k1" } },
    { env: { MATON_API_KEY: "m1", QUO_BASE_URL: "http://127.0.0.1:9" }, want: { baseUrl: "http://127.0.0.1:9/quo", matonApiKey: "m1" } },
    { env: { MATON_API_KEY: "m1", QUO_BASE_URL: "http://127.0.0.1:9/quo/" }, want: { baseUrl: "http://127.0.0.1:9/quo", matonApiKey: "m1" } },
    { env: { MATON_API_KEY: "m1", QUO_BASE_URL: "https://proxy.example/gw" }, want: { baseUrl: "https://proxy.example/gw/quo", matonApiKey: "m1" } },
  ])("$env → $want", ({ env, want }) => {
    expect(quoClientOptionsFromEnv(env)).toEqual(want);
  });

  it("passes requestsPerSecond through", () => {
    expect(quoClientOptionsFromEnv({ QUO_API_KEY: "k1" }, 4).requestsPerSecond).toBe(4);
  });

  it.each([
    { name: "no key", env: {} },
    { name: "blank keys", env: { QUO_API_KEY: "  ", MATON_API_KEY: "" } },
    { name: "not a URL", env: { QUO_API_KEY: KEY, QUO_BASE_URL: "api.openphone.com" } },
    { name: "ftp URL", env: { QUO_API_KEY: KEY, QUO_BASE_URL: "ftp://api.openphone.com" } },
    { name: "credentials in URL", env: { MATON_API_KEY: KEY, QUO_BASE_URL: `https://u:${KEY}@gateway.maton.ai` } },
    { name: "query in URL", env: { QUO_API_KEY: KEY, QUO_BASE_URL: "https://api.openphone.com/?a=1" } },
  ])("throws ConfigError without quoting secrets: $name", ({ env }) => {
    let thrown: unknown;
    try {
      quoClientOptionsFromEnv(env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(String(thrown)).not.toContain(KEY);
  });

  it("the client itself refuses to start without a key", () => {
    expect(() => new QuoClient({})).toThrow(ConfigError);
    expect(() => new QuoClient({ apiKey: "k", requestsPerSecond: 0 })).toThrow(ConfigError);
  });
});

describe("auth and paths", () => {
  it("VERSION matches package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });

  it("sends a Quo key raw, with the User-Agent, to /v1/...", async () => {
    const server = await startServer((_req, res) => send(res, 200, { data: [{ name: "Tier", key: "tier", type: "string" }] }));
    const quo = new QuoClient(quoClientOptionsFromEnv({ QUO_API_KEY: KEY, QUO_BASE_URL: server.url }));
    expect(quo.authMode).toBe("quo-api-key");
    expect(await quo.listCustomFields()).toEqual([{ name: "Tier", key: "tier", type: "string" }]);
    const [req] = server.seen;
    expect(req?.path).toBe("/v1/contact-custom-fields");
    expect(req?.headers.authorization).toBe(KEY);
    expect(req?.headers["user-agent"]).toBe(`quo-sync/${VERSION}`);
  });

  it("sends a Maton key as Bearer, with the User-Agent, under /quo/v1/...", async () => {
    const server = await startServer((_req, res) => send(res, 200, { data: contact("CT1") }));
    const quo = new QuoClient(quoClientOptionsFromEnv({ MATON_API_KEY: KEY, QUO_BASE_URL: server.url }));
    expect(quo.authMode).toBe("maton");
    expect((await quo.getContact("CT1"))?.id).toBe("CT1");
    const [req] = server.seen;
    expect(req?.path).toBe("/quo/v1/contacts/CT1");
    expect(req?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req?.headers["user-agent"]).toBe(`quo-sync/${VERSION}`);
  });

  it("QUO_API_KEY wins over MATON_API_KEY", async () => {
    const server = await startServer((_req, res) => send(res, 200, { data: [] }));
    const quo = new QuoClient(quoClientOptionsFromEnv({ QUO_API_KEY: "raw", MATON_API_KEY: "maton", QUO_BASE_URL: server.url }));
    await quo.listCustomFields();
    expect(server.seen[0]?.headers.authorization).toBe("raw");
    expect(server.seen[0]?.path).toBe("/v1/contact-custom-fields");
  });
});

describe("contacts", () => {
  it("serialises arrays as repeated keys and encodes + as %2B", async () => {
    expect(serializeQuery({ maxResults: 50, pageToken: undefined, externalIds: ["a", "b"], sources: [] })).toBe(
      "maxResults=50&externalIds=a&externalIds=b",
    );
    const server = await startServer((_req, res) => send(res, 200, { data: [contact("CT1", "a b")], totalItems: 99, nextPageToken: null }));
    const page = await client(server).listContacts({
      maxResults: 50,
      pageToken: "t/1",
      externalIds: ["a b", "+15551234567"],
      sources: ["quo-sync"],
    });
    expect(server.seen[0]?.url).toBe(
      "/v1/contacts?maxResults=50&pageToken=t%2F1&externalIds=a%20b&externalIds=%2B15551234567&sources=quo-sync",
    );
    expect(server.seen[0]?.query.getAll("externalIds")).toEqual(["a b", "+15551234567"]);
    expect(page.nextPageToken).toBeNull();
    expect(page.data.map((c) => c.id)).toEqual(["CT1"]);
  });

  it.each([0, 51, 2.5])("refuses maxResults %s before sending anything", async (maxResults) => {
    const server = await startServer((_req, res) => send(res, 200, { data: [], nextPageToken: null }));
    await expect(client(server).listContacts({ maxResults })).rejects.toThrow(RangeError);
    expect(server.seen).toHaveLength(0);
  });

  /** Holds one contact per external id and pages filtered results `pageCap` at a time. */
  function directory(ids: string[], pageCap: number, stray = false): Handler {
    const all = ids.map((id, i) => contact(`CT${i}`, id));
    return (req, res) => {
      const wanted = new Set(req.query.getAll("externalIds"));
      const matches = all.filter((c) => wanted.has(c.externalId as string));
      // A contact that was not asked for, where it still fits on the page: it must be filtered out.
      if (stray && matches.length < pageCap) matches.unshift(contact("CTX", "not-asked-for"));
      const size = Math.min(Number(req.query.get("maxResults")), pageCap);
      const offset = Number(req.query.get("pageToken") ?? 0);
      const end = offset + size;
      send(res, 200, { data: matches.slice(offset, end), totalItems: 1, nextPageToken: end < matches.length ? String(end) : null });
    };
  }

  const ids120 = Array.from({ length: 120 }, (_, i) => `ext-${i}`);

  it("findByExternalIds asks for 120 ids in 3 chunks of at most 50", async () => {
    const server = await startServer(directory(ids120, 50, true));
    const found = await client(server).findByExternalIds([...ids120, "ext-7", "", "x".repeat(76)]);
    expect(server.seen).toHaveLength(3);
    expect(server.seen.map((r) => r.query.getAll("externalIds").length).sort((a, b) => a - b)).toEqual([20, 50, 50]);
    expect(server.seen.every((r) => r.query.get("maxResults") === "50")).toBe(true);
    expect(server.seen.flatMap((r) => r.query.getAll("externalIds")).sort()).toEqual([...ids120].sort());
    expect(found.map((c) => c.externalId).sort()).toEqual([...ids120].sort());
  });

  it("findByExternalIds follows nextPageToken to the end of every chunk", async () => {
    const server = await startServer(directory(ids120, 20));
    const found = await client(server).findByExternalIds(ids120);
    // 50 → 3 pages, 50 → 3 pages, 20 → 1 page.
    expect(server.seen).toHaveLength(7);
    expect(server.seen.filter((r) => r.query.has("pageToken")).map((r) => r.query.get("pageToken")).sort()).toEqual(["20", "20", "40", "40"]);
    expect(found).toHaveLength(120);
    expect(new Set(found.map((c) => c.id)).size).toBe(120);
  });

  it("findByExternalIds sends nothing for no ids", async () => {
    const server = await startServer(directory([], 50));
    expect(await client(server).findByExternalIds([])).toEqual([]);
    expect(server.seen).toHaveLength(0);
  });

  it("getContact: 404 → null; lists Quo left out stay absent (never read as empty)", async () => {
    const server = await startServer((req, res) => {
      if (req.path.endsWith("/CT404")) return send(res, 404, { message: "Contact not found", code: "0800404", status: 404, docs: "", title: "Not Found" });
      return send(res, 200, { data: { id: "CT1", defaultFields: { firstName: "Ada" } } });
    });
    const quo = client(server);
    expect(await quo.getContact("CT404")).toBeNull();
    const got = await quo.getContact("CT1");
    expect(got?.defaultFields).toEqual({ firstName: "Ada", lastName: null, company: null, role: null });
    expect(got && "customFields" in got).toBe(false);
    expect(server.seen).toHaveLength(2);
  });

  it("deleteContact: 204 → deleted, 404 → not-found", async () => {
    const server = await startServer((req, res) => (req.path.endsWith("/GONE") ? send(res, 404, { error: { message: "nope", key: "not_found", trace: "t1" } }) : send(res, 204)));
    const quo = client(server);
    expect(await quo.deleteContact("CT1")).toBe("deleted");
    expect(await quo.deleteContact("GONE")).toBe("not-found");
    expect(server.seen.map((r) => `${r.method} ${r.path}`)).toEqual(["DELETE /v1/contacts/CT1", "DELETE /v1/contacts/GONE"]);
  });

  it("createContact posts JSON and returns the contact; updateContact 404 throws status 404", async () => {
    const server = await startServer((req, res) => {
      if (req.method === "POST") return send(res, 201, { data: { ...contact("CTNEW", "e1"), ...(JSON.parse(req.body) as object) } });
      return send(res, 404, { message: "Contact not found", code: "0800404", status: 404, docs: "", title: "Not Found" });
    });
    const quo = client(server);
    const created = await quo.createContact({ defaultFields: { firstName: "Ada" }, externalId: "e1", source: "quo-sync" });
    expect(created.id).toBe("CTNEW");
    expect(JSON.parse(server.seen[0]?.body ?? "")).toEqual({ defaultFields: { firstName: "Ada" }, externalId: "e1", source: "quo-sync" });
    expect(server.seen[0]?.headers["content-type"]).toMatch(/^application\/json/);
    const err = await failure(quo.updateContact("CTMISSING", { defaultFields: { role: "CTO" } }));
    expect(err.status).toBe(404);
    expect(err.transient).toBe(false);
    expect(server.seen).toHaveLength(2);
  });

  it("an unexpected 2xx body is an error, not a crash", async () => {
    const server = await startServer((_req, res) => send(res, 200, "<html>maintenance</html>"));
    const err = await failure(client(server).getContact("CT1"));
    expect(err.status).toBe(200);
    expect(err.message).toContain("unexpected response");
  });
});

describe("retries", () => {
  type Call = (quo: QuoClient) => Promise<unknown>;
  const get: Call = (quo) => quo.getContact("CT1");
  const post: Call = (quo) => quo.createContact({ defaultFields: { firstName: "Ada" } });
  const patch: Call = (quo) => quo.updateContact("CT1", { defaultFields: { role: "CTO" } });
  const patchAdding: Call = (quo) =>
    quo.updateContact("CT1", { defaultFields: { emails: [{ name: "work", value: "a@b.co" }] } }, { idempotent: false });
  const del: Call = (quo) => quo.deleteContact("CT1");

  it.each([
    { name: "POST 429 then 201 is retried", call: post, steps: [429, 201], requests: 2, status: "ok" },
    { name: "POST 500 is not retried", call: post, steps: [500, 201], requests: 1, status: 500 },
    { name: "POST network error is not retried", call: post, steps: ["destroy", 201], requests: 1, status: null },
    { name: "GET 500, 503 then 200 is retried", call: get, steps: [500, 503, 200], requests: 3, status: "ok" },
    { name: "GET network error then 200 is retried", call: get, steps: ["destroy", 200], requests: 2, status: "ok" },
    { name: "PATCH (idempotent) network error then 200 is retried", call: patch, steps: ["destroy", 200], requests: 2, status: "ok" },
    { name: "PATCH (idempotent) 502 then 200 is retried", call: patch, steps: [502, 200], requests: 2, status: "ok" },
    { name: "PATCH (adding items) network error is not retried", call: patchAdding, steps: ["destroy", 200], requests: 1, status: null },
    { name: "PATCH (adding items) 502 is not retried", call: patchAdding, steps: [502, 200], requests: 1, status: 502 },
    { name: "PATCH (adding items) 429 is retried", call: patchAdding, steps: [429, 200], requests: 2, status: "ok" },
    { name: "DELETE 500 then 204 is retried", call: del, steps: [500, 204], requests: 2, status: "ok" },
    { name: "GET 400 is not retried", call: get, steps: [400, 200], requests: 1, status: 400 },
    { name: "POST 400 is not retried", call: post, steps: [400, 201], requests: 1, status: 400 },
    { name: "PATCH 400 is not retried", call: patch, steps: [400, 200], requests: 1, status: 400 },
    { name: "DELETE 400 is not retried", call: del, steps: [400, 204], requests: 1, status: 400 },
    { name: "POST 409 is not retried", call: post, steps: [409, 201], requests: 1, status: 409 },
    { name: "GET 401 is not retried", call: get, steps: [401, 200], requests: 1, status: 401 },
  ] as { name: string; call: Call; steps: Step[]; requests: number; status: "ok" | number | null }[])(
    "$name",
    async ({ call, steps, requests, status }) => {
      const server = await startServer(scripted(steps, () => ({ data: contact("CT1") })));
      const quo = client(server, { rateLimitPenaltyMs: 10 });
      if (status === "ok") {
        await call(quo);
      } else {
        const err = await failure(call(quo));
        expect(err.status).toBe(status);
        expect(err.transient).toBe(status === null || status === 429 || status >= 500);
      }
      expect(server.seen).toHaveLength(requests);
      expect(quo.stats.requests).toBe(requests);
      expect(quo.stats.retries).toBe(requests - 1);
    },
  );

  it("counts what it saw", async () => {
    const server = await startServer(scripted([429, 500, "destroy", 200], () => ({ data: contact("CT1") })));
    const quo = client(server, { rateLimitPenaltyMs: 10 });
    await quo.getContact("CT1");
    expect(quo.stats).toEqual({ requests: 4, retries: 3, rateLimited: 1, serverErrors: 1, networkErrors: 1 });
  });

  it("gives up after maxRetries and says how many attempts it made", async () => {
    const server = await startServer(scripted([429], () => ({})));
    const err = await failure(client(server, { maxRetries: 2, rateLimitPenaltyMs: 10 }).getContact("CT1"));
    expect(server.seen).toHaveLength(3);
    expect(err.status).toBe(429);
    expect(err.transient).toBe(true);
    expect(err.attempts).toBe(3);
    expect(err.message).toContain("after 3 attempts");
  });

  it("retries a timed-out GET but not a timed-out POST", async () => {
    const server = await startServer(scripted(["hang", 200], () => ({ data: contact("CT1") })));
    const quo = client(server, { timeoutMs: 200 });
    expect((await quo.getContact("CT1"))?.id).toBe("CT1");
    expect(server.seen).toHaveLength(2);

    const server2 = await startServer(scripted(["hang", 201], () => ({ data: contact("CT1") })));
    const err = await failure(client(server2, { timeoutMs: 200 }).createContact({ defaultFields: { firstName: "Ada" } }));
    expect(server2.seen).toHaveLength(1);
    expect(err.status).toBeNull();
    expect(err.transient).toBe(true);
    expect(err.message).toContain("no response within 200 ms");
  });

  it("honours a Retry-After header although Quo documents none", async () => {
    const server = await startServer((_req, res, index) =>
      index === 0 ? send(res, 429, { message: "API rate limit exceeded" }, { "retry-after": "1" }) : send(res, 200, { data: contact("CT1") }),
    );
    await client(server).getContact("CT1");
    const [first, second] = server.seen;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("every attempt, retries included, passes the throttle", async () => {
    class CountingThrottle extends Throttle {
      acquired = 0;
      override acquireSlot(): Promise<ThrottleSlot> {
        this.acquired += 1;
        return super.acquireSlot();
      }
    }
    const throttle = new CountingThrottle(10);
    const server = await startServer(scripted([500, 429, 200], () => ({ data: contact("CT1") })));
    await client(server, { throttle, rateLimitPenaltyMs: 10 }).getContact("CT1");
    expect(server.seen).toHaveLength(3);
    expect(throttle.acquired).toBe(3);
  });

  it("a 429 pauses and slows the throttle for every caller", async () => {
    const throttle = new Throttle(10);
    const server = await startServer(scripted([429, 200], () => ({ data: contact("CT1") })));
    const quo = client(server, { throttle, rateLimitPenaltyMs: 400, retryBaseDelayMs: 0 });
    await quo.getContact("CT1");
    const [first, second] = server.seen;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(380);
    expect(throttle.limit).toBeLessThan(10);
  });
});

describe("rate limit with concurrent callers", () => {
  it("keeps 10 starts per second while several requests are in flight", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const server = await startServer((_req, res) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        send(res, 200, { data: contact("CT1") });
      }, 150);
    });
    const quo = client(server);
    const began = performance.now();
    await Promise.all(Array.from({ length: 25 }, (_, i) => quo.getContact(`CT${i}`)));
    const elapsed = performance.now() - began;
    const arrivals = server.seen.map((r) => r.at).sort((a, b) => a - b);
    for (let i = 10; i < arrivals.length; i++) {
      expect((arrivals[i] as number) - (arrivals[i - 10] as number)).toBeGreaterThanOrEqual(1000);
    }
    expect(maxInFlight).toBeGreaterThan(1);
    expect(elapsed).toBeGreaterThanOrEqual(1950);
    expect(elapsed).toBeLessThan(3200);
  });
});

describe("error bodies", () => {
  it.each([
    {
      name: "documented shape",
      body: {
        message: "Request contained invalid custom field item(s)",
        code: "0801400",
        status: 400,
        docs: "https://openphone.com/docs",
        title: "Invalid Custom Field Item",
        trace: "abc123",
        errors: [{ key: "tier", reason: "Did not match any known contact custom field" }],
      },
      want: {
        message: "Request contained invalid custom field item(s)",
        code: "0801400",
        title: "Invalid Custom Field Item",
        trace: "abc123",
        errors: [{ key: "tier", reason: "Did not match any known contact custom field" }],
      },
    },
    {
      name: "live {error} shape",
      body: { error: { message: "Contact not found", key: "contact_not_found", trace: "tr-9" } },
      want: { message: "Contact not found", code: "contact_not_found", trace: "tr-9" },
    },
    { name: "JSON text", body: '{"message":"API rate limit exceeded"}', want: { message: "API rate limit exceeded" } },
    {
      name: "HTML page",
      body: "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>oops</h1></body></html>",
      want: { message: "502 Bad Gateway" },
    },
    { name: "plain text", body: "  upstream\n connect error ", want: { message: "upstream connect error" } },
    { name: "empty string", body: "", want: { message: "" } },
    { name: "null", body: null, want: { message: "" } },
    { name: "numeric code", body: { message: "m", code: 400 }, want: { message: "m", code: "400" } },
    { name: "unknown object", body: { foo: "bar" }, want: { message: '{"foo":"bar"}' } },
  ])("parseQuoErrorBody: $name", ({ body, want }) => {
    expect(parseQuoErrorBody(body)).toEqual(want);
  });

  it("a 400 from PATCH reads as documented, trace kept", async () => {
    const server = await startServer((_req, res) =>
      send(res, 400, {
        message: "Request contained invalid custom field item(s)",
        code: "0801400",
        status: 400,
        docs: "https://openphone.com/docs",
        title: "Invalid Custom Field Item",
        trace: "abc123",
        errors: [{ key: "tier", reason: "Did not match any known contact custom field" }],
      }),
    );
    const err = await failure(client(server).updateContact("CT1", { customFields: [{ key: "tier", value: "gold" }] }));
    expect(err.message).toBe(
      "PATCH /v1/contacts/CT1 → 400 Invalid Custom Field Item: Request contained invalid custom field item(s) (trace abc123)",
    );
    expect(err).toMatchObject({
      name: "QuoApiError",
      status: 400,
      code: "0801400",
      title: "Invalid Custom Field Item",
      trace: "abc123",
      method: "PATCH",
      path: "/v1/contacts/CT1",
      transient: false,
    });
    expect(err.errors).toHaveLength(1);
  });

  it("the {error: {message, key, trace}} shape keeps its trace", async () => {
    const server = await startServer((_req, res) => send(res, 403, { error: { message: "Not allowed", key: "forbidden", trace: "tr-9" } }));
    const err = await failure(client(server).listCustomFields());
    expect(err.message).toBe("GET /v1/contact-custom-fields → 403 Not allowed (trace tr-9)");
    expect(err.code).toBe("forbidden");
    expect(err.trace).toBe("tr-9");
  });

  it("an HTML 502 and an empty 500 still read well", async () => {
    const server = await startServer((req, res) =>
      req.method === "POST"
        ? send(res, 502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>")
        : send(res, 500, ""),
    );
    const quo = client(server, { maxRetries: 0 });
    expect((await failure(quo.createContact({ defaultFields: { firstName: "A" } }))).message).toBe("POST /v1/contacts → 502 502 Bad Gateway");
    expect((await failure(quo.listCustomFields())).message).toBe("GET /v1/contact-custom-fields → 500 Internal Server Error");
  });
});

describe("secrets", () => {
  const scenarios: { name: string; handler: Handler; call: (quo: QuoClient) => Promise<unknown>; timeoutMs?: number }[] = [
    {
      name: "401 whose body echoes the Authorization header",
      handler: (req, res) =>
        send(res, 401, {
          message: `bad credentials: ${req.headers.authorization ?? ""}`,
          code: "0800401",
          title: "Unauthorized",
          trace: `t-${req.headers.authorization ?? ""}`,
          errors: [{ key: "authorization", reason: String(req.headers.authorization) }],
        }),
      call: (quo) => quo.getContact("CT1"),
    },
    { name: "500 on POST", handler: (_req, res) => send(res, 500, { message: "boom" }), call: (quo) => quo.createContact({ defaultFields: { firstName: "A" } }) },
    { name: "reset connection", handler: (_req, res) => void res.socket?.destroy(), call: (quo) => quo.updateContact("CT1", {}, { idempotent: false }) },
    { name: "timeout", handler: () => {}, call: (quo) => quo.createContact({ defaultFields: { firstName: "A" } }), timeoutMs: 150 },
    { name: "400 after retries", handler: (_req, res) => send(res, 400, { message: "bad" }), call: (quo) => quo.deleteContact("CT1") },
  ];

  for (const mode of ["apiKey", "matonApiKey"] as const) {
    it.each(scenarios)(`${mode}: $name — the key appears nowhere in the error or the logs`, async ({ handler, call, timeoutMs }) => {
      const server = await startServer(handler);
      const logs: unknown[] = [];
      const logger = { debug: (o: object, m?: string) => void logs.push([o, m]), warn: (o: object, m?: string) => void logs.push([o, m]) };
      const quo = new QuoClient({ [mode]: KEY, baseUrl: server.url, retryBaseDelayMs: 1, timeoutMs: timeoutMs ?? 5_000, logger });
      const err = await failure(call(quo));
      const views = [String(err), err.stack ?? "", JSON.stringify(err), inspect(err, { depth: 10 }), inspect(err, { depth: 10, showHidden: true }), JSON.stringify(logs)];
      for (const view of views) expect(view).not.toContain(KEY);
      expect(err).not.toHaveProperty("config");
      expect(err).not.toHaveProperty("request");
      expect(err).not.toHaveProperty("response");
      // The cause is kept for debugging, scrubbed: no request, config or response, no key (checked above in every view).
      if (err.cause !== undefined) {
        expect(err.cause).not.toHaveProperty("config");
        expect(err.cause).not.toHaveProperty("request");
        expect(err.cause).not.toHaveProperty("response");
      }
      expect(server.seen.length).toBeGreaterThan(0);
    });
  }
});
