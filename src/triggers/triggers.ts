/**
 * What starts a run besides the clock, as the daemon sets it up: watched CSV files and the webhook
 * endpoints, both asking for runs through one `RunCoalescer`.
 */
import type { LoadedConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import type { RunCoalescer } from "./run-coalescer.js";
import { watchFile, type FileWatch } from "./watch-file.js";
import type { WebhookSecrets } from "./webhook-routes.js";

/** The environment variable naming the daemon's public base URL, which HubSpot signs (behind a reverse proxy). */
export const PUBLIC_URL_ENV = "QUO_SYNC_PUBLIC_URL";

/** A sync whose CSV file is watched: its name and the file's absolute path. */
export interface WatchedSync {
  name: string;
  path: string;
}

/** The syncs with `source.watch: true` (CSV sources only: the config refuses it elsewhere). */
export function watchedSyncs(loaded: LoadedConfig): WatchedSync[] {
  return loaded.config.syncs.flatMap((s) => (s.source.type === "csv" && s.source.watch ? [{ name: s.name, path: s.source.path }] : []));
}

/** Whether the config asks for anything that starts runs besides schedules. */
export function hasTriggers(loaded: LoadedConfig): boolean {
  const w = loaded.config.webhooks;
  return watchedSyncs(loaded).length > 0 || w.hubspot !== undefined || w.quo !== undefined;
}

/**
 * The webhook secrets from the environment variables the config names. Throws `ConfigError`
 * naming the variable (never its value) when one is configured but unset or empty.
 */
export function webhookSecrets(loaded: LoadedConfig, env: NodeJS.ProcessEnv): WebhookSecrets {
  const w = loaded.config.webhooks;
  const read = (setting: string, name: string): string => {
    const v = env[name]?.trim();
    if (!v) throw new ConfigError(`${loaded.file}: ${setting} names ${name}, which is not set: set it to the webhook's signing secret, or remove ${setting}`);
    return v;
  };
  return {
    ...(w.hubspot ? { hubspot: w.hubspot.clientSecretEnv ? read("webhooks.hubspot.clientSecretEnv", w.hubspot.clientSecretEnv) : read("webhooks.hubspot.secretEnv", w.hubspot.secretEnv!) } : {}),
    ...(w.quo ? { quo: read("webhooks.quo.secretEnv", w.quo.secretEnv) } : {}),
  };
}

/**
 * The public base URL from `QUO_SYNC_PUBLIC_URL` (e.g. `https://sync.example.com`), or undefined.
 * Throws `ConfigError` when it is not an http(s) URL without query or fragment.
 */
export function publicUrlOf(env: NodeJS.ProcessEnv): string | undefined {
  const v = env[PUBLIC_URL_ENV]?.trim();
  if (!v) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(`${PUBLIC_URL_ENV}: '${v}' is not a URL; give the daemon's public base URL, e.g. https://sync.example.com`);
  }
  if ((u.protocol !== "https:" && u.protocol !== "http:") || u.search || u.hash) throw new ConfigError(`${PUBLIC_URL_ENV}: '${v}' must be an http(s) URL without query or fragment, e.g. https://sync.example.com`);
  return v.replace(/\/+$/, "");
}

/**
 * Watches every watched sync's file; each settled change asks for a run (trigger `watch`). Throws
 * `ConfigError` when a file's directory cannot be watched. `close()` ends every watch.
 */
export function startWatches(loaded: LoadedConfig, coalescer: RunCoalescer, logger: Logger): { close(): void } {
  const watches: FileWatch[] = [];
  try {
    for (const w of watchedSyncs(loaded)) {
      const log = logger.child({ sync: w.name, component: "watch" });
      watches.push(
        watchFile(
          w.path,
          () => {
            log.info("file changed: run requested");
            coalescer.ask(w.name, { trigger: "watch" });
          },
          { onError: (e) => log.error(`watching the file stopped: ${e instanceof Error ? e.message : String(e)}`) },
        ),
      );
      log.info({ file: w.path }, "watching the source file");
    }
  } catch (e) {
    for (const w of watches) w.close();
    throw new ConfigError(`cannot watch a source file: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { close: () => watches.forEach((w) => w.close()) };
}
