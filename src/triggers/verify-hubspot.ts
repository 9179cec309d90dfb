/**
 * Verifies HubSpot webhook requests (signature v3) on their raw bytes, before anything parses
 * them: `X-HubSpot-Signature-v3` = base64(HMAC-SHA256(client secret, method + URI + body +
 * timestamp)), `X-HubSpot-Request-Timestamp` in epoch ms. See
 * https://developers.hubspot.com/docs/api/webhooks/validating-requests.
 */
import { createHmac } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { WEBHOOK_TOLERANCE_MS, oneHeader, sameBytes, type VerifyFailure } from "./verify-quo.js";

/** The percent-encodings HubSpot decodes in the URI before signing (its validation guide lists exactly these). */
const DECODED: Readonly<Record<string, string>> = { "3A": ":", "2F": "/", "3F": "?", "40": "@", "21": "!", "24": "$", "27": "'", "28": "(", "29": ")", "2A": "*", "2C": ",", "3B": ";" };

/** The request URI as HubSpot signs it: the listed percent-encodings decoded, every other byte as sent. */
export function hubspotSignedUri(uri: string): string {
  return uri.replace(/%([0-9A-Fa-f]{2})/g, (all, hex: string) => DECODED[hex.toUpperCase()] ?? all);
}

/**
 * The full public URI of a request: `publicBase` (scheme, host and any path prefix a reverse proxy
 * adds, e.g. `https://sync.example.com`) followed by the request target as received.
 */
export function publicUri(publicBase: string, target: string): string {
  return publicBase.replace(/\/+$/, "") + target;
}

/**
 * Checks a HubSpot v3 signature. `uri` is the full public URI HubSpot posted to (see `publicUri`);
 * the timestamp must be within `WEBHOOK_TOLERANCE_MS` of `now`, either way.
 */
export function verifyHubspot(method: string, uri: string, rawBody: Buffer, headers: IncomingHttpHeaders, clientSecret: string, now: number): { ok: true } | { ok: false; why: VerifyFailure } {
  const sig = oneHeader(headers, "x-hubspot-signature-v3");
  const ts = oneHeader(headers, "x-hubspot-request-timestamp");
  if (sig === undefined || ts === undefined) return { ok: false, why: "missing-headers" };
  if (!/^\d{1,15}$/.test(ts) || !/^[A-Za-z0-9+/]{43}=$/.test(sig)) return { ok: false, why: "malformed" };
  if (Math.abs(now - Number(ts)) > WEBHOOK_TOLERANCE_MS) return { ok: false, why: "stale" };
  if (!clientSecret) return { ok: false, why: "mismatch" };
  const signed = Buffer.concat([Buffer.from(method + hubspotSignedUri(uri), "utf8"), rawBody, Buffer.from(ts, "utf8")]);
  const expected = createHmac("sha256", clientSecret).update(signed).digest();
  return sameBytes(expected, Buffer.from(sig, "base64")) ? { ok: true } : { ok: false, why: "mismatch" };
}
