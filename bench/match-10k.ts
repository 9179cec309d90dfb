/**
 * Child process of the benchmark, so it measures its own peak memory: the first run of a sync with
 * `match` (a dry run: nothing is written) against a workspace already holding contacts.
 *   match-10k DIR CSV QUO_URL KEY
 * Reads the CSV, plans, lists the workspace (`GET /v1/contacts`, 50 a page), plans again with the
 * index, and prints timings, requests and this process's peak RSS as one JSON line.
 */
import { readWorkspace, wantedValues } from "../src/execute/workspace-index.js";
import { parseConfig } from "../src/config.js";
import { plan } from "../src/plan/planner.js";
import { QuoClient } from "../src/quo/client.js";
import { readSnapshot } from "../src/sources.js";

const [, , dir, csvName, url, key] = process.argv;
if (!dir || !csvName || !url || !key) throw new Error("usage: match-10k DIR CSV QUO_URL KEY");
const sync = parseConfig({
  syncs: [
    {
      name: "bench",
      source: { type: "csv", path: csvName },
      key: "id",
      fields: { firstName: "First Name", lastName: "Last Name", company: "Company", phoneNumbers: { mobile: "Phone", work: "Work Phone" }, emails: { work: "Email" } },
      match: { by: ["phone", "email"] },
    },
  ],
}).syncs[0]!;

const snapshot = await readSnapshot(sync.source, { baseDir: dir, env: process.env, wanted: [] });
const client = new QuoClient({ baseUrl: url, apiKey: key, requestsPerSecond: 1000 });
const t0 = performance.now();
const first = plan(snapshot, [], { sync, customFields: [], allowDeletes: false });
const t1 = performance.now();
const ws = await readWorkspace(client, wantedValues(first), sync.defaultCountry);
const t2 = performance.now();
const p = plan(snapshot, [], { sync, customFields: [], allowDeletes: false, workspace: ws.index });
const t3 = performance.now();

process.stdout.write(
  JSON.stringify({
    rows: snapshot.rows.length,
    listed: ws.listed,
    requests: client.stats.requests,
    listMs: Math.round(t2 - t1),
    planMs: Math.round(t1 - t0 + (t3 - t2)),
    creates: p.counts.create,
    links: p.counts.link,
    rejected: p.counts.rejected,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  }) + "\n",
);
