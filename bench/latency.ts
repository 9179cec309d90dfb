/**
 * Latency from a source change to Quo, per trigger: the real daemon (`dist/src/cli.js daemon --http
 * 127.0.0.1:0`, one process per trigger) against the Quo and HubSpot emulators on 127.0.0.1, each
 * change timed from the instant the source changed to the instant the write carrying it was applied
 * at the Quo emulator (its `onWrite` listener; both clocks are this process's `performance.now()`).
 *
 *  - webhook: a HubSpot contact edited in the emulator, then a signed v3 delivery posted to
 *    `/webhooks/hubspot` at once, as HubSpot does; one change at a time, 0.5–1 s after the last write;
 *  - watch: a CSV with `source.watch: true` rewritten (temp file + rename) with one row changed; one
 *    change at a time, 1–2 s after the last write;
 *  - schedule: `* * * * *`, real minute ticks; changes to different rows at random instants over
 *    three minutes, each file rewritten whole, each change timed to its own write.
 *
 * The schedule case runs beside the other two (its daemon is a separate process) so the whole case
 * takes about 4½ minutes. `quick` makes 10 changes per trigger over one minute instead of 50 over three.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { externalIdFor } from "../src/plan/patch.js";
import { openStore } from "../src/state/store.js";
import { startHubspotEmulator, type HubspotEmulator } from "../test/emulators/hubspot-emulator.js";
import { mulberry32, startQuoEmulator, type QuoEmulator } from "../test/emulators/quo-emulator.js";
import { latencySummary, pairWrites, type ObservedWrite, type SourceChange } from "./pair-writes.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, "..", "src", "cli.js");
const HUBSPOT_TOKEN = "pat-na1-latency-bench";
const HUBSPOT_SECRET = "latency-bench-client-secret";
/** The public URL HubSpot signs; the daemon learns it from QUO_SYNC_PUBLIC_URL. */
const PUBLIC_URL = "https://sync.example.com";
/** A schedule that never comes due during the bench: the webhook and watch daemons run only when triggered (and once at start). */
const NEVER = "0 0 1 1 *";
/** Changes per trigger: the figures the README gives are from the full count. */
const CHANGES = 50;
const QUICK_CHANGES = 10;
/** How long the schedule case spreads its changes over: three ticks' worth (one with `quick`). */
const SCHEDULE_SPREAD_MS = 180_000;
const QUICK_SCHEDULE_SPREAD_MS = 60_000;
/** How long one change may take to reach Quo before the bench gives up on it (a tick is a minute). */
const WRITE_TIMEOUT_MS = 90_000;
/** How long a daemon may take to start and make its first run's creates. */
const START_TIMEOUT_MS = 60_000;
/** Pause after a write before the next change, webhook and watch: [min, min + spread) ms, so changes are seconds apart. */
const WEBHOOK_PAUSE = { min: 500, spread: 500 };
const WATCH_PAUSE = { min: 1_000, spread: 1_000 };
const HEADER = ["id", "First Name", "Last Name", "Phone"];
const FIELDS = { firstName: "First Name", lastName: "Last Name", phoneNumbers: { mobile: "Phone" } };

/** One trigger's figures. */
export interface TriggerLatency {
  trigger: "webhook" | "watch" | "schedule";
  changes: number;
  medianMs: number;
  p90Ms: number;
  worstMs: number;
  /** The quickest change. */
  bestMs: number;
  /** The runs the daemon made with this trigger while the changes were made, as its state records them, and their median length. */
  runs: number;
  medianRunMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The daemons running now, killed if the bench itself is interrupted (they would outlive it otherwise). */
const running = new Set<ChildProcess>();

interface DaemonProc {
  child: ChildProcess;
  exit: Promise<number | null>;
  base: Promise<string>;
  stderr: () => string;
}

/** Starts `quo-sync daemon --run-now --http 127.0.0.1:0` in `dir`; `base` resolves with its HTTP origin. */
function startDaemon(dir: string, env: NodeJS.ProcessEnv): DaemonProc {
  const child = spawn(process.execPath, [CLI, "daemon", "--config", path.join(dir, "quo-sync.config.json"), "--run-now", "--http", "127.0.0.1:0"], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let partial = "";
  let tail = "";
  let resolveBase!: (b: string) => void;
  const base = new Promise<string>((r) => (resolveBase = r));
  child.stderr!.on("data", (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) {
      try {
        const o = JSON.parse(l) as { http?: unknown };
        if (typeof o.http === "string") resolveBase(`http://${o.http}`);
      } catch {
        // not a log line of ours; kept in the tail for an error message
      }
    }
  });
  running.add(child);
  const exit = new Promise<number | null>((r) =>
    child.on("close", (code) => {
      running.delete(child);
      r(code);
    }),
  );
  return { child, exit, base, stderr: () => tail };
}

async function stopDaemon(d: DaemonProc): Promise<void> {
  if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill("SIGTERM");
  await d.exit;
}

/** Polls `probe` every 5 ms (the figures are in tens of ms and up) until it is truthy; throws `what` after `ms`. */
async function until(probe: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`latency bench: timed out after ${ms} ms waiting for ${what()}`);
    await sleep(5);
  }
}

/** Writes the CSV as exports do: a temp file, then a rename over the old one. */
function replaceCsv(file: string, rows: readonly string[][]): void {
  writeFileSync(`${file}.tmp`, [HEADER, ...rows].map((r) => r.join(",")).join("\n") + "\n");
  renameSync(`${file}.tmp`, file);
}

function csvRow(i: number, lastName: string, area: number): string[] {
  return [`K${i}`, `First${i}`, lastName, `(${area}) 555-${String(1000 + i)}`];
}

/** Every write the Quo emulator applies, with the contact's externalId and last name. */
function recordWrites(quo: QuoEmulator): ObservedWrite[] {
  const writes: ObservedWrite[] = [];
  quo.onWrite((w) => writes.push({ at: w.at, externalId: w.contact.externalId, value: w.contact.defaultFields.lastName }));
  return writes;
}

/** Waits for the write carrying `change`; returns nothing, the pairing is done at the end from all writes. */
async function awaitWrite(writes: readonly ObservedWrite[], change: SourceChange, what: () => string): Promise<void> {
  await until(() => writes.some((w) => w.at >= change.at && w.externalId === change.externalId && w.value === change.value), WRITE_TIMEOUT_MS, what);
}

/**
 * The figures of one case. `dir` holds the daemon's state (stopped by now), whose runs with this
 * trigger that started at or after `since` (epoch ms, when the changes began) are the case's runs.
 */
async function figures(trigger: TriggerLatency["trigger"], changes: readonly SourceChange[], writes: readonly ObservedWrite[], dir: string, since: number): Promise<TriggerLatency> {
  const { paired, missing } = pairWrites(changes, writes);
  if (missing.length) throw new Error(`latency bench (${trigger}): ${missing.length} change(s) never reached Quo: ${missing.map((m) => `${m.externalId}=${m.value}`).join(", ")}`);
  const ms = paired.map((p) => p.latencyMs);
  const store = await openStore(path.join(dir, "state.db"), { readonly: true });
  let lengths: number[];
  try {
    const runs = (await store.recentRuns({ limit: 10_000 })).filter((r) => r.trigger === trigger && r.startedAt >= since && r.endedAt !== null);
    lengths = runs.map((r) => r.endedAt! - r.startedAt);
  } finally {
    await store.close();
  }
  return { trigger, changes: changes.length, ...latencySummary(ms), bestMs: Math.min(...ms), runs: lengths.length, medianRunMs: lengths.length ? latencySummary(lengths).medianMs : NaN };
}

/** The webhook case: HubSpot contacts, edited one at a time, each followed by a signed delivery. */
async function webhookCase(quo: QuoEmulator, hubspot: HubspotEmulator, writes: ObservedWrite[], n: number, rand: () => number): Promise<TriggerLatency> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-latency-webhook-"));
  const sync = "hooked";
  const ids = hubspot.addContacts(Array.from({ length: n }, (_, i) => ({ firstname: `Hook${i}`, lastname: `Hook${i}-v0`, phone: `(646) 555-${1000 + i}` })));
  writeFileSync(
    path.join(dir, "quo-sync.config.json"),
    JSON.stringify({
      state: "state.db",
      webhooks: { hubspot: { secretEnv: "HS_SECRET" } },
      syncs: [{ name: sync, source: { type: "hubspot", incremental: { fullEvery: "24h" } }, schedule: NEVER, fields: { firstName: "firstname", lastName: "lastname", phoneNumbers: { work: "phone" } }, defaultCountry: "US" }],
    }),
  );
  const d = startDaemon(dir, { QUO_API_KEY: "latency-webhook", QUO_BASE_URL: quo.url, HUBSPOT_ACCESS_TOKEN: HUBSPOT_TOKEN, HUBSPOT_API_URL: hubspot.url, HS_SECRET: HUBSPOT_SECRET, QUO_SYNC_PUBLIC_URL: PUBLIC_URL });
  try {
    const base = await d.base;
    await until(() => ids.every((id) => writes.some((w) => w.externalId === externalIdFor(sync, id))), START_TIMEOUT_MS, () => `the webhook daemon's first run; its log:\n${d.stderr()}`);
    const changes: SourceChange[] = [];
    const since = Date.now();
    let eventId = 1;
    for (let i = 0; i < n; i++) {
      await sleep(WEBHOOK_PAUSE.min + rand() * WEBHOOK_PAUSE.spread);
      const id = ids[i]!;
      const value = `Hook${i}-v1`;
      hubspot.update(id, { lastname: value });
      const change = { externalId: externalIdFor(sync, id), value, at: performance.now() };
      changes.push(change);
      const body = JSON.stringify([{ eventId: eventId++, subscriptionId: 1, portalId: 1, appId: 1, occurredAt: Date.now(), subscriptionType: "contact.propertyChange", propertyName: "lastname", propertyValue: value, attemptNumber: 0, objectId: Number(id), changeSource: "CRM" }]);
      const ts = String(Date.now());
      const sig = createHmac("sha256", HUBSPOT_SECRET).update(`POST${PUBLIC_URL}/webhooks/hubspot`).update(body).update(ts).digest("base64");
      const res = await fetch(`${base}/webhooks/hubspot`, { method: "POST", headers: { "content-type": "application/json", "x-hubspot-signature-v3": sig, "x-hubspot-request-timestamp": ts }, body });
      if (res.status !== 200) throw new Error(`latency bench: the HubSpot delivery was answered ${res.status}`);
      await awaitWrite(writes, change, () => `the write of ${change.externalId}=${value}; the daemon's log:\n${d.stderr()}`);
    }
    await stopDaemon(d);
    return await figures("webhook", changes, writes, dir, since);
  } finally {
    await stopDaemon(d);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The watch case: a watched CSV replaced by rename with one row changed, one change at a time. */
async function watchCase(quo: QuoEmulator, writes: ObservedWrite[], n: number, rand: () => number): Promise<TriggerLatency> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-latency-watch-"));
  const sync = "watched";
  const file = path.join(dir, "watched.csv");
  const rows = Array.from({ length: n }, (_, i) => csvRow(i, `Watch${i}-v0`, 212));
  replaceCsv(file, rows);
  writeFileSync(
    path.join(dir, "quo-sync.config.json"),
    JSON.stringify({ state: "state.db", syncs: [{ name: sync, source: { type: "csv", path: "watched.csv", watch: true }, key: "id", schedule: NEVER, fields: FIELDS, defaultCountry: "US" }] }),
  );
  const d = startDaemon(dir, { QUO_API_KEY: "latency-watch", QUO_BASE_URL: quo.url });
  try {
    await d.base;
    await until(() => rows.every((r) => writes.some((w) => w.externalId === externalIdFor(sync, r[0]!))), START_TIMEOUT_MS, () => `the watch daemon's first run; its log:\n${d.stderr()}`);
    const changes: SourceChange[] = [];
    const since = Date.now();
    for (let i = 0; i < n; i++) {
      await sleep(WATCH_PAUSE.min + rand() * WATCH_PAUSE.spread);
      const value = `Watch${i}-v1`;
      rows[i]![2] = value;
      replaceCsv(file, rows);
      const change = { externalId: externalIdFor(sync, rows[i]![0]!), value, at: performance.now() };
      changes.push(change);
      await awaitWrite(writes, change, () => `the write of ${change.externalId}=${value}; the daemon's log:\n${d.stderr()}`);
    }
    await stopDaemon(d);
    return await figures("watch", changes, writes, dir, since);
  } finally {
    await stopDaemon(d);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The schedule case: `* * * * *`; changes to different rows at random instants over `spreadMs`. */
async function scheduleCase(quo: QuoEmulator, writes: ObservedWrite[], n: number, spreadMs: number, rand: () => number): Promise<TriggerLatency> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-latency-schedule-"));
  const sync = "ticked";
  const file = path.join(dir, "ticked.csv");
  const rows = Array.from({ length: n }, (_, i) => csvRow(i, `Tick${i}-v0`, 312));
  replaceCsv(file, rows);
  writeFileSync(
    path.join(dir, "quo-sync.config.json"),
    JSON.stringify({ state: "state.db", syncs: [{ name: sync, source: { type: "csv", path: "ticked.csv" }, key: "id", schedule: "* * * * *", fields: FIELDS, defaultCountry: "US" }] }),
  );
  const d = startDaemon(dir, { QUO_API_KEY: "latency-schedule", QUO_BASE_URL: quo.url });
  try {
    await d.base;
    await until(() => rows.every((r) => writes.some((w) => w.externalId === externalIdFor(sync, r[0]!))), START_TIMEOUT_MS, () => `the schedule daemon's first run; its log:\n${d.stderr()}`);
    // Random instants over the spread, each to a row of its own (in random order), so no change overwrites another.
    const start = performance.now();
    const since = Date.now();
    const instants = Array.from({ length: n }, () => rand() * spreadMs).sort((a, b) => a - b);
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const changes: SourceChange[] = [];
    for (let k = 0; k < n; k++) {
      const wait = start + instants[k]! - performance.now();
      if (wait > 0) await sleep(wait);
      const i = order[k]!;
      const value = `Tick${i}-v1`;
      rows[i]![2] = value;
      replaceCsv(file, rows);
      changes.push({ externalId: externalIdFor(sync, rows[i]![0]!), value, at: performance.now() });
    }
    for (const change of changes) await awaitWrite(writes, change, () => `the write of ${change.externalId}=${change.value}; the daemon's log:\n${d.stderr()}`);
    await stopDaemon(d);
    return await figures("schedule", changes, writes, dir, since);
  } finally {
    await stopDaemon(d);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the three cases (schedule beside webhook-then-watch) against one Quo emulator, each daemon
 * with a key of its own at Quo's 10 requests/s, and returns their figures in the order webhook,
 * watch, schedule. Throws when a change never reaches Quo.
 */
export async function latencyBench(opts: { quick?: boolean } = {}): Promise<TriggerLatency[]> {
  const n = opts.quick ? QUICK_CHANGES : CHANGES;
  const spread = opts.quick ? QUICK_SCHEDULE_SPREAD_MS : SCHEDULE_SPREAD_MS;
  const quo = await startQuoEmulator({ apiKeys: ["latency-webhook", "latency-watch", "latency-schedule"] });
  const hubspot = await startHubspotEmulator({ tokens: [HUBSPOT_TOKEN] });
  const writes = recordWrites(quo);
  const interrupted = (signal: NodeJS.Signals): void => {
    for (const child of running) child.kill("SIGKILL");
    process.kill(process.pid, signal);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    const [scheduled, triggered] = await Promise.all([
      scheduleCase(quo, writes, n, spread, mulberry32(3)),
      (async () => [await webhookCase(quo, hubspot, writes, n, mulberry32(1)), await watchCase(quo, writes, n, mulberry32(2))])(),
    ]);
    return [...triggered, scheduled];
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    quo.onWrite(undefined);
    await quo.close();
    await hubspot.close();
  }
}
