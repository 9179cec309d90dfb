/**
 * Google Sheets end to end through the built CLI: the project's Sheets emulator and Quo emulator on
 * 127.0.0.1 in this process, the real Google client in the CLI with a key generated here.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startQuoEmulator, type EmulatedContact, type QuoEmulator } from "../emulators/quo-emulator.js";
import { generateServiceAccount, startSheetsEmulator, type SheetsEmulator } from "../emulators/sheets-emulator.js";
import { API_KEY, HEADER, Workspace, byExternalId, cliEnv, compareWithSource, personRow, reports, runCli, writes } from "./harness.js";

const SHEET_ID = "1qUoSyncTestSheet_abcdefghijklmnop";
const TAB = "Leads 2024";
const account = generateServiceAccount("quo-sync@acme-sync.iam.gserviceaccount.com");

let quo: QuoEmulator;
let sheets: SheetsEmulator;
let ws: Workspace;

beforeAll(async () => {
  quo = await startQuoEmulator({ apiKeys: [API_KEY], requestsPerSecond: 0 });
  sheets = await startSheetsEmulator();
  sheets.addServiceAccount(account.email, account.publicKeyPem);
});
afterAll(async () => {
  await quo.close();
  await sheets.close();
});
beforeEach(() => {
  ws = new Workspace();
  writeFileSync(path.join(ws.dir, "sa-key.json"), JSON.stringify(account.keyFile));
  for (const c of quo.contacts()) quo.appDelete(c.id);
  quo.resetStats();
  sheets.unshareAll(SHEET_ID);
  sheets.setSheet(SHEET_ID, TAB, []);
  sheets.share(SHEET_ID, account.email, "writer");
  sheets.setQuota(undefined);
  sheets.clearFaults();
  sheets.onRequest(undefined);
  sheets.resetStats();
});
afterEach(() => ws.cleanup());

function sheetSource(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: "google-sheets", spreadsheetId: SHEET_ID, range: TAB, credentials: "sa-key.json", ...extra };
}

const WRITE_BACK = { idColumn: "Quo ID", statusColumn: "Sync status" };
const env = () => cliEnv(quo, { GOOGLE_SHEETS_API_URL: sheets.url });
const sync = (...extra: string[]) => runCli(["sync", "--config", ws.config, "--format", "json", ...extra], env(), ws.dir);

/** A contact without what differs between two creations of the same data (ids, timestamps). */
function comparable(c: EmulatedContact): unknown {
  return {
    externalId: c.externalId,
    source: c.source,
    defaultFields: { ...c.defaultFields, phoneNumbers: c.defaultFields.phoneNumbers.map((p) => ({ name: p.name, value: p.value })), emails: c.defaultFields.emails.map((e) => ({ name: e.name, value: e.value })) },
    customFields: c.customFields,
  };
}

function snapshotContacts(): unknown[] {
  return quo
    .contacts()
    .map(comparable)
    .sort((a, b) => String((a as EmulatedContact).externalId).localeCompare(String((b as EmulatedContact).externalId)));
}

/**
 * A report without Quo ids and timings, which differ between two runs of the same data, nor when the
 * source last changed (a file's mtime; a sheet cannot tell).
 */
function comparableReport(r: any): unknown {
  const { durationMs: _d, writeBack: _w, sourceChangedAt: _s, ...rest } = r;
  return { ...rest, changes: r.changes.map(({ quoId: _q, ...c }: any) => c) };
}

const BAD_ROWS = [
  ["B1", "", "NoFirst", "", "(415) 222-1111", "", ""],
  ["B2", "Bad", "Phone", "", "555-12", "", ""],
];

describe("a sheet syncs exactly like the same table as CSV", () => {
  it("same contacts field by field, same report, same rejected rows", async () => {
    const rows = [...Array.from({ length: 25 }, (_, i) => personRow(i + 1)), ...BAD_ROWS];

    ws.writeCsv(rows);
    ws.writeConfig();
    const csvRun = await sync();
    expect(csvRun.status).toBe(0);
    const csvContacts = snapshotContacts();
    const csvReport = reports(csvRun.stdout)[0];

    for (const c of quo.contacts()) quo.appDelete(c.id);
    const sheetWs = new Workspace();
    try {
      writeFileSync(path.join(sheetWs.dir, "sa-key.json"), JSON.stringify(account.keyFile));
      sheets.setSheet(SHEET_ID, TAB, [HEADER, ...rows]);
      sheetWs.writeConfig({ source: sheetSource() });
      const sheetRun = await runCli(["sync", "--config", sheetWs.config, "--format", "json"], env(), sheetWs.dir);
      expect(sheetRun.stderr).toBe("");
      expect(sheetRun.status).toBe(0);
      const sheetReport = reports(sheetRun.stdout)[0];
      expect(snapshotContacts()).toEqual(csvContacts);
      expect(comparableReport(sheetReport)).toEqual(comparableReport(csvReport));
      expect(sheetReport.rejected.map((r: any) => [r.key, r.row])).toEqual([
        ["B1", 27],
        ["B2", 28],
      ]);
      expect(compareWithSource(quo.contacts(), rows.slice(0, 25))).toEqual([]);
      // Without writeBack the sheet is only read.
      expect(sheets.stats().byKind["values.batchUpdate"]).toBe(0);
    } finally {
      sheetWs.cleanup();
    }
  });

  it("a header in a lower row numbers rejected rows by the sheet's rows", async () => {
    sheets.setSheet(SHEET_ID, TAB, [["Leads export"], [], HEADER, personRow(1), BAD_ROWS[1]!]);
    ws.writeConfig({ source: sheetSource({ range: `'${TAB}'!A2:G`, headerRow: 2 }) });
    const r = await sync();
    expect(r.status).toBe(0);
    expect(reports(r.stdout)[0].rejected).toEqual([expect.objectContaining({ key: "B2", row: 5 })]);
  });
});

describe("write-back", () => {
  it("fills ids and statuses by key though rows were re-ordered and one inserted mid-run; reruns are no-ops", async () => {
    const rows = [...Array.from({ length: 12 }, (_, i) => personRow(i + 1)), ...BAD_ROWS];
    sheets.setSheet(SHEET_ID, TAB, [HEADER, ...rows]);
    ws.writeConfig({ source: sheetSource({ writeBack: WRITE_BACK }) });

    // After the run's read (values.get #1) and before the write-back's re-read (#2), someone sorts
    // the sheet by last name descending and inserts a row at the top.
    const inserted = personRow(99);
    sheets.onRequest((req) => {
      if (req.kind === "values.get" && req.nth === 2) {
        const [header, ...body] = sheets.getSheet(SHEET_ID, TAB);
        const sorted = [...body].sort((a, b) => (b[2] ?? "").localeCompare(a[2] ?? ""));
        sheets.setSheet(SHEET_ID, TAB, [header!, inserted, ...sorted]);
      }
    });
    const r1 = await sync();
    expect(r1.stderr).toBe("");
    expect(r1.status).toBe(0);
    const rep1 = reports(r1.stdout)[0];
    expect(rep1.counts).toMatchObject({ create: 12, rejected: 2 });
    expect(sheets.stats().byKind["values.batchUpdate"]).toBe(1);

    const checkSheet = () => {
      const [header, ...body] = sheets.getSheet(SHEET_ID, TAB);
      expect(header).toEqual([...HEADER, "Quo ID", "Sync status"]);
      const ids = byExternalId(quo.contacts());
      const reasons = new Map<string, string>(reports(r1.stdout)[0].rejected.map((x: any) => [x.key, x.reason]));
      for (const cells of body) {
        const key = cells[0]!;
        const contact = ids.get(`leads:${key}`)?.[0];
        if (reasons.has(key)) {
          expect([key, cells[7] ?? "", cells[8]]).toEqual([key, "", reasons.get(key)]);
        } else if (contact) {
          expect([key, cells[7], cells[8]]).toEqual([key, contact.id, "ok"]);
        } else {
          expect([key, cells[7] ?? "", cells[8] ?? ""]).toEqual([key, "", ""]);
        }
      }
      return body;
    };
    const body1 = checkSheet();
    expect(body1[0]![0]).toBe("K99");
    expect(body1[0]!.length).toBe(HEADER.length - 1);

    // The inserted row syncs now; the written ids and statuses change nothing for the others.
    sheets.onRequest(undefined);
    quo.resetStats();
    const r2 = await sync();
    expect(r2.status).toBe(0);
    expect(reports(r2.stdout)[0].counts).toMatchObject({ create: 1, update: 0, delete: 0, unchanged: 12, rejected: 2 });
    const [, ...body2] = sheets.getSheet(SHEET_ID, TAB);
    expect(body2[0]![7]).toBe(byExternalId(quo.contacts()).get("leads:K99")![0]!.id);
    expect(body2[0]![8]).toBe("ok");

    // And now nothing at all: no Quo request, no cell written.
    quo.resetStats();
    sheets.resetStats();
    const r3 = await sync();
    expect(r3.status).toBe(0);
    const rep3 = reports(r3.stdout)[0];
    expect(rep3.counts).toEqual({ create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 13, rejected: 2, failed: 0, skipped: 0, filtered: 0 });
    expect(rep3.writeBack).toEqual({ updated: 0, missing: [] });
    expect(writes(quo)).toBe(0);
    expect(quo.stats().requests).toBe(0);
    expect(sheets.stats().byKind["values.batchUpdate"]).toBe(0);
    expect(sheets.stats().cellsWritten).toBe(0);
  });

  it("a key deleted from the sheet between read and write-back is reported missing", async () => {
    sheets.setSheet(SHEET_ID, TAB, [HEADER, personRow(1), personRow(2)]);
    ws.writeConfig({ source: sheetSource({ writeBack: { idColumn: "Quo ID" } }) });
    sheets.onRequest((req) => {
      if (req.kind === "values.get" && req.nth === 2) sheets.setSheet(SHEET_ID, TAB, [HEADER, personRow(2)]);
    });
    const r = await sync();
    expect(r.status).toBe(0);
    expect(reports(r.stdout)[0].writeBack).toEqual({ updated: 2, missing: ["K1"] });
  });
});

describe("errors, and a failed read deletes nothing", () => {
  const failing = async (prepare: () => void, message: string | RegExp) => {
    prepare();
    const r = await sync();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/PRIVATE KEY|Bearer|eyJ/);
    return r;
  };

  it.each([
    ["403", () => sheets.unshareAll(SHEET_ID), `spreadsheet ${SHEET_ID} (${TAB}): permission denied; share the sheet with ${account.email} (Viewer is enough to read)`],
    ["404", () => ws.writeConfig({ source: sheetSource({ spreadsheetId: "1NoSuchSheet" }) }), "spreadsheet 1NoSuchSheet not found; check spreadsheetId"],
    ["unknown sheet", () => ws.writeConfig({ source: sheetSource({ range: "Leads 2025!A1:Z" }) }), `sheet 'Leads 2025' not found in spreadsheet ${SHEET_ID}; its sheets are: ${TAB}`],
  ])("%s", async (_name, prepare, message) => {
    sheets.setSheet(SHEET_ID, TAB, [HEADER, personRow(1)]);
    ws.writeConfig({ source: sheetSource() });
    await failing(prepare, `quo-sync: source error: ${message}`);
    expect(quo.stats().requests).toBe(0);
  });

  it.each([
    ["quota exhausted (429 after the retries)", () => sheets.setQuota({ readsPerWindow: 0 }), /Google Sheets quota exceeded \(429 RESOURCE_EXHAUSTED\) after 4 attempts/],
    ["a server error that persists", () => sheets.failNext({ status: 500, count: 4 }), /the Sheets API failed \(HTTP 500: .*\) after 4 attempts/],
  ])("%s: exit 1 and no contact deleted", async (_name, prepare, message) => {
    const rows = Array.from({ length: 5 }, (_, i) => personRow(i + 1));
    sheets.setSheet(SHEET_ID, TAB, [HEADER, ...rows]);
    ws.writeConfig({ source: sheetSource(), deletes: "mirror", maxDeletePercent: 100 });
    expect((await sync()).status).toBe(0);
    const before = quo.contacts();
    quo.resetStats();
    await failing(prepare, message);
    expect(writes(quo)).toBe(0);
    expect(quo.contacts()).toEqual(before);
  });

  it("a quota hit that clears during the backoff is ridden out", async () => {
    sheets.setSheet(SHEET_ID, TAB, [HEADER, personRow(1)]);
    ws.writeConfig({ source: sheetSource() });
    sheets.failNext({ status: 429, count: 1, message: "Quota exceeded for quota metric 'Read requests'" });
    const r = await sync();
    expect(r.status).toBe(0);
    expect(reports(r.stdout)[0].counts.create).toBe(1);
    expect(sheets.stats().byStatus["429"]).toBe(1);
  });
});
