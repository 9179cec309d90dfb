/**
 * `quo-sync status`: recent runs per sync from the state database.
 */
import { existsSync } from "node:fs";
import { statePath } from "../run.js";
import { StateStore } from "../state/store.js";
import { EXIT, emit, fail, setup, type GlobalOptions } from "./common.js";

/** Runs listed per sync. */
const RECENT = 10;

export async function statusCommand(opts: GlobalOptions): Promise<number> {
  try {
    const { loaded } = setup(opts);
    const file = statePath(loaded);
    const names = opts.sync ? [opts.sync] : loaded.config.syncs.map((s) => s.name);
    if (!existsSync(file)) {
      emit(opts.format === "json" ? JSON.stringify(names.map((sync) => ({ sync, runs: [] }))) + "\n" : `no runs yet (${file} does not exist)\n`, opts.out);
      return EXIT.ok;
    }
    const store = StateStore.open(file, { readonly: true });
    try {
      const data = names.map((sync) => ({
        sync,
        contacts: store.countSyncRows(sync),
        runs: store.recentRuns({ sync, limit: RECENT }).map((r) => ({
          ...r,
          durationMs: r.endedAt !== null ? r.endedAt - r.startedAt : null,
          rejections: store.runRejections(r.id, 3),
        })),
      }));
      if (opts.format === "json") {
        emit(JSON.stringify(data, null, 2) + "\n", opts.out);
        return EXIT.ok;
      }
      const lines: string[] = [];
      for (const s of data) {
        lines.push(`${s.sync}: ${s.contacts} contacts in Quo from this sync`);
        if (!s.runs.length) lines.push("  no runs yet");
        for (const r of s.runs) {
          const c = r.counts;
          const counts = c ? `create ${c.create ?? 0}, update ${c.update ?? 0}, delete ${c.delete ?? 0}, unchanged ${c.unchanged ?? 0}, rejected ${c.rejected ?? 0}, failed ${c.failed ?? 0}` : "";
          const dur = r.durationMs !== null ? `${(r.durationMs / 1000).toFixed(1)}s` : "-";
          lines.push(`  #${r.id} ${new Date(r.startedAt).toISOString()} ${dur} ${r.outcome} ${counts}`.trimEnd());
          if (r.error) lines.push(`    error: ${r.error.split("\n")[0]}`);
          for (const j of r.rejections) lines.push(`    row ${j.row}${j.key ? ` (key ${j.key})` : ""}: ${j.reason}`);
        }
      }
      emit(lines.join("\n") + "\n", opts.out);
      return EXIT.ok;
    } finally {
      store.close();
    }
  } catch (e) {
    return fail(e);
  }
}
