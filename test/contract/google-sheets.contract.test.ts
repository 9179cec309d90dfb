/**
 * The Google Sheets connector against the shared contract: each table is put into a sheet of the
 * project's Sheets emulator, and the real Google client reads it back with a generated service
 * account key.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { googleSheetsConnector } from "../../connectors/google-sheets/index.js";
import { generateServiceAccount, startSheetsEmulator, type SheetsEmulator } from "../emulators/sheets-emulator.js";
import { describeConnectorContract, type MakeSource } from "./connector-contract.js";

let emulator: SheetsEmulator;
let dir: string;
const account = generateServiceAccount();
let counter = 0;

beforeAll(async () => {
  emulator = await startSheetsEmulator();
  emulator.addServiceAccount(account.email, account.publicKeyPem);
  dir = mkdtempSync(path.join(tmpdir(), "quo-sync-sheets-contract-"));
  writeFileSync(path.join(dir, "key.json"), JSON.stringify(account.keyFile));
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A sheet name that needs quoting, so every read goes through A1 quoting. */
function sheetSource(range: (sheet: string) => string): MakeSource {
  return async (table) => {
    const id = `contract-${++counter}`;
    const sheet = "Contacts 2024";
    emulator.setSheet(id, sheet, table);
    emulator.share(id, account.email, "reader");
    return {
      connector: googleSheetsConnector,
      config: { type: "google-sheets", spreadsheetId: id, range: range(sheet), headerRow: 1, credentials: "key.json", valueRenderOption: "FORMATTED_VALUE" },
      ctx: { baseDir: dir, env: { GOOGLE_SHEETS_API_URL: emulator.url }, wanted: [] },
    };
  };
}

describeConnectorContract("google-sheets (a bare sheet name)", sheetSource((sheet) => sheet));
describeConnectorContract("google-sheets (an open-ended A1 range)", sheetSource((sheet) => `'${sheet}'!A1:ZZ`));
