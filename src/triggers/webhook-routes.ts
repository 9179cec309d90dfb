/**
 * `POST /webhooks/hubspot` and `POST /webhooks/quo` on the daemon's HTTP server. Each request is
 * verified on its raw bytes (401, nothing done, on a bad, absent or stale signature), then parsed
 * (400), then its delivery ids are recorded in the state (a re-delivery is acknowledged and not
 * applied twice), then the runs are asked for and the answer sent: the runs happen after it,
 * coalesced per sync (`RunCoalescer`).
 */
import type { LoadedConfig } from "../config.js";
import type { ExtraRoutes, RoutedAnswer, RoutedRequest } from "../daemon/health-server.js";
import type { Logger } from "../log.js";
import type { StateStore } from "../state/store.js";
import { BURST_QUIET_MS, type RunCoalescer } from "./run-coalescer.js";
import { publicUri, verifyHubspot } from "./verify-hubspot.js";
import { verifyQuo } from "./verify-quo.js";

/** The largest webhook body read: HubSpot sends up to 100 events (well under 100 KiB); beyond this, 413. */
export const WEBHOOK_BODY_LIMIT = 256 * 1024;

/** How long delivery ids are kept: vendors retry for hours at most, and a day-old one is outside the signature's tolerance anyway. */
export const DELIVERY_RETENTION_MS = 24 * 60 * 60_000;

/** How often old delivery ids are pruned (at a delivery, never more often than this). */
export const DELIVERY_PRUNE_EVERY_MS = 60 * 60_000;

/** HubSpot contact events that can change what a sync writes. */
export const HUBSPOT_CONTACT_EVENTS: ReadonlySet<string> = new Set(["contact.creation", "contact.propertyChange", "contact.deletion", "contact.privacyDeletion", "contact.merge", "contact.restore"]);

/** Quo events that tell a managed contact was changed or deleted outside the sync. */
export const QUO_CONTACT_EVENTS: ReadonlySet<string> = new Set(["contact.updated", "contact.deleted"]);

/** The endpoints' secrets, already read from the environment; an endpoint without one answers 404. */
export interface WebhookSecrets {
  hubspot?: string;
  quo?: string;
}

/** What the routes need from the daemon. */
export interface WebhookRoutesOptions {
  loaded: LoadedConfig;
  secrets: WebhookSecrets;
  /** Where delivery ids are recorded, and managed contacts looked up. */
  store: StateStore;
  coalescer: RunCoalescer;
  logger: Logger;
  /** The daemon's public base URL (`QUO_SYNC_PUBLIC_URL`), which HubSpot signs; else taken from the Host header. */
  publicUrl?: string;
  now?: () => number;
}

const PATHS = ["/webhooks/hubspot", "/webhooks/quo"] as const;

/** The webhook endpoints as extra routes of the daemon's HTTP server. */
export function webhookRoutes(opts: WebhookRoutesOptions): ExtraRoutes {
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ component: "webhooks" });
  let lastPrune = 0;
  /** Records delivery ids in one transaction (pruning old ones now and then); returns those not seen before. */
  const record = async (source: string, ids: readonly string[]): Promise<Set<string>> => {
    const t = now();
    if (t - lastPrune > DELIVERY_PRUNE_EVERY_MS) {
      lastPrune = t;
      await opts.store.pruneDeliveries(t - DELIVERY_RETENTION_MS);
    }
    return opts.store.recordDeliveries(source, ids, t);
  };
  const syncs = opts.loaded.config.syncs;
  const hubspotSyncs = syncs.filter((s) => s.source.type === "hubspot").map((s) => s.name);

  const hubspot = async (req: RoutedRequest, secret: string): Promise<RoutedAnswer> => {
    const target = req.path + (req.query ? `?${req.query}` : "");
    const bases = opts.publicUrl ? [opts.publicUrl] : hostBases(req.headers.host);
    const verified = bases.some((b) => verifyHubspot(req.method, publicUri(b, target), req.body!, req.headers, secret, now()).ok);
    if (!verified) return unauthorized(log, "hubspot");
    const events = parse(req.body!);
    if (!Array.isArray(events) || !events.every((e) => typeof e === "object" && e !== null && !Array.isArray(e))) return text(400, "expected a JSON array of events\n");
    const contactEvents = (events as Record<string, unknown>[]).filter((e) => typeof e.subscriptionType === "string" && HUBSPOT_CONTACT_EVENTS.has(e.subscriptionType));
    const ids = contactEvents.map((e) => e.eventId).filter((id): id is number | string => typeof id === "number" || typeof id === "string").map(String);
    // An event without an id cannot be deduplicated; applying it again is harmless (a run is idempotent).
    const recorded = await record("hubspot", ids);
    const freshEvents = contactEvents.filter((e) => !(typeof e.eventId === "number" || typeof e.eventId === "string") || recorded.has(String(e.eventId)));
    const fresh = freshEvents.length;
    const targets = targetsOf(freshEvents);
    if (fresh) for (const name of hubspotSyncs) opts.coalescer.ask(name, { trigger: "webhook", quietMs: BURST_QUIET_MS, ...(targets ? { targets } : {}) });
    log.debug({ events: events.length, fresh, syncs: fresh ? hubspotSyncs.length : 0, targeted: targets ? targets.ids.length + (targets.gone?.length ?? 0) : null }, "hubspot delivery");
    return text(200, "ok\n");
  };

  const quo = async (req: RoutedRequest, secret: string): Promise<RoutedAnswer> => {
    const v = verifyQuo(req.body!, req.headers, secret, now());
    if (!v.ok) return unauthorized(log, "quo", v.why);
    const delivery = parse(req.body!);
    if (typeof delivery !== "object" || delivery === null || Array.isArray(delivery)) return text(400, "expected a JSON object\n");
    const d = delivery as { type?: unknown; data?: { resource?: { id?: unknown }; object?: { id?: unknown } } };
    if (!(await record("quo", [v.id])).size) return text(200, "already received\n");
    if (typeof d.type !== "string" || !QUO_CONTACT_EVENTS.has(d.type)) return text(200, "ignored\n");
    const contactId = d.data?.resource?.id ?? d.data?.object?.id;
    if (typeof contactId !== "string" || !contactId) return text(200, "ignored\n");
    let asked = 0;
    for (const s of syncs) {
      const key = await opts.store.keyOfQuoId(s.name, contactId);
      if (key === null) continue;
      // Kept until a run has read it back, so a process stopped before that run leaves it to the next.
      await opts.store.addPendingChecks(s.name, [key], now());
      // Only that contact is read back: an echo of the sync's own writes costs one read, not the workspace.
      opts.coalescer.ask(s.name, { trigger: "webhook", verify: true, verifyKeys: [key], quietMs: BURST_QUIET_MS });
      asked++;
    }
    log.debug({ type: d.type, syncs: asked }, "quo delivery");
    return text(200, "ok\n");
  };

  return {
    owns: (path) => (PATHS as readonly string[]).includes(path),
    bodyLimit: (method, path) => (method === "POST" && secretOf(opts.secrets, path) !== undefined ? WEBHOOK_BODY_LIMIT : undefined),
    handle: async (req) => {
      const secret = secretOf(opts.secrets, req.path);
      if (secret === undefined) return text(404, "not found: this webhook is not configured\n");
      if (req.method !== "POST") return { ...text(405, "method not allowed\n"), headers: { allow: "POST" } };
      if (!/^application\/json\s*(;|$)/i.test(String(req.headers["content-type"] ?? ""))) return text(415, "expected content-type: application/json\n");
      return req.path === "/webhooks/hubspot" ? hubspot(req, secret) : quo(req, secret);
    },
  };
}

/** A HubSpot object id as sent (a number, or digits in a string), or undefined. */
function objectId(v: unknown): string | undefined {
  if (typeof v === "number" && Number.isSafeInteger(v) && v > 0) return String(v);
  if (typeof v === "string" && /^[1-9][0-9]{0,18}$/.test(v)) return v;
  return undefined;
}

/**
 * The contact ids HubSpot contact events name, for a targeted run: every event's `objectId` is read
 * (creation, change, restore; a deletion or privacy deletion reads as not found, whatever order the
 * events came in), and a merge reads `newObjectId` while its other `mergedObjectIds` are gone.
 * Undefined (an ordinary run) when an event names no usable id.
 */
export function targetsOf(events: readonly Record<string, unknown>[]): { ids: string[]; gone?: string[] } | undefined {
  const ids = new Set<string>();
  const gone = new Set<string>();
  for (const e of events) {
    if (e.subscriptionType === "contact.merge") {
      const kept = objectId(e.newObjectId) ?? objectId(e.objectId);
      const merged = Array.isArray(e.mergedObjectIds) ? e.mergedObjectIds.map(objectId) : [];
      if (!kept || merged.some((m) => m === undefined)) return undefined;
      ids.add(kept);
      for (const m of merged) if (m !== kept) gone.add(m!);
      continue;
    }
    const id = objectId(e.objectId);
    if (!id) return undefined;
    ids.add(id);
  }
  for (const g of gone) ids.delete(g);
  return { ids: [...ids], ...(gone.size ? { gone: [...gone] } : {}) };
}

function secretOf(secrets: WebhookSecrets, path: string): string | undefined {
  return path === "/webhooks/hubspot" ? secrets.hubspot : path === "/webhooks/quo" ? secrets.quo : undefined;
}

/** Without a configured public URL, the URL HubSpot posted to as the Host header names it, either scheme. */
function hostBases(host: string | undefined): string[] {
  if (!host || !/^[A-Za-z0-9.\-:[\]]+$/.test(host)) return [];
  return [`https://${host}`, `http://${host}`];
}

function parse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

function text(status: number, body: string): RoutedAnswer {
  return { status, contentType: "text/plain", body };
}

/** 401 with no detail for the client; the reason (never the signature or secret) at debug level, so a flood cannot fill the logs. */
function unauthorized(log: Logger, vendor: string, why = "signature"): RoutedAnswer {
  log.debug({ vendor, why }, "webhook refused");
  return text(401, "invalid or missing signature\n");
}
