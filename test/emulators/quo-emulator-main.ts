/**
 * Runs the Quo emulator as its own process, for the demo, benchmarks and tests that spawn quo-sync.
 *
 *   node dist/test/emulators/quo-emulator-main.js [--port N] [--host H] [--latency MS] [--rps N]
 *        [--key KEY]... [--maton-key KEY]... [--error-shape spec|live] [--patch-mode replace|merge]
 *        [--duplicate-external-ids allow|conflict]
 *
 * Prints `{"url": "..."}` as one JSON line on stdout once listening (the parent reads it to learn the
 * port), then serves until SIGTERM or SIGINT. Bad flags: a one-line reason on stderr, exit status 2.
 * `--patch-mode` chooses how PATCH applies its body: "replace" (default, Quo's documented behaviour:
 * what the body leaves out is deleted) or "merge" (only the keys sent change).
 * `--duplicate-external-ids conflict` answers 409 to a write giving a contact an `externalId` another
 * one holds; default "allow".
 * Use the `/__emulator/...` admin routes to inspect or steer it from outside.
 */
import { parseArgs } from "node:util";
import { isDuplicateExternalIds, isPatchMode, startQuoEmulator, type QuoEmulatorOptions } from "./quo-emulator.js";

/** Exit status for a command line that cannot be used, as most CLIs do. */
const EXIT_USAGE = 2;

function fail(message: string): never {
  process.stderr.write(`quo-emulator: ${message}\n`);
  process.exit(EXIT_USAGE);
}

function nonNegativeInt(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) fail(`--${flag} must be a non-negative integer, got '${raw}'`);
  return Number(raw);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        latency: { type: "string" },
        rps: { type: "string" },
        key: { type: "string", multiple: true },
        "maton-key": { type: "string", multiple: true },
        "error-shape": { type: "string" },
        "patch-mode": { type: "string" },
        "duplicate-external-ids": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  const shape = values["error-shape"];
  if (shape !== undefined && shape !== "spec" && shape !== "live") fail(`--error-shape must be spec or live, got '${shape}'`);
  const patchMode = values["patch-mode"];
  if (patchMode !== undefined && !isPatchMode(patchMode)) fail(`--patch-mode must be replace or merge, got '${patchMode}'`);
  const duplicates = values["duplicate-external-ids"];
  if (duplicates !== undefined && !isDuplicateExternalIds(duplicates)) fail(`--duplicate-external-ids must be allow or conflict, got '${duplicates}'`);

  const opts: QuoEmulatorOptions = {
    port: nonNegativeInt("port", values.port) ?? 0,
    latencyMs: nonNegativeInt("latency", values.latency) ?? 0,
  };
  if (values.host !== undefined) opts.host = values.host;
  const rps = nonNegativeInt("rps", values.rps);
  if (rps !== undefined) opts.requestsPerSecond = rps;
  if (values.key !== undefined) opts.apiKeys = values.key;
  if (values["maton-key"] !== undefined) opts.matonKeys = values["maton-key"];
  if (shape !== undefined) opts.errorShape = shape;
  if (patchMode !== undefined) opts.patchMode = patchMode;
  if (duplicates !== undefined) opts.duplicateExternalIds = duplicates;

  const emulator = await startQuoEmulator(opts);
  process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
