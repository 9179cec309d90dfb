/**
 * The webhook endpoints end to end: a real daemon process (the built CLI) with `--http`, deliveries
 * signed here with node:crypto and posted over real HTTP, the Quo and HubSpot emulators on
 * 127.0.0.1, a real SQLite state. Each test asserts what ran: runs in the state (trigger
 * `webhook`) and writes in the emulator.
 */
import { createHmac, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { HubspotEmulator } from "../emulators/hubspot-emulator.js";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { openStore, type RunRecord } from "../../src/state/store.js";
import { spawnDaemon, stop, until, type Daemon } from "./daemons.js";
import { postgresEngine } from "./engines.js";
import { HEADER, Workspace, cliEnv, personRow, runCli, toCsv, writes, useQuoAndHubspot } from "./harness.js";

const TOKEN = "pat-na1-SECRET-webhooks-77aa";
const HS_SECRET = "hs-client-secret-SECRET-0c1d2e3f";
const QUO_KEY = randomBytes(32);
const QUO_SECRET = `whsec_${QUO_KEY.toString("base64")}`;
const PUBLIC = "https://sync.example.com/quo-sync";
const NEVER = "0 0 1 1 *";

let quo: QuoEmulator;
let hubspot: HubspotEmulator;
let ws: Workspace;

useQuoAndHubspot(TOKEN, (q, h, w) => {
  quo = q;
  hubspot = h;
  ws = w;
});

const csvRows = (n: number) => Array.from({ length: n }, (_, i) => personRow(i + 1));

/** Two syncs, neither due during a test: `crm` from HubSpot, `leads` from a CSV file. */
function writeConfig(webhooks: Record<string, unknown> = { hubspot: { clientSecretEnv: "HS_SECRET" }, quo: { secretEnv: "QUO_WH_SECRET" } }, state = ws.state): void {
  writeFileSync(path.join(ws.dir, "contacts.csv"), toCsv([HEADER, ...csvRows(3)]));
  stateAt = state;
  const config = {
    state,
    quo: { requestsPerSecond: 100 },
    webhooks,
    syncs: [
      { name: "crm", source: { type: "hubspot", requestsPer10Seconds: 1000 }, schedule: NEVER, fields: { firstName: "firstname", lastName: "lastname", phoneNumbers: { work: "phone" }, emails: { work: "email" } }, defaultCountry: "US" },
      { name: "leads", source: { type: "csv", path: "contacts.csv" }, key: "id", schedule: NEVER, fields: { firstName: "First Name", lastName: "Last Name", company: "Company", phoneNumbers: { mobile: "Phone", work: "Work Phone" }, emails: { work: "Email" } }, defaultCountry: "US" },
    ],
  };
  writeFileSync(ws.config, JSON.stringify(config, null, 2));
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cliEnv(quo, { HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_URL: hubspot.url, HS_SECRET, QUO_WH_SECRET: QUO_SECRET, QUO_SYNC_PUBLIC_URL: PUBLIC, LOG_LEVEL: "info", ...extra });
}

async function startDaemon(extra: string[] = [], e: NodeJS.ProcessEnv = env()): Promise<{ d: Daemon; base: string }> {
  const d = spawnDaemon(ws.config, ws.dir, e, extra);
  return { d, base: await d.url() };
}

/** Where the current test's state is (a file, or a PostgreSQL database). */
let stateAt = "";

async function runs(sync: string): Promise<RunRecord[]> {
  const store = await openStore(stateAt, { readonly: true });
  try {
    return (await store.recentRuns({ sync, limit: 1000 })).reverse();
  } finally {
    await store.close();
  }
}

/** Waits until no run starts or ends for `quietMs`, then returns the runs of `sync`. */
async function settled(sync: string, quietMs = 2000): Promise<RunRecord[]> {
  let last = "";
  let since = Date.now();
  for (;;) {
    const r = await runs(sync);
    const sig = JSON.stringify(r.map((x) => [x.id, x.outcome]));
    if (sig !== last) [last, since] = [sig, Date.now()];
    else if (Date.now() - since >= quietMs && r.every((x) => x.outcome !== "running")) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

let eventSeq = 1000;
function hubspotEvents(objectIds: readonly (string | number)[], type = "contact.propertyChange"): Record<string, unknown>[] {
  return objectIds.map((id) => ({ eventId: eventSeq++, subscriptionId: 7, portalId: 62515, appId: 54321, occurredAt: Date.now(), subscriptionType: type, attemptNumber: 0, objectId: Number(id), changeSource: "CRM" }));
}

/** Posts a HubSpot delivery signed (v3) for the public URL, as HubSpot would send it through the proxy. */
async function postHubspot(base: string, events: unknown, opts: { secret?: string; ts?: number; body?: string } = {}): Promise<Response> {
  const body = opts.body ?? JSON.stringify(events);
  const ts = String(opts.ts ?? Date.now());
  const sig = createHmac("sha256", opts.secret ?? HS_SECRET).update(`POST${PUBLIC}/webhooks/hubspot`).update(body).update(ts).digest("base64");
  return fetch(`${base}/webhooks/hubspot`, { method: "POST", headers: { "content-type": "application/json", "x-hubspot-signature-v3": sig, "x-hubspot-request-timestamp": ts }, body });
}

/** Posts a Quo delivery signed as Standard Webhooks. */
async function postQuo(base: string, delivery: unknown, opts: { id?: string; key?: Buffer; ts?: number } = {}): Promise<Response> {
  const body = JSON.stringify(delivery);
  const id = opts.id ?? `msg_${randomBytes(6).toString("hex")}`;
  const ts = String(Math.floor((opts.ts ?? Date.now()) / 1000));
  const sig = createHmac("sha256", opts.key ?? QUO_KEY).update(`${id}.${ts}.`).update(body).digest("base64");
  return fetch(`${base}/webhooks/quo`, { method: "POST", headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": `v1,${sig}` }, body });
}

const contactEvent = (type: string, contactId: string) => ({ id: `EV${randomBytes(4).toString("hex")}`, apiVersion: "2026-03-30", createdAt: new Date().toISOString(), type, data: { resource: { id: contactId }, context: {}, links: {} } });

const webhookRuns = (r: readonly RunRecord[]) => r.filter((x) => x.trigger === "webhook");

describe("HubSpot webhooks", () => {
  it("a signed delivery runs the HubSpot sync (trigger webhook); forged, stale and replayed ones run nothing", async () => {
    writeConfig();
    const [id] = hubspot.addContacts([{ firstname: "Ada", lastname: "Lovelace", phone: "(415) 555-0101", email: "ada@example.com" }]);
    const { d, base } = await startDaemon();
    const events = hubspotEvents([id!], "contact.creation");

    const forged = await postHubspot(base, events, { secret: "not-the-secret" });
    expect(forged.status).toBe(401);
    const stale = await postHubspot(base, events, { ts: Date.now() - 6 * 60_000 });
    expect(stale.status).toBe(401);
    const future = await postHubspot(base, events, { ts: Date.now() + 6 * 60_000 });
    expect(future.status).toBe(401);
    expect(await settled("crm", 1500)).toEqual([]);

    const sent = Date.now();
    const ok = await postHubspot(base, events);
    expect(ok.status).toBe(200);
    // Answered before the run, not after it.
    expect(await runs("crm")).toEqual([]);
    await until(() => quo.contacts().some((c) => c.defaultFields.firstName === "Ada"), 10_000, "the HubSpot contact created in Quo");
    expect(Date.now() - sent).toBeLessThan(5_000);
    const first = await settled("crm");
    expect(webhookRuns(first)).toHaveLength(1);
    expect(writes(quo)).toBe(1);

    // The same events again (HubSpot delivers at least once): acknowledged, not applied twice.
    hubspot.update(id!, { lastname: "Byron" });
    const replay = await postHubspot(base, events);
    expect(replay.status).toBe(200);
    expect(await settled("crm")).toHaveLength(1);
    expect(writes(quo)).toBe(1);
    expect(await runs("leads")).toEqual([]);
    const res = await stop(d);
    expect(res.status).toBe(0);
    expect(res.stderr + res.stdout).not.toContain(HS_SECRET);
    expect(res.stderr + res.stdout).not.toContain(QUO_KEY.toString("base64"));
  });

  it("unparseable JSON after a valid signature is a 400 and runs nothing", async () => {
    writeConfig();
    const { d, base } = await startDaemon();
    expect((await postHubspot(base, null, { body: "[{not json" })).status).toBe(400);
    expect((await postHubspot(base, null, { body: JSON.stringify({ not: "an array" }) })).status).toBe(400);
    expect(await settled("crm", 1500)).toEqual([]);
    expect((await stop(d)).status).toBe(0);
  });

  it("a storm of 200 valid deliveries in a second gives at most 2 runs", async () => {
    writeConfig();
    const ids = hubspot.addContacts(Array.from({ length: 5 }, (_, i) => ({ firstname: `P${i}`, lastname: "Storm", phone: `(415) 555-02${String(i).padStart(2, "0")}` })));
    const { d, base } = await startDaemon();
    const started = Date.now();
    // 200 deliveries, 10 at a time (HubSpot's own concurrency per app is of that order).
    const answers: Response[] = [];
    for (let i = 0; i < 200; i += 10) answers.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => postHubspot(base, hubspotEvents([ids[(i + j) % ids.length]!]))))));
    const elapsed = Date.now() - started;
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    const r = await settled("crm");
    expect(webhookRuns(r).length).toBeGreaterThanOrEqual(1);
    expect(webhookRuns(r).length).toBeLessThanOrEqual(2);
    expect(quo.contacts()).toHaveLength(5);
    expect(elapsed).toBeLessThan(5_000);
    expect((await stop(d)).status).toBe(0);
  });

  it("a request of 100 events (HubSpot's largest) is answered quickly and runs once", async () => {
    writeConfig();
    const ids = hubspot.addContacts(Array.from({ length: 3 }, (_, i) => ({ firstname: `B${i}`, lastname: "Batch" })));
    const { d, base } = await startDaemon();
    const events = hubspotEvents(Array.from({ length: 100 }, (_, i) => ids[i % 3]!));
    const started = Date.now();
    const r = await postHubspot(base, events);
    const took = Date.now() - started;
    expect(r.status).toBe(200);
    expect(took).toBeLessThan(3_000);
    expect(webhookRuns(await settled("crm"))).toHaveLength(1);
    expect(quo.contacts()).toHaveLength(3);
    expect((await stop(d)).status).toBe(0);
  });

  it("two daemons sharing a PostgreSQL state: a delivery sent to both (a retry through the load balancer) runs once", async () => {
    writeConfig(undefined, await postgresEngine.fresh());
    const [id] = hubspot.addContacts([{ firstname: "Katherine", lastname: "Johnson", phone: "(415) 555-0404" }]);
    const a = await startDaemon();
    const b = await startDaemon();
    const events = hubspotEvents([id!], "contact.creation");
    const answers = await Promise.all([postHubspot(a.base, events), postHubspot(b.base, events)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    await until(() => quo.contacts().length === 1, 10_000, "the contact created");
    const r = await settled("crm");
    expect(webhookRuns(r)).toHaveLength(1);
    expect(writes(quo)).toBe(1);
    expect((await stop(a.d)).status).toBe(0);
    expect((await stop(b.d)).status).toBe(0);
  });

  it("a crash between the 2xx and the run loses no change: the next --run-now run catches up", async () => {
    writeConfig();
    const [id] = hubspot.addContacts([{ firstname: "Grace", lastname: "Hopper", phone: "(415) 555-0303" }]);
    // Quo answers slowly, so the run the delivery starts is still busy when the process is killed.
    quo.setLatency(3000);
    const { d, base } = await startDaemon();
    const events = hubspotEvents([id!], "contact.creation");
    expect((await postHubspot(base, events)).status).toBe(200);
    await until(async () => (await runs("crm")).some((x) => x.outcome === "running"), 10_000, "the webhook's run started");
    d.child.kill("SIGKILL");
    await d.done;
    // The create the killed run had sent lands late, as Quo would still apply it; the next run must find it, not make another.
    await new Promise((res) => setTimeout(res, 3500));
    quo.setLatency(0);
    // HubSpot would not re-send a delivery it got a 2xx for; the schedule (here --run-now) reads the source whole.
    const again = await startDaemon(["--run-now"]);
    expect(quo.contacts()).toHaveLength(0);
    await until(() => quo.contacts().some((c) => c.defaultFields.firstName === "Grace"), 15_000, "the change applied after the restart");
    // The replayed delivery is still known: acknowledged, nothing more.
    expect((await postHubspot(again.base, events)).status).toBe(200);
    const r = await settled("crm");
    expect(r.map((x) => x.trigger)).toEqual(["webhook", "schedule"]);
    expect(r[0]!.outcome).toBe("interrupted");
    // --run-now also ran `leads`; of `crm`, exactly one contact, made once.
    expect(quo.contacts().filter((c) => c.externalId?.startsWith("crm:"))).toHaveLength(1);
    expect((await stop(again.d)).status).toBe(0);
  });
});

describe("Quo webhooks", () => {
  async function synced(): Promise<Map<string, string>> {
    const r = await runCli(["sync", "--config", ws.config, "--sync", "leads"], env({ LOG_LEVEL: "warn" }), ws.dir);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    return new Map(quo.contacts().map((c) => [c.externalId!, c.id]));
  }

  it("contact.updated of a managed contact edited in the app applies onDrift at once; forged, stale and replayed ones do nothing", async () => {
    writeConfig();
    const ids = await synced();
    const cid = ids.get("leads:K1")!;
    quo.resetStats();
    const { d, base } = await startDaemon();
    quo.appEdit(cid, { lastName: "EditedInApp" });
    const delivery = contactEvent("contact.updated", cid);

    expect((await postQuo(base, delivery, { key: randomBytes(32) })).status).toBe(401);
    expect((await postQuo(base, delivery, { ts: Date.now() - 6 * 60_000 })).status).toBe(401);
    expect((await postQuo(base, delivery, { ts: Date.now() + 6 * 60_000 })).status).toBe(401);
    expect(await settled("leads", 1500)).toHaveLength(1);
    expect(quo.contacts().find((c) => c.id === cid)!.defaultFields.lastName).toBe("EditedInApp");

    expect((await postQuo(base, delivery, { id: "msg_fixed" })).status).toBe(200);
    await until(() => quo.contacts().find((c) => c.id === cid)!.defaultFields.lastName === "Last1", 10_000, "the app edit overwritten");
    let r = await settled("leads");
    expect(webhookRuns(r)).toHaveLength(1);
    expect(quo.stats().writesApplied.update).toBe(1);

    // The same delivery again, after another edit: acknowledged, not applied.
    quo.appEdit(cid, { lastName: "EditedAgain" });
    expect((await postQuo(base, delivery, { id: "msg_fixed" })).status).toBe(200);
    r = await settled("leads");
    expect(webhookRuns(r)).toHaveLength(1);
    expect(await runs("crm")).toEqual([]);
    const res = await stop(d);
    expect(res.status).toBe(0);
    expect(res.stderr + res.stdout).not.toContain(QUO_KEY.toString("base64"));
  });

  it("a crash between the 200 and the run loses no app edit: the restarted daemon checks the contact at once, with no verify and no schedule", async () => {
    writeConfig();
    const ids = await synced();
    const cid = ids.get("leads:K2")!;
    const { d, base } = await startDaemon();
    quo.appEdit(cid, { company: "Typed in the app" });
    // Quo answers slowly, so the run the delivery starts is still reading when the process is killed.
    quo.setLatency(3000);
    expect((await postQuo(base, contactEvent("contact.updated", cid))).status).toBe(200);
    await until(async () => (await runs("leads")).some((x) => x.outcome === "running"), 10_000, "the webhook's run started");
    d.child.kill("SIGKILL");
    await d.done;
    quo.setLatency(0);
    const pending = await openStore(stateAt, { readonly: true });
    try {
      expect(await pending.pendingChecks("leads")).toEqual(["K2"]);
    } finally {
      await pending.close();
    }
    expect(quo.contacts().find((c) => c.id === cid)!.defaultFields.company).toBe("Typed in the app");

    // Quo does not re-send a delivery it got a 2xx for: the new process finds the contact in the state.
    quo.resetStats();
    const again = await startDaemon();
    await until(() => quo.contacts().find((c) => c.id === cid)!.defaultFields.company !== "Typed in the app", 15_000, "the app edit overwritten after the restart");
    const r = await settled("leads");
    expect(webhookRuns(r).map((x) => x.outcome)).toEqual(["interrupted", "ok"]);
    expect(quo.stats().writesApplied).toEqual({ create: 0, update: 1, delete: 0 });
    const after = await openStore(stateAt, { readonly: true });
    try {
      expect(await after.pendingChecks("leads")).toEqual([]);
    } finally {
      await after.close();
    }
    expect((await stop(again.d)).status).toBe(0);
  });

  it("any run reads back the contacts still waiting to be checked: plan shows them, a one-shot sync applies onDrift and clears them", async () => {
    writeConfig();
    const ids = await synced();
    const cid = ids.get("leads:K3")!;
    quo.appEdit(cid, { lastName: "EditedInApp" });
    const s = await openStore(stateAt);
    try {
      await s.addPendingChecks("leads", ["K3"], Date.now());
    } finally {
      await s.close();
    }
    const plan = await runCli(["plan", "--config", ws.config, "--sync", "leads", "--format", "json"], env({ LOG_LEVEL: "warn" }), ws.dir);
    expect(plan.status, plan.stderr).toBe(0);
    const planned = JSON.parse(plan.stdout.trim().split("\n")[0]!) as { drift: { key: string; kind: string }[]; counts: { update: number } };
    expect(planned.drift.map((x) => [x.key, x.kind])).toEqual([["K3", "edited"]]);
    expect(planned.counts.update).toBe(1);
    quo.resetStats();
    const sync = await runCli(["sync", "--config", ws.config, "--sync", "leads"], env({ LOG_LEVEL: "warn" }), ws.dir);
    expect(sync.status, sync.stderr).toBe(0);
    expect(quo.contacts().find((c) => c.id === cid)!.defaultFields.lastName).toBe("Last3");
    expect(quo.stats().writesApplied.update).toBe(1);
    const after = await openStore(stateAt, { readonly: true });
    try {
      expect(await after.pendingChecks("leads")).toEqual([]);
    } finally {
      await after.close();
    }
  });

  it("an echo of the sync's own write runs and changes nothing; an unknown contact runs nothing", async () => {
    writeConfig();
    const ids = await synced();
    quo.resetStats();
    const { d, base } = await startDaemon();
    // What the run reads back by externalId: only the contact Quo named, not every contact of the sync.
    const readBack: string[] = [];
    quo.onRequest((req) => {
      if (req.route === "GET /v1/contacts") readBack.push(...req.query.getAll("externalIds"));
    });
    try {
      expect((await postQuo(base, contactEvent("contact.updated", ids.get("leads:K2")!))).status).toBe(200);
      await settled("leads");
    } finally {
      quo.onRequest(undefined);
    }
    expect(ids.size).toBeGreaterThan(1);
    expect(readBack).toEqual(["leads:K2"]);
    let r = await settled("leads");
    expect(webhookRuns(r)).toHaveLength(1);
    expect(writes(quo)).toBe(0);

    const stranger = quo.contacts().length;
    expect((await postQuo(base, contactEvent("contact.updated", "CTnot-ours"))).status).toBe(200);
    expect((await postQuo(base, contactEvent("contact.deleted", "CTnot-ours"))).status).toBe(200);
    expect((await postQuo(base, { type: "message.received", data: { object: { id: "x" } } })).status).toBe(200);
    r = await settled("leads");
    expect(webhookRuns(r)).toHaveLength(1);
    expect(quo.contacts()).toHaveLength(stranger);
    expect((await stop(d)).status).toBe(0);
  });

  it("a legacy openphone-signature delivery is verified and applied too; a replay of it is not", async () => {
    writeConfig();
    const ids = await synced();
    const cid = ids.get("leads:K2")!;
    quo.resetStats();
    const { d, base } = await startDaemon();
    quo.appEdit(cid, { company: "Changed In App" });
    const body = JSON.stringify({ id: "EVlegacy", object: "event", type: "contact.updated", data: { object: { id: cid } } });
    const ts = String(Date.now());
    const header = `hmac;1;${ts};${createHmac("sha256", QUO_KEY).update(`${ts}.`).update(body).digest("base64")}`;
    const post = () => fetch(`${base}/webhooks/quo`, { method: "POST", headers: { "content-type": "application/json", "openphone-signature": header }, body });
    expect((await post()).status).toBe(200);
    await until(() => quo.contacts().find((c) => c.id === cid)!.defaultFields.company === "Company 2", 10_000, "the app edit overwritten");
    expect(webhookRuns(await settled("leads"))).toHaveLength(1);
    quo.appEdit(cid, { company: "Changed Again" });
    expect((await post()).status).toBe(200);
    expect(webhookRuns(await settled("leads"))).toHaveLength(1);
    expect((await stop(d)).status).toBe(0);
  });

  it("contact.deleted of a managed contact re-creates it at once (onDrift overwrite)", async () => {
    writeConfig();
    const ids = await synced();
    const { d, base } = await startDaemon();
    quo.appDelete(ids.get("leads:K3")!);
    expect((await postQuo(base, contactEvent("contact.deleted", ids.get("leads:K3")!))).status).toBe(200);
    await until(() => quo.contacts().some((c) => c.externalId === "leads:K3"), 10_000, "the deleted contact back");
    expect(webhookRuns(await settled("leads"))).toHaveLength(1);
    expect((await stop(d)).status).toBe(0);
  });
});

describe("hostile requests to /webhooks/*", () => {
  async function raw(base: string, data: string, ms = 20_000): Promise<string> {
    const { hostname, port } = new URL(base);
    return new Promise((resolve, reject) => {
      let text = "";
      const s = connect(Number(port), hostname, () => s.write(data));
      s.on("data", (b: Buffer) => (text += b.toString("latin1")));
      s.on("error", (e) => (text ? resolve(text) : reject(e)));
      s.on("close", () => resolve(text));
      s.setTimeout(ms, () => s.destroy(new Error(`no close after ${ms} ms`)));
    });
  }

  it("an endpoint without a configured secret is a 404", async () => {
    writeConfig({ quo: { secretEnv: "QUO_WH_SECRET" } });
    const { d, base } = await startDaemon();
    expect((await postHubspot(base, hubspotEvents([1]))).status).toBe(404);
    expect((await fetch(`${base}/webhooks/hubspot`)).status).toBe(404);
    expect((await stop(d)).status).toBe(0);
  });

  it("a configured secret whose variable is unset fails the start, naming the variable and not a value", async () => {
    writeConfig();
    const d = spawnDaemon(ws.config, ws.dir, env({ QUO_WH_SECRET: "" }));
    const res = await d.done;
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("QUO_WH_SECRET");
    expect(res.stderr).not.toContain(HS_SECRET);
  });

  it("huge, chunked-huge, wrong-method, wrong-type and malformed-header requests are refused, and the daemon keeps serving", async () => {
    writeConfig();
    const { d, base } = await startDaemon();
    const host = new URL(base).host;
    expect(await raw(base, `POST /webhooks/hubspot HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\n\r\n`)).toMatch(/^HTTP\/1\.1 413/);
    const chunk = "x".repeat(64 * 1024);
    const chunked = `POST /webhooks/quo HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n` + `${(64 * 1024).toString(16)}\r\n${chunk}\r\n`.repeat(6) + "0\r\n\r\n";
    expect(await raw(base, chunked)).toMatch(/^HTTP\/1\.1 413/);
    for (const m of ["GET", "PUT", "DELETE"]) {
      const r = await fetch(`${base}/webhooks/hubspot`, { method: m });
      expect(r.status).toBe(405);
      expect(r.headers.get("allow")).toBe("POST");
    }
    const textBody = await fetch(`${base}/webhooks/quo`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    expect(textBody.status).toBe(415);
    // Two signature headers, a signature of the wrong shape, none at all: 401.
    expect(await raw(base, `POST /webhooks/quo HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\nwebhook-id: a\r\nwebhook-timestamp: ${Math.floor(Date.now() / 1000)}\r\nwebhook-signature: v1,AAAA\r\nwebhook-signature: v1,BBBB\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`)).toMatch(/^HTTP\/1\.1 401/);
    expect((await fetch(`${base}/webhooks/hubspot`, { method: "POST", headers: { "content-type": "application/json", "x-hubspot-signature-v3": "%%%", "x-hubspot-request-timestamp": "-1" }, body: "[]" })).status).toBe(401);
    expect((await fetch(`${base}/webhooks/quo`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(401);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await settled("crm", 500)).toEqual([]);
    expect((await stop(d)).status).toBe(0);
  });

  it("a body trickled too slowly is cut off by the request timeout, and a flood of forged deliveries runs nothing", async () => {
    writeConfig();
    const { d, base } = await startDaemon();
    const host = new URL(base).host;
    const started = Date.now();
    const slow = raw(base, `POST /webhooks/hubspot HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[`, 30_000);
    const flood = await Promise.all(Array.from({ length: 300 }, () => postHubspot(base, hubspotEvents([1]), { secret: "forged" }).then((r) => r.status, () => 0)));
    expect(flood.filter((s) => s !== 401 && s !== 0)).toEqual([]);
    expect(flood.filter((s) => s === 401).length).toBeGreaterThan(0);
    const answer = await slow;
    expect(answer === "" || /^HTTP\/1\.1 408/.test(answer)).toBe(true);
    expect(Date.now() - started).toBeLessThan(25_000);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await runs("crm")).toEqual([]);
    expect((await stop(d)).status).toBe(0);
  });
});
