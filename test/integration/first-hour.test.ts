/**
 * A new user's first hour, through the built CLI against the Quo emulator: the README's quick start
 * as written, from any working directory; errors that name the resolved file, the line and column,
 * the key that was meant; usage errors (exit 64); `--help`; and every failure's reason printed once.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { API_KEY, ROOT, Workspace, cliEnv, personRow, reports, runCli, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const README = readFileSync(path.join(ROOT, "README.md"), "utf8");

/** Default logging (info), as a person gets it: every log line the run writes is on stderr. */
function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...cliEnv(emulator), ...extra };
  delete e.LOG_LEVEL;
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete e[k];
  return e;
}

/** The lines of `text` that contain `needle`. */
function linesWith(text: string, needle: string): string[] {
  return text.split("\n").filter((l) => l.includes(needle));
}

/** A copy of the clone's files the quick start uses, in the workspace's folder, and the README's `cp` done. */
function quickStartProject(): string {
  const root = path.join(ws.dir, "project");
  mkdirSync(root);
  cpSync(path.join(ROOT, "examples"), path.join(root, "examples"), { recursive: true });
  cpSync(path.join(ROOT, "quo-sync.schema.json"), path.join(root, "quo-sync.schema.json"));
  const cp = /cp examples\/quo-sync\.config\.json ([\w./-]+)/.exec(README);
  expect(cp).not.toBeNull();
  cpSync(path.join(root, "examples", "quo-sync.config.json"), path.join(root, cp![1]!));
  return root;
}

describe("the quick start, as the README writes it", () => {
  it("plan works right after the copy, and paths resolve from the config's folder whatever the working directory", async () => {
    const root = quickStartProject();
    const plan = await runCli(["plan", "--format", "json"], env(), root);
    expect(plan.stderr).not.toContain("quo-sync:");
    expect(plan.status).toBe(0);
    expect(reports(plan.stdout)[0].counts).toMatchObject({ create: 11, rejected: 3, delete: 0 });

    // From a folder below, and from one elsewhere: the same files.
    const below = path.join(root, "sub");
    mkdirSync(below);
    const fromBelow = await runCli(["plan", "--config", "../quo-sync.config.json", "--format", "json"], env(), below);
    expect(fromBelow.status, fromBelow.stderr).toBe(0);
    const elsewhere = path.join(ws.dir, "elsewhere");
    mkdirSync(elsewhere);
    const sync = await runCli(["sync", "--config", path.join(root, "quo-sync.config.json"), "--format", "json"], env(), elsewhere);
    expect(sync.status, sync.stderr).toBe(0);
    expect(reports(sync.stdout)[0].counts).toMatchObject({ create: 11 });
    expect(existsSync(path.join(root, "quo-sync.db"))).toBe(true);
    expect(existsSync(path.join(elsewhere, "quo-sync.db"))).toBe(false);
    const status = await runCli(["status", "--config", "../project/quo-sync.config.json", "--format", "json"], env(), elsewhere);
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ sync: "leads", contacts: 11 });
  });

  it("file errors name the resolved path: the source, the config, a key file, a state that is a folder", async () => {
    const root = quickStartProject();
    const elsewhere = path.join(ws.dir, "elsewhere");
    mkdirSync(elsewhere);
    const config = path.join(root, "quo-sync.config.json");
    rmSync(path.join(root, "examples", "contacts.csv"));
    const missingCsv = await runCli(["plan", "--config", config], env(), elsewhere);
    expect(missingCsv.status).toBe(1);
    expect(missingCsv.stderr).toContain(`quo-sync: source error: cannot read ${path.join(root, "examples", "contacts.csv")}: no such file\n`);

    const missingConfig = await runCli(["plan", "--config", "nowhere.json"], env(), elsewhere);
    expect(missingConfig.status).toBe(1);
    expect(missingConfig.stderr).toBe(`quo-sync: config error: config file ${path.join(elsewhere, "nowhere.json")} does not exist (use --config FILE)\n`);

    const example = JSON.parse(readFileSync(config, "utf8"));
    const sheets = { name: "sheet", source: { type: "google-sheets", spreadsheetId: "s", range: "Sheet1", credentials: "keys/sa.json" }, key: "id", fields: { firstName: "First Name" } };
    writeFileSync(config, JSON.stringify({ ...example, syncs: [sheets] }));
    const check = await runCli(["check", "--config", config], env(), elsewhere);
    expect(check.status).toBe(1);
    expect(check.stdout).toContain(`cannot read the service-account key (source.credentials ${path.join(root, "keys", "sa.json")}): no such file`);

    writeFileSync(config, JSON.stringify({ ...example, state: "./examples" }));
    const folder = path.join(root, "examples");
    const reason = `state: ${folder} is a directory; give a file path such as ${path.join(folder, "quo-sync.db")}`;
    const sync = await runCli(["sync", "--config", config], env(), elsewhere);
    expect(sync.status).toBe(1);
    expect(sync.stderr).toBe(`quo-sync: config error: ${reason}\n`);
    const checkState = await runCli(["check", "--config", config], env(), elsewhere);
    expect(checkState.status).toBe(1);
    expect(checkState.stdout).toContain(`FAIL  state\n      config error: ${reason}\n`);

    // A state file in a folder that does not exist yet is fine: the first sync makes it.
    writeFileSync(config, JSON.stringify({ ...example, state: "./data/quo-sync.db", syncs: [{ ...example.syncs[0], source: { type: "csv", path: ws.csv } }] }));
    ws.writeCsv([personRow(1)]);
    const ok = await runCli(["check", "--config", config, "--format", "json"], env(), elsewhere);
    expect(ok.status, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout).checks.at(-1)).toEqual({ what: `state file ${path.join(root, "data", "quo-sync.db")} (created by the first sync)`, ok: true });
  });
});

describe("config mistakes", () => {
  it("wrong JSON is named by file, line and column; an unknown key by the key meant", async () => {
    ws.writeCsv([personRow(1)]);
    writeFileSync(ws.config, '{\n  "state": "./state.db",\n  "syncs": [\n    { "name": "leads", },\n  ]\n}\n');
    const json = await runCli(["plan", "--config", ws.config], env(), ws.dir);
    expect(json.status).toBe(1);
    expect(json.stderr).toBe(`quo-sync: config error: ${ws.config}:4:24: Expected double-quoted property name (the config file must be JSON: no comments, no trailing commas)\n`);

    ws.writeConfig({ feilds: { firstName: "First Name" }, sheduel: "0 * * * *" });
    const keys = await runCli(["plan", "--config", ws.config], env(), ws.dir);
    expect(keys.status).toBe(1);
    expect(keys.stderr).toContain(`quo-sync: config error: ${ws.config} is not valid:\n`);
    expect(keys.stderr).toContain("  syncs[0].feilds: unknown key; did you mean 'fields'?\n");
    expect(keys.stderr).toContain("  syncs[0].sheduel: unknown key; did you mean 'schedule'?\n");
    expect(emulator.stats().requests).toBe(0);
  });

  it("a key with a Bearer prefix stops the command before any request, naming the variable, never the key", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    for (const cmd of ["sync", "plan"]) {
      const r = await runCli([cmd, "--config", ws.config], env({ QUO_API_KEY: `Bearer ${API_KEY}` }), ws.dir);
      expect(r.status).toBe(1);
      expect(linesWith(r.stderr, "quo-sync: ")).toEqual(['quo-sync: config error: QUO_API_KEY starts with "Bearer ": Quo takes the raw key; remove the prefix']);
      expect(r.stderr).not.toContain(API_KEY);
    }
    const check = await runCli(["check", "--config", ws.config], env({ QUO_API_KEY: `Bearer ${API_KEY}` }), ws.dir);
    expect(check.status).toBe(1);
    expect(check.stdout).toContain('FAIL  Quo\n      config error: QUO_API_KEY starts with "Bearer "');
    expect(check.stdout + check.stderr).not.toContain(API_KEY);
    expect(emulator.stats().requests).toBe(0);
  });
});

describe("the command line", () => {
  it("--help names every environment variable of the README's table, and the exit statuses", async () => {
    const section = README.slice(README.indexOf("\n## Environment"), README.indexOf("\n## Config"));
    const variables = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)`/gm)].map((m) => m[1]!);
    expect(variables).toEqual(expect.arrayContaining(["QUO_API_KEY", "MATON_API_KEY", "QUO_BASE_URL", "QUO_SYNC_DATABASE_URL", "GOOGLE_APPLICATION_CREDENTIALS", "HUBSPOT_ACCESS_TOKEN", "LOG_LEVEL"]));
    const help = await runCli(["--help"], env(), ws.dir);
    expect(help.status).toBe(0);
    for (const v of variables) expect(help.stdout).toMatch(new RegExp(`^  ${v} `, "m"));
    expect(help.stdout).toContain("apiKeyEnv");
    for (const code of ["0", "1", "2", "3", "64", "130, 143"]) expect(help.stdout).toMatch(new RegExp(`^  ${code} `, "m"));
    // The README's exit status table has the same codes.
    for (const code of ["0", "1", "2", "3", "64", "130, 143"]) expect(README).toContain(`\n| ${code} | `);
  });

  it.each([
    [["bogus"], "quo-sync: unknown command 'bogus'; see quo-sync --help"],
    [["sync", "--bogus"], "quo-sync: unknown option '--bogus'; see quo-sync sync --help"],
    [["plan", "--formt", "json"], "quo-sync: unknown option '--formt' (Did you mean --format?); see quo-sync plan --help"],
    [["sync", "--config"], "quo-sync: option '--config <file>' argument missing; see quo-sync sync --help"],
    [["plan", "--format", "xml"], "quo-sync: option '--format <format>' argument 'xml' is invalid. Allowed choices are table, json, markdown, html; see quo-sync plan --help"],
    [["status", "--format", "html"], "quo-sync: option '--format <format>' argument 'html' is invalid. Allowed choices are table, json; see quo-sync status --help"],
    [["sync", "--wait", "soon"], "quo-sync: option '--wait <seconds>' argument 'soon' is invalid. Give a number of seconds, 0 or more; see quo-sync sync --help"],
    [["sync", "--wait", "-5"], "quo-sync: option '--wait <seconds>' argument '-5' is invalid. Give a number of seconds, 0 or more; see quo-sync sync --help"],
    [["status", "--runs", "0"], "quo-sync: option '--runs <n>' argument '0' is invalid. Give a whole number, 1 or more; see quo-sync status --help"],
    [["status", "--runs", "2.5"], "quo-sync: option '--runs <n>' argument '2.5' is invalid. Give a whole number, 1 or more; see quo-sync status --help"],
    [["daemon", "--shutdown-timeout", "soon"], "quo-sync: option '--shutdown-timeout <seconds>' argument 'soon' is invalid. Give a number of seconds, 0 or more; see quo-sync daemon --help"],
    [["sync", "leads"], "quo-sync: too many arguments for 'sync'. Expected 0 arguments but got 1; see quo-sync sync --help"],
    [["sync", "--explain"], "quo-sync: --explain needs --dry-run (or use quo-sync plan --explain); see quo-sync sync --help"],
  ])("%j is a usage error: exit 64 and one line", async (args, line) => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    // The workspace's config is the default one in its folder: nothing to add to the command line.
    const r = await runCli(args, env(), ws.dir);
    expect(r.status).toBe(64);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.stdout).toBe("");
    expect(emulator.stats().requests).toBe(0);
  });

  it("no command prints the usage and exits 64; --help, help and --version exit 0", async () => {
    const bare = await runCli([], env(), ws.dir);
    expect(bare.status).toBe(64);
    expect(bare.stderr).toContain("Usage: quo-sync [options] [command]");
    for (const args of [["--help"], ["help"], ["help", "sync"], ["sync", "--help"], ["--version"]]) {
      const r = await runCli(args, env(), ws.dir);
      expect(r.status, args.join(" ")).toBe(0);
      expect(r.stderr).toBe("");
    }
  });

  it("plan --explain and sync --dry-run --explain run as a plan, writing nothing; --help names the option", async () => {
    ws.writeCsv([personRow(1), personRow(2)]);
    ws.writeConfig();
    for (const args of [["plan", "--explain"], ["sync", "--dry-run", "--explain"]]) {
      const r = await runCli([...args, "--format", "json"], env(), ws.dir);
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      const [report] = reports(r.stdout);
      expect(report.dryRun).toBe(true);
      expect(report.counts).toMatchObject({ create: 2, skipped: 0, filtered: 0 });
      expect(report.filtered).toEqual([]);
      expect(report.skipped).toEqual([]);
    }
    expect(emulator.contacts()).toHaveLength(0);
    for (const cmd of ["plan", "sync"]) expect((await runCli([cmd, "--help"], env(), ws.dir)).stdout).toMatch(/--explain +\S/);
  });
});

describe("each failure's reason is printed once", () => {
  const unreachable = { QUO_BASE_URL: "http://127.0.0.1:1" };
  it.each([
    ["bad config", ["sync"], {}, () => ws.writeConfig({ deletes: "sometimes" }), "syncs[0].deletes: Invalid option"],
    ["missing key", ["sync"], { QUO_API_KEY: undefined }, () => ws.writeConfig(), "no Quo credentials: set QUO_API_KEY"],
    ["missing key, plan", ["plan"], { QUO_API_KEY: undefined }, () => ws.writeConfig(), "no Quo credentials: set QUO_API_KEY"],
    ["missing CSV", ["sync"], {}, () => (ws.writeConfig(), rmSync(ws.csv)), () => `cannot read ${ws.csv}: no such file`],
    ["missing CSV, plan", ["plan"], {}, () => (ws.writeConfig(), rmSync(ws.csv)), () => `cannot read ${ws.csv}: no such file`],
    ["unreachable Quo", ["sync"], unreachable, () => ws.writeConfig({ fields: { firstName: "First Name", customFields: { Seats: "Company" } } }), "ECONNREFUSED 127.0.0.1:1"],
    ["unreachable Quo, fields", ["fields"], unreachable, () => ws.writeConfig(), "network error: connect ECONNREFUSED 127.0.0.1:1"],
    ["a --sync that does not exist", ["sync", "--sync", "nope"], {}, () => ws.writeConfig(), "--sync nope: no such sync"],
  ])("%s", async (_name, args, extra, prepare, reason: string | (() => string)) => {
    ws.writeCsv([personRow(1)]);
    prepare();
    const r = await runCli([...args, "--config", ws.config], env(extra), ws.dir);
    expect(r.status).toBe(1);
    const needle = typeof reason === "string" ? reason : reason();
    // Once, in the one message the command prints (whose detail lines follow its first line).
    expect(r.stderr.split(needle).length - 1, r.stderr).toBe(1);
    const message = r.stderr.slice(r.stderr.indexOf("quo-sync: "));
    expect(message).toContain(needle);
    expect(linesWith(r.stderr, "quo-sync: ")).toHaveLength(1);
  });

  it("with several syncs, the line names the sync that failed; the others run", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig({}, {});
    const config = JSON.parse(readFileSync(ws.config, "utf8"));
    config.syncs.push({ ...config.syncs[0], name: "partners", source: { type: "csv", path: "partners.csv" } });
    writeFileSync(ws.config, JSON.stringify(config));
    const r = await runCli(["sync", "--config", ws.config, "--format", "json"], env(), ws.dir);
    expect(r.status).toBe(1);
    expect(linesWith(r.stderr, "partners.csv")).toEqual([`quo-sync: sync 'partners': source error: cannot read ${path.join(ws.dir, "partners.csv")}: no such file`]);
    expect(reports(r.stdout).map((x) => x.sync)).toEqual(["leads"]);
  });
});
