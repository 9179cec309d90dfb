/**
 * Which character separates the cells of a CSV file, judged from its first records: what
 * `delimiter: "auto"` picks, and the hint given when the configured delimiter leaves the header one
 * column while another one splits it.
 */

/** The delimiters `auto` chooses among, in the order ties are settled: what spreadsheets export. */
export const DELIMITER_CANDIDATES = [",", ";", "\t", "|"] as const;

/** Records of the sample (header included) looked at: enough to see a pattern, cheap to split. */
const SAMPLE_RECORDS = 50;

/** One record of the sample, split the way csv-parse would. */
interface SampleRecord {
  /** The 1-based line the record starts on. */
  line: number;
  cells: string[];
  /** Whether the record holds only one cell, and that cell was quoted as a whole. */
  quotedWhole: boolean;
  /** False when a '"' is misplaced: csv-parse would refuse the record. */
  clean: boolean;
}

/** A delimiter as a message names it: a tab by name, anything else quoted. */
export function delimiterName(delimiter: string): string {
  return delimiter === "\t" ? "a tab" : `'${delimiter}'`;
}

/** The config value that sets a delimiter, as it is written in JSON. */
export function delimiterSetting(delimiter: string): string {
  return `"delimiter": ${JSON.stringify(delimiter)}`;
}

/**
 * The first `max` non-blank records of `text` split by `delimiter`, with RFC 4180 quoting as the
 * connector reads it (a quote opens a quoted cell only at the start of a cell, `""` is a quote inside
 * one). A misplaced quote marks the record unclean instead of failing. The last record is dropped
 * unless `complete` (the text is the whole file): it may be cut short.
 */
function sampleRecords(text: string, delimiter: string, complete: boolean, max = SAMPLE_RECORDS): SampleRecord[] {
  const records: SampleRecord[] = [];
  let cells: string[] = [];
  let cell = "";
  let inQuotes = false;
  let quotedCell = false;
  let afterQuote = false;
  let clean = true;
  let line = 1;
  let start = 1;
  const endCell = () => {
    cells.push(cell);
    cell = "";
    quotedCell = false;
    afterQuote = false;
  };
  const endRecord = () => {
    const wasQuoted = quotedCell;
    endCell();
    const blank = cells.length === 1 && !wasQuoted && cells[0]!.trim() === "";
    if (!blank) records.push({ line: start, cells, quotedWhole: cells.length === 1 && wasQuoted, clean });
    cells = [];
    clean = true;
  };
  for (let i = 0; i < text.length && records.length < max; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else {
          inQuotes = false;
          afterQuote = true;
        }
      } else {
        if (c === "\n" || (c === "\r" && text[i + 1] !== "\n")) line++;
        cell += c;
      }
      continue;
    }
    if (c === delimiter) {
      endCell();
      continue;
    }
    if (c === "\r" || c === "\n") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRecord();
      line++;
      start = line;
      continue;
    }
    if (afterQuote) clean = false;
    if (c === '"') {
      if (cell === "" && !afterQuote && !quotedCell) {
        inQuotes = true;
        quotedCell = true;
        continue;
      }
      clean = false;
    }
    cell += c;
  }
  if (complete && !inQuotes && records.length < max && (cells.length > 0 || cell !== "" || quotedCell)) endRecord();
  return records;
}

/** Cells of a record up to its last non-blank one: trailing blank cells are what exports add. */
function usedCells(record: SampleRecord): number {
  let n = record.cells.length;
  while (n > 1 && record.cells[n - 1]!.trim() === "") n--;
  return n;
}

/**
 * How well `delimiter` splits the sample: undefined when it does not make a clean header of two
 * named columns or more. Rows with a misplaced '"' are left out: the parser reports them whatever
 * the delimiter, and how they split says nothing.
 */
function score(text: string, delimiter: string, complete: boolean): { columns: number; matching: number } | undefined {
  const [header, ...rest] = sampleRecords(text, delimiter, complete);
  // A blank column name is one the connector refuses: a delimiter that makes one is the wrong one.
  if (!header || header.cells.length < 2 || !header.clean || header.cells.some((c) => c.trim() === "")) return undefined;
  const columns = header.cells.length;
  // A row of blank cells (a line of delimiters, or of spaces and tabs) shows nothing either way.
  const rows = rest.filter((r) => r.clean && r.cells.some((c) => c.trim() !== ""));
  // A row with more (non-blank) cells than the header is one the delimiter does not explain.
  if (rows.some((r) => usedCells(r) > columns)) return undefined;
  const matching = rows.filter((r) => r.cells.length === columns || usedCells(r) === columns).length;
  // Most rows must have the header's width; a few short ones are rows with empty trailing cells.
  if (rows.length > 0 && matching * 2 < rows.length) return undefined;
  return { columns, matching };
}

/**
 * `delimiter: "auto"`: among `,` `;` tab `|`, the one that splits the header into two named columns
 * or more (with no '"' misplaced) and every sampled row (the first 50 records) into no more cells
 * than the header, most rows into exactly as many. Of those, the one whose rows match most, then the one
 * that makes most columns, then the first in that list. None qualifies (a one-column file): `,`.
 * `text` is the decoded start of the file; `complete`, whether it is all of it.
 */
export function detectDelimiter(text: string, complete: boolean): { delimiter: string; columns?: number } {
  let best: { delimiter: string; columns: number; matching: number } | undefined;
  for (const delimiter of DELIMITER_CANDIDATES) {
    const s = score(text, delimiter, complete);
    if (s && (!best || s.matching > best.matching || (s.matching === best.matching && s.columns > best.columns))) best = { delimiter, columns: s.columns, matching: s.matching };
  }
  return best ? { delimiter: best.delimiter, columns: best.columns } : { delimiter: DELIMITER_CANDIDATES[0] };
}

/**
 * When the configured `delimiter` leaves the header one column (not quoted as one on purpose) or
 * cannot read it (a misplaced '"', as `"id";"name"` read with ',' has), and another of `,` `;` tab
 * `|` splits the header and the first rows as `auto` would accept: that delimiter, the header's
 * line and text, and how many columns it makes. `undefined` when the configured one is fine.
 */
export function betterDelimiter(text: string, complete: boolean, delimiter: string): { delimiter: string; line: number; header: string; columns: number; unreadable: boolean } | undefined {
  const [header] = sampleRecords(text, delimiter, complete, 1);
  if (!header) return undefined;
  const oneColumn = header.cells.length === 1 && !header.quotedWhole;
  if (!oneColumn && header.clean) return undefined;
  const found = detectDelimiter(text, complete);
  if (found.columns === undefined || found.delimiter === delimiter) return undefined;
  return { delimiter: found.delimiter, line: header.line, header: firstLine(text, header.line), columns: found.columns, unreadable: !header.clean };
}

/** The text of 1-based `line` of `text`. */
function firstLine(text: string, line: number): string {
  const lines = text.split(/\r\n|\r|\n/, line);
  return lines[line - 1] ?? "";
}
