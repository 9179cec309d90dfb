/**
 * Ctrl-C and SIGTERM of a one-shot `sync` through the built CLI, against the Quo emulator with
 * per-request latency so a run of a few hundred creates takes seconds: the first signal stops new
 * writes, lets those in flight finish, records the run as interrupted and prints the report; a
 * second one exits at once. Under a pseudo-terminal (util-linux `script`) the progress bar draws,
 * and the terminal must be given back (cursor shown, line wrapping on) however the command ends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { WRITE_CONCURRENCY } from "../../src/run.js";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { CLI, HEADER, Workspace, cliEnv, compareWithSource, personRow, reports, runCli, startCli, toCsv, writes, useQuoEmulator, type CliResult } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const ROWS = 200;
const rows = Array.from({ length: ROWS }, (_, i) => personRow(i + 1));
/**
 * Per request. The writes go in waves of WRITE_CONCURRENCY, each taking this long: a signal sent
 * just after a wave started reaches the CLI long before the wave ends, so which writes were in
 * flight at the signal is known exactly, on a busy machine too.
 */
const LATENCY_MS = 800;

/** What cli-progress writes to hide the cursor and turn line wrapping off, and to undo each. */
const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";
const WRAP_OFF = "\x1b[?7l";
const WRAP_ON = "\x1b[?7h";

/** Writes Quo received: applied, or on their way (the emulator counts a request on arrival). */
function writesReceived(): number {
  const r = emulator.stats().byRoute;
  return (r["POST /v1/contacts"] ?? 0) + (r["PATCH /v1/contacts/:id"] ?? 0) + (r["DELETE /v1/contacts/:id"] ?? 0);
}

/** Polls `probe` every 5 ms until it returns something truthy; fails with `what` after `ms`. */
async function until<T>(probe: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Waits (polling every few milliseconds) for at least `applied` writes applied and a full wave of
 * writes in flight, just started; returns the writes applied and received at that moment.
 */
async function waveInFlight(applied: number): Promise<{ applied: number; received: number }> {
  return until(
    () => {
      const now = { applied: writes(emulator), received: writesReceived() };
      return now.applied >= applied && now.received - now.applied === WRITE_CONCURRENCY && now;
    },
    60_000,
    `${applied} writes applied and a wave in flight`,
  );
}

/** A running CLI, under pipes or a terminal. */
interface Running {
  done: Promise<CliResult>;
  /** Sends `signal` to the CLI's process; under a terminal, SIGINT is a typed Ctrl-C. */
  send(signal: "SIGINT" | "SIGTERM"): Promise<void>;
}

function underPipes(args: string[]): Running {
  const { child, done } = startCli(args, cliEnv(emulator), ws.dir);
  return { done, send: async (signal) => void child.kill(signal) };
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The CLI on a pseudo-terminal (`script -qfec`): stdin, stdout and stderr are the terminal, so the
 * progress bar draws; `stdout` of the result is everything the terminal showed. The shell prints
 * its pid, which `exec` hands to the CLI. A Ctrl-C is typed into the terminal, whose line
 * discipline sends SIGINT to the foreground process group, as a person's would.
 */
function underTerminal(args: string[]): Running {
  const command = `echo "pid=$$"; exec ${[process.execPath, CLI, ...args].map(quote).join(" ")}`;
  const child: ChildProcess = spawn("script", ["-qfec", command, "/dev/null"], { env: cliEnv(emulator), cwd: ws.dir, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr })));
  return {
    done,
    send: async (signal) => {
      if (signal === "SIGINT") {
        child.stdin!.write("\x03");
        return;
      }
      const pid = await until(() => /pid=(\d+)/.exec(stdout)?.[1], 10_000, "the CLI's pid");
      process.kill(Number(pid), signal);
    },
  };
}

/** For the rerun that finishes the job: no latency, and the most requests per second the config allows. */
function rerunFast(): void {
  emulator.setLatency(0);
  ws.writeConfig({}, { quo: { requestsPerSecond: 100 } });
}

async function status(): Promise<any> {
  const r = await runCli(["status", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout)[0];
}

/** Asserts that the terminal output hid the cursor and turned wrapping off, and undid both afterwards. */
function expectTerminalRestored(output: string): void {
  expect(output).toContain(HIDE_CURSOR);
  expect(output).toContain(WRAP_OFF);
  expect(output.lastIndexOf(SHOW_CURSOR)).toBeGreaterThan(output.lastIndexOf(HIDE_CURSOR));
  expect(output.lastIndexOf(WRAP_ON)).toBeGreaterThan(output.lastIndexOf(WRAP_OFF));
}

describe.each([
  ["SIGINT", 130, "pipes"],
  ["SIGTERM", 143, "pipes"],
  ["SIGINT", 130, "a terminal"],
  ["SIGTERM", 143, "a terminal"],
] as const)("%s during a sync (exit %i, under %s)", (signal, code, io) => {
  it("finishes the writes in flight, records and reports the run as interrupted, and a rerun continues", async () => {
    ws.writeCsv(rows);
    ws.writeConfig();
    emulator.setLatency(LATENCY_MS);
    const terminal = io === "a terminal";
    const out = path.join(ws.dir, "report.json");
    const args = ["sync", "--config", ws.config, "--format", "json", ...(terminal ? ["--out", out] : [])];

    const startedAt = Date.now();
    const cli = terminal ? underTerminal(args) : underPipes(args);
    const atSignal = await waveInFlight(10);
    const signalledAt = Date.now();
    await cli.send(signal);
    const r = await cli.done;
    const stoppedAt = Date.now();

    expect(r.signal).toBeNull();
    expect(r.status).toBe(code);
    // The writes in flight finished, and no write started after the signal.
    expect(writesReceived()).toBe(writes(emulator));
    expect(writes(emulator)).toBeLessThanOrEqual(atSignal.applied + WRITE_CONCURRENCY);
    expect(writes(emulator)).toBe(atSignal.received);

    // The report says what was done: exactly what Quo applied.
    const [report] = reports(terminal ? readFileSync(out, "utf8") : r.stdout);
    expect(report.outcome).toBe("interrupted");
    expect(report.counts).toMatchObject({ create: emulator.stats().writesApplied.create, update: 0, delete: 0, failed: 0 });
    expect(report.changes.filter((c: any) => c.status === "done")).toHaveLength(report.counts.create);
    expect(report.changes.filter((c: any) => c.status === "skipped")).toHaveLength(ROWS - report.counts.create);
    expect(report.durationMs).toBeGreaterThan(0);
    expect(report.durationMs).toBeLessThanOrEqual(stoppedAt - startedAt);

    // One line on stderr (the terminal's whole output under `script`) says so.
    const stderr = terminal ? r.stdout : r.stderr;
    const lines = stderr.split(/\r?\n/).filter((l) => /interrupted/i.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`quo-sync: interrupted by ${signal} after ${report.counts.create} of ${ROWS} writes; nothing is lost — run the same command again to continue`);
    if (terminal) expectTerminalRestored(r.stdout);

    // The run is recorded as interrupted, ending when it stopped: after the signal, before the exit.
    const s = await status();
    const [run] = s.runs;
    expect(run.outcome).toBe("interrupted");
    expect(run.counts.create).toBe(report.counts.create);
    expect(Date.parse(run.startedAt)).toBeGreaterThanOrEqual(startedAt);
    expect(Date.parse(run.endedAt)).toBeGreaterThanOrEqual(signalledAt);
    expect(Date.parse(run.endedAt)).toBeLessThanOrEqual(stoppedAt);
    expect(run.durationMs).toBe(Date.parse(run.endedAt) - Date.parse(run.startedAt));
    expect(s.runningNow).toBeNull();
    expect(s.contacts).toBe(report.counts.create);

    // Nothing is lost: the same command again finishes the job, with no duplicate.
    rerunFast();
    const again = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    expect(again.stderr).toBe("");
    expect(again.status).toBe(0);
    expect(reports(again.stdout)[0].counts.create).toBe(ROWS - report.counts.create);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
    expect(emulator.stats().writesApplied).toEqual({ create: ROWS, update: 0, delete: 0 });
  });
});

describe("SIGINT with more syncs to run", () => {
  it("skips the syncs not started yet and says so; the same command again runs them", async () => {
    ws.writeCsv(rows);
    ws.writeConfig();
    // A second sync after `leads`, on its own file and keys.
    const partners = Array.from({ length: 20 }, (_, i) => personRow(ROWS + i + 1));
    writeFileSync(path.join(ws.dir, "partners.csv"), toCsv([HEADER, ...partners]));
    const config = JSON.parse(readFileSync(ws.config, "utf8"));
    config.syncs.push({ ...config.syncs[0], name: "partners", source: { type: "csv", path: "partners.csv" } });
    writeFileSync(ws.config, JSON.stringify(config));
    emulator.setLatency(LATENCY_MS);
    const cli = underPipes(["sync", "--config", ws.config, "--format", "json"]);
    await waveInFlight(10);
    await cli.send("SIGINT");
    const r = await cli.done;

    expect(r.status).toBe(130);
    const printed = reports(r.stdout);
    expect(printed.map((p) => [p.sync, p.outcome])).toEqual([["leads", "interrupted"]]);
    expect(r.stderr).toBe(`quo-sync: interrupted by SIGINT after ${printed[0].counts.create} of ${ROWS} writes; not started: 'partners'; nothing is lost — run the same command again to continue\n`);
    expect(emulator.contacts().filter((c) => c.externalId?.startsWith("partners:"))).toEqual([]);
    const listed = await runCli(["status", "--config", ws.config, "--format", "json", "--sync", "partners"], cliEnv(emulator), ws.dir);
    expect(JSON.parse(listed.stdout)[0].runs).toEqual([]);

    emulator.setLatency(0);
    const again = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    expect(again.status).toBe(0);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
    expect(compareWithSource(emulator.contacts(), partners, "partners")).toEqual([]);
  });
});

describe("a second signal", () => {
  it.each([
    ["pipes", false],
    ["a terminal", true],
  ] as const)("exits at once with 130, under %s, and the journal lets a rerun converge", async (_io, terminal) => {
    ws.writeCsv(rows);
    ws.writeConfig();
    // Writes slow enough that the first signal leaves some in flight for a while.
    emulator.setLatency(2_000);
    const args = ["sync", "--config", ws.config, "--format", "json"];
    const cli = terminal ? underTerminal(args) : underPipes(args);
    await waveInFlight(1);
    await cli.send("SIGINT");
    await new Promise((r) => setTimeout(r, 300));
    expect(writesReceived() - writes(emulator)).toBe(WRITE_CONCURRENCY);
    const secondAt = Date.now();
    await cli.send("SIGINT");
    const r = await cli.done;
    // At once: before the writes in flight (2 s each) have answered.
    expect(writesReceived()).toBeGreaterThan(writes(emulator));
    expect(Date.now() - secondAt).toBeLessThan(1_500);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(130);
    const output = terminal ? r.stdout : r.stderr;
    expect(output).toContain("quo-sync: second SIGINT: exiting now; nothing is lost — run the same command again to continue");
    // No report: the command did not wait for the run to end.
    expect(output).not.toContain('"outcome"');
    if (!terminal) expect(r.stdout).toBe("");
    if (terminal) expectTerminalRestored(r.stdout);

    // The writes left in flight land in Quo; the next run resolves them from the journal.
    await until(() => writesReceived() === writes(emulator), 10_000, "the writes in flight to land");
    rerunFast();
    const again = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    expect(again.status).toBe(0);
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
    expect(emulator.stats().writesApplied).toEqual({ create: ROWS, update: 0, delete: 0 });
  });
});

describe("SIGINT during a dry run", () => {
  it("stops at once with 130 and prints no report", async () => {
    ws.writeCsv(rows);
    // With `match`, the plan lists the workspace first: a request that takes seconds here.
    ws.writeConfig({ match: { by: ["phone", "email"] } });
    emulator.setLatency(5_000);
    const { child, done } = startCli(["plan", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    await until(() => (emulator.stats().byRoute["GET /v1/contacts"] ?? 0) > 0, 30_000, "the workspace listing to start");
    const signalledAt = Date.now();
    child.kill("SIGINT");
    const r = await done;
    expect(Date.now() - signalledAt).toBeLessThan(3_000);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(130);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("quo-sync: interrupted by SIGINT; a dry run writes nothing\n");
    expect(writesReceived()).toBe(0);
  });
});
