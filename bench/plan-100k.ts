/**
 * Child process of the benchmark, so each measures its own peak memory:
 *   plan-100k first DIR CSV DB   plan a CSV against an empty state (every row mapped, all creates),
 *                                then store the result as a run would (not timed);
 *   plan-100k rerun DIR CSV DB   plan the (edited) CSV against that state, loaded from SQLite;
 *   plan-100k policies DIR CSV DB  like first, with a where filter, computed fields and blanks kept
 *                                (`benchConfig(…, true)`), stored to its own state file;
 *   plan-100k explain DIR CSV DB like rerun, with `explain` (every row listed with its mapping).
 * Prints timings and this process's peak RSS as one JSON line.
 */
import path from "node:path";
import { plan } from "../src/plan/planner.js";
import { readSnapshot } from "../src/sources.js";
import { openStore } from "../src/state/store.js";
import { benchConfig } from "./bench-config.js";

const [, , mode, dir, csvName, dbName] = process.argv;
if (!["first", "rerun", "policies", "explain"].includes(mode ?? "") || !dir || !csvName || !dbName) throw new Error("usage: plan-100k first|rerun|policies|explain DIR CSV DB");
const sync = benchConfig(dbName, csvName, mode === "policies").syncs[0]!;
const fresh = mode === "first" || mode === "policies";

const t0 = performance.now();
const snapshot = await readSnapshot(sync.source, { baseDir: dir, env: process.env, wanted: [] });
const t1 = performance.now();
const store = await openStore(path.join(dir, dbName));
const state = fresh ? [] : await store.loadSyncRows("bench");
const t2 = performance.now();
const p = plan(snapshot, state, { sync, customFields: [], allowDeletes: true, ...(mode === "explain" ? { explain: true } : {}) });
const t3 = performance.now();

if (fresh) {
  const now = Date.now();
  const rows = p.actions.flatMap((a) => (a.action === "create" ? [{ key: a.key, quoId: `CT${a.key}`, hash: a.hash, fields: a.fields, itemIds: { phoneNumbers: {}, emails: {} }, sourceHash: a.sourceHash }] : []));
  await store.putRows("bench", rows, now);
}
await store.close();

process.stdout.write(
  JSON.stringify({
    rows: snapshot.rows.length,
    readMs: Math.round(t1 - t0),
    stateMs: Math.round(t2 - t1),
    planMs: Math.round(t3 - t2),
    creates: p.counts.create,
    updates: p.counts.update,
    unchanged: p.counts.unchanged,
    filtered: p.counts.filtered,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  }) + "\n",
);
