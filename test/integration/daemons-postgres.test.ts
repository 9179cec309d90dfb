/**
 * Two daemons on one PostgreSQL state, as two replicas: the built CLI twice, the same config, syncs
 * of two workspaces (a Quo emulator and an API key each, both holding Quo's 10 requests per second
 * per key). Whichever daemon holds a sync's lock with writes still to send is killed with SIGKILL;
 * the other carries on. The daemons run either on one machine (a dead pid frees its locks at once)
 * or as on two machines: each in a pid namespace of its own (`unshare`), whose pids the other cannot
 * see, so the killed one's locks are leases that must expire first.
 */
import { readFileSync, readlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LOCK_HEARTBEAT_MS, LOCK_STALE_MS, processTable } from "../../src/state/lock.js";
import { startQuoEmulator, type QuoEmulator } from "../emulators/quo-emulator.js";
import { spawnDaemon, until, type Daemon } from "./daemons.js";
import { postgresEngine, postgresServer } from "./engines.js";
import { queryDatabase } from "./postgres.js";
import { HEADER, Workspace, cliEnv, compareWithSource, personRow, runCli, toCsv } from "./harness.js";

const WEST_KEY = "qk_west_SECRET_1a2b3c";
const EAST_KEY = "qk_east_SECRET_4d5e6f";
let west: QuoEmulator;
let east: QuoEmulator;
let ws: Workspace;
beforeEach(async () => {
  [west, east] = await Promise.all([startQuoEmulator({ apiKeys: [WEST_KEY], requestsPerSecond: 10 }), startQuoEmulator({ apiKeys: [EAST_KEY], requestsPerSecond: 10 })]);
  ws = new Workspace();
});
afterEach(async () => {
  await Promise.all([west.close(), east.close()]);
  ws.cleanup();
});

interface Spec {
  name: string;
  workspace: "west" | "east";
  offset: number;
  rows: string[][];
}

const EVERY_SECOND = "*/1 * * * * *";

/**
 * How the lock owners of daemon `d` begin (`ownerId` in src/state/lock.ts: process table, host,
 * pid). In a pid namespace of its own the daemon is `unshare`'s child, and its table names that
 * namespace.
 */
function ownerPrefix(d: Daemon, ownNamespace: boolean): string {
  if (!ownNamespace) return `${processTable()}|${os.hostname()}:${d.child.pid}:`;
  const ns = readlinkSync(`/proc/${daemonPid(d, true)}/ns/pid`).replace(/\D/g, "");
  return `${processTable().split("/")[0]}/${ns}|`;
}

/** The daemon's own pid as this process sees it: under `unshare --fork`, its child. */
function daemonPid(d: Daemon, ownNamespace: boolean): number {
  if (!ownNamespace) return d.child.pid!;
  return Number(readFileSync(`/proc/${d.child.pid}/task/${d.child.pid}/children`, "utf8").trim().split(/\s+/)[0]);
}

function writeConfig(state: string, specs: readonly Spec[]): void {
  for (const s of specs) writeFileSync(path.join(ws.dir, `${s.name}.csv`), toCsv([HEADER, ...s.rows]));
  const config = {
    state,
    workspaces: { west: { apiKeyEnv: "WEST_QUO_API_KEY", baseUrl: west.url }, east: { apiKeyEnv: "EAST_QUO_API_KEY", baseUrl: east.url } },
    syncs: specs.map((s) => ({
      name: s.name,
      workspace: s.workspace,
      source: { type: "csv", path: `${s.name}.csv` },
      key: "id",
      fields: { firstName: "First Name", lastName: "Last Name", company: "Company", phoneNumbers: { mobile: "Phone", work: "Work Phone" }, emails: { work: "Email" } },
      defaultCountry: "US",
      deletes: "mirror",
      maxDeletePercent: 50,
      schedule: EVERY_SECOND,
    })),
  };
  writeFileSync(ws.config, JSON.stringify(config, null, 2));
}


const env = () => ({ ...cliEnv(west, { LOG_LEVEL: "info" }), WEST_QUO_API_KEY: WEST_KEY, EAST_QUO_API_KEY: EAST_KEY });
const quoOf = (s: Spec) => (s.workspace === "west" ? west : east);

const MODES = [
  { where: "on the same machine", wrapper: [] as string[], takeoverMs: [0, 10_000] },
  // --kill-child: the daemon (pid 1 of the new namespace) dies with `unshare`, as a host that is
  // lost. Without root, a user namespace makes the pid namespace possible.
  {
    where: "on another machine (a pid namespace of its own)",
    wrapper: ["unshare", ...(process.getuid?.() === 0 ? [] : ["--user", "--map-root-user"]), "--pid", "--fork", "--kill-child"],
    takeoverMs: [LOCK_STALE_MS - 2 * LOCK_HEARTBEAT_MS, 60_000],
  },
] as const;

describe.each(MODES)("two daemons on one PostgreSQL state, the killed one $where", ({ wrapper, takeoverMs }) => {
  it("share the syncs of two workspaces, survive a SIGKILL of either, never run a sync twice at once, hold each key's limit and leave every workspace exact", async () => {
    const url = await postgresEngine.fresh();
    const specs: Spec[] = [
      { name: "west-leads", workspace: "west", offset: 1000, rows: [] },
      { name: "west-crm", workspace: "west", offset: 2000, rows: [] },
      { name: "east-leads", workspace: "east", offset: 3000, rows: [] },
    ];
    for (const s of specs) s.rows = Array.from({ length: 60 }, (_, i) => personRow(s.offset + i + 1));
    writeConfig(url, specs);

    const a = spawnDaemon(ws.config, ws.dir, env(), [], wrapper);
    const b = spawnDaemon(ws.config, ws.dir, env(), [], wrapper);
    await Promise.all([a.url(), b.url()]);
    const owners = new Map([a, b].map((d) => [d, ownerPrefix(d, wrapper.length > 0)]));

    // Kill the daemon holding a lock whose sync has at least 15 creates still to send.
    const victim = await until(
      async () => {
        for (const l of await queryDatabase<{ sync: string; owner: string }>(url, "select sync, owner from locks")) {
          const daemon = [a, b].find((d) => l.owner.startsWith(owners.get(d)!));
          const spec = specs.find((s) => s.name === l.sync)!;
          const created = quoOf(spec).contacts().filter((c) => c.externalId?.startsWith(`${spec.name}:`)).length;
          if (daemon && created >= 5 && created <= spec.rows.length - 15) return { sync: l.sync, daemon };
        }
        return false;
      },
      60_000,
      "a daemon to hold a lock mid-run",
    );
    const killed = victim.daemon;
    const survivor = killed === a ? b : a;
    killed.child.kill("SIGKILL");
    const killedAt = Date.now();
    expect((await killed.done).signal).toBe("SIGKILL");

    // The sources change after the kill: every sync has updates, creates and deletes to make.
    for (const s of specs) {
      s.rows = s.rows.filter((_, i) => i % 7 !== 3).map((r, i) => (i % 5 === 0 ? personRow(Number(r[0]!.slice(1)), 1) : r));
      s.rows.push(...Array.from({ length: 5 }, (_, i) => personRow(s.offset + 100 + i)));
    }
    writeConfig(url, specs);

    try {
      await until(() => specs.every((s) => compareWithSource(quoOf(s).contacts(), s.rows, s.name).length === 0), 180_000, "every workspace to equal its sources");
    } catch (e) {
      // What still differs, the runs so far and the survivor's last words: enough to tell a slow
      // takeover from a wrong state.
      const differences = specs.map((s) => `${s.name}: ${JSON.stringify(compareWithSource(quoOf(s).contacts(), s.rows, s.name).slice(0, 5))}`);
      const runs = await queryDatabase<{ sync: string; started_at: string; ended_at: string | null; outcome: string | null; error: string | null }>(url, "select sync, started_at, ended_at, outcome, error from runs order by id");
      const locks = await queryDatabase<Record<string, unknown>>(url, "select * from locks");
      const tail = survivor.logs.slice(-40).map((l) => JSON.stringify(l));
      throw new Error(`${(e as Error).message}\n${differences.join("\n")}\nkilled at ${killedAt}; locks ${JSON.stringify(locks)}\nruns:\n${runs.map((r) => JSON.stringify(r)).join("\n")}\nsurvivor's last logs:\n${tail.join("\n")}`);
    }
    // B keeps every sync running: each has an ok run that started after the kill.
    await until(
      async () => {
        const runs = await queryDatabase<{ sync: string; started_at: string; outcome: string }>(url, "select sync, started_at, outcome from runs where outcome = 'ok'");
        return specs.every((s) => runs.some((r) => r.sync === s.name && Number(r.started_at) > killedAt));
      },
      60_000,
      "an ok run of every sync after the kill",
    );
    // A clean stop of the survivor (`unshare` ignores SIGTERM: it goes to the daemon itself).
    process.kill(daemonPid(survivor, wrapper.length > 0), "SIGTERM");
    expect((await survivor.done).status).toBe(0);

    // Each workspace is exact: its contacts are its syncs' rows, once each.
    for (const s of specs) expect(compareWithSource(quoOf(s).contacts(), s.rows, s.name), s.name).toEqual([]);
    expect(west.contacts()).toHaveLength(specs.filter((s) => s.workspace === "west").reduce((n, s) => n + s.rows.length, 0));
    expect(east.contacts()).toHaveLength(specs.filter((s) => s.workspace === "east").reduce((n, s) => n + s.rows.length, 0));

    // `status` reads the shared database: every sync, its contacts, its runs.
    const st = await runCli(["status", "--config", ws.config, "--format", "json", "--runs", "1000"], env(), ws.dir);
    expect(st.status, st.stderr).toBe(0);
    const status = JSON.parse(st.stdout) as { sync: string; workspace: string; contacts: number; runningNow: unknown; runs: { startedAt: string; endedAt: string | null; outcome: string; error: string | null }[] }[];
    expect(status.map((s) => [s.sync, s.workspace, s.contacts, s.runningNow])).toEqual(specs.map((s) => [s.name, s.workspace, s.rows.length, null]));
    for (const s of status) {
      // No run of one sync overlaps another: each began after the one before had ended.
      const runs = [...s.runs].reverse();
      for (let i = 1; i < runs.length; i++) {
        const prev = runs[i - 1]!;
        const next = runs[i]!;
        expect(prev.endedAt, `${s.sync}: run before ${next.startedAt} never ended`).not.toBeNull();
        expect(Date.parse(prev.endedAt!), `${s.sync}: runs overlap at ${next.startedAt}`).toBeLessThanOrEqual(Date.parse(next.startedAt));
      }
      expect(runs.every((r) => r.outcome === "ok" || r.outcome === "interrupted"), JSON.stringify(runs.filter((r) => r.outcome !== "ok"))).toBe(true);
    }
    // The killed daemon's run was closed as interrupted by the survivor, which took the sync over within a minute.
    const victimRuns = status.find((s) => s.sync === victim.sync)!.runs;
    const abandoned = victimRuns.filter((r) => r.error === "the process stopped before the run finished");
    expect(abandoned).toHaveLength(1);
    const takeover = Date.parse(abandoned[0]!.endedAt!) - killedAt;
    expect(takeover).toBeGreaterThanOrEqual(takeoverMs[0]);
    expect(takeover).toBeLessThan(takeoverMs[1]);

    // Both keys stayed within Quo's limit with two daemons on each: the 429 share.
    const requests = west.stats().requests + east.stats().requests;
    const limited = west.stats().rateLimited + east.stats().rateLimited;
    process.stdout.write(`two daemons: ${requests} requests, ${limited} answered 429 (${((100 * limited) / requests).toFixed(2)} %), takeover after ${takeover} ms\n`);
    expect(limited / requests).toBeLessThan(0.01);
    // No API key and no database password anywhere in what the daemons and status printed.
    const printed = st.stdout + st.stderr + JSON.stringify(a.logs) + JSON.stringify(b.logs);
    for (const secret of [WEST_KEY, EAST_KEY, (await postgresServer()).password]) expect(printed).not.toContain(secret);
  }, 330_000);
});
