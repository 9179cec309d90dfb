/**
 * The daemon's HTTP endpoints (`--http HOST:PORT`): `/healthz` for liveness probes, `/metrics`
 * for Prometheus, and the paths of an extra set of routes (the console, `src/console/`). Plain
 * node:http: a few server-rendered routes do not need a framework.
 *
 * The endpoint shares a process with the syncs, so nothing a client sends may stop or starve them:
 * every request is answered inside a guard (a throw becomes a 500, never an uncaught exception),
 * malformed requests get a 4xx, bodies are discarded unread except on the routes that declare a
 * body limit (read up to it, 413 beyond), and every connection is bounded in number and in time. What `/healthz` publishes is built field by field from a closed set, so a
 * file path, an e-mail, a host name or a Quo id in an error message never leaves the process.
 */
import { createServer, STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { HttpAddress } from "./schedules.js";

/**
 * How long a client may take to send its request line and headers. Probes and scrapers send them in
 * one packet within milliseconds; 10 s tolerates a slow link while bounding how long a client that
 * trickles its headers (slowloris) holds one of the `MAX_CONNECTIONS` slots.
 */
export const HEADERS_TIMEOUT_MS = 10_000;

/**
 * How long a client may take to send a whole request, body included. No route takes a body; this
 * only bounds a client that trickles one. Must not be below `HEADERS_TIMEOUT_MS` (node:http checks).
 */
export const REQUEST_TIMEOUT_MS = 15_000;

/**
 * How long an idle kept-alive connection stays open after an answer. Node's default; scrape and
 * probe intervals (15 s and more) are longer anyway, so holding sockets longer would keep them
 * idle without reuse.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * How long a connection may go without a byte moving either way once its request is in, such as a
 * client that pipelines requests and never reads the answers. Longer than any honest answer takes.
 */
export const IDLE_SOCKET_TIMEOUT_MS = 30_000;

/**
 * Connections open at once. The expected clients are a Prometheus or two, an orchestrator's probe
 * and an operator's curl: single digits. 32 leaves room for overlapping scrapes and retries while
 * capping the sockets and memory a flood can take; node:http closes connections beyond it at once.
 */
export const MAX_CONNECTIONS = 32;

/**
 * Request line plus headers, in bytes. A probe's are a few hundred; half node:http's 16 KiB default
 * limits what one request makes the parser hold. Larger requests get 431.
 */
export const MAX_HEADER_BYTES = 8 * 1024;

/**
 * How often node:http looks for connections past `HEADERS_TIMEOUT_MS` or `REQUEST_TIMEOUT_MS`. Its
 * 30 s default would let a slowloris client keep a slot up to 40 s instead of 10; a sweep over at
 * most `MAX_CONNECTIONS` connections each second costs nothing.
 */
export const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;

/**
 * Why a sync is not succeeding, as `/healthz` publishes it: a closed set, so no detail of the error
 * (a path, an e-mail, a host, an id) can ride along. `quo-sync status` and the logs have the detail.
 * `unknown` is a failure recorded by an earlier process, whose kind the state database does not keep.
 */
export const ERROR_KINDS = ["config", "source", "state", "quo-auth", "quo-api", "temporary", "refused", "interrupted", "unexpected", "unknown"] as const;

/** One of `ERROR_KINDS`. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

const KNOWN_KINDS: ReadonlySet<string> = new Set(ERROR_KINDS);

/** One sync as `/healthz` publishes it. */
export interface SyncHealth {
  name: string;
  schedule: string;
  /** ok, failed, refused, interrupted, or null before any run (here or, from the state database, earlier). */
  lastOutcome: string | null;
  /** ISO time the last run ended. */
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  running: boolean;
  /** Why the sync is not succeeding, while it is not; absent once a run succeeds. */
  lastErrorKind?: ErrorKind;
  nextRunAt: string | null;
}

/** The `/healthz` body. */
export interface HealthBody {
  status: "ok" | "stopping";
  syncs: SyncHealth[];
}

/** One sync as the daemon knows it: what `/healthz` publishes, plus the reason in full. */
export interface SyncHealthDetail extends SyncHealth {
  /** The last failure's one-line reason, while the sync is not succeeding. Never published over HTTP. */
  lastError?: string;
}

/** What the daemon knows about its syncs; `/healthz` publishes `publicHealth()` of it. */
export interface HealthDetail {
  status: HealthBody["status"];
  syncs: SyncHealthDetail[];
}

/** What the server asks the daemon for at each request. Either may throw: the client gets a 500. */
export interface HealthSource {
  health(): HealthDetail;
  metrics(): Promise<string>;
  metricsContentType: string;
}

/** A request as extra routes see it: its path parsed, its body (if the route takes one) read and bounded. */
export interface RoutedRequest {
  /** GET, HEAD, POST, …, as sent. */
  method: string;
  /** The path as sent (still percent-encoded), without the query. */
  path: string;
  /** The query as sent, without the `?`; empty when there is none. */
  query: string;
  headers: IncomingHttpHeaders;
  /** The client's address as the socket sees it (the proxy's, behind a reverse proxy). */
  remoteAddress: string;
  /** The body, when the route declared a limit for this method; null otherwise. */
  body: Buffer | null;
}

/** What extra routes answer; the server adds `COMMON_HEADERS` and the length. */
export interface RoutedAnswer {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string | string[]>;
}

/** Routes served besides `/healthz` and `/metrics` (the console). */
export interface ExtraRoutes {
  /** Whether a path is theirs: every method on it is then theirs to answer (405 included). */
  owns(path: string): boolean;
  /** The largest body read for this method on this path; undefined when it takes none (then discarded unread). */
  bodyLimit(method: string, path: string): number | undefined;
  /** Answers one request; may throw (the client gets a 500). */
  handle(req: RoutedRequest): Promise<RoutedAnswer>;
}

/** Several sets of extra routes as one: the first that owns a path answers it. */
export function combineRoutes(...sets: readonly ExtraRoutes[]): ExtraRoutes {
  const ownerOf = (path: string) => sets.find((r) => r.owns(path));
  return {
    owns: (path) => ownerOf(path) !== undefined,
    bodyLimit: (method, path) => ownerOf(path)?.bodyLimit(method, path),
    handle: (req) => ownerOf(req.path)!.handle(req),
  };
}

/** Limits and hooks for `startHealthServer`; every limit defaults to the constant of the same name. */
export interface HealthServerOptions {
  headersTimeoutMs?: number;
  /** At least `headersTimeoutMs`. */
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  idleSocketTimeoutMs?: number;
  maxConnections?: number;
  maxHeaderBytes?: number;
  /** Routes besides `/healthz` and `/metrics`; none by default. */
  routes?: ExtraRoutes;
  /**
   * Told about failures on the daemon's side (a route that threw, metrics that could not be
   * rendered, a failed accept), which the client only sees as a bare 500. Not told about malformed
   * requests: a hostile client must not be able to fill the logs.
   */
  onError?: (e: unknown, where: string) => void;
}

/** A listening health server. */
export interface HealthServer {
  /** The address actually bound (the port is chosen by the OS when 0 was asked for). */
  address: HttpAddress;
  /** Stops listening and closes every connection, kept-alive ones included. Never rejects. */
  close(): Promise<void>;
}

/**
 * The `/healthz` body for what the daemon knows: only the fields of `SyncHealth`, copied one by one,
 * so a field added to the daemon's view stays private until it is added here on purpose. The
 * free-text `lastError` is dropped; an error kind outside `ERROR_KINDS` is published as `unexpected`.
 */
export function publicHealth(detail: HealthDetail): HealthBody {
  return {
    status: detail.status === "ok" ? "ok" : "stopping",
    syncs: detail.syncs.map((s) => ({
      name: s.name,
      schedule: s.schedule,
      lastOutcome: s.lastOutcome,
      lastRunAt: s.lastRunAt,
      lastSuccessAt: s.lastSuccessAt,
      running: s.running,
      ...(s.lastErrorKind === undefined ? {} : { lastErrorKind: KNOWN_KINDS.has(s.lastErrorKind) ? s.lastErrorKind : "unexpected" }),
      nextRunAt: s.nextRunAt,
    })),
  };
}

/** The methods every route answers; HEAD is GET without the body. */
const ALLOWED_METHODS = "GET, HEAD";

/** Headers on every answer: nothing here is cacheable, and nothing is meant to be sniffed as HTML. */
const COMMON_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" } as const;

type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Starts listening. `/healthz` answers 200 while the scheduler runs and 503 once it is shutting
 * down, so a load balancer or orchestrator stops counting on it; `/metrics` answers the Prometheus
 * text. Other paths get 404, other methods 405, malformed requests 400 (431 for oversized headers,
 * 408 for ones too slow), a route that throws 500; none of them can end the process. Rejects when
 * the address cannot be bound (in use, not an interface of this host) or an option is out of range.
 */
export async function startHealthServer(at: HttpAddress, source: HealthSource, options: HealthServerOptions = {}): Promise<HealthServer> {
  const headersTimeout = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const report = (e: unknown, where: string) => {
    try {
      options.onError?.(e, where);
    } catch {
      // A reporter that throws must not turn a handled failure into a crash.
    }
  };

  const routes = new Map<string, Route>([
    [
      "/healthz",
      async (_req, res) => {
        const body = publicHealth(source.health());
        send(res, body.status === "ok" ? 200 : 503, JSON.stringify(body) + "\n", "application/json");
      },
    ],
    [
      "/metrics",
      async (_req, res) => {
        let text: string;
        try {
          text = await source.metrics();
        } catch (e) {
          report(e, "/metrics");
          // The reason stays in the logs: it may name files or hosts.
          send(res, 500, "metrics failed; see the daemon's log\n");
          return;
        }
        send(res, 200, text, source.metricsContentType);
      },
    ],
  ]);

  const server: Server = createServer(
    {
      headersTimeout,
      requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      maxHeaderSize: options.maxHeaderBytes ?? MAX_HEADER_BYTES,
      // Sweep at least twice per headers timeout, so a short one (tests) is enforced close to its value.
      connectionsCheckingInterval: Math.max(1, Math.min(CONNECTIONS_CHECK_INTERVAL_MS, Math.floor(headersTimeout / 2))),
    },
    (req, res) => {
      // An error on the response (a write after the client reset the connection) would be thrown
      // without a listener; the connection is dropped instead.
      res.on("error", () => req.socket.destroy());
      serve(req, res, routes, options.routes).catch((e: unknown) => {
        report(e, req.method === undefined ? "request" : `${req.method} request`);
        try {
          if (res.headersSent) res.destroy();
          else send(res, 500, "internal error; see the daemon's log\n");
        } catch {
          req.socket.destroy();
        }
      });
    },
  );
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS;
  server.timeout = options.idleSocketTimeoutMs ?? IDLE_SOCKET_TIMEOUT_MS;
  server.maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
  server.on("clientError", answerClientError);
  // Without a listener node:http drops a CONNECT silently; this says why. No route is a proxy.
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => answerRaw(socket as Socket, 405, `allow: ${ALLOWED_METHODS}\r\n`));

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(at.port, at.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // After listening, an 'error' is a failed accept (EMFILE under a flood): without a listener it
  // would be thrown and end the daemon; the server keeps accepting once descriptors free up.
  server.on("error", (e) => report(e, "accept"));
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Scrapers keep connections alive; without this, close() waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

/** Routes one request: the target, then the path, then the method. Rejects only when a route throws. */
async function serve(req: IncomingMessage, res: ServerResponse, routes: ReadonlyMap<string, Route>, extra: ExtraRoutes | undefined): Promise<void> {
  const path = pathOf(req.url);
  const route = path === undefined ? undefined : routes.get(path);
  const extraOwns = path !== undefined && !route && extra !== undefined && extra.owns(path);
  const limit = extraOwns ? extra.bodyLimit(req.method ?? "", path) : undefined;
  if (limit === undefined && hasBody(req)) discardBody(req, res);
  if (path === undefined) {
    send(res, 400, "bad request target: give a path such as /healthz\n");
    return;
  }
  if (extraOwns) {
    let body: Buffer | null = null;
    if (limit !== undefined) {
      const read = await readBody(req, limit);
      if (read === "too-large") {
        discardBody(req, res);
        send(res, 413, `request body too large: at most ${limit} bytes\n`);
        return;
      }
      if (read === "aborted") {
        req.socket.destroy();
        return;
      }
      body = read;
    }
    const query = req.url!.includes("?") ? req.url!.slice(req.url!.indexOf("?") + 1).replace(/#.*$/, "") : "";
    const answer = await extra.handle({ method: req.method ?? "", path, query, headers: req.headers, remoteAddress: req.socket.remoteAddress ?? "", body });
    send(res, answer.status, answer.body, answer.contentType, answer.headers);
    return;
  }
  if (!route) {
    send(res, 404, "not found: try /healthz or /metrics\n");
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(res, 405, "method not allowed\n", "text/plain", { allow: ALLOWED_METHODS });
    return;
  }
  await route(req, res);
}

/**
 * Discards a body as it arrives (never buffered), and closes the connection after answering so a
 * client cannot stream an endless body into a kept-alive connection.
 */
function discardBody(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader("connection", "close");
  req.resume();
}

/**
 * Reads a body of at most `limit` bytes: a declared length beyond it is refused before a byte is
 * read, and a chunked body as soon as it passes it. A client that stops sending is ended by the
 * server's request timeout (the socket is destroyed: "aborted"), as is one that goes away.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large" | "aborted"> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) return Promise.resolve("too-large");
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        resolve("too-large");
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    // A client that went away mid-body: nothing to answer. 'close' after 'end' changes nothing.
    req.once("error", () => resolve("aborted"));
    req.once("close", () => resolve("aborted"));
  });
}

/** True when the request declares a body (a non-zero length, or chunked). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}

/**
 * The path a request target names, without its query; undefined when the target is malformed or
 * names no path (`*`, authority-form). Origin-form (`/healthz?x`) is split as text, never handed
 * to the URL parser: `//a:b` is a valid path but an invalid scheme-relative URL. Absolute-form
 * (`http://host/healthz`), which HTTP/1.1 servers must accept, is parsed, and a failure is a 400.
 */
function pathOf(target: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  if (target.startsWith("/")) {
    const end = target.search(/[?#]/);
    return end < 0 ? target : target.slice(0, end);
  }
  if (!/^https?:\/\//i.test(target)) return undefined;
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}

/** Answers with a complete body and its length (HEAD gets the headers only: node:http drops the body). */
function send(res: ServerResponse, status: number, body: string, contentType = "text/plain", headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, "content-type": contentType, "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

/**
 * node:http's parser rejected what a client sent (bad target syntax, invalid header bytes, headers
 * too large, too slow) or the connection failed. Answers with a bare status when nothing has been
 * written on the connection yet, then closes it; otherwise (an answer is half sent, the client is
 * gone) just closes it.
 */
function answerClientError(err: NodeJS.ErrnoException, duplex: Duplex): void {
  if (err.code === "ECONNRESET") {
    duplex.destroy();
    return;
  }
  answerRaw(duplex as Socket, err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400);
}

/**
 * Writes a bare status (no body) on a connection node:http no longer parses, then closes it; just
 * closes it when something was already written there (the status would land inside an answer) or
 * it cannot be written. `headers` is extra header lines, each ending in CRLF.
 */
function answerRaw(socket: Socket, status: number, headers = ""): void {
  try {
    if (!socket.writable || socket.bytesWritten > 0) {
      socket.destroy();
      return;
    }
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers}connection: close\r\ncontent-length: 0\r\n\r\n`, () => socket.destroy());
  } catch {
    socket.destroy();
  }
}
