/**
 * HubSpot requests per day of a sync run once a minute (`hubspot` in `npm run bench`): a full read
 * every run against incremental reads (`source.incremental`, a full refresh every 24 h), idle and
 * with about 10 contacts edited a minute. Every figure counts the requests the HubSpot emulator
 * received during real runs (`runSync`, the CLI's code path); a day is then 1,440 runs: one full
 * refresh and 1,439 incremental runs, each costing what the measured runs cost on average.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseConfig, type LoadedConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { QuoClient } from "../src/quo/client.js";
import { runSync } from "../src/run.js";
import { startHubspotEmulator, type HubspotEmulator } from "../test/emulators/hubspot-emulator.js";
import { startQuoEmulator } from "../test/emulators/quo-emulator.js";

const TOKEN = "bench-hubspot-token";
const QUO_KEY = "bench-key";
/** One run a minute, all day. */
const RUNS_PER_DAY = 1_440;
/** Incremental runs measured per case; their mean stands for each of the day's 1,439. */
const MEASURED_RUNS = 5;
/** Contacts edited in HubSpot between two runs in the "busy" case: about 10 a minute. */
const EDITS_PER_RUN = 10;
const HOUR_MS = 3_600_000;

/** The requests of one portal size, per run and per day. */
export interface HubspotRequestFigures {
  contacts: number;
  /** A full read: the property check and the listing, 100 contacts a page. */
  fullRun: number;
  /** Mean requests of an incremental run with nothing changed. */
  idleRun: number;
  /** Mean requests of an incremental run after `EDITS_PER_RUN` edits. */
  busyRun: number;
  perDay: { full: number; idle: number; busy: number };
}

function loaded(dir: string): LoadedConfig {
  const config = parseConfig({
    state: path.join(dir, "state.db"),
    syncs: [
      {
        name: "crm",
        source: { type: "hubspot", requestsPer10Seconds: 1000, incremental: { fullEvery: "24h" } },
        fields: { firstName: "firstname", lastName: "lastname", company: "company", phoneNumbers: { work: "phone" } },
        deletes: "mirror",
      },
    ],
  });
  return { config, file: path.join(dir, "bench.json"), baseDir: dir };
}

const requests = (hubspot: HubspotEmulator): number => hubspot.stats().requests;

/** Measures one portal of `n` contacts (last modified an hour before, as an established portal's are). */
async function measure(n: number): Promise<HubspotRequestFigures> {
  const hubspot = await startHubspotEmulator({ tokens: [TOKEN], requestsPerWindow: 0 });
  const quo = await startQuoEmulator({ apiKeys: [QUO_KEY], requestsPerSecond: 0 });
  const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-bench-hubspot-"));
  try {
    const ids = hubspot.addContacts(
      Array.from({ length: n }, (_, i) => ({ firstname: `First${i}`, lastname: `Last${i}`, company: `Company ${i % 97}`, phone: `+1 415 ${200 + Math.floor(i / 10_000)} ${String(i % 10_000).padStart(4, "0")}` })),
    );
    hubspot.setModified(ids, new Date(Date.now() - HOUR_MS));
    const deps = {
      loaded: loaded(dir),
      env: { HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_URL: hubspot.url },
      logger: createLogger({ LOG_LEVEL: "error" }, { pretty: false }),
      // The initial load is not what is measured: let it run fast against the unlimited emulator.
      client: new QuoClient({ baseUrl: quo.url, apiKey: QUO_KEY, requestsPerSecond: 5000 }),
    };
    const run = async (full = false): Promise<number> => {
      hubspot.resetStats();
      const report = await runSync(deps, 0, { dryRun: false, allowDeletes: false, full });
      if (report.outcome !== "ok" || report.counts.failed > 0) throw new Error(`a benchmark run ended ${report.outcome} with ${report.counts.failed} failed`);
      return requests(hubspot);
    };
    await run();
    const fullRun = await run(true);
    let idle = 0;
    for (let i = 0; i < MEASURED_RUNS; i++) idle += await run();
    let busy = 0;
    for (let i = 0; i < MEASURED_RUNS; i++) {
      for (let e = 0; e < EDITS_PER_RUN; e++) hubspot.update(ids[(i * EDITS_PER_RUN + e) * 97 % n] as string, { company: `Edited ${i}-${e}` });
      busy += await run();
    }
    const idleRun = idle / MEASURED_RUNS;
    const busyRun = busy / MEASURED_RUNS;
    return {
      contacts: n,
      fullRun,
      idleRun,
      busyRun,
      perDay: { full: RUNS_PER_DAY * fullRun, idle: fullRun + (RUNS_PER_DAY - 1) * idleRun, busy: fullRun + (RUNS_PER_DAY - 1) * busyRun },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await hubspot.close();
    await quo.close();
  }
}

/** The figures for 10,000 and 50,000 contacts. */
export async function hubspotRequests(): Promise<HubspotRequestFigures[]> {
  const out: HubspotRequestFigures[] = [];
  for (const n of [10_000, 50_000]) out.push(await measure(n));
  return out;
}
