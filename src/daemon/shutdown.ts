/**
 * Signal handling for a process that must stop cleanly: the first SIGTERM or SIGINT starts an
 * orderly shutdown; a second one, from an impatient operator or an orchestrator's escalation,
 * exits at once. The executor's journal makes even that safe: the next start resolves the writes
 * left in flight before planning.
 */

/** The signals that stop the daemon: SIGTERM from systemd/docker, SIGINT from a terminal. */
export const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Conventional shell exit status for death by a signal: 128 + its number. */
const SIGNAL_EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** Handle to remove the listeners once the daemon has stopped. */
export interface ShutdownHandle {
  /** Resolves with the first signal received. */
  signalled: Promise<StopSignal>;
  dispose(): void;
}

/**
 * Listens for stop signals. The first resolves `signalled`; the second calls `onSecond` (which
 * logs) and exits with 128 + the signal's number.
 */
export function onStopSignals(onSecond: (signal: StopSignal) => void, exit: (code: number) => void = (code) => process.exit(code)): ShutdownHandle {
  let first: StopSignal | null = null;
  let resolve!: (s: StopSignal) => void;
  const signalled = new Promise<StopSignal>((r) => (resolve = r));
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => {
      if (first === null) {
        first = signal;
        resolve(signal);
        return;
      }
      onSecond(signal);
      exit(SIGNAL_EXIT[signal]);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return {
    signalled,
    dispose: () => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}
