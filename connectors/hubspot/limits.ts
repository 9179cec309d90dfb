/**
 * The numbers the HubSpot connector lives by, each with the document that sets it: HubSpot's
 * usage guidelines (https://developers.hubspot.com/docs/api/usage-details) and CRM objects API
 * (https://developers.hubspot.com/docs/api/crm/understanding-the-crm), as summarised in docs/hubspot.md.
 */

/** Where the API lives unless `HUBSPOT_API_URL` says otherwise (README.md, "Environment"). */
export const HUBSPOT_DEFAULT_API_URL = "https://api.hubapi.com";

/** `GET /crm/v3/objects/contacts` returns at most 100 records per page (HubSpot CRM objects API: `limit` at most 100). */
export const HUBSPOT_MAX_PAGE_SIZE = 100;

/**
 * HubSpot counts its per-app budget over a rolling 10-second window (usage guidelines: 100
 * requests / 10 s per app on Free/Starter; the 429 policy is named `TEN_SECONDLY_ROLLING`).
 */
export const HUBSPOT_WINDOW_MS = 10_000;

/**
 * Added to the throttle's window to absorb the jitter between our start and HubSpot's arrival; on a
 * 10-second window, 100 ms costs 1 % of the budget.
 */
export const HUBSPOT_THROTTLE_MARGIN_MS = 100;

/**
 * Retries of one request after a 5xx, a network error or a `SECONDLY` / `TEN_SECONDLY_ROLLING` 429
 * (usage guidelines: those policies mean "wait and retry"). Every request is a read, so a replay is safe.
 */
export const HUBSPOT_DEFAULT_MAX_RETRIES = 6;

/** First backoff ceiling after a 5xx or a network error; each further retry doubles it. */
export const HUBSPOT_RETRY_BASE_DELAY_MS = 500;

/**
 * First wait after a rate-limit 429 without `Retry-After`, doubled per retry. A rolling 10-second
 * window frees its oldest slot within 10 s at most, so waits of 1, 2, 4, 8 and 10 s cover it.
 */
export const HUBSPOT_RATE_LIMIT_BASE_DELAY_MS = 1_000;

/** Cap of one backoff delay: one full rolling window. */
export const HUBSPOT_RETRY_MAX_DELAY_MS = 10_000;

/** Longest `Retry-After` honoured, so a bogus header cannot stall a run for hours. */
export const HUBSPOT_RETRY_AFTER_MAX_MS = 60_000;

/** Per-attempt timeout of one HTTP request. */
export const HUBSPOT_DEFAULT_TIMEOUT_MS = 30_000;

/** How many near names an unknown property's message suggests. */
export const HUBSPOT_SUGGESTIONS = 3;

/**
 * Search's page size: `limit` up to 200 (https://developers.hubspot.com/docs/api/crm/search, "Limitations").
 */
export const HUBSPOT_MAX_SEARCH_PAGE_SIZE = 200;

/**
 * Search answers at most 10,000 results per query; paging past them answers 400 (same page). The
 * incremental read starts a new query before reaching it.
 */
export const HUBSPOT_SEARCH_RESULT_CAP = 10_000;

/** Search requests allowed per second per account (same page): its own budget besides the app's. */
export const HUBSPOT_SEARCH_REQUESTS_PER_SECOND = 5;

/**
 * How far before the watermark an incremental read searches again: search lags writes by seconds,
 * not in `lastmodifieddate` order. Far above that lag; contacts read twice cost no write.
 */
export const HUBSPOT_SEARCH_OVERLAP_MS = 5 * 60_000;

/** Ids per `POST /crm/v3/objects/contacts/batch/read` (HubSpot's batch limit: more inputs → 400). */
export const HUBSPOT_MAX_BATCH_READ_INPUTS = 100;
