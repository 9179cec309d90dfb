/**
 * Child process of the benchmark: what the state store itself costs a run of a sync of 10,000
 * contacts, on both engines — a SQLite file and a PostgreSQL database — through the store's own
 * API, with the calls `runSync` and the executor make, in their order:
 *   state-overhead     prints the timings, and where each engine ran, as one JSON line.
 *
 *  1. seed: 10,000 contacts of one sync with `putRows` (timed, but no run does it);
 *  2. an unchanged rerun, median of 5 after one warm-up: open (migrations check), run lock,
 *     closeAbandonedRuns, startRun, custom-field bindings read and saved, pendingJournal,
 *     loadSyncRows with `.fields` read on 1% of the rows (as the planner does for changed rows),
 *     finishRun, addRejections, lock release, close (a Google Sheets source that writes ids back
 *     reads the rows once more after executing; CSV and HubSpot do not);
 *  3. the same run with writes: 100 updates (1%; median of 5 runs), then 1,000 creates (one run),
 *     each write journaled as the executor does (journalBegin before it, journalCommit with its
 *     upsert after), one at a time and with WRITE_CONCURRENCY in flight in batches of LOOKUP_BATCH;
 *  4. PostgreSQL only: `reserveStart`, which a run on a shared engine calls before every Quo
 *     request (the shared request rate), per call.
 *
 * PostgreSQL is the test server of test/integration/postgres.ts (127.0.0.1, durability off); SQLite
 * is a file in the system temp folder. Quo is not involved: the writes' requests are not sent.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { LOOKUP_BATCH } from "../src/execute/executor.js";
import type { ContactFields, CreateAction, ItemIds, Rejection, Snapshot, SourceRow, SyncRow, UpdateAction } from "../src/model.js";
import { externalIdFor } from "../src/plan/patch.js";
import { plan } from "../src/plan/planner.js";
import { rateName, startSpacingMs } from "../src/quo/clients.js";
import { WRITE_CONCURRENCY } from "../src/run.js";
import { acquireLock } from "../src/state/lock.js";
import { openStore, type JournalOp } from "../src/state/store.js";
import { startPostgres, type PgServer } from "../test/integration/postgres.js";
import { benchConfig } from "./bench-config.js";

const N = 10_000;
const RERUNS = 5;
/** Request starts reserved to time `reserveStart` (PostgreSQL). */
const RESERVES = 200;
const sync = benchConfig("state.db", "c.csv").syncs[0]!;
const SYNC = sync.name;
const COLUMNS = ["id", "First Name", "Last Name", "Company", "Phone", "Work Phone", "Email"];

/** Journal figures of one run's writes: how many, and how long they took in all. */
export interface WriteFigures {
  writes: number;
  totalMs: number;
  msPerWrite: number;
}

/** One engine's figures, in milliseconds. */
export interface EngineFigures {
  seedMs: number;
  rerun: { totalMs: number; loadMs: number; otherMs: number };
  updates: { sequential: WriteFigures; concurrent: WriteFigures };
  creates: { sequential: WriteFigures; concurrent: WriteFigures };
  /** PostgreSQL: the reservation of the shared request rate made before every Quo request, per call. */
  reserveStartMs?: number;
}

/** What this process prints. */
export interface StateOverhead {
  contacts: number;
  reruns: number;
  concurrency: number;
  sqlite: EngineFigures & { synchronous: string; journalMode: string; filesystem: string };
  postgres: (EngineFigures & { version: string; fsync: string; synchronousCommit: string }) | { error: string };
}

/** A record of the bench CSV (bench/run.ts), as the CSV connector gives it; `edit` changes the last name. */
function sourceRow(i: number, edit = ""): SourceRow {
  const line = String(i % 10000).padStart(4, "0");
  const exch = 200 + (Math.floor(i / 10000) % 700);
  const cells = [`K${i}`, `First${i}`, `Last${i}${edit}`, `Company ${i % 97}`, `(415) ${exch}-${line}`, i % 3 === 0 ? `212-${exch + 100}-${line}` : "", i % 2 === 0 ? `p${i}@example.com` : ""];
  return { row: i + 2, values: Object.fromEntries(COLUMNS.map((c, k) => [c, cells[k]!])) };
}

function snapshot(from: number, to: number, edited: (i: number) => string = () => ""): Snapshot {
  const rows: SourceRow[] = [];
  for (let i = from; i < to; i++) rows.push(sourceRow(i, edited(i)));
  return { origin: "c.csv", columns: COLUMNS, rows };
}

/** The item ids Quo gives a created contact's phones and emails. */
function itemIdsFor(key: string, fields: ContactFields): ItemIds {
  return {
    phoneNumbers: Object.fromEntries(fields.phoneNumbers.map((p) => [p.name, `PN${key}${p.name}`])),
    emails: Object.fromEntries(fields.emails.map((e) => [e.name, `EM${key}${e.name}`])),
  };
}

/** The creates the planner makes for keys `from`..`to` of an empty state. */
function creates(from: number, to: number): CreateAction[] {
  return plan(snapshot(from, to), [], { sync, customFields: [], allowDeletes: false }).actions.filter((a): a is CreateAction => a.action === "create");
}

/** What a create or an update leaves in the state once Quo answered. */
function syncRowOf(a: CreateAction | UpdateAction): SyncRow {
  return a.action === "create"
    ? { key: a.key, quoId: `CT${a.key}`, hash: a.hash, fields: a.fields, itemIds: itemIdsFor(a.key, a.fields), sourceHash: a.sourceHash }
    : { key: a.key, quoId: a.quoId, hash: a.hash, fields: a.fields, itemIds: a.itemIds, sourceHash: a.sourceHash };
}

const REJECTIONS: Rejection[] = [
  { key: "K-bad-1", row: 10_002, field: "Phone", value: "555", reason: "not a valid phone number" },
  { key: "K-bad-2", row: 10_003, field: "Email", value: "someone@", reason: "not a valid email address" },
  { row: 10_004, reason: "the key column 'id' is empty" },
];

/** The writes of one run: how they are sent (one at a time, or as the executor does). */
interface WritePhase {
  actions: (CreateAction | UpdateAction)[];
  concurrency: number;
}

/** Runs `run` over `items` with at most `limit` in flight, as the executor's pool does. */
async function pool<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await run(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * The state work of one real run of the sync at `location`, with the writes of `phase` (none: an
 * unchanged rerun). Returns how long it took in all, each load of the rows, and the writes.
 */
async function stateRun(location: string, phase?: WritePhase): Promise<{ totalMs: number; loadMs: number; writesMs: number }> {
  const now = Date.now;
  const t0 = performance.now();
  const store = await openStore(location);
  const lock = await acquireLock(store, SYNC, { waitMs: 0, now });
  await store.closeAbandonedRuns(SYNC, now());
  const runId = await store.startRun(SYNC, now());
  await store.customFieldBindings(SYNC);
  await store.saveCustomFieldBindings(SYNC, [], now());
  await store.pendingJournal(SYNC);

  const l0 = performance.now();
  const rows = await store.loadSyncRows(SYNC);
  let parsed = 0;
  for (let i = 0; i < rows.length; i += 100) parsed += rows[i]!.fields.phoneNumbers.length;
  const l1 = performance.now();
  if (rows.length < N || parsed === 0) throw new Error(`loaded ${rows.length} rows`);

  let writesMs = 0;
  if (phase) {
    const write = async (a: CreateAction | UpdateAction): Promise<void> => {
      const op: JournalOp = a.action;
      const jid = await store.journalBegin({ sync: SYNC, key: a.key, op, quoId: a.action === "update" ? a.quoId : null, externalId: externalIdFor(SYNC, a.key), fields: a.fields, runId, startedAt: now() });
      await store.journalCommit(jid, SYNC, { upsert: syncRowOf(a) }, now());
    };
    const w0 = performance.now();
    if (phase.concurrency <= 1) for (const a of phase.actions) await write(a);
    else for (let i = 0; i < phase.actions.length; i += LOOKUP_BATCH) await pool(phase.actions.slice(i, i + LOOKUP_BATCH), phase.concurrency, write);
    writesMs = performance.now() - w0;
  }

  const written = (action: string) => phase?.actions.filter((a) => a.action === action).length ?? 0;
  await store.finishRun(runId, "ok", now(), { create: written("create"), update: written("update"), delete: 0, unchanged: rows.length - written("update"), rejected: REJECTIONS.length });
  await store.addRejections(runId, REJECTIONS);
  await lock.release();
  await store.close();
  return { totalMs: performance.now() - t0, loadMs: l1 - l0, writesMs };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (ms: number): number => Math.round(ms * 100) / 100;

function writeFigures(writes: number, ms: number): WriteFigures {
  return { writes, totalMs: round(ms), msPerWrite: round(ms / writes) };
}

/** Every measurement on the state at `location`, which holds nothing yet. */
async function measure(location: string): Promise<EngineFigures> {
  // Seed: the rows a first run would have left.
  const seedRows = creates(0, N).map(syncRowOf);
  const store = await openStore(location);
  const s0 = performance.now();
  await store.putRows(SYNC, seedRows, Date.now());
  const seedMs = performance.now() - s0;
  const state = await store.loadSyncRows(SYNC);
  await store.close();

  // The writes, planned as a run would plan them (untimed): 1% of the rows edited, twice over, and
  // 2 × 1,000 new ones.
  const updatesOf = (edit: string) =>
    plan(snapshot(0, N, (i) => (i % 100 === 0 ? edit : "")), state, { sync, customFields: [], allowDeletes: false }).actions.filter((a): a is UpdateAction => a.action === "update");
  const [updates1, updates2] = [updatesOf("-edited"), updatesOf("-edited again")];
  const [creates1, creates2] = [creates(N, N + 1000), creates(N + 1000, N + 2000)];
  if (updates1.length !== N / 100 || updates2.length !== N / 100) throw new Error(`planned ${updates1.length} updates`);

  await stateRun(location);
  const reruns = [];
  for (let i = 0; i < RERUNS; i++) reruns.push(await stateRun(location));
  const totalMs = median(reruns.map((r) => r.totalMs));
  const loadMs = median(reruns.map((r) => r.loadMs));

  // 100 writes are few: each way, the median of 5 runs (the two edits in turn: each run changes every row it writes).
  const updateMs = async (concurrency: number): Promise<number> => {
    const ms: number[] = [];
    for (let i = 0; i < RERUNS; i++) ms.push((await stateRun(location, { actions: i % 2 === 0 ? updates1 : updates2, concurrency })).writesMs);
    return median(ms);
  };
  const u1 = await updateMs(1);
  const u2 = await updateMs(WRITE_CONCURRENCY);
  const c1 = await stateRun(location, { actions: creates1, concurrency: 1 });
  const c2 = await stateRun(location, { actions: creates2, concurrency: WRITE_CONCURRENCY });

  // With a shared engine every request start is reserved first (one per write, one per look-up of 50).
  let reserveStartMs: number | undefined;
  const shared = await openStore(location);
  if (shared.reserveStart) {
    const [name, spacing] = [rateName("bench-key"), startSpacingMs(10)];
    const r0 = performance.now();
    for (let i = 0; i < RESERVES; i++) await shared.reserveStart(name, spacing);
    reserveStartMs = round((performance.now() - r0) / RESERVES);
  }
  await shared.close();
  return {
    seedMs: round(seedMs),
    rerun: { totalMs: round(totalMs), loadMs: round(loadMs), otherMs: round(median(reruns.map((r) => r.totalMs - r.loadMs))) },
    updates: { sequential: writeFigures(updates1.length, u1), concurrent: writeFigures(updates2.length, u2) },
    creates: { sequential: writeFigures(creates1.length, c1.writesMs), concurrent: writeFigures(creates2.length, c2.writesMs) },
    ...(reserveStartMs !== undefined ? { reserveStartMs } : {}),
  };
}

/** The filesystem holding `dir` and its device, from the mount table (Linux), or "unknown". */
function filesystemOf(dir: string): string {
  try {
    let best = { at: "", fs: "unknown" };
    for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
      const [source, at, type] = line.split(" ");
      if (source && at && type && (dir === at || dir.startsWith(at.endsWith("/") ? at : at + "/")) && at.length >= best.at.length) best = { at, fs: `${type} on ${source}` };
    }
    return best.fs;
  } catch {
    return "unknown";
  }
}

async function sqliteFigures(): Promise<StateOverhead["sqlite"]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-bench-"));
  try {
    const file = path.join(dir, "state.db");
    const figures = await measure(file);
    // Settings of the store's own connection (`synchronous` is per connection), read through its handle.
    const store = await openStore(file);
    const handle = (store as unknown as { sqlite: { pragma(p: string, o: { simple: true }): unknown } }).sqlite;
    const synchronous = ["OFF", "NORMAL", "FULL", "EXTRA"][Number(handle.pragma("synchronous", { simple: true }))] ?? "unknown";
    const journalMode = String(handle.pragma("journal_mode", { simple: true })).toUpperCase();
    await store.close();
    return { ...figures, synchronous, journalMode, filesystem: filesystemOf(dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresFigures(): Promise<StateOverhead["postgres"]> {
  let server: PgServer;
  try {
    server = await startPostgres();
  } catch (e) {
    return { error: (e as Error).message.split("\n")[0]! };
  }
  try {
    const url = await server.createDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const setting = async (name: string) => String(((await client.query(`SHOW ${name}`)).rows[0] as Record<string, unknown>)[name]);
    const [version, fsync, synchronousCommit] = [await setting("server_version"), await setting("fsync"), await setting("synchronous_commit")];
    await client.end();
    return { ...(await measure(url)), version, fsync, synchronousCommit };
  } finally {
    await server.stop();
  }
}

const sqlite = await sqliteFigures();
const postgres = await postgresFigures();
const out: StateOverhead = { contacts: N, reruns: RERUNS, concurrency: WRITE_CONCURRENCY, sqlite, postgres };
process.stdout.write(JSON.stringify(out) + "\n");
