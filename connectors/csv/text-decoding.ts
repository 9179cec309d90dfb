/**
 * Which bytes-to-text decoding a CSV source uses, and the stream that applies it and checks that
 * every byte is valid in it: a file in another encoding than the config says stops the read at its
 * first bad byte, naming where, rather than reaching Quo as "Jos\ufffd".
 */
import { isAscii, isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";
import iconv from "iconv-lite";
import type { BomEncoding } from "./sniff-file.js";

/** The encoding names iconv-lite's typings accept (the package does not export the type by name). */
type IconvEncoding = Parameters<typeof iconv.decodeStream>[0];

/**
 * How a file's bytes become text.
 * - `utf8`: checked, then handed to csv-parse as the raw bytes: the parser works on bytes, decodes
 *   each cell once and strips a UTF-8 BOM itself (`bom: true`), so a decoding pass would only cost time.
 * - `iconv`: decoded by iconv-lite (which strips a UTF-16 BOM), then checked.
 * - `auto`: decided from the file itself (`autoDecoding`, `Utf8Check`).
 */
export type TextDecoding = { kind: "utf8" } | { kind: "iconv"; encoding: IconvEncoding; name: string } | { kind: "auto" };

/**
 * iconv-lite knows these, but they turn text into text (binary-to-text codecs), so a CSV "in" one of
 * them is a configuration mistake rather than a file to decode.
 */
const NOT_TEXT_ENCODINGS = new Set(["base64", "base64url", "hex"]);

/** The bytes windows-1252 leaves undefined (iconv-lite decodes them as U+FFFD); no text holds them. */
const CP1252_UNDEFINED = [0x81, 0x8d, 0x8f, 0x90, 0x9d];

const REPLACEMENT = "\ufffd";
/**
 * The encodings of all of Unicode, by canonical name (UTF-7/16/32, UCS-2/4, CESU-8, GB 18030): U+FFFD
 * is a character of theirs. (Asking iconv-lite does not tell: it writes U+FFFD in windows-1252 as
 * 0x9D, a byte it decodes as U+FFFD.)
 */
const UNICODE_ENCODING_RE = /^(utf|ucs|cesu|gb18030)/;
/** A UTF-16 code unit that is half of a surrogate pair without its other half. */
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const EMPTY = Buffer.alloc(0);

/**
 * Most non-ASCII bytes per ASCII letter that still looks like Western European text: French and
 * German run at a few per hundred letters, Icelandic under one in five; Cyrillic or Greek in a
 * code page is nearly all high bytes.
 */
const WESTERN_HIGH_BYTES_PER_LETTER = 0.35;

/** Names as iconv-lite compares them: case and punctuation do not matter ("UTF-8" = "utf8"). */
function canonical(name: string): string {
  return name.toLowerCase().replace(/[^0-9a-z]/g, "");
}

/**
 * The decoding for a configured encoding name (a Node or iconv-lite name such as utf8, utf-8,
 * latin1, windows-1252, utf16le, or "auto"), or `undefined` when the name is unknown. Never throws.
 */
export function resolveDecoding(name: string): TextDecoding | undefined {
  const key = canonical(name);
  if (key === "auto") return { kind: "auto" };
  if (key === "utf8") return { kind: "utf8" };
  if (NOT_TEXT_ENCODINGS.has(key) || !iconv.encodingExists(name)) return undefined;
  return { kind: "iconv", encoding: name, name };
}

/**
 * The UTF-16 byte order a decoding reads (`utf16`: either, as its byte-order mark says), or
 * `undefined` when it is not UTF-16.
 */
export function utf16Variant(decoding: TextDecoding): BomEncoding | "utf16" | undefined {
  if (decoding.kind !== "iconv") return undefined;
  const key = canonical(decoding.name);
  if (key === "utf16le" || key === "ucs2") return "utf16le";
  if (key === "utf16be") return "utf16be";
  if (key === "utf16") return "utf16";
  return undefined;
}

/**
 * How the UTF-8 path reads: `fixed` when the config or a byte-order mark says UTF-8; under
 * `encoding: "auto"` without a byte-order mark, `undecided` while every byte so far is ASCII (which
 * reads the same in UTF-8 and windows-1252), then `utf8` or `windows-1252` once the file has shown
 * which (`Utf8Check`).
 */
export type Utf8Mode = "fixed" | "undecided" | "utf8" | "windows-1252";

/** A decoding as a read applies it: `auto` resolved against the file's first bytes. */
export type ReadDecoding = { kind: "utf8"; mode: Utf8Mode } | { kind: "iconv"; encoding: IconvEncoding; name: string };

/**
 * `encoding: "auto"`: a byte-order mark decides (UTF-8, UTF-16LE, UTF-16BE), then UTF-16 without
 * one by its zero bytes (`utf16`, from the file's first bytes), else UTF-8 — falling back to
 * windows-1252 if the first non-ASCII bytes are not valid UTF-8 (`Utf8Check`). `why` says what
 * decided, for the log; it is absent while the file has shown nothing but ASCII.
 */
export function autoDecoding(bom: BomEncoding | undefined, utf16: "utf16le" | "utf16be" | undefined): { decoding: ReadDecoding; why?: string } {
  if (bom === "utf8") return { decoding: { kind: "utf8", mode: "fixed" }, why: "UTF-8, by its byte-order mark" };
  if (bom) return { decoding: { kind: "iconv", encoding: bom, name: bom }, why: `${bom === "utf16le" ? "UTF-16LE" : "UTF-16BE"}, by its byte-order mark` };
  if (utf16) return { decoding: { kind: "iconv", encoding: utf16, name: utf16 }, why: `${utf16 === "utf16le" ? "UTF-16LE" : "UTF-16BE"}, by the zero in every other byte (it has no byte-order mark)` };
  return { decoding: { kind: "utf8", mode: "undecided" } };
}

/** What the log says `auto` settled on once the file's first non-ASCII bytes were read. */
export function autoWhy(mode: "utf8" | "windows-1252"): string {
  return mode === "utf8" ? "UTF-8, as its non-ASCII bytes are valid UTF-8" : "windows-1252, as its non-ASCII bytes are not valid UTF-8";
}

/** Where a bad byte is: a byte offset in the file (located later, by `locateByte`), or a line and column. */
export type BadSpot = { offset: number; prefix: "utf8" | "windows-1252" } | { line: number; column: number };

/**
 * Bytes that are not valid in the decoding: where the first one is, what is wrong (`problem`, e.g.
 * "byte 0xE9 is not valid UTF-8"), and what it was read as (the UTF-8 path's mode, or the iconv-lite
 * name), which decides the advice. `sample` holds the chunk of the file (up to 64 KiB) with the bad
 * byte, so that the caller can guess what the file really is.
 */
export class InvalidTextError extends Error {
  override readonly name = "InvalidTextError";
  constructor(
    readonly where: BadSpot,
    readonly problem: string,
    readonly decoding: Utf8Mode | { iconv: string },
    readonly sample: Buffer = EMPTY,
  ) {
    super(problem);
  }
}

/** A 1-based line and column (in characters) of text, counting "\r\n", "\r" and "\n" as one line break each. */
export class TextPosition {
  line = 1;
  /** Characters (code points) since the last line break. */
  private column = 0;
  private endsWithCr = false;

  /** Moves past `text`. */
  advance(text: string): void {
    if (text.length === 0) return;
    let breaks = 0;
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) breaks++;
    for (let i = text.indexOf("\r"); i !== -1; i = text.indexOf("\r", i + 1)) if (text[i + 1] !== "\n") breaks++;
    // A "\r\n" split between two pieces of text was counted as two breaks.
    if (this.endsWithCr && text[0] === "\n") breaks--;
    const last = Math.max(text.lastIndexOf("\n"), text.lastIndexOf("\r"));
    this.line += breaks;
    this.column = last === -1 ? this.column + codePoints(text, 0) : codePoints(text, last + 1);
    this.endsWithCr = text[text.length - 1] === "\r";
  }

  /** The line and 1-based column of the character at `index` of `text`, which comes next. */
  at(text: string, index: number): { line: number; column: number } {
    const p = new TextPosition();
    p.line = this.line;
    p.column = this.column;
    p.endsWithCr = this.endsWithCr;
    p.advance(text.slice(0, index));
    return { line: p.line, column: p.column + 1 };
  }

  /** Where the next character would be. */
  get next(): { line: number; column: number } {
    return { line: this.line, column: this.column + 1 };
  }
}

function codePoints(text: string, from: number): number {
  let n = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // The low half of a pair is not a character of its own.
    if (c < 0xdc00 || c > 0xdfff || i === from || text.charCodeAt(i - 1) < 0xd800 || text.charCodeAt(i - 1) > 0xdbff) n++;
  }
  return n;
}

/**
 * How many bytes at the end of `buf` are the start of a UTF-8 sequence that the next chunk may
 * complete (0–3). Whether they are valid is judged once the rest has arrived.
 */
function incompleteTail(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    if (b < 0xc0) return 0; // ASCII: the last sequence is complete
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return length > back ? back : 0;
  }
  return 0;
}

/**
 * The index of the first byte of the first invalid UTF-8 sequence in `b`, or -1. The rules are
 * Unicode's well-formed sequences (The Unicode Standard, Table 3-7), as `buffer.isUtf8` applies
 * them: no overlong forms, no surrogates, nothing past U+10FFFF; a sequence cut short by the end of
 * `b` is invalid too.
 */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c === 0xe0) [need, lo] = [2, 0xa0];
    else if (c === 0xed) [need, hi] = [2, 0x9f];
    else if (c >= 0xe1 && c <= 0xef) need = 2;
    else if (c === 0xf0) [need, lo] = [3, 0x90];
    else if (c === 0xf4) [need, hi] = [3, 0x8f];
    else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else return i;
    const second = b[i + 1];
    if (second === undefined || second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const next = b[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return -1;
}

function firstUndefinedCp1252(buf: Buffer): number {
  let first = -1;
  for (const b of CP1252_UNDEFINED) {
    const i = buf.indexOf(b);
    if (i !== -1 && (first === -1 || i < first)) first = i;
  }
  return first;
}

function firstNonAscii(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) if (buf[i]! >= 0x80) return i;
  return -1;
}

function hex(byte: number): string {
  return `0x${byte.toString(16).toUpperCase().padStart(2, "0")}`;
}

/**
 * The UTF-8 path, bytes in and bytes out: checks every chunk (`buffer.isUtf8`, native; a sequence
 * split between chunks is carried over) and passes it on unchanged. With `encoding: "auto"` and no
 * byte-order mark it starts `undecided`: ASCII passes as it is, and where the first non-ASCII bytes
 * appear, the rest of that chunk (up to 64 KiB) decides — valid UTF-8 means UTF-8, anything else
 * windows-1252, which is then decoded to UTF-8 bytes from there on (the ASCII before it reads the same
 * in both). `partial`: the input is a prefix of the file, so a sequence cut at its end is no error.
 */
export class Utf8Check extends Transform {
  /** The file offset of the next byte to arrive. */
  private offset = 0;
  private carry: Buffer = EMPTY;

  constructor(
    private current: Utf8Mode,
    private readonly opts: { partial?: boolean; onDecide?: (mode: "utf8" | "windows-1252") => void } = {},
  ) {
    super();
  }

  /** The mode reached so far: after a prefix, where a read of the whole file starts. */
  get mode(): Utf8Mode {
    return this.current;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const base = this.offset - this.carry.length;
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    this.offset += chunk.length;
    this.carry = EMPTY;
    try {
      this.consume(buf, base);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.carry.length && !this.opts.partial) {
      const at = this.offset - this.carry.length;
      callback(new InvalidTextError({ offset: at, prefix: "utf8" }, `the file ends inside a UTF-8 character (byte ${hex(this.carry[0]!)})`, this.current, this.carry));
      return;
    }
    callback();
  }

  private consume(buf: Buffer, base: number): void {
    if (this.current === "undecided") {
      if (isAscii(buf)) {
        this.push(buf);
        return;
      }
      const p = firstNonAscii(buf);
      if (p > 0) this.push(buf.subarray(0, p));
      const rest = buf.subarray(p);
      this.current = isUtf8(rest.subarray(0, rest.length - incompleteTail(rest))) ? "utf8" : "windows-1252";
      this.opts.onDecide?.(this.current);
      this.consume(rest, base + p);
      return;
    }
    if (this.current === "windows-1252") {
      const bad = firstUndefinedCp1252(buf);
      if (bad !== -1) throw new InvalidTextError({ offset: base + bad, prefix: "windows-1252" }, `byte ${hex(buf[bad]!)} is not a windows-1252 character`, this.current, buf);
      this.push(Buffer.from(iconv.decode(buf, "windows-1252"), "utf8"));
      return;
    }
    const tail = incompleteTail(buf);
    const body = tail ? buf.subarray(0, buf.length - tail) : buf;
    if (!isUtf8(body)) {
      const bad = Math.max(0, firstInvalidUtf8(body));
      throw new InvalidTextError({ offset: base + bad, prefix: "utf8" }, `byte ${hex(body[bad]!)} is not valid UTF-8`, this.current, buf);
    }
    if (body.length) this.push(body);
    if (tail) this.carry = Buffer.from(buf.subarray(buf.length - tail));
  }
}

/**
 * Every other encoding: decoded by iconv-lite, and checked on the text, where positions are counted
 * as it goes. An encoding that cannot hold U+FFFD (every single- and double-byte code page) decodes
 * a byte it does not define as U+FFFD, so one in the text is a bad byte. The Unicode encodings
 * can hold it; for them a lone surrogate is the bad sequence (iconv-lite passes it through), and for
 * UTF-16 an odd number of bytes. `partial`: the input is a prefix of the file.
 */
export class IconvCheck extends Transform {
  private readonly decoder;
  private readonly position = new TextPosition();
  private bytes = 0;
  /** Whether U+FFFD is a character of this encoding (true of UTF-16, UTF-32, GB 18030…). */
  private readonly holdsReplacement: boolean;
  private readonly twoByteUnits: boolean;

  constructor(
    private readonly decoding: { encoding: IconvEncoding; name: string },
    private readonly opts: { partial?: boolean } = {},
  ) {
    super();
    this.decoder = iconv.getDecoder(decoding.encoding);
    this.holdsReplacement = UNICODE_ENCODING_RE.test(canonical(decoding.name));
    this.twoByteUnits = canonical(decoding.name).startsWith("utf16") || canonical(decoding.name) === "ucs2";
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(this.pass(this.decoder.write(chunk), chunk));
  }

  override _flush(callback: TransformCallback): void {
    if (this.opts.partial) {
      callback();
      return;
    }
    const err = this.pass(this.decoder.end() ?? "", EMPTY);
    if (err) {
      callback(err);
      return;
    }
    if (this.twoByteUnits && this.bytes % 2 === 1) {
      callback(new InvalidTextError(this.position.next, "the file ends in the middle of a UTF-16 character (it has an odd number of bytes)", { iconv: this.decoding.name }));
      return;
    }
    callback();
  }

  private pass(text: string, chunk: Buffer): InvalidTextError | undefined {
    const bad = this.holdsReplacement ? (LONE_SURROGATE_RE.exec(text)?.index ?? -1) : text.indexOf(REPLACEMENT);
    if (bad !== -1) {
      const problem = this.holdsReplacement
        ? `an unpaired surrogate (${hex(text.charCodeAt(bad))}) is not valid ${this.decoding.name}`
        : `bytes that are not valid ${this.decoding.name}`;
      return new InvalidTextError(this.position.at(text, bad), problem, { iconv: this.decoding.name }, chunk);
    }
    this.position.advance(text);
    if (text.length) this.push(text);
    return undefined;
  }
}

/** The checking (and, but for UTF-8, decoding) stream of a read, bytes in and bytes out. */
export function checkingStream(decoding: ReadDecoding, opts: { partial?: boolean; onDecide?: (mode: "utf8" | "windows-1252") => void } = {}): Utf8Check | IconvCheck {
  return decoding.kind === "iconv" ? new IconvCheck(decoding, opts) : new Utf8Check(decoding.mode, opts);
}

/**
 * The line and 1-based column (in characters) of the byte at `offset` of `file`, whose bytes before it
 * are valid in `prefix`: the file is read again up to there, which costs nothing until a file is bad.
 */
export async function locateByte(file: string, offset: number, prefix: "utf8" | "windows-1252"): Promise<{ line: number; column: number }> {
  const position = new TextPosition();
  if (offset === 0) return position.next;
  const decoder = prefix === "utf8" ? new TextDecoder("utf-8") : iconv.getDecoder("windows-1252");
  for await (const chunk of createReadStream(file, { start: 0, end: offset - 1 })) {
    position.advance(decoder instanceof TextDecoder ? decoder.decode(chunk as Buffer, { stream: true }) : decoder.write(chunk as Buffer));
  }
  return position.next;
}

/**
 * The encoding a file that is not valid UTF-8 is most likely in, from bytes around the first bad
 * one: windows-1252 (a superset of Latin-1's printable characters, and what Excel on Windows
 * writes) when it defines every one of them and they read as Western European text, else
 * `undefined`, as it is for bytes that are UTF-8 but for a last character cut short.
 */
export function likelyLegacyEncoding(sample: Buffer): "windows-1252" | undefined {
  // Bytes that are UTF-8 but for a character cut off at the end are a file cut short, not a code page.
  if (isUtf8(sample.subarray(0, sample.length - incompleteTail(sample)))) return undefined;
  if (firstUndefinedCp1252(sample) !== -1) return undefined;
  // Western European text is mostly ASCII letters with the odd accented one; text whose letters are
  // mostly high bytes is in another script's code page (windows-1251, -1253…), which this cannot tell.
  let high = 0;
  let ascii = 0;
  for (const b of sample) {
    if (b >= 0x80) high++;
    else if ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) ascii++;
  }
  return high <= ascii * WESTERN_HIGH_BYTES_PER_LETTER ? "windows-1252" : undefined;
}
