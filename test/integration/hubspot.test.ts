/**
 * HubSpot → Quo end to end through the built CLI (`npm run build` first): the HubSpot and Quo
 * emulators run in this process on 127.0.0.1, the CLI in a child process with a real SQLite file.
 * What a HubSpot sync must do: 10,000 contacts with mixed phone formats sync exactly, archiving 50 in
 * HubSpot deletes exactly those 50 on the next run, and a rerun with no change sends no write.
 */
import { describe, expect, it } from "vitest";
import type { HubspotEmulator } from "../emulators/hubspot-emulator.js";
import type { EmulatedContact, QuoEmulator } from "../emulators/quo-emulator.js";
import { Workspace, byExternalId, cliEnv, reports, runCli, writes, useQuoAndHubspot } from "./harness.js";

const TOKEN = "pat-na1-SECRET-integration-5e1b";
const SYNC = "crm";
const LARGE = 10_000;

let quo: QuoEmulator;
let hubspot: HubspotEmulator;
let ws: Workspace;

useQuoAndHubspot(TOKEN, (q, h, w) => {
  quo = q;
  hubspot = h;
  ws = w;
});

/** Writes a HubSpot sync's config; `key` is left to its default, `hs_object_id`. */
function writeConfig(extra: Record<string, unknown> = {}, fields: Record<string, unknown> = {}): void {
  ws.writeConfig(
    {
      name: SYNC,
      source: { type: "hubspot", requestsPer10Seconds: 1000 },
      key: undefined,
      fields: { firstName: "firstname", lastName: "lastname", company: "company", phoneNumbers: { work: "phone", mobile: "mobilephone" }, emails: { work: "email" }, ...fields },
      ...extra,
    },
    { quo: { requestsPerSecond: 100 } },
  );
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cliEnv(quo, { HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_URL: hubspot.url, ...extra });
}

const sync = (...args: string[]) => runCli(["sync", "--config", ws.config, "--format", "json", ...args], env(), ws.dir);

/** Contact `i` in HubSpot's property names, its phone in one of four formats people type. */
function person(i: number): Record<string, string> {
  const line = String(i % 10_000).padStart(4, "0");
  const exchange = 200 + Math.floor(i / 10_000);
  const phones = [`+1 (415) ${exchange}-${line}`, `415.${exchange}.${line}`, `415${exchange}${line}`, `+44 20 7946 ${line}`];
  const p: Record<string, string> = { firstname: `First${i}`, lastname: `Last${i}`, company: `Company ${i % 37}`, phone: phones[i % 4] as string };
  if (i % 5 === 0) p.mobilephone = `(650) ${exchange}-${line}`;
  if (i % 2 === 0) p.email = `person${i}@example.com`;
  return p;
}

/** The E.164 form of a person's phones, by label. */
function expectedPhones(p: Record<string, string>): string {
  const e164 = (text: string) => (text.startsWith("+44") ? `+${text.replace(/\D/g, "")}` : `+1${text.replace(/\D/g, "").replace(/^1(?=\d{10}$)/, "")}`);
  return [`work=${e164(p.phone!)}`, ...(p.mobilephone ? [`mobile=${e164(p.mobilephone)}`] : [])].sort().join(",");
}

/** Differences between Quo and HubSpot's active contacts (empty when they match exactly). */
function compareWithHubspot(contacts: readonly EmulatedContact[]): string[] {
  const problems: string[] = [];
  const m = byExternalId(contacts);
  const active = hubspot.contacts().filter((c) => !c.archived);
  const expected = new Set(active.map((c) => `${SYNC}:${c.id}`));
  for (const [ext, list] of m) {
    if (list.length > 1) problems.push(`${ext}: ${list.length} contacts`);
    if (!expected.has(ext)) problems.push(`${ext}: in Quo but not in HubSpot`);
  }
  for (const h of active) {
    const c = m.get(`${SYNC}:${h.id}`)?.[0];
    if (!c) {
      problems.push(`${h.id}: missing in Quo`);
      continue;
    }
    const p = h.properties;
    const d = c.defaultFields;
    if (d.firstName !== p.firstname || d.lastName !== p.lastname || d.company !== p.company) problems.push(`${h.id}: names ${d.firstName} ${d.lastName} ${d.company}`);
    const phones = d.phoneNumbers.map((x) => `${x.name}=${x.value}`).sort().join(",");
    if (phones !== expectedPhones(p)) problems.push(`${h.id}: phones ${phones} != ${expectedPhones(p)}`);
    const emails = d.emails.map((x) => `${x.name}=${x.value}`).join(",");
    if (emails !== (p.email ? `work=${p.email}` : "")) problems.push(`${h.id}: emails ${emails}`);
  }
  return problems;
}

describe("HubSpot → Quo", () => {
  it(
    `${LARGE.toLocaleString("en-US")} contacts sync exactly; 50 archived are deleted, under the guard; a rerun writes nothing`,
    async () => {
      const ids = hubspot.addContacts(Array.from({ length: LARGE }, (_, i) => person(i + 1)));
      writeConfig({ deletes: "mirror", maxDeletePercent: 1 });

      const first = await sync();
      expect(first.stderr).toBe("");
      expect(first.status).toBe(0);
      expect(reports(first.stdout)[0].counts).toEqual({ create: LARGE, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 0, failed: 0, skipped: 0, filtered: 0 });
      expect(compareWithHubspot(quo.contacts())).toEqual([]);
      // 100 pages of 100 and one property check.
      expect(hubspot.stats().byRoute).toEqual({ "GET /crm/v3/objects/contacts": 100, "GET /crm/v3/properties/contacts": 1 });

      const archived = ids.filter((_, i) => i % 200 === 7);
      expect(archived).toHaveLength(50);
      hubspot.archive(archived);

      // 50 of 10,000 is 0.5 %: over a 0.1 % guard, the run is refused and writes nothing.
      writeConfig({ deletes: "mirror", maxDeletePercent: 0.1 });
      quo.resetStats();
      const refused = await sync();
      expect(refused.status).toBe(3);
      expect(refused.stderr).toMatch(/would delete 50 of the sync's 10000 contacts/);
      expect(writes(quo)).toBe(0);

      writeConfig({ deletes: "mirror", maxDeletePercent: 1 });
      const deleting = await sync();
      expect(deleting.status).toBe(0);
      const rep = reports(deleting.stdout)[0];
      expect(rep.counts).toEqual({ create: 0, update: 0, delete: 50, link: 0, unlink: 0, unchanged: LARGE - 50, rejected: 0, failed: 0, skipped: 0, filtered: 0 });
      expect(rep.changes.map((c: { key: string }) => c.key).sort()).toEqual([...archived].sort());
      expect(quo.stats().writesApplied).toEqual({ create: 0, update: 0, delete: 50 });
      expect(quo.contacts()).toHaveLength(LARGE - 50);
      expect(compareWithHubspot(quo.contacts())).toEqual([]);

      quo.resetStats();
      const rerun = await sync();
      expect(rerun.status).toBe(0);
      expect(reports(rerun.stdout)[0].counts).toEqual({ create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: LARGE - 50, rejected: 0, failed: 0, skipped: 0, filtered: 0 });
      expect(writes(quo)).toBe(0);
    },
    240_000,
  );

  it("a purged contact is deleted, an edited one updated", async () => {
    const ids = hubspot.addContacts(Array.from({ length: 10 }, (_, i) => person(i + 1)));
    writeConfig({ deletes: "mirror", maxDeletePercent: 50 });
    expect((await sync()).status).toBe(0);
    hubspot.purge([ids[2]!]);
    hubspot.update(ids[4]!, { lastname: "Renamed", mobilephone: null });
    quo.resetStats();
    const r = await sync();
    expect(r.status).toBe(0);
    expect(reports(r.stdout)[0].counts).toMatchObject({ create: 0, update: 1, delete: 1, unchanged: 8 });
    expect(compareWithHubspot(quo.contacts())).toEqual([]);
  });

  it("archived: keep keeps archived contacts in Quo", async () => {
    const ids = hubspot.addContacts(Array.from({ length: 10 }, (_, i) => person(i + 1)));
    writeConfig({ deletes: "mirror", maxDeletePercent: 50, source: { type: "hubspot", archived: "keep", requestsPer10Seconds: 1000 } });
    expect((await sync()).status).toBe(0);
    hubspot.archive([ids[0]!, ids[1]!]);
    quo.resetStats();
    const r = await sync();
    expect(reports(r.stdout)[0].counts).toMatchObject({ delete: 0, unchanged: 10 });
    expect(writes(quo)).toBe(0);
  });
});

describe("a failed or refused read deletes nothing", () => {
  async function syncedAccount(n: number): Promise<string[]> {
    const ids = hubspot.addContacts(Array.from({ length: n }, (_, i) => person(i + 1)));
    writeConfig({ deletes: "mirror", maxDeletePercent: 100 });
    expect((await sync()).status).toBe(0);
    quo.resetStats();
    hubspot.resetStats();
    return ids;
  }

  it("a 500 on page 3 that outlasts the retries stops the run before any write", async () => {
    await syncedAccount(250);
    hubspot.setFault({ status: 500, page: 3 });
    const r = await sync();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/reading page 3 of HubSpot's contacts: HubSpot answered 500/);
    expect(quo.stats().requests).toBe(0);
    expect(quo.contacts()).toHaveLength(250);
  }, 90_000);

  it("a 429 DAILY stops the run with a clear message and deletes nothing", async () => {
    await syncedAccount(150);
    hubspot.setFault({ status: 429, policyName: "DAILY", page: 2 });
    const r = await sync();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("HubSpot's daily API limit is used up");
    expect(r.stderr).toContain("nothing was changed");
    expect(hubspot.stats().rateLimited).toEqual({ DAILY: 1 });
    expect(quo.stats().requests).toBe(0);
    expect(quo.contacts()).toHaveLength(150);
  });

  it("an unknown property stops the run before any write, naming it and the closest ones", async () => {
    hubspot.addContacts([person(1)]);
    writeConfig({}, { role: "jobtitel", phoneNumbers: { work: "phone", mobile: "mobile_phone" } });
    const r = await sync();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("HubSpot has no contact property named 'jobtitel'; closest: 'jobtitle'");
    expect(r.stderr).toContain("HubSpot has no contact property named 'mobile_phone'; closest: 'mobilephone'");
    expect(hubspot.stats().byRoute["GET /crm/v3/objects/contacts"]).toBeUndefined();
    expect(quo.stats().requests).toBe(0);
  });

  it("401 says the token is invalid without printing it; a missing token names the variable", async () => {
    hubspot.addContacts([person(1)]);
    writeConfig();
    const wrong = "pat-na1-WRONG-SECRET-0000";
    const bad = await runCli(["sync", "--config", ws.config], env({ HUBSPOT_ACCESS_TOKEN: wrong, LOG_LEVEL: "debug" }), ws.dir);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/HUBSPOT_ACCESS_TOKEN \(401\): it is invalid, expired or revoked/);
    expect(bad.stdout + bad.stderr).not.toContain(wrong);
    const missing = await runCli(["sync", "--config", ws.config], env({ HUBSPOT_ACCESS_TOKEN: "" }), ws.dir);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("HUBSPOT_ACCESS_TOKEN is not set");
    expect(quo.stats().requests).toBe(0);
  });
});
