/**
 * The Sheets emulator itself: it must be at least as strict as Google where the connector relies on
 * it (bearer JWT checks, dropped trailing cells, error bodies), or the connector's tests prove little.
 */
import { createPrivateKey, sign } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateServiceAccount, startSheetsEmulator, type SheetsEmulator } from "../emulators/sheets-emulator.js";

const account = generateServiceAccount();
const ID = "sheet-1";
let emulator: SheetsEmulator;

beforeAll(async () => {
  emulator = await startSheetsEmulator();
  emulator.addServiceAccount(account.email, account.publicKeyPem);
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.setSheet(ID, "Sheet1", [["a", "b", "", ""], ["1", "", "", ""], ["", ""], ["2", "x", "y"], [], [""]]);
  emulator.setSheet(ID, "My Sheet", [["q"]]);
  emulator.unshareAll(ID);
  emulator.share(ID, account.email, "writer");
  emulator.setQuota(undefined);
  emulator.clearFaults();
});

const now = () => Math.floor(Date.now() / 1000);

function jwt(claims: Record<string, unknown>, key = account.keyFile.private_key, alg = "RS256"): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const data = `${enc({ alg, typ: "JWT" })}.${enc(claims)}`;
  return `${data}.${sign("RSA-SHA256", Buffer.from(data), createPrivateKey(key)).toString("base64url")}`;
}

const good = (extra: Record<string, unknown> = {}) =>
  jwt({ iss: account.email, sub: account.email, scope: "https://www.googleapis.com/auth/spreadsheets", iat: now(), exp: now() + 3600, ...extra });

async function call(path: string, token: string | undefined, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(new URL(path, emulator.url), { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json" } });
  return { status: res.status, body: await res.json() };
}

describe("authentication", () => {
  it.each([
    ["no bearer", undefined, 401, "UNAUTHENTICATED"],
    ["not a JWT", "abc", 401, "UNAUTHENTICATED"],
    ["expired", good({ exp: now() - 1 }), 401, "UNAUTHENTICATED"],
    ["signed by another key", jwt({ iss: account.email, scope: "https://www.googleapis.com/auth/spreadsheets", exp: now() + 60 }, generateServiceAccount().keyFile.private_key), 401, "UNAUTHENTICATED"],
    ["an unknown account", good({ iss: "nobody@x.iam.gserviceaccount.com", sub: "nobody@x.iam.gserviceaccount.com" }), 401, "UNAUTHENTICATED"],
    ["a scope without Sheets", good({ scope: "https://www.googleapis.com/auth/calendar" }), 403, "PERMISSION_DENIED"],
  ])("%s → %i", async (_name, token, status, reason) => {
    const r = await call(`v4/spreadsheets/${ID}/values/Sheet1`, token);
    expect(r.status).toBe(status);
    expect(r.body.error).toMatchObject({ code: status, status: reason });
  });

  it("a read-only scope cannot write, and an unshared account cannot read", async () => {
    const w = await call(`v4/spreadsheets/${ID}/values:batchUpdate`, good({ scope: "https://www.googleapis.com/auth/spreadsheets.readonly" }), {
      method: "POST",
      body: JSON.stringify({ valueInputOption: "RAW", data: [{ range: "Sheet1!A1", values: [["z"]] }] }),
    });
    expect(w.status).toBe(403);
    emulator.unshareAll(ID);
    const r = await call(`v4/spreadsheets/${ID}/values/Sheet1`, good());
    expect(r.body.error).toEqual({ code: 403, message: "The caller does not have permission", status: "PERMISSION_DENIED" });
  });
});

describe("values", () => {
  it("drops trailing empty cells and rows, and names the range it read", async () => {
    const r = await call(`v4/spreadsheets/${ID}/values/${encodeURIComponent("Sheet1")}`, good());
    expect(r.body).toEqual({ range: "Sheet1!A1:Z1000", majorDimension: "ROWS", values: [["a", "b"], ["1"], [], ["2", "x", "y"]] });
  });

  it.each([
    ["'My Sheet'!A1:B", "'My Sheet'!A1:B1000", [["q"]]],
    ["Sheet1!B2:C", "Sheet1!B2:C1000", [[], [], ["x", "y"]]],
    ["A4:C4", "Sheet1!A4:C4", [["2", "x", "y"]]],
  ])("%s", async (range, answered, values) => {
    const r = await call(`v4/spreadsheets/${ID}/values/${encodeURIComponent(range)}`, good());
    expect(r.body).toEqual({ range: answered, majorDimension: "ROWS", values });
  });

  it("an empty range has no values; an unknown sheet is 400; an unknown spreadsheet 404", async () => {
    expect((await call(`v4/spreadsheets/${ID}/values/${encodeURIComponent("Sheet1!F1:G")}`, good())).body.values).toBeUndefined();
    expect((await call(`v4/spreadsheets/${ID}/values/Nope`, good())).body.error).toEqual({ code: 400, message: "Unable to parse range: Nope", status: "INVALID_ARGUMENT" });
    expect((await call(`v4/spreadsheets/other/values/Sheet1`, good())).status).toBe(404);
  });

  it("batchUpdate writes cells and needs valueInputOption", async () => {
    const body = { data: [{ range: "'My Sheet'!C2", values: [["new"]] }] };
    expect((await call(`v4/spreadsheets/${ID}/values:batchUpdate`, good(), { method: "POST", body: JSON.stringify(body) })).status).toBe(400);
    const r = await call(`v4/spreadsheets/${ID}/values:batchUpdate`, good(), { method: "POST", body: JSON.stringify({ ...body, valueInputOption: "RAW" }) });
    expect(r.body.totalUpdatedCells).toBe(1);
    expect(emulator.getSheet(ID, "My Sheet")).toEqual([["q"], ["", "", "new"]]);
  });

  it("metadata lists the sheets in order", async () => {
    const r = await call(`v4/spreadsheets/${ID}?fields=sheets.properties`, good());
    expect(r.body.sheets.map((s: any) => s.properties.title)).toEqual(["Sheet1", "My Sheet"]);
  });

  it("a read quota answers 429 RESOURCE_EXHAUSTED once spent", async () => {
    emulator.setQuota({ readsPerWindow: 1, windowMs: 60_000 });
    expect((await call(`v4/spreadsheets/${ID}/values/Sheet1`, good())).status).toBe(200);
    const r = await call(`v4/spreadsheets/${ID}/values/Sheet1`, good());
    expect(r.body.error).toMatchObject({ code: 429, status: "RESOURCE_EXHAUSTED" });
  });
});
