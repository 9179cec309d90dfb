/**
 * The shared retry decisions (src/net/retry.ts, src/net/http-failure.ts) on hand-made axios errors,
 * and the shared axios instance (src/net/http-client.ts) against a scripted local server.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AxiosError, AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from "axios";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createHttpClient, requestRetry, type HttpClientOptions } from "../../src/net/http-client.js";
import { isNetworkFailure, networkCodeOf } from "../../src/net/http-failure.js";
import {
  backoffCeilingMs,
  equalJitterMs,
  fullJitterMs,
  isRateLimited,
  isTransientFailure,
  retryAfterMs,
  retryConditionFor,
  type RetryPolicy,
} from "../../src/net/retry.js";
import { Throttle } from "../../src/net/throttle.js";

const config = { headers: new AxiosHeaders() } as InternalAxiosRequestConfig;

/** An axios error with a response of `status` (and `headers`), or without one when status is null. */
function failure(status: number | null, opts: { code?: string; headers?: Record<string, string> } = {}): AxiosError {
  const response =
    status === null
      ? undefined
      : ({ status, statusText: "", data: {}, headers: opts.headers ?? {}, config } as AxiosResponse);
  return new AxiosError("failed", opts.code, config, {}, response);
}

describe("retry decisions", () => {
  it.each([
    { what: "429", error: failure(429), transient: true, rateLimited: true },
    { what: "500", error: failure(500), transient: true, rateLimited: false },
    { what: "502", error: failure(502), transient: true, rateLimited: false },
    { what: "503", error: failure(503), transient: true, rateLimited: false },
    { what: "599", error: failure(599), transient: true, rateLimited: false },
    { what: "400", error: failure(400), transient: false, rateLimited: false },
    { what: "401", error: failure(401), transient: false, rateLimited: false },
    { what: "403", error: failure(403), transient: false, rateLimited: false },
    { what: "404", error: failure(404), transient: false, rateLimited: false },
    { what: "409", error: failure(409), transient: false, rateLimited: false },
    { what: "302 (redirects are not followed)", error: failure(302), transient: false, rateLimited: false },
    { what: "ECONNRESET", error: failure(null, { code: "ECONNRESET" }), transient: true, rateLimited: false },
    { what: "ECONNREFUSED", error: failure(null, { code: "ECONNREFUSED" }), transient: true, rateLimited: false },
    { what: "ETIMEDOUT", error: failure(null, { code: "ETIMEDOUT" }), transient: true, rateLimited: false },
    { what: "ECONNABORTED (axios timeout)", error: failure(null, { code: "ECONNABORTED" }), transient: true, rateLimited: false },
    { what: "ERR_NETWORK", error: failure(null, { code: "ERR_NETWORK" }), transient: true, rateLimited: false },
    { what: "no code, no response", error: failure(null), transient: true, rateLimited: false },
    { what: "ERR_CANCELED", error: failure(null, { code: "ERR_CANCELED" }), transient: false, rateLimited: false },
    { what: "ERR_INVALID_URL", error: failure(null, { code: "ERR_INVALID_URL" }), transient: false, rateLimited: false },
    { what: "ERR_BAD_OPTION_VALUE", error: failure(null, { code: "ERR_BAD_OPTION_VALUE" }), transient: false, rateLimited: false },
    { what: "ERR_FR_TOO_MANY_REDIRECTS", error: failure(null, { code: "ERR_FR_TOO_MANY_REDIRECTS" }), transient: false, rateLimited: false },
    { what: "ERR_BAD_REQUEST without a response (unsupported protocol, body too large)", error: failure(null, { code: "ERR_BAD_REQUEST" }), transient: false, rateLimited: false },
    { what: "ERR_BAD_RESPONSE without a response (stream aborted mid-body)", error: failure(null, { code: "ERR_BAD_RESPONSE" }), transient: true, rateLimited: false },
  ])("$what: transient $transient, rate-limited $rateLimited", ({ error, transient, rateLimited }) => {
    expect(isTransientFailure(error)).toBe(transient);
    expect(isRateLimited(error)).toBe(rateLimited);
    expect(retryConditionFor("transient")(error)).toBe(transient);
    expect(retryConditionFor("rate-limit-only")(error)).toBe(rateLimited);
  });

  it("a network failure is one without a response for a reason a replay may fix", () => {
    expect(isNetworkFailure(failure(null, { code: "ECONNRESET" }))).toBe(true);
    expect(isNetworkFailure(failure(500))).toBe(false);
    expect(isNetworkFailure(failure(null, { code: "ERR_CANCELED" }))).toBe(false);
  });

  it("names Node's code where axios wrapped it under a generic one", () => {
    const cause = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(networkCodeOf({ code: "ERR_NETWORK", cause })).toBe("ECONNRESET");
    expect(networkCodeOf({ cause })).toBe("ECONNRESET");
    expect(networkCodeOf({ code: "ECONNREFUSED", cause })).toBe("ECONNREFUSED");
    expect(networkCodeOf({})).toBeUndefined();
  });
});

describe("Retry-After", () => {
  const NOW = Date.parse("2025-06-01T12:00:00Z");
  const CAP = 60_000;
  const withHeader = (value: string | undefined) => failure(429, value === undefined ? {} : { headers: { "retry-after": value } });

  it.each([
    { header: "1", ms: 1000 },
    { header: "0.3", ms: 300 },
    { header: " 2 ", ms: 2000 },
    { header: "0", ms: 0 },
    { header: "-5", ms: 0 },
    { header: "3600", ms: CAP },
    { header: "Sun, 01 Jun 2025 12:00:05 GMT", ms: 5000 },
    { header: "Sun, 01 Jun 2025 11:59:00 GMT", ms: 0 },
    { header: "Mon, 02 Jun 2025 12:00:00 GMT", ms: CAP },
    { header: "soon", ms: 0 },
    { header: "", ms: 0 },
    { header: "   ", ms: 0 },
    { header: undefined, ms: 0 },
  ])("$header → $ms ms", ({ header, ms }) => {
    expect(retryAfterMs(withHeader(header), CAP, NOW)).toBe(ms);
  });

  it("is 0 without a response", () => {
    expect(retryAfterMs(failure(null, { code: "ECONNRESET" }), CAP, NOW)).toBe(0);
  });

  it("honours a smaller cap", () => {
    expect(retryAfterMs(withHeader("30"), 10_000, NOW)).toBe(10_000);
  });
});

describe("backoff", () => {
  it("doubles from the base and stops at the cap", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffCeilingMs(n, 300, 5_000))).toEqual([300, 600, 1200, 2400, 4800, 5000]);
    expect(backoffCeilingMs(0, 300, 5_000)).toBe(300);
  });

  it("full jitter spans [0, ceiling); equal jitter [ceiling/2, ceiling)", () => {
    expect(fullJitterMs(1000, () => 0)).toBe(0);
    expect(fullJitterMs(1000, () => 0.5)).toBe(500);
    expect(equalJitterMs(1000, () => 0)).toBe(500);
    expect(equalJitterMs(1000, () => 0.999)).toBeCloseTo(999.5);
  });
});

// ---------------------------------------------------------------------------------------------
// The shared instance against a scripted server.

interface Server {
  url: string;
  hits: { method: string; url: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

type Step = number | "destroy" | "hang";

/**
 * Answers the n-th request with `steps[n]` (the last step repeats): a status, "destroy" to reset
 * the socket, or "hang" never to answer.
 */
async function scripted(steps: Step[], headers: Record<string, string> = {}): Promise<Server> {
  const hits: Server["hits"] = [];
  const server = createServer((req, res: ServerResponse) => {
    hits.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization });
    const step = steps[Math.min(hits.length - 1, steps.length - 1)];
    if (step === "hang") return;
    if (step === "destroy") return void res.socket?.destroy();
    res.writeHead(step as number, { "content-type": "application/json", ...headers }).end(JSON.stringify({ n: hits.length }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  const handle: Server = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, close };
  servers.push(handle);
  return handle;
}

/** The error `promise` rejects with; fails the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<AxiosError> {
  try {
    await promise;
  } catch (error) {
    return error as AxiosError;
  }
  throw new Error("the request did not fail");
}

function instance(server: Server, extra: Partial<HttpClientOptions> = {}) {
  return createHttpClient({
    baseUrl: server.url,
    headers: { Authorization: "k" },
    timeoutMs: 5_000,
    throttle: new Throttle(1000),
    maxRetries: 3,
    retry: "transient",
    retryDelayMs: () => 1,
    ...extra,
  });
}

describe("createHttpClient", () => {
  it.each([
    { policy: "transient", steps: [500, 503, 200], hits: 3, ok: true },
    { policy: "transient", steps: ["destroy", 200], hits: 2, ok: true },
    { policy: "transient", steps: [400, 200], hits: 1, ok: false },
    { policy: "rate-limit-only", steps: [429, 200], hits: 2, ok: true },
    { policy: "rate-limit-only", steps: [500, 200], hits: 1, ok: false },
    { policy: "rate-limit-only", steps: ["destroy", 200], hits: 1, ok: false },
  ] as { policy: RetryPolicy; steps: Step[]; hits: number; ok: boolean }[])("$policy on $steps: $hits request(s)", async ({ policy, steps, hits, ok }) => {
    const server = await scripted(steps);
    const request = instance(server).request({ method: "POST", url: "/x", data: {}, ...requestRetry(policy) });
    if (ok) await request;
    else await expect(request).rejects.toBeInstanceOf(AxiosError);
    expect(server.hits).toHaveLength(hits);
  });

  it("sends the fixed headers and Accept, and gives up after maxRetries", async () => {
    const server = await scripted([503]);
    const error = await rejection(instance(server, { maxRetries: 2 }).get("/x"));
    expect(error.response?.status).toBe(503);
    expect(server.hits).toHaveLength(3);
    expect(server.hits.every((h) => h.authorization === "k")).toBe(true);
  });

  it("never follows a redirect (it could carry the credentials elsewhere)", async () => {
    const target = await scripted([200]);
    const server = await scripted([302], { location: `${target.url}/stolen` });
    const error = await rejection(instance(server).get("/x"));
    expect(error.response?.status).toBe(302);
    expect(target.hits).toHaveLength(0);
    expect(server.hits).toHaveLength(1);
  });

  it("every attempt passes the throttle, and the hooks see each outcome once", async () => {
    const throttle = new Throttle(1000);
    const acquire = vi.spyOn(throttle, "acquireSlot");
    const seen: string[] = [];
    const server = await scripted([500, 429, 200]);
    await instance(server, {
      throttle,
      retryDelayMs: (n) => n * 2,
      hooks: {
        onAttempt: () => seen.push("attempt"),
        onResponse: (res) => seen.push(`ok ${res.status}`),
        onFailure: (e) => seen.push(`fail ${e.response?.status}`),
        onRetry: (n, _e, _c, delay) => seen.push(`retry ${n} after ${delay}`),
      },
    }).get("/x");
    expect(acquire).toHaveBeenCalledTimes(3);
    expect(seen).toEqual(["attempt", "fail 500", "retry 1 after 2", "attempt", "fail 429", "retry 2 after 4", "attempt", "ok 200"]);
  });

  it("a request that never answers fails with ETIMEDOUT after timeoutMs and is retried", async () => {
    const server = await scripted(["hang", 200]);
    const res = await instance(server, { timeoutMs: 150, maxRetries: 1 }).get("/x");
    expect(res.status).toBe(200);
    expect(server.hits).toHaveLength(2);
  });
});
