/**
 * The console of two daemons sharing one PostgreSQL state, as two replicas: a session signed in on
 * one is accepted by the other (sessions are stateless), both show the same runs, a run made
 * through one shows on the other, and while another process holds a sync's lock both show
 * "running on HOST" and refuse Run now, starting nothing.
 */
import { writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type StateStore } from "../../src/state/store.js";
import { startQuoEmulator, type QuoEmulator } from "../emulators/quo-emulator.js";
import { spawnDaemon, until, type Daemon } from "./daemons.js";
import { postgresEngine } from "./engines.js";
import { API_KEY, HEADER, Workspace, cliEnv, personRow, toCsv, writes } from "./harness.js";

const TOKEN = "console-replicas-token-9c2e7b41d0a6f358";
let emulator: QuoEmulator;
let ws: Workspace;
let store: StateStore | undefined;

beforeEach(async () => {
  emulator = await startQuoEmulator({ apiKeys: [API_KEY], requestsPerSecond: 0 });
  ws = new Workspace();
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  await emulator.close();
  ws.cleanup();
});

/** A request as the console's own page sends it: same origin, with the session cookie. */
async function send(base: string, target: string, cookie?: string, form?: Record<string, string>): Promise<Response> {
  const headers: Record<string, string> = { "sec-fetch-site": "same-origin", origin: base, ...(cookie ? { cookie } : {}) };
  if (form) headers["content-type"] = "application/x-www-form-urlencoded";
  return fetch(base + target, { method: form ? "POST" : "GET", headers, redirect: "manual", ...(form ? { body: new URLSearchParams(form).toString() } : {}) });
}

/** The run ids listed on a sync's page. */
async function runIds(base: string, cookie: string): Promise<string[]> {
  const page = await (await send(base, "/syncs/leads", cookie)).text();
  return [...page.matchAll(/<tr data-run="(\d+)">/g)].map((m) => m[1]!);
}

describe("console on two replicas sharing PostgreSQL", () => {
  it("accepts one session on both, shows the same runs, and refuses Run now while another process holds the lock", async () => {
    const url = await postgresEngine.fresh();
    writeFileSync(ws.csv, toCsv([HEADER, ...Array.from({ length: 5 }, (_, i) => personRow(i + 1))]));
    ws.writeConfig({ schedule: "0 0 1 1 *" }, { state: url });
    const env = cliEnv(emulator, { QUO_SYNC_CONSOLE_TOKEN: TOKEN, LOG_LEVEL: "info" });
    const daemons: Daemon[] = [spawnDaemon(ws.config, ws.dir, env), spawnDaemon(ws.config, ws.dir, env)];
    const [a, b] = await Promise.all(daemons.map((d) => d.url()));

    const signIn = await send(a!, "/login", undefined, { token: TOKEN });
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    // The other replica accepts the session without ever having seen it.
    for (const base of [a!, b!]) expect((await send(base, "/syncs/leads", cookie)).status).toBe(200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await send(b!, "/syncs/leads", cookie)).text())![1]!;

    // A run asked of replica B shows on replica A.
    const run = await send(b!, "/syncs/leads/run", cookie, { csrf });
    expect(run.headers.get("location")).toBe("/syncs/leads?notice=started");
    const ids = await until(async () => {
      const onA = await runIds(a!, cookie);
      return onA.length === 1 && !(await (await send(a!, "/syncs/leads", cookie)).text()).includes("outcome-running") ? onA : undefined;
    }, 30_000, "the run on replica A's page");
    expect(await runIds(b!, cookie)).toEqual(ids);
    expect(emulator.contacts()).toHaveLength(5);

    // Another process (on another host) holds the lock: both replicas say so and refuse to run.
    store = await openStore(url);
    const taken = await store.tryLock("leads", { owner: "other-host-owner", host: "sync-host-7", pid: 4321 }, Date.now(), () => false);
    expect(taken.ok).toBe(true);
    const writesBefore = writes(emulator);
    for (const base of [a!, b!]) {
      const page = await (await send(base, "/", cookie)).text();
      expect(page).toContain("running on sync-host-7");
      const refused = await send(base, "/syncs/leads/run", cookie, { csrf });
      expect(refused.headers.get("location")).toBe("/syncs/leads?notice=locked");
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(await runIds(a!, cookie)).toEqual(ids);
    expect(writes(emulator)).toBe(writesBefore);
    await store.unlock("leads", "other-host-owner");
  }, 120_000);
});
