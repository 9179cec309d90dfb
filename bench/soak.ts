/**
 * The daemon soak: three syncs on accelerated schedules against the Quo emulator (10 requests/s,
 * as Quo), their CSV sources changing under the daemon, one source vanishing for a while, and two
 * SIGTERM stop/restarts at a third and two thirds of the time. At the end Quo must equal the
 * sources exactly with no duplicate, and the daemon's metrics (the totals each process logs as it
 * stops) must agree with `quo-sync status` and with the writes the emulator applied.
 *
 *   npm run build && node dist/bench/soak.js [--minutes N] [--rows N]
 *
 * Not part of `npm test`. Exits 1 when a check fails.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32, startQuoEmulator, type EmulatedContact, type QuoEmulator } from "../test/emulators/quo-emulator.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, "..", "src", "cli.js");
const KEY = "soak-key";
const HEADER = ["id", "First Name", "Last Name", "Phone", "Email"];
/** Default length: long enough for every kind of event, short enough to run before a commit. */
const DEFAULT_MINUTES = 2;
const DEFAULT_ROWS = 60;
/** Accelerated schedules, co-prime so the syncs' ticks drift against each other. */
const SYNCS = [
  { name: "alpha", schedule: "*/2 * * * * *" },
  { name: "beta", schedule: "*/3 * * * * *" },
  { name: "gamma", schedule: "*/5 * * * * *" },
] as const;
/** How often the sources change. */
const CHANGE_EVERY_MS = 1_500;
/** How long gamma's file is missing once, mid-soak. */
const OUTAGE_MS = 6_000;
const CONVERGE_TIMEOUT_MS = 180_000;
const EMULATOR_LATENCY_MS = 20;
/** How long a restart waits for some sync to be mid-run before stopping the daemon anyway. */
const MID_RUN_WAIT_MS = 15_000;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!(v > 0)) throw new Error(`${name}: give a positive number`);
  return v;
}

/** One source: key → [first, last, phone, email]. Phone numbers are unique across syncs by construction. */
type Source = Map<string, string[]>;

function person(syncIdx: number, n: number, version: number): string[] {
  const line = String(n % 10000).padStart(4, "0");
  return [`First${n}`, `Last${n}v${version}`, `(415) ${300 + syncIdx * 100 + (version % 90)}-${line}`, n % 2 ? `p${syncIdx}-${n}@example.com` : ""];
}

/** Writes the CSV atomically (temp file + rename), as any producer feeding a daemon must. */
function writeSource(file: string, src: Source): void {
  const lines = [HEADER.join(","), ...[...src].map(([k, v]) => [k, ...v].join(","))];
  writeFileSync(`${file}.tmp`, lines.join("\n") + "\n");
  renameSync(`${file}.tmp`, file);
}

/** Differences between Quo and a source (empty when equal): missing, extra, stale, duplicate. */
function compare(contacts: readonly EmulatedContact[], sync: string, src: Source): string[] {
  const problems: string[] = [];
  const mine = contacts.filter((c) => c.externalId?.startsWith(`${sync}:`));
  const byKey = new Map<string, EmulatedContact[]>();
  for (const c of mine) {
    const k = c.externalId!.slice(sync.length + 1);
    byKey.set(k, [...(byKey.get(k) ?? []), c]);
  }
  for (const [k, list] of byKey) {
    if (list.length > 1) problems.push(`${sync}:${k} duplicated ×${list.length}`);
    if (!src.has(k)) problems.push(`${sync}:${k} in Quo, not in the source`);
  }
  for (const [k, v] of src) {
    const c = byKey.get(k)?.[0];
    if (!c) problems.push(`${sync}:${k} missing`);
    else if (c.defaultFields.lastName !== v[1] || c.defaultFields.phoneNumbers.length !== 1 || c.defaultFields.phoneNumbers[0]!.value !== `+1${v[2]!.replace(/\D/g, "")}` || (c.defaultFields.emails[0]?.value ?? "") !== v[3]) {
      problems.push(`${sync}:${k} stale`);
    }
  }
  return problems;
}

interface DaemonProc {
  child: ChildProcess;
  exit: Promise<number | null>;
  logs: Record<string, any>[];
  base: Promise<string>;
}

function startDaemon(config: string, dir: string, emulator: QuoEmulator): DaemonProc {
  const child = spawn(process.execPath, [CLI, "daemon", "--config", config, "--http", "127.0.0.1:0"], {
    cwd: dir,
    env: { PATH: process.env.PATH, QUO_API_KEY: KEY, QUO_BASE_URL: emulator.url, LOG_LEVEL: "info" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const logs: Record<string, any>[] = [];
  let partial = "";
  let resolveBase!: (b: string) => void;
  const base = new Promise<string>((r) => (resolveBase = r));
  child.stderr!.on("data", (d: Buffer) => {
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) {
      try {
        const o = JSON.parse(l) as Record<string, any>;
        logs.push(o);
        if (typeof o.http === "string") resolveBase(`http://${o.http}`);
      } catch {
        logs.push({ msg: l });
      }
    }
  });
  const exit = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  return { child, exit, logs, base };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cli(args: string[], dir: string, emulator: QuoEmulator): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: { PATH: process.env.PATH, QUO_API_KEY: KEY, QUO_BASE_URL: emulator.url, LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  await new Promise((r) => child.on("close", r));
  return out;
}

async function main(): Promise<void> {
  const minutes = arg("--minutes", DEFAULT_MINUTES);
  const rows = arg("--rows", DEFAULT_ROWS);
  const durationMs = minutes * 60_000;
  const random = mulberry32(2024);
  const emulator = await startQuoEmulator({ apiKeys: [KEY], latencyMs: EMULATOR_LATENCY_MS });
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-soak-"));
  const config = path.join(dir, "config.json");
  const failures: string[] = [];
  try {
    const sources: Source[] = SYNCS.map((_, s) => new Map(Array.from({ length: rows }, (_, i) => [`K${i + 1}`, person(s, i + 1, 0)])));
    const nextKey = SYNCS.map(() => rows + 1);
    const files = SYNCS.map((s) => path.join(dir, `${s.name}.csv`));
    SYNCS.forEach((_, s) => writeSource(files[s]!, sources[s]!));
    writeFileSync(
      config,
      JSON.stringify({
        state: "state.db",
        quo: { requestsPerSecond: 10 },
        // The soak compares the daemon's metrics with every run it recorded: keep them all.
        retention: { runs: 1_000_000, days: 36_500 },
        syncs: SYNCS.map((s) => ({
          name: s.name,
          source: { type: "csv", path: `${s.name}.csv` },
          key: "id",
          fields: { firstName: "First Name", lastName: "Last Name", phoneNumbers: { mobile: "Phone" }, emails: { work: "Email" } },
          deletes: "mirror",
          maxDeletePercent: 50,
          schedule: s.schedule,
        })),
      }),
    );

    const started = Date.now();
    const restartsAt = [durationMs / 3, (2 * durationMs) / 3];
    const outageAt = durationMs / 2;
    const gammaFile: { state: "before" | "during" | "after" } = { state: "before" };
    let changes = 0;
    const lifetimes: DaemonProc[] = [];
    let daemon = startDaemon(config, dir, emulator);
    lifetimes.push(daemon);
    let rateLimitedScraped = 0;
    const health = async (d: DaemonProc) => (await fetch(`${await d.base}/healthz`).then((r) => r.json())) as { syncs: { name: string; running: boolean }[] };
    const stopDaemon = async (d: DaemonProc, why: string, midRun: boolean) => {
      // A restart aims at a run in progress: that is the stop that must not lose or repeat a write.
      const until = Date.now() + MID_RUN_WAIT_MS;
      while (midRun && !(await health(d)).syncs.some((s) => s.running) && Date.now() < until) await sleep(20);
      const text = await fetch(`${await d.base}/metrics`).then((r) => r.text());
      for (const m of text.matchAll(/^quo_sync_quo_rate_limited_total\{[^}]*\} (\S+)$/gm)) rateLimitedScraped += Number(m[1]);
      const busy = (await health(d)).syncs.filter((s) => s.running).map((s) => s.name);
      const t = Date.now();
      d.child.kill("SIGTERM");
      const code = await d.exit;
      process.stderr.write(`soak: ${why}: SIGTERM with ${busy.length ? busy.join(", ") : "no sync"} mid-run → exit ${code} in ${Date.now() - t} ms\n`);
      if (code !== 0) failures.push(`${why}: the daemon exited ${code}, not 0`);
    };

    while (Date.now() - started < durationMs) {
      await sleep(CHANGE_EVERY_MS);
      const elapsed = Date.now() - started;
      if (restartsAt.length && elapsed >= restartsAt[0]!) {
        restartsAt.shift();
        await stopDaemon(daemon, `restart ${2 - restartsAt.length}`, true);
        daemon = startDaemon(config, dir, emulator);
        lifetimes.push(daemon);
      }
      if (gammaFile.state === "before" && elapsed >= outageAt) {
        rmSync(files[2]!);
        gammaFile.state = "during";
        setTimeout(() => {
          writeSource(files[2]!, sources[2]!);
          gammaFile.state = "after";
        }, OUTAGE_MS);
      }
      // Change one sync's source: a few edits, an addition, sometimes a removal.
      const s = Math.floor(random() * SYNCS.length);
      if (s === 2 && gammaFile.state === "during") continue;
      const src = sources[s]!;
      const keys = [...src.keys()];
      for (let i = 0; i < 3; i++) {
        const k = keys[Math.floor(random() * keys.length)]!;
        const n = Number(k.slice(1));
        src.set(k, person(s, n, Number(src.get(k)![1]!.split("v")[1]) + 1));
      }
      const n = nextKey[s]!++;
      src.set(`K${n}`, person(s, n, 0));
      if (random() < 0.5) src.delete(keys[Math.floor(random() * keys.length)]!);
      writeSource(files[s]!, src);
      changes++;
    }
    while (gammaFile.state !== "after") await sleep(100);

    // Let the daemon catch up with the last changes, then stop it for good.
    const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
    let diff: string[] = [];
    do {
      await sleep(500);
      const contacts = emulator.contacts();
      diff = SYNCS.flatMap((sy, s) => compare(contacts, sy.name, sources[s]!));
    } while (diff.length && Date.now() < deadline);
    await stopDaemon(daemon, "final stop", false);
    const soakMs = Date.now() - started;

    const contacts = emulator.contacts();
    diff = SYNCS.flatMap((sy, s) => compare(contacts, sy.name, sources[s]!));
    if (diff.length) failures.push(`Quo differs from the sources: ${diff.slice(0, 10).join("; ")}${diff.length > 10 ? ` … (${diff.length})` : ""}`);
    const foreign = contacts.filter((c) => !SYNCS.some((s) => c.externalId?.startsWith(`${s.name}:`)));
    if (foreign.length) failures.push(`${foreign.length} contacts in Quo belong to no sync`);

    // Metrics (summed over the three processes' totals) against status (the state database).
    const totals: Record<string, Record<string, number>> = {};
    lifetimes.forEach((d, i) => {
      const stopped = d.logs.find((l) => l.msg === "daemon stopped");
      if (!stopped) return failures.push(`daemon ${i + 1} logged no totals`);
      for (const [sync, t] of Object.entries(stopped.totals as Record<string, Record<string, number>>)) {
        for (const [k, v] of Object.entries(t)) (totals[sync] ??= {})[k] = ((totals[sync] ??= {})[k] ?? 0) + v;
      }
    });
    const status = JSON.parse(await cli(["status", "--config", config, "--format", "json", "--runs", "1000000"], dir, emulator)) as any[];
    const rowsOut: string[][] = [["sync", "ok", "failed", "refused", "interrupted", "skipped", "create", "update", "delete", "contacts", "agree"]];
    let writesByStatus = 0;
    let writesByMetrics = 0;
    for (const s of status) {
      const m = totals[s.sync] ?? {};
      const db: Record<string, number> = { ok: 0, failed: 0, refused: 0, interrupted: 0, create: 0, update: 0, delete: 0 };
      for (const r of s.runs) {
        db[r.outcome] = (db[r.outcome] ?? 0) + 1;
        if (r.counts && r.outcome !== "refused") for (const k of ["create", "update", "delete"]) db[k]! += r.counts[k] ?? 0;
      }
      const keys = ["ok", "failed", "refused", "interrupted", "create", "update", "delete"];
      const disagree = keys.filter((k) => (m[k] ?? 0) !== db[k]);
      if (disagree.length) failures.push(`${s.sync}: metrics and status disagree on ${disagree.map((k) => `${k} (${m[k] ?? 0} vs ${db[k]})`).join(", ")}`);
      writesByStatus += db.create! + db.update! + db.delete!;
      writesByMetrics += (m.create ?? 0) + (m.update ?? 0) + (m.delete ?? 0);
      rowsOut.push([s.sync, ...["ok", "failed", "refused", "interrupted", "skipped", "create", "update", "delete"].map((k) => String(m[k] ?? 0)), String(s.contacts), disagree.length ? "NO" : "yes"]);
    }
    const w = emulator.stats().writesApplied;
    const applied = w.create + w.update + w.delete;
    if (applied !== writesByStatus) failures.push(`Quo applied ${applied} writes; status records ${writesByStatus}`);

    const widths = rowsOut[0]!.map((_, i) => Math.max(...rowsOut.map((r) => r[i]!.length)));
    process.stdout.write(`\nquo-sync daemon soak: ${(soakMs / 60_000).toFixed(1)} min, ${rows} rows per sync at start, ${changes} source changes, 1 source outage of ${OUTAGE_MS / 1000}s, 2 restarts\n\n`);
    for (const r of rowsOut) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join("  ") + "\n");
    process.stdout.write(`\nwrites: Quo applied ${applied} (create ${w.create}, update ${w.update}, delete ${w.delete}); status ${writesByStatus}; metrics ${writesByMetrics}\n`);
    process.stdout.write(`429s: the emulator sent ${emulator.stats().rateLimited}; /metrics showed ${rateLimitedScraped} (scraped just before each stop)\n`);
    process.stdout.write(`final: Quo ${diff.length ? `DIFFERS (${diff.length} problems)` : "equals the sources"}, ${contacts.length} contacts, no duplicate: ${diff.some((d) => d.includes("duplicated")) ? "NO" : "yes"}\n`);
    if (failures.length) {
      process.stdout.write(`\nFAILED:\n${failures.map((f) => `  - ${f}`).join("\n")}\n`);
      process.exitCode = 1;
    } else process.stdout.write("\nall checks passed\n");
  } finally {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
