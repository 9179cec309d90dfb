/**
 * The daemon's HTTP endpoint under hostile clients: raw `net.Socket`s on 127.0.0.1 send what no
 * browser or scraper would (malformed targets, bad header bytes, oversized headers, bodies, slow or
 * silent connections, floods), and after each the server must still answer `GET /healthz` with the
 * right JSON. Timeouts and the connection cap are passed small so the limits are seen in
 * milliseconds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import {
  ERROR_KINDS,
  HEADERS_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  MAX_CONNECTIONS,
  MAX_HEADER_BYTES,
  REQUEST_TIMEOUT_MS,
  publicHealth,
  startHealthServer,
  type HealthDetail,
  type HealthServer,
  type HealthServerOptions,
  type HealthSource,
} from "../../src/daemon/health-server.js";
import { DaemonMetrics } from "../../src/daemon/metrics.js";
import { Scheduler } from "../../src/daemon/scheduler.js";
import { ConfigError, SourceError, StateError } from "../../src/errors.js";
import { createLogger } from "../../src/log.js";
import type { QuoClientStats } from "../../src/quo/client.js";
import { QuoClients } from "../../src/quo/clients.js";
import { QuoApiError } from "../../src/quo/errors.js";
import type { SyncReport } from "../../src/report/report.js";

const stats: QuoClientStats = { requests: 0, retries: 0, rateLimited: 0, serverErrors: 0, networkErrors: 0 };

/** Details that must never leave the process: a path, an e-mail, a host and pid, a Quo id. */
const SECRET_BITS = ["/srv/exports/crm.csv", "ops@example.com", "db-7.internal", "4242", "CT123abc"];

/** What the daemon knows: a failing sync whose reason names everything `/healthz` must not. */
function detail(): HealthDetail {
  return {
    status: "ok",
    syncs: [
      { name: "leads", schedule: "0 * * * *", lastOutcome: "ok", lastRunAt: "2025-03-04T10:00:03.120Z", lastSuccessAt: "2025-03-04T10:00:03.120Z", running: false, nextRunAt: "2025-03-04T11:00:00.000Z" },
      {
        name: "crm",
        schedule: "*/15 * * * *",
        lastOutcome: "failed",
        lastRunAt: "2025-03-04T10:15:00.410Z",
        lastSuccessAt: null,
        running: false,
        lastError: "source error: cannot read /srv/exports/crm.csv for ops@example.com (lock held by pid 4242 on db-7.internal, contact CT123abc)",
        lastErrorKind: "source",
        nextRunAt: "2025-03-04T10:30:00.000Z",
      },
    ],
  };
}

/** The `/healthz` body for `detail()`: the kind, never the reason. */
const EXPECTED = {
  status: "ok",
  syncs: [
    { name: "leads", schedule: "0 * * * *", lastOutcome: "ok", lastRunAt: "2025-03-04T10:00:03.120Z", lastSuccessAt: "2025-03-04T10:00:03.120Z", running: false, nextRunAt: "2025-03-04T11:00:00.000Z" },
    { name: "crm", schedule: "*/15 * * * *", lastOutcome: "failed", lastRunAt: "2025-03-04T10:15:00.410Z", lastSuccessAt: null, running: false, lastErrorKind: "source", nextRunAt: "2025-03-04T10:30:00.000Z" },
  ],
};

interface Harness {
  server: HealthServer;
  port: number;
  /** What `onError` was told, in order. */
  errors: { e: unknown; where: string }[];
  /** Makes `health()` throw (with a message naming a path) while true. */
  failHealth: boolean;
  failMetrics: boolean;
}

let current: Harness | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await current?.server.close();
  current = undefined;
});

async function start(options: HealthServerOptions = {}): Promise<Harness> {
  const metrics = new DaemonMetrics(["leads", "crm"], () => ({ default: stats }));
  const h: Harness = { server: undefined as unknown as HealthServer, port: 0, errors: [], failHealth: false, failMetrics: false };
  const source: HealthSource = {
    health: () => {
      if (h.failHealth) throw new Error("cannot stat /srv/exports/crm.csv");
      return detail();
    },
    metrics: async () => {
      if (h.failMetrics) throw new Error("registry broke reading /srv/exports/crm.csv");
      return metrics.render();
    },
    metricsContentType: metrics.contentType,
  };
  h.server = await startHealthServer({ host: "127.0.0.1", port: 0 }, source, { ...options, onError: (e, where) => h.errors.push({ e, where }) });
  h.port = h.server.address.port;
  current = h;
  return h;
}

/** A raw connection to the server, closed after the test whatever happens. */
function open(port: number): Socket {
  const s = connect(port, "127.0.0.1");
  // The server resets some connections on purpose; a reset is an outcome here, not a failure.
  s.on("error", () => undefined);
  // Flowing, so the server's close is seen even by a test that does not read what was sent.
  s.resume();
  sockets.push(s);
  return s;
}

interface Exchange {
  /** Everything the server sent, as latin1 so bytes map to characters one to one. */
  text: string;
  /** True when the server closed the connection (rather than `ms` running out). */
  closed: boolean;
  /** Milliseconds from the first write to the close (or to giving up). */
  ms: number;
}

/** Sends `data` (in pieces, when given several) and collects what comes back until the server closes or `ms` pass. */
function exchange(port: number, data: string | readonly string[], ms = 5_000): Promise<Exchange> {
  const pieces = typeof data === "string" ? [data] : data;
  return new Promise((resolve) => {
    const s = open(port);
    const started = Date.now();
    let text = "";
    const timer = setTimeout(() => resolve({ text, closed: false, ms: Date.now() - started }), ms);
    s.on("connect", () => {
      for (const p of pieces) s.write(Buffer.from(p, "latin1"));
    });
    s.on("data", (d: Buffer) => (text += d.toString("latin1")));
    s.on("close", () => {
      clearTimeout(timer);
      resolve({ text, closed: true, ms: Date.now() - started });
    });
  });
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits one HTTP/1.1 answer (the first, if several are there). */
function parse(text: string): Answer {
  const end = text.indexOf("\r\n\r\n");
  expect(end, `no complete answer in ${JSON.stringify(text)}`).toBeGreaterThan(0);
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  const length = headers["content-length"] === undefined ? undefined : Number(headers["content-length"]);
  const rest = text.slice(end + 4);
  return { status: Number(statusLine!.split(" ")[1]), headers, body: length === undefined ? rest : rest.slice(0, length) };
}

/** One request with `connection: close`, so the exchange ends when the answer does. */
async function request(port: number, method: string, target: string, extra = ""): Promise<Answer> {
  const r = await exchange(port, `${method} ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n${extra}\r\n`);
  expect(r.closed).toBe(true);
  return parse(r.text);
}

/** The check after every hostile exchange: the server is up and tells the right state. */
async function expectHealthy(port: number): Promise<void> {
  const a = await request(port, "GET", "/healthz");
  expect(a.status).toBe(200);
  expect(a.headers["content-type"]).toBe("application/json");
  expect(JSON.parse(a.body)).toEqual(EXPECTED);
}

describe("health server: what /healthz tells", () => {
  it("publishes the state and an error kind, never the error's text, a path, an e-mail, a host or an id", async () => {
    const { port } = await start();
    const a = await request(port, "GET", "/healthz");
    expect(a.status).toBe(200);
    expect(a.headers["cache-control"]).toBe("no-store");
    expect(JSON.parse(a.body)).toEqual(EXPECTED);
    for (const bit of SECRET_BITS) expect(a.body).not.toContain(bit);
    expect(a.body).not.toContain("lastError\"");
  });

  it("copies only the published fields, and publishes a kind outside the closed set as unexpected", () => {
    const d = detail();
    const crm = d.syncs[1]!;
    Object.assign(crm, { lastErrorKind: "ops@example.com", holder: { host: "db-7.internal", pid: 4242 } });
    const body = publicHealth(d);
    expect(body.syncs[1]).toEqual({ ...EXPECTED.syncs[1], lastErrorKind: "unexpected" });
    const text = JSON.stringify(body);
    for (const bit of SECRET_BITS) expect(text).not.toContain(bit);
    expect(ERROR_KINDS).toContain("unexpected");
  });

  it("answers HEAD with GET's headers and no body, and serves /metrics", async () => {
    const { port } = await start();
    const head = await exchange(port, "HEAD /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
    const a = parse(head.text);
    expect(a.status).toBe(200);
    expect(Number(a.headers["content-length"])).toBe(JSON.stringify(EXPECTED).length + 1);
    expect(head.text.endsWith("\r\n\r\n")).toBe(true);
    const m = await request(port, "GET", "/metrics");
    expect(m.status).toBe(200);
    expect(m.body).toContain('quo_sync_runs_total{sync="crm",outcome="failed"} 0');
  });

  it("uses limits that fit together", () => {
    expect(REQUEST_TIMEOUT_MS).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS);
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeLessThan(HEADERS_TIMEOUT_MS);
    expect(MAX_CONNECTIONS).toBeGreaterThan(1);
    expect(MAX_HEADER_BYTES).toBeLessThan(16 * 1024);
  });

  it("rejects a request timeout shorter than the headers timeout", async () => {
    await expect(startHealthServer({ host: "127.0.0.1", port: 0 }, { health: detail, metrics: async () => "", metricsContentType: "text/plain" }, { headersTimeoutMs: 2_000, requestTimeoutMs: 1_000 })).rejects.toThrow(
      /headersTimeout/,
    );
  });
});

describe("health server: a scheduler's failures reach /healthz as a kind only", () => {
  const refused: SyncReport = {
    sync: "leads",
    dryRun: false,
    outcome: "refused",
    counts: { create: 0, update: 0, delete: 9, link: 0, unlink: 0, unchanged: 1, rejected: 0, failed: 0, skipped: 0, filtered: 0 },
    changes: [],
    rejected: [],
    filtered: [],
    skipped: [],
    guards: [{ guard: "max-delete-percent", refused: true, message: "would delete 9 of 10 contacts synced from /srv/exports/crm.csv" }],
  };
  it.each([
    ["source", new SourceError("cannot read /srv/exports/crm.csv: ENOENT")],
    ["quo-auth", new QuoApiError({ method: "GET", path: "/v1/contacts", status: 401, quoMessage: "Unauthorized for ops@example.com" })],
    ["quo-api", new QuoApiError({ method: "PATCH", path: "/v1/contacts/CT123abc", status: 400, quoMessage: "Invalid Custom Field Item", trace: "abc123" })],
    ["temporary", new SourceError("GET https://crm.internal/contacts: ECONNRESET after 5 attempts", { transient: true })],
    ["config", new ConfigError("cannot read /etc/quo-sync/quo-sync.config.json")],
    ["state", new StateError("cannot open /var/lib/quo-sync/quo-sync.db: read-only file system")],
    ["unexpected", new Error("boom at /srv/exports/crm.csv for ops@example.com")],
    ["refused", refused],
  ] as const)("%s", async (kind, outcome) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-health-"));
    const sync = { index: 0, name: "leads", schedule: "0 0 1 1 *" };
    const config = parseConfig({ state: path.join(dir, "state.db"), syncs: [{ name: "leads", source: { type: "csv", path: "c.csv" }, key: "id", fields: { firstName: "First" }, schedule: sync.schedule }] });
    const clients = new QuoClients({ config, env: { QUO_API_KEY: "unit-test-key", QUO_BASE_URL: "http://127.0.0.1:9" } });
    const metrics = new DaemonMetrics(["leads"], () => clients.stats(["default"]));
    const scheduler = new Scheduler({
      loaded: { config, file: path.join(dir, "config.json"), baseDir: dir },
      env: {},
      logger: createLogger({ LOG_LEVEL: "silent" }, { pretty: false }),
      clients,
      metrics,
      syncs: [sync],
      describe: (e) => (e instanceof Error ? e.message : String(e)),
      run: async () => {
        if (outcome instanceof Error) throw outcome;
        return outcome;
      },
    });
    try {
      await scheduler.tick(sync);
      // The daemon keeps the reason for its logs and `status`...
      expect(scheduler.health().syncs[0]!.lastError).toBeTruthy();
      const server = await startHealthServer({ host: "127.0.0.1", port: 0 }, { health: () => scheduler.health(), metrics: () => metrics.render(), metricsContentType: metrics.contentType });
      try {
        const a = await request(server.address.port, "GET", "/healthz");
        expect(a.status).toBe(200);
        // ...and `/healthz` tells only what kind of failure it was.
        expect(JSON.parse(a.body).syncs[0]).toMatchObject({ name: "leads", lastOutcome: outcome instanceof Error ? "failed" : "refused", lastErrorKind: kind });
        expect(a.body).not.toContain("lastError\"");
        for (const bit of [...SECRET_BITS, "/v1/", "abc123", "/etc/", "/var/lib", dir]) expect(a.body).not.toContain(bit);
      } finally {
        await server.close();
      }
    } finally {
      await scheduler.stop(1_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("health server: hostile requests get a 4xx and the server carries on", () => {
  it.each([
    // A valid path (two segments, the first empty) that `new URL` rejects as a scheme-relative URL.
    ["GET //a:b HTTP/1.1", 404],
    ["GET http://[::1 HTTP/1.1", 400],
    ["GET http://[::1]:9464/healthz HTTP/1.1", 200],
    ["GET http://127.0.0.1/nope HTTP/1.1", 404],
    ["GET ftp://127.0.0.1/healthz HTTP/1.1", 400],
    ["GET * HTTP/1.1", 400],
    ["OPTIONS * HTTP/1.1", 400],
    ["GET healthz HTTP/1.1", 400],
    ["GET /healthz?x=%zz&y=//a:b HTTP/1.1", 200],
    ["GET /%zz HTTP/1.1", 404],
    ["GET /healthz/../metrics HTTP/1.1", 404],
    ["GET /healthz HTTP/1.0", 200],
    ["GET /healthz HTTP/2.0", 200],
  ])("%s -> %i", async (line, status) => {
    const { port } = await start();
    const r = await exchange(port, `${line}\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`);
    expect(r.closed).toBe(true);
    const a = parse(r.text);
    expect(a.status).toBe(status);
    if (status === 200) expect(JSON.parse(a.body)).toEqual(EXPECTED);
    await expectHealthy(port);
  });

  it.each([
    ["a control byte in a header name", "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nbad\x01name: v\r\n\r\n", 400],
    ["a NUL in a header value", "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx: a\x00b\r\n\r\n", 400],
    ["a DEL in the target", "GET /heal\x7fthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n", 400],
    ["a bare LF inside a header line", "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx: a\nb\r\n\r\n", 400],
    ["both content-length and chunked", "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n", 400],
    ["a method the parser does not know", "FROB /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n", 400],
    ["an HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400],
    ["a TLS handshake", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400],
    ["a header section over 16 KB", `GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: ${"a".repeat(20 * 1024)}\r\n\r\n`, 431],
    ["a header section over the 8 KiB limit", `GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: ${"a".repeat(MAX_HEADER_BYTES)}\r\n\r\n`, 431],
    ["many headers, each small", `GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n${Array.from({ length: 1_000 }, (_, i) => `x-filler-${i}: 0123456789\r\n`).join("")}\r\n`, 431],
  ])("%s", async (_what, raw, status) => {
    const { port } = await start();
    const r = await exchange(port, raw);
    expect(r.closed).toBe(true);
    expect(parse(r.text)).toMatchObject({ status, headers: { connection: "close" } });
    await expectHealthy(port);
  });

  it.each(["DELETE", "PUT", "PATCH", "OPTIONS", "PROPFIND", "TRACE"])("%s /healthz -> 405 with Allow", async (method) => {
    const { port } = await start();
    const a = await request(port, method, "/healthz");
    expect(a.status).toBe(405);
    expect(a.headers.allow).toBe("GET, HEAD");
    await expectHealthy(port);
  });

  it("CONNECT -> 405 with Allow, then the connection closes", async () => {
    const { port } = await start();
    const r = await exchange(port, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nhost: 127.0.0.1:22\r\n\r\n");
    expect(r.closed).toBe(true);
    expect(parse(r.text)).toMatchObject({ status: 405, headers: { allow: "GET, HEAD" } });
    await expectHealthy(port);
  });

  it("an Upgrade request is answered as a plain GET", async () => {
    const { port } = await start();
    const a = await request(port, "GET", "/healthz", "upgrade: websocket\r\n");
    expect(a.status).toBe(200);
    await expectHealthy(port);
  });

  it("a request without a host header -> 400", async () => {
    const { port } = await start();
    const r = await exchange(port, "GET /healthz HTTP/1.1\r\nconnection: close\r\n\r\n");
    expect(parse(r.text).status).toBe(400);
    await expectHealthy(port);
  });

  it("unknown paths -> 404 whatever the method", async () => {
    const { port } = await start();
    expect((await request(port, "GET", "/")).status).toBe(404);
    expect(parse((await exchange(port, "POST /admin HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\n\r\n{}")).text).status).toBe(404);
    await expectHealthy(port);
  });

  it("pipelined requests, one of them malformed, are each answered in order", async () => {
    const { port } = await start();
    const r = await exchange(port, "GET //a:b HTTP/1.1\r\nhost: x\r\n\r\nGET http://[::1 HTTP/1.1\r\nhost: x\r\n\r\nGET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    expect(r.closed).toBe(true);
    expect([...r.text.matchAll(/^HTTP\/1\.1 (\d+)/gm)].map((m) => Number(m[1]))).toEqual([404, 400, 200]);
    await expectHealthy(port);
  });
});

describe("health server: bodies are discarded, never waited for", () => {
  it("POST with a body to /healthz -> 405, and the connection closes", async () => {
    const { port } = await start();
    const r = await exchange(port, 'POST /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 17\r\n\r\n{"status":"down"}');
    expect(r.closed).toBe(true);
    expect(parse(r.text)).toMatchObject({ status: 405, headers: { allow: "GET, HEAD", connection: "close" } });
    await expectHealthy(port);
  });

  it("GET /healthz with a body still gets its answer", async () => {
    const { port } = await start();
    const r = await exchange(port, "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 11\r\n\r\nhello world");
    expect(r.closed).toBe(true);
    const a = parse(r.text);
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toEqual(EXPECTED);
  });

  it("a body that never ends (chunked, or shorter than its length) does not delay the answer", async () => {
    const { port } = await start({ requestTimeoutMs: 60_000, headersTimeoutMs: 30_000 });
    for (const raw of [
      "POST /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n",
      "POST /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 1000000000\r\n\r\nhello",
      "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 1000000000\r\n\r\nhello",
    ]) {
      const r = await exchange(port, raw, 5_000);
      expect(r.closed).toBe(true);
      expect(r.ms).toBeLessThan(5_000);
      expect([405, 200]).toContain(parse(r.text).status);
    }
    await expectHealthy(port);
  });

  it("a large body is read and dropped, not kept: the answer comes, the server carries on", async () => {
    const { port } = await start();
    const body = "x".repeat(4 * 1024 * 1024);
    const r = await exchange(port, [`POST /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${body.length}\r\n\r\n`, body], 10_000);
    expect(r.closed).toBe(true);
    expect(parse(r.text).status).toBe(405);
    await expectHealthy(port);
  });
});

describe("health server: a failing route is a 500, not a crash", () => {
  it("health() throwing -> 500 without the message; the next request is fine", async () => {
    const h = await start();
    h.failHealth = true;
    const a = await request(h.port, "GET", "/healthz");
    expect(a.status).toBe(500);
    expect(a.body).not.toContain("/srv");
    expect(h.errors).toEqual([{ e: expect.objectContaining({ message: "cannot stat /srv/exports/crm.csv" }), where: "GET request" }]);
    h.failHealth = false;
    await expectHealthy(h.port);
  });

  it("metrics() rejecting -> 500 without the message", async () => {
    const h = await start();
    h.failMetrics = true;
    const a = await request(h.port, "GET", "/metrics");
    expect(a.status).toBe(500);
    expect(a.body).not.toContain("/srv");
    expect(h.errors.map((x) => x.where)).toEqual(["/metrics"]);
    await expectHealthy(h.port);
  });

  it("a client that leaves before its answer is ready does not upset the server", async () => {
    const h = await start();
    const s = open(h.port);
    s.on("connect", () => {
      s.write("GET /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
      s.destroy();
    });
    await new Promise((r) => s.once("close", r));
    await expectHealthy(h.port);
    expect(h.errors).toEqual([]);
  });
});

describe("health server: slow, idle and too many connections are bounded", () => {
  it("closes a client that never finishes its headers after the headers timeout (408)", async () => {
    const { port } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const r = await exchange(port, "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ", 5_000);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(250);
    expect(r.ms).toBeLessThan(3_000);
    expect(parse(r.text).status).toBe(408);
    await expectHealthy(port);
  });

  it("closes a client that trickles its headers a byte at a time", async () => {
    const { port } = await start({ headersTimeoutMs: 400, requestTimeoutMs: 800 });
    const s = open(port);
    const started = Date.now();
    const timer = setInterval(() => s.write("x"), 50);
    s.on("connect", () => s.write("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-drip: "));
    await new Promise((r) => s.once("close", r));
    clearInterval(timer);
    expect(Date.now() - started).toBeLessThan(3_000);
    await expectHealthy(port);
  });

  it("closes a connection that sends nothing", async () => {
    const { port } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const r = await exchange(port, [], 5_000);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(3_000);
    await expectHealthy(port);
  });

  it("closes an idle kept-alive connection after the keep-alive timeout", async () => {
    const { port } = await start({ keepAliveTimeoutMs: 200 });
    const r = await exchange(port, "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n", 5_000);
    expect(r.closed).toBe(true);
    expect(parse(r.text).status).toBe(200);
    expect(r.ms).toBeLessThan(3_000);
  });

  it("drops connections beyond the cap at once, and answers again once the held ones time out", async () => {
    const cap = 4;
    const { port } = await start({ maxConnections: cap, headersTimeoutMs: 2_000, requestTimeoutMs: 2_000 });
    const closedAt = new Map<Socket, number>();
    const started = Date.now();
    // The held connections first, one at a time, so the server has accepted each before the flood.
    const held: Socket[] = [];
    for (let i = 0; i < cap; i++) {
      const s = open(port);
      s.on("close", () => closedAt.set(s, Date.now() - started));
      await new Promise((r) => s.once("connect", r));
      s.write("GET /healthz HTTP/1.1\r\n");
      held.push(s);
    }
    await new Promise((r) => setTimeout(r, 100));
    const flood = Array.from({ length: 20 }, () => {
      const s = open(port);
      s.on("close", () => closedAt.set(s, Date.now() - started));
      return s;
    });
    await until(() => flood.every((s) => closedAt.has(s)), 1_500, "the flood to be dropped");
    expect(held.some((s) => closedAt.has(s))).toBe(false);
    // While the cap is reached a probe is dropped too: that is what the timeouts bound.
    const starved = await exchange(port, "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n", 1_000);
    expect(starved.text).toBe("");
    await until(() => held.every((s) => closedAt.has(s)), 5_000, "the held connections to time out");
    for (const s of held) expect(closedAt.get(s)).toBeGreaterThanOrEqual(1_500);
    await expectHealthy(port);
  });
});

/** Polls `probe` until it is true; fails naming `what` after `ms`. */
async function until(probe: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
