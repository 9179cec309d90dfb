/**
 * Sending one alert on one channel: a webhook's JSON POST, a Slack incoming-webhook message, or a
 * mail through SMTP (nodemailer). Each attempt has a timeout; network errors, timeouts, 5xx and 429
 * answers (a mail server's 4xx) are retried a few times with exponential backoff, other answers are
 * final. Never throws: the result says sent or failed, with a reason that holds no URL, key or
 * password (the channel's address is the secret: a webhook URL's path is its token).
 */
import nodemailer from "nodemailer";
import type { AlertChannelConfig } from "../config.js";
import { redactSecrets } from "../net/redact.js";
import { alertLines, alertSubject, slackMessage, type AlertPayload } from "./alert-payload.js";

/** One attempt's limit: a receiver that answers at all answers well within it. */
export const ALERT_ATTEMPT_TIMEOUT_MS = 10_000;
/** Attempts per delivery: the first and two retries, so a delivery ends within about 35 s. */
export const ALERT_ATTEMPTS = 3;
/** The first retry's wait; each next one waits twice as long. */
export const ALERT_BACKOFF_MS = 1000;

/** What a delivery came to; `reason` (when failed) never holds the channel's address. */
export interface DeliveryResult {
  ok: boolean;
  attempts: number;
  reason?: string;
}

/** Timings of a delivery (the constants above by default; shorter in tests of the timeout itself). */
export interface DeliveryTimings {
  attemptTimeoutMs?: number;
  attempts?: number;
  backoffMs?: number;
  /** Aborting abandons the delivery at once (the process is exiting): no further attempt or wait. */
  signal?: AbortSignal;
}

/** The channel's name in logs, metrics and `check --alert-test`: its type and its variable, never its address. */
export function channelLabel(channel: AlertChannelConfig): string {
  return `${channel.type} (${channel.type === "email" ? channel.smtpUrlEnv : channel.urlEnv})`;
}

/** The environment variable holding a channel's address. */
export function channelVariable(channel: AlertChannelConfig): string {
  return channel.type === "email" ? channel.smtpUrlEnv : channel.urlEnv;
}

/** One attempt's outcome: `retry` says whether another attempt may succeed. */
interface Attempt {
  ok: boolean;
  retry: boolean;
  reason?: string;
}

/**
 * Sends `payload` on `channel`, whose address is `address` (the value of its variable). Never
 * throws; the reason of a failure is scrubbed of the address and its parts.
 */
export async function sendAlert(channel: AlertChannelConfig, address: string, payload: AlertPayload, timings: DeliveryTimings = {}): Promise<DeliveryResult> {
  const timeoutMs = timings.attemptTimeoutMs ?? ALERT_ATTEMPT_TIMEOUT_MS;
  const attempts = timings.attempts ?? ALERT_ATTEMPTS;
  const backoffMs = timings.backoffMs ?? ALERT_BACKOFF_MS;
  const secrets = addressSecrets(address);
  const abandon = timings.signal ?? new AbortController().signal;
  let last: Attempt = { ok: false, retry: false, reason: "not sent" };
  for (let n = 1; n <= attempts; n++) {
    try {
      last = channel.type === "email" ? await sendMail(channel, address, payload, timeoutMs, abandon) : await post(address, channel.type === "slack" ? slackMessage(payload) : payload, timeoutMs, abandon);
    } catch (e) {
      last = { ok: false, retry: true, reason: e instanceof Error ? e.message : String(e) };
    }
    if (last.ok) return { ok: true, attempts: n };
    if (abandon.aborted) return { ok: false, attempts: n, reason: ABANDONED };
    if (!last.retry || n === attempts) return { ok: false, attempts: n, reason: redactSecrets(last.reason ?? "failed", secrets) };
    await sleep(backoffMs * 2 ** (n - 1), abandon);
    if (abandon.aborted) return { ok: false, attempts: n, reason: ABANDONED };
  }
  return { ok: false, attempts, reason: redactSecrets(last.reason ?? "failed", secrets) };
}

/** The reason of a delivery abandoned because the process is exiting. */
const ABANDONED = "abandoned: the process was exiting";

/** Waits `ms`, or less when `signal` aborts. Never rejects. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * The parts of a channel's address that must never be shown: the whole of it, its password and
 * user, and its path and query (a webhook's token). Never throws.
 */
export function addressSecrets(address: string): string[] {
  const out = [address];
  try {
    const u = new URL(address);
    for (const part of [u.password, decodeURIComponent(u.password), u.username, decodeURIComponent(u.username), u.search]) if (part.length >= 4) out.push(part);
    if (u.pathname.length > 1) {
      out.push(u.pathname);
      for (const seg of u.pathname.split("/")) if (seg.length >= 8) out.push(seg);
    }
  } catch {
    // Not a URL: the whole value is all there is to hide.
  }
  return [...new Set(out)].sort((a, b) => b.length - a.length);
}

/** One POST of JSON; the answer's body is drained and never kept (it may echo the request). */
async function post(url: string, body: unknown, timeoutMs: number, abandon: AbortSignal): Promise<Attempt> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "quo-sync" },
      body: JSON.stringify(body),
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), abandon]),
      redirect: "error",
    });
  } catch (e) {
    return { ok: false, retry: true, reason: networkReason(e, timeoutMs) };
  }
  await response.body?.cancel().catch(() => {});
  if (response.ok) return { ok: true, retry: false };
  return { ok: false, retry: response.status >= 500 || response.status === 429, reason: `the receiver answered HTTP ${response.status}` };
}

/** Why a request got no answer, without the URL fetch puts in some messages. */
function networkReason(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return `no answer within ${timeoutMs / 1000} s`;
  const cause = e instanceof Error ? (e.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  return `could not reach the receiver${code ? ` (${code})` : ""}`;
}

/** One mail: plain text, through the SMTP server of the URL (credentials inside it). */
async function sendMail(channel: Extract<AlertChannelConfig, { type: "email" }>, smtpUrl: string, payload: AlertPayload, timeoutMs: number, abandon: AbortSignal): Promise<Attempt> {
  const transport = nodemailer.createTransport({ url: smtpUrl, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs });
  // Closing the transport ends its connection: the send in flight fails at once.
  const close = () => transport.close();
  abandon.addEventListener("abort", close, { once: true });
  try {
    await transport.sendMail({ from: channel.from, to: channel.to, subject: alertSubject(payload), text: alertLines(payload).join("\n") + "\n" });
    return { ok: true, retry: false };
  } catch (e) {
    const err = e as { responseCode?: unknown; code?: unknown; message?: unknown };
    const code = typeof err.responseCode === "number" ? err.responseCode : undefined;
    // A 5xx reply (bad address, refused login) will not change on a retry; a 4xx or no reply may.
    const retry = code === undefined ? err.code !== "EAUTH" : code < 500;
    const what = typeof err.message === "string" ? err.message : String(e);
    return { ok: false, retry, reason: `the mail server refused or could not be reached: ${what}` };
  } finally {
    abandon.removeEventListener("abort", close);
    transport.close();
  }
}
