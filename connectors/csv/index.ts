/**
 * The CSV source connector: a file on disk, streamed through csv-parse.
 * It handles a BOM, CRLF, quoted fields with commas, quotes and newlines, a configurable delimiter
 * and encoding, and skips blank lines.
 * Missing and repeated keys are the planner's to judge; this connector does not know the key column.
 */
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import type { CsvSourceConfig } from "../../src/config.js";
import { SourceError } from "../../src/errors.js";
import type { SourceRow } from "../../src/model.js";
import type { CheckResult, ConnectorContext, SourceConnector, SourceItem } from "../types.js";
import { CsvSyntaxError, parseCsvRecords, type CsvRecord } from "./parse-csv-records.js";
import { decodeBytes, resolveDecoding, type TextDecoding } from "./text-decoding.js";

/** The config schema's defaults, repeated for configs built in code without going through it. */
const DEFAULT_DELIMITER = ",";
const DEFAULT_ENCODING = "utf8";

/** Characters that already mean something to the CSV syntax and so cannot separate cells. */
const RESERVED_DELIMITERS = new Set(['"', "\r", "\n"]);

/** What a failed open or read of the file is called in a message, by Node's error code. */
const FS_ERROR_REASONS: Record<string, string> = {
  ENOENT: "no such file",
  ENOTDIR: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "it is a directory",
};

/** A CSV source config, checked and resolved against the config file's directory. */
interface CsvSource {
  /** The path as the config gives it: what messages name, since it is what the user wrote. */
  display: string;
  file: string;
  delimiter: string;
  decoding: TextDecoding;
}

/** Throws `SourceError` for an unknown encoding or an unusable delimiter, before any file access. */
function resolveSource(config: CsvSourceConfig, ctx: ConnectorContext): CsvSource {
  const display = config.path;
  const encoding = config.encoding ?? DEFAULT_ENCODING;
  const decoding = resolveDecoding(encoding);
  if (!decoding) {
    throw new SourceError(
      `cannot read ${display}: unknown encoding '${encoding}' (use utf8, latin1, windows-1252, utf16le or another encoding iconv-lite knows)`,
    );
  }
  const delimiter = config.delimiter ?? DEFAULT_DELIMITER;
  if (delimiter === "" || RESERVED_DELIMITERS.has(delimiter)) {
    throw new SourceError(`cannot read ${display}: ${JSON.stringify(delimiter)} cannot be the delimiter`);
  }
  return { display, file: path.resolve(ctx.baseDir, config.path), delimiter, decoding };
}

/** Node's error code (ENOENT, EACCES…) of a failed file operation, if `err` is one. */
function errorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * A failed file operation as a `SourceError` naming the configured path only: Node's own messages
 * carry the absolute path and the syscall, which mean nothing to the person running the sync.
 */
function fileError(display: string, code: string): SourceError {
  return new SourceError(`cannot read ${display}: ${FS_ERROR_REASONS[code] ?? `the file cannot be read (${code})`}`);
}

/** Opens the file for reading; throws `SourceError` if it is missing, unreadable or a directory. */
async function openFile(source: CsvSource): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(source.file, "r");
  } catch (err) {
    const code = errorCode(err);
    throw code ? fileError(source.display, code) : err;
  }
  // Opening a directory succeeds on Linux; reading it would fail later with a less clear error.
  let isDirectory: boolean;
  try {
    isDirectory = (await handle.stat()).isDirectory();
  } catch (err) {
    await handle.close();
    const code = errorCode(err);
    throw code ? fileError(source.display, code) : err;
  }
  if (isDirectory) {
    await handle.close();
    throw fileError(source.display, "EISDIR");
  }
  return handle;
}

/**
 * The header's column names: cells trimmed (a header is names, not data). Throws `SourceError`
 * naming the file, line and 1-based column for an empty or repeated name, since either would make
 * `values` ambiguous.
 */
function headerColumns(record: CsvRecord, display: string): string[] {
  const columns = record.cells.map((cell) => cell.trim());
  const firstSeen = new Map<string, number>();
  columns.forEach((name, index) => {
    const where = `${display}, line ${record.line}: column ${index + 1} of the header`;
    if (name === "") throw new SourceError(`${where} is empty; every column needs a name`);
    const first = firstSeen.get(name);
    if (first !== undefined) throw new SourceError(`${where}, '${name}', repeats column ${first + 1}`);
    firstSeen.set(name, index);
  });
  return columns;
}

/** Sets `values[name]` as an own property even for the name "__proto__", which `=` would swallow. */
function setValue(values: Record<string, string>, name: string, value: string): void {
  if (name === "__proto__") Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true });
  else values[name] = value;
}

/**
 * One record as a row of the snapshot. Missing trailing cells read as "". Cells beyond the header
 * are a `problem` (the planner rejects the row) unless they are all blank: spreadsheet exports often
 * end lines with extra delimiters, and a blank cell carries nothing that could be lost. The count in
 * the message stops at the last non-blank cell, as those trailing blanks are not counted against it.
 */
function toRow(record: CsvRecord, columns: readonly string[]): SourceRow {
  const { cells } = record;
  const values: Record<string, string> = {};
  for (let i = 0; i < columns.length; i++) setValue(values, columns[i]!, cells[i] ?? "");
  const row: SourceRow = { row: record.line, values };
  let used = cells.length;
  while (used > columns.length && cells[used - 1]!.trim() === "") used--;
  if (used > columns.length) row.problem = `has ${used} cells but the header has ${columns.length}`;
  return row;
}

/**
 * The snapshot: the first non-blank record is the header, every later one a row. `row` is the
 * 1-based line of the file where the record starts — header on line 1 makes the first record row 2,
 * as a spreadsheet numbers it; skipped blank lines still count, so numbers stay the file's line
 * numbers; a record whose quoted cell spans lines takes all of them, and the next record's number
 * reflects that.
 *
 * An unparseable file surfaces as a `SourceError` "<path>, line N: <reason>" possibly after some rows
 * were yielded (the file is streamed). That is safe: callers collect the whole snapshot before
 * planning, so nothing is written from a partial read.
 */
async function* readCsv(config: CsvSourceConfig, ctx: ConnectorContext): AsyncGenerator<SourceItem> {
  const source = resolveSource(config, ctx);
  const handle = await openFile(source);
  const text = decodeBytes(handle.createReadStream(), source.decoding);
  let columns: string[] | undefined;
  try {
    for await (const batch of parseCsvRecords(text, source.delimiter)) {
      for (const record of batch) {
        if (columns) {
          yield { type: "row", row: toRow(record, columns) };
        } else {
          columns = headerColumns(record, source.display);
          yield { type: "header", columns };
        }
      }
    }
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw new SourceError(`${source.display}, line ${err.line}: ${err.reason}`);
    // A read that fails midway (a disk error, a file on a vanished network share).
    const code = errorCode(err);
    throw code ? fileError(source.display, code) : err;
  }
  // An empty file has no header; whether that is an error is for the run to decide.
  if (!columns) yield { type: "header", columns: [] };
}

/**
 * Reads a CSV file. `config.path` resolves against `ctx.baseDir`. `read` throws `SourceError` for an
 * unknown encoding, a missing or unreadable file, an empty or repeated header name and an
 * unparseable file (naming the path as configured and the line); `check` reports the same through
 * its result and reads no further than the header.
 */
export const csvConnector: SourceConnector<CsvSourceConfig> = {
  type: "csv",

  async check(config: CsvSourceConfig, ctx: ConnectorContext): Promise<CheckResult> {
    try {
      for await (const item of readCsv(config, ctx)) {
        if (item.type === "header") break;
      }
      return { ok: true };
    } catch (err) {
      // `check` reports whatever went wrong, even a failure this code did not foresee.
      const message = err instanceof SourceError ? err.message : `cannot read ${config.path}: ${err instanceof Error ? err.message : String(err)}`;
      return { ok: false, message };
    }
  },

  read(config: CsvSourceConfig, ctx: ConnectorContext): AsyncIterable<SourceItem> {
    return readCsv(config, ctx);
  },
};
