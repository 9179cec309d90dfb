/**
 * The console's sign-in: the token compared in constant time, stateless sessions and CSRF tokens
 * signed with keys derived from the token, and a per-address slowdown of failed sign-ins.
 *
 * Sessions keep no server state so every replica sharing a PostgreSQL state accepts a session
 * another one issued; the price is that a session cannot be revoked one by one: changing
 * `QUO_SYNC_CONSOLE_TOKEN` (and restarting) signs everyone out.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** How long a session lasts: a working day, so a person signs in about once a day. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** The session cookie's name. */
export const SESSION_COOKIE = "quo_sync_session";

/** What the session key is derived from with the token; a new version signs every session out. */
const SESSION_KEY_LABEL = "quo-sync console session v1";
/** What the CSRF key is derived from with the token: a key of its own, so a CSRF token is never a session. */
const CSRF_KEY_LABEL = "quo-sync console csrf v1";

/** The first wait after a failed sign-in from an address; each further failure doubles it. */
export const SIGNIN_BASE_DELAY_MS = 1_000;
/** The longest wait between two sign-in attempts from one address: slow enough to make guessing useless, short enough for a person who mistyped. */
export const SIGNIN_MAX_DELAY_MS = 60_000;
/** An address with no failure for this long is forgotten (its next failure starts at the base delay again). */
export const SIGNIN_FORGET_MS = 15 * 60 * 1000;
/** Addresses remembered at once; beyond it the oldest is forgotten, so a flood of addresses cannot grow memory. */
export const SIGNIN_MAX_ADDRESSES = 10_000;

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest();
const hmac = (key: Buffer, s: string) => createHmac("sha256", key).update(s, "utf8").digest();

/** Equal in constant time for equal-length inputs; different lengths are simply unequal. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Signs and checks what proves a person signed in. Holds keys derived from the token, never the token itself. */
export class ConsoleAuth {
  private readonly tokenDigest: Buffer;
  private readonly sessionKey: Buffer;
  private readonly csrfKey: Buffer;

  /** `token` is `QUO_SYNC_CONSOLE_TOKEN`; `now` is the clock sessions expire on. */
  constructor(
    token: string,
    private readonly now: () => number = Date.now,
    private readonly ttlMs: number = SESSION_TTL_MS,
  ) {
    this.tokenDigest = sha256(token);
    this.sessionKey = hmac(Buffer.from(token, "utf8"), SESSION_KEY_LABEL);
    this.csrfKey = hmac(Buffer.from(token, "utf8"), CSRF_KEY_LABEL);
  }

  /** Whether `given` is the token: compared as SHA-256 digests, in constant time whatever its length. */
  checkToken(given: string): boolean {
    return sameBytes(sha256(given), this.tokenDigest);
  }

  /** A new session's cookie value: `EXPIRY.MAC` (expiry in ms since the epoch, MAC in base64url). */
  issue(): string {
    const expiry = String(this.now() + this.ttlMs);
    return `${expiry}.${hmac(this.sessionKey, expiry).toString("base64url")}`;
  }

  /** Whether a cookie value is a session this token signed and not yet expired. */
  verify(value: string | undefined): boolean {
    if (value === undefined) return false;
    const m = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!m) return false;
    const expected = hmac(this.sessionKey, m[1]!);
    if (!sameBytes(Buffer.from(m[2]!, "base64url"), expected)) return false;
    return Number(m[1]) > this.now();
  }

  /** The CSRF token of a session: a MAC of the session value, so it is valid exactly as long as the session. */
  csrfFor(session: string): string {
    return hmac(this.csrfKey, session).toString("base64url");
  }

  /** Whether `given` is the CSRF token of `session`, compared in constant time. */
  checkCsrf(session: string, given: string | undefined): boolean {
    if (given === undefined) return false;
    return sameBytes(Buffer.from(given, "utf8"), Buffer.from(this.csrfFor(session), "utf8"));
  }
}

interface Failures {
  count: number;
  /** No attempt is looked at before this time. */
  blockedUntil: number;
  lastAt: number;
}

/**
 * Failed sign-ins per client address, in memory: after the n-th failure the address may try again
 * only after `SIGNIN_BASE_DELAY_MS * 2^(n-1)`, capped at `SIGNIN_MAX_DELAY_MS`. Attempts in that
 * window are refused without looking at the token, so a guesser cannot go faster by opening
 * connections in parallel. A success clears the address.
 */
export class SigninThrottle {
  private readonly byAddress = new Map<string, Failures>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds the address must still wait before an attempt is looked at; 0 when it may try now. */
  waitFor(address: string): number {
    const f = this.byAddress.get(address);
    if (!f) return 0;
    const t = this.now();
    if (t - f.lastAt > SIGNIN_FORGET_MS) {
      this.byAddress.delete(address);
      return 0;
    }
    return Math.max(0, f.blockedUntil - t);
  }

  /** Records a failed attempt; returns how long the address must now wait. */
  failed(address: string): number {
    const t = this.now();
    const prev = this.byAddress.get(address);
    const count = prev && t - prev.lastAt <= SIGNIN_FORGET_MS ? prev.count + 1 : 1;
    const delay = Math.min(SIGNIN_MAX_DELAY_MS, SIGNIN_BASE_DELAY_MS * 2 ** Math.min(count - 1, 30));
    // Re-inserted so the map's order is the order of last failure: the first entry is the oldest.
    this.byAddress.delete(address);
    this.byAddress.set(address, { count, blockedUntil: t + delay, lastAt: t });
    while (this.byAddress.size > SIGNIN_MAX_ADDRESSES) this.byAddress.delete(this.byAddress.keys().next().value as string);
    return delay;
  }

  /** A successful sign-in: the address starts afresh. */
  succeeded(address: string): void {
    this.byAddress.delete(address);
  }
}

/** The value of one cookie in a `Cookie` header, or undefined. Cookies are not URL-decoded: ours never need it. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
