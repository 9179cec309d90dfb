/**
 * Incremental HubSpot reads end to end through the built CLI (`npm run build` first): the HubSpot
 * and Quo emulators in this process on 127.0.0.1, the CLI in a child process with a real SQLite
 * state. Between full refreshes a run costs one search request when nothing changed, applies exactly
 * what changed, reads a timestamp shared by 12,000 contacts once, deletes nothing (deletes wait for
 * the full refresh, or --full), picks up an edit the search index showed late thanks to the
 * overlap, and a run that fails or is killed leaves the watermark where it was.
 */
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openStore, type SyncCursor } from "../../src/state/store.js";
import type { HubspotEmulator } from "../emulators/hubspot-emulator.js";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { ENGINES } from "./engines.js";
import { Workspace, byExternalId, cliEnv, reports, runCli, startCli, writes, useQuoAndHubspot } from "./harness.js";

const TOKEN = "pat-na1-SECRET-incremental-7c2d";
const SYNC = "crm";
const SEARCH = "POST /crm/v3/objects/contacts/search";
const LIST = "GET /crm/v3/objects/contacts";
const PROPERTIES = "GET /crm/v3/properties/contacts";
const HOUR = 3_600_000;

let quo: QuoEmulator;
let hubspot: HubspotEmulator;
let ws: Workspace;

useQuoAndHubspot(TOKEN, (q, h, w) => {
  quo = q;
  hubspot = h;
  ws = w;
});
afterEach(() => {
  databaseUrl = undefined;
});

function writeConfig(extra: Record<string, unknown> = {}): void {
  ws.writeConfig(
    {
      name: SYNC,
      source: { type: "hubspot", requestsPer10Seconds: 1000, incremental: { fullEvery: "24h" } },
      key: undefined,
      fields: { firstName: "firstname", lastName: "lastname", company: "company", phoneNumbers: { work: "phone" }, emails: {} },
      deletes: "mirror",
      maxDeletePercent: 100,
      ...extra,
    },
    { quo: { requestsPerSecond: 100 } },
  );
}

/** A PostgreSQL state's URL (`QUO_SYNC_DATABASE_URL`) for the test that sets it; SQLite (`ws.state`) otherwise. */
let databaseUrl: string | undefined;
const env = (): NodeJS.ProcessEnv => cliEnv(quo, { HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_URL: hubspot.url, ...(databaseUrl ? { QUO_SYNC_DATABASE_URL: databaseUrl } : {}) });
const sync = (...args: string[]) => runCli(["sync", "--config", ws.config, "--format", "json", ...args], env(), ws.dir);

function person(i: number): Record<string, string> {
  return { firstname: `First${i}`, lastname: `Last${i}`, company: `Company ${i % 13}`, phone: `+1 415 ${String(200 + Math.floor(i / 10_000))} ${String(i % 10_000).padStart(4, "0")}` };
}

/** Adds `n` contacts last modified an hour ago (so they are older than any overlap); returns their ids. */
function addOld(n: number, from = 1): string[] {
  const ids = hubspot.addContacts(Array.from({ length: n }, (_, i) => person(from + i)));
  hubspot.setModified(ids, new Date(Date.now() - HOUR));
  return ids;
}

async function cursorOf(): Promise<SyncCursor | null> {
  const store = await openStore(databaseUrl ?? ws.state, { readonly: true });
  try {
    return await store.syncCursor(SYNC);
  } finally {
    await store.close();
  }
}

/** Runs a sync that must succeed; returns its JSON report. */
async function okSync(...args: string[]): Promise<any> {
  const r = await sync(...args);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return reports(r.stdout)[0];
}

const counts = (c: Partial<Record<string, number>>) => ({ create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 0, failed: 0, skipped: 0, filtered: 0, ...c });

describe("incremental HubSpot reads", () => {
  it("the first run reads everything; an idle incremental run of 5,000 contacts is ONE HubSpot request and no Quo write; 30 edits and 10 new contacts are exactly 30 updates and 10 creates", async () => {
    const ids = addOld(5_000);
    writeConfig();
    const first = await okSync();
    expect(first.read).toBe("full");
    expect(first.counts).toEqual(counts({ create: 5_000 }));
    expect(hubspot.stats().byRoute).toEqual({ [LIST]: 50, [PROPERTIES]: 1 });
    const afterFull = await cursorOf();
    expect(afterFull?.fullAt).not.toBeNull();
    // The cursor holds a time and property names: never the token.
    expect(JSON.stringify(afterFull)).not.toContain(TOKEN);

    hubspot.resetStats();
    quo.resetStats();
    const idle = await okSync();
    expect(idle.read).toBe("incremental");
    expect(idle.counts).toEqual(counts({}));
    expect(hubspot.stats().requests).toBe(1);
    expect(hubspot.stats().byRoute).toEqual({ [SEARCH]: 1 });
    expect(writes(quo)).toBe(0);
    // The idle run keeps the time of the full read.
    expect((await cursorOf())?.fullAt).toBe(afterFull?.fullAt);

    const edited = ids.filter((_, i) => i % 160 === 3).slice(0, 30);
    expect(edited).toHaveLength(30);
    for (const id of edited) hubspot.update(id, { company: `Edited ${id}` });
    const added = hubspot.addContacts(Array.from({ length: 10 }, (_, i) => person(9_000 + i)));
    hubspot.resetStats();
    quo.resetStats();
    const changed = await okSync();
    expect(changed.read).toBe("incremental");
    expect(changed.counts).toEqual(counts({ create: 10, update: 30 }));
    expect(quo.stats().writesApplied).toEqual({ create: 10, update: 30, delete: 0 });
    expect(hubspot.stats().byRoute).toEqual({ [SEARCH]: 1 });
    const inQuo = byExternalId(quo.contacts());
    for (const id of edited) expect(inQuo.get(`${SYNC}:${id}`)?.[0]?.defaultFields.company).toBe(`Edited ${id}`);
    for (const id of added) expect(inQuo.get(`${SYNC}:${id}`)).toHaveLength(1);
    expect(quo.contacts()).toHaveLength(5_010);

    // The contacts just applied are within the overlap: the next run reads them again and leaves them alone.
    hubspot.resetStats();
    quo.resetStats();
    const again = await okSync();
    expect(again.counts).toEqual(counts({ unchanged: 40 }));
    expect(hubspot.stats().byRoute).toEqual({ [SEARCH]: 1 });
    expect(writes(quo)).toBe(0);
  }, 120_000);

  it("12,000 contacts sharing one lastmodifieddate are each read once: none lost, no loop, a bounded number of requests", async () => {
    writeConfig();
    // A first (full) run of an empty portal saves the watermark.
    expect((await okSync()).read).toBe("full");
    // A bulk import: 12,000 contacts with one timestamp after it.
    const ids = hubspot.addContacts(Array.from({ length: 12_000 }, (_, i) => person(i + 1)));
    hubspot.setModified(ids, new Date(Date.now() - 60_000));
    hubspot.resetStats();
    // A dry run reads as the real run would (incrementally) and writes nothing: 12,000 creates
    // without 12,000 writes to wait for.
    const r = await runCli(["plan", "--config", ws.config, "--format", "json"], env(), ws.dir);
    expect(r.stderr).toBe("");
    const report = reports(r.stdout)[0];
    expect(report.read).toBe("incremental");
    // Every contact in the snapshot once: 12,000 creates, no repeated key rejected.
    expect(report.counts).toEqual(counts({ create: 12_000 }));
    expect(new Set(report.changes.map((c: { key: string }) => c.key)).size).toBe(12_000);
    // One query finds a page sharing one timestamp; 60 pages of 200 by id range; one more past it.
    const searches = hubspot.stats().byRoute[SEARCH] ?? 0;
    expect(searches).toBeGreaterThanOrEqual(61);
    expect(searches).toBeLessThanOrEqual(64);
    expect(hubspot.stats().byRoute).toEqual({ [SEARCH]: searches });
    expect(hubspot.stats().byStatus).toEqual({ "200": searches });
    expect(writes(quo)).toBe(0);
  }, 120_000);

  it("a contact deleted in HubSpot is deleted in Quo only at the next full refresh: when fullEvery has passed, or now with --full", async () => {
    const ids = addOld(20);
    writeConfig();
    await okSync();
    const [archived, purged, edited] = ids as [string, string, string];
    hubspot.archive([archived]);
    hubspot.purge([purged]);
    hubspot.update(edited, { firstname: "Edited" });

    const incremental = await okSync();
    expect(incremental.read).toBe("incremental");
    expect(incremental.counts).toEqual(counts({ update: 1 }));
    expect(quo.contacts()).toHaveLength(20);

    // --full: a full refresh now, which deletes both.
    quo.resetStats();
    const full = await okSync("--full");
    expect(full.read).toBe("full");
    expect(full.counts).toEqual(counts({ delete: 2, unchanged: 18 }));
    expect(quo.stats().writesApplied).toEqual({ create: 0, update: 0, delete: 2 });
    expect(byExternalId(quo.contacts()).has(`${SYNC}:${archived}`)).toBe(false);

    // fullEvery elapsed since the last full read: the run reads everything and deletes.
    hubspot.archive([ids[5] as string]);
    expect((await okSync()).counts.delete).toBe(0);
    const db = new Database(ws.state);
    db.prepare("UPDATE sync_cursors SET full_at = full_at - ? WHERE sync = ?").run(25 * HOUR, SYNC);
    db.close();
    hubspot.resetStats();
    const due = await okSync();
    expect(due.read).toBe("full");
    expect(due.counts).toEqual(counts({ delete: 1, unchanged: 17 }));
    expect(hubspot.stats().byRoute[LIST]).toBe(1);
  }, 60_000);

  it("a contact edited during the search lag, and so missed by one run, is picked up by the next thanks to the overlap", async () => {
    const ids = addOld(10);
    writeConfig();
    await okSync();
    const [late, early] = ids as [string, string];
    // The search index shows `late`'s edit only 3 s after it is made; `early`, edited just after, at once.
    hubspot.setSearchLag(3_000);
    hubspot.update(late, { company: "Late edit" });
    hubspot.setSearchLag(0);
    await new Promise((r) => setTimeout(r, 5));
    hubspot.update(early, { company: "Quick edit" });

    const first = await okSync();
    expect(first.counts).toEqual(counts({ update: 1 }));
    expect(byExternalId(quo.contacts()).get(`${SYNC}:${late}`)?.[0]?.defaultFields.company).not.toBe("Late edit");
    // The watermark moved to `early`'s edit, past `late`'s.
    const watermark = (await cursorOf())?.cursor as { watermark: number };
    expect(watermark.watermark).toBe(Date.parse(hubspot.contacts().find((c) => c.id === early)!.properties.lastmodifieddate!));

    await new Promise((r) => setTimeout(r, 3_000));
    const second = await okSync();
    expect(second.counts).toEqual(counts({ update: 1, unchanged: 1 }));
    expect(byExternalId(quo.contacts()).get(`${SYNC}:${late}`)?.[0]?.defaultFields.company).toBe("Late edit");
  }, 60_000);

  it("a run that fails, or is killed mid-write, leaves the watermark where it was: the next run reads again and applies everything", async () => {
    const ids = addOld(200);
    writeConfig();
    await okSync();
    const before = await cursorOf();

    // The search fails: the run fails, nothing moves.
    const edited = ids.slice(0, 30);
    for (const id of edited) hubspot.update(id, { lastname: `Changed ${id}` });
    hubspot.setFault({ route: "search", status: 400, times: 1 });
    const failed = await sync();
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/searching HubSpot's contacts modified since/);
    expect(failed.stderr).not.toContain(TOKEN);
    expect(await cursorOf()).toEqual(before);

    // Killed while writing: some updates done, the watermark still where it was.
    quo.setLatency(150);
    const run = startCli(["sync", "--config", ws.config, "--format", "json"], env(), ws.dir);
    const deadline = Date.now() + 30_000;
    while (quo.stats().writesApplied.update < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    run.child.kill("SIGKILL");
    await run.done;
    const done = quo.stats().writesApplied.update;
    expect(done).toBeGreaterThanOrEqual(5);
    expect(done).toBeLessThan(30);
    expect(await cursorOf()).toEqual(before);

    quo.setLatency(0);
    const rerun = await okSync();
    expect(rerun.read).toBe("incremental");
    expect(rerun.counts.update + rerun.counts.unchanged).toBe(30);
    const inQuo = byExternalId(quo.contacts());
    for (const id of edited) expect(inQuo.get(`${SYNC}:${id}`)?.[0]?.defaultFields.lastName).toBe(`Changed ${id}`);
    const after = await cursorOf();
    expect((after?.cursor as { watermark: number }).watermark).toBeGreaterThan((before?.cursor as { watermark: number }).watermark);
    expect(after?.fullAt).toBe(before?.fullAt);
  }, 90_000);

  it("an update Quo refuses keeps the watermark, so the next run reads that contact again and retries it", async () => {
    const ids = addOld(20);
    writeConfig();
    await okSync();
    const before = await cursorOf();
    const [refused, fine] = ids as [string, string];
    hubspot.update(refused, { lastname: "Refuse me" });
    hubspot.update(fine, { lastname: "Fine" });
    quo.setRefusal((req) => (req.method === "PATCH" && JSON.stringify(req.body).includes("Refuse me") ? { status: 400, code: "0800400", title: "Bad Request", message: "refused for the test" } : undefined));
    try {
      const r = await sync();
      const report = reports(r.stdout)[0];
      expect(report.read).toBe("incremental");
      expect(report.counts).toMatchObject({ update: 1, failed: 1 });
      expect(await cursorOf()).toEqual(before);
    } finally {
      quo.setRefusal(undefined);
    }
    const retried = await okSync();
    expect(retried.counts).toEqual(counts({ update: 1, unchanged: 1 }));
    expect(byExternalId(quo.contacts()).get(`${SYNC}:${refused}`)?.[0]?.defaultFields.lastName).toBe("Refuse me");
    expect((await cursorOf())?.cursor).not.toEqual(before?.cursor);
  }, 60_000);

  it("a change of the properties read makes the next run a full one; a dry run reads incrementally and saves nothing", async () => {
    addOld(5);
    writeConfig();
    await okSync();
    const before = await cursorOf();
    hubspot.resetStats();
    const plan = await runCli(["plan", "--config", ws.config, "--format", "json"], env(), ws.dir);
    expect(plan.status).toBe(0);
    expect(reports(plan.stdout)[0].read).toBe("incremental");
    expect(hubspot.stats().byRoute).toEqual({ [SEARCH]: 1 });
    expect(await cursorOf()).toEqual(before);

    writeConfig({ fields: { firstName: "firstname", lastName: "lastname", company: "company", phoneNumbers: { work: "phone" }, emails: { work: "email" } } });
    hubspot.resetStats();
    const r = await okSync();
    expect(r.read).toBe("full");
    expect(hubspot.stats().byRoute).toEqual({ [LIST]: 1, [PROPERTIES]: 1 });
  }, 60_000);
});

describe.each(ENGINES)("incremental HubSpot reads on %s", (engine, fx) => {
  it("full, idle, then an edit: the cursor saved by the state engine, the report and its table say which read each run made", async () => {
    if (engine === "postgres") databaseUrl = await fx.fresh();
    const ids = addOld(50);
    writeConfig();
    expect((await okSync()).read).toBe("full");
    const full = await cursorOf();
    expect(full?.fullAt).toEqual(expect.any(Number));
    hubspot.resetStats();
    const idle = await okSync();
    expect(idle.read).toBe("incremental");
    expect(hubspot.stats().requests).toBe(1);
    hubspot.update(ids[7] as string, { firstname: "Renamed" });
    const table = await runCli(["sync", "--config", ws.config, "--format", "table"], env(), ws.dir);
    expect(table.status).toBe(0);
    expect(table.stdout).toContain("crm: did create 0, update 1, delete 0");
    expect(table.stdout).toContain("incremental read: only the contacts modified since the last run; deletes wait for the next full refresh");
    const after = await cursorOf();
    expect(after?.fullAt).toBe(full?.fullAt);
    expect((after?.cursor as { watermark: number }).watermark).toBeGreaterThan((full?.cursor as { watermark: number }).watermark);
    expect(byExternalId(quo.contacts()).get(`${SYNC}:${ids[7]}`)?.[0]?.defaultFields.firstName).toBe("Renamed");
  }, 60_000);
});

describe("incremental HubSpot reads with a where filter", () => {
  it("reads the filter's property; a contact whose stage leaves the filter is deleted by the next incremental run, one coming into it is created", async () => {
    const ids = addOld(20);
    for (const [i, id] of ids.entries()) hubspot.update(id, { lifecyclestage: i < 15 ? "customer" : "lead" });
    hubspot.setModified(ids, new Date(Date.now() - HOUR));
    writeConfig({ where: [{ column: "lifecyclestage", in: ["customer"] }] });
    const first = await okSync();
    expect(first.counts).toEqual(counts({ create: 15, filtered: 5 }));
    const listed = hubspot.log().find((e) => e.path === "/crm/v3/objects/contacts");
    expect(String(listed?.query.properties ?? "").split(",")).toContain("lifecyclestage");

    // One customer churns, one lead becomes a customer: an incremental run reads only those two.
    hubspot.update(ids[2]!, { lifecyclestage: "other" });
    hubspot.update(ids[17]!, { lifecyclestage: "customer" });
    hubspot.resetStats();
    quo.resetStats();
    const next = await okSync();
    expect(next.read).toBe("incremental");
    expect(next.counts).toEqual(counts({ create: 1, delete: 1, filtered: 1 }));
    expect(next.filtered).toEqual([{ key: ids[2], row: expect.any(Number), condition: "where[0]: 'lifecyclestage' in [\"customer\"]", column: "lifecyclestage", value: "other" }]);
    expect(hubspot.stats().byRoute).toEqual({ [SEARCH]: 1 });
    expect(quo.stats().writesApplied).toEqual({ create: 1, update: 0, delete: 1 });
    const inQuo = byExternalId(quo.contacts());
    expect(inQuo.has(`${SYNC}:${ids[2]}`)).toBe(false);
    expect(inQuo.has(`${SYNC}:${ids[17]}`)).toBe(true);
    expect(quo.contacts()).toHaveLength(15);
  }, 60_000);
});
