/**
 * `quo-sync check`: can each source be read, and does Quo accept the credentials? Runs each
 * connector's `check` (which never throws: it reports) and one read of Quo (`GET /v1/contacts`,
 * one contact) per workspace the selected syncs use, and, with a PostgreSQL state, a read-only
 * connection to the database (with SQLite, that the state path names a file it can make); it writes
 * nothing anywhere — a safe first command after editing the config or the keys. Each alert channel's
 * variable must be set; with `--alert-test` each channel is sent a `test` alert. Exit 0 when
 * everything answers, 1 otherwise.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { Alerter } from "../alerts/alerter.js";
import { channelLabel, channelVariable } from "../alerts/send-alert.js";
import { mappedColumns, workspaceOf, type LoadedConfig, type SyncConfig } from "../config.js";
import { clientsFor, stateLocation } from "../run.js";
import { isPostgresUrl, openStore, redactDatabaseUrl } from "../state/store.js";
import { connectorFor, describeSource } from "../sources.js";
import { EXIT, describeError, emit, fail, selectSyncs, setup, workspacesOf, type GlobalOptions } from "./common.js";

/** `check`'s own options. */
export interface CheckOptions extends GlobalOptions {
  /** Send a `test` alert on each configured channel and report whether it arrived. */
  alertTest?: boolean;
}

/** One thing checked: a sync's source, Quo, the state, or an alert channel. */
export interface CheckLine {
  what: string;
  ok: boolean;
  /** Why not, in one line (never a secret). */
  message?: string;
}

/**
 * Checks every selected sync's source and the credentials of each workspace they use (one line per
 * workspace). Throws only for a config that cannot be loaded.
 */
export async function buildCheckReport(opts: CheckOptions): Promise<CheckLine[]> {
  const { loaded, env, logger } = setup(opts);
  const clients = clientsFor(loaded, env, logger);
  const indexes = selectSyncs(loaded, opts.sync);
  const lines: CheckLine[] = [];
  for (const i of indexes) {
    const sync = loaded.config.syncs[i] as SyncConfig;
    const ctx = { baseDir: loaded.baseDir, env, wanted: [...new Set(mappedColumns(sync, i).map((m) => m.column))] };
    const r = await connectorFor(sync.source).check(sync.source, ctx);
    const workspace = clients.named(workspaceOf(sync)) ? ` (workspace '${workspaceOf(sync)}')` : "";
    lines.push({ what: `sync '${sync.name}'${workspace}: source ${describeSource(sync.source)}`, ok: r.ok, ...(r.ok ? {} : { message: r.message }) });
  }
  for (const workspace of workspacesOf(loaded, indexes)) {
    const label = clients.named(workspace) ? `Quo workspace '${workspace}'` : "Quo";
    try {
      const client = clients.forWorkspace(workspace);
      await client.listContacts({ maxResults: 1 });
      lines.push({ what: `${label} (${client.authMode === "maton" ? "Maton gateway" : "API key"}, ${client.baseUrl})`, ok: true });
    } catch (e) {
      lines.push({ what: label, ok: false, message: describeError(e) });
    }
  }
  lines.push(await checkState(loaded, env));
  const first = loaded.config.syncs[indexes[0] ?? 0] as SyncConfig;
  lines.push(...(await checkAlerts(new Alerter({ loaded, env, logger }), loaded, env, opts.alertTest ? first : undefined)));
  return lines;
}

/**
 * One line per alert channel: its variable is set, and (with `testSync`) a `test` alert about that
 * sync arrived, or why not — never its address. `--alert-test` without any channel is a failure:
 * the person expected one. Never throws.
 */
async function checkAlerts(alerter: Alerter, loaded: LoadedConfig, env: NodeJS.ProcessEnv, testSync: SyncConfig | undefined): Promise<CheckLine[]> {
  const channels = loaded.config.alerts;
  if (!channels.length) return testSync ? [{ what: "alerts", ok: false, message: "--alert-test: the config has no 'alerts' channel to test" }] : [];
  if (testSync) {
    const results = await alerter.test(testSync.name, workspaceOf(testSync));
    return results.map((r) => ({ what: `alert channel ${r.channel}: test alert`, ok: r.ok, ...(r.ok ? {} : { message: r.reason ?? "not sent" }) }));
  }
  return channels.map((c) => {
    const variable = channelVariable(c);
    const set = Boolean(env[variable]?.trim());
    return { what: `alert channel ${channelLabel(c)}`, ok: set, ...(set ? {} : { message: `${variable} is not set (the channel's ${c.type === "email" ? "SMTP URL" : "URL"} is read from it)` }) };
  });
}

/**
 * The state's line: a PostgreSQL database must be reachable already (opened read-only); a SQLite
 * file is created by the first sync, so its path must name a file (not a folder) in a folder that
 * exists or can be made. Never throws.
 */
async function checkState(loaded: LoadedConfig, env: NodeJS.ProcessEnv): Promise<CheckLine> {
  let state: string;
  try {
    state = stateLocation(loaded, env);
  } catch (e) {
    return { what: "state", ok: false, message: describeError(e) };
  }
  if (isPostgresUrl(state)) {
    const what = `state database ${redactDatabaseUrl(state)}`;
    try {
      await (await openStore(state, { readonly: true })).close();
      return { what, ok: true };
    } catch (e) {
      return { what, ok: false, message: describeError(e) };
    }
  }
  if (existsSync(state)) return { what: `state file ${state}`, ok: true };
  const blocked = fileInTheWay(path.dirname(state));
  if (blocked) return { what: `state file ${state}`, ok: false, message: `state error: ${blocked} is a file, so the state's folder cannot be made there` };
  return { what: `state file ${state} (created by the first sync)`, ok: true };
}

/** The nearest existing ancestor of `dir` (itself included) when it is not a folder, else undefined. */
function fileInTheWay(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      return statSync(d).isDirectory() ? undefined : d;
    } catch {
      if (path.dirname(d) === d) return undefined;
    }
  }
}

function renderCheckTable(lines: readonly CheckLine[]): string {
  return lines.map((l) => `${l.ok ? "ok  " : "FAIL"}  ${l.what}${l.message ? `\n      ${l.message}` : ""}`).join("\n") + "\n";
}

export async function checkCommand(opts: CheckOptions): Promise<number> {
  try {
    const lines = await buildCheckReport(opts);
    emit(opts.format === "json" ? JSON.stringify({ ok: lines.every((l) => l.ok), checks: lines }, null, 2) + "\n" : renderCheckTable(lines), opts.out);
    return lines.every((l) => l.ok) ? EXIT.ok : EXIT.error;
  } catch (e) {
    return fail(e);
  }
}
