/**
 * The CSV source connector: a file on disk, streamed through csv-parse.
 * It handles a BOM, CRLF, quoted fields with commas, quotes and newlines, a configurable (or
 * detected) delimiter and encoding, and skips blank lines. Before parsing it looks at the file's
 * first bytes, so that a file that is not text, not in the configured encoding or not split by the
 * configured delimiter is refused with what to set, never read as something else.
 * Missing and repeated keys are the planner's to judge; this connector does not know the key column.
 */
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream";
import type { CsvSourceConfig } from "../../src/config.js";
import { SourceError } from "../../src/errors.js";
import type { SourceRow } from "../../src/model.js";
import type { CheckResult, ConnectorContext, SourceConnector, SourceItem } from "../types.js";
import { betterDelimiter, delimiterName, delimiterSetting, detectDelimiter } from "./detect-delimiter.js";
import { CsvSyntaxError, parseCsvRecords, type CsvRecord } from "./parse-csv-records.js";
import { bomEncoding, readHead, sniff, type BomEncoding } from "./sniff-file.js";
import {
  InvalidTextError,
  Utf8Check,
  autoDecoding,
  autoWhy,
  checkingStream,
  likelyLegacyEncoding,
  locateByte,
  resolveDecoding,
  utf16Variant,
  type ReadDecoding,
  type TextDecoding,
} from "./text-decoding.js";

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

/** The value of `delimiter` and `encoding` that asks the connector to detect them. */
const AUTO = "auto";

/** Longest stretch of a header quoted in a message: enough to recognise it. */
const HEADER_QUOTE_LENGTH = 60;

/** Control characters, which a message must not pass to a terminal (they can move the cursor, recolour…). */
const CONTROL_CHARS_RE = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Text from the file as a message quotes it: a tab as JSON writes it (so the message shows where it
 * is), any other control character as its \u escape.
 */
function visible(text: string): string {
  return text.replace(CONTROL_CHARS_RE, (c) => (c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

/** A CSV source config, checked and resolved against the config file's directory. */
interface CsvSource {
  /**
   * The path resolved against the config file's directory: what every message names, so that a
   * relative path in a config run from another folder still says which file (README.md, "CSV files
   * as people export them").
   */
  file: string;
  /** One character, or "auto". */
  delimiter: string;
  decoding: TextDecoding;
  /** The encoding as the config names it, for messages. */
  encodingName: string;
}

/** How a read goes, once the file's first bytes are known. */
interface ReadPlan {
  delimiter: string;
  decoding: ReadDecoding;
}

/** Throws `SourceError` for an unknown encoding or an unusable delimiter, before any file access. */
function resolveSource(config: CsvSourceConfig, ctx: ConnectorContext): CsvSource {
  const file = path.resolve(ctx.baseDir, config.path);
  const encoding = config.encoding ?? DEFAULT_ENCODING;
  const decoding = resolveDecoding(encoding);
  if (!decoding) {
    throw new SourceError(
      `cannot read ${file}: unknown encoding '${encoding}' (use utf8, latin1, windows-1252, utf16le, "auto" or another encoding iconv-lite knows)`,
    );
  }
  const delimiter = config.delimiter ?? DEFAULT_DELIMITER;
  if (delimiter === "" || RESERVED_DELIMITERS.has(delimiter)) {
    throw new SourceError(`cannot read ${file}: ${JSON.stringify(delimiter)} cannot be the delimiter`);
  }
  return { file, delimiter, decoding, encodingName: encoding };
}

/** Node's error code (ENOENT, EACCES…) of a failed file operation, if `err` is one. */
function errorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * A failed file operation as a `SourceError` naming the resolved path in plain words: Node's own
 * messages carry the syscall, which means nothing to the person running the sync.
 */
function fileError(file: string, code: string): SourceError {
  return new SourceError(`cannot read ${file}: ${FS_ERROR_REASONS[code] ?? `the file cannot be read (${code})`}`);
}

/**
 * Opens the file for reading and tells its size and modification time (epoch ms), both from the
 * open descriptor (fstat), so they describe the very file read even if the path is replaced
 * meanwhile; throws `SourceError` if it is missing, unreadable or a directory.
 */
async function openFile(source: CsvSource): Promise<{ handle: FileHandle; size: number; mtimeMs: number }> {
  let handle: FileHandle;
  try {
    handle = await open(source.file, "r");
  } catch (err) {
    const code = errorCode(err);
    throw code ? fileError(source.file, code) : err;
  }
  // Opening a directory succeeds on Linux; reading it would fail later with a less clear error.
  let stats;
  try {
    stats = await handle.stat();
  } catch (err) {
    await handle.close();
    const code = errorCode(err);
    throw code ? fileError(source.file, code) : err;
  }
  if (stats.isDirectory()) {
    await handle.close();
    throw fileError(source.file, "EISDIR");
  }
  return { handle, size: stats.size, mtimeMs: stats.mtimeMs };
}

/** A name of an encoding as a person reads it in a message. */
function encodingLabel(encoding: BomEncoding): string {
  return { utf8: "UTF-8", utf16le: "UTF-16LE", utf16be: "UTF-16BE" }[encoding];
}

/**
 * A byte-order mark that contradicts the configured encoding: a UTF-16 one on a file read as
 * anything but UTF-16 of that byte order, or a UTF-8 one on a file read in a legacy encoding. Either
 * would read as text with a stray character and, for UTF-16, a zero byte after every letter.
 */
function checkBom(source: CsvSource, bom: BomEncoding | undefined): void {
  if (!bom || source.decoding.kind === "auto") return;
  const variant = utf16Variant(source.decoding);
  const fits = bom === "utf8" ? source.decoding.kind === "utf8" || variant !== undefined : variant === "utf16" || variant === bom;
  if (fits) return;
  throw new SourceError(
    `${source.file}, line 1: the file starts with a ${encodingLabel(bom)} byte-order mark, so it is ${encodingLabel(bom)}, not ${source.encodingName}: set "encoding": "${bom}" in the source (or "auto")`,
  );
}

/** What to do about bytes that are not valid in the decoding, as a message's last part. */
function encodingAdvice(err: InvalidTextError, source: CsvSource): string {
  const configured = source.decoding.kind === AUTO ? "" : ' (or "auto")';
  const saveAs = `set "encoding" in the source to the encoding the file was saved in${source.decoding.kind === AUTO ? "" : ' ("auto" reads UTF-8, UTF-16 and windows-1252)'}`;
  if (err.decoding === "utf8") return `"auto" read the lines before it as UTF-8, so the file mixes encodings: save it again as UTF-8, or ${saveAs}`;
  if (err.decoding === "windows-1252") return `the file is not valid UTF-8 either, so "auto" cannot tell its encoding: ${saveAs}`;
  if (err.decoding === "fixed") {
    const likely = likelyLegacyEncoding(err.sample);
    if (likely) return `the file looks like ${likely}: set "encoding": "${likely}" in the source${configured}`;
  }
  return saveAs;
}

/** Bytes that are not valid in the decoding, as the `SourceError` a person reads: where, what, and what to set. */
async function encodingError(err: InvalidTextError, source: CsvSource): Promise<SourceError> {
  const at = "offset" in err.where ? await locateByte(source.file, err.where.offset, err.where.prefix) : err.where;
  return new SourceError(`${source.file}, line ${at.line}, column ${at.column}: ${err.problem}; ${encodingAdvice(err, source)}`);
}

/**
 * The first bytes, checked and decoded as the whole file will be: the text that delimiter
 * detection looks at, and where the UTF-8 path stands after it (`auto` may have decided there).
 * Throws `InvalidTextError` for a bad byte among them.
 */
async function decodeHead(head: Buffer, decoding: ReadDecoding, complete: boolean): Promise<{ text: string; decoding: ReadDecoding }> {
  const check = checkingStream(decoding, { partial: !complete });
  const out: Buffer[] = [];
  check.end(head);
  for await (const chunk of check) out.push(chunk as Buffer);
  // csv-parse drops a leading BOM (`bom: true`); so does what delimiter detection looks at.
  const text = Buffer.concat(out).toString("utf8").replace(/^\ufeff/, "");
  return { text, decoding: check instanceof Utf8Check ? { kind: "utf8", mode: check.mode } : decoding };
}

/**
 * Refuses a file whose first bytes show it cannot be text, or is UTF-16 without a byte-order mark
 * while the config names another encoding. Returns the UTF-16 byte order such a file has, for `auto`.
 */
function checkText(source: CsvSource, head: Buffer, bom: BomEncoding | undefined): "utf16le" | "utf16be" | undefined {
  const utf16 = (bom !== undefined && bom !== "utf8") || (source.decoding.kind === "iconv" && utf16Variant(source.decoding) !== undefined);
  const sniffed = sniff(head, { utf16, nulDelimiter: source.delimiter === "\u0000" });
  if (sniffed === undefined) return undefined;
  if (sniffed.kind === "not-text") {
    throw new SourceError(`cannot read ${source.file}: not a text file; ${sniffed.looksLike === undefined ? sniffed.advice : `it looks like ${sniffed.looksLike}: ${sniffed.advice}`}`);
  }
  if (source.decoding.kind !== AUTO) {
    throw new SourceError(
      `cannot read ${source.file}: it looks like ${sniffed.encoding === "utf16le" ? "UTF-16LE" : "UTF-16BE"} text without a byte-order mark (every other byte is zero): set "encoding": "${sniffed.encoding}" in the source (or "auto")`,
    );
  }
  return sniffed.encoding;
}

/**
 * The delimiter to read with: the configured one, unless it leaves the header one column (or
 * unreadable) while another splits it, which is refused naming that one; or, for `auto`, the one
 * detected, said through `ctx.log`.
 */
function settleDelimiter(source: CsvSource, text: string, complete: boolean, ctx: ConnectorContext): string {
  if (source.delimiter === AUTO) {
    const found = detectDelimiter(text, complete);
    ctx.log?.(
      found.columns === undefined
        ? `${source.file}: delimiter "auto" found none of ',' ';' tab '|' splitting the header and the first rows alike; reading it with ','`
        : `${source.file}: delimiter "auto" found ${delimiterName(found.delimiter)}, which splits the header and the first rows into ${found.columns} columns`,
    );
    return found.delimiter;
  }
  const better = betterDelimiter(text, complete, source.delimiter);
  if (!better) return source.delimiter;
  const clipped = better.header.length > HEADER_QUOTE_LENGTH ? `${better.header.slice(0, HEADER_QUOTE_LENGTH)}…` : better.header;
  const how = better.unreadable ? "does not read as CSV" : "is one column";
  throw new SourceError(
    `${source.file}, line ${better.line}: the header '${visible(clipped)}' ${how} with the delimiter ${delimiterName(source.delimiter)}; ${delimiterName(better.delimiter)} splits it into ${better.columns} columns: set ${delimiterSetting(better.delimiter)} in the source (or "delimiter": "auto")`,
  );
}

/**
 * Looks at the file before parsing it (its first `HEAD_BYTES`, sniff-file.ts): refuses what is not
 * text, a byte-order mark that contradicts the configured encoding, a bad byte among the first ones
 * and a header that the configured delimiter leaves one column while another delimiter splits it;
 * and settles `auto` (encoding, delimiter) where the first bytes can, saying so through `ctx.log`.
 * Throws `SourceError`.
 */
async function planRead(source: CsvSource, handle: FileHandle, size: number, ctx: ConnectorContext): Promise<ReadPlan> {
  const head = await readHead(handle);
  const complete = head.length >= size;
  const bom = bomEncoding(head);
  checkBom(source, bom);
  const utf16WithoutBom = checkText(source, head, bom);
  let decoding: ReadDecoding;
  if (source.decoding.kind === AUTO) {
    const auto = autoDecoding(bom, utf16WithoutBom);
    if (auto.why) ctx.log?.(`${source.file}: encoding "auto" found ${auto.why}`);
    decoding = auto.decoding;
  } else {
    decoding = source.decoding.kind === "utf8" ? { kind: "utf8", mode: "fixed" } : source.decoding;
  }
  let text: string;
  try {
    ({ text, decoding } = await decodeHead(head, decoding, complete));
  } catch (err) {
    throw err instanceof InvalidTextError ? await encodingError(err, source) : err;
  }
  // `auto` without a byte-order mark decides at the first non-ASCII bytes, which may be among these.
  if (source.decoding.kind === AUTO && decoding.kind === "utf8" && (decoding.mode === "utf8" || decoding.mode === "windows-1252")) {
    ctx.log?.(`${source.file}: encoding "auto" found ${autoWhy(decoding.mode)}`);
  }
  return { delimiter: settleDelimiter(source, text, complete, ctx), decoding };
}

/**
 * The header's column names: cells trimmed (a header is names, not data). Throws `SourceError`
 * naming the file, line and 1-based column for an empty or repeated name, since either would make
 * `values` ambiguous.
 */
function headerColumns(record: CsvRecord, file: string): string[] {
  const columns = record.cells.map((cell) => cell.trim());
  const firstSeen = new Map<string, number>();
  columns.forEach((name, index) => {
    const where = `${file}, line ${record.line}: column ${index + 1} of the header`;
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
 * An unparseable file surfaces as a `SourceError` "<path>, line N: <reason>", and a byte that is not
 * valid in the encoding as "<path>, line N, column C: <what>; <what to set>", possibly after some
 * rows were yielded (the file is streamed). That is safe: callers collect the whole snapshot before
 * planning, so nothing is written from a partial read.
 */
async function* readCsv(config: CsvSourceConfig, ctx: ConnectorContext): AsyncGenerator<SourceItem> {
  const source = resolveSource(config, ctx);
  const { handle, size, mtimeMs } = await openFile(source);
  let plan: ReadPlan;
  try {
    plan = await planRead(source, handle, size, ctx);
  } catch (err) {
    await handle.close();
    const code = errorCode(err);
    throw code ? fileError(source.file, code) : err;
  }
  const check = checkingStream(plan.decoding, {
    onDecide: (mode) => ctx.log?.(`${source.file}: encoding "auto" found ${autoWhy(mode)}`),
  });
  // `pipeline` destroys the chain with the first error of either stream, which reaches the parser.
  const text = pipeline(handle.createReadStream({ start: 0 }), check, () => {});
  let columns: string[] | undefined;
  try {
    for await (const batch of parseCsvRecords(text, plan.delimiter)) {
      for (const record of batch) {
        if (columns) {
          yield { type: "row", row: toRow(record, columns) };
        } else {
          columns = headerColumns(record, source.file);
          yield { type: "header", columns };
        }
      }
    }
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw new SourceError(`${source.file}, line ${err.line}: ${err.reason}`);
    if (err instanceof InvalidTextError) throw await encodingError(err, source);
    // A read that fails midway (a disk error, a file on a vanished network share).
    const code = errorCode(err);
    throw code ? fileError(source.file, code) : err;
  }
  if (check instanceof Utf8Check && check.mode === "undecided" && source.decoding.kind === AUTO) {
    ctx.log?.(`${source.file}: encoding "auto" found only ASCII text, read as UTF-8`);
  }
  // The mtime from before the read: a write made while it ran may be in the rows or not, so the
  // earlier time is the one that never claims a change was applied that may not have been.
  ctx.sourceChanged?.(mtimeMs);
  // An empty file has no header; whether that is an error is for the run to decide.
  if (!columns) yield { type: "header", columns: [] };
}

/**
 * Reads a CSV file. `config.path` resolves against `ctx.baseDir`. `read` throws `SourceError` (naming
 * the resolved path, and the line where there is one) for an unknown encoding, a missing or
 * unreadable file, a file that is not text, a byte that is not valid in the encoding, a header the
 * delimiter leaves one column while another splits it, an empty or repeated header name and an
 * unparseable file; `check` reports the same through its result and reads no further than the header.
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
