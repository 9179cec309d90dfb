/**
 * Property-based fuzzing of the CSV connector on real files: random bytes in every encoding and
 * delimiter, quote chaos, damaged valid files, line endings, huge cells, many columns, empty and
 * header-only files, and a round trip of random tables written as valid CSV.
 *
 * What every read must do: finish well inside a bound, and either yield one header followed by
 * rows whose values cover exactly the header's columns, or fail with the connector's `SourceError`
 * "<path>, line N: <reason>" (", column C" after N for a byte not valid in the encoding) with N a
 * line the file has, or "cannot read <path>: <reason>" for a file that is not text. Nothing else
 * may escape.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import iconv from "iconv-lite";
import { afterAll, describe, expect, it } from "vitest";
import { csvConnector } from "../../connectors/csv/index.js";
import { MAX_RECORD_SIZE } from "../../connectors/csv/parse-csv-records.js";
import type { ConnectorContext, SourceItem } from "../../connectors/types.js";
import type { CsvSourceConfig } from "../../src/config.js";
import { SourceError } from "../../src/errors.js";
import type { SourceRow } from "../../src/model.js";

/** A read that takes longer than this hangs, as far as these properties are concerned. */
const READ_BOUND_MS = 10_000;
/** A property's whole run, generous against a slow shared machine; runs are sized to take ~10 s at most. */
const PROPERTY_TIMEOUT_MS = 120_000;

const FILE = "contacts.csv";
const root = mkdtempSync(path.join(tmpdir(), "quo-sync-csv-fuzz-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirCount = 0;

/** A directory of its own for one property; every run overwrites its one file, as runs are sequential. */
function scratch(): { ctx: ConnectorContext; write: (bytes: Buffer) => void } {
  // Messages name the resolved path; `readOutcome` leaves the directory out.
  const dir = path.join(root, `property-${++dirCount}`);
  mkdirSync(dir);
  return { ctx: { baseDir: dir, env: {}, wanted: [] }, write: (bytes) => writeFileSync(path.join(dir, FILE), bytes) };
}

function csvConfig(options: { delimiter: string; encoding: string }): CsvSourceConfig {
  return { type: "csv", path: FILE, delimiter: options.delimiter, encoding: options.encoding };
}

/** Rejects if `work` has not settled after `ms`: a hang fails the property instead of the whole file. */
async function withinBound<T>(work: Promise<T>, ms = READ_BOUND_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type Outcome = { ok: true; items: SourceItem[] } | { ok: false; error: unknown; items: SourceItem[] };

/**
 * Everything a read yields, and how it ended; only a read that does not finish in time throws. A
 * `SourceError`'s message names the file's resolved path: it is given relative to the directory.
 */
async function readOutcome(config: CsvSourceConfig, ctx: ConnectorContext): Promise<Outcome> {
  const items: SourceItem[] = [];
  const reading = (async (): Promise<Outcome> => {
    try {
      for await (const item of csvConnector.read(config, ctx)) items.push(item);
      return { ok: true, items };
    } catch (error) {
      if (error instanceof SourceError) error.message = error.message.replaceAll(ctx.baseDir + path.sep, "");
      return { ok: false, error, items };
    }
  })();
  return withinBound(reading);
}

/** Line breaks as an editor counts them: "\r\n" once, a lone "\r" or "\n" once each. */
const LINE_BREAK_RE = /\r\n|\r|\n/g;

function countBytes(bytes: Buffer, values: readonly number[]): number {
  let n = 0;
  for (const b of bytes) if (values.includes(b)) n++;
  return n;
}

/**
 * The highest line number a message may name for `bytes`: every CR and LF counted as a line of its
 * own (an upper bound whichever way the parser pairs them), in the raw bytes and in the decoded text.
 */
function lineBound(bytes: Buffer, encoding: string): number {
  const text = iconv.decode(bytes, encoding);
  const inText = (text.match(/[\r\n]/g) ?? []).length;
  return Math.max(inText, countBytes(bytes, [0x0a, 0x0d])) + 1;
}

const ERROR_RE = /^contacts\.csv, line (\d+)(?:, column \d+)?: \S/;
/** A file refused as a whole: not text, or UTF-16 without a byte-order mark. */
const FILE_ERROR_RE = /^cannot read contacts\.csv: (not a text file; |it looks like UTF-16)\S/;
const PROBLEM_RE = /^has (\d+) cells but the header has (\d+)$/;

/** The invariants of any read, whatever the file held. */
function checkOutcome(outcome: Outcome, maxLine: number): void {
  if (!outcome.ok) {
    if (!(outcome.error instanceof SourceError)) throw outcome.error;
    const m = ERROR_RE.exec(outcome.error.message);
    if (m === null) {
      expect(outcome.error.message, outcome.error.message).toMatch(FILE_ERROR_RE);
      expect(outcome.items).toEqual([]);
    } else {
      const line = Number(m[1]);
      expect(line).toBeGreaterThanOrEqual(1);
      expect(line).toBeLessThanOrEqual(maxLine);
    }
  }
  const [header, ...rest] = outcome.items;
  if (header === undefined) {
    // Only a failed read may end before its header.
    expect(outcome.ok).toBe(false);
    return;
  }
  if (header.type !== "header") throw new Error(`the first item is not a header: ${JSON.stringify(header)}`);
  const { columns } = header;
  expect(new Set(columns).size).toBe(columns.length);
  for (const name of columns) {
    expect(name).not.toBe("");
    expect(name).toBe(name.trim());
  }
  const sortedColumns = [...columns].sort();
  let lastRow = 1;
  for (const item of rest) {
    if (item.type !== "row") throw new Error(`a second header: ${JSON.stringify(item)}`);
    const { row } = item;
    expect(columns.length).toBeGreaterThan(0);
    expect(Number.isInteger(row.row)).toBe(true);
    expect(row.row).toBeGreaterThan(lastRow);
    expect(row.row).toBeLessThanOrEqual(maxLine);
    lastRow = row.row;
    expect(Object.keys(row.values).sort()).toEqual(sortedColumns);
    for (const name of columns) expect(typeof Object.getOwnPropertyDescriptor(row.values, name)?.value).toBe("string");
    if (row.problem !== undefined) {
      const m = PROBLEM_RE.exec(row.problem);
      expect(m, row.problem).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(Number(m![2]));
      expect(Number(m![2])).toBe(columns.length);
    }
  }
}

/** `check` never throws, agrees with `read`, and fails only with the message `read` fails with. */
async function checkAgreesWithRead(config: CsvSourceConfig, ctx: ConnectorContext, outcome: Outcome): Promise<void> {
  const result = await withinBound(csvConnector.check(config, ctx));
  if (outcome.ok) expect(result).toEqual({ ok: true });
  if (!result.ok) {
    expect(outcome.ok).toBe(false);
    expect(result.message.replaceAll(ctx.baseDir + path.sep, "")).toBe((outcome as { error: Error }).error.message);
  }
}

// ---------------------------------------------------------------------------------------------
// Dialects: the encodings and delimiters a config can name.

type BaseEncoding = "utf8" | "latin1" | "windows-1252" | "utf16le";

/** Config spellings of each encoding, so aliases are read as their encoding too. */
const ENCODING_NAMES: { name: string; base: BaseEncoding }[] = [
  { name: "utf8", base: "utf8" },
  { name: "UTF-8", base: "utf8" },
  { name: "latin1", base: "latin1" },
  { name: "ISO-8859-1", base: "latin1" },
  { name: "windows-1252", base: "windows-1252" },
  { name: "cp1252", base: "windows-1252" },
  { name: "utf16le", base: "utf16le" },
  { name: "UTF-16LE", base: "utf16le" },
];

/** Encodings the config accepts beyond the four documented ones; only random bytes go through them. */
const OTHER_ENCODINGS = ["utf16be", "shift_jis", "koi8-r", "gb18030"];

/**
 * The schema allows any one UTF-16 code unit as the delimiter: the usual four, and odd ones
 * (a space, a letter, NUL, a non-breaking space, a BOM, a line separator, a lone surrogate).
 */
const USUAL_DELIMITERS = [",", ";", "\t", "|"];
const ODD_DELIMITERS = [" ", "#", "a", "'", "\\", "§", "\u00a0", "\u0000", "€", "\ufeff", "\u2028", "\ud800"];
const ALL_DELIMITERS = [...USUAL_DELIMITERS, ...ODD_DELIMITERS];

/** Each windows-1252 byte's character, except the five bytes the code page leaves undefined. */
const WINDOWS_1252_CHARS = new Set(
  Array.from({ length: 256 }, (_, b) => iconv.decode(Buffer.from([b]), "windows-1252")).filter((ch) => ch !== "\ufffd"),
);

/** A UTF-16 code unit that is half of a surrogate pair without its other half. */
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Whether `text` survives being written in `base` and read back. */
function encodable(text: string, base: BaseEncoding): boolean {
  switch (base) {
    case "utf8":
    case "utf16le":
      return !new RegExp(LONE_SURROGATE_RE.source).test(text);
    case "latin1":
      return [...text].every((ch) => ch.charCodeAt(0) <= 0xff);
    case "windows-1252":
      return [...text].every((ch) => WINDOWS_1252_CHARS.has(ch));
  }
}

function encode(text: string, base: BaseEncoding, bom: boolean): Buffer {
  switch (base) {
    case "utf8":
      return Buffer.from(bom ? `\ufeff${text}` : text, "utf8");
    case "utf16le":
      return iconv.encode(text, "utf16le", { addBOM: bom });
    default:
      return iconv.encode(text, base);
  }
}

type Ending = "\n" | "\r\n" | "\r";
const ENDINGS: Ending[] = ["\n", "\r\n", "\r"];

interface Dialect {
  encoding: string;
  base: BaseEncoding;
  bom: boolean;
  delimiter: string;
  /** One ending for the whole file, or "mixed": each line picks its own. */
  ending: Ending | "mixed";
}

const dialectArb: fc.Arbitrary<Dialect> = fc
  .record({
    encoding: fc.constantFrom(...ENCODING_NAMES),
    bom: fc.boolean(),
    delimiter: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...USUAL_DELIMITERS) }, { weight: 2, arbitrary: fc.constantFrom(...ODD_DELIMITERS) }),
    ending: fc.constantFrom<Ending | "mixed">(...ENDINGS, "mixed"),
  })
  .filter(({ encoding, delimiter }) => encodable(delimiter, encoding.base))
  .map(({ encoding, bom, delimiter, ending }) => ({
    encoding: encoding.name,
    base: encoding.base,
    // Single-byte encodings have no BOM.
    bom: bom && (encoding.base === "utf8" || encoding.base === "utf16le"),
    delimiter,
    ending,
  }));

/** Characters that mean something to CSV, to a trimming reader or to a decoder, weighted up. */
const SPECIAL_CHARS = [",", ";", "\t", "|", '"', '""', "\r", "\n", "\r\n", " ", "\u00a0", "\ufeff", "\u2028", "\u0000", "é", "€", "😀", "山"];

/**
 * Whether `d` may write a NUL character: only where zero bytes do not make the file "not text" (a
 * NUL delimiter, or UTF-16, where every ASCII character has a zero byte anyway).
 */
function nulAllowed(d: Dialect): boolean {
  return d.delimiter === "\u0000" || d.base === "utf16le";
}

/** One cell's text: mostly plain letters, often special characters, sometimes any character. */
function cellTextArb(d: Dialect, maxLength = 12): fc.Arbitrary<string> {
  const specials = [d.delimiter, ...SPECIAL_CHARS].filter((s) => encodable(s, d.base) && (nulAllowed(d) || s !== "\u0000"));
  const anyChar: fc.Arbitrary<string> =
    d.base === "latin1"
      ? fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c))
      : d.base === "windows-1252"
        ? fc.constantFrom(...WINDOWS_1252_CHARS)
        : fc.string({ unit: "binary", minLength: 1, maxLength: 1 });
  const any = nulAllowed(d) ? anyChar : anyChar.filter((ch) => ch !== "\u0000");
  const unit = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom("a", "b", "Z", "0", "7", "@", ".", "-", "+") },
    { weight: 3, arbitrary: fc.constantFrom(...specials) },
    { weight: 2, arbitrary: any },
  );
  return fc.string({ unit, maxLength });
}

/** Lines a reader skips as blank: empty, or whitespace that is not the delimiter. */
function blankLineArb(d: Dialect): fc.Arbitrary<string> {
  const spaces = ["", " ", "  ", "\t", "\u00a0", " \t "].filter((s) => !s.includes(d.delimiter) && encodable(s, d.base));
  return fc.constantFrom(...spaces);
}

function endingArb(d: Dialect): fc.Arbitrary<Ending> {
  return d.ending === "mixed" ? fc.constantFrom(...ENDINGS) : fc.constant(d.ending);
}

// ---------------------------------------------------------------------------------------------
// Writing valid CSV.

interface WrittenRecord {
  cells: { text: string; quoted: boolean }[];
  blanksBefore: { text: string; ending: Ending }[];
  ending: Ending;
}

interface WrittenTable {
  header: WrittenRecord;
  rows: WrittenRecord[];
  blanksAfter: { text: string; ending: Ending }[];
  /** Whether the last line ends with a line break. */
  finalEnding: boolean;
}

/** A cell as valid CSV: quoted when it must be (or when `quoted` asks), inner quotes doubled. */
function writeCell(text: string, quoted: boolean, delimiter: string): string {
  const mustQuote = text.includes(delimiter) || /["\r\n]/.test(text);
  return quoted || mustQuote ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The delimiters the connector suggests instead of the configured one, or picks with "auto". */
const CANDIDATE_RE = /[,;\t|]/;

/**
 * Whether a header cell must be quoted: a one-column header holding another candidate delimiter
 * unquoted reads as a delimiter mistake (the connector's own tests cover that); quoted, it is one
 * column on purpose.
 */
function headerQuoted(record: WrittenRecord, cell: { text: string; quoted: boolean }): boolean {
  return cell.quoted || (record.cells.length === 1 && CANDIDATE_RE.test(cell.text));
}

/** The file's text (without its BOM) and the offset each record starts at, header first. */
function writeTable(table: WrittenTable, delimiter: string): { text: string; starts: number[] } {
  const parts: string[] = [];
  const starts: number[] = [];
  let length = 0;
  const put = (s: string) => {
    parts.push(s);
    length += s.length;
  };
  const records = [table.header, ...table.rows];
  records.forEach((record, i) => {
    for (const blank of record.blanksBefore) put(blank.text + blank.ending);
    starts.push(length);
    put(record.cells.map((c) => writeCell(c.text, i === 0 ? headerQuoted(record, c) : c.quoted, delimiter)).join(delimiter));
    const last = i === records.length - 1 && table.blanksAfter.length === 0;
    if (!last || table.finalEnding) put(record.ending);
  });
  table.blanksAfter.forEach((blank, i) => {
    put(blank.text);
    if (i < table.blanksAfter.length - 1 || table.finalEnding) put(blank.ending);
  });
  return { text: parts.join(""), starts };
}

/** The 1-based line each offset of `text` is on (offsets ascending). */
function linesAt(text: string, offsets: readonly number[]): number[] {
  const lines: number[] = [];
  LINE_BREAK_RE.lastIndex = 0;
  let line = 1;
  let m = LINE_BREAK_RE.exec(text);
  for (const offset of offsets) {
    while (m !== null && m.index + m[0].length <= offset) {
      line++;
      m = LINE_BREAK_RE.exec(text);
    }
    lines.push(line);
  }
  return lines;
}

/**
 * What the connector documents for a valid file: header names trimmed, cells as written (not
 * trimmed, quotes undone), a record of a single blank cell skipped as a blank line, and each row
 * numbered by the file line it starts on.
 */
function expectedRead(table: WrittenTable, starts: readonly number[], text: string): { columns: string[]; rows: SourceRow[] } {
  const columns = table.header.cells.map((c) => c.text.trim());
  const lines = linesAt(text, starts);
  const rows: SourceRow[] = [];
  table.rows.forEach((record, i) => {
    if (record.cells.length === 1 && record.cells[0]!.text.trim() === "") return;
    rows.push({ row: lines[i + 1]!, values: Object.fromEntries(columns.map((name, c) => [name, record.cells[c]!.text])) });
  });
  return { columns, rows };
}

/** Column names that are awkward as object keys. */
const TRICKY_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];

interface TableShape {
  minColumns: number;
  maxColumns: number;
  maxRows: number;
  maxCellLength: number;
}

function blanksArb(d: Dialect): fc.Arbitrary<{ text: string; ending: Ending }[]> {
  return fc.array(fc.record({ text: blankLineArb(d), ending: endingArb(d) }), { maxLength: 2 });
}

function tableArb(d: Dialect, shape: TableShape): fc.Arbitrary<WrittenTable> {
  const cellText = cellTextArb(d, shape.maxCellLength);
  const cell = fc.record({ text: cellText, quoted: fc.boolean() });
  const name = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...TRICKY_NAMES) }, { weight: 9, arbitrary: cellText }).filter((s) => s.trim() !== "");
  return fc.integer({ min: shape.minColumns, max: shape.maxColumns }).chain((n) =>
    fc.record({
      header: fc.record({
        cells: fc.tuple(
          fc.uniqueArray(name, { minLength: n, maxLength: n, selector: (s) => s.trim() }),
          fc.array(fc.boolean(), { minLength: n, maxLength: n }),
        ).map(([names, quoted]) => names.map((text, i) => ({ text, quoted: quoted[i]! }))),
        blanksBefore: blanksArb(d),
        ending: endingArb(d),
      }),
      rows: fc.array(
        fc.record({ cells: fc.array(cell, { minLength: n, maxLength: n }), blanksBefore: blanksArb(d), ending: endingArb(d) }),
        { maxLength: shape.maxRows },
      ),
      blanksAfter: blanksArb(d),
      finalEnding: fc.boolean(),
    }),
  );
}

/** The size of the chunks a file is read in (Node's default for a file stream). */
const READ_CHUNK_BYTES = 64 * 1024;

/**
 * How to pad a file so that a read-chunk boundary falls among the records after the padding, at a
 * random byte of them: splitting whatever is there, a "\r\n", a doubled quote, a multi-byte
 * character or delimiter. `chunk` is which boundary, `into` picks the byte.
 */
const paddingArb = (units: string[]) => fc.record({ unit: fc.constantFrom(...units), chunk: fc.integer({ min: 1, max: 2 }), into: fc.nat() });

/** `table` with a first row whose first cell is `unit` repeated to fill the file up to that boundary. */
function withPadding(d: Dialect, table: WrittenTable, padding: { unit: string; chunk: number; into: number } | null): WrittenTable {
  if (padding === null) return table;
  const n = table.header.cells.length;
  const padded = (count: number): WrittenTable => {
    const cells = Array.from({ length: n }, (_, i) => ({ text: i === 0 ? padding.unit.repeat(count) : "", quoted: false }));
    return { ...table, rows: [{ cells, blanksBefore: [], ending: table.header.ending }, ...table.rows] };
  };
  const size = (t: WrittenTable) => encode(writeTable(t, d.delimiter).text, d.base, d.bom).length;
  const unpadded = padded(0);
  const head = size({ ...unpadded, rows: unpadded.rows.slice(0, 1), blanksAfter: [], finalEnding: true });
  const rest = size(unpadded) - head;
  // As written inside the (quoted, if need be) cell: a quote is doubled.
  const unitBytes = encode(padding.unit.replaceAll('"', '""'), d.base, false).length;
  const target = padding.chunk * READ_CHUNK_BYTES - (rest > 0 ? padding.into % rest : 0);
  return padded(Math.max(0, Math.floor((target - head) / unitBytes)));
}

function contentOf(items: SourceItem[]): { columns: string[] | undefined; rows: SourceRow[] } {
  const header = items[0];
  return {
    columns: header?.type === "header" ? header.columns : undefined,
    rows: items.flatMap((item) => (item.type === "row" ? [item.row] : [])),
  };
}

async function roundTrip(d: Dialect, table: WrittenTable, io: ReturnType<typeof scratch>): Promise<void> {
  const { text, starts } = writeTable(table, d.delimiter);
  io.write(encode(text, d.base, d.bom));
  const outcome = await readOutcome(csvConfig(d), io.ctx);
  if (!outcome.ok) throw outcome.error;
  const expected = expectedRead(table, starts, text);
  const read = contentOf(outcome.items);
  expect(read.columns).toEqual(expected.columns);
  expect(read.rows).toEqual(expected.rows);
  for (const row of read.rows) expect(row).not.toHaveProperty("problem");
}

// ---------------------------------------------------------------------------------------------

describe("csv fuzz: never a crash, never a hang", () => {
  it(
    "random bytes, in any encoding and with any delimiter the config allows",
    async () => {
      const io = scratch();
      // Bytes drawn from those that matter (quotes, delimiters, line breaks, BOM and UTF-8 lead
      // bytes) find parser states that uniformly random bytes rarely reach.
      const meaningful = [0x22, 0x2c, 0x3b, 0x09, 0x7c, 0x20, 0x0a, 0x0d, 0x61, 0x00, 0xef, 0xbb, 0xbf, 0xff, 0xfe, 0xc3, 0xa9, 0xe2, 0x80, 0xa8];
      const bytesArb = fc.oneof(
        fc.uint8Array({ maxLength: 3000, size: "max" }),
        fc.array(fc.constantFrom(...meaningful), { maxLength: 400, size: "max" }).map((a) => Uint8Array.from(a)),
      );
      await fc.assert(
        fc.asyncProperty(
          bytesArb,
          fc.constantFrom(...ENCODING_NAMES.map((e) => e.name), ...OTHER_ENCODINGS),
          fc.constantFrom(...ALL_DELIMITERS),
          async (raw, encoding, delimiter) => {
            const bytes = Buffer.from(raw);
            io.write(bytes);
            const config = csvConfig({ delimiter, encoding });
            const outcome = await readOutcome(config, io.ctx);
            checkOutcome(outcome, lineBound(bytes, encoding));
            await checkAgreesWithRead(config, io.ctx, outcome);
          },
        ),
        { numRuns: 200 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "quote chaos: balanced, unbalanced, embedded and doubled quotes between delimiters and line breaks",
    async () => {
      const io = scratch();
      const arb = dialectArb.chain((d) => {
        const tokens = [d.delimiter, '"', '""', '"""', "\r", "\n", "\r\n", "a", "b c", " ", 'x"y', "é", "\ufeff", "😀"].filter((t) => encodable(t, d.base));
        return fc.record({ d: fc.constant(d), text: fc.array(fc.constantFrom(...tokens), { maxLength: 80, size: "max" }).map((t) => t.join("")) });
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ d, text }) => {
          const bytes = encode(text, d.base, d.bom);
          io.write(bytes);
          const config = csvConfig(d);
          const outcome = await readOutcome(config, io.ctx);
          checkOutcome(outcome, lineBound(bytes, d.encoding));
          await checkAgreesWithRead(config, io.ctx, outcome);
        }),
        { numRuns: 250 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "a valid file damaged by inserting or deleting a quote, a delimiter or a line break",
    async () => {
      const io = scratch();
      const arb = dialectArb.chain((d) =>
        fc.record({
          d: fc.constant(d),
          table: tableArb(d, { minColumns: 1, maxColumns: 5, maxRows: 6, maxCellLength: 8 }),
          edits: fc.array(
            fc.record({ at: fc.nat(), kind: fc.constantFrom("insert", "delete"), what: fc.constantFrom('"', d.delimiter, "\n", "\r") }),
            { minLength: 1, maxLength: 3 },
          ),
        }),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ({ d, table, edits }) => {
          let { text } = writeTable(table, d.delimiter);
          for (const edit of edits) {
            const at = text.length === 0 ? 0 : edit.at % text.length;
            text = edit.kind === "insert" ? text.slice(0, at) + edit.what + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
          }
          // A deletion can split a surrogate pair; write what an editor would, a replacement character.
          const bytes = encode(text.replace(LONE_SURROGATE_RE, "\ufffd"), d.base, d.bom);
          io.write(bytes);
          const outcome = await readOutcome(csvConfig(d), io.ctx);
          checkOutcome(outcome, lineBound(bytes, d.encoding));
        }),
        { numRuns: 120 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

describe("csv fuzz: errors name the right line", () => {
  type Breakage = "unclosed quote" | "text after a closing quote" | "quote inside an unquoted cell";
  const reasons: Record<Breakage, string> = {
    "unclosed quote": `a '"' opens a quoted cell that is never closed (write a '"' inside a quoted cell as '""')`,
    "text after a closing quote": `a closing '"' is followed by more text instead of the delimiter or the end of the line (write a '"' inside a quoted cell as '""')`,
    "quote inside an unquoted cell": `has a '"' after other text; quote the whole cell and write a '"' inside a quoted cell as '""'`,
  };

  it(
    "a broken record after valid rows (multi-line cells, blank lines, any line ends) is reported on the line it starts",
    async () => {
      const io = scratch();
      const arb = dialectArb.chain((d) =>
        fc.record({
          d: fc.constant(d),
          table: tableArb(d, { minColumns: 1, maxColumns: 5, maxRows: 10, maxCellLength: 10 }),
          padding: fc.option(paddingArb(["x", "\r\n", "é"]), { freq: 2 }),
          // The cells before the broken one hold no line break: a parse error is placed within its
          // record by csv-parse's count, which reads a "\r\n" inside a quoted cell as two lines.
          before: fc.array(cellTextArb(d, 6).filter((s) => !/[\r\n]/.test(s)), { maxLength: 3 }),
          breakage: fc.constantFrom<Breakage>("unclosed quote", "text after a closing quote", "quote inside an unquoted cell"),
          blanks: blanksArb(d),
          ending: endingArb(d),
        }),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ({ d, table, padding, before, breakage, blanks, ending }) => {
          const full = withPadding(d, table, padding);
          const valid = writeTable({ ...full, blanksAfter: [], finalEnding: true }, d.delimiter).text;
          const brokenCell = { "unclosed quote": '"never closed', "text after a closing quote": '"closed"x', "quote inside an unquoted cell": 'x"y' }[breakage];
          const cells = [...before.map((text) => writeCell(text, false, d.delimiter)), brokenCell];
          const blankLines = blanks.map((b) => b.text + b.ending).join("");
          const text = valid + blankLines + cells.join(d.delimiter) + ending + (breakage === "unclosed quote" ? "" : "1,2,3\n");
          const line = linesAt(text, [valid.length + blankLines.length])[0]!;
          io.write(encode(text, d.base, d.bom));
          const outcome = await readOutcome(csvConfig(d), io.ctx);
          expect(outcome.ok).toBe(false);
          const cell = breakage === "unclosed quote" ? "" : breakage === "text after a closing quote" ? `in cell ${cells.length}, ` : `cell ${cells.length} `;
          expect((outcome as { error: Error }).error.message).toBe(`contacts.csv, line ${line}: ${cell}${reasons[breakage]}`);
        }),
        { numRuns: 150 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

describe("csv fuzz: round trip of valid files", () => {
  it(
    "random tables written as valid CSV read back cell for cell, on the lines they were written",
    async () => {
      const io = scratch();
      const arb = dialectArb.chain((d) =>
        fc.record({ d: fc.constant(d), table: tableArb(d, { minColumns: 1, maxColumns: 8, maxRows: 12, maxCellLength: 12 }) }),
      );
      await fc.assert(
        fc.asyncProperty(arb, ({ d, table }) => roundTrip(d, table, io)),
        { numRuns: 200 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "the same after a padding row that puts a read-chunk boundary among the records",
    async () => {
      const io = scratch();
      const arb = dialectArb.chain((d) =>
        fc.record({
          d: fc.constant(d),
          table: tableArb(d, { minColumns: 1, maxColumns: 4, maxRows: 40, maxCellLength: 6 }),
          padding: paddingArb(["x", "é", "😀", "\r\n", '"', d.delimiter].filter((u) => encodable(u, d.base))),
        }),
      );
      await fc.assert(
        fc.asyncProperty(arb, ({ d, table, padding }) => roundTrip(d, withPadding(d, table, padding), io)),
        { numRuns: 60 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "many columns: 200 to 2,000 of them",
    async () => {
      const io = scratch();
      const arb = dialectArb.chain((d) =>
        fc.record({ d: fc.constant(d), table: tableArb(d, { minColumns: 200, maxColumns: 2_000, maxRows: 3, maxCellLength: 4 }) }),
      );
      await fc.assert(
        fc.asyncProperty(arb, ({ d, table }) => roundTrip(d, table, io)),
        { numRuns: 12 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "empty, blank-only and header-only files",
    async () => {
      const io = scratch();
      const arb = dialectArb.chain((d) =>
        fc.record({
          d: fc.constant(d),
          blanks: blanksArb(d),
          table: fc.option(tableArb(d, { minColumns: 1, maxColumns: 6, maxRows: 0, maxCellLength: 8 }), { freq: 2 }),
          finalEnding: fc.boolean(),
        }),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ({ d, blanks, table, finalEnding }) => {
          if (table !== null) {
            await roundTrip(d, table, io);
            return;
          }
          const text = blanks.map((b, i) => b.text + (i < blanks.length - 1 || finalEnding ? b.ending : "")).join("");
          io.write(encode(text, d.base, d.bom));
          const outcome = await readOutcome(csvConfig(d), io.ctx);
          if (!outcome.ok) throw outcome.error;
          expect(outcome.items).toEqual([{ type: "header", columns: [] }]);
        }),
        { numRuns: 150 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

describe("csv fuzz: huge cells", () => {
  it(
    `a cell of 0.5 to 5 MB, far past any contact field, reads back whole: only a record past ${MAX_RECORD_SIZE.toLocaleString("en-US")} characters stops the read`,
    async () => {
      const io = scratch();
      const arb = dialectArb.chain((d) =>
        fc.record({
          d: fc.constant(d),
          table: tableArb(d, { minColumns: 1, maxColumns: 3, maxRows: 4, maxCellLength: 6 }),
          // Not blank, so that a huge header name is still a name.
          pattern: cellTextArb(d, 8).filter((s) => s.trim() !== ""),
          bytes: fc.integer({ min: 500_000, max: 5_000_000 }),
          where: fc.nat(),
        }),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ({ d, table, pattern, bytes, where }) => {
          // The huge cell goes into a data row, or the header when there are none.
          const records = [table.header, ...table.rows];
          const index = table.rows.length === 0 ? 0 : 1 + (where % table.rows.length);
          const record = records[index]!;
          const column = where % record.cells.length;
          const huge = pattern.repeat(Math.ceil(bytes / Buffer.byteLength(pattern)));
          const cells = record.cells.map((c, i) => (i === column ? { ...c, text: huge } : c));
          const updated = { ...record, cells };
          const big: WrittenTable = index === 0 ? { ...table, header: updated } : { ...table, rows: table.rows.map((r, i) => (i === index - 1 ? updated : r)) };

          const { text, starts } = writeTable(big, d.delimiter);
          io.write(encode(text, d.base, d.bom));
          const outcome = await readOutcome(csvConfig(d), io.ctx);
          if (!outcome.ok) throw outcome.error;
          if (index === 0) expect(contentOf(outcome.items).columns).toEqual(cells.map((c) => c.text.trim()));
          else expect(contentOf(outcome.items)).toEqual(expectedRead(big, starts, text));
        }),
        { numRuns: 12 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

describe('csv fuzz: "auto" encoding and delimiter', () => {
  it(
    "a table of two columns or more, written in UTF-8 or UTF-16 (with its byte-order mark) and split by , ; tab or |, reads back cell for cell",
    async () => {
      const io = scratch();
      const arb = dialectArb
        .filter((d) => (d.base === "utf8" || (d.base === "utf16le" && d.bom)) && (USUAL_DELIMITERS as readonly string[]).includes(d.delimiter))
        .chain((d) =>
          fc.record({
            d: fc.constant(d),
            // Header names without a candidate delimiter: one that held another one unquoted would
            // make two readings equally good.
            table: tableArb(d, { minColumns: 2, maxColumns: 6, maxRows: 12, maxCellLength: 10 }).filter((t) => t.header.cells.every((c) => !CANDIDATE_RE.test(c.text))),
          }),
        );
      await fc.assert(
        fc.asyncProperty(arb, async ({ d, table }) => {
          const { text, starts } = writeTable(table, d.delimiter);
          io.write(encode(text, d.base, d.bom));
          const outcome = await readOutcome(csvConfig({ delimiter: "auto", encoding: "auto" }), io.ctx);
          if (!outcome.ok) throw outcome.error;
          const expected = expectedRead(table, starts, text);
          expect(contentOf(outcome.items)).toEqual(expected);
        }),
        { numRuns: 150 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
