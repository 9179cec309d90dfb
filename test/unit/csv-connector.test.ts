/**
 * The CSV connector on real files in a temp dir: dialects and encodings, blank lines, cell counts,
 * header rules, parse errors with their lines, file errors, `check`, and reading speed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import iconv from "iconv-lite";
import { afterAll, describe, expect, it } from "vitest";
import { csvConnector } from "../../connectors/csv/index.js";
import { MAX_RECORD_SIZE } from "../../connectors/csv/parse-csv-records.js";
import type { CsvSourceConfig } from "../../src/config.js";
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

/** The message of the `SourceError` that reading `content` throws. */
async function readError(content: string | Buffer, options: Partial<CsvSourceConfig> = {}): Promise<string> {
  const { ctx, file } = writeCsv(content);
  return sourceErrorOf(readItems(csvConfig(file, options), ctx));
}

const utf16le = (text: string, bom: boolean) => iconv.encode(text, "utf16le", { addBOM: bom });

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
      `contacts.csv, line 12: the record starting here runs past 1,000,000 characters; a '"' probably opens a quoted cell that is never closed (write a '"' inside a quoted cell as '""')`,
    );
  });

  it("fails the whole read, whatever rows came before the error", async () => {
    const { ctx, file } = writeCsv("id,name\n1,Ann\n2,\"Bob\n");
    const seen: SourceItem[] = [];
    const reading = (async () => {
      for await (const item of csvConnector.read(csvConfig(file), ctx)) seen.push(item);
    })();
    expect(await sourceErrorOf(reading)).toBe(
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
    { name: "a missing file", file: "missing.csv", message: "cannot read missing.csv: no such file" },
    { name: "a file under a missing directory", file: "nowhere/contacts.csv", message: "cannot read nowhere/contacts.csv: no such file" },
    { name: "a directory", file: ".", message: "cannot read .: it is a directory" },
  ])("names the path as configured for $name", async ({ file, message }) => {
    const { ctx } = writeCsv("id\n1\n");
    expect(await sourceErrorOf(readItems(csvConfig(file), ctx))).toBe(message);
  });

  it.each([
    { name: "an unknown encoding", options: { encoding: "klingon" }, message: "cannot read missing.csv: unknown encoding 'klingon' (use utf8, latin1, windows-1252, utf16le or another encoding iconv-lite knows)" },
    { name: "a binary-to-text codec", options: { encoding: "base64" }, message: "cannot read missing.csv: unknown encoding 'base64' (use utf8, latin1, windows-1252, utf16le or another encoding iconv-lite knows)" },
    { name: "a quote as the delimiter", options: { delimiter: '"' }, message: `cannot read missing.csv: "\\"" cannot be the delimiter` },
  ])("rejects $name before looking for the file", async ({ options, message }) => {
    expect(await sourceErrorOf(readItems(csvConfig("missing.csv", options), { baseDir: root, env: {}, wanted: [] }))).toBe(message);
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
      result: { ok: false, message: "cannot read contacts.csv: unknown encoding 'nope-8' (use utf8, latin1, windows-1252, utf16le or another encoding iconv-lite knows)" },
    },
  ])("$name", async ({ content, file, options, result }) => {
    const written = writeCsv(content);
    expect(await csvConnector.check(csvConfig(file ?? written.file, options), written.ctx)).toEqual(result);
  });

  it("does not throw for a config it cannot use at all", async () => {
    const config = { type: "csv", path: "x.csv", delimiter: "", encoding: "utf8" } as CsvSourceConfig;
    expect(await csvConnector.check(config, { baseDir: root, env: {}, wanted: [] })).toEqual({ ok: false, message: `cannot read x.csv: "" cannot be the delimiter` });
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
