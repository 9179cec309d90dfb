/**
 * The numbers the Quo client lives by, each with the document that sets it. Everything that is a
 * vendor limit cites docs/quo-api.md, which links Quo's own reference pages.
 */

/**
 * Quo allows 10 requests per second per API key, shared by every process using the key
 * (docs/quo-api.md, "Connecting": rate limit; https://www.quo.com/docs/mdx/api-reference/rate-limits).
 */
export const QUO_REQUESTS_PER_SECOND = 10;

/** The throttle's margin for Quo (see src/net/throttle.ts for why 10 ms). */
export { DEFAULT_THROTTLE_MARGIN_MS as THROTTLE_MARGIN_MS } from "../net/throttle.js";

/** `GET /v1/contacts` takes `maxResults` 1–50 (docs/quo-api.md, "Reading contacts"). */
export const QUO_MAX_PAGE_SIZE = 50;

/**
 * External ids asked for in one `GET /v1/contacts?externalIds=…`. Quo documents no count limit
 * for the filter; 50 matches the page size (so a chunk normally fits one page) and keeps the query
 * string well under common 8 KB URL limits even at the 75-character maximum (50 × ~90 bytes).
 */
export const QUO_EXTERNAL_IDS_PER_QUERY = 50;

/** `externalId` is 1–75 characters (docs/quo-api.md, "Creating a contact"). */
export const QUO_EXTERNAL_ID_MAX_LENGTH = 75;

/**
 * Times one request is retried after a retryable failure (429 always; 5xx and network errors when
 * the request is safe to replay). 4xx other than 429 are never retried (docs/quo-api.md, "Connecting").
 */
export const QUO_DEFAULT_MAX_RETRIES = 5;

/** First retry waits up to this long; each further retry doubles it (full jitter). */
export const QUO_RETRY_BASE_DELAY_MS = 300;

/** Cap of one backoff delay, so five retries stay within about half a minute in the worst case. */
export const QUO_RETRY_MAX_DELAY_MS = 10_000;

/**
 * Longest `Retry-After` honoured. Quo documents no such header (docs/quo-api.md, "Connecting"); if a
 * proxy sends one it is obeyed up to this bound, so a bogus value cannot stall a run for hours.
 */
export const QUO_RETRY_AFTER_MAX_MS = 60_000;

/** Per-attempt timeout of one HTTP request. */
export const QUO_DEFAULT_TIMEOUT_MS = 30_000;

/**
 * After a 429 the throttle pauses every start for this long and lowers its rate for a few seconds
 * (`Throttle.slowDown`). A 429 means the key's second is used up ("429 until the next second",
 * docs/quo-api.md, "Connecting"), most likely by another process sharing the key: the pause lets the current second
 * pass, the lower rate stops the processes from colliding again at once.
 */
export const QUO_RATE_LIMIT_PENALTY_MS = 250;

/**
 * Chunks of `findByExternalIds` fetched at once: enough requests in flight to use the whole rate
 * limit at up to 500 ms of latency (10/s × 0.5 s), few enough that a failure stops the rest quickly.
 */
export const QUO_FIND_CONCURRENCY = 5;
