/**
 * CSV text → records, each with the file line it starts on, on top of csv-parse's stream API.
 */
import { pipeline, type TransformCallback } from "node:stream";
import { CsvError, Parser } from "csv-parse";

/** One CSV record: its cells as written (unquoted, not trimmed) and the 1-based line it starts on. */
export interface CsvRecord {
  cells: string[];
  line: number;
}

/** The CSV text cannot be parsed: `line` is where a person should look, `reason` says what is wrong. */
export class CsvSyntaxError extends Error {
  override readonly name = "CsvSyntaxError";
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/**
 * The longest record read (csv-parse's `max_record_size`: the cells before in characters, the cell
 * being read in bytes). It bounds the memory a record can take when a '"' is never closed, which
 * makes the rest of the file one cell; past it the read stops, naming the line the record starts on.
 * It is far above any cell a contact needs (mapping rejects a mapped cell past `MAX_CELL_LENGTH`,
 * src/plan/map-row.ts, and Excel holds at most 32,767 characters in a cell), so that a row with one
 * oversized cell, such as a pasted document in a notes column, is read and rejected on its own
 * rather than stopping the run.
 */
export const MAX_RECORD_SIZE = 8_000_000;

/**
 * Line endings, given explicitly: left to itself csv-parse guesses one ending from the first line and
 * then reads every other kind (a file edited on two systems) as text inside a cell. "\r\n" comes first
 * so that it counts as one ending, not two.
 */
const RECORD_DELIMITERS = ["\r\n", "\n", "\r"];

/** The two line-break characters; a "\r\n" pair is one break, either alone is one too. */
const LF = "\n";
const CR = "\r";

/** Line breaks inside a record's cells (only quoted cells can hold them), counting "\r\n" once. */
function lineBreaksIn(cells: readonly string[]): number {
  let breaks = 0;
  for (const cell of cells) {
    // Two native scans rule out nearly every cell, so the character loop below runs only for the
    // rare multi-line cell and reading stays linear and fast.
    if (cell.indexOf(LF) === -1 && cell.indexOf(CR) === -1) continue;
    for (let i = 0; i < cell.length; i++) {
      const ch = cell[i];
      if (ch === LF) breaks++;
      else if (ch === CR) {
        breaks++;
        if (cell[i + 1] === LF) i++;
      }
    }
  }
  return breaks;
}

/**
 * A blank line, and a line that holds only whitespace, which reads to a person as blank: both parse
 * as a single cell with nothing but whitespace in it, and both are skipped. When the delimiter is
 * itself whitespace (a tab, a space), a line of only tabs is not caught here: it parses as several
 * empty cells, a row of empty cells as a spreadsheet exports it, and it is kept as a row, just as
 * ",,," is with commas; the planner then reports it (it has no key) rather than the connector
 * silently dropping something shaped like a record.
 */
function isBlankLine(cells: readonly string[]): boolean {
  return cells.length === 1 && cells[0]!.trim() === "";
}

function numberIn(err: CsvError, key: string): number | undefined {
  const value = err[key];
  return typeof value === "number" ? value : undefined;
}

/**
 * csv-parse's stream, numbering lines as an editor or a spreadsheet does so that `CsvRecord.line` is
 * where a person finds the record. csv-parse's own `info.lines` cannot be used as it is: csv-parse
 * 7.0.3 counts a "\r\n" inside a quoted cell as two lines, so every later number would drift. Instead
 * a record occupies one line plus the line breaks inside its cells. Blank lines reach `push` as
 * records of one empty cell (`skip_empty_lines` is off for this reason), so they are counted, then
 * dropped here.
 *
 * The count happens in `push`, which the parser calls synchronously for each record in order, rather
 * than where records are read: when a parse error stops the stream, records already parsed but not
 * yet read are discarded, and the line of the error still has to be right. (`on_record` would see
 * them too, but csv-parse builds a context object for every call, which costs a third of the reading
 * time on a large file.)
 *
 * Records leave the stream in batches, one per chunk of input, so that reading costs one `await` per
 * chunk rather than one per record.
 */
class LineNumberingParser extends Parser {
  /** The line the next record starts on. */
  private nextLine = 1;
  /** csv-parse's own line count at the end of the last record: only differences from it are used. */
  private parserLineAtLastRecord = 0;
  private batch: CsvRecord[] = [];

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) {
      this.flushBatch();
      return super.push(chunk, encoding);
    }
    const cells = chunk as string[];
    const line = this.nextLine;
    this.nextLine = line + 1 + lineBreaksIn(cells);
    this.parserLineAtLastRecord = this.info.lines;
    if (!isBlankLine(cells)) this.batch.push({ cells, line });
    return true;
  }

  override _transform(chunk: unknown, encoding: BufferEncoding, callback: TransformCallback): void {
    super._transform(chunk, encoding, (err, data) => {
      this.flushBatch();
      callback(err, data);
    });
  }

  override _flush(callback: TransformCallback): void {
    super._flush((err, data) => {
      this.flushBatch();
      callback(err, data);
    });
  }

  private flushBatch(): void {
    if (this.batch.length === 0) return;
    super.push(this.batch);
    this.batch = [];
  }

  /**
   * The line of a parse error. An unclosed quote (or a record that overruns `MAX_RECORD_SIZE`, which
   * is what a large file with an unclosed quote does) is reported where its record starts: csv-parse
   * only knows the end of the file by then. Other errors are reported on the line csv-parse had
   * reached, measured from the start of the failing record so that its miscount cannot creep in from
   * earlier records (within the record it still can: one line late per "\r\n" inside an earlier
   * quoted cell of that same record).
   */
  errorLine(err: CsvError): number {
    const start = this.nextLine;
    if (err.code === "CSV_QUOTE_NOT_CLOSED" || err.code === "CSV_MAX_RECORD_SIZE") return start;
    const parserLine = numberIn(err, "lines");
    if (parserLine === undefined) return start;
    return start + Math.max(0, parserLine - (this.parserLineAtLastRecord + 1));
  }
}

const QUOTE_RULE = `write a '"' inside a quoted cell as '""'`;

/** csv-parse's error in plain words; `cell` is 1-based. */
function describeCsvError(err: CsvError): string {
  const index = numberIn(err, "index");
  const cell = index === undefined ? "a cell" : `cell ${index + 1}`;
  switch (err.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return `a '"' opens a quoted cell that is never closed (${QUOTE_RULE})`;
    case "CSV_MAX_RECORD_SIZE":
      return `the record starting here runs past ${MAX_RECORD_SIZE.toLocaleString("en-US")} characters; a '"' probably opens a quoted cell that is never closed (${QUOTE_RULE})`;
    case "CSV_INVALID_CLOSING_QUOTE":
      return `in ${cell}, a closing '"' is followed by more text instead of the delimiter or the end of the line (${QUOTE_RULE})`;
    case "INVALID_OPENING_QUOTE":
      return `${cell} has a '"' after other text; quote the whole cell and ${QUOTE_RULE}`;
    default:
      return `cannot be read as CSV (${err.message})`;
  }
}

/**
 * Streams the records of CSV `text` (bytes in UTF-8, or already-decoded strings) split by the one-
 * character `delimiter`, in batches, in file order. Blank and whitespace-only lines are skipped;
 * record sizes are not checked (the caller compares them with the header). Throws `CsvSyntaxError`
 * when the text cannot be parsed; other errors of `text` (a failing read) are rethrown as they are.
 */
export async function* parseCsvRecords(text: NodeJS.ReadableStream, delimiter: string): AsyncGenerator<CsvRecord[]> {
  const parser = new LineNumberingParser({
    delimiter,
    bom: true,
    relax_column_count: true,
    skip_empty_lines: false,
    record_delimiter: RECORD_DELIMITERS,
    max_record_size: MAX_RECORD_SIZE,
  });
  // The parser's iterator reports every error of the chain, since `pipeline` destroys it with them.
  pipeline(text, parser, () => {});
  try {
    for await (const batch of parser as AsyncIterable<CsvRecord[]>) yield batch;
  } catch (err) {
    if (err instanceof CsvError) throw new CsvSyntaxError(parser.errorLine(err), describeCsvError(err));
    throw err;
  }
}
