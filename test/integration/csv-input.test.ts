/**
 * CSV files as people export them, end to end through the built CLI against the Quo emulator: a
 * file in another encoding, split by another delimiter or not text at all stops the run before any
 * request with a one-line error naming the file, line and setting; "auto" reads them; a row with
 * several problems lists them all; an oversized cell rejects its row and the run goes on; a report
 * that is not going to a terminal keeps every reason whole.
 */
import { writeFileSync } from "node:fs";
import iconv from "iconv-lite";
import { describe, expect, it } from "vitest";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { HEADER, Workspace, byExternalId, cliEnv, personRow, reports, runCli, toCsv, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

/** `sync` (or another command) with the JSON report and logs at info, so detections are seen. */
const cli = (args: string[]) => runCli([...args, "--config", ws.config], cliEnv(emulator, { LOG_LEVEL: "info" }), ws.dir);
const sync = (...extra: string[]) => cli(["sync", "--format", "json", ...extra]);

/** Log messages (JSON lines on stderr, as a pipe gets them). */
function logMessages(stderr: string): string[] {
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => String((JSON.parse(l) as { msg?: unknown }).msg));
}

/** The one line on stderr that is not a JSON log line: the error a person reads. */
function errorLine(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("{"))
    .join("\n");
}

/** The reason a failed command printed (once, without a log line), without its `quo-sync: ` prefix. */
function failure(stderr: string): string {
  return errorLine(stderr).replace(/^quo-sync: /, "");
}

const rows = [personRow(1), ["K2", "José", "Núñez", "Café Ltd", "(415) 200-0002", "", ""], personRow(3)];

describe("a file that is not what the config says: an error before any request", () => {
  it.each([
    {
      name: "a Windows-1252 export read as UTF-8",
      write: () => writeFileSync(ws.csv, iconv.encode(toCsv([HEADER, ...rows]), "windows-1252")),
      source: {},
      message: (file: string) => `${file}, line 3, column 7: byte 0xE9 is not valid UTF-8; the file looks like windows-1252: set "encoding": "windows-1252" in the source (or "auto")`,
    },
    {
      name: "a semicolon export read with ','",
      write: () => writeFileSync(ws.csv, toCsv([HEADER, ...rows]).replaceAll(",", ";")),
      source: {},
      message: (file: string) =>
        `${file}, line 1: the header 'id;First Name;Last Name;Company;Phone;Work Phone;Email' is one column with the delimiter ','; ';' splits it into 7 columns: set "delimiter": ";" in the source (or "delimiter": "auto")`,
    },
    {
      name: "a semicolon export with quoted cells, which read with ',' looks like a stray quote",
      write: () => writeFileSync(ws.csv, [HEADER, ...rows].map((r) => r.map((c) => `"${c}"`).join(";")).join("\r\n") + "\r\n"),
      source: {},
      message: (file: string) =>
        `${file}, line 1: the header '"id";"First Name";"Last Name";"Company";"Phone";"Work Phone"…' does not read as CSV with the delimiter ','; ';' splits it into 7 columns: set "delimiter": ";" in the source (or "delimiter": "auto")`,
    },
    {
      name: "an .xlsx workbook saved under a .csv name",
      write: () => {
        const header = Buffer.alloc(30);
        header.writeUInt32LE(0x04034b50, 0);
        header.writeUInt16LE("[Content_Types].xml".length, 26);
        writeFileSync(ws.csv, Buffer.concat([header, Buffer.from("[Content_Types].xml"), Buffer.from([0, 1, 2, 0xff, 0xfe]), Buffer.from("Jos\u00e9 SECRET-CELL")]));
      },
      source: {},
      message: (file: string) => `cannot read ${file}: not a text file; it looks like an Excel workbook (.xlsx): export the sheet as CSV (in Excel: File > Save As > CSV UTF-8; in Google Sheets: File > Download > CSV)`,
    },
  ])("$name", async ({ write, source, message }) => {
    write();
    ws.writeConfig({ source: { type: "csv", path: "contacts.csv", ...source } });
    const r = await sync();
    expect(r.status).toBe(1);
    // The command may prefix the kind of error; the connector's message is the rest of the line.
    expect(failure(r.stderr)).toMatch(new RegExp(`^(source error: )?${message(ws.csv).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
    expect(r.stderr).not.toContain("SECRET");
    expect(r.stderr).not.toContain("never closed");
    expect(r.stdout + errorLine(r.stderr)).not.toMatch(/[\u0000-\u0008\ufffd]/);
    expect(emulator.stats().requests).toBe(0);

    const check = await cli(["check", "--format", "json"]);
    expect(check.status).toBe(1);
    expect(check.stdout).toContain(JSON.stringify(message(ws.csv)).slice(1, -1));
  });
});

describe('"auto" reads them, and says what it found', () => {
  it.each([
    {
      name: "Windows-1252",
      write: () => writeFileSync(ws.csv, iconv.encode(toCsv([HEADER, ...rows]), "windows-1252")),
      logs: ['encoding "auto" found windows-1252, as its non-ASCII bytes are not valid UTF-8', "delimiter \"auto\" found ',', which splits the header and the first rows into 7 columns"],
    },
    {
      name: "UTF-16LE with ';', as Excel's 'Unicode text' is",
      write: () => writeFileSync(ws.csv, iconv.encode(toCsv([HEADER, ...rows]).replaceAll(",", ";").replaceAll("\n", "\r\n"), "utf16le", { addBOM: true })),
      logs: ['encoding "auto" found UTF-16LE, by its byte-order mark', "delimiter \"auto\" found ';', which splits the header and the first rows into 7 columns"],
    },
  ])("$name", async ({ write, logs }) => {
    write();
    ws.writeConfig({ source: { type: "csv", path: "contacts.csv", encoding: "auto", delimiter: "auto" } });
    const r = await sync();
    expect(r.status).toBe(0);
    expect(reports(r.stdout)[0].counts).toMatchObject({ create: 3, rejected: 0 });
    const jose = byExternalId(emulator.contacts()).get("leads:K2")![0]!;
    expect(jose.defaultFields).toMatchObject({ firstName: "José", lastName: "Núñez", company: "Café Ltd" });
    expect(logMessages(r.stderr)).toEqual(expect.arrayContaining(logs.map((l) => `${ws.csv}: ${l}`)));
  });
});

describe("rows with problems", () => {
  it("a row with several problems lists every one, one per field, and counts once; status shows them on the row's line", async () => {
    ws.writeCsv([personRow(1), ["B1", "", "NoFirst", "", "555-12", "", "fran@@example.com"], ["B2", "Bad", "Phone", "", "not a phone", "", ""], personRow(2)]);
    ws.writeConfig();
    const r = await sync();
    expect(r.status).toBe(0);
    const [rep] = reports(r.stdout);
    expect(rep.counts).toMatchObject({ create: 2, rejected: 2 });
    expect(rep.rejected).toEqual([
      { key: "B1", row: 3, field: "firstName", value: "", reason: "firstName: first name is empty (column 'First Name'); Quo requires one" },
      { key: "B1", row: 3, field: "phoneNumbers.mobile", value: "555-12", reason: "phoneNumbers.mobile: '555-12' is not a valid phone number for US (column 'Phone')" },
      { key: "B1", row: 3, field: "emails.work", value: "fran@@example.com", reason: "emails.work: 'fran@@example.com' is not a valid email address (more than one '@') (column 'Email')" },
      { key: "B2", row: 4, field: "phoneNumbers.mobile", value: "not a phone", reason: "phoneNumbers.mobile: 'not a phone' is not a valid phone number for US (column 'Phone')" },
    ]);

    const status = await cli(["status"]);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(
      "      rejected row 3 (key B1): firstName: first name is empty (column 'First Name'); Quo requires one; phoneNumbers.mobile: '555-12' is not a valid phone number for US (column 'Phone'); emails.work: 'fran@@example.com' is not a valid email address (more than one '@') (column 'Email')\n",
    );
    expect(status.stdout).toContain("      rejected row 4 (key B2): phoneNumbers.mobile: 'not a phone'");
    expect(status.stdout).not.toContain("more rejected rows");
  });

  it("an oversized cell rejects its row, naming the limit, and the rows after it are still read and sent", async () => {
    const huge = "Lorem ipsum dolor sit amet, ".repeat(60_000); // 1.7 million characters
    ws.writeCsv([personRow(1), ["B1", "Big", "Cell", huge, "", "", ""], personRow(2), personRow(3)]);
    ws.writeConfig();
    const r = await sync();
    expect(r.status).toBe(0);
    const [rep] = reports(r.stdout);
    expect(rep.counts).toMatchObject({ create: 3, rejected: 1 });
    expect(rep.rejected).toEqual([
      { key: "B1", row: 3, field: "company", value: `${huge.slice(0, 100)}…`, reason: `company: ${huge.trim().length.toLocaleString("en-US")} characters, more than the 10,000 a cell may hold (column 'Company')` },
    ]);
    expect([...byExternalId(emulator.contacts()).keys()].sort()).toEqual(["leads:K1", "leads:K2", "leads:K3"]);
  });
});

describe("the table report off a terminal", () => {
  it("prints every reason whole when stdout is a pipe, as it is here", async () => {
    const column = "Mobile phone number as the CRM exports it, with its country code";
    const header = ["id", "First Name", "Last Name", "Company", column, "Work Phone", "Email"];
    ws.writeCsv([["B1", "Ann", "Lee", "", "+1 555 0100 0199 and a note about when to call", "", ""]], header);
    ws.writeConfig({ fields: { firstName: "First Name", phoneNumbers: { mobile: column } } });
    const r = await cli(["plan"]);
    expect(r.status).toBe(0);
    const reason = `phoneNumbers.mobile: '+1 555 0100 0199 and a note about when to call' is not a valid phone number for US (column '${column}')`;
    expect(reason.length).toBeGreaterThan(80);
    expect(r.stdout).toContain(reason);
    expect(r.stdout).not.toContain("…");
  });
});
