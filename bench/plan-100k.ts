/**
 * Child process of the benchmark: reads a 100,000-row CSV, plans it against a state that matches
 * all but 1% of it, and prints timings and this process's peak memory as one JSON line.
 */
import { parseConfig } from "../src/config.js";
import type { SyncRow } from "../src/model.js";
import { plan } from "../src/plan/planner.js";
import { readSnapshot } from "../src/sources.js";

const [, , dir, csvName] = process.argv;
if (!dir || !csvName) throw new Error("usage: plan-100k DIR CSV");
const config = parseConfig({
  state: "unused.db",
  syncs: [
    {
      name: "bench",
      source: { type: "csv", path: csvName },
      key: "id",
      fields: { firstName: "First Name", lastName: "Last Name", company: "Company", phoneNumbers: { mobile: "Phone", work: "Work Phone" }, emails: { work: "Email" } },
      deletes: "mirror",
    },
  ],
});
const sync = config.syncs[0]!;

const t0 = performance.now();
const snapshot = await readSnapshot(sync.source, { baseDir: dir, env: process.env });
const t1 = performance.now();

// State as after a previous run of the unedited file: plan once against an empty state.
const seed = plan(snapshot, [], { sync, customFields: [], allowDeletes: true });
const state: SyncRow[] = seed.actions.flatMap((a) =>
  a.action === "create" ? [{ key: a.key, quoId: `CT${a.key}`, hash: a.hash, fields: a.fields, itemIds: { phoneNumbers: {}, emails: {} } }] : [],
);
// 1% of the rows edited since.
for (let i = 0; i < snapshot.rows.length; i += 100) {
  const r = snapshot.rows[i]!;
  r.values["Last Name"] = `${r.values["Last Name"]}-edited`;
}

const t2 = performance.now();
const p = plan(snapshot, state, { sync, customFields: [], allowDeletes: true });
const t3 = performance.now();

process.stdout.write(
  JSON.stringify({
    rows: snapshot.rows.length,
    readMs: Math.round(t1 - t0),
    planMs: Math.round(t3 - t2),
    updates: p.counts.update,
    unchanged: p.counts.unchanged,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  }) + "\n",
);
