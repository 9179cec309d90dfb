/**
 * A targeted webhook run for a sync keyed on another property than `hs_object_id` (a real daemon,
 * the built CLI, the emulators, SQLite): a changed contact is read by id as usual; a purged one can
 * no longer tell its key, so that run reads the source as an ordinary run, says so in the log, and
 * still deletes exactly that contact.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openStore, type RunRecord } from "../../src/state/store.js";
import type { SyncReport } from "../../src/report/report.js";
import { startHubspotEmulator, type HubspotEmulator } from "../emulators/hubspot-emulator.js";
import { startQuoEmulator, type QuoEmulator } from "../emulators/quo-emulator.js";
import { spawnDaemon, stop, until } from "./daemons.js";
import { API_KEY, Workspace, cliEnv } from "./harness.js";

const TOKEN = "pat-na1-SECRET-keys-5d6e";
const HS_SECRET = "hs-client-secret-SECRET-keys-1f2e";
const PUBLIC = "https://sync.example.com";
const BATCH = "POST /crm/v3/objects/contacts/batch/read";
const LIST = "GET /crm/v3/objects/contacts";

let quo: QuoEmulator;
let hubspot: HubspotEmulator;

beforeAll(async () => {
  quo = await startQuoEmulator({ apiKeys: [API_KEY], requestsPerSecond: 0 });
  hubspot = await startHubspotEmulator({ tokens: [TOKEN], requestsPerWindow: 0 });
});
afterAll(async () => {
  await quo.close();
  await hubspot.close();
});

it("keyed on email: a change is a targeted read; a purged contact falls back to an ordinary read that deletes just it", async () => {
  const ws = new Workspace();
  try {
    ws.writeConfig(
      { name: "crm", source: { type: "hubspot", requestsPer10Seconds: 1000 }, key: "email", schedule: "0 0 1 1 *", fields: { firstName: "firstname", lastName: "lastname", emails: { work: "email" } }, deletes: "mirror", maxDeletePercent: 50 },
      { quo: { requestsPerSecond: 100 }, webhooks: { hubspot: { secretEnv: "HS_SECRET" } } },
    );
    const ids = hubspot.addContacts(Array.from({ length: 10 }, (_, i) => ({ firstname: `P${i}`, lastname: "Keyed", email: `p${i}@example.com` })));
    const d = spawnDaemon(ws.config, ws.dir, cliEnv(quo, { HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_URL: hubspot.url, HS_SECRET, QUO_SYNC_PUBLIC_URL: PUBLIC, LOG_LEVEL: "info" }), ["--run-now"]);
    const base = await d.url();
    const runs = async (): Promise<RunRecord[]> => {
      const s = await openStore(ws.state, { readonly: true });
      try {
        return (await s.recentRuns({ sync: "crm", limit: 100 })).reverse();
      } finally {
        await s.close();
      }
    };
    const ranTo = async (n: number): Promise<SyncReport> => {
      const r = await until(async () => {
        const all = await runs();
        return all.length >= n && all.every((x) => x.outcome !== "running") ? all : false;
      }, 30_000, `run ${n}`);
      expect(r[n - 1]!.outcome).toBe("ok");
      const s = await openStore(ws.state, { readonly: true });
      try {
        return (await s.runReport(r[n - 1]!.id)) as SyncReport;
      } finally {
        await s.close();
      }
    };
    let seq = 1;
    const post = async (id: string, type: string) => {
      const body = JSON.stringify([{ eventId: seq++, subscriptionType: type, objectId: Number(id), occurredAt: Date.now(), portalId: 1, appId: 1, subscriptionId: 1, attemptNumber: 0, changeSource: "CRM" }]);
      const ts = String(Date.now());
      const sig = createHmac("sha256", HS_SECRET).update(`POST${PUBLIC}/webhooks/hubspot`).update(body).update(ts).digest("base64");
      const r = await fetch(`${base}/webhooks/hubspot`, { method: "POST", headers: { "content-type": "application/json", "x-hubspot-signature-v3": sig, "x-hubspot-request-timestamp": ts }, body });
      expect(r.status).toBe(200);
    };
    await ranTo(1);
    expect(quo.contacts()).toHaveLength(10);

    hubspot.resetStats();
    hubspot.update(ids[1]!, { lastname: "Changed" });
    await post(ids[1]!, "contact.propertyChange");
    expect((await ranTo(2)).read).toBe("targeted");
    expect(hubspot.stats().byRoute).toEqual({ [BATCH]: 1 });
    expect(quo.contacts().find((c) => c.externalId === "crm:p1@example.com")?.defaultFields.lastName).toBe("Changed");

    hubspot.resetStats();
    quo.resetStats();
    hubspot.purge([ids[2]!]);
    await post(ids[2]!, "contact.privacyDeletion");
    const report = await ranTo(3);
    expect(report.read).toBeUndefined();
    expect(report.counts).toMatchObject({ delete: 1, update: 0, create: 0 });
    // The batch read, its archived retry, then an ordinary full read (its property check and listing).
    expect(hubspot.stats().byRoute).toEqual({ [BATCH]: 2, [LIST]: 1, "GET /crm/v3/properties/contacts": 1 });
    expect(quo.stats().writesApplied).toEqual({ create: 0, update: 0, delete: 1 });
    expect(quo.contacts().some((c) => c.externalId === "crm:p2@example.com")).toBe(false);
    await d.waitForLog((l) => typeof l.msg === "string" && l.msg.includes("reading the source as an ordinary run instead"));
    expect((await stop(d)).status).toBe(0);
  } finally {
    ws.cleanup();
  }
}, 90_000);
