/**
 * The first bytes of a CSV source, read before anything is parsed: enough to tell a file that is
 * not text at all (an archive, a workbook, a PDF, an image) from one that is, and to see a
 * byte-order mark. None of the bytes ever goes into a message: only what the file looks like.
 */
import type { FileHandle } from "node:fs/promises";

/**
 * How much of the file is looked at first: one read of Node's default stream chunk. git and file(1)
 * judge text from a prefix in the same way (git: 8,000 bytes); a zero byte further on is not looked for.
 */
export const HEAD_BYTES = 64 * 1024;

/** The encodings a byte-order mark names. */
export type BomEncoding = "utf8" | "utf16le" | "utf16be";

/**
 * What the first bytes say about a file that cannot be read as configured: it is not text (with
 * what it looks like, when a magic number tells), or it is UTF-16 without a byte-order mark.
 */
export type Sniffed =
  | { kind: "not-text"; looksLike?: string; advice: string }
  | { kind: "utf16-without-bom"; encoding: "utf16le" | "utf16be" };

/** The first `HEAD_BYTES` of the file, or all of it when it is shorter. */
export async function readHead(handle: FileHandle): Promise<Buffer> {
  const head = Buffer.alloc(HEAD_BYTES);
  let filled = 0;
  while (filled < HEAD_BYTES) {
    const { bytesRead } = await handle.read(head, filled, HEAD_BYTES - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return head.subarray(0, filled);
}

/** The encoding the file's byte-order mark names, if it starts with one. */
export function bomEncoding(head: Buffer): BomEncoding | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return "utf8";
  if (head[0] === 0xff && head[1] === 0xfe) return "utf16le";
  if (head[0] === 0xfe && head[1] === 0xff) return "utf16be";
  return undefined;
}

const EXPORT_AS_CSV = "export the sheet as CSV (in Excel: File > Save As > CSV UTF-8; in Google Sheets: File > Download > CSV)";

/** Whether `head` starts with `magic` (bytes, or a string of byte values) at `at`. */
function startsWith(head: Buffer, magic: string | readonly number[], at = 0): boolean {
  const bytes = typeof magic === "string" ? Buffer.from(magic, "latin1") : Buffer.from(magic);
  return head.length >= at + bytes.length && head.subarray(at, at + bytes.length).equals(bytes);
}

/**
 * A zip archive, named after its first entry where that tells the format: an .xlsx workbook starts
 * with `[Content_Types].xml` or `xl/…`, an OpenDocument file with a `mimetype` entry naming its kind
 * (ECMA-376 Part 2 and OpenDocument 1.2 Part 3, section 3.3).
 */
function zipKind(head: Buffer): Sniffed {
  const nameLength = head.length >= 28 ? head.readUInt16LE(26) : 0;
  const name = head.subarray(30, 30 + nameLength).toString("latin1");
  if (name === "[Content_Types].xml" || name.startsWith("xl/") || name.startsWith("_rels/") || name.startsWith("docProps/")) {
    return { kind: "not-text", looksLike: "an Excel workbook (.xlsx)", advice: EXPORT_AS_CSV };
  }
  if (name === "mimetype") {
    const kind = head.subarray(38, 38 + 80).toString("latin1");
    if (kind.startsWith("application/vnd.oasis.opendocument.spreadsheet")) {
      return { kind: "not-text", looksLike: "an OpenDocument spreadsheet (.ods)", advice: "export the sheet as CSV (in LibreOffice: File > Save As > Text CSV)" };
    }
  }
  return { kind: "not-text", looksLike: "a zip archive (an .xlsx workbook?)", advice: "export it as CSV, or unzip it and point source.path at the CSV inside" };
}

/** A format that is not text, as a message names it. */
function binary(looksLike: string, advice: string): Sniffed {
  return { kind: "not-text", looksLike, advice };
}

const NOT_THE_CSV = "point source.path at the CSV file";

/** Magic numbers of formats people mistake for, or export instead of, a CSV file. */
const SIGNATURES: { magic: string | readonly number[]; at?: number; what: (head: Buffer) => Sniffed | undefined }[] = [
  { magic: "PK\x03\x04", what: zipKind },
  { magic: "PK\x05\x06", what: () => binary("an empty zip archive", "export the data as CSV") },
  { magic: [0x1f, 0x8b], what: () => binary("a gzip-compressed file", "decompress it (gunzip) and point source.path at the CSV") },
  { magic: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], what: () => binary("an Excel 97-2003 workbook (.xls) or another Office document", EXPORT_AS_CSV) },
  { magic: "%PDF-", what: () => binary("a PDF document", "export the data as CSV where the PDF came from") },
  { magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], what: () => binary("a PNG image", NOT_THE_CSV) },
  { magic: [0xff, 0xd8, 0xff], what: () => binary("a JPEG image", NOT_THE_CSV) },
  { magic: "GIF87a", what: () => binary("a GIF image", NOT_THE_CSV) },
  { magic: "GIF89a", what: () => binary("a GIF image", NOT_THE_CSV) },
  { magic: "WEBP", at: 8, what: (head) => (startsWith(head, "RIFF") ? binary("a WebP image", NOT_THE_CSV) : undefined) },
  // "BZh" alone could start a header; the block magic after the level digit cannot.
  { magic: [0x31, 0x41, 0x59, 0x26, 0x53, 0x59], at: 4, what: (head) => (startsWith(head, "BZh") ? binary("a bzip2-compressed file", "decompress it (bunzip2) and point source.path at the CSV") : undefined) },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], what: () => binary("an xz-compressed file", "decompress it (unxz) and point source.path at the CSV") },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], what: () => binary("a zstd-compressed file", "decompress it (unzstd) and point source.path at the CSV") },
  { magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], what: () => binary("a 7-Zip archive", "extract it and point source.path at the CSV inside") },
  { magic: "Rar!\x1a\x07", what: () => binary("a RAR archive", "extract it and point source.path at the CSV inside") },
  { magic: "SQLite format 3\x00", what: () => binary("an SQLite database (the state file?)", NOT_THE_CSV) },
  { magic: [0x7f, 0x45, 0x4c, 0x46], what: () => binary("a program (ELF)", NOT_THE_CSV) },
];

const NUL_ADVICE = "it holds zero (NUL) bytes, which text does not: export the data as CSV";

/** The fewest bytes in which zeros at every other offset are taken for UTF-16: a header's worth. */
const UTF16_PATTERN_MIN_BYTES = 16;

/** Zero bytes in `head`, at even and at odd offsets. */
function zeroBytes(head: Buffer): { even: number; odd: number } {
  let even = 0;
  let odd = 0;
  for (let i = head.indexOf(0); i !== -1; i = head.indexOf(0, i + 1)) {
    if (i % 2 === 0) even++;
    else odd++;
  }
  return { even, odd };
}

/**
 * What is wrong with a file that cannot be text, judged from its first bytes: a known magic number,
 * or zero bytes, which no text in UTF-8 or a single-byte encoding holds. Zero bytes are expected in
 * UTF-16 (`utf16`: the configured encoding is one, or the file has a UTF-16 byte-order mark) and in
 * a file delimited by NUL (`nulDelimiter`). A head with a zero in nearly every other byte is UTF-16
 * without a byte-order mark (ASCII characters in UTF-16 are a byte and a zero). `undefined`: the file
 * may be text.
 */
export function sniff(head: Buffer, opts: { utf16: boolean; nulDelimiter: boolean }): Sniffed | undefined {
  for (const s of SIGNATURES) {
    if (!startsWith(head, s.magic, s.at)) continue;
    const found = s.what(head);
    if (found) return found;
  }
  if (opts.utf16 || opts.nulDelimiter || head.indexOf(0) === -1) return undefined;
  const zeros = zeroBytes(head);
  const half = Math.floor(head.length / 2);
  // Allow some non-ASCII characters (no zero byte) and the odd NUL on the other side; a few bytes
  // are too few to show a pattern.
  if (head.length < UTF16_PATTERN_MIN_BYTES) return { kind: "not-text", advice: NUL_ADVICE };
  if (zeros.odd >= half * 0.6 && zeros.even <= half * 0.05) return { kind: "utf16-without-bom", encoding: "utf16le" };
  if (zeros.even >= half * 0.6 && zeros.odd <= half * 0.05) return { kind: "utf16-without-bom", encoding: "utf16be" };
  return { kind: "not-text", advice: NUL_ADVICE };
}
