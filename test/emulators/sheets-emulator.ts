/**
 * An in-process emulator of the Google Sheets API v4, the part quo-sync uses, for tests. It speaks
 * real HTTP/1.1 on 127.0.0.1 so the real `@googleapis/sheets` client and google-auth-library run
 * against it unchanged (pointed here with `rootUrl`).
 *
 * Routes (Sheets API v4 reference, "spreadsheets.values" and "spreadsheets"):
 *  - `GET  /v4/spreadsheets/{id}/values/{range}`: A1 ranges with quoted or bare sheet names,
 *    open-ended ranges (`A1:Z`, `A:ZZ`, `A5:Z`), a bare sheet name, or no sheet (the first one).
 *    Trailing empty cells of a row and trailing empty rows are dropped, and `values` is absent when
 *    nothing is left, as Google's ValueRange reference says ("empty trailing rows and columns will not
 *    be included", https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values).
 *    `majorDimension` ROWS only; `valueRenderOption` FORMATTED_VALUE (cells as text) or
 *    UNFORMATTED_VALUE (numeric text as numbers, TRUE/FALSE as booleans).
 *  - `POST /v4/spreadsheets/{id}/values:batchUpdate`: `valueInputOption` RAW or USER_ENTERED (both
 *    store the text as given: the emulator keeps every cell as a string), `data[].range/values`.
 *  - `GET  /v4/spreadsheets/{id}`: metadata, `sheets[].properties` (title, sheetId, index,
 *    gridProperties); the `fields` mask is accepted and not applied.
 * Errors use Google's body `{error: {code, message, status}}`.
 *
 * Authentication is what a service account's self-signed JWT access (google-auth-library with
 * `useJWTAccessWithScope`) sends: `Authorization: Bearer <RS256 JWT>` whose `iss` names a registered
 * service account, signed by that account's key, with an unexpired `exp` and a Sheets scope (or the
 * Sheets audience). A spreadsheet answers only the accounts it is shared with; a reader cannot write.
 *
 * Undocumented choices: the per-window quotas count only accepted requests, and a 429 has no
 * Retry-After header (Google's Sheets 429s carry none either).
 *
 * The HTTP server, stats, quota windows and counted faults come from `./kit/`.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { CountedFaults } from "./kit/faults.js";
import { readBodyText, sendJson } from "./kit/http.js";
import { SlidingWindowLog } from "./kit/limits.js";
import { startEmulatorServer } from "./kit/server.js";
import { StatsBook } from "./kit/stats.js";

/** The scopes that grant reading, and those that grant writing (Sheets API "Authorizing requests"). */
const READ_SCOPES = new Set([
  "https://www.googleapis.com/auth/spreadsheets.readonly",
  "https://www.googleapis.com/auth/spreadsheets",
  "https://www.googleapis.com/auth/drive.readonly",
  "https://www.googleapis.com/auth/drive",
  "https://www.googleapis.com/auth/drive.file",
]);
const WRITE_SCOPES = new Set(["https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive", "https://www.googleapis.com/auth/drive.file"]);
/** The audience of a scope-less self-signed JWT for this API. */
const SHEETS_AUDIENCE = "https://sheets.googleapis.com/";
/** Clock skew tolerated on `iat`, as Google allows a few minutes. */
const CLOCK_SKEW_S = 300;
/** A new sheet's grid, as the Sheets UI creates it. */
const DEFAULT_ROW_COUNT = 1000;
const DEFAULT_COLUMN_COUNT = 26;
/** Google's per-minute quotas are counted per minute. */
const DEFAULT_QUOTA_WINDOW_MS = 60_000;
/** Google's spelling of the JSON content type. */
const CONTENT_TYPE = "application/json; charset=UTF-8";
/** Largest column the API accepts: ZZZ, well beyond Sheets' 18,278-column limit. */
const MAX_COLUMN = 18_278;

/** The request kinds, named as the API reference names the methods. */
export type SheetsRequestKind = "values.get" | "values.batchUpdate" | "spreadsheets.get";

/** What a hook sees of a request that passed authentication, before it is handled. */
export interface SheetsRequestInfo {
  kind: SheetsRequestKind;
  spreadsheetId: string;
  /** The A1 range of a `values.get`. */
  range?: string;
  /** 1-based count of requests of this kind since the emulator started or stats were reset. */
  nth: number;
  /** The service account the bearer JWT authenticated. */
  email: string;
  /** The scopes the JWT carried. */
  scopes: string[];
}

/** Per-window limits; each counts accepted requests of its kind in a sliding window. */
export interface SheetsQuota {
  /** `values.get` and `spreadsheets.get` calls allowed per window (Google: 60 per minute per user). */
  readsPerWindow?: number;
  /** `values.batchUpdate` calls allowed per window (Google: 60 per minute per user). */
  writesPerWindow?: number;
  /** Default 60 s. */
  windowMs?: number;
}

/** A failure to answer with, for the next `count` requests of the given kinds (default all). */
export interface SheetsFault {
  status: number;
  count?: number;
  kinds?: SheetsRequestKind[];
  message?: string;
}

/** Counters since start or the last `resetStats()`; `requests` and `byStatus` count every request, `byKind` only authenticated ones. */
export interface SheetsEmulatorStats {
  requests: number;
  byKind: Record<SheetsRequestKind, number>;
  byStatus: Record<string, number>;
  /** Cells written by `values.batchUpdate`. */
  cellsWritten: number;
}

/** A generated service account: the key file's JSON and the public half the emulator checks with. */
export interface GeneratedServiceAccount {
  email: string;
  keyFile: {
    type: "service_account";
    project_id: string;
    private_key_id: string;
    private_key: string;
    client_email: string;
    client_id: string;
    token_uri: string;
  };
  publicKeyPem: string;
}

/** How to start an emulator; it always listens on a free port. */
export interface SheetsEmulatorOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
}

/** A running emulator; its methods act on the in-memory spreadsheets synchronously. */
export interface SheetsEmulator {
  /** The origin with a trailing slash, for `rootUrl` and `GOOGLE_SHEETS_API_URL`. */
  readonly url: string;
  /** Accepts JWTs from `email` signed by the private half of `publicKeyPem`. */
  addServiceAccount(email: string, publicKeyPem: string): void;
  /**
   * Creates the spreadsheet when missing and sets the sheet's cells (rows of text; shorter rows are
   * fine). Adds the sheet at the end when it does not exist; keeps the sheets' order otherwise.
   */
  setSheet(spreadsheetId: string, sheetName: string, rows: readonly (readonly string[])[]): void;
  /** The sheet's cells as stored, trailing empty cells and rows dropped; throws for an unknown sheet. */
  getSheet(spreadsheetId: string, sheetName: string): string[][];
  /** Shares the spreadsheet with a service account; `writer` may also write. */
  share(spreadsheetId: string, email: string, role?: "reader" | "writer"): void;
  /** Removes every share of the spreadsheet. */
  unshareAll(spreadsheetId: string): void;
  /** Sets (or with undefined lifts) the quotas. */
  setQuota(quota: SheetsQuota | undefined): void;
  /** Answers the next matching requests with an error (after authentication). */
  failNext(fault: SheetsFault): void;
  /** Drops the faults not yet used up. */
  clearFaults(): void;
  /**
   * Called for every authenticated request before it is handled; it may change sheets (to move rows
   * between a read and a write) and may be async. Undefined removes it.
   */
  onRequest(hook: ((req: SheetsRequestInfo) => void | Promise<void>) | undefined): void;
  stats(): SheetsEmulatorStats;
  resetStats(): void;
  close(): Promise<void>;
}

interface SheetRecord {
  title: string;
  sheetId: number;
  /** Cells by row, as strings; "" is empty. */
  cells: string[][];
  rowCount: number;
  columnCount: number;
}

interface SpreadsheetRecord {
  sheets: SheetRecord[];
  shares: Map<string, "reader" | "writer">;
}

/** A parsed A1 range. Rows and columns are 1-based; an absent end is open (to the grid's edge). */
interface A1Range {
  sheet: SheetRecord;
  startRow: number;
  startCol: number;
  endRow?: number;
  endCol?: number;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

/** Generates a service account key pair and the key file Google would hand out for it. */
export function generateServiceAccount(email = `quo-sync@test-project.iam.gserviceaccount.com`): GeneratedServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    email,
    keyFile: {
      type: "service_account",
      project_id: "test-project",
      private_key_id: randomBytes(20).toString("hex"),
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      client_email: email,
      client_id: String(100_000_000_000 + Math.floor(Math.random() * 1e9)),
      token_uri: "https://oauth2.googleapis.com/token",
    },
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** 1 → A, 27 → AA. */
function columnLetters(index: number): string {
  let s = "";
  for (let n = index; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** A → 1, AA → 27. */
function columnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

/** A sheet title as the API writes it in a range: quoted when it is not a plain word. */
function titleInRange(title: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(title) && !/^[A-Za-z]{1,3}[0-9]+$/.test(title) ? title : `'${title.replaceAll("'", "''")}'`;
}

const CELL_PART = /^([A-Za-z]{1,3})?([0-9]+)?$/;

function base64urlJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts an emulator and resolves once it listens on 127.0.0.1 (an ephemeral port). */
export async function startSheetsEmulator(opts: SheetsEmulatorOptions = {}): Promise<SheetsEmulator> {
  const accounts = new Map<string, KeyObject>();
  const spreadsheets = new Map<string, SpreadsheetRecord>();
  let nextSheetId = 0;
  let quota: Required<SheetsQuota> | undefined;
  let accepted = { read: new SlidingWindowLog(), write: new SlidingWindowLog() };
  const faults = new CountedFaults<{ status: number; kinds?: SheetsRequestKind[]; message?: string }>();
  let hook: ((req: SheetsRequestInfo) => void | Promise<void>) | undefined;
  const stats = new StatsBook<SheetsEmulatorStats>(() => ({
    requests: 0,
    byKind: { "values.get": 0, "values.batchUpdate": 0, "spreadsheets.get": 0 },
    byStatus: {},
    cellsWritten: 0,
  }));

  function spreadsheet(id: string): SpreadsheetRecord {
    const s = spreadsheets.get(id);
    if (!s) throw new HttpError(404, "NOT_FOUND", "Requested entity was not found.");
    return s;
  }

  function findSheet(s: SpreadsheetRecord, title: string): SheetRecord | undefined {
    return s.sheets.find((sh) => sh.title === title);
  }

  function parseRange(s: SpreadsheetRecord, range: string): A1Range {
    const fail = (): never => {
      throw new HttpError(400, "INVALID_ARGUMENT", `Unable to parse range: ${range}`);
    };
    let sheetName: string | undefined;
    let cells: string | undefined;
    if (range.startsWith("'")) {
      let i = 1;
      let name = "";
      for (;;) {
        if (i >= range.length) fail();
        if (range[i] === "'") {
          if (range[i + 1] === "'") {
            name += "'";
            i += 2;
            continue;
          }
          break;
        }
        name += range[i];
        i += 1;
      }
      sheetName = name;
      const rest = range.slice(i + 1);
      if (rest === "") cells = undefined;
      else if (rest.startsWith("!")) cells = rest.slice(1);
      else fail();
    } else {
      const bang = range.lastIndexOf("!");
      if (bang >= 0) {
        sheetName = range.slice(0, bang);
        cells = range.slice(bang + 1);
      } else if (findSheet(s, range)) {
        sheetName = range;
      } else {
        cells = range;
      }
    }
    const sheet = sheetName === undefined ? s.sheets[0] : findSheet(s, sheetName);
    if (!sheet) return fail();
    if (cells === undefined) return { sheet, startRow: 1, startCol: 1 };
    const [from = "", to, extra] = cells.split(":");
    if (extra !== undefined || from === "") fail();
    const a = CELL_PART.exec(from);
    const b = to === undefined ? undefined : CELL_PART.exec(to);
    if (!a || (to !== undefined && !b)) return fail();
    const startCol = a[1] ? columnIndex(a[1]) : 1;
    const startRow = a[2] ? Number(a[2]) : 1;
    if (!a[1] && !a[2]) fail();
    if (startRow < 1 || startCol > MAX_COLUMN) fail();
    if (!b) return { sheet, startRow, startCol, endRow: startRow, endCol: startCol };
    const endCol = b[1] ? columnIndex(b[1]) : undefined;
    const endRow = b[2] ? Number(b[2]) : undefined;
    if (endCol === undefined && endRow === undefined) fail();
    if ((endCol !== undefined && endCol < startCol) || (endRow !== undefined && endRow < startRow)) fail();
    return { sheet, startRow, startCol, ...(endRow !== undefined ? { endRow } : {}), ...(endCol !== undefined ? { endCol } : {}) };
  }

  function formatRange(r: A1Range, endRow: number, endCol: number): string {
    return `${titleInRange(r.sheet.title)}!${columnLetters(r.startCol)}${r.startRow}:${columnLetters(endCol)}${endRow}`;
  }

  function authenticate(req: IncomingMessage): { email: string; scopes: string[]; canWrite: boolean } {
    const header = req.headers.authorization ?? "";
    const m = /^Bearer (.+)$/.exec(header);
    if (!m) throw new HttpError(401, "UNAUTHENTICATED", "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
    const invalid = () => new HttpError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
    const parts = m[1]!.split(".");
    if (parts.length !== 3) throw invalid();
    const [h, p, sig] = parts as [string, string, string];
    const head = base64urlJson(h);
    const claims = base64urlJson(p);
    if (!head || !claims || head.alg !== "RS256") throw invalid();
    const email = typeof claims.iss === "string" ? claims.iss : "";
    const key = accounts.get(email);
    if (!key || (claims.sub !== undefined && claims.sub !== email)) throw invalid();
    if (!verify("RSA-SHA256", Buffer.from(`${h}.${p}`), key, Buffer.from(sig, "base64url"))) throw invalid();
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== "number" || claims.exp <= now) throw invalid();
    if (typeof claims.iat === "number" && claims.iat > now + CLOCK_SKEW_S) throw invalid();
    let scopes: string[];
    if (typeof claims.scope === "string") scopes = claims.scope.split(" ");
    else if (claims.aud === SHEETS_AUDIENCE) scopes = ["https://www.googleapis.com/auth/spreadsheets"];
    else throw invalid();
    if (!scopes.some((sc) => READ_SCOPES.has(sc))) throw new HttpError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.");
    return { email, scopes, canWrite: scopes.some((sc) => WRITE_SCOPES.has(sc)) };
  }

  function checkQuota(kind: "read" | "write"): void {
    if (!quota) return;
    const limit = kind === "read" ? quota.readsPerWindow : quota.writesPerWindow;
    const now = Date.now();
    const log = accepted[kind];
    log.forget(quota.windowMs, now);
    if (log.within(quota.windowMs, now) >= limit) {
      const metric = kind === "read" ? "Read requests" : "Write requests";
      throw new HttpError(429, "RESOURCE_EXHAUSTED", `Quota exceeded for quota metric '${metric}' and limit '${metric} per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:1'.`);
    }
    log.record(now);
  }

  function valuesGet(s: SpreadsheetRecord, range: string, url: URL): unknown {
    const r = parseRange(s, range);
    const render = url.searchParams.get("valueRenderOption") ?? "FORMATTED_VALUE";
    if (!["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"].includes(render)) throw new HttpError(400, "INVALID_ARGUMENT", `Invalid value at 'value_render_option' (type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), "${render}"`);
    const major = url.searchParams.get("majorDimension") ?? "ROWS";
    if (major !== "ROWS") throw new HttpError(400, "INVALID_ARGUMENT", "only majorDimension ROWS is emulated");
    const endRow = Math.min(r.endRow ?? r.sheet.rowCount, r.sheet.rowCount);
    const endCol = Math.min(r.endCol ?? r.sheet.columnCount, r.sheet.columnCount);
    const rows: (string | number | boolean)[][] = [];
    for (let row = r.startRow; row <= endRow; row++) {
      const source = r.sheet.cells[row - 1] ?? [];
      const out: string[] = source.slice(r.startCol - 1, endCol);
      while (out.length && out[out.length - 1] === "") out.pop();
      rows.push(render === "UNFORMATTED_VALUE" ? out.map(unformatted) : out);
    }
    while (rows.length && rows[rows.length - 1]!.length === 0) rows.pop();
    return { range: formatRange(r, Math.max(endRow, r.startRow), Math.max(endCol, r.startCol)), majorDimension: "ROWS", ...(rows.length ? { values: rows } : {}) };
  }

  function batchUpdate(spreadsheetId: string, s: SpreadsheetRecord, body: unknown): unknown {
    const b = (body ?? {}) as { valueInputOption?: unknown; data?: unknown };
    if (b.valueInputOption !== "RAW" && b.valueInputOption !== "USER_ENTERED") {
      throw new HttpError(400, "INVALID_ARGUMENT", "'valueInputOption' is required but not specified");
    }
    if (!Array.isArray(b.data)) throw new HttpError(400, "INVALID_ARGUMENT", "'data' is required");
    // Google validates every range before applying any, so a bad range changes nothing.
    const planned = b.data.map((d: unknown) => {
      const item = (d ?? {}) as { range?: unknown; values?: unknown; majorDimension?: unknown };
      if (typeof item.range !== "string") throw new HttpError(400, "INVALID_ARGUMENT", "data[].range is required");
      if (item.majorDimension !== undefined && item.majorDimension !== "ROWS") throw new HttpError(400, "INVALID_ARGUMENT", "only majorDimension ROWS is emulated");
      if (!Array.isArray(item.values) || !item.values.every(Array.isArray)) throw new HttpError(400, "INVALID_ARGUMENT", "data[].values must be a list of rows");
      const r = parseRange(s, item.range);
      const values = item.values as unknown[][];
      const height = values.length;
      const width = Math.max(0, ...values.map((v) => v.length));
      if ((r.endRow !== undefined && r.startRow + height - 1 > r.endRow) || (r.endCol !== undefined && r.startCol + width - 1 > r.endCol)) {
        throw new HttpError(400, "INVALID_ARGUMENT", `Requested writing within range [${item.range}], but tried writing to a cell outside it.`);
      }
      return { r, values, range: item.range };
    });
    const responses = planned.map(({ r, values }) => {
      let cells = 0;
      let width = 0;
      values.forEach((rowValues, i) => {
        const rowIndex = r.startRow - 1 + i;
        while (r.sheet.cells.length <= rowIndex) r.sheet.cells.push([]);
        const row = r.sheet.cells[rowIndex]!;
        rowValues.forEach((v, j) => {
          // A null leaves the cell as it is (ValueRange reference: "null values will be skipped").
          if (v === null || v === undefined) return;
          const col = r.startCol - 1 + j;
          while (row.length <= col) row.push("");
          row[col] = typeof v === "string" ? v : String(v);
          cells += 1;
        });
        width = Math.max(width, rowValues.length);
      });
      r.sheet.rowCount = Math.max(r.sheet.rowCount, r.sheet.cells.length);
      r.sheet.columnCount = Math.max(r.sheet.columnCount, ...r.sheet.cells.map((c) => c.length));
      stats.current.cellsWritten += cells;
      return {
        spreadsheetId,
        updatedRange: formatRange(r, r.startRow + Math.max(values.length, 1) - 1, r.startCol + Math.max(width, 1) - 1),
        updatedRows: values.length,
        updatedColumns: width,
        updatedCells: cells,
      };
    });
    return {
      spreadsheetId,
      totalUpdatedRows: responses.reduce((n, x) => n + x.updatedRows, 0),
      totalUpdatedColumns: Math.max(0, ...responses.map((x) => x.updatedColumns)),
      totalUpdatedCells: responses.reduce((n, x) => n + x.updatedCells, 0),
      totalUpdatedSheets: new Set(planned.map((p) => p.r.sheet.sheetId)).size,
      responses,
    };
  }

  function metadata(spreadsheetId: string, s: SpreadsheetRecord): unknown {
    return {
      spreadsheetId,
      properties: { title: `Spreadsheet ${spreadsheetId}` },
      sheets: s.sheets.map((sh, index) => ({
        properties: { sheetId: sh.sheetId, title: sh.title, index, sheetType: "GRID", gridProperties: { rowCount: sh.rowCount, columnCount: sh.columnCount } },
      })),
    };
  }

  async function handle(req: IncomingMessage, url: URL): Promise<unknown> {
    const path = url.pathname;
    let kind: SheetsRequestKind;
    let spreadsheetId: string;
    let range: string | undefined;
    let m: RegExpExecArray | null;
    if (req.method === "GET" && (m = /^\/v4\/spreadsheets\/([^/]+)\/values\/(.+)$/.exec(path))) {
      kind = "values.get";
      spreadsheetId = decodeURIComponent(m[1]!);
      range = decodeURIComponent(m[2]!);
    } else if (req.method === "POST" && (m = /^\/v4\/spreadsheets\/([^/]+)\/values:batchUpdate$/.exec(path))) {
      kind = "values.batchUpdate";
      spreadsheetId = decodeURIComponent(m[1]!);
    } else if (req.method === "GET" && (m = /^\/v4\/spreadsheets\/([^/:]+)$/.exec(path))) {
      kind = "spreadsheets.get";
      spreadsheetId = decodeURIComponent(m[1]!);
    } else {
      throw new HttpError(404, "NOT_FOUND", `the emulator has no route ${req.method} ${path}`);
    }
    const who = authenticate(req);
    stats.current.byKind[kind] += 1;
    const nth = stats.current.byKind[kind];
    const body = kind === "values.batchUpdate" ? await readBodyText(req) : "";
    if (hook) await hook({ kind, spreadsheetId, nth, email: who.email, scopes: who.scopes, ...(range !== undefined ? { range } : {}) });
    const fault = faults.take((f) => !f.kinds || f.kinds.includes(kind));
    if (fault) {
      throw new HttpError(fault.status, fault.status === 429 ? "RESOURCE_EXHAUSTED" : fault.status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION", fault.message ?? "Internal error encountered.");
    }
    const s = spreadsheet(spreadsheetId);
    const role = s.shares.get(who.email);
    if (!role) throw new HttpError(403, "PERMISSION_DENIED", "The caller does not have permission");
    checkQuota(kind === "values.batchUpdate" ? "write" : "read");
    switch (kind) {
      case "values.get":
        return valuesGet(s, range!, url);
      case "spreadsheets.get":
        return metadata(spreadsheetId, s);
      case "values.batchUpdate": {
        if (!who.canWrite) throw new HttpError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.");
        if (role !== "writer") throw new HttpError(403, "PERMISSION_DENIED", "The caller does not have permission");
        let parsed: unknown;
        try {
          parsed = JSON.parse(body || "{}");
        } catch {
          throw new HttpError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
        }
        return batchUpdate(spreadsheetId, s, parsed);
      }
    }
  }

  function send(res: ServerResponse, status: number, body: unknown): void {
    stats.status(status);
    sendJson(res, status, body, { contentType: CONTENT_TYPE });
  }

  const server = await startEmulatorServer({
    host: opts.host,
    handle: async (req, res, url) => {
      stats.request();
      let body: unknown;
      try {
        body = await handle(req, url);
      } catch (err) {
        if (err instanceof HttpError) send(res, err.code, { error: { code: err.code, message: err.message, status: err.status } });
        else send(res, 500, { error: { code: 500, message: err instanceof Error ? err.message : String(err), status: "INTERNAL" } });
        return;
      }
      send(res, 200, body);
    },
  });

  function ensureSpreadsheet(id: string): SpreadsheetRecord {
    let s = spreadsheets.get(id);
    if (!s) spreadsheets.set(id, (s = { sheets: [], shares: new Map() }));
    return s;
  }

  return {
    url: `${server.origin}/`,
    addServiceAccount(email, publicKeyPem) {
      accounts.set(email, createPublicKey(publicKeyPem));
    },
    setSheet(spreadsheetId, sheetName, rows) {
      const s = ensureSpreadsheet(spreadsheetId);
      let sheet = findSheet(s, sheetName);
      if (!sheet) s.sheets.push((sheet = { title: sheetName, sheetId: nextSheetId++, cells: [], rowCount: DEFAULT_ROW_COUNT, columnCount: DEFAULT_COLUMN_COUNT }));
      sheet.cells = rows.map((r) => [...r]);
      sheet.rowCount = Math.max(DEFAULT_ROW_COUNT, sheet.cells.length);
      sheet.columnCount = Math.max(DEFAULT_COLUMN_COUNT, ...sheet.cells.map((r) => r.length));
    },
    getSheet(spreadsheetId, sheetName) {
      const sheet = spreadsheets.get(spreadsheetId)?.sheets.find((sh) => sh.title === sheetName);
      if (!sheet) throw new Error(`no sheet '${sheetName}' in spreadsheet ${spreadsheetId}`);
      const rows = sheet.cells.map((r) => {
        const out = [...r];
        while (out.length && out[out.length - 1] === "") out.pop();
        return out;
      });
      while (rows.length && rows[rows.length - 1]!.length === 0) rows.pop();
      return rows;
    },
    share(spreadsheetId, email, role = "writer") {
      ensureSpreadsheet(spreadsheetId).shares.set(email, role);
    },
    unshareAll(spreadsheetId) {
      spreadsheets.get(spreadsheetId)?.shares.clear();
    },
    setQuota(q) {
      quota = q ? { readsPerWindow: q.readsPerWindow ?? Infinity, writesPerWindow: q.writesPerWindow ?? Infinity, windowMs: q.windowMs ?? DEFAULT_QUOTA_WINDOW_MS } : undefined;
      accepted = { read: new SlidingWindowLog(), write: new SlidingWindowLog() };
    },
    failNext(fault) {
      faults.add({ status: fault.status, ...(fault.kinds ? { kinds: [...fault.kinds] } : {}), ...(fault.message ? { message: fault.message } : {}) }, fault.count ?? 1);
    },
    clearFaults() {
      faults.clear();
    },
    onRequest(h) {
      hook = h;
    },
    stats() {
      return stats.snapshot();
    },
    resetStats() {
      stats.reset();
    },
    close: () => server.close(),
  };
}

function unformatted(cell: string): string | number | boolean {
  if (cell === "TRUE") return true;
  if (cell === "FALSE") return false;
  return /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(cell) ? Number(cell) : cell;
}
