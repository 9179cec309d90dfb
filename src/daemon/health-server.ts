/**
 * The daemon's HTTP endpoints (`--http HOST:PORT`): `/healthz` for liveness probes and `/metrics`
 * for Prometheus. Plain node:http: two read-only routes do not need a framework.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { HttpAddress } from "./schedules.js";

/** One sync as `/healthz` shows it. */
export interface SyncHealth {
  name: string;
  schedule: string;
  /** ok, failed, refused, interrupted, or null before any run (here or, from the state database, earlier). */
  lastOutcome: string | null;
  /** ISO time the last run ended. */
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  running: boolean;
  /** The last failure's one-line reason, while the sync is failing. */
  lastError?: string;
  nextRunAt: string | null;
}

/** The `/healthz` body. */
export interface HealthBody {
  status: "ok" | "stopping";
  syncs: SyncHealth[];
}

/** What the server asks the daemon for at each request. */
export interface HealthSource {
  health(): HealthBody;
  metrics(): Promise<string>;
  metricsContentType: string;
}

/** A listening health server. */
export interface HealthServer {
  /** The address actually bound (the port is chosen by the OS when 0 was asked for). */
  address: HttpAddress;
  close(): Promise<void>;
}

/**
 * Starts listening. `/healthz` answers 200 while the scheduler runs and 503 once it is shutting
 * down, so a load balancer or orchestrator stops counting on it. Rejects when the address cannot be
 * bound (in use, not an interface of this host).
 */
export async function startHealthServer(at: HttpAddress, source: HealthSource): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    if (url.pathname === "/healthz") {
      const body = source.health();
      res.writeHead(body.status === "ok" ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body) + "\n");
      return;
    }
    if (url.pathname === "/metrics") {
      source.metrics().then(
        (text) => res.writeHead(200, { "content-type": source.metricsContentType }).end(text),
        (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${e instanceof Error ? e.message : String(e)}\n`),
      );
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /healthz or /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(at.port, at.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
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
