/**
 * The Sheets API calls quo-sync makes, on Google's own client (`@googleapis/sheets`), with one retry
 * policy (docs/google-sheets.md, "Errors and retries") and failures reduced to status + Google's
 * message, so nothing of the request (its bearer token) can reach a log or an error.
 */
import { auth, sheets, type sheets_v4 } from "@googleapis/sheets";
import { checkBaseUrl } from "../../src/net/base-url.js";
import type { ServiceAccountKey } from "./service-account.js";

/** Read access is all a plain sync needs; write-back needs the full scope (Sheets API "Authorizing requests"). */
export const SHEETS_READONLY_SCOPE = "https://www.googleapis.com/auth/spreadsheets.readonly";
export const SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets";

/** A request that has not answered in this long is abandoned (and counts as a transient failure). */
export const SHEETS_REQUEST_TIMEOUT_MS = 60_000;

/**
 * Google's backoff for the Sheets API ("Usage limits", "Exponential backoff"): wait 2^n seconds plus
 * up to 1 s of random jitter, capped at a maximum backoff of 32 s. Four attempts spend about 7–10 s,
 * enough to ride out a burst; a minute-long quota is better met by rerunning later.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The first wait; the n-th retry waits baseDelayMs × 2^(n−1) plus up to baseDelayMs of jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Waits `ms`; tests replace it. */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1); tests replace it. */
  random?: () => number;
}

export const SHEETS_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 32_000 };

/** Statuses worth retrying: quota (429) and Google's transient server errors (Sheets "Troubleshoot API errors"). */
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

/** A Sheets call that failed for good: the HTTP status (0 without a response) and what Google said. */
export class SheetsCallFailed extends Error {
  override readonly name = "SheetsCallFailed";
  constructor(
    /** HTTP status; 0 when no response came (network, timeout). */
    readonly status: number,
    /** Google's `error.status` (PERMISSION_DENIED, …) or the network error's code. */
    readonly reason: string,
    /** Google's `error.message`, or a description of the network failure. */
    readonly detail: string,
    /** How many attempts were made. */
    readonly attempts: number,
  ) {
    super(`${status || reason}: ${detail}`);
  }
}

/** One value range to write. */
export interface CellUpdate {
  range: string;
  values: string[][];
}

/** The default origin of the API, as `GOOGLE_SHEETS_API_URL` documents it (docs/google-sheets.md, "Environment"). */
const DEFAULT_ROOT_URL = "https://sheets.googleapis.com/";

/**
 * `GOOGLE_SHEETS_API_URL` as the client's `rootUrl`: an origin ending in "/". Throws `ConfigError`
 * (from `checkBaseUrl`, never quoting the value) for anything but a plain http(s) origin: the client
 * keeps only the origin of its `rootUrl`, so a path would be silently dropped (docs/google-sheets.md,
 * "Environment").
 */
export function sheetsRootUrl(env: NodeJS.ProcessEnv): string {
  const raw = env.GOOGLE_SHEETS_API_URL?.trim();
  if (!raw) return DEFAULT_ROOT_URL;
  return `${checkBaseUrl(raw, { variable: "GOOGLE_SHEETS_API_URL", example: "https://sheets.googleapis.com", allowPath: false })}/`;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What a rejected gaxios call carries, read defensively: nothing else of it is used. */
function failureOf(err: unknown, attempts: number): SheetsCallFailed {
  const e = (err ?? {}) as { status?: unknown; code?: unknown; response?: { status?: unknown; data?: unknown } };
  const status = typeof e.response?.status === "number" ? e.response.status : typeof e.status === "number" ? e.status : 0;
  if (status) {
    const body = (e.response?.data ?? {}) as { error?: { message?: unknown; status?: unknown } };
    const message = typeof body.error?.message === "string" ? body.error.message : `HTTP ${status}`;
    const reason = typeof body.error?.status === "string" ? body.error.status : `HTTP_${status}`;
    return new SheetsCallFailed(status, reason, message, attempts);
  }
  const code = typeof e.code === "string" ? e.code : "NETWORK_ERROR";
  return new SheetsCallFailed(0, code, `no response (${code})`, attempts);
}

/**
 * The calls on one spreadsheet with one service account. Each method throws `SheetsCallFailed`
 * once retries are spent or for a status that is not worth retrying; nothing else.
 */
export class SheetsApi {
  readonly #api: sheets_v4.Sheets;
  readonly #spreadsheetId: string;
  readonly #retry: RetryPolicy;

  constructor(opts: { spreadsheetId: string; key: ServiceAccountKey; rootUrl: string; write: boolean; retry: RetryPolicy }) {
    const jwt = new auth.JWT({
      email: opts.key.clientEmail,
      key: opts.key.privateKey,
      ...(opts.key.privateKeyId ? { keyId: opts.key.privateKeyId } : {}),
      scopes: [opts.write ? SHEETS_SCOPE : SHEETS_READONLY_SCOPE],
    });
    // A self-signed JWT carrying the scope: no token endpoint call at all, valid against Google and
    // any emulator alike, since google-auth-library ignores the key file's token_uri
    // (docs/google-sheets.md, "Environment").
    jwt.useJWTAccessWithScope = true;
    this.#api = sheets({
      version: "v4",
      auth: jwt,
      rootUrl: opts.rootUrl,
      // gaxios retries on its own by default (googleapis-common sets `retry: true`); off, so that
      // the policy below is the only one and its attempt count is what messages report.
      retry: false,
      timeout: SHEETS_REQUEST_TIMEOUT_MS,
    });
    this.#spreadsheetId = opts.spreadsheetId;
    this.#retry = opts.retry;
  }

  /** `spreadsheets.values.get` of one range, rows major. */
  async getValues(range: string, valueRenderOption: string): Promise<{ range: string; values: unknown[][] }> {
    const res = await this.#call(() => this.#api.spreadsheets.values.get({ spreadsheetId: this.#spreadsheetId, range, valueRenderOption, majorDimension: "ROWS" }));
    return { range: res.data.range ?? range, values: (res.data.values ?? []) as unknown[][] };
  }

  /** The spreadsheet's sheet titles, in tab order (`spreadsheets.get` with `fields=sheets.properties`). */
  async sheetTitles(): Promise<string[]> {
    const res = await this.#call(() => this.#api.spreadsheets.get({ spreadsheetId: this.#spreadsheetId, fields: "sheets.properties" }));
    return (res.data.sheets ?? []).flatMap((s) => (typeof s.properties?.title === "string" ? [s.properties.title] : []));
  }

  /** `spreadsheets.values.batchUpdate` with RAW input (text stays text). Returns the cells written. */
  async batchUpdate(data: readonly CellUpdate[]): Promise<number> {
    const res = await this.#call(() =>
      this.#api.spreadsheets.values.batchUpdate({
        spreadsheetId: this.#spreadsheetId,
        requestBody: { valueInputOption: "RAW", data: data.map((d) => ({ range: d.range, majorDimension: "ROWS", values: d.values })) },
      }),
    );
    return res.data.totalUpdatedCells ?? 0;
  }

  async #call<T>(request: () => Promise<T>): Promise<T> {
    const sleep = this.#retry.sleep ?? defaultSleep;
    const random = this.#retry.random ?? Math.random;
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (err) {
        const failure = failureOf(err, attempt);
        const retryable = failure.status === 0 || RETRYABLE_STATUSES.has(failure.status);
        if (!retryable || attempt >= this.#retry.maxAttempts) throw failure;
        const delay = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1) + random() * this.#retry.baseDelayMs);
        await sleep(delay);
      }
    }
  }
}
