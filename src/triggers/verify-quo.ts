/**
 * Verifies Quo webhook deliveries on their raw bytes, before anything parses them. Two schemes:
 * the `2026-03-30` webhooks follow Standard Webhooks (https://www.standardwebhooks.com/:
 * `webhook-id`, `webhook-timestamp`, `webhook-signature`), and legacy webhooks send one
 * `openphone-signature: hmac;1;<ms>;<base64>` header (docs/quo-api.md, "Webhooks").
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/** How far a delivery's timestamp may be from now, either way: Standard Webhooks' recommended tolerance. */
export const WEBHOOK_TOLERANCE_MS = 5 * 60_000;

/** Why a delivery was refused; never includes the secret or the signature. */
export type VerifyFailure = "missing-headers" | "malformed" | "stale" | "mismatch";

/** A verified delivery: its id (the idempotency key) and which scheme signed it. */
export type QuoVerified = { ok: true; id: string; scheme: "standard" | "legacy" } | { ok: false; why: VerifyFailure };

/** The one value of a header, or undefined when absent or repeated (a repeated signature header is malformed). */
export function oneHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === "string" ? v : undefined;
}

/** Constant-time equality of two byte strings (false, quickly, when the lengths differ: lengths are not secret). */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Strict base64 (standard alphabet, padded); null otherwise, so a sloppy header never half-matches. */
function base64(text: string): Buffer | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return null;
  return Buffer.from(text, "base64");
}

/**
 * The HMAC keys a configured secret may stand for: `whsec_<base64>` is the base64 part decoded
 * (Standard Webhooks); a bare secret is tried decoded from base64 (how Quo's legacy signing key is
 * meant) and as its own bytes (how it is sometimes read), so no reading of the key is refused.
 */
export function quoKeys(secret: string): Buffer[] {
  const s = secret.trim();
  if (s.startsWith("whsec_")) {
    const k = base64(s.slice("whsec_".length));
    return k && k.length ? [k] : [];
  }
  const keys: Buffer[] = [];
  const k = base64(s);
  if (k && k.length) keys.push(k);
  if (s.length) keys.push(Buffer.from(s, "utf8"));
  return keys;
}

/**
 * Verifies a Quo delivery: Standard Webhooks when `webhook-signature` is present, else the legacy
 * `openphone-signature`. Any of several space-separated `v1,<base64>` entries may match (they
 * differ while a secret is rotated); the timestamp must be within `WEBHOOK_TOLERANCE_MS` of `now`.
 */
export function verifyQuo(rawBody: Buffer, headers: IncomingHttpHeaders, secret: string, now: number): QuoVerified {
  const keys = quoKeys(secret);
  if (!keys.length) return { ok: false, why: "mismatch" };
  if (headers["webhook-signature"] !== undefined) return verifyStandard(rawBody, headers, keys, now);
  if (headers["openphone-signature"] !== undefined) return verifyLegacy(rawBody, headers, keys, now);
  return { ok: false, why: "missing-headers" };
}

function verifyStandard(rawBody: Buffer, headers: IncomingHttpHeaders, keys: readonly Buffer[], now: number): QuoVerified {
  const id = oneHeader(headers, "webhook-id");
  const ts = oneHeader(headers, "webhook-timestamp");
  const sig = oneHeader(headers, "webhook-signature");
  if (id === undefined || ts === undefined || sig === undefined) return { ok: false, why: "missing-headers" };
  if (!id.length || id.length > 200 || !/^\d{1,12}$/.test(ts)) return { ok: false, why: "malformed" };
  if (Math.abs(now - Number(ts) * 1000) > WEBHOOK_TOLERANCE_MS) return { ok: false, why: "stale" };
  const given = sig
    .split(" ")
    .filter((e) => e.startsWith("v1,"))
    .map((e) => base64(e.slice(3)))
    .filter((b): b is Buffer => b !== null && b.length === 32);
  if (!given.length) return { ok: false, why: "malformed" };
  const signed = Buffer.concat([Buffer.from(`${id}.${ts}.`, "utf8"), rawBody]);
  // Every pair is compared (no early exit) so the time taken does not say which entry matched.
  let match = false;
  for (const key of keys) {
    const expected = createHmac("sha256", key).update(signed).digest();
    for (const g of given) if (sameBytes(expected, g)) match = true;
  }
  return match ? { ok: true, id, scheme: "standard" } : { ok: false, why: "mismatch" };
}

function verifyLegacy(rawBody: Buffer, headers: IncomingHttpHeaders, keys: readonly Buffer[], now: number): QuoVerified {
  const header = oneHeader(headers, "openphone-signature");
  if (header === undefined) return { ok: false, why: "malformed" };
  const parts = header.trim().split(";");
  if (parts.length !== 4 || parts[0] !== "hmac" || parts[1] !== "1" || !/^\d{1,15}$/.test(parts[2]!)) return { ok: false, why: "malformed" };
  const ts = parts[2]!;
  const given = base64(parts[3]!);
  if (!given || given.length !== 32) return { ok: false, why: "malformed" };
  if (Math.abs(now - Number(ts)) > WEBHOOK_TOLERANCE_MS) return { ok: false, why: "stale" };
  const signed = Buffer.concat([Buffer.from(`${ts}.`, "utf8"), rawBody]);
  let match = false;
  for (const key of keys) if (sameBytes(createHmac("sha256", key).update(signed).digest(), given)) match = true;
  if (!match) return { ok: false, why: "mismatch" };
  // Legacy deliveries carry no id header: the signature is unique per delivery and (digested) stands in for one.
  return { ok: true, id: `legacy:${createHash("sha256").update(parts[3]!).digest("hex").slice(0, 32)}`, scheme: "legacy" };
}
