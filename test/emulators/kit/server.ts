/**
 * The HTTP server under every emulator: real HTTP/1.1 on a local interface, so the real clients run
 * against it unchanged, and a close that does not wait for clients' keep-alive connections.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { sendJson } from "./http.js";

/** Where emulators listen unless told otherwise: loopback only, so tests never expose a port. */
export const DEFAULT_HOST = "127.0.0.1";

/**
 * Answers one request. `url` is the request target resolved against a dummy origin, so only its
 * path and query are meaningful. A handler that throws or rejects before answering gets a 500
 * `{message}` from the kit; one that answers nothing leaves the client waiting, on purpose (that is
 * how a lost response is emulated, with the socket destroyed).
 */
export type EmulatorRequestHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

/** How to start an emulator's server. */
export interface EmulatorServerOptions {
  /** Interface to listen on; default `DEFAULT_HOST`. */
  host?: string;
  /** Port; default 0 (a free one). */
  port?: number;
  handle: EmulatorRequestHandler;
}

/** A listening server. */
export interface EmulatorServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, an IPv6 host in brackets, no trailing slash. */
  readonly origin: string;
  /**
   * True once `close()` has begun. A handler that waited (emulated latency) checks it so that it
   * neither answers nor changes state after the test has moved on.
   */
  readonly closed: boolean;
  /** Stops listening, destroys every open connection (idle keep-alive ones too) and resolves once closed. */
  close(): Promise<void>;
}

/** Starts a server and resolves once it listens; rejects if the port cannot be bound. */
export async function startEmulatorServer(opts: EmulatorServerOptions): Promise<EmulatorServer> {
  const host = opts.host ?? DEFAULT_HOST;
  const sockets = new Set<Socket>();
  let closed = false;

  const server: Server = createServer((req, res) => {
    const fail = (e: unknown): void => {
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, { message: e instanceof Error ? e.message : String(e) });
    };
    try {
      Promise.resolve(opts.handle(req, res, new URL(req.url ?? "/", "http://emulator.invalid"))).catch(fail);
    } catch (e) {
      fail(e);
    }
  });
  // Clients keep connections alive; without tracking them `close()` would wait for their timeouts.
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    host,
    port,
    origin: `http://${urlHost}:${port}`,
    get closed() {
      return closed;
    },
    close: async () => {
      closed = true;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await done;
    },
  };
}
