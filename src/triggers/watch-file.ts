/**
 * Watches one file for changes and calls back once it has settled: the directory is watched (not
 * the file), so a file replaced by a rename — how editors and exports save — keeps being followed;
 * a burst of writes is debounced into one callback; and the callback waits until the file's size
 * and modification time have stayed the same for a quiet period, so a file still being written is
 * never read as the snapshot.
 */
import { statSync, watch, type FSWatcher } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";

/** How long after the last change event the file is first looked at: one save makes several events. */
export const WATCH_DEBOUNCE_MS = 200;

/**
 * How long size and mtime must stay unchanged before the file counts as written. A slow export
 * writes chunks well under a second apart; longer would only delay every run.
 */
export const WATCH_QUIET_MS = 1_000;

/** How often the file is looked at while waiting for it to settle. */
export const WATCH_POLL_MS = 100;

/** A running watch; `close()` ends it (a pending callback is dropped). */
export interface FileWatch {
  close(): void;
}

/** Tuning for tests; each defaults to the constant of the same name. */
export interface WatchFileOptions {
  debounceMs?: number;
  quietMs?: number;
  pollMs?: number;
  /** Told when the directory cannot be watched any more (removed, say). */
  onError?: (e: unknown) => void;
}

/**
 * Calls `onSettled` after each change to `file` (written, created, replaced by rename), once the
 * file exists and has been still for the quiet period. Changes during the wait restart it, so a
 * burst gives one call. Throws when the directory cannot be watched (it does not exist).
 */
export function watchFile(file: string, onSettled: () => void, options: WatchFileOptions = {}): FileWatch {
  const debounceMs = options.debounceMs ?? WATCH_DEBOUNCE_MS;
  const quietMs = options.quietMs ?? WATCH_QUIET_MS;
  const pollMs = options.pollMs ?? WATCH_POLL_MS;
  const dir = path.dirname(path.resolve(file));
  const name = path.basename(file);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  /** The file's size and mtime when last looked at, and since when they have been those. */
  let last: { sig: string; since: number } | null = null;
  /**
   * The signature last called back for (at first, the file as found). Reading the file (a run does)
   * can change its access time, which the watch also reports: only a new size, mtime or inode counts.
   */
  let delivered = signature(path.join(dir, name));

  const check = async (): Promise<void> => {
    timer = undefined;
    if (closed) return;
    // "absent": gone for now (between an unlink and a rename); a later event brings it back.
    const sig = await signatureOf(path.join(dir, name));
    if (closed) return;
    const now = Date.now();
    if (!last || last.sig !== sig) last = { sig, since: now };
    if (sig !== "absent" && now - last.since >= quietMs) {
      last = null;
      if (sig === delivered) return;
      delivered = sig;
      onSettled();
      return;
    }
    if (sig === "absent" && now - last.since >= quietMs) {
      // Deleted and not replaced: nothing to run on; the next event starts over.
      last = null;
      return;
    }
    timer = setTimeout(() => void check(), pollMs);
  };

  const watcher: FSWatcher = watch(dir, { persistent: false }, (_event, changed) => {
    // Some platforms do not say which file changed; then every event in the directory counts.
    if (changed !== null && changed.toString() !== name) return;
    if (closed) return;
    last = null;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void check(), debounceMs);
  });
  watcher.on("error", (e) => options.onError?.(e));
  return {
    close: () => {
      closed = true;
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}

/** Size, mtime and inode of a file, or "absent". */
async function signatureOf(file: string): Promise<string> {
  try {
    const st = await stat(file);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return "absent";
  }
}

/** `signatureOf`, at once (when the watch starts). */
function signature(file: string): string {
  try {
    const st = statSync(file);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return "absent";
  }
}
