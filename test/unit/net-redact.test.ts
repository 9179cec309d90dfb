/**
 * Secret scrubbing (src/net/redact.ts) and what the HTTP layer keeps of a failure
 * (src/net/http-failure.ts): keys are gone from messages, stacks and every level of a `cause` chain,
 * and nothing of the request (its headers) survives.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import axios, { AxiosError } from "axios";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, GuardRefused, QuoSyncError, SourceError, StateError } from "../../src/errors.js";
import { decodeBody, describeHttpFailure, excerpt, MAX_QUOTED_BODY_CHARS, textExcerpt } from "../../src/net/http-failure.js";
import { REDACTED, RedactedError, redactDeep, redactError, redactSecrets } from "../../src/net/redact.js";
import { QuoApiError } from "../../src/quo/errors.js";

const KEY = "sk_test_SECRET_9b2e71";
const TOKEN = "pat-na1-SECRET-0c7d";

/** Every way an error may be printed or serialised. */
function views(error: unknown): string[] {
  return [String(error), (error as Error).stack ?? "", JSON.stringify(error) ?? "", inspect(error, { depth: 10 }), inspect(error, { depth: 10, showHidden: true })];
}

describe("redactSecrets / redactDeep", () => {
  it("replaces every occurrence of every secret, and ignores empty ones", () => {
    expect(redactSecrets(`a ${KEY} b ${KEY} c ${TOKEN}`, [KEY, TOKEN, ""])).toBe(`a ${REDACTED} b ${REDACTED} c ${REDACTED}`);
    expect(redactSecrets("nothing here", [""])).toBe("nothing here");
  });

  it("scrubs keys and values at any depth, leaving other values as they are", () => {
    const value = { [KEY]: [{ reason: `Bearer ${KEY}`, n: 1, ok: true, none: null }], plain: "x" };
    expect(redactDeep(value, [KEY])).toEqual({ [REDACTED]: [{ reason: `Bearer ${REDACTED}`, n: 1, ok: true, none: null }], plain: "x" });
  });
});

describe("redactError", () => {
  it("keeps name, code, syscall and a scrubbed message and stack of every cause, up to five levels", () => {
    const root = Object.assign(new Error(`connect ECONNREFUSED for ${KEY}`), { code: "ECONNREFUSED", syscall: "connect", config: { headers: { Authorization: KEY } } });
    const middle = new TypeError(`wrapped ${KEY}`, { cause: root });
    const top = new Error(`top ${KEY}`, { cause: middle });
    const copy = redactError(top, [KEY]);
    expect(copy).toBeInstanceOf(RedactedError);
    expect(copy.message).toBe(`top ${REDACTED}`);
    const second = copy.cause as RedactedError;
    expect(second.name).toBe("TypeError");
    expect(second.message).toBe(`wrapped ${REDACTED}`);
    const third = second.cause as RedactedError;
    expect(third).toMatchObject({ message: `connect ECONNREFUSED for ${REDACTED}`, code: "ECONNREFUSED", syscall: "connect" });
    expect(third).not.toHaveProperty("config");
    for (const view of views(copy)) expect(view).not.toContain(KEY);
  });

  it("stops following causes after five levels, even a cycle", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    let depth = 0;
    for (let cur: unknown = redactError(a, []); cur instanceof Error; cur = cur.cause) depth++;
    expect(depth).toBe(5);
  });

  it("turns anything thrown into an Error holding its scrubbed text", () => {
    const copy = redactError(`thrown string with ${KEY}`, [KEY]);
    expect(copy).toBeInstanceOf(Error);
    expect(copy.message).toBe(`thrown string with ${REDACTED}`);
  });
});

describe("describeHttpFailure", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  it("a real axios failure whose body echoes the key: nothing of the request is kept, no key anywhere", async () => {
    const server = createServer((req, res) => {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ message: `bad key ${req.headers.authorization}` }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
    const error = await axios
      .get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, { headers: { Authorization: KEY } })
      .catch((e: unknown) => e as AxiosError);
    expect(inspect(error, { depth: 10 })).toContain(KEY); // the raw axios error does hold it

    const failure = describeHttpFailure(error, [KEY]);
    expect(failure).toMatchObject({ status: 401, attempts: 1, timedOut: false });
    expect(failure.cause).toBeInstanceOf(RedactedError);
    expect(failure.cause).not.toHaveProperty("config");
    expect(failure.cause).not.toHaveProperty("request");
    expect(failure.cause).not.toHaveProperty("response");
    const wrapped = new SourceError("reading contacts failed", { transient: false, cause: failure.cause });
    for (const view of views(wrapped)) expect(view).not.toContain(KEY);
  });

  it("a refused connection: the network code, and Node's error in the cause chain", async () => {
    const error = await axios.get("http://127.0.0.1:1/x", { headers: { Authorization: KEY } }).catch((e: unknown) => e as AxiosError);
    const failure = describeHttpFailure(error, [KEY]);
    expect(failure).toMatchObject({ status: null, networkCode: "ECONNREFUSED", timedOut: false });
    expect(failure.cause.code).toBe("ECONNREFUSED");
    for (const view of views(failure.cause)) expect(view).not.toContain(KEY);
  });

  it("a timeout is named as one", () => {
    const failure = describeHttpFailure(new AxiosError("timeout of 10ms exceeded", "ECONNABORTED"), []);
    expect(failure).toMatchObject({ status: null, networkCode: "ECONNABORTED", timedOut: true });
  });

  it("something that is not an axios error", () => {
    const failure = describeHttpFailure(Object.assign(new Error(`interceptor failed for ${KEY}`), { code: "EPIPE" }), [KEY]);
    expect(failure).toMatchObject({ status: null, networkCode: "EPIPE", attempts: 1, message: `interceptor failed for ${REDACTED}` });
  });
});

describe("body excerpts", () => {
  it("decodes Buffers and JSON objects, keeps other text as text", () => {
    expect(decodeBody(Buffer.from('{"a":1}'))).toEqual({ json: { a: 1 } });
    expect(decodeBody(' {"a":1} ')).toEqual({ json: { a: 1 } });
    expect(decodeBody("{not json")).toEqual({ text: "{not json" });
    expect(decodeBody("plain")).toEqual({ text: "plain" });
    expect(decodeBody({ a: 1 })).toEqual({ json: { a: 1 } });
  });

  it("reduces HTML to its title or text, collapses whitespace, and cuts long text", () => {
    expect(textExcerpt("<html><head><title>502 Bad Gateway</title></head><body>x</body></html>")).toBe("502 Bad Gateway");
    expect(textExcerpt("<html><body><h1>Down</h1><script>x()</script> for  maintenance</body></html>")).toBe("Down for maintenance");
    expect(textExcerpt("  upstream\n connect error ")).toBe("upstream connect error");
    const long = "x".repeat(MAX_QUOTED_BODY_CHARS + 50);
    expect(textExcerpt(long)).toBe(`${"x".repeat(MAX_QUOTED_BODY_CHARS)}…`);
    expect(excerpt("short")).toBe("short");
  });
});

describe("QuoSyncError kinds", () => {
  it.each([
    { error: new ConfigError("c", "syncs[0]"), kind: "config", transient: false },
    { error: new SourceError("s"), kind: "source", transient: false },
    { error: new SourceError("s", true), kind: "source", transient: true },
    { error: new SourceError("s", { transient: true }), kind: "source", transient: true },
    { error: new StateError("st"), kind: "state", transient: false },
    { error: new GuardRefused("g"), kind: "guard", transient: false },
    { error: new QuoApiError({ method: "GET", path: "/v1/contacts", status: 503, quoMessage: "" }), kind: "quo", transient: true },
    { error: new QuoApiError({ method: "GET", path: "/v1/contacts", status: 400, quoMessage: "" }), kind: "quo", transient: false },
    { error: new QuoApiError({ method: "GET", path: "/v1/contacts", status: null, quoMessage: "" }), kind: "quo", transient: true },
  ])("$error.name: kind $kind, transient $transient", ({ error, kind, transient }) => {
    expect(error).toBeInstanceOf(QuoSyncError);
    expect(error.kind).toBe(kind);
    expect(error.transient).toBe(transient);
    expect(error).not.toHaveProperty("cause");
  });

  it("keeps a given cause as the standard, non-enumerable `cause`", () => {
    const cause = new Error("ENOENT");
    const error = new ConfigError("cannot read the config", undefined, { cause });
    expect(error.cause).toBe(cause);
    expect(Object.keys(error)).not.toContain("cause");
    expect(new StateError("locked", { cause, transient: true })).toMatchObject({ cause, transient: true });
  });
});
