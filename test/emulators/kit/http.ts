/**
 * Reading request bodies and writing JSON answers, the same way in every emulator: bodies are read
 * in full before anything is answered, and an answer always carries its length so clients never
 * wait for the connection to close.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** The content type the kit answers with unless an emulator copies its vendor's spelling. */
export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/**
 * The default cap on a JSON body: far above any request the emulated APIs take, low enough that a
 * runaway client cannot exhaust the test process's memory.
 */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** A request body that cannot be used; `status` is what to answer (400 unreadable, 413 too large). */
export class BodyError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** How `sendJson` writes its answer besides the status and body. */
export interface SendJsonOptions {
  /** Extra headers, written after `content-type` and `content-length`. */
  headers?: Record<string, string>;
  /** Default `JSON_CONTENT_TYPE`; emulators pass their vendor's exact spelling. */
  contentType?: string;
}

/**
 * Answers `status` with `body` as JSON, or with no body at all when `body` is undefined (a 204).
 * Does nothing once the response is destroyed or ended, so a handler that finishes after a lost
 * response or a close never throws.
 */
export function sendJson(res: ServerResponse, status: number, body?: unknown, opts: SendJsonOptions = {}): void {
  if (res.destroyed || res.writableEnded) return;
  if (body === undefined) {
    res.writeHead(status, opts.headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": opts.contentType ?? JSON_CONTENT_TYPE, "content-length": Buffer.byteLength(text), ...opts.headers });
  res.end(text);
}

/**
 * Reads the whole body as UTF-8 text. Past `maxBytes` (default: no cap) the rest is still drained,
 * so the client is not cut off mid-send, and the promise rejects with a 413 `BodyError` at the end.
 * Rejects with the stream's error if the request fails.
 */
export function readBodyText(req: IncomingMessage, maxBytes = Number.POSITIVE_INFINITY): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.on("error", reject);
    req.on("end", () => {
      if (size > maxBytes) reject(new BodyError("Request body too large", 413));
      else resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}

/**
 * Reads the body as JSON: undefined for an empty or blank body, the parsed value otherwise. Rejects
 * with a 400 `BodyError` for text that is not JSON and a 413 one past `maxBytes`.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes = MAX_JSON_BODY_BYTES): Promise<unknown> {
  const text = await readBodyText(req, maxBytes);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BodyError("Request body is not valid JSON");
  }
}

/** Reads and throws away the body, resolving once the request has ended (for routes that take none). */
export function discardBody(req: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    req.on("error", reject);
    req.on("end", () => resolve());
    req.resume();
  });
}

/** True for a JSON object: not null, not an array. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
