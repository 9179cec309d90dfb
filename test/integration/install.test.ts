/**
 * quo-sync as people install it: `npm pack` of a copy of the project (its `prepack` builds), what
 * the tarball holds, `npm install -g --prefix` of the tarball into a temporary folder, and the
 * installed `quo-sync` — found on PATH, run from a folder outside the project — syncing the shipped
 * example CSV into the Quo emulator, with its state in SQLite and in PostgreSQL.
 *
 * Slow: the install fetches the runtime dependencies (from the npm cache when it has them,
 * `--prefer-offline`), and better-sqlite3 builds its native module from source when its prebuilt
 * binary cannot be downloaded (about two minutes on two cores). The project is packed from a copy,
 * so the build `prepack` runs never rewrites the `dist/` other test files are running.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startQuoEmulator, type QuoEmulator } from "../emulators/quo-emulator.js";
import { API_KEY, ROOT, reports } from "./harness.js";
import { startPostgres, type PgServer } from "./postgres.js";

/** Packing builds (about 20 s) and installing may compile better-sqlite3 (about 2 min, more on a busy machine). */
const INSTALL_TIMEOUT_MS = 20 * 60_000;

const WIN = process.platform === "win32";
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** What the tarball may hold: the compiled CLI and connectors, the migrations, the docs, examples and systemd unit. */
const SHIPPED_FOLDERS = ["dist/src/", "dist/connectors/", "migrations/", "docs/", "examples/", "deploy/"];
const SHIPPED_FILES = ["package.json", "README.md", "LICENSE", "quo-sync.schema.json", ".env.example"];

/** Top-level entries of the project that a clean clone does not have. */
const NOT_IN_A_CLONE = new Set(["node_modules", ".git", "dist", "coverage", "demo-output", "tmp"]);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; the emulator runs in this process, so never synchronously. */
function run(cmd: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve, reject) => {
    // npm is npm.cmd on Windows, which only a shell runs.
    const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"], shell: WIN });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs npm; throws with its output when it fails. */
async function npm(args: readonly string[], cwd: string): Promise<string> {
  const r = await run("npm", args, { cwd, env: npmEnv() });
  if (r.status !== 0) throw new Error(`npm ${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`.slice(-8000));
  return r.stdout;
}

/**
 * The environment of a person's shell: without the variables an outer `npm test` sets for its own
 * project (npm_config_local_prefix would point the inner npm back at this project, npm_config_prefix
 * at the real global folder). The rest of npm's settings (registry, cache, nodedir) stay.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const own = /^(npm_config_(prefix|global_prefix|local_prefix|global|location|call)|npm_package_.*|npm_lifecycle_.*|npm_command|INIT_CWD)$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !own.test(k)));
}

/** A copy of the project as a clone has it, with this project's node_modules (the build's tools) linked in. */
function copyProject(into: string): void {
  cpSync(ROOT, into, {
    recursive: true,
    filter: (from) => {
      const rel = path.relative(ROOT, from);
      const top = rel.split(path.sep)[0] ?? "";
      return !NOT_IN_A_CLONE.has(top) && !/\.(tgz|db|db-wal|db-shm)$/.test(rel) && top !== ".env";
    },
  });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(into, "node_modules"), "junction");
}

/** The TypeScript sources the installed CLI runs compiled, as the paths of their .js in the tarball. */
function compiledSources(): string[] {
  return ["src", "connectors"].flatMap((dir) =>
    readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".d.ts"))
      .map((f) => `dist/${dir}/${f.split(path.sep).join("/").replace(/\.ts$/, ".js")}`),
  );
}

/** The devDependency semver's range check (it ships no types of its own). */
const semver = createRequire(import.meta.url)("semver") as { subset(sub: string, sup: string): boolean };

/** Every package installed under `dir`, nested ones included: its folder and package.json. */
interface InstalledJson {
  name?: string;
  version?: string;
  engines?: unknown;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function installedPackages(dir: string): { dir: string; json: InstalledJson }[] {
  const modules = path.join(dir, "node_modules");
  if (!existsSync(modules)) return [];
  return readdirSync(modules)
    .filter((d) => !d.startsWith("."))
    .flatMap((d) => (d.startsWith("@") ? readdirSync(path.join(modules, d)).map((s) => path.join(modules, d, s)) : [path.join(modules, d)]))
    .filter((p) => existsSync(path.join(p, "package.json")))
    .flatMap((p) => [{ dir: p, json: JSON.parse(readFileSync(path.join(p, "package.json"), "utf8")) as InstalledJson }, ...installedPackages(p)]);
}

/** Imports every module of the installed package but the CLI's entry point (which would run). */
const IMPORT_EVERY_MODULE = `
import { readdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
const dist = path.join(process.argv[1], "dist");
const files = readdirSync(dist, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js") && f !== path.join("src", "cli.js"));
for (const f of files) await import(pathToFileURL(path.join(dist, f)).href);
console.log(files.length);
process.exit(0);
`;

let tmp: string;
let project: string;
let tarball: { filename: string; files: string[]; size: number; unpackedSize: number };
let installed: string;
let binDir: string;
let emulator: QuoEmulator;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "quo-sync-install-"));
  project = path.join(tmp, "project");
  copyProject(project);

  let started = Date.now();
  const out = await npm(["pack", "--json", "--pack-destination", tmp], project);
  // The JSON follows whatever prepack printed.
  const [packed] = JSON.parse(out.slice(out.indexOf("["))) as { filename: string; files: { path: string }[]; size: number; unpackedSize: number }[];
  tarball = { ...packed!, files: packed!.files.map((f) => f.path) };
  console.log(`npm pack: ${tarball.files.length} files, ${(tarball.size / 1024).toFixed(0)} kB (${(tarball.unpackedSize / 1024).toFixed(0)} kB unpacked), ${((Date.now() - started) / 1000).toFixed(0)} s`);

  // A prefix of its own, with the npm settings of the real global config file (which `--prefix`
  // would otherwise look for under the new prefix).
  const prefix = path.join(tmp, "prefix");
  const globalconfig = (await npm(["config", "get", "globalconfig"], tmp)).trim();
  started = Date.now();
  await npm(
    [
      "install",
      "--global",
      "--prefix",
      prefix,
      "--globalconfig",
      globalconfig,
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      // better-sqlite3's install script fetches or builds the SQLite driver (npm 11 asks to allow it).
      "--allow-scripts=better-sqlite3",
      path.join(tmp, tarball.filename),
    ],
    tmp,
  );
  console.log(`npm install -g of the tarball: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  installed = WIN ? path.join(prefix, "node_modules", pkg.name) : path.join(prefix, "lib", "node_modules", pkg.name);
  binDir = WIN ? prefix : path.join(prefix, "bin");

  emulator = await startQuoEmulator({ apiKeys: [API_KEY], requestsPerSecond: 0 });
}, INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await emulator?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  for (const c of emulator.contacts()) emulator.appDelete(c.id);
  emulator.resetStats();
});

/** A folder outside the project holding the example CSV and config the package ships. */
function userFolder(): string {
  const dir = mkdtempSync(path.join(tmp, "user-"));
  // As the README's first hour has it: the example config at the folder's root, reading ./examples/contacts.csv.
  cpSync(path.join(installed, "examples", "quo-sync.config.json"), path.join(dir, "quo-sync.config.json"));
  mkdirSync(path.join(dir, "examples"));
  cpSync(path.join(installed, "examples", "contacts.csv"), path.join(dir, "examples", "contacts.csv"));
  return dir;
}

/** Runs the installed command by name, as a shell finds it on PATH. */
function quoSync(args: readonly string[], cwd: string, extra: Record<string, string> = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
    HOME: process.env.HOME,
    ...(WIN ? { SystemRoot: process.env.SystemRoot, PATHEXT: process.env.PATHEXT } : {}),
    QUO_API_KEY: API_KEY,
    QUO_BASE_URL: emulator.url,
    LOG_LEVEL: "warn",
    ...extra,
  };
  return run("quo-sync", args, { cwd, env });
}

describe("the tarball", () => {
  it("holds the compiled CLI, every compiled source, both migration folders, the schema and the docs", () => {
    const files = new Set(tarball.files);
    const missing = [
      ...SHIPPED_FILES.filter((f) => f !== "LICENSE" || existsSync(path.join(ROOT, "LICENSE"))),
      "docs/daemon.md",
      "examples/contacts.csv",
      "examples/quo-sync.config.json",
      ...compiledSources(),
      ...["migrations", "migrations/pg"].flatMap((dir) => {
        const journal = JSON.parse(readFileSync(path.join(ROOT, dir, "meta", "_journal.json"), "utf8")) as { entries: { tag: string }[] };
        return [`${dir}/meta/_journal.json`, ...journal.entries.map((e) => `${dir}/${e.tag}.sql`)];
      }),
    ].filter((f) => !files.has(f));
    expect(missing).toEqual([]);
    expect(files.has("dist/src/cli.js")).toBe(true);
  });

  it("holds nothing else: no tests, emulators, fixtures, benchmarks, scripts, sources or source maps", () => {
    const stray = tarball.files.filter((f) => !SHIPPED_FILES.includes(f) && !SHIPPED_FOLDERS.some((d) => f.startsWith(d)));
    expect(stray).toEqual([]);
    expect(tarball.files.filter((f) => /(^|\/)(test|tests|bench|scripts|fixtures)\/|emulator|\.map$|\.ts$|\.test\.|_snapshot\.json$/.test(f))).toEqual([]);
  });
});

describe("npm install -g . in a clone", () => {
  it("links the command to the clone, which then runs from any folder", async () => {
    // The copy was built by npm pack's prepack above, as `npm run build` builds a clone.
    const prefix = path.join(tmp, "linked");
    await npm(["install", "--global", "--prefix", prefix, "--no-audit", "--no-fund", "."], project);
    const bin = WIN ? path.join(prefix, "quo-sync.cmd") : path.join(prefix, "bin", "quo-sync");
    const r = await run(bin, ["--version"], { cwd: mkdtempSync(path.join(tmp, "anywhere-")), env: { PATH: process.env.PATH } });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe("the installed command", () => {
  it("is on PATH and answers --version and --help from any folder", async () => {
    const cwd = mkdtempSync(path.join(tmp, "anywhere-"));
    const version = await quoSync(["--version"], cwd);
    expect(version.stderr).toBe("");
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
    const help = await quoSync(["--help"], cwd);
    expect(help.status).toBe(0);
    for (const command of ["sync", "plan", "daemon", "status", "check", "fields"]) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
  });

  it("has its runtime dependencies, no devDependency, and can import every module it ships", async () => {
    // Installed inside the project, Node could resolve the project's own node_modules from it.
    expect(path.relative(ROOT, installed).startsWith("..")).toBe(true);
    const packages = installedPackages(installed);
    const names = new Set(packages.map((p) => p.json.name));
    expect(Object.keys(pkg.dependencies).filter((d) => !names.has(d))).toEqual([]);
    // A devDependency may be there only as another installed package's own dependency.
    const wanted = new Set(packages.flatMap(({ json }) => [json.dependencies, json.optionalDependencies, json.peerDependencies].flatMap((d) => Object.keys(d ?? {}))));
    expect(Object.keys(pkg.devDependencies).filter((d) => names.has(d) && !wanted.has(d))).toEqual([]);
    // engines.node admits no Node version that what was installed refuses.
    const refusing = packages.flatMap(({ json }) => {
      const range = (json.engines as { node?: unknown } | undefined)?.node;
      return typeof range === "string" && !semver.subset(pkg.engines.node, range) ? [`${json.name}@${json.version} wants ${range}`] : [];
    });
    expect(refusing).toEqual([]);
    const r = await run(process.execPath, ["--input-type=module", "-e", IMPORT_EVERY_MODULE, installed], { cwd: tmp, env: { PATH: process.env.PATH } });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(Number(r.stdout.trim())).toBe(compiledSources().length - 1);
  });

  it("syncs the example CSV into Quo with its state in SQLite, and a rerun sends nothing", async () => {
    const dir = userFolder();
    const first = await quoSync(["sync", "--format", "json"], dir);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    const [report] = reports(first.stdout);
    expect(report.sync).toBe("leads");
    expect(report.counts).toEqual({ create: 11, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 3, failed: 0, skipped: 0, filtered: 0 });
    expect(report.rejected.map((r: { key: string }) => r.key).sort()).toEqual(["1011", "1012", "1013"]);
    const contacts = emulator.contacts();
    expect(contacts.map((c) => c.externalId).sort()).toEqual(["1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008", "1009", "1010", "1014"].map((k) => `leads:${k}`));
    const ada = contacts.find((c) => c.externalId === "leads:1001");
    expect(ada?.defaultFields).toMatchObject({ firstName: "Ada", lastName: "Lovelace", company: "Analytical Engines", role: "Founder" });
    expect(ada?.defaultFields.phoneNumbers).toEqual([expect.objectContaining({ name: "mobile", value: "+14155550132" })]);
    // The state database is where the config says, beside it, created by the shipped migrations.
    expect(existsSync(path.join(dir, "quo-sync.db"))).toBe(true);

    emulator.resetStats();
    const again = await quoSync(["sync", "--format", "json"], dir);
    expect(again.status).toBe(0);
    expect(reports(again.stdout)[0].counts).toMatchObject({ create: 0, update: 0, delete: 0, unchanged: 11, rejected: 3 });
    expect(emulator.stats().requests).toBe(0);
  });

  describe("with its state in PostgreSQL", () => {
    let pgServer: PgServer;
    beforeAll(async () => {
      pgServer = await startPostgres();
    });
    afterAll(async () => {
      await pgServer?.stop();
    });

    it("applies the shipped PostgreSQL migrations and syncs", async () => {
      const dir = userFolder();
      const env = { QUO_SYNC_DATABASE_URL: await pgServer.createDatabase() };
      const first = await quoSync(["sync", "--format", "json"], dir, env);
      expect(first.stderr).toBe("");
      expect(first.status).toBe(0);
      expect(reports(first.stdout)[0].counts).toMatchObject({ create: 11, rejected: 3, failed: 0 });
      expect(emulator.contacts()).toHaveLength(11);
      expect(existsSync(path.join(dir, "quo-sync.db"))).toBe(false);

      const status = await quoSync(["status", "--format", "json"], dir, env);
      expect(status.status).toBe(0);
      expect(JSON.parse(status.stdout)).toEqual([expect.objectContaining({ sync: "leads", contacts: 11, runs: [expect.objectContaining({ outcome: "ok" })] })]);
    });
  });
});
