/**
 * Targeted webhook runs end to end: a real daemon (the built CLI, `npm run build` first) with
 * `--http`, a 5,000-contact HubSpot portal and Quo in emulators on 127.0.0.1, a real SQLite state.
 * One scenario, in order: the daemon's first run (`--run-now`) syncs the portal whole; then each
 * delivery must cost one batch read per 100 contact ids (no listing, no search) and change exactly
 * the contacts it names: updated, created, deleted (mirror), merged, purged, restored.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type RunRecord, type SyncCursor } from "../../src/state/store.js";
import type { SyncReport } from "../../src/report/report.js";
import { startHubspotEmulator, type HubspotEmulator } from "../emulators/hubspot-emulator.js";
import { startQuoEmulator, type QuoEmulator } from "../emulators/quo-emulator.js";
import { keepAcrossTests, spawnDaemon, stop, until, type Daemon } from "./daemons.js";
import { API_KEY, Workspace, cliEnv, reports, runCli } from "./harness.js";

const TOKEN = "pat-na1-SECRET-targeted-41be";
const HS_SECRET = "hs-client-secret-SECRET-targeted-9a8b";
const PUBLIC = "https://sync.example.com";
const NEVER = "0 0 1 1 *";
const BATCH = "POST /crm/v3/objects/contacts/batch/read";
const PORTAL = 5000;

let quo: QuoEmulator;
let hubspot: HubspotEmulator;
let ws: Workspace;
let daemon: Daemon;
let base = "";
let ids: string[] = [];

const env = (): NodeJS.ProcessEnv => cliEnv(quo, { HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_URL: hubspot.url, HS_SECRET, QUO_SYNC_PUBLIC_URL: PUBLIC, LOG_LEVEL: "info" });

function person(i: number): Record<string, string> {
  return { firstname: `First${i}`, lastname: `Last${i}`, phone: `+1 415 300 ${String(i).padStart(4, "0")}` };
}

async function withStore<T>(f: (s: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore(ws.state, { readonly: true });
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

const runs = (): Promise<RunRecord[]> => withStore(async (s) => (await s.recentRuns({ sync: "crm", limit: 1000 })).reverse());
const cursor = (): Promise<SyncCursor | null> => withStore((s) => s.syncCursor("crm"));

/** Waits until the runs of `crm` number `n` and none is running; returns the last one's report. */
async function ranTo(n: number): Promise<SyncReport> {
  const r = await until(async () => {
    const all = await runs();
    return all.length >= n && all.every((x) => x.outcome !== "running") ? all : false;
  }, 30_000, `run ${n} of crm`);
  expect(r).toHaveLength(n);
  const last = r[r.length - 1]!;
  expect(last.trigger).toBe("webhook");
  expect(last.outcome).toBe("ok");
  return (await withStore((s) => s.runReport(last.id))) as SyncReport;
}

let eventSeq = 1;
function events(objectIds: readonly string[], type: string, extra: Record<string, unknown> = {}): Record<string, unknown>[] {
  return objectIds.map((id) => ({ eventId: eventSeq++, subscriptionId: 7, portalId: 62515, appId: 54321, occurredAt: Date.now(), subscriptionType: type, attemptNumber: 0, objectId: Number(id), changeSource: "CRM", ...extra }));
}

async function post(list: unknown): Promise<void> {
  const body = JSON.stringify(list);
  const ts = String(Date.now());
  const sig = createHmac("sha256", HS_SECRET).update(`POST${PUBLIC}/webhooks/hubspot`).update(body).update(ts).digest("base64");
  const r = await fetch(`${base}/webhooks/hubspot`, { method: "POST", headers: { "content-type": "application/json", "x-hubspot-signature-v3": sig, "x-hubspot-request-timestamp": ts }, body });
  expect(r.status).toBe(200);
}

const byExternal = (id: string) => quo.contacts().find((c) => c.externalId === `crm:${id}`);
const applied = () => quo.stats().writesApplied;

/** HubSpot requests since the last reset, by route, and Quo writes since then (create/update/delete). */
function cost(): { hubspot: Record<string, number>; quo: { create: number; update: number; delete: number } } {
  const w = applied();
  return { hubspot: { ...hubspot.stats().byRoute }, quo: { create: w.create, update: w.update, delete: w.delete } };
}

function reset(): void {
  hubspot.resetStats();
  quo.resetStats();
}

beforeAll(async () => {
  quo = await startQuoEmulator({ apiKeys: [API_KEY], requestsPerSecond: 0 });
  hubspot = await startHubspotEmulator({ tokens: [TOKEN], requestsPerWindow: 0 });
  ws = new Workspace();
  ws.writeConfig(
    { name: "crm", source: { type: "hubspot", requestsPer10Seconds: 1000, incremental: { fullEvery: "24h" } }, key: undefined, schedule: NEVER, fields: { firstName: "firstname", lastName: "lastname", phoneNumbers: { work: "phone" }, emails: {} }, deletes: "mirror", maxDeletePercent: 1 },
    { quo: { requestsPerSecond: 100 }, webhooks: { hubspot: { secretEnv: "HS_SECRET" } } },
  );
  ids = hubspot.addContacts(Array.from({ length: PORTAL }, (_, i) => person(i + 1)));
  hubspot.setModified(ids, new Date(Date.now() - 3_600_000));
  daemon = spawnDaemon(ws.config, ws.dir, env(), ["--run-now"]);
  keepAcrossTests(daemon);
  base = await daemon.url();
  await until(async () => {
    const r = await runs();
    return r.length === 1 && r[0]!.outcome === "ok";
  }, 150_000, "the first full run");
  expect(quo.contacts()).toHaveLength(PORTAL);
}, 180_000);

afterAll(async () => {
  if (daemon) {
    const res = await stop(daemon);
    expect(res.status).toBe(0);
    expect(res.stderr + res.stdout).not.toContain(HS_SECRET);
    expect(res.stderr + res.stdout).not.toContain(TOKEN);
  }
  ws.cleanup();
  await quo.close();
  await hubspot.close();
});

describe("targeted HubSpot webhook runs (5,000-contact portal)", () => {
  let n = 1;
  let watermark: number | undefined;

  it("a property change of 1 contact: exactly 1 HubSpot request (the batch read) and 1 Quo update; the watermark stays", async () => {
    watermark = ((await cursor())!.cursor as { watermark: number }).watermark;
    reset();
    hubspot.update(ids[10]!, { lastname: "Changed" });
    await post(events([ids[10]!], "contact.propertyChange", { propertyName: "lastname", propertyValue: "Changed" }));
    const report = await ranTo(++n);
    expect(cost()).toEqual({ hubspot: { [BATCH]: 1 }, quo: { create: 0, update: 1, delete: 0 } });
    expect(hubspot.stats().requests).toBe(1);
    expect(report.read).toBe("targeted");
    expect(report.counts).toMatchObject({ create: 0, update: 1, delete: 0, unchanged: 0 });
    expect(byExternal(ids[10]!)?.defaultFields.lastName).toBe("Changed");
    expect(((await cursor())!.cursor as { watermark: number }).watermark).toBe(watermark);
  });

  it("a creation: 1 create", async () => {
    reset();
    const [id] = hubspot.addContacts([person(9001)]);
    await post(events([id!], "contact.creation"));
    await ranTo(++n);
    expect(cost()).toEqual({ hubspot: { [BATCH]: 1 }, quo: { create: 1, update: 0, delete: 0 } });
    expect(byExternal(id!)?.defaultFields.firstName).toBe("First9001");
    ids.push(id!);
  });

  it("a deletion (mirror): that contact is deleted and nothing else, within maxDeletePercent 1", async () => {
    reset();
    const before = quo.contacts().length;
    hubspot.archive([ids[20]!]);
    await post(events([ids[20]!], "contact.deletion"));
    const report = await ranTo(++n);
    expect(cost()).toEqual({ hubspot: { [BATCH]: 1 }, quo: { create: 0, update: 0, delete: 1 } });
    expect(report.counts.delete).toBe(1);
    expect(byExternal(ids[20]!)).toBeUndefined();
    expect(quo.contacts()).toHaveLength(before - 1);
  });

  it("a restore: the contact is created again", async () => {
    reset();
    hubspot.restore([ids[20]!]);
    await post(events([ids[20]!], "contact.restore"));
    await ranTo(++n);
    expect(cost()).toEqual({ hubspot: { [BATCH]: 1 }, quo: { create: 1, update: 0, delete: 0 } });
    expect(byExternal(ids[20]!)?.defaultFields.firstName).toBe("First21");
  });

  it("a merge of A into B: A's contact deleted, B updated; A is not read (HubSpot would answer it with B)", async () => {
    reset();
    const [a, b] = [ids[30]!, ids[31]!];
    hubspot.merge([a], b);
    hubspot.update(b, { lastname: "Merged" });
    await post(events([b], "contact.merge", { mergedObjectIds: [Number(a), Number(b)], newObjectId: Number(b) }));
    await ranTo(++n);
    expect(cost()).toEqual({ hubspot: { [BATCH]: 1 }, quo: { create: 0, update: 1, delete: 1 } });
    expect(byExternal(a)).toBeUndefined();
    expect(byExternal(b)?.defaultFields.lastName).toBe("Merged");
    const read = hubspot.log().find((e) => e.path.endsWith("/batch/read"));
    expect((read?.body as { inputs: { id: string }[] }).inputs).toEqual([{ id: b }]);
  });

  it("a privacy deletion: the contact is deleted", async () => {
    reset();
    hubspot.purge([ids[40]!]);
    await post(events([ids[40]!], "contact.privacyDeletion"));
    await ranTo(++n);
    expect(cost()).toEqual({ hubspot: { [BATCH]: 1 }, quo: { create: 0, update: 0, delete: 1 } });
    expect(byExternal(ids[40]!)).toBeUndefined();
  });

  it("150 events in a burst: one run, 2 batch reads (100 + 50), 150 updates", async () => {
    reset();
    const burst = ids.slice(1000, 1150);
    for (const id of burst) hubspot.update(id, { lastname: "Burst" });
    await Promise.all([post(events(burst.slice(0, 75), "contact.propertyChange")), post(events(burst.slice(75), "contact.propertyChange"))]);
    const report = await ranTo(++n);
    expect(cost()).toEqual({ hubspot: { [BATCH]: 2 }, quo: { create: 0, update: 150, delete: 0 } });
    expect(report.counts.update).toBe(150);
    const sizes = hubspot.log().filter((e) => e.path.endsWith("/batch/read")).map((e) => (e.body as { inputs: unknown[] }).inputs.length).sort((x, y) => y - x);
    expect(sizes).toEqual([100, 50]);
  });

  it("a change still hidden by the search index's lag: an incremental read misses it, the webhook's run applies it", async () => {
    hubspot.setSearchLag(120_000);
    const id = ids[2000]!;
    hubspot.update(id, { firstname: "Lagging" });
    // An ordinary (incremental) run now: the search does not show the change yet.
    const r = await runCli(["sync", "--config", ws.config, "--format", "json"], env(), ws.dir);
    expect(r.status).toBe(0);
    expect((reports(r.stdout) as SyncReport[])[0]).toMatchObject({ read: "incremental", counts: { update: 0 } });
    n++;
    expect(byExternal(id)?.defaultFields.firstName).toBe("First2001");
    reset();
    await post(events([id], "contact.propertyChange"));
    await ranTo(++n);
    expect(cost()).toEqual({ hubspot: { [BATCH]: 1 }, quo: { create: 0, update: 1, delete: 0 } });
    expect(byExternal(id)?.defaultFields.firstName).toBe("Lagging");
    hubspot.setSearchLag(0);
  });
});
