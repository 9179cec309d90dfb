/**
 * Daemons as child processes for the integration tests: the built CLI's `daemon` command with
 * `--http` on a free port, its JSON log lines parsed as they come, and polling helpers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import { ROOT, startCli, type CliResult } from "./harness.js";

const daemons: ChildProcess[] = [];
afterEach(() => {
  for (const d of daemons.splice(0)) if (d.exitCode === null && d.signalCode === null) d.kill("SIGKILL");
});

/**
 * A process that takes sync `sync`'s run lock in the state at `location` (a file or a postgres://
 * URL) through the built store, waiting up to `waitMs` for it, and holds it, heartbeats included,
 * until killed (after the test at the latest). Resolves once it holds the lock.
 */
export async function holdLock(location: string, waitMs = 0, sync = "leads"): Promise<ChildProcess> {
  const script = path.join(mkdtempSync(path.join(os.tmpdir(), "quo-sync-hold-")), "hold-lock.mjs");
  writeFileSync(
    script,
    `import { openStore } from ${JSON.stringify(path.join(ROOT, "dist", "src", "state", "store.js"))};
import { acquireLock } from ${JSON.stringify(path.join(ROOT, "dist", "src", "state", "lock.js"))};
const store = await openStore(process.argv[2]);
await acquireLock(store, ${JSON.stringify(sync)}, { waitMs: ${waitMs}, now: Date.now });
process.stdout.write("held\\n");
setInterval(() => {}, 60_000);
`,
  );
  const child = spawn(process.execPath, [script, location], { stdio: ["ignore", "pipe", "inherit"] });
  daemons.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => d.toString().includes("held") && resolve());
    child.on("exit", (code) => reject(new Error(`the lock holder exited (${code})`)));
  });
  return child;
}

export interface Daemon {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** Log lines so far, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line matching, within `ms`. */
  waitForLog(match: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  /** `http://host:port` of `--http`. */
  url(): Promise<string>;
}

/**
 * Starts `quo-sync daemon --config CONFIG --http 127.0.0.1:0` in `cwd` (under `wrapper`, a command
 * prefix, if given); killed after the test if still running.
 */
export function spawnDaemon(config: string, cwd: string, env: NodeJS.ProcessEnv, extra: string[] = [], wrapper: readonly string[] = []): Daemon {
  const { child, done } = startCli(["daemon", "--config", config, "--http", "127.0.0.1:0", ...extra], env, cwd, wrapper);
  daemons.push(child);
  const logs: Record<string, unknown>[] = [];
  let partial = "";
  child.stderr!.on("data", (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) {
      try {
        logs.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        logs.push({ msg: l });
      }
    }
  });
  const waitForLog = (match: (l: Record<string, unknown>) => boolean, ms = 30_000) =>
    until(() => logs.find(match), ms, `a log line matching ${match.toString()}; logs:\n${logs.map((l) => JSON.stringify(l)).join("\n")}`);
  return {
    child,
    done,
    logs,
    waitForLog,
    url: async () => `http://${String((await waitForLog((l) => typeof l.http === "string")).http)}`,
  };
}

/** Keeps a daemon running across the tests of a file (a scenario in steps); the caller stops it in `afterAll`. */
export function keepAcrossTests(d: Daemon): void {
  const i = daemons.indexOf(d.child);
  if (i >= 0) daemons.splice(i, 1);
}

/** Polls `probe` until it returns something truthy; fails with `what` after `ms`. */
export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.json() };
}

/** The value of one Prometheus series, 0 when absent. */
export async function metric(base: string, series: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

export async function stop(d: Daemon, signal: NodeJS.Signals = "SIGTERM"): Promise<CliResult> {
  d.child.kill(signal);
  return d.done;
}
