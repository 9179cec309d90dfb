/**
 * Signal handling for a command that must stop cleanly (`daemon`, `sync`): the first SIGTERM or
 * SIGINT starts an orderly stop; a second one, from an impatient operator or an orchestrator's
 * escalation, exits at once. The executor's journal makes even that safe: the next start resolves
 * the writes left in flight before planning (docs/architecture.md, "Journal").
 */
import { EXIT } from "./common.js";

/** The signals that stop a command: SIGTERM from systemd/docker, SIGINT from a terminal (Ctrl-C). */
export const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** The exit status of a command stopped by `signal`: the shell's 128 + its number. */
export function exitCodeFor(signal: StopSignal): number {
  return signal === "SIGINT" ? EXIT.interrupted : EXIT.terminated;
}

/** Handle to remove the listeners once the command has stopped. */
export interface ShutdownHandle {
  /** Resolves with the first signal received. */
  signalled: Promise<StopSignal>;
  dispose(): void;
}

/**
 * Listens for stop signals. The first resolves `signalled`; the second calls `onSecond` (which
 * logs, and puts the terminal back) and exits with 128 + the signal's number. Never throws.
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
      exit(exitCodeFor(signal));
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
