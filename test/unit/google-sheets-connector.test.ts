/**
 * The Google Sheets connector and write-back, through the real Google client against the project's
 * Sheets emulator on 127.0.0.1, with a service-account key generated here.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createGoogleSheetsSource } from "../../connectors/google-sheets/index.js";
import type { ConnectorContext, SourceItem } from "../../connectors/types.js";
import type { GoogleSheetsSourceConfig } from "../../src/config.js";
import { ConfigError, SourceError } from "../../src/errors.js";
import { generateServiceAccount, startSheetsEmulator, type SheetsEmulator } from "../emulators/sheets-emulator.js";

const SHEET_ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz";
const account = generateServiceAccount("sync@proj.iam.gserviceaccount.com");
const stranger = generateServiceAccount("other@proj.iam.gserviceaccount.com");
const sleeps: number[] = [];
const { connector, writeBack } = createGoogleSheetsSource({
  retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) },
});

let emulator: SheetsEmulator;
let dir: string;

beforeAll(async () => {
  emulator = await startSheetsEmulator();
  emulator.addServiceAccount(account.email, account.publicKeyPem);
  emulator.addServiceAccount(stranger.email, stranger.publicKeyPem);
  dir = mkdtempSync(path.join(tmpdir(), "quo-sync-sheets-unit-"));
  writeFileSync(path.join(dir, "key.json"), JSON.stringify(account.keyFile));
  writeFileSync(path.join(dir, "stranger.json"), JSON.stringify(stranger.keyFile));
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  emulator.setSheet(SHEET_ID, "Contacts", [["id", "First Name"], ["1", "Ann"]]);
  emulator.unshareAll(SHEET_ID);
  emulator.share(SHEET_ID, account.email, "writer");
  emulator.setQuota(undefined);
  emulator.clearFaults();
  emulator.onRequest(undefined);
  emulator.resetStats();
  sleeps.length = 0;
});
afterEach(() => emulator.onRequest(undefined));

function config(extra: Partial<GoogleSheetsSourceConfig> = {}): GoogleSheetsSourceConfig {
  return { type: "google-sheets", spreadsheetId: SHEET_ID, range: "Contacts", headerRow: 1, valueRenderOption: "FORMATTED_VALUE", credentials: "key.json", ...extra };
}

function ctx(extra: Partial<ConnectorContext> = {}): ConnectorContext {
  return { baseDir: dir, env: { GOOGLE_SHEETS_API_URL: emulator.url }, wanted: ["id", "First Name"], ...extra };
}

async function read(c = config(), x = ctx()): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  for await (const item of connector.read(c, x)) items.push(item);
  return items;
}

async function readError(c = config(), x = ctx()): Promise<Error> {
  const err = await read(c, x).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error("the read succeeded");
  return err;
}

const rowsOf = (items: SourceItem[]) => items.flatMap((i) => (i.type === "row" ? [i.row] : []));

describe("read", () => {
  it("pads ragged rows, skips blank rows but keeps numbering, and trims header names", async () => {
    emulator.setSheet(SHEET_ID, "Contacts", [[" id ", "First Name ", "Email"], ["1", "Ann"], [], ["", " ", ""], ["3", "Cy", "cy@example.com"], ["4"]]);
    const items = await read();
    expect(items[0]).toEqual({ type: "header", columns: ["id", "First Name", "Email"] });
    expect(rowsOf(items)).toEqual([
      { row: 2, values: { id: "1", "First Name": "Ann", Email: "" } },
      { row: 5, values: { id: "3", "First Name": "Cy", Email: "cy@example.com" } },
      { row: 6, values: { id: "4", "First Name": "", Email: "" } },
    ]);
  });

  it("numbers rows as the sheet does when the range starts lower and the header is not its first row", async () => {
    emulator.setSheet(SHEET_ID, "Contacts", [["Report"], [], [], [], ["title row"], ["id", "First Name"], ["1", "Ann"], ["2", "Bob"]]);
    const items = await read(config({ range: "Contacts!A5:B", headerRow: 2 }));
    expect(items[0]).toEqual({ type: "header", columns: ["id", "First Name"] });
    expect(rowsOf(items).map((r) => [r.row, r.values.id])).toEqual([
      [7, "1"],
      [8, "2"],
    ]);
  });

  it("reads a range that starts in a later column", async () => {
    emulator.setSheet(SHEET_ID, "Contacts", [["x", "id", "First Name"], ["y", "1", "Ann"]]);
    const items = await read(config({ range: "Contacts!B1:C" }));
    expect(items).toEqual([{ type: "header", columns: ["id", "First Name"] }, { type: "row", row: { row: 2, values: { id: "1", "First Name": "Ann" } } }]);
  });

  it("an empty sheet is a header with no columns and no rows", async () => {
    emulator.setSheet(SHEET_ID, "Contacts", []);
    expect(await read()).toEqual([{ type: "header", columns: [] }]);
  });

  it("marks a row with values beyond the header as a problem", async () => {
    emulator.setSheet(SHEET_ID, "Contacts", [["id", "First Name"], ["1", "Ann", "", "stray"], ["2", "Bob", " "]]);
    const rows = rowsOf(await read());
    expect(rows[0]!.problem).toBe("has a value in column D, beyond the header's last column B");
    expect(rows[1]!.problem).toBeUndefined();
  });

  it.each([
    [[["id", "", "Email"]], "spreadsheet 1AbCdEfGhIjKlMnOpQrStUvWxYz (Contacts), row 1: column B of the header is empty"],
    [[["id", "Email", " Email "]], "row 1: column C of the header, 'Email', repeats column B"],
    [[[], ["1", "Ann"]], "row 1, the header row, is empty but rows below it are not"],
  ])("refuses a bad header by column letter and name: %j", async (rows, message) => {
    emulator.setSheet(SHEET_ID, "Contacts", rows);
    const err = await readError();
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toContain(message);
  });

  it("reads formatted values by default and unformatted ones on request", async () => {
    emulator.setSheet(SHEET_ID, "Contacts", [["id", "First Name", "VIP"], ["007", "Ann", "TRUE"]]);
    expect(rowsOf(await read())[0]!.values).toEqual({ id: "007", "First Name": "Ann", VIP: "TRUE" });
    expect(rowsOf(await read(config({ valueRenderOption: "UNFORMATTED_VALUE" })))[0]!.values).toEqual({ id: "7", "First Name": "Ann", VIP: "TRUE" });
  });

  it("reads the whole range in one request", async () => {
    emulator.setSheet(SHEET_ID, "Contacts", [["id", "First Name"], ...Array.from({ length: 5000 }, (_, i) => [String(i), `N${i}`])]);
    expect(rowsOf(await read())).toHaveLength(5000);
    expect(emulator.stats().byKind["values.get"]).toBe(1);
  });

  it("reads under the read-only scope, even with write-back configured; only the write-back asks for more", async () => {
    const scopes: string[][] = [];
    emulator.onRequest((req) => void scopes.push(req.scopes));
    const wb = config({ writeBack: { idColumn: "Quo ID" } });
    await read();
    await read(wb);
    await writeBack.writeBack(wb, ctx(), [{ key: "1", quoId: "CT1", status: "ok" }]);
    const readonly = ["https://www.googleapis.com/auth/spreadsheets.readonly"];
    const full = ["https://www.googleapis.com/auth/spreadsheets"];
    expect(scopes).toEqual([readonly, readonly, full, full]);
  });
});

describe("errors a user can act on", () => {
  it("403: names the service account to share the sheet with", async () => {
    emulator.unshareAll(SHEET_ID);
    const err = await readError();
    expect(err.message).toBe(`spreadsheet ${SHEET_ID} (Contacts): permission denied; share the sheet with ${account.email} (Viewer is enough to read)`);
  });

  it("404: names the spreadsheet id", async () => {
    const err = await readError(config({ spreadsheetId: "no-such-sheet" }));
    expect(err.message).toContain("spreadsheet no-such-sheet not found; check spreadsheetId");
    // The Sheets API's own answer is kept as the cause, for a person debugging.
    expect(err.cause).toMatchObject({ name: "SheetsCallFailed", status: 404 });
  });

  it("unknown sheet: lists the spreadsheet's sheets", async () => {
    emulator.setSheet(SHEET_ID, "Archive", [["x"]]);
    for (const range of ["Contacts 2025", "'Contacts 2025'!A1:Z"]) {
      const err = await readError(config({ range }));
      expect(err.message).toBe(`sheet 'Contacts 2025' not found in spreadsheet ${SHEET_ID}; its sheets are: Contacts, Archive`);
    }
  });

  it("a range that is not A1 notation is refused before any request", async () => {
    const err = await readError(config({ range: "Contacts!A1:B2:C3" }));
    expect(err.message).toContain("is neither a sheet name nor an A1 range");
    expect(emulator.stats().requests).toBe(0);
  });

  it("429: backs off exponentially and succeeds when the quota frees up", async () => {
    emulator.failNext({ status: 429, count: 2, message: "Quota exceeded for quota metric 'Read requests'" });
    expect(rowsOf(await read())).toHaveLength(1);
    expect(sleeps).toEqual([15, 25]);
    expect(emulator.stats().byKind["values.get"]).toBe(3);
  });

  it("429 that outlasts the retries: a transient SourceError, and no hidden extra attempts", async () => {
    emulator.setQuota({ readsPerWindow: 0 });
    const err = await readError();
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).transient).toBe(true);
    expect(err.message).toContain("Google Sheets quota exceeded (429 RESOURCE_EXHAUSTED) after 3 attempts");
    expect(err.message).toContain("wait a minute and rerun");
    // gaxios' own retry is off: exactly the policy's attempts reach the server.
    expect(emulator.stats().byKind["values.get"]).toBe(3);
  });

  it("5xx: retried, then transient", async () => {
    emulator.failNext({ status: 503, count: 5, message: "The service is currently unavailable." });
    const err = await readError();
    expect((err as SourceError).transient).toBe(true);
    expect(err.message).toContain("the Sheets API failed (HTTP 503: The service is currently unavailable.) after 3 attempts");
  });

  it("401: a key the API does not know", async () => {
    const rogue = generateServiceAccount(account.email);
    writeFileSync(path.join(dir, "rogue.json"), JSON.stringify(rogue.keyFile));
    const err = await readError(config({ credentials: "rogue.json" }));
    expect(err.message).toContain(`Google did not accept the service account ${account.email}`);
    expect(err.message).not.toContain("PRIVATE KEY");
  });

  it("an unreachable API is transient and names the origin", async () => {
    const err = await readError(config(), ctx({ env: { GOOGLE_SHEETS_API_URL: "http://127.0.0.1:9/" } }));
    expect((err as SourceError).transient).toBe(true);
    expect(err.message).toContain("cannot reach the Sheets API at http://127.0.0.1:9/");
  });

  it.each([
    [{ GOOGLE_SHEETS_API_URL: "not a url" }, "is not a URL"],
    [{ GOOGLE_SHEETS_API_URL: "http://127.0.0.1:1/v4/" }, "must be an http(s) origin without a path"],
  ])("a bad GOOGLE_SHEETS_API_URL is a config error: %j", async (env, message) => {
    const err = await readError(config(), ctx({ env }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(message);
  });

  describe("the key file", () => {
    it.each([
      ["missing.json", undefined, "cannot read the service-account key (source.credentials DIR/missing.json): no such file"],
      ["bad.json", "{ not json -----BEGIN PRIVATE KEY----- secret", "is not valid JSON"],
      ["user.json", JSON.stringify({ type: "authorized_user", client_secret: "s3cret" }), "is a 'authorized_user' credential; quo-sync needs a service-account key"],
      ["partial.json", JSON.stringify({ type: "service_account", client_email: "x@y" }), "lacks client_email or private_key"],
    ])("%s", async (file, content, message) => {
      if (content !== undefined) writeFileSync(path.join(dir, file), content);
      const err = await readError(config({ credentials: file }));
      expect(err).toBeInstanceOf(SourceError);
      // The file is named as resolved against the config's folder.
      expect(err.message).toContain(message.replace("DIR/", `${dir}/`));
      expect(err.message).not.toMatch(/PRIVATE KEY|secret|s3cret/);
    });

    it("falls back to GOOGLE_APPLICATION_CREDENTIALS, and says so when neither is set", async () => {
      const { credentials: _unused, ...noCredentials } = config();
      expect(rowsOf(await read(noCredentials, ctx({ env: { GOOGLE_SHEETS_API_URL: emulator.url, GOOGLE_APPLICATION_CREDENTIALS: path.join(dir, "key.json") } })))).toHaveLength(1);
      const err = await readError(noCredentials);
      expect(err.message).toContain("set GOOGLE_APPLICATION_CREDENTIALS");
      // A relative GOOGLE_APPLICATION_CREDENTIALS is the working directory's, and named resolved.
      const relative = await readError(noCredentials, ctx({ env: { GOOGLE_APPLICATION_CREDENTIALS: "no-such-key.json" } }));
      expect(relative.message).toBe(`cannot read the service-account key (GOOGLE_APPLICATION_CREDENTIALS ${path.resolve("no-such-key.json")}): no such file`);
    });
  });

  it("check reports instead of throwing", async () => {
    expect(await connector.check(config(), ctx())).toEqual({ ok: true });
    emulator.unshareAll(SHEET_ID);
    expect(await connector.check(config(), ctx())).toEqual({ ok: false, message: expect.stringContaining(`share the sheet with ${account.email}`) });
  });

  it("no error message carries the bearer token or the private key", async () => {
    emulator.failNext({ status: 500, count: 3 });
    const err = await readError();
    const keyLine = account.keyFile.private_key.split("\n")[1]!;
    expect(`${err.message} ${String(err.stack)}`).not.toContain(keyLine);
    // A JWT starts with the base64url of '{"alg"': eyJ.
    expect(`${err.message} ${String(err.stack)}`).not.toMatch(/Bearer|eyJ/);
  });
});

describe("write-back", () => {
  const wbConfig = (extra: Partial<GoogleSheetsSourceConfig> = {}) => config({ writeBack: { idColumn: "Quo ID", statusColumn: "Sync status" }, ...extra });

  it("adds the columns to the header and writes by key, even after the rows were re-ordered", async () => {
    emulator.setSheet(SHEET_ID, "Contacts", [["id", "First Name"], ["1", "Ann"], ["2", "Bob"], ["3", ""]]);
    // Between the run's read and the write-back, someone sorts the sheet and inserts a row.
    emulator.setSheet(SHEET_ID, "Contacts", [["id", "First Name"], ["3", ""], ["new", "Newt"], ["1", "Ann"], ["2", "Bob"]]);
    const result = await writeBack.writeBack(wbConfig(), ctx(), [
      { key: "1", quoId: "CT1", status: "ok" },
      { key: "2", quoId: "CT2", status: "ok" },
      { key: "3", quoId: null, status: "firstName: required" },
      { key: "gone", quoId: "CT9", status: "ok" },
    ]);
    expect(result).toEqual({ updated: 2 + 2 + 2 + 1, missing: ["gone"] });
    expect(emulator.getSheet(SHEET_ID, "Contacts")).toEqual([
      ["id", "First Name", "Quo ID", "Sync status"],
      ["3", "", "", "firstName: required"],
      ["new", "Newt"],
      ["1", "Ann", "CT1", "ok"],
      ["2", "Bob", "CT2", "ok"],
    ]);
    expect(emulator.stats().byKind["values.batchUpdate"]).toBe(1);
  });

  it("re-reads just before writing, so a move after the run's read is honoured", async () => {
    emulator.setSheet(SHEET_ID, "Contacts", [["id", "First Name", "Quo ID"], ["1", "Ann"], ["2", "Bob"]]);
    emulator.onRequest((req) => {
      if (req.kind === "values.get") emulator.setSheet(SHEET_ID, "Contacts", [["id", "First Name", "Quo ID"], ["2", "Bob"], ["1", "Ann"]]);
    });
    await writeBack.writeBack(config({ writeBack: { idColumn: "Quo ID" } }), ctx(), [
      { key: "1", quoId: "CT1", status: "ok" },
      { key: "2", quoId: "CT2", status: "ok" },
    ]);
    expect(emulator.getSheet(SHEET_ID, "Contacts")).toEqual([["id", "First Name", "Quo ID"], ["2", "Bob", "CT2"], ["1", "Ann", "CT1"]]);
  });

  it("writes nothing when every cell already holds its value", async () => {
    emulator.setSheet(SHEET_ID, "Contacts", [["id", "First Name", "Quo ID", "Sync status"], ["1", "Ann", "CT1", "ok"]]);
    const result = await writeBack.writeBack(wbConfig(), ctx(), [{ key: "1", quoId: "CT1", status: "ok" }]);
    expect(result).toEqual({ updated: 0, missing: [] });
    expect(emulator.stats().byKind["values.batchUpdate"]).toBe(0);
  });

  it("puts new columns after the widest row, inside the range, and quotes the sheet name", async () => {
    emulator.setSheet(SHEET_ID, "My Contacts", [["id", "First Name"], ["1", "Ann", "note"]]);
    await writeBack.writeBack(config({ range: "My Contacts", writeBack: { idColumn: "Quo ID" } }), ctx(), [{ key: "1", quoId: "CT1", status: "ok" }]);
    expect(emulator.getSheet(SHEET_ID, "My Contacts")).toEqual([["id", "First Name", "", "Quo ID"], ["1", "Ann", "note", "CT1"]]);
  });

  it("refuses to add a column outside a bounded range", async () => {
    const err = await writeBack.writeBack(config({ range: "Contacts!A1:B", writeBack: { idColumn: "Quo ID" } }), ctx(), [{ key: "1", quoId: "CT1", status: "ok" }]).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toContain("the header has no column 'Quo ID' (writeBack.idColumn) and the range ends at column B");
  });

  it("writes at the sheet's rows when the range starts lower", async () => {
    emulator.setSheet(SHEET_ID, "Contacts", [["notes"], [], ["id", "First Name", "Quo ID"], ["1", "Ann"]]);
    await writeBack.writeBack(config({ range: "Contacts!A3:C", writeBack: { idColumn: "Quo ID" } }), ctx(), [{ key: "1", quoId: "CT1", status: "ok" }]);
    expect(emulator.getSheet(SHEET_ID, "Contacts")[3]).toEqual(["1", "Ann", "CT1"]);
  });

  it("403 on write: asks for Editor access", async () => {
    emulator.unshareAll(SHEET_ID);
    emulator.share(SHEET_ID, account.email, "reader");
    const err = await writeBack.writeBack(wbConfig(), ctx(), [{ key: "1", quoId: "CT1", status: "ok" }]).catch((e: Error) => e);
    expect((err as Error).message).toContain(`share the sheet with ${account.email} as Editor`);
  });

  it("refuses write-back columns that the mapping reads", async () => {
    const err = await readError(wbConfig(), ctx({ wanted: ["id", "First Name", "Quo ID"] }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain("source.writeBack.idColumn 'Quo ID' is also read by the sync");
  });

  it("a key missing from the header refuses the write-back", async () => {
    const err = await writeBack.writeBack(wbConfig(), ctx({ wanted: ["Customer ID"] }), [{ key: "1", quoId: "CT1", status: "ok" }]).catch((e: Error) => e);
    expect((err as Error).message).toContain("the key column 'Customer ID' is no longer in the header");
    expect(emulator.stats().byKind["values.batchUpdate"]).toBe(0);
  });
});
