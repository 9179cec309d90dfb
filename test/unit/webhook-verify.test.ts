/**
 * Webhook signatures: Quo's Standard Webhooks and legacy schemes and HubSpot's v3, each checked
 * against vectors computed here with node:crypto from the vendors' documented recipes.
 */
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { WEBHOOK_TOLERANCE_MS, quoKeys, verifyQuo } from "../../src/triggers/verify-quo.js";
import { hubspotSignedUri, publicUri, verifyHubspot } from "../../src/triggers/verify-hubspot.js";

const NOW = 1_796_000_000_000;
const KEY = randomBytes(32);
const WHSEC = `whsec_${KEY.toString("base64")}`;
const BODY = Buffer.from(JSON.stringify({ id: "EVa1", apiVersion: "2026-03-30", type: "contact.updated", data: { resource: { id: "CT1" } } }));

function standard(body: Buffer, opts: { id?: string; ts?: number; key?: Buffer } = {}): { id: string; ts: string; sig: string } {
  const id = opts.id ?? "msg_2abc";
  const ts = String(Math.floor((opts.ts ?? NOW) / 1000));
  const sig = createHmac("sha256", opts.key ?? KEY).update(`${id}.${ts}.`).update(body).digest("base64");
  return { id, ts, sig };
}

function std(body: Buffer, s: { id: string; ts: string; sig: string }, signature = `v1,${s.sig}`) {
  return verifyQuo(body, { "webhook-id": s.id, "webhook-timestamp": s.ts, "webhook-signature": signature }, WHSEC, NOW);
}

describe("Quo Standard Webhooks signatures", () => {
  it("accepts a delivery signed with the secret, giving its id", () => {
    expect(std(BODY, standard(BODY))).toEqual({ ok: true, id: "msg_2abc", scheme: "standard" });
  });

  it("accepts when any of several v1 entries matches, in any position", () => {
    const s = standard(BODY);
    const other = createHmac("sha256", randomBytes(32)).update("x").digest("base64");
    expect(std(BODY, s, `v1,${other} v1,${s.sig}`).ok).toBe(true);
    expect(std(BODY, s, `v1,${s.sig} v1,${other}`).ok).toBe(true);
    expect(std(BODY, s, `v1a,${other} v1,${s.sig}`).ok).toBe(true);
  });

  it("refuses a wrong secret, a body changed by one byte, or another id", () => {
    expect(std(BODY, standard(BODY, { key: randomBytes(32) }))).toEqual({ ok: false, why: "mismatch" });
    const tampered = Buffer.from(BODY);
    tampered[10] = tampered[10]! ^ 1;
    expect(std(tampered, standard(BODY))).toEqual({ ok: false, why: "mismatch" });
    const s = standard(BODY);
    expect(std(BODY, { ...s, id: "msg_other" })).toEqual({ ok: false, why: "mismatch" });
  });

  it("refuses timestamps more than 5 minutes off, either way, and accepts just inside", () => {
    expect(std(BODY, standard(BODY, { ts: NOW - WEBHOOK_TOLERANCE_MS - 1000 }))).toEqual({ ok: false, why: "stale" });
    expect(std(BODY, standard(BODY, { ts: NOW + WEBHOOK_TOLERANCE_MS + 1000 }))).toEqual({ ok: false, why: "stale" });
    expect(std(BODY, standard(BODY, { ts: NOW - WEBHOOK_TOLERANCE_MS + 1000 })).ok).toBe(true);
    expect(std(BODY, standard(BODY, { ts: NOW + WEBHOOK_TOLERANCE_MS - 1000 })).ok).toBe(true);
  });

  it("refuses missing headers and malformed values", () => {
    const s = standard(BODY);
    expect(verifyQuo(BODY, {}, WHSEC, NOW)).toEqual({ ok: false, why: "missing-headers" });
    expect(verifyQuo(BODY, { "webhook-timestamp": s.ts, "webhook-signature": `v1,${s.sig}` }, WHSEC, NOW)).toEqual({ ok: false, why: "missing-headers" });
    expect(verifyQuo(BODY, { "webhook-id": s.id, "webhook-signature": `v1,${s.sig}` }, WHSEC, NOW)).toEqual({ ok: false, why: "missing-headers" });
    expect(std(BODY, { ...s, ts: "12.5" })).toEqual({ ok: false, why: "malformed" });
    expect(std(BODY, { ...s, ts: "" })).toEqual({ ok: false, why: "malformed" });
    expect(std(BODY, s, s.sig)).toEqual({ ok: false, why: "malformed" });
    expect(std(BODY, s, "v1,not base64!")).toEqual({ ok: false, why: "malformed" });
    expect(std(BODY, s, "v1,")).toEqual({ ok: false, why: "malformed" });
    expect(std(BODY, s, `v1,${s.sig.slice(0, 20)}`)).toEqual({ ok: false, why: "malformed" });
    expect(std(BODY, s, `v2,${s.sig}`)).toEqual({ ok: false, why: "malformed" });
  });

  it("a secret without whsec_ or with a broken one verifies nothing it should not", () => {
    expect(quoKeys("whsec_!!!")).toEqual([]);
    expect(verifyQuo(BODY, { "webhook-id": "a", "webhook-timestamp": "1", "webhook-signature": "v1,x" }, "whsec_", NOW)).toEqual({ ok: false, why: "mismatch" });
  });
});

describe("Quo legacy openphone-signature", () => {
  const legacyKey = randomBytes(32);
  const secret = legacyKey.toString("base64");
  const sign = (body: Buffer, ts: number, key: Buffer = legacyKey) => `hmac;1;${ts};${createHmac("sha256", key).update(`${ts}.`).update(body).digest("base64")}`;

  it("accepts a signature keyed with the base64-decoded signing key", () => {
    const v = verifyQuo(BODY, { "openphone-signature": sign(BODY, NOW) }, secret, NOW);
    expect(v.ok && v.scheme).toBe("legacy");
  });

  it("also accepts a signature keyed with the key's text as given (the other reading of the key)", () => {
    expect(verifyQuo(BODY, { "openphone-signature": sign(BODY, NOW, Buffer.from(secret, "utf8")) }, secret, NOW).ok).toBe(true);
  });

  it("refuses a wrong key, a tampered body, stale or future timestamps and malformed headers", () => {
    expect(verifyQuo(BODY, { "openphone-signature": sign(BODY, NOW, randomBytes(32)) }, secret, NOW)).toEqual({ ok: false, why: "mismatch" });
    expect(verifyQuo(Buffer.concat([BODY, Buffer.from(" ")]), { "openphone-signature": sign(BODY, NOW) }, secret, NOW)).toEqual({ ok: false, why: "mismatch" });
    expect(verifyQuo(BODY, { "openphone-signature": sign(BODY, NOW - WEBHOOK_TOLERANCE_MS - 1) }, secret, NOW)).toEqual({ ok: false, why: "stale" });
    expect(verifyQuo(BODY, { "openphone-signature": sign(BODY, NOW + WEBHOOK_TOLERANCE_MS + 1) }, secret, NOW)).toEqual({ ok: false, why: "stale" });
    for (const bad of ["hmac;1;abc;xyz", "hmac;2;1;AAAA", "sha;1;1;AAAA", "hmac;1;1", ""]) expect(verifyQuo(BODY, { "openphone-signature": bad }, secret, NOW)).toEqual({ ok: false, why: "malformed" });
  });

  it("two deliveries get different ids", () => {
    const a = verifyQuo(BODY, { "openphone-signature": sign(BODY, NOW) }, secret, NOW);
    const b = verifyQuo(BODY, { "openphone-signature": sign(BODY, NOW + 1) }, secret, NOW);
    expect(a.ok && b.ok && a.id !== b.id).toBe(true);
  });
});

describe("HubSpot signature v3", () => {
  const SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
  const HS_BODY = Buffer.from(JSON.stringify([{ eventId: 1, subscriptionType: "contact.creation", objectId: 123, occurredAt: NOW }]));
  const URI = "https://sync.example.com/webhooks/hubspot";
  const sign = (method: string, uri: string, body: Buffer, ts: number, secret = SECRET) => createHmac("sha256", secret).update(`${method}${uri}`).update(body).update(String(ts)).digest("base64");
  const headers = (sig: string, ts: number | string) => ({ "x-hubspot-signature-v3": sig, "x-hubspot-request-timestamp": String(ts) });

  it("accepts a request signed over method, public URI, body and timestamp", () => {
    expect(verifyHubspot("POST", URI, HS_BODY, headers(sign("POST", URI, HS_BODY, NOW), NOW), SECRET, NOW)).toEqual({ ok: true });
  });

  it("refuses a wrong secret, one byte changed, another URI or method", () => {
    expect(verifyHubspot("POST", URI, HS_BODY, headers(sign("POST", URI, HS_BODY, NOW, "other"), NOW), SECRET, NOW)).toEqual({ ok: false, why: "mismatch" });
    const tampered = Buffer.from(HS_BODY);
    tampered[5] = tampered[5]! ^ 1;
    expect(verifyHubspot("POST", URI, tampered, headers(sign("POST", URI, HS_BODY, NOW), NOW), SECRET, NOW)).toEqual({ ok: false, why: "mismatch" });
    expect(verifyHubspot("POST", "http://sync.example.com/webhooks/hubspot", HS_BODY, headers(sign("POST", URI, HS_BODY, NOW), NOW), SECRET, NOW)).toEqual({ ok: false, why: "mismatch" });
    expect(verifyHubspot("PUT", URI, HS_BODY, headers(sign("POST", URI, HS_BODY, NOW), NOW), SECRET, NOW)).toEqual({ ok: false, why: "mismatch" });
  });

  it("refuses timestamps more than 5 minutes off either way", () => {
    for (const ts of [NOW - WEBHOOK_TOLERANCE_MS - 1, NOW + WEBHOOK_TOLERANCE_MS + 1]) expect(verifyHubspot("POST", URI, HS_BODY, headers(sign("POST", URI, HS_BODY, ts), ts), SECRET, NOW)).toEqual({ ok: false, why: "stale" });
  });

  it("refuses missing and malformed headers", () => {
    const sig = sign("POST", URI, HS_BODY, NOW);
    expect(verifyHubspot("POST", URI, HS_BODY, {}, SECRET, NOW)).toEqual({ ok: false, why: "missing-headers" });
    expect(verifyHubspot("POST", URI, HS_BODY, { "x-hubspot-signature-v3": sig }, SECRET, NOW)).toEqual({ ok: false, why: "missing-headers" });
    expect(verifyHubspot("POST", URI, HS_BODY, headers(sig, "soon"), SECRET, NOW)).toEqual({ ok: false, why: "malformed" });
    expect(verifyHubspot("POST", URI, HS_BODY, headers("abc", NOW), SECRET, NOW)).toEqual({ ok: false, why: "malformed" });
    expect(verifyHubspot("POST", URI, HS_BODY, headers(Buffer.from(sig, "base64").toString("hex"), NOW), SECRET, NOW)).toEqual({ ok: false, why: "malformed" });
  });

  it("signs the URI with HubSpot's listed percent-encodings decoded and the others kept", () => {
    expect(hubspotSignedUri("https://h/webhooks/hubspot?a=%3A%2f%3F%40%21%24%27%28%29%2A%2C%3B&b=%20%25")).toBe("https://h/webhooks/hubspot?a=:/?@!$'()*,;&b=%20%25");
    const sent = "https://sync.example.com/webhooks/hubspot?from=a%3Ab";
    const sig = sign("POST", "https://sync.example.com/webhooks/hubspot?from=a:b", HS_BODY, NOW);
    expect(verifyHubspot("POST", sent, HS_BODY, headers(sig, NOW), SECRET, NOW)).toEqual({ ok: true });
  });

  it("builds the public URI from the configured base and the request target", () => {
    expect(publicUri("https://sync.example.com/quo/", "/webhooks/hubspot?x=1")).toBe("https://sync.example.com/quo/webhooks/hubspot?x=1");
  });
});
