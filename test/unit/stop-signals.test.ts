import { describe, expect, it } from "vitest";
import { exitCodeFor, onStopSignals } from "../../src/commands/stop-signals.js";

describe("onStopSignals", () => {
  it("resolves on the first signal and exits 128+n on the second", async () => {
    const before = process.listenerCount("SIGTERM");
    const exits: number[] = [];
    const seconds: string[] = [];
    const h = onStopSignals((s) => seconds.push(s), (code) => exits.push(code));
    try {
      process.emit("SIGTERM", "SIGTERM");
      expect(await h.signalled).toBe("SIGTERM");
      expect(exits).toEqual([]);
      process.emit("SIGINT", "SIGINT");
      expect(seconds).toEqual(["SIGINT"]);
      expect(exits).toEqual([130]);
    } finally {
      h.dispose();
    }
    expect(process.listenerCount("SIGTERM")).toBe(before);
  });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s exits %i", (signal, code) => {
    expect(exitCodeFor(signal)).toBe(code);
  });
});

