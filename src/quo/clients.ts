/**
 * The Quo clients of one process, one per workspace (README.md, "Several workspaces"). Quo limits
 * requests per API key, not per workspace name, so every client whose key is the same — two
 * workspaces configured with one key, or a named workspace with the default workspace's key —
 * shares one `Throttle`, and a 429 slows them all. With a `SharedRate` (the state in PostgreSQL),
 * every process sharing the state also shares each key's rate: each start is reserved in the
 * database first (docs/daemon.md, "Several daemons"). Keys are read from the environment when a
 * workspace's client is first asked for, so a variable that is not set fails only the syncs of
 * that workspace.
 */
import { DEFAULT_WORKSPACE, formatPath, hasWorkspaces, workspaceOf, type Config, type SyncConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import { checkBaseUrl } from "../net/base-url.js";
import { createHash } from "node:crypto";
import { Throttle } from "../net/throttle.js";
import { checkNoScheme, MATON_DEFAULT_BASE_URL, QUO_DEFAULT_BASE_URL, quoConnectionFromEnv, withMatonPrefix, type QuoAuthMode } from "./auth.js";
import { QuoClient, type QuoClientOptions, type QuoClientStats } from "./client.js";

/** Client settings the registry does not decide (timeouts, retries); tests and benchmarks tune them. */
export type QuoClientTuning = Omit<QuoClientOptions, "apiKey" | "matonApiKey" | "baseUrl" | "requestsPerSecond" | "throttle" | "logger" | "workspace" | "keyVariable">;

/** A request rate shared with the other processes using the same state (PostgreSQL's `reserveStart`). */
export interface SharedRate {
  /** Reserves the next start of `rate`, `spacingMs` after the one before; resolves with how long to wait. */
  reserve(rate: string, spacingMs: number): Promise<number>;
}

/**
 * The name a key's shared rate goes by in the state database: a digest, from which the key
 * cannot be recovered, the same in every process that holds the key. Never the key itself.
 */
export function rateName(key: string): string {
  return `quo:${createHash("sha256").update("quo-sync request rate\n").update(key).digest("hex").slice(0, 16)}`;
}

/**
 * Time between two starts of a shared rate: one second over the limit, plus 5 %. Quo counts
 * arrivals per wall-clock second; N + 1 starts spaced this far apart span 1.05 s, so a start that
 * reaches Quo up to 50 ms late (a busy event loop, a slower route from one host) still cannot make
 * N + 1 in one second. Costs 5 % of the limit (9.5/s of 10).
 */
export function startSpacingMs(perSecond: number): number {
  return (1000 * SHARED_RATE_MARGIN) / perSecond;
}

const SHARED_RATE_MARGIN = 1.05;

/** How to build a `QuoClients`. */
export interface QuoClientsOptions {
  config: Config;
  env: NodeJS.ProcessEnv;
  /** Share each key's rate with the other processes on the same state; without it, this process's throttle alone. */
  sharedRate?: SharedRate;
  /** Each client logs through a child of it bound to `{workspace}`; default silent. */
  logger?: Logger;
  tuning?: QuoClientTuning;
}

/** Where a workspace's requests go and how they are authenticated; never the key itself. */
export interface WorkspaceConnection {
  workspace: string;
  auth: QuoAuthMode;
  baseUrl: string;
  /** The variable the key is read from (`QUO_API_KEY`, `MATON_API_KEY`, or the workspace's `apiKeyEnv`). */
  keyVariable: string;
  /** The limit this workspace asks for; the shared throttle runs at the lowest one set for its key. */
  requestsPerSecond: number;
}

interface Resolved extends WorkspaceConnection {
  key: string;
}

const ZERO_STATS: QuoClientStats = { requests: 0, retries: 0, rateLimited: 0, serverErrors: 0, networkErrors: 0 };

/** The registry: `forSync` hands every sync of one workspace the same client. */
export class QuoClients {
  readonly #config: Config;
  readonly #env: NodeJS.ProcessEnv;
  readonly #logger: Logger | undefined;
  readonly #tuning: QuoClientTuning;
  readonly #sharedRate: SharedRate | undefined;
  #sharedRateFailed = false;
  readonly #clients = new Map<string, QuoClient>();
  /** By the key's value: held only here, in memory, and never listed, logged or returned. */
  readonly #throttles = new Map<string, { throttle: Throttle; perSecond: number }>();

  /** Never throws: nothing is read from the environment until a client is asked for. */
  constructor(opts: QuoClientsOptions) {
    this.#config = opts.config;
    this.#env = opts.env;
    this.#logger = opts.logger;
    this.#tuning = opts.tuning ?? {};
    this.#sharedRate = opts.sharedRate;
  }

  /**
   * The client of the sync's workspace, built on first use and then shared. Throws `ConfigError`
   * when the workspace's key variable is not set (naming the variable and the config path, never a
   * value), when `QUO_BASE_URL` is not a URL (default workspace), or for a workspace the config
   * does not define.
   */
  forSync(sync: SyncConfig): QuoClient {
    return this.forWorkspace(workspaceOf(sync));
  }

  /** The client of the named workspace (`DEFAULT_WORKSPACE` for the environment's). Throws as `forSync`. */
  forWorkspace(workspace: string): QuoClient {
    const built = this.#clients.get(workspace);
    if (built) return built;
    const r = this.#resolve(workspace);
    const named = this.#named(workspace);
    const shared = this.#throttleFor(r.key);
    const client = new QuoClient({
      ...this.#tuning,
      baseUrl: r.baseUrl,
      ...(r.auth === "maton" ? { matonApiKey: r.key } : { apiKey: r.key }),
      // The throttle decides the rate; the number is what the client's start-up log reports.
      throttle: shared.throttle,
      requestsPerSecond: shared.perSecond,
      ...(this.#logger ? { logger: this.#logger.child({ workspace }) } : {}),
      ...(named ? { workspace, keyVariable: r.keyVariable } : {}),
    });
    this.#clients.set(workspace, client);
    return client;
  }

  /** How the named workspace is reached, without building its client. Throws as `forSync`. */
  connection(workspace: string): WorkspaceConnection {
    const { key: _key, ...connection } = this.#resolve(workspace);
    return connection;
  }

  /**
   * Whether messages name `workspace`: always for a named one; for the default one only when the
   * config defines workspaces, so a config without any reads as it always did. Never throws.
   */
  named(workspace: string): boolean {
    return this.#named(workspace);
  }

  /**
   * The live counters of each named workspace's client, zero for one whose client is not built
   * yet, so metrics can show every workspace from the start. Never throws.
   */
  stats(workspaces: readonly string[]): Record<string, QuoClientStats> {
    const out: Record<string, QuoClientStats> = {};
    for (const w of workspaces) out[w] = this.#clients.get(w)?.stats ?? { ...ZERO_STATS };
    return out;
  }

  #named(workspace: string): boolean {
    return workspace !== DEFAULT_WORKSPACE || hasWorkspaces(this.#config);
  }

  /** One throttle per key, at the lowest rate any workspace with that key asks for. */
  #throttleFor(key: string): { throttle: Throttle; perSecond: number } {
    let shared = this.#throttles.get(key);
    if (!shared) {
      const rates = [DEFAULT_WORKSPACE, ...Object.keys(this.#config.workspaces)]
        .map((w) => this.#tryResolve(w))
        .filter((r): r is Resolved => r !== undefined && r.key === key)
        .map((r) => r.requestsPerSecond);
      const perSecond = Math.min(...rates);
      shared = { throttle: new Throttle(perSecond, this.#gateFor(key, perSecond)), perSecond };
      this.#throttles.set(key, shared);
    }
    return shared;
  }

  /** The throttle's gate through the shared rate, if there is one. */
  #gateFor(key: string, perSecond: number): { gate?: () => Promise<void> } {
    const shared = this.#sharedRate;
    if (!shared) return {};
    const name = rateName(key);
    const spacing = startSpacingMs(perSecond);
    return {
      gate: async () => {
        try {
          const wait = await shared.reserve(name, spacing);
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          this.#sharedRateFailed = false;
        } catch (e) {
          // The state database is unreachable: this process goes on within its own throttle (a
          // 429 still slows it), and the run's next journal write reports the database itself.
          if (!this.#sharedRateFailed) this.#logger?.warn(`the request rate shared through the state database is unavailable; holding this process's own rate: ${e instanceof Error ? e.message : String(e)}`);
          this.#sharedRateFailed = true;
        }
      },
    };
  }

  #tryResolve(workspace: string): Resolved | undefined {
    try {
      return this.#resolve(workspace);
    } catch {
      // A workspace whose key is missing shares no throttle; its own syncs report the problem.
      return undefined;
    }
  }

  #resolve(workspace: string): Resolved {
    if (workspace === DEFAULT_WORKSPACE) {
      const c = quoConnectionFromEnv(this.#env);
      const maton = c.mode === "maton";
      return {
        workspace,
        auth: c.mode,
        baseUrl: c.baseUrl,
        key: (maton ? c.matonApiKey : c.apiKey) as string,
        keyVariable: maton ? "MATON_API_KEY" : "QUO_API_KEY",
        requestsPerSecond: this.#config.quo.requestsPerSecond,
      };
    }
    const w = Object.hasOwn(this.#config.workspaces, workspace) ? this.#config.workspaces[workspace] : undefined;
    if (!w) {
      const known = Object.keys(this.#config.workspaces);
      throw new ConfigError(`no workspace named '${workspace}'; ${known.length ? `the workspaces are: ${known.join(", ")}` : "the config defines no workspaces"}`);
    }
    const path = (leaf: string) => formatPath(["workspaces", workspace, leaf]);
    const maton = w.auth === "maton";
    const key = this.#env[w.apiKeyEnv]?.trim();
    if (!key) {
      throw new ConfigError(`${w.apiKeyEnv} is not set; it holds the ${maton ? "Maton" : "Quo API"} key of workspace '${workspace}'`, path("apiKeyEnv"));
    }
    checkNoScheme(w.apiKeyEnv, key, maton ? 'the variable holds the key alone (quo-sync adds "Bearer " to the header)' : "Quo takes the raw key");
    let baseUrl = maton ? MATON_DEFAULT_BASE_URL : QUO_DEFAULT_BASE_URL;
    if (w.baseUrl !== undefined) {
      const checked = checkBaseUrl(w.baseUrl, { variable: path("baseUrl"), example: baseUrl });
      baseUrl = maton ? withMatonPrefix(checked) : checked;
    }
    return {
      workspace,
      auth: maton ? "maton" : "quo-api-key",
      baseUrl,
      key,
      keyVariable: w.apiKeyEnv,
      requestsPerSecond: w.requestsPerSecond ?? this.#config.quo.requestsPerSecond,
    };
  }
}
