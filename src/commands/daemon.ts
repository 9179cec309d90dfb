/**
 * `quo-sync daemon`: runs each sync on its cron `schedule` until SIGTERM/SIGINT (with `--run-now`,
 * once at start too), optionally serving `/healthz` and `/metrics`. Everything is checked before
 * the first tick (schedules, the API key of each workspace a scheduled sync uses, the state
 * database), so a bad deployment fails at once with exit 1 instead of at 3 a.m.; a bad `--http`
 * address is a usage error (64), found by the command line.
 */
import { ALERT_DRAIN_ON_STOP_MS, Alerter } from "../alerts/alerter.js";
import { consoleRoutes, disabledConsoleRoutes } from "../console/console.js";
import { ConsoleViews } from "../console/views.js";
import { ConfigError } from "../errors.js";
import type { LoadedConfig } from "../config.js";
import type { Logger } from "../log.js";
import { combineRoutes, startHealthServer, type HealthServer } from "../daemon/health-server.js";
import { DaemonMetrics } from "../daemon/metrics.js";
import { Scheduler } from "../daemon/scheduler.js";
import { parseHttpAddress, planSchedules } from "../daemon/schedules.js";
import type { QuoClients } from "../quo/clients.js";
import { clientsFor, sharedRateOf, stateLocation } from "../run.js";
import { openStore, type StateStore } from "../state/store.js";
import { RunCoalescer } from "../triggers/run-coalescer.js";
import { hasTriggers, publicUrlOf, startWatches, webhookSecrets } from "../triggers/triggers.js";
import { webhookRoutes, type WebhookSecrets } from "../triggers/webhook-routes.js";
import { EXIT, describeError, fail, setup, workspacesOf, type GlobalOptions } from "./common.js";
import { onStopSignals } from "./stop-signals.js";

/**
 * How long a stop waits for the writes in flight, by default. Below systemd's and docker's default
 * grace period (90 s and 10 s): with docker, raise `--stop-timeout` or lower `--shutdown-timeout`.
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_S = 30;

export interface DaemonOptions extends GlobalOptions {
  http?: string;
  /** Seconds to wait for runs in progress after a stop signal (checked by the command line). */
  shutdownTimeout?: number;
  /** Run every scheduled sync once at start, through the same path and lock as a tick. */
  runNow?: boolean;
}

export async function daemonCommand(opts: DaemonOptions): Promise<number> {
  let ctx;
  let schedules;
  let clients: QuoClients;
  let workspaces: string[];
  let timeoutS = DEFAULT_SHUTDOWN_TIMEOUT_S;
  let http;
  let shared: StateStore | undefined;
  /** What the console reads: the shared store (PostgreSQL), or the SQLite file opened read-only for the daemon's life. */
  let consoleStore: StateStore | undefined;
  let consoleToken: string | undefined;
  let secrets: WebhookSecrets = {};
  let publicUrl: string | undefined;
  /** Where the webhook endpoints record delivery ids: the shared store, or the SQLite file opened for the daemon's life. */
  let webhookStore: StateStore | undefined;
  try {
    ctx = setup(opts);
    consoleToken = ctx.env.QUO_SYNC_CONSOLE_TOKEN?.trim() || undefined;
    schedules = planSchedules(ctx.loaded.config, hasTriggers(ctx.loaded));
    secrets = webhookSecrets(ctx.loaded, ctx.env);
    publicUrl = publicUrlOf(ctx.env);
    http = opts.http !== undefined ? parseHttpAddress(opts.http) : undefined;
    if (opts.shutdownTimeout !== undefined) timeoutS = opts.shutdownTimeout;
    // Opening creates and migrates the state: a path that cannot be written, or a database that
    // cannot be reached, fails here, not at the first tick. A shared state (PostgreSQL) stays open
    // for the daemon's life: every run uses its pool, and every request start of every key is
    // reserved in it. A SQLite file is opened by each run, as always.
    const store = await openStore(stateLocation(ctx.loaded, ctx.env));
    const sharedRate = sharedRateOf(store);
    if (sharedRate) shared = store;
    else await store.close();
    // Only with `--http` and a token: a SQLite file read by the console between runs (WAL lets it read beside a writer).
    if (http && consoleToken) consoleStore = shared ?? (await openStore(stateLocation(ctx.loaded, ctx.env), { readonly: true }));
    if (http && (secrets.hubspot || secrets.quo)) webhookStore = shared ?? (await openStore(stateLocation(ctx.loaded, ctx.env)));
    clients = clientsFor(ctx.loaded, ctx.env, ctx.logger, sharedRate);
    // Every workspace a scheduled sync uses gets its client now: a key that is not set fails the
    // start, naming its variable, instead of every tick of that workspace's syncs.
    workspaces = workspacesOf(ctx.loaded, schedules.scheduled.map((s) => s.index));
    for (const w of workspaces) clients.forWorkspace(w);
  } catch (e) {
    if (consoleStore !== shared) await consoleStore?.close().catch(() => {});
    if (webhookStore !== shared) await webhookStore?.close().catch(() => {});
    await shared?.close().catch(() => {});
    return fail(e);
  }
  // With the console, syncs without a schedule can be run on request (Run now). Their workspaces'
  // clients are made now too, but a missing key only warns: it fails those runs, not the start.
  // Watched files and webhooks run syncs without a schedule too.
  const onRequestOnly = consoleStore || hasTriggers(ctx.loaded) ? schedules.unscheduled : [];
  for (const w of workspacesOf(ctx.loaded, onRequestOnly.map((s) => s.index))) {
    if (workspaces.includes(w)) continue;
    try {
      clients.forWorkspace(w);
    } catch (e) {
      ctx.logger.warn({ workspace: w }, `console: syncs of this workspace cannot be run on request: ${describeError(e)}`);
    }
  }
  const { logger } = ctx;
  const metrics = new DaemonMetrics(
    schedules.scheduled.map((s) => s.name),
    () => clients.stats(workspaces),
  );
  const alerter = new Alerter({ loaded: ctx.loaded, env: ctx.env, logger: logger.child({ component: "alerts" }), counter: metrics });
  for (const v of alerter.missingVariables()) logger.warn(`alerts: ${v} is not set; the channel that names it sends nothing (quo-sync check reports it)`);
  const scheduler = new Scheduler({ loaded: ctx.loaded, env: ctx.env, logger, clients, metrics, syncs: schedules.scheduled, onRequestOnly, describe: describeError, ...(shared ? { store: shared } : {}), afterRun: (s) => alerter.afterRun(s.name, shared) });
  const coalescer = new RunCoalescer(scheduler, logger);
  if (!http && (secrets.hubspot || secrets.quo)) logger.warn("webhooks are configured but not served: start the daemon with --http");
  const signals = onStopSignals((signal) => logger.error({ signal, busy: scheduler.busy() }, "second stop signal: exiting now; the next start resolves the writes left in flight"));

  let server: HealthServer | undefined;
  if (http) {
    try {
      const httpLog = logger.child({ component: "http" });
      const pages =
        consoleStore && consoleToken
          ? consoleRoutes({ token: consoleToken, views: new ConsoleViews(ctx.loaded, consoleStore, scheduler), actions: scheduler, describe: describeError })
          : disabledConsoleRoutes();
      const routes = webhookStore ? combineRoutes(webhookRoutes({ loaded: ctx.loaded, secrets, store: webhookStore, coalescer, logger, ...(publicUrl ? { publicUrl } : {}) }), pages) : pages;
      server = await startHealthServer(
        http,
        { health: () => scheduler.health(), metrics: () => metrics.render(), metricsContentType: metrics.contentType },
        // The client got a bare 500; the reason is for the operator only.
        { routes, onError: (e, where) => httpLog.warn({ where }, `HTTP endpoint failed: ${describeError(e)}`) },
      );
    } catch (e) {
      signals.dispose();
      if (consoleStore !== shared) await consoleStore?.close().catch(() => {});
      if (webhookStore !== shared) await webhookStore?.close().catch(() => {});
      await shared?.close().catch(() => {});
      return fail(new ConfigError(`--http ${opts.http}: cannot listen there: ${e instanceof Error ? e.message : String(e)}`));
    }
    logger.info({ http: `${server.address.host}:${server.address.port}`, console: consoleStore !== undefined, webhooks: webhookStore ? Object.keys(secrets) : [] }, consoleStore ? "serving /healthz, /metrics and the console at /" : "serving /healthz and /metrics");
  }
  for (const s of schedules.unscheduled) logger.info({ sync: s.name }, consoleStore ? "not scheduled: the sync has no 'schedule'; the console can run it" : "not scheduled: the sync has no 'schedule'");
  await scheduler.start();
  let watches: { close(): void };
  try {
    watches = startWatches(ctx.loaded, coalescer, logger);
  } catch (e) {
    await scheduler.stop(0);
    await server?.close();
    signals.dispose();
    if (consoleStore !== shared) await consoleStore?.close().catch(() => {});
    if (webhookStore !== shared) await webhookStore?.close().catch(() => {});
    await shared?.close().catch(() => {});
    return fail(e);
  }
  // Contacts a Quo webhook named before the last process stopped, not yet read back: checked now.
  if (webhookStore && secrets.quo) await catchUpPendingChecks(ctx.loaded, webhookStore, coalescer, logger);
  const stopStallCheck = await alerter.watchStalls(schedules.scheduled, shared);
  logger.info({ syncs: schedules.scheduled.map((s) => s.name), workspaces, pid: process.pid, runNow: Boolean(opts.runNow) }, "daemon started");
  // Not awaited: the daemon waits for its stop signal meanwhile, and `stop` waits for these runs.
  if (opts.runNow) void scheduler.runNow();

  const signal = await signals.signalled;
  const busy = scheduler.busy();
  logger.info({ signal, busy }, busy.length ? `stopping: waiting up to ${timeoutS}s for the writes in flight` : "stopping");
  watches.close();
  const drained = await scheduler.stop(timeoutS * 1000);
  stopStallCheck();
  if (!(await alerter.drain(ALERT_DRAIN_ON_STOP_MS))) logger.warn(`alerts still being delivered after ${ALERT_DRAIN_ON_STOP_MS / 1000}s were abandoned`);
  await server?.close();
  if (webhookStore !== shared) await webhookStore?.close().catch(() => {});
  if (consoleStore !== shared) await consoleStore?.close().catch(() => {});
  await shared?.close().catch(() => {});
  signals.dispose();
  if (!drained) {
    logger.error({ totals: await metrics.totals() }, "daemon stopped with runs in progress");
    process.stderr.write(`quo-sync: stopped after ${timeoutS}s with runs still in progress (${scheduler.busy().join(", ")}); the next start resolves the writes left in flight\n`);
    return EXIT.error;
  }
  logger.info({ totals: await metrics.totals() }, "daemon stopped");
  return EXIT.ok;
}

/**
 * Asks for a run of every sync that has contacts a Quo webhook named but no run has read back yet
 * (the process that answered the delivery stopped first). A state that cannot be read only warns:
 * the next run of the sync reads them back anyway.
 */
async function catchUpPendingChecks(loaded: LoadedConfig, store: StateStore, coalescer: RunCoalescer, logger: Logger): Promise<void> {
  for (const s of loaded.config.syncs) {
    try {
      const keys = await store.pendingChecks(s.name);
      if (!keys.length) continue;
      logger.info({ sync: s.name, contacts: keys.length }, "contacts a Quo webhook named before the last stop: checking them now");
      coalescer.ask(s.name, { trigger: "webhook", verify: true, verifyKeys: keys });
    } catch (e) {
      logger.warn({ sync: s.name }, `could not read the contacts waiting to be checked: ${describeError(e)}`);
    }
  }
}
