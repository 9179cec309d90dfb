/**
 * The CSV connector on real files in a temp dir: dialects and encodings, blank lines, cell counts,
 * header rules, parse errors with their lines, file errors, `check`, and reading speed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import iconv from "iconv-lite";
import { afterAll, describe, expect, it } from "vitest";
import { csvConnector } from "../../connectors/csv/index.js";
import { MAX_RECORD_SIZE } from "../../connectors/csv/parse-csv-records.js";
import { sourceSchema, type CsvSourceConfig } from "../../src/config.js";
import { SourceError } from "../../src/errors.js";
import type { SourceRow } from "../../src/model.js";
import type { ConnectorContext, SourceItem } from "../../connectors/types.js";

/** A large file: how fast it is read is measured by `npm run bench` ("CSV read"), not asserted here. */
const LARGE_FILE_ROWS = 100_000;

const root = mkdtempSync(path.join(tmpdir(), "quo-sync-csv-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let fileCount = 0;

/** Writes `content` (text as UTF-8, or exact bytes) to a new file; returns its directory and name. */
function writeCsv(content: string | Buffer, name = "contacts.csv"): { ctx: ConnectorContext; file: string } {
  const dir = path.join(root, `case-${++fileCount}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, name), content);
  return { ctx: { baseDir: dir, env: {}, wanted: [] }, file: name };
}

function csvConfig(file: string, options: Partial<CsvSourceConfig> = {}): CsvSourceConfig {
  return { type: "csv", path: file, delimiter: ",", encoding: "utf8", ...options };
}

async function readItems(config: CsvSourceConfig, ctx: ConnectorContext): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  for await (const item of csvConnector.read(config, ctx)) items.push(item);
  return items;
}

/** The header's columns and the rows of `content` read with `options`. */
async function readCsv(content: string | Buffer, options: Partial<CsvSourceConfig> = {}): Promise<{ columns: string[]; rows: SourceRow[] }> {
  const { ctx, file } = writeCsv(content);
  const items = await readItems(csvConfig(file, options), ctx);
  const [header, ...rest] = items;
  if (header?.type !== "header") throw new Error(`first item is not a header: ${JSON.stringify(header)}`);
  expect(rest.every((item) => item.type === "row")).toBe(true);
  return { columns: header.columns, rows: rest.flatMap((item) => (item.type === "row" ? [item.row] : [])) };
}

/** The message of the `SourceError` that `reading` rejects with. */
async function sourceErrorOf(reading: Promise<unknown>): Promise<string> {
  const error = await reading.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(SourceError);
  return (error as SourceError).message;
}

/**
 * `message` with `dir` left out. Messages name the file's resolved path, which differs from case to
 * case; the cases compare the rest ("files, encodings and delimiters" checks the path itself).
 */
function relativeTo(dir: string, message: string): string {
  return message.replaceAll(dir + path.sep, "");
}

/** The message of the `SourceError` that reading `content` throws, relative to the file's directory. */
async function readError(content: string | Buffer, options: Partial<CsvSourceConfig> = {}): Promise<string> {
  const { ctx, file } = writeCsv(content);
  return relativeTo(ctx.baseDir, await sourceErrorOf(readItems(csvConfig(file, options), ctx)));
}

const utf16le = (text: string, bom: boolean) => iconv.encode(text, "utf16le", { addBOM: bom });
const utf16be = (text: string, bom: boolean) => iconv.encode(text, "utf16be", { addBOM: bom });
const cp1252 = (text: string) => iconv.encode(text, "windows-1252");

/** Exact bytes: text as latin1 (so "\xe9" is the one byte 0xE9), or byte values. */
const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));

/** ASCII rows enough to push what follows past the connector's first look (64 KiB) into the stream. */
const PAST_THE_HEAD = Array.from({ length: 4_000 }, (_, i) => `${i},Person ${i},person${i}@example.com\n`).join("");

/** A zip file's first local header (PKWARE APPNOTE 4.3.7) naming `entry`, then `data`: how a workbook starts. */
function zipStart(entry: string, data = ""): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(entry.length, 26);
  return Buffer.concat([header, Buffer.from(entry, "latin1"), Buffer.from(data, "latin1"), Buffer.from("SECRET-CELL\x00\x01", "latin1")]);
}

/** Reads `content` with `options`, and what the connector logged (relative to the file's directory). */
async function readLogged(content: string | Buffer, options: Partial<CsvSourceConfig> = {}): Promise<{ columns: string[]; rows: SourceRow[]; logs: string[] }> {
  const { ctx, file } = writeCsv(content);
  const logs: string[] = [];
  const items = await readItems(csvConfig(file, options), { ...ctx, log: (m) => logs.push(relativeTo(ctx.baseDir, m)) });
  const [header, ...rest] = items;
  if (header?.type !== "header") throw new Error(`first item is not a header: ${JSON.stringify(header)}`);
  return { columns: header.columns, rows: rest.flatMap((item) => (item.type === "row" ? [item.row] : [])), logs };
}

describe("csv connector: dialects and encodings", () => {
  const cases: { name: string; content: string | Buffer; options?: Partial<CsvSourceConfig>; columns: string[]; rows: SourceRow[] }[] = [
    {
      name: "UTF-8 with a BOM: the BOM is not part of the first column's name",
      content: "\ufeffid,name\n1,Ann\n",
      columns: ["id", "name"],
      rows: [{ row: 2, values: { id: "1", name: "Ann" } }],
    },
    {
      name: "CRLF line endings leave no \\r in values",
      content: "id,name\r\n1,Ann\r\n2,Bob\r\n",
      columns: ["id", "name"],
      rows: [
        { row: 2, values: { id: "1", name: "Ann" } },
        { row: 3, values: { id: "2", name: "Bob" } },
      ],
    },
    {
      name: "CR-only line endings (classic Mac)",
      content: "id,name\r1,Ann\r2,Bob",
      columns: ["id", "name"],
      rows: [
        { row: 2, values: { id: "1", name: "Ann" } },
        { row: 3, values: { id: "2", name: "Bob" } },
      ],
    },
    {
      name: "mixed line endings in one file",
      content: "id,name\r\n1,Ann\n2,Bob\r\n3,Cy\r",
      columns: ["id", "name"],
      rows: [
        { row: 2, values: { id: "1", name: "Ann" } },
        { row: 3, values: { id: "2", name: "Bob" } },
        { row: 4, values: { id: "3", name: "Cy" } },
      ],
    },
    {
      name: "quoted cells with commas, doubled quotes and line breaks; later rows count the extra lines",
      content: 'id,company,note\n1,"Acme, Inc.","She said ""hi"""\n2,"Two\nLines","x"\n3,"Three\nwhole\nlines",""\n4,plain,"a,b"\n',
      columns: ["id", "company", "note"],
      rows: [
        { row: 2, values: { id: "1", company: "Acme, Inc.", note: 'She said "hi"' } },
        { row: 3, values: { id: "2", company: "Two\nLines", note: "x" } },
        { row: 5, values: { id: "3", company: "Three\nwhole\nlines", note: "" } },
        { row: 8, values: { id: "4", company: "plain", note: "a,b" } },
      ],
    },
    {
      name: "a CRLF inside a quoted cell of a CRLF file counts as one line",
      content: 'id,note\r\n1,"a\r\nb\r\nc"\r\n2,x\r\n3,"d\r\ne"\r\n4,y\r\n',
      columns: ["id", "note"],
      rows: [
        { row: 2, values: { id: "1", note: "a\r\nb\r\nc" } },
        { row: 5, values: { id: "2", note: "x" } },
        { row: 6, values: { id: "3", note: "d\r\ne" } },
        { row: 8, values: { id: "4", note: "y" } },
      ],
    },
    {
      name: "';' delimiter: commas are plain text",
      content: 'id;company;city\n1;Acme, Inc.;"Köln; Mitte"\n',
      options: { delimiter: ";" },
      columns: ["id", "company", "city"],
      rows: [{ row: 2, values: { id: "1", company: "Acme, Inc.", city: "Köln; Mitte" } }],
    },
    {
      name: "tab delimiter",
      content: 'id\tname\tnote\n1\tAnn Lee\t"tab\tinside"\n2\t\tx, y\n',
      options: { delimiter: "\t" },
      columns: ["id", "name", "note"],
      rows: [
        { row: 2, values: { id: "1", name: "Ann Lee", note: "tab\tinside" } },
        { row: 3, values: { id: "2", name: "", note: "x, y" } },
      ],
    },
    {
      name: "latin1 bytes",
      content: Buffer.from("id,prénom\n1,Zoë\n2,Åsa Müller\n", "latin1"),
      options: { encoding: "latin1" },
      columns: ["id", "prénom"],
      rows: [
        { row: 2, values: { id: "1", prénom: "Zoë" } },
        { row: 3, values: { id: "2", prénom: "Åsa Müller" } },
      ],
    },
    {
      name: "windows-1252 bytes: € and curly quotes, which latin1 lacks",
      content: Buffer.concat([Buffer.from("id,price,quote\n1,"), Buffer.from([0x80]), Buffer.from("5,"), Buffer.from([0x93]), Buffer.from("hi"), Buffer.from([0x94, 0x0a])]),
      options: { encoding: "windows-1252" },
      columns: ["id", "price", "quote"],
      rows: [{ row: 2, values: { id: "1", price: "€5", quote: "“hi”" } }],
    },
    {
      name: "UTF-16LE with a BOM, CRLF",
      content: utf16le("id,name\r\n1,山田\r\n2,🎉 Zoë\r\n", true),
      options: { encoding: "utf16le" },
      columns: ["id", "name"],
      rows: [
        { row: 2, values: { id: "1", name: "山田" } },
        { row: 3, values: { id: "2", name: "🎉 Zoë" } },
      ],
    },
    {
      name: "UTF-16LE without a BOM",
      content: utf16le("id,name\n1,Łukasz\n", false),
      options: { encoding: "utf16le" },
      columns: ["id", "name"],
      rows: [{ row: 2, values: { id: "1", name: "Łukasz" } }],
    },
    {
      name: "encoding spelled 'UTF-8', with a BOM and CRLF",
      content: "\ufeffid,name\r\n1,Zoë\r\n",
      options: { encoding: "UTF-8" },
      columns: ["id", "name"],
      rows: [{ row: 2, values: { id: "1", name: "Zoë" } }],
    },
    {
      name: "no line break at the end of the file",
      content: "id,name\n1,Ann",
      columns: ["id", "name"],
      rows: [{ row: 2, values: { id: "1", name: "Ann" } }],
    },
    {
      name: "a column named __proto__ is an ordinary key",
      content: "__proto__,id\nx,1\n",
      columns: ["__proto__", "id"],
      rows: [{ row: 2, values: Object.defineProperty({ id: "1" } as Record<string, string>, "__proto__", { value: "x", enumerable: true }) }],
    },
  ];

  it.each(cases)("$name", async ({ content, options, columns, rows }) => {
    const read = await readCsv(content, options);
    expect(read.columns).toEqual(columns);
    expect(read.rows).toEqual(rows);
  });

  it("keeps the key of a __proto__ column as an own property", async () => {
    const { rows } = await readCsv("__proto__,id\nx,1\n");
    expect(Object.keys(rows[0]!.values)).toEqual(["__proto__", "id"]);
    expect(Object.getPrototypeOf(rows[0]!.values)).toBe(Object.prototype);
  });
});

describe("csv connector: blank lines", () => {
  const cases: { name: string; content: string; options?: Partial<CsvSourceConfig>; rows: SourceRow[] }[] = [
    {
      name: "blank lines before the header, between rows and at the end; rows keep their file line",
      content: "\n\nid,name\n1,Ann\n\n\n2,Bob\n\n",
      rows: [
        { row: 4, values: { id: "1", name: "Ann" } },
        { row: 7, values: { id: "2", name: "Bob" } },
      ],
    },
    {
      name: "whitespace-only lines (spaces, a tab, a non-breaking space) are blank",
      content: "   \nid,name\n  \t \n1,Ann\n\u00a0\n2,Bob\n   ",
      rows: [
        { row: 4, values: { id: "1", name: "Ann" } },
        { row: 6, values: { id: "2", name: "Bob" } },
      ],
    },
    {
      name: "blank lines in a CRLF file",
      content: "id,name\r\n\r\n1,Ann\r\n \r\n2,Bob\r\n",
      rows: [
        { row: 3, values: { id: "1", name: "Ann" } },
        { row: 5, values: { id: "2", name: "Bob" } },
      ],
    },
    {
      name: "tab delimiter: a line of spaces is blank, a line of tabs is a row of empty cells",
      content: "id\tname\n   \n\t\n1\tAnn\n",
      options: { delimiter: "\t" },
      rows: [
        { row: 3, values: { id: "", name: "" } },
        { row: 4, values: { id: "1", name: "Ann" } },
      ],
    },
    {
      name: "comma delimiter: a line of commas is a row of empty cells, for the planner to reject",
      content: "id,name\n,\n1,Ann\n",
      rows: [
        { row: 2, values: { id: "", name: "" } },
        { row: 3, values: { id: "1", name: "Ann" } },
      ],
    },
  ];

  it.each(cases)("$name", async ({ content, options, rows }) => {
    expect((await readCsv(content, options)).rows).toEqual(rows);
  });
});

describe("csv connector: cells against the header", () => {
  const cases: { name: string; line: string; values: Record<string, string>; problem?: string }[] = [
    { name: "as many cells as the header", line: "1,Ann,a@x.io", values: { id: "1", name: "Ann", email: "a@x.io" } },
    { name: "fewer cells: the missing ones are empty", line: "1", values: { id: "1", name: "", email: "" } },
    { name: "fewer cells, ending in an empty one", line: "1,Ann,", values: { id: "1", name: "Ann", email: "" } },
    {
      name: "more cells: a problem, values for the header's columns only",
      line: "1,Ann,a@x.io,extra",
      values: { id: "1", name: "Ann", email: "a@x.io" },
      problem: "has 4 cells but the header has 3",
    },
    { name: "extra cells that are all empty (trailing delimiters) are no problem", line: "1,Ann,a@x.io,,,", values: { id: "1", name: "Ann", email: "a@x.io" } },
    { name: "extra cells that are only whitespace are no problem", line: "1,Ann,a@x.io, ,", values: { id: "1", name: "Ann", email: "a@x.io" } },
    {
      name: "the count stops at the last non-blank cell",
      line: "1,Ann,a@x.io,,x,,",
      values: { id: "1", name: "Ann", email: "a@x.io" },
      problem: "has 5 cells but the header has 3",
    },
    {
      name: "values are raw: spaces kept, trimming is the mapper's job",
      line: '  1 , Ann ,"  a@x.io  "',
      values: { id: "  1 ", name: " Ann ", email: "  a@x.io  " },
    },
  ];

  it.each(cases)("$name", async ({ line, values, problem }) => {
    const { rows } = await readCsv(`id,name,email\n${line}\n2,Bob,b@x.io\n`);
    const expected: SourceRow = problem === undefined ? { row: 2, values } : { row: 2, values, problem };
    expect(rows).toEqual([expected, { row: 3, values: { id: "2", name: "Bob", email: "b@x.io" } }]);
    if (problem === undefined) expect(rows[0]).not.toHaveProperty("problem");
  });
});

describe("csv connector: the header", () => {
  it("trims the header's names", async () => {
    expect((await readCsv(" id ,\tFirst Name ,Email\n1,Ann,a@x.io\n")).columns).toEqual(["id", "First Name", "Email"]);
  });

  it("reads a header-only file as zero rows", async () => {
    expect(await readCsv("id,name\n")).toEqual({ columns: ["id", "name"], rows: [] });
  });

  it.each([
    { name: "an empty file", content: "" },
    { name: "a file of blank lines", content: "\n \r\n\t\n" },
    { name: "a file holding only a UTF-8 BOM", content: "\ufeff" },
  ])("reads $name as a header with no columns and no rows", async ({ content }) => {
    const { ctx, file } = writeCsv(content);
    expect(await readItems(csvConfig(file), ctx)).toEqual([{ type: "header", columns: [] }]);
  });

  it.each([
    { name: "an empty name", content: "id,name,,email\n1,a,b,c\n", message: "contacts.csv, line 1: column 3 of the header is empty; every column needs a name" },
    { name: "a whitespace-only name", content: "id, \n", message: "contacts.csv, line 1: column 2 of the header is empty; every column needs a name" },
    { name: "a trailing delimiter", content: "id,name,\n", message: "contacts.csv, line 1: column 3 of the header is empty; every column needs a name" },
    {
      name: "a repeated name",
      content: "id,Email,name,Email\n",
      message: "contacts.csv, line 1: column 4 of the header, 'Email', repeats column 2",
    },
    {
      name: "a name repeated once trimmed, on the header's own line",
      content: "\n\nid, Email,Email \n",
      message: "contacts.csv, line 3: column 3 of the header, 'Email', repeats column 2",
    },
  ])("rejects $name", async ({ content, message }) => {
    expect(await readError(content)).toBe(message);
  });
});

describe("csv connector: unparseable files", () => {
  it.each([
    {
      name: "an unclosed quote: the line its record starts on",
      content: 'id,name\n1,Ann\n\n2,"Bob\n3,Cy\n4,Di\n',
      message: `contacts.csv, line 4: a '"' opens a quoted cell that is never closed (write a '"' inside a quoted cell as '""')`,
    },
    {
      name: "an unclosed quote after multi-line cells and blank lines in a CRLF file",
      content: 'id,note\r\n1,"a\r\nb"\r\n\r\n2,"c\r\nd\r\ne"\r\n3,"never closed\r\n4,x\r\n',
      message: `contacts.csv, line 8: a '"' opens a quoted cell that is never closed (write a '"' inside a quoted cell as '""')`,
    },
    {
      name: "an unclosed quote in the header",
      content: 'id,"name\n1,Ann\n',
      message: `contacts.csv, line 1: a '"' opens a quoted cell that is never closed (write a '"' inside a quoted cell as '""')`,
    },
    {
      name: "text after a closing quote",
      content: 'id,name\n1,"a\r\nb"\r\n2,"Bob"by\n',
      message: `contacts.csv, line 4: in cell 2, a closing '"' is followed by more text instead of the delimiter or the end of the line (write a '"' inside a quoted cell as '""')`,
    },
    {
      name: "a quote in the middle of an unquoted cell",
      content: 'id,name,height\n\n1,Ann,5\'10"\n',
      message: `contacts.csv, line 3: cell 3 has a '"' after other text; quote the whole cell and write a '"' inside a quoted cell as '""'`,
    },
    {
      name: "an error in a non-UTF-8 file, on the right line",
      content: utf16le('id\tname\r\n\r\n1\t"Zoë\r\n', true),
      options: { encoding: "utf16le", delimiter: "\t" },
      message: `contacts.csv, line 3: a '"' opens a quoted cell that is never closed (write a '"' inside a quoted cell as '""')`,
    },
  ])("$name", async ({ content, options, message }) => {
    expect(await readError(content, options)).toBe(message);
  });

  it("stops early at an unclosed quote in a large file, naming the line it starts on", async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i},name ${i},note ${i}`);
    const content = ["id,name,note", ...rows.slice(0, 10), '10,"unclosed,x', ...rows.slice(11)].join("\n") + "\n";
    // Padding so that what follows the quote outgrows the record limit before the file ends.
    const big = content + `${"x".repeat(100)}\n`.repeat(Math.ceil(MAX_RECORD_SIZE / 100));
    expect(await readError(big)).toBe(
      `contacts.csv, line 12: the record starting here runs past 8,000,000 characters; a '"' probably opens a quoted cell that is never closed (write a '"' inside a quoted cell as '""')`,
    );
  });

  it("fails the whole read, whatever rows came before the error", async () => {
    const { ctx, file } = writeCsv("id,name\n1,Ann\n2,\"Bob\n");
    const seen: SourceItem[] = [];
    const reading = (async () => {
      for await (const item of csvConnector.read(csvConfig(file), ctx)) seen.push(item);
    })();
    expect(relativeTo(ctx.baseDir, await sourceErrorOf(reading))).toBe(
      `contacts.csv, line 3: a '"' opens a quoted cell that is never closed (write a '"' inside a quoted cell as '""')`,
    );
    expect(seen.length).toBeLessThanOrEqual(2);
  });
});

describe("csv connector: files, encodings and delimiters", () => {
  it("resolves a relative path against the config's directory", async () => {
    const dir = path.join(root, "nested");
    mkdirSync(path.join(dir, "data"), { recursive: true });
    writeFileSync(path.join(dir, "data", "people.csv"), "id\n7\n");
    expect(await readItems(csvConfig("./data/people.csv"), { baseDir: dir, env: {}, wanted: [] })).toEqual([
      { type: "header", columns: ["id"] },
      { type: "row", row: { row: 2, values: { id: "7" } } },
    ]);
  });

  it("reads an absolute path as it is", async () => {
    const { ctx, file } = writeCsv("id\n8\n");
    const absolute = path.join(ctx.baseDir, file);
    expect(await readItems(csvConfig(absolute), { baseDir: "/nonexistent", env: {}, wanted: [] })).toEqual([
      { type: "header", columns: ["id"] },
      { type: "row", row: { row: 2, values: { id: "8" } } },
    ]);
  });

  it.each([
    { name: "a missing file", file: "missing.csv", message: "no such file" },
    { name: "a file under a missing directory", file: "nowhere/contacts.csv", message: "no such file" },
    { name: "a file up and across", file: "../elsewhere/contacts.csv", message: "no such file" },
    { name: "a directory", file: ".", message: "it is a directory" },
  ])("names the path resolved against the config's directory for $name", async ({ file, message }) => {
    const { ctx } = writeCsv("id\n1\n");
    expect(await sourceErrorOf(readItems(csvConfig(file), ctx))).toBe(`cannot read ${path.resolve(ctx.baseDir, file)}: ${message}`);
  });

  it("names the resolved path in an error about the file's content, too", async () => {
    const { ctx, file } = writeCsv("id,id\n");
    expect(await sourceErrorOf(readItems(csvConfig(`./${file}`), ctx))).toBe(`${path.join(ctx.baseDir, file)}, line 1: column 2 of the header, 'id', repeats column 1`);
  });

  it.each([
    { name: "an unknown encoding", options: { encoding: "klingon" }, message: `cannot read missing.csv: unknown encoding 'klingon' (use utf8, latin1, windows-1252, utf16le, "auto" or another encoding iconv-lite knows)` },
    { name: "a binary-to-text codec", options: { encoding: "base64" }, message: `cannot read missing.csv: unknown encoding 'base64' (use utf8, latin1, windows-1252, utf16le, "auto" or another encoding iconv-lite knows)` },
    { name: "a quote as the delimiter", options: { delimiter: '"' }, message: `cannot read missing.csv: "\\"" cannot be the delimiter` },
  ])("rejects $name before looking for the file", async ({ options, message }) => {
    expect(relativeTo(root, await sourceErrorOf(readItems(csvConfig("missing.csv", options), { baseDir: root, env: {}, wanted: [] })))).toBe(message);
  });
});

describe("csv connector: files that are not text", () => {
  const EXPORT = "export the sheet as CSV (in Excel: File > Save As > CSV UTF-8; in Google Sheets: File > Download > CSV)";
  it.each([
    { name: "an .xlsx workbook", content: zipStart("[Content_Types].xml", "<?xml"), message: `cannot read contacts.csv: not a text file; it looks like an Excel workbook (.xlsx): ${EXPORT}` },
    { name: "an .xlsx workbook whose first entry is under xl/", content: zipStart("xl/workbook.xml"), message: `cannot read contacts.csv: not a text file; it looks like an Excel workbook (.xlsx): ${EXPORT}` },
    {
      name: "an .ods spreadsheet",
      content: zipStart("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
      message: "cannot read contacts.csv: not a text file; it looks like an OpenDocument spreadsheet (.ods): export the sheet as CSV (in LibreOffice: File > Save As > Text CSV)",
    },
    { name: "another zip archive", content: zipStart("contacts.csv", "id,name"), message: "cannot read contacts.csv: not a text file; it looks like a zip archive (an .xlsx workbook?): export it as CSV, or unzip it and point source.path at the CSV inside" },
    { name: "a gzipped CSV", content: gzipSync(Buffer.from("id,name\n1,SECRET-CELL\n")), message: "cannot read contacts.csv: not a text file; it looks like a gzip-compressed file: decompress it (gunzip) and point source.path at the CSV" },
    { name: "an .xls workbook", content: bytes([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], "SECRET-CELL"), message: `cannot read contacts.csv: not a text file; it looks like an Excel 97-2003 workbook (.xls) or another Office document: ${EXPORT}` },
    { name: "a PDF", content: bytes("%PDF-1.7\n%SECRET-CELL\n", [0xe2, 0xe3, 0xcf, 0xd3]), message: "cannot read contacts.csv: not a text file; it looks like a PDF document: export the data as CSV where the PDF came from" },
    { name: "a PNG image", content: bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13], "IHDR SECRET-CELL"), message: "cannot read contacts.csv: not a text file; it looks like a PNG image: point source.path at the CSV file" },
    { name: "a JPEG image", content: bytes([0xff, 0xd8, 0xff, 0xe0], "JFIF SECRET-CELL"), message: "cannot read contacts.csv: not a text file; it looks like a JPEG image: point source.path at the CSV file" },
    { name: "the state database", content: bytes("SQLite format 3", [0], "SECRET-CELL"), message: "cannot read contacts.csv: not a text file; it looks like an SQLite database (the state file?): point source.path at the CSV file" },
    { name: "text with zero bytes in it", content: bytes("id,name\n1,SECRET-CELL", [0, 0, 7, 0], "\n"), message: "cannot read contacts.csv: not a text file; it holds zero (NUL) bytes, which text does not: export the data as CSV" },
    {
      name: "UTF-16LE without a byte-order mark",
      content: utf16le("id,name\n1,SECRET-CELL\n", false),
      message: `cannot read contacts.csv: it looks like UTF-16LE text without a byte-order mark (every other byte is zero): set "encoding": "utf16le" in the source (or "auto")`,
    },
    {
      name: "UTF-16BE without a byte-order mark",
      content: utf16be("id,name\n1,SECRET-CELL\n", false),
      message: `cannot read contacts.csv: it looks like UTF-16BE text without a byte-order mark (every other byte is zero): set "encoding": "utf16be" in the source (or "auto")`,
    },
  ])("$name: says what it looks like and never prints its bytes", async ({ content, message }) => {
    for (const encoding of ["utf8", "windows-1252", "auto"]) {
      if (encoding === "auto" && message.includes("UTF-16")) continue;
      const error = await readError(content, { encoding });
      expect(error).toBe(message);
      expect(error).not.toContain("SECRET");
      expect(error).not.toMatch(/[\u0000-\u0008\u000e-\u001f\ufffd]/);
    }
    const { ctx, file } = writeCsv(content);
    const checked = await csvConnector.check(csvConfig(file), ctx);
    expect(checked.ok ? "" : relativeTo(ctx.baseDir, checked.message)).toBe(message);
  });

  it.each([
    { name: "UTF-16 configured, whose every other byte is zero", content: utf16le("id\tname\n1\tAnn\n", true), options: { encoding: "utf16le", delimiter: "\t" } },
    { name: "a file delimited by NUL", content: bytes("id", [0], "name\n1", [0], "Ann\n"), options: { delimiter: "\u0000" } },
    { name: "a file that starts with 'BZh' as text does", content: "BZh,name\n1,Ann\n", options: {} },
  ])("reads $name", async ({ content, options }) => {
    expect((await readCsv(content, options)).rows).toEqual([{ row: 2, values: expect.objectContaining({ name: "Ann" }) as Record<string, string> }]);
  });
});

describe("csv connector: bytes that are not valid in the encoding", () => {
  const TO_1252 = `the file looks like windows-1252: set "encoding": "windows-1252" in the source (or "auto")`;
  const SAVED_IN = `set "encoding" in the source to the encoding the file was saved in ("auto" reads UTF-8, UTF-16 and windows-1252)`;
  it.each([
    {
      name: "a Windows-1252 export read as UTF-8",
      content: cp1252("id,First Name\n1,Ann\n2,José\n"),
      options: {},
      message: `contacts.csv, line 3, column 6: byte 0xE9 is not valid UTF-8; ${TO_1252}`,
    },
    {
      name: "curly quotes from Word, read as UTF-8",
      content: cp1252("id,note\n1,“hi”\n"),
      options: { encoding: "UTF-8" },
      message: `contacts.csv, line 2, column 3: byte 0x93 is not valid UTF-8; ${TO_1252}`,
    },
    {
      name: "a Latin-1 export read as UTF-8, after a multi-line cell in a CRLF file",
      content: bytes('id,note\r\n1,"a\r\nb"\r\n2,Zo', [0xeb], "\r\n"),
      options: {},
      message: `contacts.csv, line 4, column 5: byte 0xEB is not valid UTF-8; ${TO_1252}`,
    },
    {
      name: "a bad byte after valid UTF-8 on the same line: the column counts characters, and no code page is guessed",
      content: Buffer.concat([Buffer.from("id,name\n1,Zoë 山田 "), bytes([0xe9], "\n")]),
      options: {},
      message: `contacts.csv, line 2, column 10: byte 0xE9 is not valid UTF-8; ${SAVED_IN}`,
    },
    {
      name: "a bad byte far into the file, found while streaming",
      content: Buffer.concat([Buffer.from(`id,name,email\n${PAST_THE_HEAD}`), cp1252("9999,Renée,r@example.com\n")]),
      options: {},
      message: `contacts.csv, line 4002, column 9: byte 0xE9 is not valid UTF-8; ${TO_1252}`,
    },
    {
      name: "a Cyrillic code page read as UTF-8: not taken for Windows-1252",
      content: iconv.encode("id,Имя\n1,Иван Петров\n", "windows-1251"),
      options: {},
      message: `contacts.csv, line 1, column 4: byte 0xC8 is not valid UTF-8; ${SAVED_IN}`,
    },
    {
      name: "UTF-8 cut short in the middle of its last character",
      content: bytes("id,name\n1,Zo", [0xc3]),
      options: {},
      message: `contacts.csv, line 2, column 5: the file ends inside a UTF-8 character (byte 0xC3); ${SAVED_IN}`,
    },
    {
      name: "a byte windows-1252 does not define",
      content: bytes("id,name\n1,A", [0x81], "\n"),
      options: { encoding: "windows-1252" },
      message: `contacts.csv, line 2, column 4: bytes that are not valid windows-1252; ${SAVED_IN}`,
    },
    {
      name: "an unpaired surrogate in UTF-16",
      content: Buffer.concat([utf16le("id,name\n1,A", true), Buffer.from([0x3d, 0xd8]), utf16le("B\n", false)]),
      options: { encoding: "utf16le" },
      message: `contacts.csv, line 2, column 4: an unpaired surrogate (0xD83D) is not valid utf16le; ${SAVED_IN}`,
    },
    {
      name: "UTF-16 with an odd number of bytes",
      content: Buffer.concat([utf16le("id,name\n1,Ann\n", true), Buffer.from([0x41])]),
      options: { encoding: "utf16le" },
      message: `contacts.csv, line 3, column 1: the file ends in the middle of a UTF-16 character (it has an odd number of bytes); ${SAVED_IN}`,
    },
    {
      name: "a UTF-16LE file (byte-order mark) read as UTF-8",
      content: utf16le("id,name\n1,Ann\n", true),
      options: {},
      message: `contacts.csv, line 1: the file starts with a UTF-16LE byte-order mark, so it is UTF-16LE, not utf8: set "encoding": "utf16le" in the source (or "auto")`,
    },
    {
      name: "a UTF-16BE file read as UTF-16LE",
      content: utf16be("id,name\n1,Ann\n", true),
      options: { encoding: "utf16le" },
      message: `contacts.csv, line 1: the file starts with a UTF-16BE byte-order mark, so it is UTF-16BE, not utf16le: set "encoding": "utf16be" in the source (or "auto")`,
    },
    {
      name: "a UTF-8 file (byte-order mark) read as Latin-1",
      content: "\ufeffid,name\n1,Zoë\n",
      options: { encoding: "latin1" },
      message: `contacts.csv, line 1: the file starts with a UTF-8 byte-order mark, so it is UTF-8, not latin1: set "encoding": "utf8" in the source (or "auto")`,
    },
    {
      name: '"auto": UTF-8 at first, then a Windows-1252 byte',
      content: Buffer.concat([Buffer.from("id,name,email\n1,Zoë,z@example.com\n"), Buffer.from(PAST_THE_HEAD), cp1252("9999,Renée,r@example.com\n")]),
      options: { encoding: "auto" },
      message: `contacts.csv, line 4003, column 9: byte 0xE9 is not valid UTF-8; "auto" read the lines before it as UTF-8, so the file mixes encodings: save it again as UTF-8, or set "encoding" in the source to the encoding the file was saved in`,
    },
    {
      name: '"auto": neither UTF-8 nor Windows-1252',
      content: bytes("id,name\n1,Ren", [0xe9], "e\n2,A", [0x81], "\n"),
      options: { encoding: "auto" },
      message: `contacts.csv, line 3, column 4: byte 0x81 is not a windows-1252 character; the file is not valid UTF-8 either, so "auto" cannot tell its encoding: set "encoding" in the source to the encoding the file was saved in`,
    },
  ])("$name", async ({ content, options, message }) => {
    expect(await readError(content, options)).toBe(message);
  });

  it("stops before the header when the bad byte is among the first, so check reports it too", async () => {
    const { ctx, file } = writeCsv(cp1252("id,Prénom\n1,Ann\n"));
    const seen: SourceItem[] = [];
    const reading = (async () => {
      for await (const item of csvConnector.read(csvConfig(file), ctx)) seen.push(item);
    })();
    expect(relativeTo(ctx.baseDir, await sourceErrorOf(reading))).toBe(`contacts.csv, line 1, column 6: byte 0xE9 is not valid UTF-8; ${TO_1252}`);
    expect(seen).toEqual([]);
    const checked = await csvConnector.check(csvConfig(file), ctx);
    expect(checked.ok ? "" : relativeTo(ctx.baseDir, checked.message)).toBe(`contacts.csv, line 1, column 6: byte 0xE9 is not valid UTF-8; ${TO_1252}`);
  });

  it("reads a UTF-8 character split between two chunks of the stream", async () => {
    // "é" is two bytes; the padding puts the chunk boundary (64 KiB) between them.
    const before = `id,name\n1,${"x".repeat(64 * 1024 - "id,name\n1,".length - 1)}`;
    const { rows } = await readCsv(`${before}é\n2,Zoë\n`);
    expect(rows.map((r) => r.values.name!.slice(-1))).toEqual(["é", "ë"]);
  });
});

describe('csv connector: encoding "auto"', () => {
  const people = "id,name\n1,José\n2,Zoë “Z”\n";
  const expected = [
    { row: 2, values: { id: "1", name: "José" } },
    { row: 3, values: { id: "2", name: "Zoë “Z”" } },
  ];
  it.each([
    { name: "UTF-8 with a byte-order mark", content: Buffer.from(`\ufeff${people}`), log: 'contacts.csv: encoding "auto" found UTF-8, by its byte-order mark' },
    { name: "UTF-8 without one", content: Buffer.from(people), log: 'contacts.csv: encoding "auto" found UTF-8, as its non-ASCII bytes are valid UTF-8' },
    { name: "UTF-16LE with a byte-order mark", content: utf16le(people, true), log: 'contacts.csv: encoding "auto" found UTF-16LE, by its byte-order mark' },
    { name: "UTF-16BE with a byte-order mark", content: utf16be(people, true), log: 'contacts.csv: encoding "auto" found UTF-16BE, by its byte-order mark' },
    { name: "UTF-16LE without one", content: utf16le(people, false), log: 'contacts.csv: encoding "auto" found UTF-16LE, by the zero in every other byte (it has no byte-order mark)' },
    { name: "Windows-1252", content: cp1252(people), log: 'contacts.csv: encoding "auto" found windows-1252, as its non-ASCII bytes are not valid UTF-8' },
  ])("$name", async ({ content, log }) => {
    const read = await readLogged(content, { encoding: "auto" });
    expect(read.rows).toEqual(expected);
    expect(read.logs).toEqual([log]);
  });

  it("reads a Latin-1 export as Windows-1252, which holds every printable Latin-1 character", async () => {
    const read = await readLogged(iconv.encode("id,name\n1,Åsa Müller ½\n", "latin1"), { encoding: "auto" });
    expect(read.rows).toEqual([{ row: 2, values: { id: "1", name: "Åsa Müller ½" } }]);
  });

  it("says when the file is ASCII only", async () => {
    const read = await readLogged("id,name\n1,Ann\n", { encoding: "auto" });
    expect(read.rows).toEqual([{ row: 2, values: { id: "1", name: "Ann" } }]);
    expect(read.logs).toEqual(['contacts.csv: encoding "auto" found only ASCII text, read as UTF-8']);
  });

  it.each([
    { name: "Windows-1252", encode: cp1252, log: 'contacts.csv: encoding "auto" found windows-1252, as its non-ASCII bytes are not valid UTF-8' },
    { name: "UTF-8", encode: (t: string) => Buffer.from(t), log: 'contacts.csv: encoding "auto" found UTF-8, as its non-ASCII bytes are valid UTF-8' },
  ])("decides on the first non-ASCII bytes even far into the file: $name", async ({ encode, log }) => {
    const read = await readLogged(encode(`id,name,email\n${PAST_THE_HEAD}9999,Renée,r@example.com\n`), { encoding: "auto" });
    expect(read.rows).toHaveLength(4_001);
    expect(read.rows.at(-1)).toEqual({ row: 4_002, values: { id: "9999", name: "Renée", email: "r@example.com" } });
    expect(read.logs).toEqual([log]);
  });

  it('detects a German Excel export: Windows-1252 and ";" together', async () => {
    const read = await readLogged(cp1252("Kundennr;Vorname;Straße\r\n1;Jürgen;Hauptstraße 5, Köln\r\n"), { encoding: "auto", delimiter: "auto" });
    expect(read.columns).toEqual(["Kundennr", "Vorname", "Straße"]);
    expect(read.rows).toEqual([{ row: 2, values: { Kundennr: "1", Vorname: "Jürgen", Straße: "Hauptstraße 5, Köln" } }]);
    expect(read.logs).toEqual([
      'contacts.csv: encoding "auto" found windows-1252, as its non-ASCII bytes are not valid UTF-8',
      "contacts.csv: delimiter \"auto\" found ';', which splits the header and the first rows into 3 columns",
    ]);
  });
});

describe("csv connector: a delimiter that does not split the header", () => {
  it.each([
    {
      name: "';' read with ','",
      content: "id;First Name;Email\n1;Ann;a@x.io\n",
      options: {},
      message: `contacts.csv, line 1: the header 'id;First Name;Email' is one column with the delimiter ','; ';' splits it into 3 columns: set "delimiter": ";" in the source (or "delimiter": "auto")`,
    },
    {
      name: "a tab read with ','",
      content: "id\tFirst Name\n1\tAnn\n",
      options: {},
      message: `contacts.csv, line 1: the header 'id\\tFirst Name' is one column with the delimiter ','; a tab splits it into 2 columns: set "delimiter": "\\t" in the source (or "delimiter": "auto")`,
    },
    {
      name: "'|' read with ';', after blank lines",
      content: "\n\nid|name|phone\n1|Ann|555\n",
      options: { delimiter: ";" },
      message: `contacts.csv, line 3: the header 'id|name|phone' is one column with the delimiter ';'; '|' splits it into 3 columns: set "delimiter": "|" in the source (or "delimiter": "auto")`,
    },
    {
      name: "control characters in the header are quoted as escapes, never passed to a terminal",
      content: "id;\u001b[31mName\u0007\n1;Ann\n",
      options: {},
      message: `contacts.csv, line 1: the header 'id;\\u001b[31mName\\u0007' is one column with the delimiter ','; ';' splits it into 2 columns: set "delimiter": ";" in the source (or "delimiter": "auto")`,
    },
    {
      name: "quoted ';' cells read with ',': not a misplaced quote",
      content: '"id";"First Name";"Email"\n"1";"Ann";"a@x.io"\n',
      options: {},
      message: `contacts.csv, line 1: the header '"id";"First Name";"Email"' does not read as CSV with the delimiter ','; ';' splits it into 3 columns: set "delimiter": ";" in the source (or "delimiter": "auto")`,
    },
    {
      name: "a quote inside a ';' row read with ',': the header is looked at first",
      content: "id;name;height\n1;Ann;5'10\"\n",
      options: {},
      message: `contacts.csv, line 1: the header 'id;name;height' is one column with the delimiter ','; ';' splits it into 3 columns: set "delimiter": ";" in the source (or "delimiter": "auto")`,
    },
  ])("$name", async ({ content, options, message }) => {
    expect(await readError(content, options)).toBe(message);
  });

  it("check reports it", async () => {
    const { ctx, file } = writeCsv("id;name\n1;Ann\n");
    const checked = await csvConnector.check(csvConfig(file), ctx);
    expect(checked.ok ? "" : relativeTo(ctx.baseDir, checked.message)).toMatch(/^contacts\.csv, line 1: the header 'id;name' is one column/);
  });

  it.each([
    { name: "a one-column file", content: "Name\nAnn\nBob\n", columns: ["Name"] },
    { name: "a header quoted as one cell on purpose", content: '"Name; Alias"\nAnn\n', columns: ["Name; Alias"] },
    { name: "a one-column header with ';' whose rows do not split alike", content: "Notes; free text\nCalled twice\nLeft a message\n", columns: ["Notes; free text"] },
  ])("leaves $name alone", async ({ content, columns }) => {
    expect((await readCsv(content)).columns).toEqual(columns);
  });
});

describe('csv connector: delimiter "auto"', () => {
  it.each([
    { name: "','", content: "id,name,note\n1,Ann,a;b\n2,Bob,c|d\n", delimiter: ",", columns: 3 },
    { name: "';' with commas in the cells", content: "id;company;city\n1;Acme, Inc.;Köln\n2;Foo, Ltd;Paris\n", delimiter: ";", columns: 3 },
    { name: "a tab", content: "id\tname\tnote\n1\tAnn\tx, y\n", delimiter: "\t", columns: 3 },
    { name: "'|'", content: "id|name\n1|Ann\n", delimiter: "|", columns: 2 },
    { name: "';' with quoted cells holding ','", content: '"id";"name"\n"1";"Lee, Ann"\n', delimiter: ";", columns: 2 },
    { name: "';' in a header-only file", content: "id;name;email\n", delimiter: ";", columns: 3 },
    { name: "the one that fits the rows when the header fits two", content: "a,b;c\n1,2;3\n4,5;6\n7,8\n", delimiter: ",", columns: 2 },
    { name: "the one that matches more rows", content: "id;name,city\n1;Ann,Paris\n2;Bob\n3;Cy\n", delimiter: ";", columns: 2 },
  ])("picks $name", async ({ content, delimiter, columns }) => {
    const read = await readLogged(content, { delimiter: "auto" });
    expect(read.columns).toHaveLength(columns);
    expect(read.rows.every((r) => r.problem === undefined)).toBe(true);
    expect(read.logs).toEqual([`contacts.csv: delimiter "auto" found ${delimiter === "\t" ? "a tab" : `'${delimiter}'`}, which splits the header and the first rows into ${columns} columns`]);
  });

  it("reads a one-column file with ','", async () => {
    const read = await readLogged("Name\nAnn\n", { delimiter: "auto" });
    expect(read.rows).toEqual([{ row: 2, values: { Name: "Ann" } }]);
    expect(read.logs).toEqual([`contacts.csv: delimiter "auto" found none of ',' ';' tab '|' splitting the header and the first rows alike; reading it with ','`]);
  });
});

describe("csv connector: check", () => {
  it.each([
    { name: "a readable file", content: "id,name\n1,Ann\n", file: undefined, options: {}, result: { ok: true } },
    { name: "an empty file", content: "", file: undefined, options: {}, result: { ok: true } },
    {
      name: "a file whose only problem is far after the header (check reads no further)",
      content: `id,name\n${"1,Ann\n".repeat(100_000)}2,"Bob\n`,
      file: undefined,
      options: {},
      result: { ok: true },
    },
    { name: "a missing file", content: "", file: "missing.csv", options: {}, result: { ok: false, message: "cannot read missing.csv: no such file" } },
    {
      name: "a repeated header name",
      content: "id,id\n",
      file: undefined,
      options: {},
      result: { ok: false, message: "contacts.csv, line 1: column 2 of the header, 'id', repeats column 1" },
    },
    {
      name: "an unparseable header",
      content: 'id,"name\n',
      file: undefined,
      options: {},
      result: { ok: false, message: `contacts.csv, line 1: a '"' opens a quoted cell that is never closed (write a '"' inside a quoted cell as '""')` },
    },
    {
      name: "an unknown encoding",
      content: "id\n",
      file: undefined,
      options: { encoding: "nope-8" },
      result: { ok: false, message: `cannot read contacts.csv: unknown encoding 'nope-8' (use utf8, latin1, windows-1252, utf16le, "auto" or another encoding iconv-lite knows)` },
    },
  ])("$name", async ({ content, file, options, result }) => {
    const written = writeCsv(content);
    const checked = await csvConnector.check(csvConfig(file ?? written.file, options), written.ctx);
    expect(checked.ok ? checked : { ok: false, message: relativeTo(written.ctx.baseDir, checked.message) }).toEqual(result);
  });

  it("does not throw for a config it cannot use at all", async () => {
    const config = { type: "csv", path: "x.csv", delimiter: "", encoding: "utf8" } as CsvSourceConfig;
    expect(await csvConnector.check(config, { baseDir: root, env: {}, wanted: [] })).toEqual({ ok: false, message: `cannot read ${path.join(root, "x.csv")}: "" cannot be the delimiter` });
  });
});

describe("csv connector: large files", () => {
  /** `count` records of 8 columns, every 50th with a CRLF inside a quoted cell and some non-ASCII. */
  function largeFile(count: number): { text: string; lines: number[] } {
    const parts = ["id,first,last,company,title,phone,email,note\r\n"];
    const lines: number[] = [];
    let line = 2;
    for (let i = 0; i < count; i++) {
      lines.push(line);
      const note = i % 50 === 0 ? `"multi\r\nline ${i}"` : `note ${i}`;
      parts.push(`${i},Zoë ${i},"Lee, ${i}",Acme ${i % 97},Manager,+1555${String(i).padStart(7, "0")},user${i}@example.com,${note}\r\n`);
      line += i % 50 === 0 ? 2 : 1;
    }
    return { text: parts.join(""), lines };
  }

  it(`reads ${LARGE_FILE_ROWS.toLocaleString("en-US")} rows of 8 columns, every row on its line`, async () => {
    const { text, lines } = largeFile(LARGE_FILE_ROWS);
    const { ctx, file } = writeCsv(text);
    const items = await readItems(csvConfig(file), ctx);
    expect(items).toHaveLength(LARGE_FILE_ROWS + 1);
    const rows = items.flatMap((item) => (item.type === "row" ? [item.row] : []));
    expect(rows.map((row) => row.row)).toEqual(lines);
    expect(rows.filter((row) => row.problem !== undefined)).toEqual([]);
    expect(rows[50]).toEqual({
      row: lines[50],
      values: {
        id: "50",
        first: "Zoë 50",
        last: "Lee, 50",
        company: "Acme 50",
        title: "Manager",
        phone: "+15550000050",
        email: "user50@example.com",
        note: "multi\r\nline 50",
      },
    });
    expect(rows.at(-1)?.values.id).toBe(String(LARGE_FILE_ROWS - 1));
  });

  it("decodes UTF-16LE across chunk boundaries without losing characters", async () => {
    const count = 20_000;
    const records = Array.from({ length: count }, (_, i) => `${i},🎉 Zoë ${i},山田`);
    const { ctx, file } = writeCsv(utf16le(["id,name,city", ...records].join("\r\n"), true));
    const items = await readItems(csvConfig(file, { encoding: "utf16le" }), ctx);
    const rows = items.flatMap((item) => (item.type === "row" ? [item.row] : []));
    expect(rows).toHaveLength(count);
    expect(rows.every((row, i) => row.row === i + 2 && row.values.name === `🎉 Zoë ${i}` && row.values.city === "山田")).toBe(true);
  });
});

describe("csv source config: delimiter and encoding", () => {
  it.each([
    { source: {}, parsed: { delimiter: ",", encoding: "utf8" } },
    { source: { delimiter: "auto", encoding: "auto" }, parsed: { delimiter: "auto", encoding: "auto" } },
    { source: { delimiter: "\t", encoding: "windows-1252" }, parsed: { delimiter: "\t", encoding: "windows-1252" } },
  ])("accepts $source", ({ source, parsed }) => {
    expect(sourceSchema.parse({ type: "csv", path: "x.csv", ...source })).toEqual({ type: "csv", path: "x.csv", ...parsed });
  });

  it.each([
    { source: { delimiter: ";;" }, message: 'one character, or "auto"' },
    { source: { delimiter: "" }, message: 'one character, or "auto"' },
    { source: { encoding: "" }, message: "" },
  ])("refuses $source", ({ source, message }) => {
    const result = sourceSchema.safeParse({ type: "csv", path: "x.csv", ...source });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message).join("; ")).toContain(message);
  });
});
