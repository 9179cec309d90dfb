/**
 * The two state schemas and their migrations: the SQLite schema (`src/state/schema.ts`) and the
 * PostgreSQL one (`src/state/schema-pg.ts`) declare the same tables and columns, as the row helpers
 * both engines share assume; and the migrations drizzle-kit generated from each are current, so a
 * schema change cannot ship without its migration.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getTableConfig as pgTableConfig, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { afterAll, describe, expect, it } from "vitest";
import * as pgSchema from "../../src/state/schema-pg.js";
import * as sqliteSchema from "../../src/state/schema.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Tables only PostgreSQL has, and why: none may appear here without a reason.
 * - `rate_slots`: the request rate shared by every process using one database
 *   (`StateStore.reserveStart`); a SQLite file is used by one process at a time, whose own throttle
 *   holds the rate.
 */
const POSTGRES_ONLY = new Set(["rate_slots"]);

interface TableShape {
  columns: Record<string, { notNull: boolean }>;
  primaryKey: string[];
  indexes: Record<string, string[]>;
}

/** A table as both dialects can describe it: column names and nullability, primary key, indexes. */
function shape(cfg: { columns: { name: string; notNull: boolean; primary: boolean }[]; primaryKeys: { columns: { name: string }[] }[]; indexes: { config: { name?: string; columns: unknown[] } }[] }): TableShape {
  const single = cfg.columns.filter((c) => c.primary).map((c) => c.name);
  return {
    columns: Object.fromEntries(cfg.columns.map((c) => [c.name, { notNull: c.notNull }])),
    primaryKey: single.length ? single : (cfg.primaryKeys[0]?.columns.map((c) => c.name) ?? []),
    indexes: Object.fromEntries(cfg.indexes.map((i) => [i.config.name ?? "(unnamed)", i.config.columns.map((c) => (c as { name: string }).name)])),
  };
}

function sqliteTables(): Map<string, TableShape> {
  const out = new Map<string, TableShape>();
  for (const t of Object.values(sqliteSchema)) {
    if (!(t instanceof SQLiteTable)) continue;
    const cfg = sqliteTableConfig(t);
    out.set(cfg.name, shape(cfg));
  }
  return out;
}

function pgTables(): Map<string, TableShape> {
  const out = new Map<string, TableShape>();
  for (const t of Object.values(pgSchema)) {
    if (!(t instanceof PgTable)) continue;
    const cfg = pgTableConfig(t);
    out.set(cfg.name, shape(cfg));
  }
  return out;
}

describe("schema parity", () => {
  it("both engines declare the same tables (but PostgreSQL's own), each with the same columns, nullability, primary key and indexes", () => {
    const sqlite = sqliteTables();
    const pg = pgTables();
    expect(sqlite.size).toBeGreaterThanOrEqual(6);
    expect([...pg.keys()].filter((t) => !sqlite.has(t)).sort()).toEqual([...POSTGRES_ONLY].sort());
    expect([...sqlite.keys()].filter((t) => !pg.has(t))).toEqual([]);
    for (const [name, table] of sqlite) expect(pg.get(name), name).toEqual(table);
  });

  it("every PostgreSQL-only table is still declared (the exception list is not stale)", () => {
    const pg = pgTables();
    for (const t of POSTGRES_ONLY) expect(pg.has(t), t).toBe(true);
  });
});

/** drizzle-kit's command line, as `npm run db:generate` runs it (the package exports no path to it). */
const DRIZZLE_KIT = path.join(ROOT, "node_modules", "drizzle-kit", "bin.cjs");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every file under `dir` (relative path → content), to see what a generate added or changed. */
function tree(dir: string, base = dir): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) Object.assign(out, tree(p, base));
    else out[path.relative(base, p)] = readFileSync(p, "utf8");
  }
  return out;
}

const DIALECTS = [
  { dialect: "sqlite", schema: "src/state/schema.ts", out: "migrations", last: "0006_pending_checks" },
  { dialect: "postgresql", schema: "src/state/schema-pg.ts", out: "migrations/pg", last: "0003_pending_checks" },
] as const;

/**
 * Runs `drizzle-kit generate` for a dialect against a copy of its migrations folder (`prepare` may
 * change the copy first); returns the copy's files before and after, and what drizzle-kit printed.
 * drizzle-kit takes `out` relative to its working folder, so it runs in the copy's parent.
 */
function generate(d: (typeof DIALECTS)[number], prepare: (copy: string) => void = () => {}): { before: Record<string, string>; after: Record<string, string>; output: string } {
  const work = mkdtempSync(path.join(os.tmpdir(), "quo-sync-migrations-"));
  dirs.push(work);
  const copy = path.join(work, "out");
  cpSync(path.join(ROOT, d.out), copy, { recursive: true, filter: (src) => d.dialect !== "sqlite" || !src.startsWith(path.join(ROOT, "migrations", "pg")) });
  prepare(copy);
  writeFileSync(path.join(work, "drizzle.config.json"), JSON.stringify({ dialect: d.dialect, schema: path.join(ROOT, d.schema), out: "./out" }));
  const before = tree(copy);
  const r = spawnSync(process.execPath, [DRIZZLE_KIT, "generate", "--config", "drizzle.config.json"], { cwd: work, encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
  const output = `${r.stdout}${r.stderr}`;
  expect(r.status, output).toBe(0);
  // drizzle-kit exits 0 after some errors too: an error means nothing was checked.
  expect(output, output).not.toMatch(/Error/);
  return { before, after: tree(copy), output };
}

describe.each(DIALECTS)("the $dialect migrations", (d) => {
  it("are current: drizzle-kit generates nothing new from the schema", () => {
    const { before, after, output } = generate(d);
    expect(output).toMatch(/No schema changes, nothing to migrate/);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect(after).toEqual(before);
  }, 90_000);

  it("a folder that lacks the last migration gets one generated (the check above can fail)", () => {
    const { before, after } = generate(d, (copy) => {
      const journalFile = path.join(copy, "meta", "_journal.json");
      const journal = JSON.parse(readFileSync(journalFile, "utf8")) as { entries: { idx: number; tag: string }[] };
      const last = journal.entries.pop()!;
      expect(last.tag).toBe(d.last);
      writeFileSync(journalFile, JSON.stringify(journal, null, 2));
      rmSync(path.join(copy, `${last.tag}.sql`));
      rmSync(path.join(copy, "meta", `${String(last.idx).padStart(4, "0")}_snapshot.json`));
    });
    expect(Object.keys(after).filter((f) => !(f in before) && f.endsWith(".sql"))).toHaveLength(1);
  }, 90_000);
});
