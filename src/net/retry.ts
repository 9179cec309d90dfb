/**
 * Which failed requests are replayed, and how long to wait first, for every axios-based client.
 * Two policies cover what the clients need: `transient` (429, 5xx, network failures) for requests a
 * replay cannot duplicate, and `rate-limit-only` (429) for writes that are not idempotent: a rate
 * limiter answers 429 instead of passing the request on, so replaying one cannot write twice.
 */
import type { AxiosError } from "axios";
import { isNetworkFailure } from "./http-failure.js";

/** Which failures a request may be replayed after. */
export type RetryPolicy = "transient" | "rate-limit-only";

/** True for 429. */
export function isRateLimited(error: AxiosError): boolean {
  return error.response?.status === 429;
}

/** True for 429 and any 5xx: answers that may differ if the same request is sent later. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** True for 429, any 5xx, and a network failure (no response, for a reason a replay may fix). */
export function isTransientFailure(error: AxiosError): boolean {
  const status = error.response?.status;
  return status === undefined ? isNetworkFailure(error) : isTransientStatus(status);
}

/** The axios-retry `retryCondition` of a policy. */
export function retryConditionFor(policy: RetryPolicy): (error: AxiosError) => boolean {
  return policy === "rate-limit-only" ? isRateLimited : isTransientFailure;
}

/**
 * A `Retry-After` header in milliseconds: delay-seconds (`"1"`, `"0.3"`) or an HTTP date, capped
 * at `capMs`; 0 when absent, blank, unparseable or in the past. RFC 9110 §10.2.3,
 * https://www.rfc-editor.org/rfc/rfc9110#field.retry-after. Never throws.
 */
export function retryAfterMs(error: Pick<AxiosError, "response">, capMs: number, now: number = Date.now()): number {
  const header: unknown = error.response?.headers?.["retry-after"];
  if (typeof header !== "string" || header.trim() === "") return 0;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), capMs) : 0;
}

/**
 * The backoff ceiling of the `retryCount`-th retry (1-based): `baseMs × 2^(retryCount−1)`, capped
 * at `maxMs`. Waits are drawn below it by `fullJitterMs` or `equalJitterMs`.
 */
export function backoffCeilingMs(retryCount: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, retryCount - 1));
}

/**
 * "Full jitter": uniform in [0, ceiling). Spreads clients that failed together best; used after
 * 5xx and network failures. https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function fullJitterMs(ceilingMs: number, random: () => number = Math.random): number {
  return random() * ceilingMs;
}

/**
 * "Equal jitter": uniform in [ceiling/2, ceiling). Never retries almost at once, which matters after
 * a 429 whose budget refills only as the window moves (same source as `fullJitterMs`).
 */
export function equalJitterMs(ceilingMs: number, random: () => number = Math.random): number {
  return ceilingMs / 2 + (random() * ceilingMs) / 2;
}
