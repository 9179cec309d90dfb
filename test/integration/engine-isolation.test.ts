/**
 * An engine never loads the other: a PostgreSQL deployment runs without better-sqlite3 (a native
 * module it may not even be able to build), and a SQLite one without `pg`. Checked twice: on the
 * import graph of the sources (what each engine's module can reach), and on the built CLI run as
 * a child process against PostgreSQL (what it actually loaded, read at its exit).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { postgresEngine } from "./engines.js";
import { ROOT, Workspace, cliEnv, personRow, runCli, useQuoEmulator } from "./harness.js";

/**
 * Every module `entry` loads when it is imported, transitively: local modules by path (relative to
 * the repository) and packages by name. Imports used only as types are left out, as the compiler
 * drops them; dynamic `import()`s are kept (they may run).
 */
function importGraph(entry: string): { local: Set<string>; packages: Set<string> } {
  const local = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    const rel = path.relative(ROOT, file);
    if (local.has(rel)) return;
    local.add(rel);
    const js = ts.transpileModule(readFileSync(file, "utf8"), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    for (const { fileName } of ts.preProcessFile(js, true, true).importedFiles) {
      if (fileName.startsWith(".")) visit(path.resolve(path.dirname(file), fileName.replace(/\.js$/, ".ts")));
      else packages.add(fileName.startsWith("@") ? fileName.split("/").slice(0, 2).join("/") : fileName.split("/")[0]!);
    }
  };
  visit(path.join(ROOT, entry));
  return { local, packages };
}

describe("the import graph of each engine", () => {
  it("PostgreSQL's store reaches neither the SQLite store nor better-sqlite3", () => {
    const g = importGraph("src/state/pg-store.ts");
    expect([...g.local].filter((f) => /sqlite/.test(f))).toEqual([]);
    expect(g.local).toContain("src/state/empty-store.ts");
    expect(g.packages).toContain("pg");
    expect(g.packages).not.toContain("better-sqlite3");
  });

  it("SQLite's store reaches neither the PostgreSQL store nor pg", () => {
    const g = importGraph("src/state/sqlite-store.ts");
    expect([...g.local].filter((f) => /pg-|postgres/.test(f))).toEqual([]);
    expect(g.packages).toContain("better-sqlite3");
    expect(g.packages).not.toContain("pg");
  });

  it("the empty store and the store interface import no engine statically", () => {
    for (const entry of ["src/state/empty-store.ts", "src/state/location.ts", "src/state/rows.ts"]) {
      const g = importGraph(entry);
      expect([...g.local].filter((f) => /(sqlite|pg)-store/.test(f)), entry).toEqual([]);
      expect(g.packages, entry).not.toContain("better-sqlite3");
      expect(g.packages, entry).not.toContain("pg");
    }
  });
});

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const probeDir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-probe-"));
afterAll(() => rmSync(probeDir, { recursive: true, force: true }));

/**
 * A module preloaded into the CLI (`--import`): at exit it writes whether better-sqlite3's native
 * library is mapped into the process, and which of its JavaScript files were loaded.
 */
function probe(out: string): string {
  const file = path.join(probeDir, `probe-${path.basename(out)}.mjs`);
  writeFileSync(
    file,
    `import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
process.on("exit", () => {
  const maps = readFileSync("/proc/self/maps", "utf8");
  writeFileSync(${JSON.stringify(out)}, JSON.stringify({
    nativeMapped: maps.includes("better_sqlite3.node"),
    pgLoaded: Object.keys(require.cache).some((k) => k.includes("/node_modules/pg/")),
    sqliteLoaded: Object.keys(require.cache).filter((k) => k.includes("better-sqlite3")),
  }));
});
`,
  );
  return file;
}

describe("the built CLI on a PostgreSQL state", () => {
  it("never loads better-sqlite3: status and plan of a never-used database, then sync, plan and status of a used one", async () => {
    ws.writeCsv([personRow(1), personRow(2)]);
    ws.writeConfig();
    const url = await postgresEngine.fresh();
    const steps = [
      ["status", "never-used"],
      ["plan", "never-used"],
      ["sync", "used"],
      ["plan", "used"],
      ["status", "used"],
    ] as const;
    for (const [command, db] of steps) {
      const out = path.join(probeDir, `${command}-${db}.json`);
      const r = await runCli([command, "--config", ws.config], cliEnv(emulator, { QUO_SYNC_DATABASE_URL: url, NODE_OPTIONS: `--import=${probe(out)}` }), ws.dir);
      expect(r.status, `${command} (${db}): ${r.stderr}`).toBe(0);
      const seen = JSON.parse(readFileSync(out, "utf8")) as { nativeMapped: boolean; pgLoaded: boolean; sqliteLoaded: string[] };
      expect(seen, `${command} (${db})`).toEqual({ nativeMapped: false, pgLoaded: true, sqliteLoaded: [] });
    }
    expect(emulator.contacts()).toHaveLength(2);
  });
});
