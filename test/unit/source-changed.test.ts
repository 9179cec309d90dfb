/**
 * When each connector says its data last changed (`ConnectorContext.sourceChanged`, gathered into
 * `Snapshot.sourceChangedAt` by `readSnapshot`): a CSV file's mtime from the open descriptor,
 * HubSpot's newest `lastmodifieddate` (full listing and incremental search), none for Google Sheets.
 * Real files, and the HubSpot and Sheets emulators over HTTP.
 */
import { mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGoogleSheetsSource } from "../../connectors/google-sheets/index.js";
import { createHubspotConnector } from "../../connectors/hubspot/index.js";
import { csvConnector } from "../../connectors/csv/index.js";
import type { ConnectorContext, SourceItem } from "../../connectors/types.js";
import type { CsvSourceConfig, GoogleSheetsSourceConfig, HubspotSourceConfig } from "../../src/config.js";
import { readSnapshot } from "../../src/sources.js";
import { STANDARD_CONTACT_PROPERTIES, startHubspotEmulator, type HubspotEmulator } from "../emulators/hubspot-emulator.js";
import { generateServiceAccount, startSheetsEmulator, type SheetsEmulator } from "../emulators/sheets-emulator.js";

const TOKEN = "pat-na1-SECRET-fresh-77aa";
const SHEET_ID = "1FreshSheetIdAbCdEfGhIjKlMnOpQr";

let dir: string;
let hubspot: HubspotEmulator;
let sheets: SheetsEmulator;
const account = generateServiceAccount("fresh@proj.iam.gserviceaccount.com");

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "quo-sync-source-changed-"));
  hubspot = await startHubspotEmulator({ tokens: [TOKEN], requestsPerWindow: 0 });
  hubspot.setProperties(STANDARD_CONTACT_PROPERTIES);
  sheets = await startSheetsEmulator();
  sheets.addServiceAccount(account.email, account.publicKeyPem);
  sheets.setSheet(SHEET_ID, "Contacts", [["id", "First Name"], ["1", "Ann"]]);
  sheets.share(SHEET_ID, account.email, "reader");
  writeFileSync(path.join(dir, "key.json"), JSON.stringify(account.keyFile));
});
afterAll(async () => {
  await hubspot.close();
  await sheets.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every item of one read, and each time the connector reported. */
async function readReporting<C>(read: (config: C, ctx: ConnectorContext) => AsyncIterable<SourceItem>, config: C, ctx: ConnectorContext): Promise<{ items: SourceItem[]; reported: number[] }> {
  const reported: number[] = [];
  const items: SourceItem[] = [];
  for await (const item of read(config, { ...ctx, sourceChanged: (at) => reported.push(at) })) items.push(item);
  return { items, reported };
}

describe("CSV", () => {
  const csv = (file: string): CsvSourceConfig => ({ type: "csv", path: file, delimiter: ",", encoding: "utf8" });
  const ctx: () => ConnectorContext = () => ({ baseDir: dir, env: {}, wanted: ["id"] });

  it("reports the file's mtime once, and the snapshot carries it", async () => {
    const file = path.join(dir, "people.csv");
    writeFileSync(file, "id,first\n1,Ann\n2,Bob\n");
    const mtime = new Date("2026-03-04T05:06:07.000Z");
    utimesSync(file, mtime, mtime);
    const { items, reported } = await readReporting((c: CsvSourceConfig, x) => csvConnector.read(c, x), csv("people.csv"), ctx());
    expect(reported).toEqual([mtime.getTime()]);
    // The item stream is unchanged: the time travels beside it.
    expect(items.map((i) => i.type)).toEqual(["header", "row", "row"]);
    expect((await readSnapshot(csv("people.csv"), ctx())).sourceChangedAt).toBe(mtime.getTime());
  });

  it("an empty file still tells its mtime", async () => {
    const file = path.join(dir, "empty.csv");
    writeFileSync(file, "");
    const mtime = new Date("2025-12-31T23:59:59.000Z");
    utimesSync(file, mtime, mtime);
    expect((await readReporting((c: CsvSourceConfig, x) => csvConnector.read(c, x), csv("empty.csv"), ctx())).reported).toEqual([mtime.getTime()]);
  });

  it("the mtime is of the file opened: one renamed over it during the read does not date it", async () => {
    const file = path.join(dir, "swap.csv");
    writeFileSync(file, "id,first\n" + Array.from({ length: 5000 }, (_, i) => `${i},Name${i}`).join("\n") + "\n");
    const old = new Date("2026-01-01T00:00:00.000Z");
    utimesSync(file, old, old);
    const reported: number[] = [];
    let rows = 0;
    for await (const item of csvConnector.read(csv("swap.csv"), { ...ctx(), sourceChanged: (at) => reported.push(at) })) {
      if (item.type !== "row" || ++rows !== 1) continue;
      // After the first row: a new file (newer mtime) takes the path's place.
      const next = path.join(dir, "swap.next.csv");
      writeFileSync(next, "id,first\n9,New\n");
      utimesSync(next, new Date("2026-06-01T00:00:00.000Z"), new Date("2026-06-01T00:00:00.000Z"));
      renameSync(next, file);
    }
    expect(rows).toBe(5000);
    expect(reported).toEqual([old.getTime()]);
  });
});

describe("HubSpot", () => {
  const config = (extra: Partial<HubspotSourceConfig> = {}): HubspotSourceConfig => ({ type: "hubspot", properties: [], archived: "drop", requestsPer10Seconds: 1000, ...extra });
  const ctx = (extra: Partial<ConnectorContext> = {}): ConnectorContext => ({ baseDir: dir, env: { HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_URL: hubspot.url }, wanted: ["hs_object_id", "firstname"], ...extra });
  const connector = createHubspotConnector({ retryBaseDelayMs: 5, rateLimitBaseDelayMs: 20, maxRetries: 3 });

  it("the newest lastmodifieddate among the contacts read: full listing (incremental or not) and incremental search", async () => {
    hubspot.purge(hubspot.contacts().map((c) => c.id));
    const [a, b, c] = hubspot.addContacts([{ firstname: "Ann" }, { firstname: "Bob" }, { firstname: "Cy" }]);
    hubspot.setModified([a!], new Date("2026-02-01T10:00:00.000Z"));
    hubspot.setModified([b!], new Date("2026-02-03T10:00:00.000Z"));
    hubspot.setModified([c!], new Date("2026-02-02T10:00:00.000Z"));
    const newest = Date.parse("2026-02-03T10:00:00.000Z");
    const read = (cfg: HubspotSourceConfig, x: ConnectorContext) => connector.read(cfg, x);
    // A plain listing does not ask for lastmodifieddate: the listing's own updatedAt tells it.
    expect((await readReporting(read, config(), ctx())).reported).toEqual([newest]);
    const full = await readReporting(read, config({ incremental: { fullEvery: "24h" } }), ctx());
    expect(full.reported).toEqual([newest]);
    // Incremental from that read's cursor: the contacts modified since, and the newest of them.
    const cursor = full.items.find((i) => i.type === "cursor");
    if (cursor?.type !== "cursor") throw new Error("no cursor");
    const later = new Date(Date.now() - 1000);
    hubspot.setModified([a!], later);
    const inc = await readReporting(read, config({ incremental: { fullEvery: "24h" } }), ctx({ cursor: cursor.cursor }));
    expect(inc.items.some((i) => i.type === "cursor" && i.partial)).toBe(true);
    expect(inc.reported).toEqual([later.getTime()]);
  });

  it("nothing read, nothing reported: the snapshot's time is null", async () => {
    hubspot.purge(hubspot.contacts().map((c) => c.id));
    expect((await readReporting((cfg: HubspotSourceConfig, x) => connector.read(cfg, x), config(), ctx())).reported).toEqual([]);
  });
});

describe("Google Sheets", () => {
  it("cannot tell (the values API has no modified time): never reports, the snapshot's time is null", async () => {
    const { connector } = createGoogleSheetsSource({ retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, random: () => 0.5, sleep: async () => {} } });
    const config: GoogleSheetsSourceConfig = { type: "google-sheets", spreadsheetId: SHEET_ID, range: "Contacts", headerRow: 1, valueRenderOption: "FORMATTED_VALUE", credentials: "key.json" };
    const ctx: ConnectorContext = { baseDir: dir, env: { GOOGLE_SHEETS_API_URL: sheets.url }, wanted: ["id", "First Name"] };
    const { items, reported } = await readReporting((c: GoogleSheetsSourceConfig, x) => connector.read(c, x), config, ctx);
    expect(items.filter((i) => i.type === "row")).toHaveLength(1);
    expect(reported).toEqual([]);
  });
});
