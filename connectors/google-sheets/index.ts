/**
 * The Google Sheets source connector, and the write-back of each record's Quo id and status.
 * docs/google-sheets.md is the user's side of it.
 *
 * The whole range is read with one `values.get`: the API has no paging for values, a sheet of
 * contacts is far below its response limit, and only one read is a snapshot. Reading in pieces
 * would let a row inserted mid-read shift the others, so one would be read twice and another
 * missed, and a missed row is a delete in mirror mode. Failures become a `SourceError` saying what to do
 * (share the sheet, fix the id, the sheet name), so a failed read stops the run before anything
 * is planned, and so before anything could be deleted in Quo.
 */
import type { GoogleSheetsSourceConfig } from "../../src/config.js";
import { ConfigError, SourceError } from "../../src/errors.js";
import type { CheckResult, ConnectorContext, SourceConnector, SourceItem, WriteBackEntry, WriteBackResult, WriteBackTarget } from "../types.js";
import { parseA1Range, requestRange, sheetOfResponseRange, type A1Range } from "./a1-range.js";
import { loadServiceAccountKey, type ServiceAccountKey } from "./service-account.js";
import { sheetTable, type SheetLayout, type SheetTable } from "./sheet-table.js";
import { SHEETS_RETRY_POLICY, SheetsApi, SheetsCallFailed, sheetsRootUrl, type RetryPolicy } from "./sheets-api.js";
import { planWriteBack } from "./write-back-plan.js";

export { SHEETS_RETRY_POLICY, type RetryPolicy } from "./sheets-api.js";

/** The config schema's defaults, repeated for configs built in code without going through it. */
const DEFAULT_HEADER_ROW = 1;
const DEFAULT_VALUE_RENDER_OPTION = "FORMATTED_VALUE";

/**
 * Value ranges per `values.batchUpdate`. One request carries the whole write-back of any realistic
 * sheet (one batch, so the sheet changes at once); the cap keeps a huge one under Google's recommended 2 MB
 * payload ("Usage limits": "a 2-MB maximum payload is recommended").
 */
export const WRITE_BACK_MAX_RANGES_PER_REQUEST = 10_000;

/** Options of `createGoogleSheetsSource`; tests shorten the retry policy. */
export interface GoogleSheetsSourceOptions {
  retry?: RetryPolicy;
}

/** A config resolved for one session: its range, key and API. */
interface Session {
  config: GoogleSheetsSourceConfig;
  range: A1Range;
  key: ServiceAccountKey;
  rootUrl: string;
  api: SheetsApi;
  /** "spreadsheet <id> (<range>)": the start of every message, as `describeSource` names it. */
  origin: string;
}

/**
 * Checks the config and builds the API client. Throws `SourceError` for a range that is not A1
 * notation or an unusable key file, and `ConfigError` for a bad `GOOGLE_SHEETS_API_URL` or
 * write-back columns the mapping also reads.
 */
async function openSession(config: GoogleSheetsSourceConfig, ctx: ConnectorContext, write: boolean, retry: RetryPolicy): Promise<Session> {
  const origin = `spreadsheet ${config.spreadsheetId} (${config.range})`;
  const range = parseA1Range(config.range);
  if (!range) throw new SourceError(`${origin}: '${config.range}' is neither a sheet name nor an A1 range such as Sheet1!A1:Z`);
  checkWriteBackColumns(config, ctx);
  const rootUrl = sheetsRootUrl(ctx.env);
  const key = await loadServiceAccountKey(config.credentials, ctx.baseDir, ctx.env);
  const api = new SheetsApi({ spreadsheetId: config.spreadsheetId, key, rootUrl, write, retry });
  return { config, range, key, rootUrl, api, origin };
}

/**
 * Write-back columns must not be read by the mapping: writing them would change the next run's
 * source and so trigger updates forever (write-back must never trigger a change).
 */
function checkWriteBackColumns(config: GoogleSheetsSourceConfig, ctx: ConnectorContext): void {
  const wb = config.writeBack;
  if (!wb) return;
  if (wb.statusColumn !== undefined && wb.statusColumn === wb.idColumn) {
    throw new ConfigError(`source.writeBack: idColumn and statusColumn are both '${wb.idColumn}'; use two columns`);
  }
  for (const [setting, name] of [["idColumn", wb.idColumn], ["statusColumn", wb.statusColumn]] as const) {
    if (name !== undefined && ctx.wanted.includes(name)) {
      throw new ConfigError(`source.writeBack.${setting} '${name}' is also read by the sync (as the key or a mapped field); write-back needs a column of its own`);
    }
  }
}

/** Turns a failed call into the `SourceError` a user can act on. Looks up sheet names for a bad range. */
async function sourceErrorFor(failure: SheetsCallFailed, session: Session, doing: "read" | "write"): Promise<SourceError> {
  const { config, origin, key } = session;
  const id = config.spreadsheetId;
  const tries = failure.attempts > 1 ? ` after ${failure.attempts} attempts` : "";
  switch (true) {
    case failure.status === 400 && /unable to parse range/i.test(failure.detail): {
      const sheet = session.range.sheet;
      if (sheet !== undefined) {
        const titles = await session.api.sheetTitles().catch(() => undefined);
        if (titles && !titles.includes(sheet)) {
          return new SourceError(`sheet '${sheet}' not found in spreadsheet ${id}; its sheets are: ${titles.join(", ") || "(none)"}`);
        }
      }
      return new SourceError(`${origin}: the Sheets API cannot parse the range (${failure.detail}); use a sheet name or an A1 range such as Sheet1!A1:Z`);
    }
    case failure.status === 401:
      return new SourceError(`${origin}: Google did not accept the service account ${key.clientEmail} (${failure.detail}); check that its key (${key.source}) is current and not deleted`);
    case failure.status === 403 && /insufficient authentication scopes/i.test(failure.detail):
      return new SourceError(`${origin}: the service account's token lacks the Sheets scope needed to ${doing} (${failure.detail})`);
    case failure.status === 403 && /has not been used|is disabled|SERVICE_DISABLED/i.test(`${failure.detail} ${failure.reason}`):
      return new SourceError(`${origin}: enable the Google Sheets API in the service account's Google Cloud project (${failure.detail})`);
    case failure.status === 403:
      return doing === "read"
        ? new SourceError(`${origin}: permission denied; share the sheet with ${key.clientEmail} (Viewer is enough to read${config.writeBack ? "; Editor for writeBack" : ""})`)
        : new SourceError(`${origin}: permission denied writing Quo ids back; share the sheet with ${key.clientEmail} as Editor (or remove writeBack from the config)`);
    case failure.status === 404:
      return new SourceError(`spreadsheet ${id} not found; check spreadsheetId (the id in the sheet's URL, docs.google.com/spreadsheets/d/<id>/edit)`);
    case failure.status === 429:
      return new SourceError(
        `${origin}: Google Sheets quota exceeded (429 ${failure.reason})${tries}; the API allows 60 requests per minute per user and 300 per project: wait a minute and rerun, or run this sync less often`,
        true,
      );
    case failure.status >= 500:
      return new SourceError(`${origin}: the Sheets API failed (HTTP ${failure.status}: ${failure.detail})${tries}; try again later`, true);
    case failure.status === 0:
      return new SourceError(`${origin}: cannot reach the Sheets API at ${session.rootUrl} (${failure.reason})${tries}`, true);
    default:
      return new SourceError(`${origin}: the Sheets API refused the ${doing} (HTTP ${failure.status} ${failure.reason}: ${failure.detail})`);
  }
}

/** Runs a call, turning its failure into a `SourceError` whose `cause` is the Sheets API's answer (no secret in it). */
async function guarded<T>(session: Session, doing: "read" | "write", call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof SheetsCallFailed)) throw err;
    const e = await sourceErrorFor(err, session, doing);
    throw new SourceError(e.message, { transient: e.transient, cause: err });
  }
}

/** The configured range's values and where they sit. Throws `SourceError`. */
async function readRange(session: Session, doing: "read" | "write"): Promise<{ values: unknown[][]; layout: SheetLayout; sheet: string | undefined }> {
  const { config, range } = session;
  const res = await guarded(session, doing, () => session.api.getValues(requestRange(range), config.valueRenderOption ?? DEFAULT_VALUE_RENDER_OPTION));
  const layout: SheetLayout = { origin: session.origin, firstRow: range.startRow, firstColumn: range.startColumn, headerRow: config.headerRow ?? DEFAULT_HEADER_ROW };
  return { values: res.values, layout, sheet: range.sheet ?? sheetOfResponseRange(res.range) };
}

async function readTable(config: GoogleSheetsSourceConfig, ctx: ConnectorContext, retry: RetryPolicy): Promise<SheetTable> {
  const session = await openSession(config, ctx, false, retry);
  const { values, layout } = await readRange(session, "read");
  return sheetTable(values, layout);
}

async function* readSheet(config: GoogleSheetsSourceConfig, ctx: ConnectorContext, retry: RetryPolicy): AsyncGenerator<SourceItem> {
  const table = await readTable(config, ctx, retry);
  yield { type: "header", columns: table.columns };
  for (const row of table.rows) yield { type: "row", row };
}

/**
 * Writes each entry's Quo id (and status) into the row holding its key, found by a fresh read just
 * before writing. The key column is `ctx.wanted[0]` (the run lists the key first). Returns the cells
 * written and the keys no longer in the sheet. Throws `SourceError` when the sheet cannot be read or
 * written, and `ConfigError` for write-back columns the mapping reads.
 */
async function writeBackToSheet(config: GoogleSheetsSourceConfig, ctx: ConnectorContext, entries: readonly WriteBackEntry[], retry: RetryPolicy): Promise<WriteBackResult> {
  const wb = config.writeBack;
  if (!wb) return { updated: 0, missing: [] };
  const keyColumn = ctx.wanted[0];
  if (keyColumn === undefined) throw new SourceError(`spreadsheet ${config.spreadsheetId}: write-back needs the sync's key column, and none was given`);
  const session = await openSession(config, ctx, true, retry);
  const { values, layout, sheet } = await readRange(session, "write");
  if (sheet === undefined) throw new SourceError(`${session.origin}: the Sheets API did not say which sheet the range is on; name the sheet in the range`);
  const plan = planWriteBack({
    values,
    layout,
    sheet,
    ...(session.range.endColumn !== undefined ? { endColumn: session.range.endColumn } : {}),
    keyColumn,
    idColumn: wb.idColumn,
    ...(wb.statusColumn !== undefined ? { statusColumn: wb.statusColumn } : {}),
    entries,
  });
  let updated = 0;
  for (let i = 0; i < plan.updates.length; i += WRITE_BACK_MAX_RANGES_PER_REQUEST) {
    const batch = plan.updates.slice(i, i + WRITE_BACK_MAX_RANGES_PER_REQUEST);
    updated += await guarded(session, "write", () => session.api.batchUpdate(batch));
  }
  return { updated, missing: plan.missing };
}

/**
 * Builds the connector and its write-back target. `options.retry` replaces the backoff policy
 * (`SHEETS_RETRY_POLICY`), which tests shorten.
 */
export function createGoogleSheetsSource(options: GoogleSheetsSourceOptions = {}): {
  connector: SourceConnector<GoogleSheetsSourceConfig>;
  writeBack: WriteBackTarget<GoogleSheetsSourceConfig>;
} {
  const retry = options.retry ?? SHEETS_RETRY_POLICY;
  return {
    connector: {
      type: "google-sheets",
      async check(config, ctx): Promise<CheckResult> {
        try {
          await readTable(config, ctx, retry);
          return { ok: true };
        } catch (err) {
          // `check` reports whatever went wrong, even a failure this code did not foresee.
          const message = err instanceof SourceError || err instanceof ConfigError ? err.message : `spreadsheet ${config.spreadsheetId}: ${err instanceof Error ? err.message : String(err)}`;
          return { ok: false, message };
        }
      },
      read(config, ctx) {
        return readSheet(config, ctx, retry);
      },
    },
    writeBack: {
      writeBack(config, ctx, entries) {
        return writeBackToSheet(config, ctx, entries, retry);
      },
    },
  };
}

const defaultSource = createGoogleSheetsSource();

/**
 * Reads a Google Sheet range with a service-account key (`source.credentials`, else
 * `GOOGLE_APPLICATION_CREDENTIALS`) from `GOOGLE_SHEETS_API_URL` (default Google's). `read` yields
 * the header row, then each non-blank row at its sheet row number; it throws `SourceError` for an
 * unusable key, a bad or unknown range, a header with an empty or repeated name, a sheet not shared
 * with the service account (403), an unknown spreadsheet (404), and quota (429) or server failures
 * that outlast the retries (transient). `check` reports the same without throwing.
 */
export const googleSheetsConnector: SourceConnector<GoogleSheetsSourceConfig> = defaultSource.connector;

/**
 * Writes Quo ids and statuses back into the sheet after a run (`source.writeBack`), matched by key.
 * Throws `SourceError` when the sheet cannot be re-read or written (403: share it as Editor).
 */
export const googleSheetsWriteBack: WriteBackTarget<GoogleSheetsSourceConfig> = defaultSource.writeBack;
