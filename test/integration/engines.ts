/**
 * The two state engines as test fixtures: a suite written once runs on a SQLite file and on a real
 * PostgreSQL server (started once per test file, a fresh database per test).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import type { StoreEngine } from "../../src/state/store.js";
import { startPostgres, type PgServer } from "./postgres.js";

export interface EngineFixture {
  engine: StoreEngine;
  /** A location (file path or postgres:// URL) no test has used yet. */
  fresh(): Promise<string>;
}

let server: Promise<PgServer> | undefined;
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  if (server) await (await server).stop();
  server = undefined;
});

/** The PostgreSQL server of this test file, started on first use. */
export function postgresServer(): Promise<PgServer> {
  return (server ??= startPostgres());
}

export const sqliteEngine: EngineFixture = {
  engine: "sqlite",
  fresh: async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-state-"));
    dirs.push(dir);
    return path.join(dir, "state.db");
  },
};

export const postgresEngine: EngineFixture = {
  engine: "postgres",
  fresh: async () => (await postgresServer()).createDatabase(),
};

/** Both engines, for `describe.each(ENGINES)("… (%s)", …)`; the name is the engine. */
export const ENGINES = [
  ["sqlite", sqliteEngine],
  ["postgres", postgresEngine],
] as const;
