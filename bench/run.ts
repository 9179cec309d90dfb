/**
 * `npm run bench`: the figures quo-sync promises, measured against the project's Quo emulator on
 * 127.0.0.1. Not part of `npm test`: timings belong here, not in assertions.
 *
 *  1. writes on an unchanged rerun of 10,000 rows (goal 0) and after 1% edits (goal exactly 100
 *     PATCH, each carrying the whole contact, read first in batches: at most 2 + 100/50 reads);
 *  2. requests/s achieved against a 10/s limit at 150 ms latency over 300 creates, and 429s
 *     (goal ≥ 9.5/s, ≤ 0.5% 429s);
 *  3. plan time and peak memory for 100,000 rows (goal ≤ 2 s, ≤ 300 MB);
 *  4. `match` on a first run of 10,000 rows against 20,000 contacts: requests listing, plan time, memory;
 *     and what a link costs in a real run: one PATCH, plus its share of the reads of the copies the
 *     links are written from (the workspace listed again, or one read by id per link, whichever is fewer);
 *  5. the state store's own work per run of a sync of 10,000 contacts, SQLite and PostgreSQL side by
 *     side: an unchanged rerun, and the journal's cost per write (state-overhead.ts);
 *  6. HubSpot requests per day at one run a minute for 10,000 and 50,000 contacts, a full read every
 *     run against incremental reads, idle and with ~10 edits a minute (hubspot-requests.ts);
 *  7. latency from a source change to its write at Quo, per trigger (webhook, watch, one-minute
 *     schedule), median, p90 and worst over 50 changes each, the real daemon against the
 *     emulators (latency.ts; about 4½ minutes).
 *
 * `node dist/bench/run.js NAME…` (writes, throughput, plan, match, links, state, hubspot, latency) runs
 * only those, after `npm run build`; `--quick` makes `latency` 10 changes per trigger over one
 * minute (a check that it works, not figures to publish).
 */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadedConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { QuoClient } from "../src/quo/client.js";
import { runSync } from "../src/run.js";
import { startQuoEmulator } from "../test/emulators/quo-emulator.js";
import { benchConfig } from "./bench-config.js";
import { hubspotRequests } from "./hubspot-requests.js";
import { latencyBench } from "./latency.js";
import type { EngineFigures, StateOverhead, WriteFigures } from "./state-overhead.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const KEY = "bench-key";
const HEADER = ["id", "First Name", "Last Name", "Company", "Phone", "Work Phone", "Email"];

function row(i: number, edited = false): string[] {
  const line = String(i % 10000).padStart(4, "0");
  const exch = 200 + (Math.floor(i / 10000) % 700);
  return [`K${i}`, `First${i}`, edited ? `Last${i}-edited` : `Last${i}`, `Company ${i % 97}`, `(415) ${exch}-${line}`, i % 3 === 0 ? `212-${exch + 100}-${line}` : "", i % 2 === 0 ? `p${i}@example.com` : ""];
}

function csv(rows: string[][]): string {
  return [HEADER, ...rows].map((r) => r.join(",")).join("\n") + "\n";
}

function loaded(dir: string, csvName: string): LoadedConfig {
  const config = benchConfig(path.join(dir, "state.db"), csvName);
  return { config, file: path.join(dir, "bench.json"), baseDir: dir };
}

const logger = createLogger({ LOG_LEVEL: "error" }, { pretty: false });
const results: [string, string, string][] = [];
/** Said under the table: where the state figures were measured. */
const notes: string[] = [];

async function writesBench(): Promise<void> {
  const emulator = await startQuoEmulator({ apiKeys: [KEY], requestsPerSecond: 0 });
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-bench-"));
  try {
    const N = 10_000;
    writeFileSync(path.join(dir, "c.csv"), csv(Array.from({ length: N }, (_, i) => row(i))));
    // The initial load is not what is measured: let it run fast against the unlimited emulator.
    const client = new QuoClient({ baseUrl: emulator.url, apiKey: KEY, requestsPerSecond: 5000 });
    const deps = { loaded: loaded(dir, "c.csv"), env: {}, logger, client };
    const first = await runSync(deps, 0, { dryRun: false, allowDeletes: false });
    if (first.counts.create !== N) throw new Error(`initial load created ${first.counts.create}`);

    emulator.resetStats();
    await runSync(deps, 0, { dryRun: false, allowDeletes: false });
    const s1 = emulator.stats();
    const w1 = s1.writesApplied.create + s1.writesApplied.update + s1.writesApplied.delete;
    results.push(["writes on an unchanged rerun of 10,000 rows", String(w1), "0"]);
    results.push(["API requests on that rerun", String(s1.requests), "—"]);

    writeFileSync(path.join(dir, "c.csv"), csv(Array.from({ length: N }, (_, i) => row(i, i % 100 === 0))));
    emulator.resetStats();
    await runSync(deps, 0, { dryRun: false, allowDeletes: false });
    const s2 = emulator.stats();
    const w2 = s2.writesApplied.create + s2.writesApplied.update + s2.writesApplied.delete;
    results.push(["writes after editing 1% (100 rows)", `${w2} (${s2.writesApplied.update} PATCH)`, "exactly 100"]);
    const reads = (s2.byRoute["GET /v1/contacts"] ?? 0) + (s2.byRoute["GET /v1/contacts/:id"] ?? 0) + (s2.byRoute["GET /v1/contact-custom-fields"] ?? 0);
    results.push(["reads before those updates (whole-contact PATCH)", `${reads} (${s2.byRoute["GET /v1/contacts"] ?? 0} × GET /v1/contacts?externalIds=…)`, "≤ 2 + 100/50"]);
    results.push(["API requests in that run", String(s2.requests), "≤ 104"]);
  } finally {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function throughputBench(): Promise<void> {
  const emulator = await startQuoEmulator({ apiKeys: [KEY], requestsPerSecond: 10, latencyMs: 150 });
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-bench-"));
  try {
    writeFileSync(path.join(dir, "c.csv"), csv(Array.from({ length: 300 }, (_, i) => row(i))));
    const client = new QuoClient({ baseUrl: emulator.url, apiKey: KEY, requestsPerSecond: 10 });
    const deps = { loaded: loaded(dir, "c.csv"), env: {}, logger, client };
    const t0 = performance.now();
    const rep = await runSync(deps, 0, { dryRun: false, allowDeletes: false });
    const seconds = (performance.now() - t0) / 1000;
    const s = emulator.stats();
    const ok = s.requests - s.rateLimited;
    results.push(["creates done (of 300) at 10/s limit, 150 ms latency", String(rep.counts.create), "300"]);
    results.push(["requests/s achieved (accepted requests / wall time)", `${(ok / seconds).toFixed(2)} (${ok} in ${seconds.toFixed(1)} s)`, "≥ 9.5"]);
    results.push(["429 answers", `${s.rateLimited} (${((100 * s.rateLimited) / s.requests).toFixed(2)}%)`, "≤ 0.5%"]);
  } finally {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function planBench(): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-bench-"));
  try {
    const N = 100_000;
    const child = (mode: string) =>
      JSON.parse(execFileSync(process.execPath, [path.join(here, "plan-100k.js"), mode, dir, "big.csv", "state.db"], { encoding: "utf8" })) as {
        readMs: number; stateMs: number; planMs: number; creates: number; updates: number; filtered: number; peakRssMb: number;
      };
    writeFileSync(path.join(dir, "big.csv"), csv(Array.from({ length: N }, (_, i) => row(i))));
    const first = child("first");
    writeFileSync(path.join(dir, "big.csv"), csv(Array.from({ length: N }, (_, i) => row(i, i % 100 === 0))));
    const rerun = child("rerun");
    results.push(["plan time, rerun of 100,000 rows with 1% edited", `${rerun.planMs} ms (${rerun.updates} updates)`, "≤ 2000 ms"]);
    results.push(["  + CSV read / state load for that rerun", `${rerun.readMs} ms / ${rerun.stateMs} ms`, "—"]);
    results.push(["peak memory (RSS) of that rerun (read + state + plan)", `${rerun.peakRssMb} MB`, "≤ 300 MB"]);
    results.push(["plan time, first run of 100,000 rows (all mapped)", `${first.planMs} ms (${first.creates} creates)`, "≤ 2000 ms"]);
    results.push(["peak memory (RSS) of that first run", `${first.peakRssMb} MB`, "≤ 300 MB"]);
    const explained = child("explain");
    results.push(["plan --explain of that rerun (every row listed with its mapping)", `${explained.planMs} ms, peak ${explained.peakRssMb} MB`, "seconds"]);
    const policies = child("policies");
    results.push(["plan time, first run of 100,000 rows with where, map, default, template and blanks: keep", `${policies.planMs} ms (${policies.creates} creates, ${policies.filtered} filtered), peak ${policies.peakRssMb} MB`, "≤ 2× the plain first run"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `match` on a first run: 10,000 rows against a workspace of 20,000 contacts, 5,000 of which hold a
 * row's number (made in the app, under another label) — what listing the workspace costs.
 */
async function matchBench(): Promise<void> {
  const emulator = await startQuoEmulator({ apiKeys: [KEY], requestsPerSecond: 0 });
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-bench-"));
  try {
    const N = 10_000;
    writeFileSync(path.join(dir, "c.csv"), csv(Array.from({ length: N }, (_, i) => row(i))));
    for (let i = 0; i < 20_000; i++) {
      const line = String(i % 10000).padStart(4, "0");
      const phone = i < 5_000 ? `+1415${200 + (Math.floor(i / 10000) % 700)}${line}` : `+1646${300 + (i % 600)}${line}`;
      emulator.seedContact({ source: null, defaultFields: { firstName: `App${i}`, phoneNumbers: [{ id: "", name: "main", value: phone }] } });
    }
    // Asynchronously: the emulator answering the child runs in this process.
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(here, "match-10k.js"), dir, "c.csv", emulator.url, KEY], { encoding: "utf8" });
    const r = JSON.parse(stdout) as {
      listed: number; requests: number; listMs: number; planMs: number; creates: number; links: number; rejected: number; peakRssMb: number;
    };
    results.push(["match, first run of 10,000 rows vs 20,000 contacts: requests listing", `${r.requests} (${r.listed} contacts listed, ${r.listMs} ms)`, "= contacts / 50"]);
    results.push(["  plans (before and after the listing) / links / creates", `${r.planMs} ms / ${r.links} / ${r.creates}`, "—"]);
    results.push(["  peak memory (RSS) of that run", `${r.peakRssMb} MB`, "≤ 300 MB"]);
  } finally {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What a link costs in a real run: every link is written from Quo's copy read just before it. With
 * many links the workspace is listed again, page by page (20,000 contacts: 400 reads for 5,000
 * links); with few, each is read by id. Counted per kind of request at the emulator.
 */
async function linksBench(): Promise<void> {
  for (const { rows, matching } of [
    { rows: 10_000, matching: 5_000 },
    { rows: 20, matching: 10 },
  ]) {
    const emulator = await startQuoEmulator({ apiKeys: [KEY], requestsPerSecond: 0 });
    const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-bench-"));
    try {
      writeFileSync(path.join(dir, "c.csv"), csv(Array.from({ length: rows }, (_, i) => row(i))));
      for (let i = 0; i < 20_000; i++) {
        const line = String(i % 10000).padStart(4, "0");
        const phone = i < matching ? `+1415${200 + (Math.floor(i / 10000) % 700)}${line}` : `+1646${300 + (i % 600)}${line}`;
        emulator.seedContact({ source: null, defaultFields: { firstName: `App${i}`, phoneNumbers: [{ id: "", name: "main", value: phone }] } });
      }
      const counts = { listings: 0, lookups: 0, byId: 0 };
      emulator.onRequest((r) => {
        if (r.route === "GET /v1/contacts") counts[r.query.has("externalIds") ? "lookups" : "listings"]++;
        else if (r.route === "GET /v1/contacts/:id") counts.byId++;
      });
      const base = loaded(dir, "c.csv");
      const config = { ...base.config, syncs: base.config.syncs.map((s) => ({ ...s, match: { by: ["phone" as const], sources: [] } })) };
      const client = new QuoClient({ baseUrl: emulator.url, apiKey: KEY, requestsPerSecond: 5000 });
      const rep = await runSync({ loaded: { ...base, config }, env: {}, logger, client }, 0, { dryRun: false, allowDeletes: false });
      const s = emulator.stats();
      const pages = Math.ceil(20_000 / 50);
      const linkReads = counts.listings - pages + counts.byId;
      results.push([
        `match, real run: ${rows.toLocaleString("en-US")} rows, ${rep.counts.link.toLocaleString("en-US")} links, 20,000 contacts`,
        `${s.byRoute["PATCH /v1/contacts/:id"] ?? 0} PATCH; reads for the links ${linkReads} (${counts.listings - pages} pages listed again, ${counts.byId} by id) = ${(linkReads / Math.max(1, rep.counts.link)).toFixed(3)} per link`,
        "1 PATCH + min(1, 400/links) reads per link",
      ]);
      emulator.onRequest(undefined);
    } finally {
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * The state store's own work in a run of 10,000 contacts, measured in a child process on both
 * engines: an unchanged rerun, 100 updates and 1,000 creates journaled one at a time and with the
 * executor's concurrency (the rerun and the updates: medians of 5 runs). Quo is not involved.
 */
function stateBench(): void {
  const r = JSON.parse(execFileSync(process.execPath, [path.join(here, "state-overhead.js")], { encoding: "utf8" })) as StateOverhead;
  const pg = "error" in r.postgres ? undefined : r.postgres;
  const ms = (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;
  const perWrite = (w: WriteFigures) => `${w.msPerWrite.toFixed(2)} ms/write (${ms(w.totalMs)})`;
  const rows: [string, (e: EngineFigures) => string][] = [
    ["state*: seed 10,000 contacts (putRows; no run does this)", (e) => ms(e.seedMs)],
    ["state*: unchanged rerun of 10,000 contacts, median of 5", (e) => ms(e.rerun.totalMs)],
    ["  loadSyncRows before the plan (+ .fields of 1% read)", (e) => ms(e.rerun.loadMs)],
    ["  the rest (open, lock, run record, journal, close)", (e) => ms(e.rerun.otherMs)],
    ["state*: 100 updates journaled, one at a time, median of 5", (e) => perWrite(e.updates.sequential)],
    [`  the same, ${r.concurrency} in flight`, (e) => perWrite(e.updates.concurrent)],
    ["state*: 1,000 creates journaled, one at a time", (e) => perWrite(e.creates.sequential)],
    [`  the same, ${r.concurrency} in flight`, (e) => perWrite(e.creates.concurrent)],
    ["state*: reserveStart before each Quo request, per call", (e) => (e.reserveStartMs === undefined ? "— (not shared)" : `${e.reserveStartMs.toFixed(2)} ms`)],
  ];
  const width = Math.max(...rows.map(([, f]) => f(r.sqlite).length));
  for (const [name, f] of rows) results.push([name, `SQLite ${f(r.sqlite).padEnd(width)}  PostgreSQL ${pg ? f(pg) : "n/a"}`, "—"]);
  notes.push(
    [
      "* the state store's own work only: no Quo request is sent. Journaled: journalBegin before the write, journalCommit with its upsert after.",
      `  SQLite: ${r.sqlite.journalMode} with synchronous=${r.sqlite.synchronous}, a file ${/^(tmpfs|ramfs)\b/.test(r.sqlite.filesystem) ? "in memory" : "on the local disk"} (${r.sqlite.filesystem}).`,
      pg
        ? `  PostgreSQL ${pg.version}: the local test server on 127.0.0.1, fsync=${pg.fsync}, synchronous_commit=${pg.synchronousCommit}; not a managed database over a network, where every round trip adds its latency.`
        : `  PostgreSQL not measured: ${"error" in r.postgres ? r.postgres.error : ""}`,
    ].join("\n"),
  );
}

async function hubspotBench(): Promise<void> {
  const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
  for (const f of await hubspotRequests()) {
    const n = fmt(f.contacts);
    results.push([`HubSpot requests/day, ${n} contacts, a run a minute: full read every run`, `${fmt(f.perDay.full)} (${fmt(f.fullRun)} per run)`, "—"]);
    results.push([`  incremental (full refresh every 24h), idle`, `${fmt(f.perDay.idle)} (${f.idleRun.toFixed(1)} per run)`, "1 per idle run"]);
    results.push([`  incremental, ~10 edits a minute`, `${fmt(f.perDay.busy)} (${f.busyRun.toFixed(1)} per run)`, "—"]);
  }
}

const quick = process.argv.includes("--quick");

async function latency(): Promise<void> {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const goals = { webhook: "seconds", watch: "seconds", schedule: "≤ 1 min + a run" };
  for (const f of await latencyBench({ quick })) {
    results.push([`latency, change → Quo write, ${f.trigger === "schedule" ? "one-minute schedule" : f.trigger} (${f.changes} changes): median / p90 / worst`, `${s(f.medianMs)} / ${s(f.p90Ms)} / ${s(f.worstMs)} (best ${s(f.bestMs)}; ${f.runs} runs, median ${Math.round(f.medianRunMs)} ms each)`, goals[f.trigger]]);
  }
  if (quick) notes.push("latency measured with --quick (10 changes per trigger): not the figures to publish.");
}

// `node dist/bench/run.js state plan` runs only those; no names, all of them.
const benches: Record<string, () => void | Promise<void>> = { writes: writesBench, throughput: throughputBench, plan: planBench, match: matchBench, links: linksBench, state: stateBench, hubspot: hubspotBench, latency };
const only = process.argv.slice(2).filter((a) => a !== "--quick");
for (const name of only) if (!(name in benches)) throw new Error(`unknown benchmark '${name}': one of ${Object.keys(benches).join(", ")}`);
for (const [name, bench] of Object.entries(benches)) if (only.length === 0 || only.includes(name)) await bench();

const w = [Math.max(...results.map((r) => r[0].length)), Math.max(...results.map((r) => r[1].length))];
process.stdout.write(`\nquo-sync benchmark (node ${process.version}, ${os.cpus().length} cores)\n\n`);
for (const [name, value, goal] of results) process.stdout.write(`${name.padEnd(w[0]!)}  ${value.padEnd(w[1]!)}  goal ${goal}\n`);
for (const note of notes) process.stdout.write(`\n${note}\n`);
