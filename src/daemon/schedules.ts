/**
 * Which syncs the daemon schedules, and when: every `schedule` is checked with node-cron before
 * anything is scheduled, so a typo in one sync stops the daemon at start instead of silently never
 * running that sync.
 */
import { validate } from "node-cron";
import type { Config } from "../config.js";
import { ConfigError } from "../errors.js";

/** A sync the daemon runs on a schedule. */
export interface ScheduledSync {
  /** The sync's index in `config.syncs`, as `runSync` takes it. */
  index: number;
  name: string;
  /** A node-cron expression: 5 fields, or 6 with seconds first. */
  schedule: string;
}

/** What the daemon will run, and the syncs it leaves alone because they have no `schedule`. */
export interface SchedulePlan {
  scheduled: ScheduledSync[];
  unscheduled: { index: number; name: string }[];
}

/**
 * Splits the configured syncs into scheduled and unscheduled ones. Throws `ConfigError` naming
 * every sync whose expression node-cron rejects (all of them at once, so one fix-and-restart
 * cycle suffices), or when no sync has a schedule at all (unless `triggered`: a watched file or a
 * webhook gives the daemon something to run).
 */
export function planSchedules(config: Config, triggered = false): SchedulePlan {
  const scheduled: ScheduledSync[] = [];
  const unscheduled: { index: number; name: string }[] = [];
  const problems: string[] = [];
  config.syncs.forEach((s, index) => {
    if (s.schedule === undefined) {
      unscheduled.push({ index, name: s.name });
      return;
    }
    const expr = s.schedule.trim();
    if (!validate(expr)) {
      problems.push(`syncs[${index}] (name '${s.name}'): schedule '${s.schedule}' is not a valid cron expression (5 fields, or 6 with seconds first, e.g. '0 * * * *')`);
      return;
    }
    scheduled.push({ index, name: s.name, schedule: expr });
  });
  if (problems.length) throw new ConfigError(problems.join("\n"));
  if (!scheduled.length && !triggered) throw new ConfigError(`no sync has a 'schedule', so the daemon has nothing to run (syncs: ${config.syncs.map((s) => s.name).join(", ")}); add one such as "schedule": "0 * * * *"`);
  return { scheduled, unscheduled };
}

/** Where `--http` asks the health server to listen. */
export interface HttpAddress {
  host: string;
  port: number;
}

/** Largest TCP port. */
const MAX_PORT = 65_535;

/**
 * Parses `--http HOST:PORT` (`127.0.0.1:9464`, `[::1]:9464`, `:9464` for all interfaces; port 0
 * picks a free one). Throws `ConfigError`.
 */
export function parseHttpAddress(value: string): HttpAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port > MAX_PORT) {
    throw new ConfigError(`--http ${value}: give HOST:PORT, such as 127.0.0.1:9464 or :9464 for every interface`);
  }
  const host = m[1] ?? m[2] ?? "";
  return { host: host || "0.0.0.0", port };
}
