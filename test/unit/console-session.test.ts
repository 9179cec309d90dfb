/** The console's sign-in primitives and its HTML helper: pure, on a clock the test moves. */
import { describe, expect, it } from "vitest";
import { html, unsafeRaw, escapeText } from "../../src/console/html.js";
import { ConsoleAuth, SIGNIN_BASE_DELAY_MS, SIGNIN_FORGET_MS, SIGNIN_MAX_ADDRESSES, SIGNIN_MAX_DELAY_MS, SESSION_TTL_MS, SigninThrottle, cookieValue } from "../../src/console/session.js";
import { sameOrigin } from "../../src/console/console.js";

const TOKEN = "0123456789abcdef0123456789abcdef";

describe("ConsoleAuth", () => {
  it("accepts the token only, whatever the length of a guess", () => {
    const auth = new ConsoleAuth(TOKEN);
    expect(auth.checkToken(TOKEN)).toBe(true);
    for (const g of ["", TOKEN.slice(0, -1), TOKEN + "0", TOKEN.toUpperCase(), "x".repeat(10_000)]) expect(auth.checkToken(g)).toBe(false);
  });

  it("issues sessions that expire after the TTL and that another token does not accept", () => {
    let t = 1_700_000_000_000;
    const auth = new ConsoleAuth(TOKEN, () => t);
    const s = auth.issue();
    expect(s).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/);
    expect(s).not.toContain(TOKEN);
    expect(auth.verify(s)).toBe(true);
    // Another replica with the same token accepts it: nothing is kept in memory.
    expect(new ConsoleAuth(TOKEN, () => t).verify(s)).toBe(true);
    expect(new ConsoleAuth(TOKEN + "-rotated", () => t).verify(s)).toBe(false);
    t += SESSION_TTL_MS - 1;
    expect(auth.verify(s)).toBe(true);
    t += 1;
    expect(auth.verify(s)).toBe(false);
  });

  it("refuses a session whose expiry or MAC was changed", () => {
    const auth = new ConsoleAuth(TOKEN);
    const [expiry, mac] = auth.issue().split(".") as [string, string];
    expect(auth.verify(`${Number(expiry) + 60_000}.${mac}`)).toBe(false);
    expect(auth.verify(`${expiry}.${mac.slice(1)}A`)).toBe(false);
    for (const v of [undefined, "", ".", `${expiry}.`, `.${mac}`, `${expiry}.${mac}.`, `-1.${mac}`]) expect(auth.verify(v)).toBe(false);
  });

  it("binds a CSRF token to its session", () => {
    const auth = new ConsoleAuth(TOKEN);
    const a = auth.issue();
    const b = `${Number(a.split(".")[0]) + 1}.x`;
    expect(auth.checkCsrf(a, auth.csrfFor(a))).toBe(true);
    expect(auth.checkCsrf(a, auth.csrfFor(b))).toBe(false);
    expect(auth.checkCsrf(a, undefined)).toBe(false);
    expect(auth.checkCsrf(a, "")).toBe(false);
    // A CSRF token is not a session MAC, and the session's MAC is not a CSRF token.
    expect(auth.checkCsrf(a, a.split(".")[1])).toBe(false);
    expect(new ConsoleAuth("other").checkCsrf(a, auth.csrfFor(a))).toBe(false);
  });
});

describe("SigninThrottle", () => {
  it("doubles the wait per failure up to the cap, per address, and forgets after a quiet while or a success", () => {
    let t = 0;
    const th = new SigninThrottle(() => t);
    expect(th.waitFor("a")).toBe(0);
    const delays = Array.from({ length: 10 }, () => {
      const d = th.failed("a");
      t += d;
      return d;
    });
    expect(delays.slice(0, 4)).toEqual([SIGNIN_BASE_DELAY_MS, 2 * SIGNIN_BASE_DELAY_MS, 4 * SIGNIN_BASE_DELAY_MS, 8 * SIGNIN_BASE_DELAY_MS]);
    expect(Math.max(...delays)).toBe(SIGNIN_MAX_DELAY_MS);
    th.failed("a");
    expect(th.waitFor("a")).toBe(SIGNIN_MAX_DELAY_MS);
    expect(th.waitFor("b")).toBe(0);
    t += SIGNIN_FORGET_MS + 1;
    expect(th.waitFor("a")).toBe(0);
    expect(th.failed("a")).toBe(SIGNIN_BASE_DELAY_MS);
    th.succeeded("a");
    expect(th.waitFor("a")).toBe(0);
  });

  it("remembers a bounded number of addresses", () => {
    const th = new SigninThrottle(() => 0);
    for (let i = 0; i <= SIGNIN_MAX_ADDRESSES; i++) th.failed(`10.0.${Math.floor(i / 256)}.${i % 256}#${i}`);
    // The oldest went; the newest is still slowed down.
    expect(th.waitFor("10.0.0.0#0")).toBe(0);
    expect(th.waitFor(`10.0.${Math.floor(SIGNIN_MAX_ADDRESSES / 256)}.${SIGNIN_MAX_ADDRESSES % 256}#${SIGNIN_MAX_ADDRESSES}`)).toBe(SIGNIN_BASE_DELAY_MS);
  });
});

describe("cookieValue and sameOrigin", () => {
  it("finds one cookie among several", () => {
    expect(cookieValue("a=1; quo_sync_session=abc.def; b=2", "quo_sync_session")).toBe("abc.def");
    expect(cookieValue("xquo_sync_session=1", "quo_sync_session")).toBeUndefined();
    expect(cookieValue(undefined, "quo_sync_session")).toBeUndefined();
  });

  it("accepts this server's origin only", () => {
    expect(sameOrigin({ host: "127.0.0.1:9464" })).toBe(true);
    expect(sameOrigin({ host: "127.0.0.1:9464", origin: "http://127.0.0.1:9464", "sec-fetch-site": "same-origin" })).toBe(true);
    expect(sameOrigin({ host: "console.example.com", origin: "https://console.example.com", "x-forwarded-proto": "https" })).toBe(true);
    expect(sameOrigin({ host: "console.example.com", origin: "http://console.example.com", "x-forwarded-proto": "https" })).toBe(false);
    expect(sameOrigin({ host: "127.0.0.1:9464", origin: "http://127.0.0.1:9465" })).toBe(false);
    expect(sameOrigin({ host: "127.0.0.1:9464", origin: "null" })).toBe(false);
    // What Chromium sends for a form of a no-referrer page to its own origin.
    expect(sameOrigin({ host: "127.0.0.1:9464", origin: "null", "sec-fetch-site": "same-origin" })).toBe(true);
    expect(sameOrigin({ host: "127.0.0.1:9464", origin: "null", "sec-fetch-site": "cross-site" })).toBe(false);
    expect(sameOrigin({ host: "127.0.0.1:9464", origin: "http://evil.example", "sec-fetch-site": "same-origin" })).toBe(false);
    expect(sameOrigin({ origin: "http://127.0.0.1:9464" })).toBe(false);
    expect(sameOrigin({ host: "127.0.0.1:9464", "sec-fetch-site": "same-site" })).toBe(false);
    expect(sameOrigin({ host: "127.0.0.1:9464", "sec-fetch-site": "none" })).toBe(false);
  });
});

describe("html", () => {
  it("escapes every interpolated value unless it is markup made by html", () => {
    const name = `<img src=x onerror="alert('1')">&`;
    expect(html`<p title="${name}">${name}</p>`.text).toBe(`<p title="&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;">&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;</p>`);
    expect(html`<ul>${["<a>", html`<li>${"<b>"}</li>`]}</ul>`.text).toBe("<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>");
    expect(html`${null}${undefined}${false}${0}${unsafeRaw("<br>")}`.text).toBe("0<br>");
    expect(escapeText(`"'<>&`)).toBe("&quot;&#39;&lt;&gt;&amp;");
  });
});
