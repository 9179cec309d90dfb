/**
 * The `/__emulator/...` admin routes, for steering an emulator that runs in another process (the
 * demo, benchmarks, spawned CLIs). They are never counted in stats, never rate-limited and never
 * hit by faults, so steering a run does not change what it measures.
 *
 * Shared routes, answered for every emulator that mounts the admin handler:
 *  - `GET  /__emulator/stats` → 200 with the emulator's counters;
 *  - `POST /__emulator/reset-stats` → 204;
 *  - `POST /__emulator/faults` with fault settings, or null to turn faults off → 204, 400 `{message}` if refused;
 *  - `POST /__emulator/latency` with `{"ms": number >= 0}` → 204, 400 `{message}` otherwise.
 * An emulator adds its own routes (`AdminControls.routes`); any other path is a 404 `{message}`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_JSON_BODY_BYTES, isObject, readJsonBody, sendJson } from "./http.js";

/** Every admin path starts with this; an emulated API never uses it. */
export const ADMIN_PREFIX = "/__emulator/";

/** True when `pathname` is an admin route rather than the emulated API. */
export function isAdminPath(pathname: string): boolean {
  return pathname.startsWith(ADMIN_PREFIX);
}

/** One admin request as a route sees it. */
export interface AdminRequest {
  method: string;
  /** The path after `/__emulator`, e.g. "/stats" or "/contacts/CT1/app-edit" (still percent-encoded). */
  path: string;
  /** The parsed JSON body of a POST; undefined for other methods or an empty body. */
  body: unknown;
}

/** What an admin route answers: a status and a JSON body, or no body (a 204). */
export interface AdminReply {
  status: number;
  body?: unknown;
}

/** An emulator's own admin routes: the reply, or undefined when the request is not one of them. */
export type AdminRoute = (req: AdminRequest) => AdminReply | undefined;

/** What the shared admin routes act on, and the emulator's own routes. */
export interface AdminControls<F> {
  /** The counters, as `GET /stats` returns them. */
  stats(): unknown;
  resetStats(): void;
  /** Checks a `POST /faults` body: the settings, undefined to turn faults off, or the reason it is refused. */
  parseFaults(body: unknown): F | undefined | string;
  setFaults(f: F | undefined): void;
  setLatency(ms: number): void;
  /** Tried before the shared routes. */
  routes?: AdminRoute;
  /** Cap on an admin body; default `MAX_JSON_BODY_BYTES`. */
  maxBodyBytes?: number;
}

/** An admin answer of `status` with `{message}`, the body every admin refusal has. */
export function adminError(status: number, message: string): AdminReply {
  return { status, body: { message } };
}

/** The shared admin routes; see the module comment. */
function sharedRoute<F>(c: AdminControls<F>, { method, path, body }: AdminRequest): AdminReply | undefined {
  switch (`${method} ${path}`) {
    case "GET /stats":
      return { status: 200, body: c.stats() };
    case "POST /reset-stats":
      c.resetStats();
      return { status: 204 };
    case "POST /faults": {
      const f = c.parseFaults(body);
      if (typeof f === "string") return adminError(400, f);
      c.setFaults(f);
      return { status: 204 };
    }
    case "POST /latency": {
      const ms = isObject(body) ? body["ms"] : undefined;
      if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) return adminError(400, 'Expected {"ms": number >= 0}');
      c.setLatency(ms);
      return { status: 204 };
    }
    default:
      return undefined;
  }
}

/**
 * A request handler for paths under `ADMIN_PREFIX`: reads a POST's JSON body (an unreadable one is a
 * 400 `{message}`), tries the emulator's routes, then the shared ones, else answers 404.
 */
export function createAdminHandler<F>(controls: AdminControls<F>): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  return async (req, res, url) => {
    const method = req.method ?? "GET";
    const path = url.pathname.slice(ADMIN_PREFIX.length - 1);
    let body: unknown;
    try {
      body = method === "POST" ? await readJsonBody(req, controls.maxBodyBytes ?? MAX_JSON_BODY_BYTES) : undefined;
    } catch (e) {
      sendJson(res, 400, { message: e instanceof Error ? e.message : "Bad body" });
      return;
    }
    const request: AdminRequest = { method, path, body };
    const reply = controls.routes?.(request) ?? sharedRoute(controls, request) ?? adminError(404, `Unknown admin route ${method} ${path}`);
    sendJson(res, reply.status, reply.body);
  };
}
