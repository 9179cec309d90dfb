/**
 * Which bytes-to-text decoding a CSV source uses, and the stream that applies it.
 */
import { pipeline, type Readable } from "node:stream";
import iconv from "iconv-lite";

/**
 * How a file's bytes become text. UTF-8 goes to csv-parse as raw bytes: the parser works on bytes,
 * decodes each cell once and strips a UTF-8 BOM itself (`bom: true`), so a decoding pass would only
 * cost time. Every other encoding is decoded by iconv-lite, which strips its BOM (UTF-16) by default.
 */
export type TextDecoding = { kind: "utf8" } | { kind: "iconv"; encoding: IconvEncoding };

/** The encoding names iconv-lite's typings accept (the package does not export the type by name). */
type IconvEncoding = Parameters<typeof iconv.decodeStream>[0];

/**
 * iconv-lite knows these, but they turn text into text (binary-to-text codecs), so a CSV "in" one of
 * them is a configuration mistake rather than a file to decode.
 */
const NOT_TEXT_ENCODINGS = new Set(["base64", "base64url", "hex"]);

/** Names as iconv-lite compares them: case and punctuation do not matter ("UTF-8" = "utf8"). */
function canonical(name: string): string {
  return name.toLowerCase().replace(/[^0-9a-z]/g, "");
}

/**
 * The decoding for a configured encoding name (a Node or iconv-lite name such as utf8, utf-8,
 * latin1, windows-1252, utf16le), or `undefined` when the name is unknown. Never throws.
 */
export function resolveDecoding(name: string): TextDecoding | undefined {
  const key = canonical(name);
  if (key === "utf8") return { kind: "utf8" };
  if (NOT_TEXT_ENCODINGS.has(key) || !iconv.encodingExists(name)) return undefined;
  return { kind: "iconv", encoding: name };
}

/**
 * `bytes` as a stream csv-parse can read: unchanged for UTF-8, decoded to text otherwise. Errors of
 * either stream reach whoever reads the result, because `pipeline` destroys the whole chain with them;
 * the callback therefore has nothing left to do.
 */
export function decodeBytes(bytes: Readable, decoding: TextDecoding): NodeJS.ReadableStream {
  if (decoding.kind === "utf8") return bytes;
  return pipeline(bytes, iconv.decodeStream(decoding.encoding), () => {});
}
